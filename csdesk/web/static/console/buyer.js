// 买家档案: GET /api/v1/buyers/{id}/history, newest first, one line per conversation,
// order and refund; conversations open in the workbench.

import { api } from "./api.js";
import { byId, el, fillNode } from "./dom.js";
import { label, locale, t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);

function when(iso) {
  return iso ? new Date(iso).toLocaleString(locale, { hour12: false }) : "";
}

function line(event) {
  const time = el("time", { datetime: event.at, class: "muted small", text: when(event.at) });
  if (event.type === "conversation") {
    return el(
      "li",
      { dataset: { type: "conversation" } },
      time,
      " ",
      el("a", { href: `/console/conversations/${Number(event.id)}`, text: label("kind", event.kind) }),
      ` · ${label("role", event.role)} · ${label("conversation_status", event.status)}`,
      event.agent ? " · " : "",
      event.agent ? t("served by {name}", { name: event.agent }) : "",
      event.order ? ` · ${event.order}` : "",
    );
  }
  if (event.type === "order") {
    return el(
      "li",
      { dataset: { type: "order" } },
      time,
      " ",
      t("Order {number}", { number: event.order }),
      ` · ¥${event.amount} · ${label("order_status", event.status)}`,
    );
  }
  return el(
    "li",
    { dataset: { type: "refund" } },
    time,
    " ",
    t("Refund {number}", { number: event.refund }),
    ` · ¥${event.amount} · ${label("refund_status", event.status)} · ${event.reason}`,
  );
}

async function load() {
  try {
    const data = boot.history || (await api(boot.history_api));
    byId("by-nick").textContent = data.buyer.nick;
    byId("by-tier").textContent = label("tier", data.buyer.tier);
    byId("by-phone").textContent = data.buyer.phone || "—";
    byId("by-protection").textContent = data.protection
      ? t("{name} until {until}", { name: data.protection.owner, until: when(data.protection.until) })
      : t("None");
    byId("by-counts").textContent = t("{conversations} conversations, {orders} orders, {refunds} refunds", data.counts);
    fillNode(byId("by-timeline"), data.timeline.map(line));
  } catch (error) {
    byId("by-error").textContent = error.message;
  }
}

load();
