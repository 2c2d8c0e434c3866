// The refund workbench (退款工作台): one refund item, a live countdown to the platform's
// deadline (shop time), and the decisions the item's state allows. Every decision is one
// JSON API call; its answer (the item's new state) is shown in place, without a reload.

import { api } from "./api.js";
import { byId, setHidden } from "./dom.js";
import { label, locale, t } from "./i18n.js";
import { formatMoney, nowMs, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const path = `/api/v1/refund-items/${Number(boot.conversation_id)}`;
const URGENT_S = 3600; // the last hour shows in red
let item = boot.item; // the API's answer: {conversation, refund, order, duties}
const tags = new Set(boot.tags || []);
let busy = false;

syncClock(boot.server_now);

const deadlineFormat = new Intl.DateTimeFormat(locale, {
  timeZone: boot.timezone || "Asia/Shanghai",
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
});

const buttons = {
  approve: byId("rf-approve"),
  intercept: byId("rf-intercept"),
  "return-received": byId("rf-return"),
  refunded: byId("rf-refunded"),
};
const rejectForm = byId("rf-reject-form");
const rejectReason = byId("rf-reject-reason");
const rejectError = byId("rf-reject-error");
const actionError = byId("rf-error");
const result = byId("rf-result");
const countdown = byId("rf-countdown");

const MESSAGES = {
  approve: () => t("Refund approved."),
  reject: () => t("Refund rejected."),
  intercept: () => t("The warehouse was asked to intercept the shipment."),
  "return-received": () => t("Return parcel confirmed."),
  refunded: () => t("Refund completed."),
};

function secondsLeft() {
  return Math.floor((Date.parse(item.refund.deadline_at) - nowMs()) / 1000);
}

/** Which decisions the item's state allows (the server checks again). */
function allowed() {
  const { conversation, refund, order } = item;
  const open = conversation.status === "assigned";
  const review = open && conversation.kind === "refund_review";
  const decidable = review && ["requested", "return_received"].includes(refund.status);
  const ready = refund.kind === "return_and_refund" ? "return_received" : "approved";
  return {
    approve: decidable,
    reject: decidable && secondsLeft() > 0,
    intercept:
      open &&
      !["rejected", "cancelled", "refunded"].includes(refund.status) &&
      ["created", "paid"].includes(order.status) &&
      !tags.has("intercept_requested"),
    "return-received":
      open &&
      refund.kind === "return_and_refund" &&
      ["requested", "approved", "return_received"].includes(refund.status) &&
      !tags.has("return_checked"),
    refunded: open && conversation.kind === "refund_processing" && refund.status === ready,
  };
}

function pad(n) {
  return String(n).padStart(2, "0");
}

function tick() {
  const left = secondsLeft();
  const settled = !["requested", "return_received"].includes(item.refund.status);
  countdown.classList.toggle("is-urgent", left > 0 && left < URGENT_S && !settled);
  countdown.classList.toggle("is-overdue", left <= 0 && !settled);
  if (left <= 0) {
    countdown.textContent = t("Overdue");
    countdown.dataset.state = "overdue";
  } else {
    const h = Math.floor(left / 3600);
    const m = Math.floor((left % 3600) / 60);
    countdown.textContent = t("{h}h {m}m {s}s left", { h, m: pad(m), s: pad(left % 60) });
    countdown.dataset.state = left < URGENT_S ? "urgent" : "running";
  }
  setHidden(byId("rf-overdue-note"), left > 0 || settled);
  // The deadline passing takes the reject form away (the platform has decided).
  const canReject = allowed().reject;
  if (rejectForm.hidden === canReject) setHidden(rejectForm, !canReject);
}

function render() {
  const { conversation, refund, order } = item;
  byId("rf-kind").textContent = label("kind", conversation.kind);
  byId("rf-item-status").textContent = label("conversation_status", conversation.status);
  byId("rf-amount").textContent = formatMoney(refund.amount_fen);
  byId("rf-reason").textContent = refund.reason || "—";
  byId("rf-refund-kind").textContent = label("refund_kind", refund.kind);
  byId("rf-status").textContent = label("refund_status", refund.status);
  byId("rf-status").dataset.status = refund.status;
  byId("rf-order").textContent = `${order.external_id} · ${label("order_status", order.status)}`;
  byId("rf-buyer").textContent = boot.buyer_nick || "—";
  const deadline = byId("rf-deadline-at");
  deadline.dateTime = refund.deadline_at;
  deadline.textContent = deadlineFormat.format(new Date(refund.deadline_at));
  const can = allowed();
  for (const [action, button] of Object.entries(buttons)) {
    setHidden(button, !can[action]);
    button.disabled = busy;
  }
  setHidden(rejectForm, !can.reject);
  byId("rf-reject").disabled = busy;
  setHidden(byId("rf-nothing"), Object.values(can).some(Boolean));
  tick();
}

function announce(text) {
  result.textContent = text;
  setHidden(result, !text);
}

async function act(action, body = {}) {
  if (busy) return;
  busy = true;
  actionError.textContent = "";
  rejectError.textContent = "";
  announce("");
  render();
  try {
    item = await api(`${path}/${action}`, { method: "POST", body });
    if (action === "intercept") tags.add("intercept_requested");
    if (action === "return-received") tags.add("return_checked");
    announce(MESSAGES[action]());
    busy = false;
    render();
    result.focus();
  } catch (err) {
    busy = false;
    if (err.field === "reason") {
      rejectError.textContent = err.message;
      rejectReason.focus();
    } else {
      actionError.textContent = err.message;
    }
    render();
  }
}

for (const [action, button] of Object.entries(buttons)) {
  button.addEventListener("click", () => act(action));
}

rejectForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const reason = rejectReason.value.trim();
  if (!reason) {
    rejectError.textContent = t("Please give a reason for rejecting.");
    rejectReason.setAttribute("aria-invalid", "true");
    rejectReason.focus();
    return;
  }
  rejectReason.removeAttribute("aria-invalid");
  act("reject", { reason });
});

rejectReason.addEventListener("input", () => {
  if (rejectReason.value.trim()) {
    rejectError.textContent = "";
    rejectReason.removeAttribute("aria-invalid");
  }
});

announce("");
render();
window.setInterval(tick, 1000);
document.documentElement.dataset.refund = "ready";
