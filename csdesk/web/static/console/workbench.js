// The agent workbench: wires the list, chat, buyer panel, dialogs, keyboard map and live
// connection around one piece of state (my status, my conversations, the open one).

import { createAlerts } from "./alerts.js";
import { api } from "./api.js";
import { createChat } from "./chat.js";
import { coalesced } from "./coalesce.js";
import {
  anyDialogOpen,
  createCatalogDialog,
  createCheatSheet,
  createCloseDialog,
  createRevealDialog,
  createSnoozeDialog,
  createIntentDialog,
  createTransferDialog,
} from "./dialogs.js";
import { byId, el, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { installKeys } from "./keys.js";
import { createList } from "./list.js";
import { LiveClient, showLiveState } from "./live.js";
import { createMentionComplete } from "./mention-complete.js";
import { createMentions } from "./mentions.js";
import { createPanel } from "./panel.js";
import { makePrefs } from "./prefs.js";
import { createPresence } from "./presence.js";
import { createPicker } from "./quick.js";
import { createSuggestion } from "./suggest.js";
import { formatTime, setTimeZone, syncClock } from "./time.js";
import { createMyCourses } from "./training-workbench.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const me = boot.user;
const prefs = makePrefs(me.id);
const baseTitle = document.title;
let state = null; // the last /api/v1/workbench answer
let openId = null;
let openSeq = 0;

// -- shift -------------------------------------------------------------------------------------

const statusSelect = byId("status-select");
const goOnShift = byId("go-on-shift");
const shiftRoles = byId("shift-roles");
const shiftError = byId("shift-error");
const statusDot = byId("status-dot");
const autoSuspend = byId("auto-suspend");
const autoSuspendHint = byId("auto-suspend-hint");

/** 自动挂起: the agent's limit (null: the shop's default, 0: off), and whether it holds now. */
function renderAutoSuspend() {
  const mine = state.me;
  const chats = (n) => t("at {n} open chats", { n });
  const shop = mine.auto_suspend_default;
  const top = Math.max(mine.chat_capacity || 0, mine.auto_suspend_at || 0, shop || 0, 1);
  const shopValue = shop ? chats(shop) : t("off");
  const options = [
    ["", t("Shop default: {value}", { value: shopValue })],
    ["0", t("Off")],
  ];
  for (let n = 1; n <= top; n += 1) options.push([String(n), chats(n)]);
  autoSuspend.replaceChildren(
    ...options.map(([value, text]) => el("option", { value, text })),
  );
  autoSuspend.value = mine.auto_suspend_at === null ? "" : String(mine.auto_suspend_at);
  autoSuspend.disabled = !mine.has_profile || !boot.can_work;
  const limit = mine.auto_suspend_at === null ? shop : mine.auto_suspend_at || null;
  if (mine.status === "busy" && mine.auto_suspended) {
    autoSuspendHint.textContent = t(
      "Suspended automatically: no new chats until you have fewer than {n} open.",
      { n: limit },
    );
  } else {
    autoSuspendHint.textContent = limit
      ? t("At {n} open chats you go busy and get no new chats until you are below it.", {
          n: limit,
        })
      : "";
  }
}

async function setAutoSuspend() {
  shiftError.textContent = "";
  const raw = autoSuspend.value;
  try {
    const change = await api("/api/v1/workbench/settings", {
      method: "POST",
      body: { auto_suspend_at: raw === "" ? null : Number(raw) },
    });
    Object.assign(state.me, {
      status: change.status,
      auto_suspend_at: change.auto_suspend_at,
      auto_suspended: change.auto_suspended,
    });
    renderShift();
    if (change.assigned.length) await refresh();
  } catch (err) {
    shiftError.textContent = err.message;
    renderShift();
  }
}

function renderShift() {
  const mine = state.me;
  statusSelect.disabled = !mine.has_profile || !boot.can_work;
  statusSelect.value = mine.status;
  statusDot.dataset.status = mine.status;
  renderAutoSuspend();
  setHidden(goOnShift, !mine.has_profile || mine.status !== "offline");
  if (!mine.has_profile) {
    shiftRoles.textContent = t("No agent profile: you can read conversations but not take them.");
    return;
  }
  const names = (roles) => roles.map((role) => label("role", role)).join(t(", "));
  if (mine.status === "offline") {
    shiftRoles.textContent = mine.roster_roles.length
      ? t("Roster now: {roles}", { roles: names(mine.roster_roles) })
      : t("No roster shift now; you will take: {roles}", { roles: names(mine.service_roles) });
  } else {
    shiftRoles.textContent = t("On shift as {roles}", { roles: names(mine.service_roles) });
  }
}

async function setStatus(status) {
  shiftError.textContent = "";
  try {
    const change = await api("/api/v1/workbench/status", { method: "POST", body: { status } });
    state.me.status = change.status;
    state.me.service_roles = change.service_roles;
    renderShift();
    await refresh();
  } catch (err) {
    shiftError.textContent = err.message;
    renderShift();
  }
}

statusSelect.addEventListener("change", () => setStatus(statusSelect.value));
autoSuspend.addEventListener("change", setAutoSuspend);
goOnShift.addEventListener("click", () => setStatus("online"));

// -- list, chat, panel -------------------------------------------------------------------------

const list = createList({ onOpen: (id) => openConversation(id, { focus: true }) });
const picker = createPicker({
  textarea: byId("reply-box"),
  getVariables: () => chat.current()?.variables || {},
  onInserted: (filled, phrase) => {
    if (phrase) chat.usePhrase(phrase, chat.box.value);
    chat.validate();
    suggestion.render();
  },
});
let live = null;
const chat = createChat({
  me,
  prefs,
  onOpenPicker: () => picker.open(),
  onTyping: (id, typing, mode) =>
    live?.send({ op: "typing", conversation_id: id, typing, mode }),
  onReplied: (id, message) => {
    list.onMessage(id, message);
    suggestion.render();
  },
  onNoted: (id, result) => {
    const names = result.mentioned.map((user) => user.display_name).join(t(", "));
    announce(names ? t("Note added; {names} notified.", { names }) : t("Note added."));
  },
});
const myCourses = boot.can_take_courses ? createMyCourses() : null;
const mentions = createMentions({ onOpen: (id) => openConversation(id, { focus: true }) });
const suggestion = createSuggestion({ chat });
createMentionComplete({ textarea: chat.box, isNoteMode: () => chat.mode() === "note", me });
const presence = createPresence({
  me,
  onChange: (id) => {
    if (id === openId) presence.render(id);
    list.setPresence(id, presence.others(id));
  },
});
const reveal = createRevealDialog();
const catalog = createCatalogDialog({ onPick: (kind, ref) => sendCard(kind, ref) });
const panel = createPanel({
  prefs,
  onReveal: (target, done) => reveal.open(target, done),
  canSend: () => chat.canReply(),
  onCard: (kind, ref) => {
    if (kind === "product" || kind === "coupon") catalog.open(kind);
    else sendCard(kind, ref).catch((err) => announce(err.message));
  },
});
const notice = byId("wb-notice");

/** One-click card (订单核对, 催付, 推荐商品, 优惠券): filled and sent by the server. */
async function sendCard(kind, ref) {
  const current = chat.current();
  if (!current || !current.can_reply) return;
  const result = await api(`/api/v1/conversations/${current.id}/cards`, {
    method: "POST",
    body: { card: kind, ...ref },
  });
  chat.onMessage(current.id, result.message);
  list.onMessage(current.id, result.message);
  const attached = (result.message.attachments || [])[0];
  announce(t("{name}: card “{title}” sent.", { name: nameOf(current.id), title: attached?.title || "" }));
}

/** What the last action did, until the next one (conversations switch under it). */
function announce(text) {
  notice.textContent = text;
  setHidden(notice, !text);
}

function nameOf(id) {
  const current = chat.current();
  return (current && current.id === id && current.buyer?.nick) || `#${id}`;
}

const transfer = createTransferDialog({
  getConversation: () => chat.current(),
  onDone: (id, result) => {
    const role = label("role", result.to_role);
    announce(t("{name}: transferred to {role}.", { name: nameOf(id), role }));
    removeFromList(id);
    chat.ended(id, t("Transferred to {role}.", { role }));
    openNextAfter(id);
  },
});
const relabel = createIntentDialog({
  getConversation: () => chat.current(),
  onDone: (id, result) => {
    chat.setDetail({ id, intent: result.intent });
    chat.refreshHeader();
    announce(
      t("Intent corrected to {intent}; triage learns from it.", { intent: label("intent", result.intent) }),
    );
  },
});
const closing = createCloseDialog({
  getConversation: () => chat.current(),
  onDone: (id) => {
    announce(t("{name}: conversation closed.", { name: nameOf(id) }));
    removeFromList(id);
    chat.ended(id, t("This conversation is closed."));
    openNextAfter(id);
  },
});
const snoozing = createSnoozeDialog({
  getConversation: () => chat.current(),
  onDone: async (id, until) => {
    announce(
      until
        ? t("{name}: snoozed until {time}.", { name: nameOf(id), time: formatTime(until) })
        : t("{name}: awake again.", { name: nameOf(id) }),
    );
    const row = list.row(id);
    if (row) list.upsert({ ...row, snoozed_until: until });
    if (until) openNextAfter(id);
  },
});
const cheatSheet = createCheatSheet();
const alerts = createAlerts({
  prefs,
  baseTitle,
  isOpen: (id) => id === openId,
  root: byId("workbench"),
  focusedToggle: byId("alert-focused"),
});
document.addEventListener("visibilitychange", () => alerts.seen(openId));

/** Conversations leave my list (closed, transferred, requeued). */
function removeFromList(id) {
  list.remove(id);
  alerts.forget(id);
}

function openNextAfter() {
  const next = list.neighbour(1);
  if (next !== null) openConversation(next, { focus: true });
}

async function openConversation(id, { focus = false, push = true } = {}) {
  const shown = chat.current();
  if (id === openId && shown?.id === id && !shown.ended) {
    if (focus) chat.focusReply(); // already open: nothing to reload
    alerts.seen(id);
    return;
  }
  const seq = ++openSeq;
  openId = id;
  list.setActive(id);
  picker.close({ refocus: false });
  if (push && window.location.pathname !== `/console/conversations/${id}`) {
    window.history.pushState({ id }, "", `/console/conversations/${id}`);
  }
  live?.send({ op: "watch", conversation_id: id });
  presence.render(id);
  try {
    const [detail, buyer] = await Promise.all([
      api(`/api/v1/conversations/${id}`),
      api(`/api/v1/conversations/${id}/buyer`),
    ]);
    if (seq !== openSeq) return;
    await chat.open(detail);
    panel.render(buyer);
    suggestion.render();
    alerts.seen(id);
    if (focus) chat.focusReply();
  } catch (err) {
    if (seq !== openSeq) return;
    chat.clear();
    panel.clear();
    byId("chat-banner").textContent = err.message;
    setHidden(byId("chat-banner"), false);
  }
}

/** With nothing open, the first conversation opens by itself (without taking focus). */
function openFirstIfIdle() {
  const first = list.neighbour(1);
  const idle = openId === null || chat.current()?.ended;
  if (idle && first !== null) openConversation(first);
}

async function refresh() {
  const next = await api("/api/v1/workbench");
  state = next;
  syncClock(next.server_now);
  setTimeZone(next.timezone);
  renderShift();
  list.replace(next.conversations);
  alerts.keepOnly(next.conversations.map((conversation) => conversation.id));
  openFirstIfIdle();
}

// -- live events -------------------------------------------------------------------------------

async function onEvent(type, payload) {
  if (type === "conversation.assigned") {
    const conversation = payload.conversation || {};
    if (conversation.assigned_agent_id !== me.id) return;
    const isNew = !list.has(conversation.id);
    const detail = await api(`/api/v1/conversations/${conversation.id}`);
    list.upsert(detail);
    if (isNew) {
      const last = detail.last_message;
      alerts.arrived(detail.id, last && last.sender === "buyer" ? last.id : "assigned");
    }
    openFirstIfIdle();
  } else if (type === "message.created") {
    const message = payload.message || {};
    list.onMessage(payload.conversation_id, message);
    chat.onMessage(payload.conversation_id, message);
    if (message.sender === "buyer" && list.has(payload.conversation_id)) {
      alerts.arrived(payload.conversation_id, message.id);
    }
    if (message.sender === "buyer" && payload.conversation_id === openId) refreshSuggestion();
  } else if (type === "conversation.reassigned") {
    const id = payload.conversation_id;
    if (payload.from_agent_id === me.id && payload.to_agent_id !== me.id && list.has(id)) {
      removeFromList(id);
      chat.ended(id, t("This conversation was handed to a colleague."));
    } else if (id === openId && payload.by !== me.id) {
      chat.changed(id, t("This conversation was moved to another agent meanwhile."));
    }
  } else if (type === "conversation.updated") {
    const id = payload.conversation?.id;
    if (id === undefined) return;
    const row = list.row(id);
    if (row && "snoozed_until" in payload) list.upsert({ ...row, snoozed_until: payload.snoozed_until });
    if (id === openId && payload.by !== me.id) {
      chat.changed(id, t("This conversation was changed by a colleague meanwhile."));
    }
  } else if (type === "message.delivery") {
    chat.onDelivery(payload.conversation_id, payload.message_id, payload.delivery || {});
  } else if (type === "conversation.closed" || type === "conversation.requeued") {
    const id = payload.conversation_id ?? payload.conversation?.id;
    if (id === undefined || !list.has(id)) return;
    removeFromList(id);
    chat.ended(
      id,
      type === "conversation.closed"
        ? t("This conversation is closed.")
        : t("This conversation went back to the queue."),
    );
  } else if (type === "note.mentioned") {
    mentions.add(payload);
    alerts.ping();
  } else if (type.startsWith("training.") && myCourses) {
    await myCourses.refresh();
    if (type !== "training.passed") alerts.ping();
  } else if (type === "agent.status") {
    if (payload.agent_id === me.id && state) {
      state.me.status = payload.status;
      if ("auto_suspended" in payload) state.me.auto_suspended = payload.auto_suspended;
      else if (payload.status !== "busy") state.me.auto_suspended = false;
      renderShift();
    }
  }
}

// Resyncs (welcome without resume, reset, each poll) coalesce: one runs at a time, and a
// request arriving meanwhile runs once more afterwards.
const resync = coalesced(async () => {
  await refresh();
  if (openId !== null) await chat.catchUp();
});

/** A new buyer line may change the suggested reply (the detail carries it). */
const refreshSuggestion = coalesced(async () => {
  const id = openId;
  if (id === null) return;
  const detail = await api(`/api/v1/conversations/${id}`);
  if (id !== openId) return;
  chat.setDetail({ suggestion: detail.suggestion, variables: detail.variables, intent: detail.intent });
  suggestion.render();
});

live = new LiveClient({
  path: boot.live_path,
  pollMs: boot.poll_ms,
  onPresence: (frame) => presence.apply(frame),
  onWelcome: () => {
    presence.clear();
    if (openId !== null) live.send({ op: "watch", conversation_id: openId });
  },
  onEvent: (type, payload) => {
    onEvent(type, payload).catch((err) => console.warn("live event", type, err));
  },
  onResync: () => resync().catch((err) => console.warn("resync", err)),
  onPoll: () => resync().catch((err) => console.warn("poll", err)),
  onState: showLiveState(byId("live-state")),
});

// -- keyboard ----------------------------------------------------------------------------------

function step(delta) {
  const next = list.neighbour(delta);
  if (next !== null) openConversation(next, { focus: true });
}

installKeys({
  next: () => step(1),
  previous: () => step(-1),
  longest: () => {
    const id = list.longest();
    if (id !== null) openConversation(id, { focus: true });
  },
  transfer: () => transfer.open(),
  close: () => closing.open(),
  resolveNext: () => resolveNext(),
  snooze: () => snoozing.open(),
  suspend: () => {
    if (!state?.me.has_profile || !boot.can_work) return;
    const next = state.me.status === "online" ? "busy" : "online";
    announce(next === "busy" ? t("Suspended: no new chats until you are back online.") : t("Back online."));
    setStatus(next);
  },
  hotkey: (slot) => {
    if (anyDialogOpen() || !chat.canReply()) return;
    const phrase = picker.hotkey(slot);
    if (!phrase) {
      announce(t("Alt+{slot} has no phrase yet: choose one in the quick-reply library.", { slot }));
      return;
    }
    if (chat.mode() !== "reply") chat.toggleMode();
    chat.box.focus();
    picker.insertPhrase(phrase);
  },
  reply: () => chat.focusReply(),
  noteToggle: () => chat.toggleMode(),
  panel: () => panel.focus(),
  quickReply: () => {
    if (!chat.canReply()) return;
    chat.box.focus();
    picker.open();
  },
  cheatSheet: () => cheatSheet.toggle(),
});

/** 解决并下一个 (Alt+E): close as answered, then the next waiting conversation. */
async function resolveNext() {
  const current = chat.current();
  if (!current || !current.can_reply) return;
  const id = current.id;
  try {
    await api(`/api/v1/conversations/${id}/close`, {
      method: "POST",
      body: { disposition: "answered", tags: [] },
    });
  } catch (err) {
    announce(err.message);
    return;
  }
  announce(t("{name}: resolved.", { name: nameOf(id) }));
  removeFromList(id);
  chat.ended(id, t("This conversation is closed."));
  openNextAfter(id);
}

byId("transfer-btn").addEventListener("click", () => transfer.open());
byId("intent-btn").addEventListener("click", () => relabel.open());
byId("resolve-next-btn").addEventListener("click", () => resolveNext());
byId("snooze-btn").addEventListener("click", () => snoozing.open());
byId("close-btn").addEventListener("click", () => closing.open());
byId("overdue-jump").addEventListener("click", () => {
  const id = list.longest();
  if (id !== null) openConversation(id, { focus: true });
});

window.addEventListener("popstate", () => {
  const match = window.location.pathname.match(/^\/console\/conversations\/(\d+)$/);
  if (match) openConversation(Number(match[1]), { push: false });
});

// -- start -------------------------------------------------------------------------------------

/** People without workbench rights (QC, trainers) see no phrases: not asked, not refused. */
async function loadLibrary() {
  if (!boot.can_work) {
    picker.setLibrary({ groups: [] });
    return;
  }
  try {
    picker.setLibrary(await api("/api/v1/quick-replies"));
  } catch {
    // the picker keeps what it had; the reply box still works
  }
}

async function start() {
  if (boot.conversation_id) openId = boot.conversation_id; // the URL's conversation wins
  try {
    await refresh();
  } catch (err) {
    shiftError.textContent = err.message;
  }
  await loadLibrary();
  // Phrases and hotkeys edited in the library page (another tab) count when I come back.
  window.addEventListener("focus", () => loadLibrary());
  if (myCourses) {
    try {
      await myCourses.refresh();
    } catch {
      // the list stays hidden; the workbench works without it
    }
  }
  if (boot.conversation_id) openConversation(boot.conversation_id, { push: false });
  window.setInterval(() => list.tick(), 1000);
  live.start();
  document.documentElement.dataset.workbench = "ready";
}

start();
