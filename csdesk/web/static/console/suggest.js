// Reply suggestions (console UX bar, point 13): the quick reply most likely to answer,
// from the conversation's triaged intent, shown above an empty reply box with the reason.
// Tab (in the empty box) or 采用 puts it in the box for the agent to edit or send; Esc or
// 忽略 hides it for this conversation. It is never sent by itself.

import { byId, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { fill } from "./variables.js";

export function createSuggestion({ chat }) {
  const bar = byId("suggestion");
  const text = byId("suggestion-text");
  const reason = byId("suggestion-reason");
  const dismissed = new Set();
  let current = null; // {conversationId, phrase, filled}

  function reasonText(suggestion) {
    const why = suggestion.reason;
    const parts = [t("Buyer intent: {intent}", { intent: label("intent", why.intent) })];
    parts.push(t("group {group}", { group: why.group }));
    if (why.matched.length) parts.push(t("shares “{words}” with the buyer", { words: why.matched.slice(0, 3).join("、") }));
    if (why.uses) parts.push(t("sent {n} times", { n: why.uses }));
    if (why.missing.length) parts.push(t("fill in {names}", { names: why.missing.map((n) => `{${n}}`).join(" ") }));
    return parts.join(" · ");
  }

  function render() {
    const detail = chat.current();
    const suggestion = detail?.suggestion;
    const show =
      Boolean(suggestion) &&
      detail.can_reply &&
      !detail.ended &&
      chat.mode() === "reply" &&
      chat.isEmpty() &&
      !dismissed.has(detail.id);
    if (!show) {
      current = null;
      setHidden(bar, true);
      return;
    }
    const filled = fill(suggestion.phrase.text, detail.variables || {});
    current = { conversationId: detail.id, phrase: suggestion.phrase, filled: filled.text };
    text.textContent = `/${suggestion.phrase.code} ${filled.text}`;
    reason.textContent = reasonText(suggestion);
    setHidden(bar, false);
  }

  function take() {
    if (!current) return false;
    chat.insert(current.filled, current.phrase);
    current = null;
    setHidden(bar, true);
    return true;
  }

  function dismiss() {
    const detail = chat.current();
    if (detail) dismissed.add(detail.id);
    render();
  }

  byId("suggestion-take").addEventListener("click", take);
  byId("suggestion-dismiss").addEventListener("click", () => {
    dismiss();
    chat.box.focus();
  });
  chat.box.addEventListener("keydown", (event) => {
    if (!current || event.isComposing) return;
    if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.altKey && chat.isEmpty()) {
      event.preventDefault();
      take();
    } else if (event.key === "Escape") {
      event.preventDefault();
      dismiss();
    }
  });
  chat.box.addEventListener("input", render);

  return { render, isShown: () => Boolean(current) };
}
