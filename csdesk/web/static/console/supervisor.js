// The supervisor board (主管看板): per-role queues, the items to act on (select, then bulk
// assign / transfer / requeue / close, or reassign one), the agents and the guided-mode
// skips. It follows the live websocket: an event that may change what the board shows
// re-reads GET /api/v1/supervisor/board (at most every DEBOUNCE_MS); while the socket is
// down the board is polled, and it is re-read every refresh_ms anyway, since waits cross
// the silent and 3-minute thresholds without any event saying so.

import { api } from "./api.js";
import { coalesced } from "./coalesce.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { itemHref } from "./list.js";
import { LiveClient, showLiveState } from "./live.js";
import { formatTime, formatWait, nowMs, setTimeZone, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const DEBOUNCE_MS = 300;
const BULK_PATH = "/api/v1/supervisor/conversations/bulk";
const BOARD_EVENTS = new Set([
  "conversation.assigned",
  "conversation.queued",
  "conversation.requeued",
  "conversation.closed",
  "conversation.updated",
  "conversation.reassigned",
  "message.created",
  "message.delivery",
  "queue.changed",
  "agent.status",
  "roster.changed",
  "guided.skipped",
  "event.failed",
]);
const UNAVAILABLE = new Set(["away", "offline"]); // the server refuses to assign to these
const QUEUE = "queue"; // the reassign dialog's "back to the queue" choice

syncClock(boot.server_now);
setTimeZone(boot.timezone);

let board = boot.board;
let boardAt = Date.parse(board.generated_at);
let silentS = boot.silent_s;
let view = "queued";
let shown = []; // the rows of the current view, after the filters
const selected = new Set();
let busy = false;

const errorBox = byId("sv-error");
const roleFilter = byId("sv-role-filter");
const agentFilter = byId("sv-agent-filter");
const selectAll = byId("sv-select-all");
const bulkForm = byId("sv-bulk");

// -- helpers -----------------------------------------------------------------------------------

function agentsById() {
  return new Map(board.agents.map((agent) => [agent.agent_id, agent]));
}

function agentName(id) {
  if (id === null || id === undefined) return "";
  const agent = agentsById().get(id);
  return agent?.display_name || agent?.username || `#${id}`;
}

/** Seconds since the board was generated (the waits it carries grow by this much). */
function elapsed() {
  return Math.max(0, (nowMs() - boardAt) / 1000);
}

function waitText(seconds) {
  return seconds === null || seconds === undefined
    ? "—"
    : formatWait(Math.floor(seconds + elapsed()));
}

/** Rebuild a <select>'s options only when they changed, keeping the chosen value. */
function setOptions(select, options) {
  const signature = JSON.stringify(options);
  if (select.dataset.signature === signature) return;
  const value = select.value;
  select.replaceChildren(
    ...options.map((option) =>
      el("option", { value: option.value, disabled: option.disabled, text: option.text }),
    ),
  );
  select.dataset.signature = signature;
  if (options.some((option) => option.value === value && !option.disabled)) select.value = value;
}

function agentOption(agent) {
  const load = `${agent.load.chat}/${agent.capacity.chat}`;
  return {
    value: String(agent.agent_id),
    text: t("{name} · {status} · {load} chats", {
      name: agent.display_name || agent.username || `#${agent.agent_id}`,
      status: label("status", agent.status),
      load,
    }),
    disabled: UNAVAILABLE.has(agent.status),
  };
}

// -- rows of each view -------------------------------------------------------------------------

function rowsOf(which) {
  const items = board.items || [];
  const known = new Map(items.map((item) => [item.conversation_id, item]));
  if (which === "queued") {
    return items
      .filter((item) => item.status === "queued")
      .map((item) => ({ ...item, wait_s: item.waiting_s }));
  }
  if (which === "with_agent") {
    return items
      .filter((item) => item.status === "assigned")
      .map((item) => ({ ...item, wait_s: item.with_agent_s }));
  }
  if (which === "silent") {
    return board.agent_silent.map((entry) => ({
      ...(known.get(entry.conversation_id) || { status: "assigned" }),
      ...entry,
      silent: true,
      wait_s: entry.silent_s,
    }));
  }
  return board.unanswered.map((entry) => ({
    ...(known.get(entry.conversation_id) || {}),
    ...entry,
    unanswered: true,
    wait_s: entry.waiting_s,
  }));
}

function totals() {
  const sum = (key) => Object.values(board.roles).reduce((n, role) => n + role[key], 0);
  return {
    queued: sum("queued"),
    with_agent: sum("with_agent"),
    silent: sum("agent_silent"),
    unanswered: sum("unanswered"),
  };
}

function filtered(rows) {
  const role = roleFilter.value;
  const agent = agentFilter.value;
  return rows.filter(
    (row) =>
      (!role || row.role === role) && (!agent || String(row.assigned_agent_id) === agent),
  );
}

// -- rendering ---------------------------------------------------------------------------------

function renderRoles() {
  const body = byId("sv-roles-body");
  fillNode(
    body,
    boot.roles.map((key) => {
      const role = board.roles[key];
      const cell = (value, alert = false) =>
        el("td", { class: alert && value > 0 ? "num is-alert" : "num", text: value });
      return el(
        "tr",
        { dataset: { role: key } },
        el("th", { scope: "row", text: label("role", key) }),
        cell(role.queued),
        cell(role.scheduled),
        cell(role.with_agent),
        cell(role.agent_silent, true),
        cell(role.unanswered, true),
        el("td", {
          class: "num sv-wait",
          dataset: { wait: role.queued ? String(role.oldest_wait_s) : "" },
          text: role.queued ? waitText(role.oldest_wait_s) : "—",
        }),
      );
    }),
  );
}

function statusCell(row) {
  if (row.status !== "assigned") {
    return el("td", { text: label("conversation_status", row.status || "queued") });
  }
  return el(
    "td",
    {},
    el("span", { text: t("With {agent}", { agent: agentName(row.assigned_agent_id) }) }),
    row.silent ? el("span", { class: "tag tag-risk", text: t("Agent silent") }) : null,
  );
}

function itemRow(row) {
  const id = row.conversation_id;
  const name = row.buyer_nick || label("kind", row.kind);
  const cells = [];
  if (boot.can_assign) {
    const box = el("input", {
      type: "checkbox",
      class: "sv-select",
      "aria-label": t("Select {name} (#{id})", { name, id }),
      dataset: { key: `select-${id}`, id: String(id) },
    });
    box.checked = selected.has(id);
    box.addEventListener("change", () => {
      if (box.checked) selected.add(id);
      else selected.delete(id);
      renderSelection();
    });
    cells.push(el("td", { class: "sv-check" }, box));
  }
  cells.push(
    el(
      "th",
      { scope: "row" },
      el("a", { href: itemHref(row.kind, id), text: name }),
      " ",
      el("span", { class: "muted small", text: `#${id}` }),
    ),
    el("td", {}, el("span", { class: "tag tag-role", text: label("role", row.role) })),
    el("td", { text: label("kind", row.kind) }),
    statusCell(row),
    el("td", {
      class: "num sv-wait",
      dataset: { wait: row.wait_s === null || row.wait_s === undefined ? "" : String(row.wait_s) },
      text: waitText(row.wait_s),
    }),
  );
  if (boot.can_assign) {
    cells.push(
      el(
        "td",
        {},
        el("button", {
          type: "button",
          class: "btn btn-quiet",
          text: t("Reassign"),
          "aria-label": t("Reassign {name} (#{id})", { name, id }),
          dataset: { key: `reassign-${id}` },
          onclick: () => reassign.open(row),
        }),
      ),
    );
  }
  return el(
    "tr",
    {
      class: row.unanswered ? "sv-item is-late" : "sv-item",
      dataset: { id: String(id) },
    },
    cells,
  );
}

function renderItems() {
  const all = rowsOf(view);
  shown = filtered(all);
  const visible = new Set(shown.map((row) => row.conversation_id));
  for (const id of [...selected]) if (!visible.has(id)) selected.delete(id);
  fillNode(byId("sv-items-body"), shown.map(itemRow));
  setHidden(byId("sv-items-empty"), shown.length > 0);
  const total = totals();
  for (const node of document.querySelectorAll("[data-count]")) {
    node.textContent = `(${total[node.dataset.count]})`;
    node.closest("button").classList.toggle(
      "has-alert",
      ["silent", "unanswered"].includes(node.dataset.count) && total[node.dataset.count] > 0,
    );
  }
  const more = byId("sv-items-more");
  const listed = all.length;
  const whole = total[view];
  more.textContent =
    whole > listed
      ? t("Showing the first {shown} of {total}.", { shown: listed, total: whole })
      : "";
  setHidden(more, whole <= listed);
  renderSelection();
}

function renderSelection() {
  if (!boot.can_assign) return;
  const count = shown.filter((row) => selected.has(row.conversation_id)).length;
  byId("sv-selected").textContent = t("{n} selected", { n: count });
  selectAll.checked = count > 0 && count === shown.length;
  selectAll.indeterminate = count > 0 && count < shown.length;
  selectAll.disabled = shown.length === 0;
  byId("sv-bulk-submit").disabled = busy;
}

function renderAgents() {
  const agents = board.agents;
  byId("sv-agents-count").textContent = `(${agents.length})`;
  setHidden(byId("sv-agents-empty"), agents.length > 0);
  fillNode(
    byId("sv-agents-body"),
    agents.map((agent) => {
      const roles = agent.service_roles.map((role) => {
        const duties = (agent.duties[role] || []).map((duty) => label("duty", duty));
        return duties.length ? `${label("role", role)}（${duties.join("、")}）` : label("role", role);
      });
      return el(
        "tr",
        { dataset: { agent: String(agent.agent_id) } },
        el("th", { scope: "row", text: agent.display_name || agent.username }),
        el(
          "td",
          { class: "sv-nowrap" },
          el("span", {
            class: "status-dot",
            dataset: { status: agent.status },
            "aria-hidden": "true",
          }),
          " ",
          label("status", agent.status),
        ),
        el("td", { text: roles.join(t(", ")) || "—" }),
        el("td", { class: "num", text: `${agent.load.chat}/${agent.capacity.chat}` }),
        el("td", { class: "num", text: `${agent.load.hotline}/${agent.capacity.hotline}` }),
        el("td", { class: agent.silent ? "num is-alert" : "num", text: agent.silent }),
        el("td", { class: agent.skips_24h ? "num is-alert" : "num", text: agent.skips_24h }),
      );
    }),
  );
  setOptions(agentFilter, [
    { value: "", text: t("All agents") },
    ...agents.map((agent) => ({
      value: String(agent.agent_id),
      text: agent.display_name || agent.username,
    })),
  ]);
  if (boot.can_assign) {
    setOptions(byId("sv-bulk-agent"), [
      { value: "", text: t("Choose an agent") },
      ...agents.map(agentOption),
    ]);
  }
}

function renderSkips() {
  const skips = board.skips;
  byId("sv-skips-count").textContent = `(${skips.length})`;
  setHidden(byId("sv-skips-empty"), skips.length > 0);
  fillNode(
    byId("sv-skips-body"),
    skips.map((skip) =>
      el(
        "tr",
        { class: "sv-skip" },
        el("td", {}, el("time", { datetime: skip.at, text: formatTime(skip.at) })),
        el("th", { scope: "row", text: agentName(skip.agent_id) }),
        el(
          "td",
          {},
          el("a", {
            href: `/console/conversations/${Number(skip.conversation_id)}`,
            text: `#${skip.conversation_id}`,
          }),
          skip.role ? ` ${label("role", skip.role)}` : "",
        ),
        el("td", { class: "sv-reason", text: skip.reason || "" }),
      ),
    ),
  );
}

/** Events accepted and then failed to apply: red while there are any (they wait for a fix
 * and a retry; none of them reached an agent). */
function renderFailed() {
  const failed = Number(board.failed_events || 0);
  byId("sv-failed-count").textContent = String(failed);
  byId("sv-failed").classList.toggle("is-alert", failed > 0);
  const list = byId("sv-failed-list");
  setHidden(list, !failed);
  fillNode(
    list,
    (board.recent_failed || []).map((event) =>
      el(
        "li",
        { class: "sv-failed-event" },
        el("code", { text: event.event_id }),
        ` ${event.type} · `,
        el("span", { class: "muted", text: event.error }),
        " ",
        el("button", {
          type: "button",
          class: "btn btn-quiet",
          "data-retry": event.event_id,
          text: t("Retry"),
        }),
      ),
    ),
  );
}

async function retryEvent(eventId) {
  try {
    await api(`/api/v1/events/${encodeURIComponent(eventId)}/retry`, { method: "POST" });
    errorBox.textContent = "";
  } catch (err) {
    errorBox.textContent = err.message;
  }
  refresh();
}

/** Buyer-visible messages that did not reach the buyer (the shop's channel refused or was
 * down past the retry window): red while there are any; the agents' workbenches retry them. */
function renderUndelivered() {
  const outbound = board.outbound || {};
  const failed = Number(outbound.failed || 0);
  byId("sv-undelivered-count").textContent = String(failed);
  byId("sv-sending-count").textContent = String(Number(outbound.sending || 0));
  byId("sv-undelivered").classList.toggle("is-alert", failed > 0);
}

function render() {
  // Re-rendering replaces rows: keep keyboard focus on the same control.
  const focusKey = document.activeElement?.dataset?.key;
  renderRoles();
  renderAgents();
  renderItems();
  renderSkips();
  renderFailed();
  renderUndelivered();
  const updated = byId("sv-updated");
  updated.dateTime = board.generated_at;
  updated.textContent = formatTime(board.generated_at);
  if (focusKey) {
    document.querySelector(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
  }
}

function tick() {
  for (const cell of document.querySelectorAll(".sv-wait")) {
    const wait = cell.dataset.wait;
    if (wait !== "") cell.textContent = waitText(Number(wait));
  }
}

// -- loading -----------------------------------------------------------------------------------

function apply(next) {
  board = next;
  boardAt = Date.parse(next.generated_at);
  syncClock(next.generated_at);
  render();
}

// Reads coalesce: one at a time, a request meanwhile runs once more afterwards.
const load = coalesced(async () => {
  apply(await api(`/api/v1/supervisor/board?silent_s=${Number(silentS)}`));
});

/** Re-read the board; a failure shows in the error line (the promise never rejects). */
function refresh() {
  return load().then(
    () => {
      errorBox.textContent = "";
    },
    (err) => {
      errorBox.textContent = err.message;
    },
  );
}

let pending = null;

/** Many events in a burst make one read (the first schedules it, the rest ride along). */
function refreshSoon() {
  if (pending) return;
  pending = window.setTimeout(() => {
    pending = null;
    refresh();
  }, DEBOUNCE_MS);
}

// -- filters and selection ---------------------------------------------------------------------

for (const button of document.querySelectorAll(".sv-view")) {
  button.addEventListener("click", () => {
    view = button.dataset.view;
    for (const other of document.querySelectorAll(".sv-view")) {
      other.setAttribute("aria-pressed", String(other === button));
    }
    renderItems();
  });
}
roleFilter.addEventListener("change", renderItems);
agentFilter.addEventListener("change", renderItems);
byId("sv-silent-s").addEventListener("change", (event) => {
  silentS = Number(event.target.value);
  refresh();
});
byId("sv-refresh").addEventListener("click", () => refresh());
byId("sv-failed-list").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-retry]");
  if (button) retryEvent(button.dataset.retry);
});

if (selectAll) {
  selectAll.addEventListener("change", () => {
    for (const row of shown) {
      if (selectAll.checked) selected.add(row.conversation_id);
      else selected.delete(row.conversation_id);
    }
    for (const box of document.querySelectorAll(".sv-select")) {
      box.checked = selected.has(Number(box.dataset.id));
    }
    renderSelection();
  });
}

// -- bulk --------------------------------------------------------------------------------------

const FIELD_INPUTS = {
  agent_id: "sv-bulk-agent",
  to_role: "sv-bulk-role",
  note: "sv-bulk-note",
  disposition: "sv-bulk-disposition",
};

function bulkResult(text, failures = []) {
  const box = byId("sv-bulk-result");
  fillNode(
    box,
    el("p", { text }),
    failures.length
      ? el(
          "ul",
          { class: "sv-failures" },
          failures.map((failure) =>
            el("li", { text: `#${failure.conversation_id}: ${failure.error}` }),
          ),
        )
      : null,
  );
  setHidden(box, !text);
}

function bulkError(message, field) {
  const error = byId("sv-bulk-error");
  error.textContent = message;
  for (const id of Object.values(FIELD_INPUTS)) byId(id).removeAttribute("aria-invalid");
  if (field && FIELD_INPUTS[field]) {
    const input = byId(FIELD_INPUTS[field]);
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

function showBulkArgs() {
  const action = byId("sv-bulk-action").value;
  for (const arg of document.querySelectorAll(".sv-bulk-arg")) {
    setHidden(arg, arg.dataset.for !== action);
  }
  byId("sv-bulk-note-label").textContent =
    action === "transfer" ? t("Handoff note (required to transfer)") : t("Note");
}

if (bulkForm) {
  byId("sv-bulk-action").addEventListener("change", () => {
    bulkError("");
    showBulkArgs();
  });
  bulkForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const ids = shown
      .map((row) => row.conversation_id)
      .filter((id) => selected.has(id));
    const action = byId("sv-bulk-action").value;
    const note = byId("sv-bulk-note").value.trim();
    if (!ids.length) {
      bulkError(t("Select at least one item."));
      return;
    }
    if (ids.length > boot.max_bulk) {
      bulkError(t("At most {n} items at once.", { n: boot.max_bulk }));
      return;
    }
    const body = { action, conversation_ids: ids, note };
    if (action === "assign") {
      const agent = byId("sv-bulk-agent").value;
      if (!agent) {
        bulkError(t("Choose an agent."), "agent_id");
        return;
      }
      body.agent_id = Number(agent);
    } else if (action === "transfer") {
      body.to_role = byId("sv-bulk-role").value;
      if (!note) {
        bulkError(t("A handoff note is required to transfer."), "note");
        return;
      }
    } else if (action === "close") {
      body.disposition = byId("sv-bulk-disposition").value;
    }
    bulkError("");
    bulkResult("");
    busy = true;
    renderSelection();
    try {
      const result = await api(BULK_PATH, { method: "POST", body });
      for (const row of result.results) if (row.ok) selected.delete(row.conversation_id);
      byId("sv-bulk-note").value = "";
      bulkResult(
        t("{done} done, {failed} failed.", { done: result.done, failed: result.failed }),
        result.results.filter((row) => !row.ok),
      );
      byId("sv-bulk-result").focus();
    } catch (err) {
      bulkError(err.message, err.field);
    } finally {
      busy = false;
      renderSelection();
    }
    await refresh();
  });
  showBulkArgs();
}

// -- reassign one ------------------------------------------------------------------------------

function createReassignDialog() {
  const dialog = byId("sv-reassign-dialog");
  if (!dialog) return { open() {} };
  const form = byId("sv-reassign-form");
  const select = byId("sv-reassign-agent");
  const note = byId("sv-reassign-note");
  const error = byId("sv-reassign-error");
  const submit = byId("sv-reassign-submit");
  let row = null;
  let returnTo = null;

  for (const button of dialog.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => dialog.close());
  }
  dialog.addEventListener("close", () => {
    if (returnTo && document.contains(returnTo)) returnTo.focus();
    else byId("sv-items-title").focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (select.value === "") {
      error.textContent = t("Choose an agent.");
      select.focus();
      return;
    }
    const target = select.value === QUEUE ? null : Number(select.value);
    error.textContent = "";
    submit.disabled = true;
    try {
      await api(`/api/v1/supervisor/conversations/${Number(row.conversation_id)}/reassign`, {
        method: "POST",
        body: { agent_id: target, note: note.value.trim() },
      });
      const name = row.buyer_nick || `#${row.conversation_id}`;
      bulkResult(
        target === null
          ? t("{name}: back to the queue.", { name })
          : t("{name}: reassigned to {agent}.", { name, agent: agentName(target) }),
      );
      dialog.close();
      await refresh();
    } catch (err) {
      error.textContent = err.message;
      select.focus();
    } finally {
      submit.disabled = false;
    }
  });

  return {
    open(item) {
      row = item;
      returnTo = document.activeElement;
      error.textContent = "";
      note.value = "";
      byId("sv-reassign-item").textContent = `${item.buyer_nick || ""} #${item.conversation_id}`;
      // Agents on shift in the item's role first; a supervisor may pick anyone available.
      const holds = (agent) => (agent.service_roles.includes(item.role) ? 0 : 1);
      const options = [
        { value: "", text: t("Choose an agent") },
        ...(item.status !== "queued" ? [{ value: QUEUE, text: t("Back to the queue") }] : []),
        ...board.agents
          .filter((agent) => agent.agent_id !== item.assigned_agent_id)
          .sort((a, b) => holds(a) - holds(b))
          .map(agentOption),
      ];
      setOptions(select, options);
      select.value = "";
      dialog.showModal();
      select.focus();
    },
  };
}

const reassign = createReassignDialog();

// -- live --------------------------------------------------------------------------------------

const live = new LiveClient({
  path: boot.live_path,
  pollMs: boot.poll_ms,
  onEvent: (type) => {
    if (BOARD_EVENTS.has(type)) refreshSoon();
  },
  onResync: () => refresh(),
  onPoll: () => refresh(),
  onState: showLiveState(byId("sv-live")),
});

render();
window.setInterval(tick, 1000);
window.setInterval(() => refresh(), boot.refresh_ms);
live.start();
document.documentElement.dataset.board = "ready";
