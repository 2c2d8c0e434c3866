// The order review page (订单审核): one flagged paid order, the checks it failed (each
// explained), and the decisions the API offers. Every decision is one JSON API call; its
// answer (the order and the checks as they stand now) is shown in place, without a reload.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { formatMoney, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const path = `/api/v1/order-checks/${Number(boot.conversation_id)}`;
let item = boot.item; // the API's answer: {conversation, order, flags}
const promised = boot.item.promised_gifts || {}; // sku -> gift names (the catalog's)
const help = boot.flag_help || {};
const tags = new Set(boot.tags || []);
let busy = false;

syncClock(boot.server_now);

const ADDRESS = /^address_/;
const GIFTS = new Set(["gift_missing", "gift_unexpected", "campaign_mismatch"]);

const result = byId("or-result");
const actionError = byId("or-error");

// Each decision: its form, the fields it sends, where a field error shows, and what the
// reviewer reads when it is done.
const forms = {
  approve: {
    form: byId("or-approve-form"),
    body: () => ({ note: byId("or-approve-note").value.trim() }),
    errors: { note: byId("or-error") },
    done: () => t("Approved: the order ships as it is."),
  },
  address: {
    form: byId("or-address-form"),
    input: byId("or-address-input"),
    required: () => t("Please enter the new address."),
    body: () => ({ address: byId("or-address-input").value.trim() }),
    errors: { address: byId("or-address-error") },
    done: () => t("Address corrected."),
  },
  gifts: {
    form: byId("or-gifts-form"),
    input: byId("or-gifts-input"),
    body: () => ({ gifts: splitGifts(byId("or-gifts-input").value) }),
    errors: { gifts: byId("or-gifts-error") },
    done: () => t("Gifts updated."),
  },
  invoice: {
    form: byId("or-invoice-form"),
    input: byId("or-invoice-input"),
    required: () => t("Please enter the invoice title."),
    body: () => ({ invoice_title: byId("or-invoice-input").value.trim() }),
    errors: { invoice_title: byId("or-invoice-error") },
    done: () => t("Invoice title confirmed."),
  },
  hold: {
    form: byId("or-hold-form"),
    input: byId("or-hold-reason"),
    required: () => t("Please give a reason for holding."),
    body: () => ({ reason: byId("or-hold-reason").value.trim() }),
    errors: { reason: byId("or-hold-error") },
    done: () => t("Shipping is on hold."),
  },
};

const TAG_AFTER = {
  address: "address_fixed",
  gifts: "gifts_fixed",
  invoice: "invoice_confirmed",
  hold: "on_hold",
};

function splitGifts(text) {
  return text
    .split(/[\n,，、]/)
    .map((gift) => gift.trim())
    .filter(Boolean);
}

function promisedGifts() {
  const names = [];
  for (const entry of item.order.items) {
    for (const gift of promised[entry.sku] || []) {
      if (!names.includes(gift)) names.push(gift);
    }
  }
  return names;
}

function joined(list) {
  return list && list.length ? list.join("、") : t("None");
}

function renderOrder() {
  const { order } = item;
  byId("or-order-no").textContent = order.external_id;
  byId("or-order-status").textContent = label("order_status", order.status);
  byId("or-amount").textContent = formatMoney(order.amount_fen);
  byId("or-buyer").textContent = boot.buyer_nick || "—";
  byId("or-campaign").textContent = order.campaign || "—";
  fillNode(
    byId("or-items"),
    order.items.map((entry) =>
      el(
        "li",
        {},
        el("span", { text: entry.title }),
        el("span", { class: "muted", text: ` × ${entry.qty} · ${formatMoney(entry.price_fen)}` }),
      ),
    ),
  );
  byId("or-gifts").textContent = joined(order.gifts);
  byId("or-promised").textContent = joined(promisedGifts());
  byId("or-invoice").textContent = order.invoice_title || t("No invoice requested");
  byId("or-receiver").textContent =
    [order.receiver_name, order.receiver_phone].filter(Boolean).join(" · ") || "—";
  byId("or-address").textContent = order.address || "—";
}

function renderFlags() {
  const { flags } = item;
  fillNode(
    byId("or-flags"),
    flags.map((flag) =>
      el(
        "li",
        { class: "or-flag", dataset: { code: flag.code } },
        el("strong", { class: "or-flag-title", text: label("flag", flag.code) }),
        el("span", { class: "or-flag-reason", text: flag.reason }),
        help[flag.code] ? el("p", { class: "or-flag-help", text: help[flag.code] }) : null,
      ),
    ),
  );
  byId("or-flag-count").textContent = String(flags.length);
  setHidden(byId("or-flag-count"), flags.length === 0);
  setHidden(byId("or-flags"), flags.length === 0);
  setHidden(byId("or-no-flags"), flags.length > 0);
}

function render() {
  renderOrder();
  renderFlags();
  const { conversation, flags } = item;
  const open = conversation.status === "assigned";
  byId("or-item-status").textContent = label("conversation_status", conversation.status);
  byId("or-item-status").dataset.status = conversation.status;
  setHidden(byId("or-hold"), !(open && tags.has("on_hold")));
  setHidden(byId("or-work"), !open);
  // Queued is not finished: nobody holds it yet (the home page's "next order" can open one).
  setHidden(byId("or-done"), conversation.status !== "closed");
  setHidden(byId("or-queued"), conversation.status !== "queued");
  setHidden(byId("or-approve-warning"), flags.length === 0);
  for (const { form } of Object.values(forms)) {
    for (const button of form.querySelectorAll("button")) button.disabled = busy;
  }
}

/** Open the correction forms the standing checks call for (once, on arrival). */
function openRelevant() {
  const codes = item.flags.map((flag) => flag.code);
  byId("or-address-box").open = codes.some((code) => ADDRESS.test(code));
  byId("or-gifts-box").open = codes.some((code) => GIFTS.has(code));
  byId("or-invoice-box").open = codes.includes("invoice_requested");
  byId("or-gifts-input").value = (item.order.gifts || []).join("\n");
  byId("or-invoice-input").value = item.order.invoice_title || "";
}

function announce(text) {
  result.textContent = text;
  setHidden(result, !text);
}

function clearErrors() {
  actionError.textContent = "";
  for (const spec of Object.values(forms)) {
    for (const node of Object.values(spec.errors)) node.textContent = "";
    spec.input?.removeAttribute("aria-invalid");
  }
}

function fieldError(spec, message) {
  const target = spec.errors[Object.keys(spec.errors)[0]];
  target.textContent = message;
  if (spec.input) {
    spec.input.setAttribute("aria-invalid", "true");
    spec.input.focus();
  }
}

async function act(name) {
  const spec = forms[name];
  if (busy) return;
  clearErrors();
  announce("");
  if (spec.required && !spec.input.value.trim()) {
    fieldError(spec, spec.required());
    return;
  }
  busy = true;
  render();
  try {
    item = await api(`${path}/${name}`, { method: "POST", body: spec.body() });
    if (TAG_AFTER[name]) tags.add(TAG_AFTER[name]);
    busy = false;
    if (name === "address") spec.input.value = "";
    if (name === "hold") spec.input.value = "";
    announce(spec.done());
    render();
    result.focus();
  } catch (err) {
    busy = false;
    render();
    const target = err.field && spec.errors[err.field];
    if (target) {
      target.textContent = err.message;
      spec.input?.setAttribute("aria-invalid", "true");
      spec.input?.focus();
    } else {
      actionError.textContent = err.message;
    }
  }
}

for (const [name, spec] of Object.entries(forms)) {
  spec.form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(name);
  });
  spec.input?.addEventListener("input", () => {
    if (spec.input.value.trim()) {
      for (const node of Object.values(spec.errors)) node.textContent = "";
      spec.input.removeAttribute("aria-invalid");
    }
  });
}

byId("or-use-promised").addEventListener("click", () => {
  const input = byId("or-gifts-input");
  input.value = promisedGifts().join("\n");
  input.focus();
});

announce("");
openRelevant();
render();
document.documentElement.dataset.orderReview = "ready";
