// 集成 · Webhook: the shop's channel state, the integrators' subscriptions (subscribe with a
// secret shown once, send a test, pause / resume, delete) and a subscription's delivery log
// with retry for dead letters. Everything through /api/v1/admin/webhooks.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { locale, t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const base = boot.webhooks_api;
let shown = null; // the subscription whose log is open

const STATE_TEXT = {
  sending: () => t("Sending"),
  delivered: () => t("Delivered"),
  failed: () => t("Not delivered"),
};

function when(iso) {
  return iso ? new Date(iso).toLocaleString(locale, { hour12: false }) : "—";
}

function showError(error) {
  byId("wh-error").textContent = error ? error.message : "";
}

async function act(path, options, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return null;
  try {
    const result = await api(path, options);
    showError(null);
    return result;
  } catch (error) {
    showError(error);
    return null;
  }
}

function subscriptionRow(sub) {
  const counts = sub.deliveries || {};
  const test = el("button", { type: "button", class: "btn btn-quiet", text: t("Send a test") });
  test.addEventListener("click", async () => {
    if (await act(`${base}/${sub.id}/test`, { method: "POST" })) {
      window.setTimeout(() => openLog(sub), 600);
    }
  });
  const toggle = el("button", {
    type: "button",
    class: "btn btn-quiet",
    text: sub.active ? t("Pause") : t("Resume"),
  });
  toggle.addEventListener("click", async () => {
    if (await act(`${base}/${sub.id}`, { method: "PATCH", body: { active: !sub.active } })) load();
  });
  const log = el("button", { type: "button", class: "btn btn-quiet", text: t("Delivery log") });
  log.addEventListener("click", () => openLog(sub));
  const remove = el("button", { type: "button", class: "btn btn-quiet", text: t("Delete") });
  remove.addEventListener("click", async () => {
    const done = await act(
      `${base}/${sub.id}`,
      { method: "DELETE" },
      t("Delete this subscription and its delivery log?"),
    );
    if (done) {
      if (shown?.id === sub.id) setHidden(byId("wh-log"), true);
      load();
    }
  });
  return el(
    "tr",
    { dataset: { id: String(sub.id) }, class: sub.active ? "" : "ad-inactive" },
    el("td", { "data-verbatim": true, text: sub.url }),
    el("td", { "data-verbatim": true, text: sub.event_types.join(", ") }),
    el("td", { text: sub.active ? t("Active") : t("Paused") }),
    el("td", {
      class: "num",
      text: t("{delivered} delivered · {sending} sending · {failed} not delivered", {
        delivered: counts.delivered ?? 0,
        sending: counts.sending ?? 0,
        failed: counts.failed ?? 0,
      }),
    }),
    el("td", {}, el("div", { class: "ad-row-actions" }, test, toggle, log, remove)),
  );
}

function logRow(delivery) {
  const retry =
    delivery.state === "failed"
      ? el("button", { type: "button", class: "btn btn-quiet", text: t("Retry") })
      : null;
  retry?.addEventListener("click", async () => {
    const path = `${boot.retry_api}/${encodeURIComponent(delivery.id)}/retry`;
    if (await act(path, { method: "POST" })) window.setTimeout(() => openLog(shown), 600);
  });
  const answer =
    delivery.state === "delivered"
      ? String(delivery.last_status ?? "")
      : delivery.last_error || (delivery.last_status ? String(delivery.last_status) : "—");
  return el(
    "tr",
    { dataset: { state: delivery.state } },
    el("td", { class: "num", text: when(delivery.created_at) }),
    el("td", { "data-verbatim": true }, el("code", { text: delivery.event_type })),
    el("td", { "data-verbatim": true, class: "small", text: delivery.id }),
    el("td", { class: `wh-state is-${delivery.state}`, text: (STATE_TEXT[delivery.state] || (() => delivery.state))() }),
    el("td", { class: "num", text: String(delivery.attempts) }),
    el("td", { class: "small", "data-verbatim": true, text: answer }),
    el("td", {}, retry),
  );
}

async function openLog(sub) {
  if (!sub) return;
  shown = sub;
  const log = await act(`${base}/${sub.id}/deliveries`);
  if (!log) return;
  byId("wh-log-url").textContent = sub.url;
  fillNode(byId("wh-log-body"), log.items.map(logRow));
  setHidden(byId("wh-log-empty"), log.items.length > 0);
  setHidden(byId("wh-log"), false);
}

async function load() {
  const page = await act(base);
  if (!page) return;
  byId("wh-channel-url").textContent = page.channel.url || t("No channel: messages are stored and sent nowhere.");
  byId("wh-channel-sending").textContent = String(page.channel.sending);
  byId("wh-channel-failed").textContent = String(page.channel.failed);
  fillNode(byId("wh-body"), page.subscriptions.map(subscriptionRow));
  setHidden(byId("wh-empty"), page.subscriptions.length > 0);
}

/** What each subscribable event means, beside its code (the code is what the payload says). */
const TYPE_NAMES = {
  "conversation.opened": t("Conversation opened"),
  "conversation.assigned": t("Conversation assigned"),
  "conversation.closed": t("Conversation closed"),
  "refund.decided": t("Refund decided"),
  "qc.finding": t("QC finding"),
};

fillNode(
  byId("wh-types"),
  el("legend", { text: t("Event types") }),
  boot.event_types.map((type) =>
    el(
      "label",
      { class: "ad-inline" },
      el("input", { type: "checkbox", name: "event_types", value: type }),
      el("span", { text: TYPE_NAMES[type] || type }),
      " ",
      el("code", { "data-verbatim": true, text: type }),
    ),
  ),
);

byId("wh-new").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const made = await act(base, {
    method: "POST",
    body: {
      url: String(form.get("url") || "").trim(),
      description: String(form.get("description") || ""),
      event_types: form.getAll("event_types").map(String),
    },
  });
  if (!made) return;
  byId("wh-secret").textContent = made.secret;
  setHidden(byId("wh-secret-box"), false);
  event.target.reset();
  load();
});

load();
document.documentElement.dataset.webhooks = "ready";
