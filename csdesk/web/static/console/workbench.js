// The agent workbench: wires the list, chat, buyer panel, dialogs, keyboard map and live
// connection around one piece of state (my status, my conversations, the open one).

import { createAlerts } from "./alerts.js";
import { api } from "./api.js";
import { createChat } from "./chat.js";
import { coalesced } from "./coalesce.js";
import {
  createCheatSheet,
  createCloseDialog,
  createRevealDialog,
  createTransferDialog,
} from "./dialogs.js";
import { byId, el, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { installKeys } from "./keys.js";
import { createList } from "./list.js";
import { LiveClient, showLiveState } from "./live.js";
import { createMentions } from "./mentions.js";
import { createPanel } from "./panel.js";
import { makePrefs } from "./prefs.js";
import { createPicker } from "./quick.js";
import { setTimeZone, syncClock } from "./time.js";
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
  onInserted: () => chat.validate(),
});
const chat = createChat({
  me,
  prefs,
  onOpenPicker: () => picker.open(),
  onReplied: (id, message) => list.onMessage(id, message),
  onNoted: (id, result) => {
    const names = result.mentioned.map((user) => user.display_name).join(t(", "));
    announce(names ? t("Note added; {names} notified.", { names }) : t("Note added."));
  },
});
const myCourses = boot.can_take_courses ? createMyCourses() : null;
const mentions = createMentions({ onOpen: (id) => openConversation(id, { focus: true }) });
const reveal = createRevealDialog();
const panel = createPanel({ prefs, onReveal: (target, done) => reveal.open(target, done) });
const notice = byId("wb-notice");

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
const closing = createCloseDialog({
  getConversation: () => chat.current(),
  onDone: (id) => {
    announce(t("{name}: conversation closed.", { name: nameOf(id) }));
    removeFromList(id);
    chat.ended(id, t("This conversation is closed."));
    openNextAfter(id);
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
  try {
    const [detail, buyer] = await Promise.all([
      api(`/api/v1/conversations/${id}`),
      api(`/api/v1/conversations/${id}/buyer`),
    ]);
    if (seq !== openSeq) return;
    await chat.open(detail);
    panel.render(buyer);
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

const live = new LiveClient({
  path: boot.live_path,
  pollMs: boot.poll_ms,
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

byId("transfer-btn").addEventListener("click", () => transfer.open());
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

async function start() {
  if (boot.conversation_id) openId = boot.conversation_id; // the URL's conversation wins
  try {
    await refresh();
  } catch (err) {
    shiftError.textContent = err.message;
  }
  // People without workbench rights (QC, trainers) see no phrases: not asked, not refused.
  let library = { groups: [] };
  if (boot.can_work) {
    try {
      library = await api("/api/v1/quick-replies");
    } catch {
      // the picker stays empty; the reply box still works
    }
  }
  picker.setLibrary(library);
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
