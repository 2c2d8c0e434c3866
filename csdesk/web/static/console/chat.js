// The chat column: header, transcript (newest page first, older pages on demand) and the
// reply box. Enter or Ctrl+Enter sends (the agent's choice), Shift+Enter is a new line;
// a reply with an unresolved {variable} is held back. A reply the server holds for a
// forbidden phrase (服务态度提醒) shows which phrase and why, with "send anyway".
// The box also writes private notes (内部备注, Alt+N toggles): staff only, "@username"
// tells a colleague; notes skip the variable and phrase checks.
// A quick reply may carry an image (a chip above the box, removable); the send says which
// phrase it came from and whether it was edited (the library counts it). Collision: the
// draft remembers the newest message when it began; if the buyer wrote after that, the
// server holds the reply and the box shows the new lines with "send anyway" / "edit".

import { api } from "./api.js";
import { byId, el, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { formatTime } from "./time.js";
import { unresolved } from "./variables.js";

export function createChat({ me, prefs, onOpenPicker, onReplied, onNoted, onTyping }) {
  const title = byId("chat-title");
  const meta = byId("chat-meta");
  const banner = byId("chat-banner");
  const transcript = byId("transcript");
  const messages = byId("messages");
  const older = byId("load-older");
  const form = byId("composer");
  const box = byId("reply-box");
  const send = byId("send-btn");
  const error = byId("composer-error");
  const hint = byId("composer-hint");
  const sendKey = byId("send-key");
  const transferButton = byId("transfer-btn");
  const closeButton = byId("close-btn");
  const heldBox = byId("held-box");
  const heldTitle = byId("held-title");
  const heldHits = byId("held-hits");
  const heldSend = byId("held-send");
  const boxLabel = byId("reply-box-label");
  const modeInputs = [...form.querySelectorAll('input[name="compose-mode"]')];
  const attachmentBox = byId("attachment");
  const changedBox = byId("chat-changed");
  const changedText = byId("chat-changed-text");

  let detail = null;
  const drafts = new Map(); // conversation id -> unsent text (kept while switching)
  let seen = new Set();
  let oldestId = null;
  let newestId = 0;
  let sending = false;
  let loadingOlder = false;
  let held = null; // {id, text, kind, seen}: the reply the server held, until edited or sent anyway
  let mode = "reply"; // or "note"
  let attachment = null; // {id, url, name}: an image going with the reply
  let phrase = null; // {ref, text}: the quick reply the box was filled from
  let draftBase = null; // the newest message id when the current draft began
  let typingTimer = null;
  let typingSent = false;

  function typing(active) {
    if (!detail) return;
    window.clearTimeout(typingTimer);
    if (active) typingTimer = window.setTimeout(() => typing(false), 4000);
    if (active === typingSent) return;
    typingSent = active;
    onTyping?.(detail.id, active, mode);
  }

  function renderAttachment() {
    if (!attachment) {
      attachmentBox.replaceChildren();
      setHidden(attachmentBox, true);
      return;
    }
    attachmentBox.replaceChildren(
      el("img", { class: "attach-thumb", src: attachment.url, alt: attachment.name }),
      el("span", { class: "small", text: t("Image: {name}", { name: attachment.name }) }),
      el("button", {
        type: "button",
        class: "btn btn-quiet",
        text: t("Remove image"),
        onclick: () => {
          attachment = null;
          renderAttachment();
          validate();
          box.focus();
        },
      }),
    );
    setHidden(attachmentBox, false);
  }

  /** A quick reply went into the box: remember it (and its image) for the send. */
  function usePhrase(used, filledText) {
    phrase = { ref: used.id !== null && used.id !== undefined ? { id: used.id } : { code: used.code }, text: filledText };
    if (used.image) attachment = { id: used.image.id, url: used.image.url, name: used.image.name };
    if (draftBase === null) draftBase = newestId;
    renderAttachment();
    validate();
  }

  sendKey.value = prefs.get("sendKey", "enter");
  sendKey.addEventListener("change", () => {
    prefs.set("sendKey", sendKey.value);
    showHint();
  });

  function showHint() {
    hint.textContent =
      sendKey.value === "enter"
        ? t("Enter sends, Shift+Enter new line")
        : t("Ctrl+Enter sends, Enter new line");
  }

  function canReply() {
    return Boolean(detail && detail.can_reply);
  }

  function canNote() {
    return Boolean(detail && detail.can_note);
  }

  const canWrite = () => (mode === "note" ? canNote() : canReply());

  /** Reply to the buyer, or write an internal note: the box, its label and button follow. */
  function setMode(next) {
    mode = next === "note" ? "note" : "reply";
    for (const input of modeInputs) input.checked = input.value === mode;
    form.classList.toggle("is-note", mode === "note");
    boxLabel.textContent = boxLabel.dataset[mode];
    box.placeholder = box.dataset[mode];
    send.textContent = send.dataset[mode];
    if (mode === "note") clearHeld();
    setEnabled();
  }

  function cardItem(card) {
    return el(
      "div",
      { class: "msg-card", dataset: { card: card.card } },
      el("div", { class: "msg-card-title", text: card.title }),
      el(
        "dl",
        { class: "facts-list" },
        (card.fields || []).flatMap((field) => [
          el("dt", { text: field.label }),
          el("dd", { text: field.value }),
        ]),
      ),
      card.closing ? el("p", { class: "small", text: card.closing }) : null,
    );
  }

  function attachmentsOf(message) {
    return (message.attachments || []).map((item) => {
      if (item.type === "image" && typeof item.url === "string" && item.url.startsWith("/api/v1/media/")) {
        return el("img", { class: "msg-image", src: item.url, alt: item.name || t("Image") });
      }
      if (item.type === "card") return cardItem(item);
      return null;
    });
  }

  function author(message) {
    if (message.sender === "buyer") return detail?.buyer?.nick || t("Buyer");
    if (message.sender === "agent") {
      return message.author_id === me.id ? me.display_name : message.author_name || t("Agent");
    }
    if (message.sender === "auto") return t("Auto message (the buyer sees it)");
    if (message.sender === "note") {
      const name = message.author_id === me.id ? me.display_name : message.author_name || "";
      return t("Internal note · {name}", { name });
    }
    return t("System");
  }

  const DELIVERY_TEXT = {
    sending: () => t("Sending"),
    delivered: () => t("Delivered"),
    failed: () => t("Not delivered"),
  };

  /** Where a buyer-visible message stands on its way to the buyer (the shop's channel). */
  function deliveryMark(delivery) {
    const state = delivery.state in DELIVERY_TEXT ? delivery.state : "sending";
    const details = [];
    if (delivery.attempts) details.push(t("{n} attempts", { n: delivery.attempts }));
    if (delivery.last_error && state !== "delivered") details.push(delivery.last_error);
    const mark = el(
      "span",
      {
        class: `msg-delivery is-${state}`,
        dataset: { state, deliveryId: delivery.id },
        role: "status",
        title: details.join(" · "),
      },
      el("span", { class: "msg-delivery-state", text: DELIVERY_TEXT[state]() }),
    );
    if (state === "failed") {
      const retry = el("button", {
        type: "button",
        class: "link-btn msg-delivery-retry",
        text: t("Retry"),
        "aria-label": t("Send this message again"),
      });
      retry.addEventListener("click", async () => {
        retry.disabled = true;
        try {
          const next = await api(`/api/v1/deliveries/${encodeURIComponent(delivery.id)}/retry`, {
            method: "POST",
          });
          mark.replaceWith(deliveryMark(next));
        } catch (err) {
          retry.disabled = false;
          showBanner(err.message);
        }
      });
      mark.append(retry);
    }
    return mark;
  }

  function messageItem(message) {
    const who = author(message);
    const meta = el(
      "div",
      { class: "msg-meta" },
      el("span", { class: "msg-who", text: who }),
      el("time", { class: "msg-time", datetime: message.sent_at, text: formatTime(message.sent_at) }),
    );
    if (message.delivery) meta.append(deliveryMark(message.delivery));
    return el(
      "li",
      {
        class: `msg msg-${message.sender}`,
        dataset: { id: String(message.id) },
      },
      meta,
      message.kind === "card" ? null : el("div", { class: "msg-text", text: message.text }),
      ...attachmentsOf(message),
    );
  }

  /** A live change of a message's delivery (``message.delivery``). */
  function onDelivery(conversationId, messageId, delivery) {
    if (!detail || detail.id !== conversationId) return;
    const item = messages.querySelector(`li.msg[data-id="${messageId}"]`);
    if (!item) return;
    const meta = item.querySelector(".msg-meta");
    const current = meta.querySelector(".msg-delivery");
    if (current) current.replaceWith(deliveryMark(delivery));
    else meta.append(deliveryMark(delivery));
  }

  function nearBottom() {
    return transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
  }

  function append(items, { scroll = true } = {}) {
    const stick = nearBottom();
    for (const message of items) {
      if (seen.has(message.id)) continue;
      seen.add(message.id);
      messages.append(messageItem(message));
      newestId = Math.max(newestId, message.id);
      if (oldestId === null || message.id < oldestId) oldestId = message.id;
    }
    if (scroll && stick) transcript.scrollTop = transcript.scrollHeight;
  }

  function prepend(items) {
    const before = transcript.scrollHeight;
    const fresh = items.filter((message) => !seen.has(message.id));
    for (const message of fresh) seen.add(message.id);
    messages.prepend(...fresh.map(messageItem));
    if (fresh.length) oldestId = Math.min(oldestId ?? fresh[0].id, fresh[0].id);
    transcript.scrollTop += transcript.scrollHeight - before;
  }

  async function loadOlder() {
    if (!detail || loadingOlder || oldestId === null) return;
    loadingOlder = true;
    const id = detail.id;
    try {
      const page = await api(`/api/v1/conversations/${id}/messages?before_id=${oldestId}`);
      if (detail?.id !== id) return;
      prepend(page.items);
      setHidden(older, !page.has_more);
    } catch (err) {
      showBanner(err.message);
    } finally {
      loadingOlder = false;
    }
  }

  async function catchUp() {
    if (!detail) return;
    const id = detail.id;
    let after = newestId;
    for (;;) {
      const page = await api(`/api/v1/conversations/${id}/messages?after_id=${after}&limit=100`);
      if (detail?.id !== id) return;
      append(page.items);
      if (!page.has_newer || !page.items.length) return;
      after = newestId;
    }
  }

  function showBanner(text) {
    banner.textContent = text;
    setHidden(banner, !text);
  }

  function setEnabled() {
    const ok = canReply();
    box.disabled = !canWrite();
    transferButton.disabled = !ok;
    closeButton.disabled = !ok;
    byId("resolve-next-btn").disabled = !ok;
    byId("snooze-btn").disabled = !ok;
    // The holder corrects triage's intent; supervisors may on any conversation they open.
    byId("intent-btn").disabled = !detail || !(ok || me.role !== "agent");
    validate();
  }

  function validate() {
    const missing = mode === "note" ? [] : unresolved(box.value);
    if (missing.length) {
      const text = t("Fill in {names} before sending.", {
        names: missing.map((name) => `{${name}}`).join(" "),
      });
      if (error.textContent !== text) error.textContent = text; // announce once, not per key
    } else if (error.dataset.kind === "variables") {
      error.textContent = "";
    }
    error.dataset.kind = missing.length ? "variables" : "";
    box.setAttribute("aria-invalid", missing.length ? "true" : "false");
    const empty = !box.value.trim() && !(mode === "reply" && attachment);
    send.disabled = !canWrite() || sending || empty || missing.length > 0;
    return missing;
  }

  async function submitNote() {
    const text = box.value;
    if (!canNote() || sending || !text.trim()) return;
    sending = true;
    send.disabled = true;
    const id = detail.id;
    try {
      const result = await api(`/api/v1/conversations/${id}/notes`, {
        method: "POST",
        body: { text },
      });
      drafts.delete(id);
      if (detail?.id === id) {
        box.value = "";
        error.textContent = "";
        append([result.message]);
        transcript.scrollTop = transcript.scrollHeight;
      }
      onNoted(id, result);
    } catch (err) {
      error.dataset.kind = "server";
      error.textContent = err.message;
    } finally {
      sending = false;
      validate();
    }
  }

  function showHeld(hits) {
    heldTitle.textContent = t("Service reminder: this reply was not sent.");
    heldBox.dataset.held = "forbidden_phrases";
    heldHits.replaceChildren(
      ...hits.map((hit) =>
        el("li", { text: t("“{phrase}”: {reason}", { phrase: hit.phrase, reason: hit.reason }) }),
      ),
    );
    setHidden(heldBox, false);
  }

  /** Collision: the buyer wrote after this draft began; show what, then send or edit. */
  function showBuyerWrote(lines) {
    heldTitle.textContent = t("Not sent: the buyer wrote while you were typing. Read it, then send anyway or edit.");
    heldBox.dataset.held = "buyer_wrote";
    heldHits.replaceChildren(...lines.map((line) => el("li", { class: "held-line", text: line.text })));
    setHidden(heldBox, false);
  }

  function clearHeld() {
    held = null;
    delete heldBox.dataset.held;
    setHidden(heldBox, true);
  }

  function resetDraft() {
    attachment = null;
    phrase = null;
    draftBase = null;
    renderAttachment();
  }

  async function submit({ sendAnyway = false, seen = null } = {}) {
    if (mode === "note") {
      await submitNote();
      return;
    }
    if (!canReply() || sending) return;
    const text = box.value;
    if (!text.trim() && !attachment) return;
    const missing = validate();
    if (missing.length) {
      box.focus();
      return;
    }
    sending = true;
    send.disabled = true;
    const id = detail.id;
    const base = seen ?? draftBase;
    try {
      const body = { text };
      if (sendAnyway) body.send_anyway = true;
      if (attachment) body.image_id = attachment.id;
      if (phrase) body.quick_reply = { ...phrase.ref, edited: text !== phrase.text };
      if (base !== null && base !== undefined) body.seen_message_id = base;
      const result = await api(`/api/v1/conversations/${id}/reply`, { method: "POST", body });
      drafts.delete(id);
      typing(false);
      if (detail?.id === id) {
        box.value = "";
        error.textContent = "";
        clearHeld();
        resetDraft();
        append([result.message]);
        transcript.scrollTop = transcript.scrollHeight;
      }
      onReplied(id, result.message);
    } catch (err) {
      if (err.status === 422 && err.data?.held === "forbidden_phrases" && detail?.id === id) {
        held = { id, text, kind: "forbidden_phrases", seen: base };
        error.textContent = "";
        showHeld(err.data.hits || []);
      } else if (err.status === 422 && err.data?.held === "buyer_wrote" && detail?.id === id) {
        const lines = err.data.messages || [];
        append(lines);
        const newest = lines.reduce((top, line) => Math.max(top, line.id), base ?? 0);
        held = { id, text, kind: "buyer_wrote", seen: newest };
        error.textContent = "";
        showBuyerWrote(lines);
      } else {
        error.dataset.kind = "server";
        error.textContent = err.message;
      }
    } finally {
      sending = false;
      validate();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  box.addEventListener("input", () => {
    if (held && box.value !== held.text) {
      // Rewritten: checked again on send; after the buyer's new lines it counts as read.
      if (held.kind === "buyer_wrote") draftBase = held.seen;
      clearHeld();
    }
    if (!box.value.trim() && !attachment) {
      draftBase = null;
      phrase = null;
    } else if (draftBase === null) draftBase = newestId;
    typing(Boolean(box.value.trim()));
    validate();
  });
  heldSend.addEventListener("click", () => {
    if (!held || detail?.id !== held.id || box.value !== held.text) return;
    if (held.kind === "buyer_wrote") {
      draftBase = held.seen;
      submit({ seen: held.seen });
    } else submit({ sendAnyway: true, seen: held.seen });
  });
  byId("held-edit").addEventListener("click", () => {
    if (held?.kind === "buyer_wrote") draftBase = held.seen;
    clearHeld();
    box.focus();
  });
  byId("chat-changed-reload").addEventListener("click", async () => {
    setHidden(changedBox, true);
    await catchUp();
    box.focus();
  });
  box.addEventListener("keydown", (event) => {
    if (event.isComposing || event.keyCode === 229) return; // IME: Enter picks characters
    if (event.key === "/" && !event.ctrlKey && !event.altKey && box.value.trim() === "") {
      event.preventDefault();
      onOpenPicker();
      return;
    }
    if (event.key !== "Enter" || event.shiftKey || event.altKey) return;
    const ctrl = event.ctrlKey || event.metaKey;
    if ((sendKey.value === "enter" && !ctrl) || (sendKey.value === "ctrl-enter" && ctrl)) {
      event.preventDefault();
      submit();
    } else if (sendKey.value === "enter" && ctrl) {
      event.preventDefault(); // Ctrl+Enter in Enter mode: a new line, like Qianniu
      const at = box.selectionStart;
      box.setRangeText("\n", at, box.selectionEnd, "end");
      validate();
    }
  });
  for (const input of modeInputs) {
    input.addEventListener("change", () => {
      if (input.checked) setMode(input.value);
    });
  }
  older.addEventListener("click", loadOlder);
  transcript.addEventListener("scroll", () => {
    if (transcript.scrollTop < 40 && !older.hidden) loadOlder();
  });

  function renderHeader() {
    title.textContent = detail.buyer?.nick || label("kind", detail.kind);
    const parts = [label("role", detail.role), label("kind", detail.kind)];
    if (detail.intent) parts.push(label("intent", detail.intent));
    if (detail.risk && detail.risk !== "low") parts.push(label("risk", detail.risk));
    if (detail.assigned_agent && detail.assigned_agent.id !== me.id) {
      parts.push(t("served by {name}", { name: detail.assigned_agent.display_name || "?" }));
    }
    if (detail.status !== "assigned") parts.push(label("conversation_status", detail.status));
    meta.textContent = parts.filter(Boolean).join(" · ");
  }

  /** Show a conversation: header, newest transcript page, composer state. */
  async function open(next) {
    const switching = !detail || detail.id !== next.id;
    if (switching && detail) {
      typing(false);
      if (box.value.trim() || attachment) {
        drafts.set(detail.id, { text: box.value, attachment, phrase, base: draftBase });
      } else drafts.delete(detail.id);
    }
    detail = next;
    if (switching) {
      seen = new Set();
      oldestId = null;
      newestId = 0;
      messages.replaceChildren();
      const draft = drafts.get(next.id);
      box.value = draft?.text || "";
      attachment = draft?.attachment || null;
      phrase = draft?.phrase || null;
      draftBase = draft?.base ?? null;
      renderAttachment();
      error.textContent = "";
      clearHeld();
      setHidden(changedBox, true);
    }
    if (next.status === "closed") showBanner(t("This conversation is closed."));
    else if (next.can_reply) showBanner("");
    else if (next.status === "assigned") {
      showBanner(t("Read only: this conversation is assigned to someone else."));
    } else {
      showBanner(t("Read only ({status}).", { status: label("conversation_status", next.status) }));
    }
    renderHeader();
    setEnabled();
    showHint();
    if (switching) {
      const page = await api(`/api/v1/conversations/${next.id}/messages`);
      if (detail?.id !== next.id) return;
      append(page.items, { scroll: false });
      setHidden(older, !page.has_more);
      transcript.scrollTop = transcript.scrollHeight;
    }
  }

  /** The open conversation left me (closed, transferred, requeued). */
  function ended(conversationId, text) {
    if (!detail || detail.id !== conversationId) return;
    detail = { ...detail, can_reply: false, can_note: false, ended: true };
    typing(false);
    clearHeld();
    setEnabled();
    showBanner(text);
  }

  /** The open conversation changed under me (someone else wrote or moved it). */
  function changed(conversationId, text) {
    if (!detail || detail.id !== conversationId) return;
    changedText.textContent = text;
    setHidden(changedBox, false);
  }

  /** Put text in the box (a suggestion taken, a hotkey), for the agent to edit or send. */
  function insert(text, used) {
    if (!canReply()) return;
    if (mode !== "reply") setMode("reply");
    box.value = text;
    if (used) usePhrase(used, text);
    else if (draftBase === null) draftBase = newestId;
    box.focus();
    box.setSelectionRange(text.length, text.length);
    typing(true);
    validate();
  }

  function onMessage(conversationId, message) {
    if (!detail || detail.id !== conversationId) return;
    append([message]);
    const mine = message.author_id === me.id;
    const staff = message.sender === "agent" || message.sender === "note";
    if (staff && !mine && box.value.trim()) {
      const who = message.author_name || t("A colleague");
      changed(
        conversationId,
        message.sender === "note"
          ? t("{name} added a note while you were here.", { name: who })
          : t("{name} replied while you were here.", { name: who }),
      );
    }
  }

  function clear() {
    detail = null;
    messages.replaceChildren();
    title.textContent = t("No conversation open");
    meta.textContent = "";
    setHidden(older, true);
    showBanner("");
    setEnabled();
  }

  showHint();
  return {
    open,
    clear,
    ended,
    onMessage,
    onDelivery,
    catchUp,
    focusReply: () => (canWrite() ? box.focus() : title.focus()),
    toggleMode() {
      setMode(mode === "note" ? "reply" : "note");
      if (canWrite()) box.focus();
    },
    focusTitle: () => title.focus(),
    current: () => detail,
    canReply,
    validate,
    box,
    changed,
    insert,
    usePhrase,
    mode: () => mode,
    isEmpty: () => !box.value.trim() && !attachment,
    setDetail(next) {
      if (detail && next.id === detail.id) detail = { ...detail, ...next };
    },
    refreshHeader: () => renderHeader(),
  };
}
