// One call item (热线: 来电 / 外呼): who is on the line (the caller card, masked), why the
// call exists, and its outcome. An inbound call closes like a chat, with a disposition
// (POST /api/v1/conversations/{id}/close); an outbound call records one of the hotline's
// outcomes (POST /api/v1/hotline/calls/{id}/outcome). The answer is shown in place.

import { api } from "./api.js";
import { createRevealDialog } from "./dialogs.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { buyerCards, orderLine, outcomeLabel } from "./hotline-card.js";
import { maskedValue } from "./pii.js";
import { setTimeZone, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const conversationId = Number(boot.conversation_id);
let item = boot.item; // {conversation, campaign, notes, order, caller, outcomes}
const inbound = item.conversation.kind === "call";
const isAgent = boot.user.role === "agent";
let busy = false;

syncClock(boot.server_now);
setTimeZone(boot.timezone);
const revealDialog = createRevealDialog();

const form = byId("hc-form");
const choices = byId("hc-choices");
const note = byId("hc-note");
const error = byId("hc-error");
const result = byId("hc-result");
const submit = byId("hc-submit");

/** Whether this user may record the outcome now (the server checks again). */
function canRecord() {
  const c = item.conversation;
  if (c.status === "closed") return false;
  const mine = c.assigned_agent_id === boot.user.id;
  // An inbound call closes through the workbench: only whoever holds it.
  if (inbound) return mine && c.status === "assigned";
  return isAgent ? mine : true;
}

/** A reveal passes for the holder of the item (and supervisors): the number to dial. */
function revealTarget() {
  const c = item.conversation;
  if (inbound || !c.buyer_id || c.status !== "assigned") return null;
  if (isAgent && c.assigned_agent_id !== boot.user.id) return null;
  return {
    buyerId: c.buyer_id,
    // The order the number is on (null: the buyer's own number).
    orderId: item.caller.phone_order_id ?? null,
    field: "phone",
    what: t("the phone number to call"),
  };
}

function options() {
  return inbound
    ? boot.dispositions.map((key) => [key, label("disposition", key)])
    : item.outcomes.map((key) => [key, label("call_outcome", key)]);
}

function renderChoices() {
  byId("hc-choices-legend").textContent = inbound
    ? t("How did the call end?")
    : t("What came of the call?");
  fillNode(
    choices,
    options().map(([value, text]) =>
      el(
        "div",
        { class: "hl-choice" },
        el("input", { type: "radio", name: "outcome", id: `hc-choice-${value}`, value }),
        el("label", { for: `hc-choice-${value}`, text }),
      ),
    ),
  );
  setHidden(byId("hc-note-field"), inbound);
}

function render() {
  const c = item.conversation;
  byId("hc-kind").textContent = label("kind", c.kind);
  byId("hc-status").textContent = label("conversation_status", c.status);
  byId("hc-status").dataset.status = c.status;
  fillNode(byId("hc-phone"), maskedValue(item.caller.phone, revealTarget(), revealDialog.open));
  fillNode(byId("hc-order"), item.order ? orderLine(item.order) : "—");
  byId("hc-campaign").textContent = item.campaign || "—";
  fillNode(byId("hc-buyers"), buyerCards(item.caller.buyers));
  fillNode(
    byId("hc-notes"),
    item.notes.length
      ? item.notes.map((text) => el("li", { text }))
      : el("li", { class: "muted", text: "—" }),
  );
  const open = canRecord();
  setHidden(form, !open);
  submit.disabled = busy;
  const done = byId("hc-done");
  if (c.status === "closed") {
    done.textContent = t("Closed. Outcome: {outcome}", { outcome: outcomeLabel(c.disposition) });
  } else if (!open) {
    done.textContent = inbound
      ? t("Only the agent who holds this call can record how it ended.")
      : t("Record an outcome once the call is in your hands.");
  } else {
    done.textContent = "";
  }
}

function announce(text) {
  result.textContent = text;
  setHidden(result, !text);
}

async function record(value) {
  if (busy) return;
  busy = true;
  error.textContent = "";
  announce("");
  render();
  try {
    if (inbound) {
      const answer = await api(`/api/v1/conversations/${conversationId}/close`, {
        method: "POST",
        body: { disposition: value, tags: [] },
      });
      item.conversation = { ...item.conversation, status: answer.status, disposition: value };
    } else {
      const answer = await api(`/api/v1/hotline/calls/${conversationId}/outcome`, {
        method: "POST",
        body: { outcome: value, note: note.value.trim() },
      });
      item.conversation = { ...item.conversation, ...answer.conversation };
      item.conversation.disposition = `call_${answer.outcome}`;
    }
    busy = false;
    const outcome = outcomeLabel(item.conversation.disposition);
    announce(t("Outcome recorded: {outcome}.", { outcome }));
    render();
    result.focus();
  } catch (err) {
    busy = false;
    error.textContent = err.message;
    render();
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const chosen = choices.querySelector("input[name='outcome']:checked");
  if (!chosen) {
    error.textContent = t("Choose an outcome first.");
    choices.querySelector("input[name='outcome']")?.focus();
    return;
  }
  record(chosen.value);
});

choices.addEventListener("change", () => {
  error.textContent = "";
});

renderChoices();
announce("");
render();
document.documentElement.dataset.hotline = "ready";
