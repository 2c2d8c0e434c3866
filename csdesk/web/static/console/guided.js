// Guided mode (引导模式, Zendesk's): POST /api/v1/guided/next gives the item to open now (my
// oldest untouched item, else the best queued one of my roles, claimed for me). It opens
// here by itself: on arrival, after a skip, and when the item in hand leaves my hands
// (closed, requeued, reassigned: live events). With nothing to take, new queued items
// open as they arrive. A skip needs a reason (POST /api/v1/guided/skip), which the
// supervisor's board shows.

import { api } from "./api.js";
import { coalesced } from "./coalesce.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { itemHref } from "./list.js";
import { LiveClient, showLiveState } from "./live.js";
import { formatTime, formatWait, secondsSince, setTimeZone, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const me = boot.user;
const MESSAGES = 6;

syncClock(boot.server_now);
setTimeZone(boot.timezone);

let current = null; // the item in hand: GET /api/v1/conversations/{id}
let source = null; // "held" | "queue"
let busy = false;

const itemCard = byId("gd-item");
const idleCard = byId("gd-idle");
const result = byId("gd-result");
const errorBox = byId("gd-error");
const reason = byId("gd-skip-reason");
const skipError = byId("gd-skip-error");

function announce(text) {
  result.textContent = text;
  setHidden(result, !text);
}

function nameOf(item) {
  return item?.buyer?.nick || label("kind", item?.kind) || `#${item?.id}`;
}

// -- rendering ---------------------------------------------------------------------------------

function author(message) {
  if (message.sender === "buyer") return t("Buyer");
  if (message.sender === "agent") return message.author_name || t("Agent");
  if (message.sender === "note") {
    return t("Internal note · {name}", { name: message.author_name || "" });
  }
  if (message.sender === "auto") return t("Auto message (the buyer sees it)");
  return t("System");
}

function messageItem(message) {
  const who = author(message);
  return el(
    "li",
    { class: `gd-message from-${message.sender}`, dataset: { id: String(message.id) } },
    el("span", { class: "gd-who", text: `${who} · ${formatTime(message.sent_at)}` }),
    message.text,
  );
}

/** Once each (the live event and the API's answer may both bring it), newest last. */
function appendMessage(message) {
  const list = byId("gd-messages");
  if (list.querySelector(`[data-id="${Number(message.id)}"]`)) return;
  list.append(messageItem(message));
  while (list.children.length > MESSAGES) list.firstElementChild.remove();
}

function tick() {
  const wait = byId("gd-wait");
  if (!current) return;
  wait.textContent = current.waiting_since
    ? formatWait(secondsSince(current.waiting_since))
    : t("Replied");
}

function renderItem(messages) {
  byId("gd-nick").textContent = nameOf(current);
  byId("gd-id").textContent = `#${current.id}`;
  byId("gd-source").textContent =
    source === "held"
      ? t("Yours and not answered yet.")
      : t("Just taken from the queue for you.");
  byId("gd-role").textContent = label("role", current.role);
  byId("gd-kind").textContent = label("kind", current.kind);
  byId("gd-intent").textContent = label("intent", current.intent) || "—";
  byId("gd-open").href = itemHref(current.kind, current.id);
  fillNode(byId("gd-messages"), messages.map(messageItem));
  reason.value = "";
  reason.removeAttribute("aria-invalid");
  skipError.textContent = "";
  tick();
  setHidden(idleCard, true);
  setHidden(itemCard, false);
}

function renderIdle(text, { offline = false } = {}) {
  current = null;
  byId("gd-idle-text").textContent = text;
  setHidden(byId("gd-online"), !offline);
  setHidden(itemCard, true);
  setHidden(idleCard, false);
}

// -- the next item -----------------------------------------------------------------------------

async function open(conversationId) {
  const [detail, page] = await Promise.all([
    api(`/api/v1/conversations/${Number(conversationId)}`),
    api(`/api/v1/conversations/${Number(conversationId)}/messages?limit=${MESSAGES}`),
  ]);
  current = detail;
  renderItem(page.items);
}

/** Ask for the next item and open it. ``focus``: move focus to it (the user asked). */
async function next({ focus = false } = {}) {
  errorBox.textContent = "";
  const before = current?.id ?? null;
  try {
    const answer = await api("/api/v1/guided/next", { method: "POST", body: {} });
    source = answer.source;
    if (!answer.conversation) {
      renderIdle(t("No queued item of your roles. A new one opens here by itself."));
      if (focus) byId("gd-idle-title").focus();
      return false;
    }
    await open(answer.conversation.id);
    const idle = !document.activeElement || document.activeElement === document.body;
    if (focus || (idle && before !== current.id)) byId("gd-item-title").focus();
    return before !== current.id;
  } catch (err) {
    if (err.status === 409) {
      renderIdle(err.message, { offline: /offline|away/.test(err.message) });
      if (focus) byId("gd-idle-title").focus();
    } else {
      errorBox.textContent = err.message;
    }
    return false;
  }
}

// Reads coalesce: one at a time, a request meanwhile runs once more afterwards.
let wantFocus = false;
const runNext = coalesced(async () => {
  const moveFocus = wantFocus;
  wantFocus = false;
  await next({ focus: moveFocus });
});

function advance({ focus = false } = {}) {
  wantFocus = wantFocus || focus;
  return runNext();
}

/** Is the item in hand still mine and open? If not, the next one opens. */
async function check() {
  if (!current) return advance();
  try {
    const detail = await api(`/api/v1/conversations/${Number(current.id)}`);
    if (detail.status !== "assigned" || detail.assigned_agent_id !== me.id) {
      announce(t("{name} left your hands; the next item opened.", { name: nameOf(current) }));
      return advance();
    }
    current = { ...current, ...detail };
    tick();
  } catch {
    return advance();
  }
  return undefined;
}

// -- actions -----------------------------------------------------------------------------------

byId("gd-skip-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (busy || !current) return;
  const why = reason.value.trim();
  if (!why) {
    skipError.textContent = t("Please give a reason for skipping.");
    reason.setAttribute("aria-invalid", "true");
    reason.focus();
    return;
  }
  busy = true;
  byId("gd-skip").disabled = true;
  const skipped = current;
  try {
    await api("/api/v1/guided/skip", {
      method: "POST",
      body: { conversation_id: skipped.id, reason: why },
    });
    current = null;
    announce(t("Skipped {name}.", { name: nameOf(skipped) }));
    await advance({ focus: true });
  } catch (err) {
    skipError.textContent = err.message;
    if (err.field === "reason") {
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
    }
  } finally {
    busy = false;
    byId("gd-skip").disabled = false;
  }
});

const note = byId("gd-note");
const noteError = byId("gd-note-error");

// A note on the item at hand (staff only; "@username" tells a colleague), without opening it.
byId("gd-note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (busy || !current) return;
  const text = note.value;
  if (!text.trim()) {
    noteError.textContent = t("Write the note first.");
    note.setAttribute("aria-invalid", "true");
    note.focus();
    return;
  }
  busy = true;
  byId("gd-note-add").disabled = true;
  const item = current;
  try {
    const answer = await api(`/api/v1/conversations/${Number(item.id)}/notes`, {
      method: "POST",
      body: { text },
    });
    note.value = "";
    noteError.textContent = "";
    note.removeAttribute("aria-invalid");
    if (current && current.id === item.id) appendMessage(answer.message);
    const names = answer.mentioned.map((user) => user.display_name).join(t(", "));
    announce(names ? t("Note added; {names} notified.", { names }) : t("Note added."));
  } catch (err) {
    noteError.textContent = err.message;
  } finally {
    busy = false;
    byId("gd-note-add").disabled = false;
  }
});

reason.addEventListener("input", () => {
  if (reason.value.trim()) {
    skipError.textContent = "";
    reason.removeAttribute("aria-invalid");
  }
});

byId("gd-next").addEventListener("click", async () => {
  announce("");
  const held = current?.id;
  await advance({ focus: true });
  if (current && current.id === held) {
    announce(t("This item is still yours and unanswered: answer it or skip it first."));
  }
});
byId("gd-retry").addEventListener("click", () => advance({ focus: true }));
byId("gd-online").addEventListener("click", async () => {
  try {
    await api("/api/v1/workbench/status", { method: "POST", body: { status: "online" } });
    await advance({ focus: true });
  } catch (err) {
    errorBox.textContent = err.message;
  }
});

// -- live --------------------------------------------------------------------------------------

function onEvent(type, payload) {
  const id = payload.conversation_id ?? payload.conversation?.id;
  if (busy) return; // a skip or note in flight: its answer decides what shows next
  if (current && id === current.id) {
    if (type === "message.created" && payload.message) {
      appendMessage(payload.message);
      if (payload.message.sender === "agent") current.waiting_since = null;
      else if (payload.message.sender === "buyer") {
        current.waiting_since = current.waiting_since || payload.message.sent_at;
      }
      tick();
      return;
    }
    if (
      type === "conversation.closed" ||
      type === "conversation.requeued" ||
      (type === "conversation.reassigned" && payload.to_agent_id !== me.id)
    ) {
      const gone = current;
      current = null;
      announce(
        type === "conversation.closed"
          ? t("{name} is closed; the next item opened.", { name: nameOf(gone) })
          : t("{name} left your hands; the next item opened.", { name: nameOf(gone) }),
      );
      advance();
    }
    return;
  }
  if (!current && !busy) {
    const mine =
      type === "conversation.assigned" && payload.conversation?.assigned_agent_id === me.id;
    const online =
      type === "agent.status" && payload.agent_id === me.id && payload.status === "online";
    if (type === "conversation.queued" || mine || online) advance();
  }
}

const live = new LiveClient({
  path: boot.live_path,
  pollMs: boot.poll_ms,
  onEvent: (type, payload) => onEvent(type, payload),
  onResync: () => check(),
  onPoll: () => check(),
  onState: showLiveState(byId("gd-live")),
});

async function start() {
  await advance();
  window.setInterval(tick, 1000);
  live.start();
  document.documentElement.dataset.guided = "ready";
}

start();
