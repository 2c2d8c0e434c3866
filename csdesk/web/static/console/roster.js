// The roster (排班): one shop-local day's shifts, edited as rows (agent, role, duty, start,
// end) and saved as the whole day (PUT /api/v1/roster/days/{day}); and role swaps from
// now (POST /api/v1/supervisor/agents/{id}/roles), e.g. refund review ↔ processing during
// a promotion. Errors name the row and field they concern; warnings (a day without a
// refund reviewer) are shown after saving.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, locale, t } from "./i18n.js";
import { syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const zone = boot.timezone || "Asia/Shanghai";
const agents = boot.agents; // [{id, display_name, username, service_roles, status}]
const FIELDS = {
  user_id: "agent",
  service_role: "role",
  duty: "duty",
  starts_at: "start",
  ends_at: "end",
};

syncClock(boot.server_now);

let week = null; // GET /api/v1/roster answer
let day = boot.today;
let rows = []; // the day being edited: [{user_id, service_role, duty, start, end}]
let dirty = false;
let busy = false;

const body = byId("ro-shifts-body");
const dateInput = byId("ro-date");
const errorBox = byId("ro-error");
const resultBox = byId("ro-result");

// -- dates and shop time -----------------------------------------------------------------------

function pad(n) {
  return String(n).padStart(2, "0");
}

function addDays(iso, n) {
  const [y, m, d] = iso.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d + n));
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** Minutes the shop's zone is ahead of UTC at the instant ``ms``. */
function offsetMinutes(ms) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
    .formatToParts(new Date(ms))
    .find((part) => part.type === "timeZoneName")?.value;
  const match = /GMT([+-])(\d{1,2}):?(\d{2})?/.exec(name || "");
  if (!match) return 0;
  return (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] || 0));
}

/** "2026-11-23" + "09:00" in shop time as ISO 8601 with the zone's offset that day. */
function shopIso(isoDay, hhmm) {
  const [y, m, d] = isoDay.split("-").map(Number);
  const [h, mi] = hhmm.split(":").map(Number);
  const guess = Date.UTC(y, m - 1, d, h, mi);
  const offset = offsetMinutes(guess - offsetMinutes(guess) * 60000);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${isoDay}T${pad(h)}:${pad(mi)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function dayLabel(isoDay, options) {
  const [y, m, d] = isoDay.split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC", ...options }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

const endsNextDay = (row) => Boolean(row.start && row.end && row.end <= row.start);

// -- the week and the day ----------------------------------------------------------------------

function shiftsOf(isoDay) {
  return week?.days.find((entry) => entry.day === isoDay)?.shifts || [];
}

function rowsFromWeek() {
  rows = shiftsOf(day).map((shift) => ({
    user_id: shift.user_id,
    service_role: shift.service_role,
    duty: shift.duty || "",
    start: shift.local_start,
    end: shift.local_end,
  }));
  setDirty(false);
}

async function loadWeek(isoDay) {
  week = await api(`/api/v1/roster?week_of=${encodeURIComponent(isoDay)}`);
}

function setDirty(value) {
  dirty = value;
  byId("ro-dirty").textContent = dirty ? t("Unsaved changes") : "";
  setHidden(byId("ro-discard"), !dirty);
}

async function selectDay(isoDay, { focus = false } = {}) {
  if (dirty && isoDay !== day && !window.confirm(t("Discard the unsaved changes of this day?"))) {
    dateInput.value = day;
    return;
  }
  errorBox.textContent = "";
  try {
    if (!week || !week.days.some((entry) => entry.day === isoDay)) await loadWeek(isoDay);
    day = isoDay;
    rowsFromWeek();
    renderDay();
    if (focus) byId("ro-day-title").focus();
  } catch (err) {
    errorBox.textContent = err.message;
  }
}

function renderWeek() {
  fillNode(
    byId("ro-days"),
    (week?.days || []).map((entry) =>
      el(
        "button",
        {
          type: "button",
          class: "ro-day",
          "aria-pressed": String(entry.day === day),
          dataset: { day: entry.day },
          onclick: () => selectDay(entry.day, { focus: true }),
        },
        dayLabel(entry.day, { weekday: "short", month: "numeric", day: "numeric" }),
        " ",
        el("span", { class: "count", text: `(${entry.shifts.length})` }),
      ),
    ),
  );
}

function select(options, value, aria) {
  const node = el(
    "select",
    { "aria-label": aria },
    options.map((option) => el("option", { value: option.value, text: option.text })),
  );
  node.value = value;
  return node;
}

function shiftRow(row, index) {
  const n = index + 1;
  const duties = boot.duties[row.service_role] || [];
  const agent = select(
    [
      ...(row.user_id ? [] : [{ value: "", text: t("Choose an agent") }]),
      ...agents.map((a) => ({ value: String(a.id), text: a.display_name || a.username })),
    ],
    row.user_id ? String(row.user_id) : "",
    t("Shift {n}: agent", { n }),
  );
  const role = select(
    boot.roles.map((key) => ({ value: key, text: label("role", key) })),
    row.service_role,
    t("Shift {n}: role", { n }),
  );
  const duty = select(
    [{ value: "", text: "—" }, ...duties.map((key) => ({ value: key, text: label("duty", key) }))],
    row.duty,
    t("Shift {n}: duty", { n }),
  );
  duty.disabled = duties.length === 0;
  const start = el("input", {
    type: "time",
    value: row.start,
    required: true,
    "aria-label": t("Shift {n}: starts", { n }),
  });
  const end = el("input", {
    type: "time",
    value: row.end,
    required: true,
    "aria-label": t("Shift {n}: ends", { n }),
  });
  const nextDay = el("span", { class: "ro-next-day", text: t("(next day)") });
  setHidden(nextDay, !endsNextDay(row));
  const changed = () => {
    setDirty(true);
    errorBox.textContent = "";
  };
  agent.addEventListener("change", () => {
    row.user_id = Number(agent.value) || null;
    changed();
  });
  role.addEventListener("change", () => {
    row.service_role = role.value;
    if (!(boot.duties[row.service_role] || []).includes(row.duty)) row.duty = "";
    changed();
    renderDay({ keep: `role-${index}` });
  });
  duty.addEventListener("change", () => {
    row.duty = duty.value;
    changed();
  });
  for (const [input, key] of [
    [start, "start"],
    [end, "end"],
  ]) {
    input.addEventListener("change", () => {
      row[key] = input.value;
      setHidden(nextDay, !endsNextDay(row));
      changed();
    });
  }
  const remove = el("button", {
    type: "button",
    class: "btn btn-quiet",
    text: t("Remove"),
    "aria-label": t("Remove shift {n}", { n }),
    onclick: () => {
      rows.splice(index, 1);
      changed();
      renderDay();
      (byId("ro-shifts-body").querySelector("select") || byId("ro-add")).focus();
    },
  });
  const keyed = { agent, role, duty, start, end };
  for (const [name, node] of Object.entries(keyed)) node.dataset.key = `${name}-${index}`;
  return el(
    "tr",
    { class: "ro-shift", dataset: { index: String(index) } },
    el("td", {}, agent),
    el("td", {}, role),
    el("td", {}, duty),
    el("td", {}, start),
    el("td", {}, end, nextDay),
    el("td", {}, remove),
  );
}

function renderDay({ keep } = {}) {
  renderWeek();
  dateInput.value = day;
  byId("ro-day-title").textContent = t("Shifts on {day}", {
    day: dayLabel(day, { year: "numeric", month: "long", day: "numeric", weekday: "long" }),
  });
  fillNode(body, rows.map(shiftRow));
  setHidden(byId("ro-empty"), rows.length > 0);
  byId("ro-save").disabled = busy;
  if (keep) body.querySelector(`[data-key="${keep}"]`)?.focus();
}

function announce(box, text, warnings = []) {
  fillNode(
    box,
    text ? el("p", { text }) : null,
    warnings.length
      ? el(
          "ul",
          { class: "ro-warnings", "aria-label": t("Warnings") },
          warnings.map((warning) => el("li", { text: warning })),
        )
      : null,
  );
  setHidden(box, !text);
}

function clearInvalid() {
  for (const node of body.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

/** Point at the field the server named (``shifts[2].ends_at``). */
function markField(field) {
  const match = /^shifts\[(\d+)\]\.(\w+)$/.exec(field || "");
  if (!match) return;
  const node = body.querySelector(`[data-key="${FIELDS[match[2]] || "agent"}-${match[1]}"]`);
  if (!node) return;
  node.setAttribute("aria-invalid", "true");
  node.focus();
}

async function save() {
  if (busy) return;
  clearInvalid();
  errorBox.textContent = "";
  announce(resultBox, "");
  for (const [index, row] of rows.entries()) {
    const missing = !row.user_id ? "user_id" : !row.start ? "starts_at" : !row.end ? "ends_at" : "";
    if (missing) {
      errorBox.textContent = t("Shift {n}: fill in the agent and both times.", { n: index + 1 });
      markField(`shifts[${index}].${missing}`);
      return;
    }
  }
  const shifts = rows.map((row) => ({
    user_id: row.user_id,
    service_role: row.service_role,
    duty: row.duty || null,
    starts_at: shopIso(day, row.start),
    ends_at: shopIso(endsNextDay(row) ? addDays(day, 1) : day, row.end),
  }));
  busy = true;
  byId("ro-save").disabled = true;
  try {
    const saved = await api(`/api/v1/roster/days/${encodeURIComponent(day)}`, {
      method: "PUT",
      body: { shifts },
    });
    await loadWeek(day);
    rowsFromWeek();
    busy = false;
    renderDay();
    announce(
      resultBox,
      t("Saved: {n} shifts on this day.", { n: saved.shift_ids.length }),
      saved.warnings,
    );
    resultBox.focus();
    await loadNow();
  } catch (err) {
    busy = false;
    byId("ro-save").disabled = false;
    errorBox.textContent = err.message;
    markField(err.field);
  }
}

byId("ro-add").addEventListener("click", () => {
  const last = rows[rows.length - 1];
  rows.push({
    user_id: null,
    service_role: last?.service_role || boot.roles[0],
    duty: "",
    start: last?.start || "09:00",
    end: last?.end || "18:00",
  });
  setDirty(true);
  renderDay({ keep: `agent-${rows.length - 1}` });
});
byId("ro-save").addEventListener("click", save);
byId("ro-discard").addEventListener("click", () => {
  rowsFromWeek();
  renderDay();
  byId("ro-day-title").focus();
});
byId("ro-prev-week").addEventListener("click", () => selectDay(addDays(day, -7), { focus: true }));
byId("ro-next-week").addEventListener("click", () => selectDay(addDays(day, 7), { focus: true }));
byId("ro-today").addEventListener("click", () => selectDay(boot.today, { focus: true }));
dateInput.addEventListener("change", () => {
  if (dateInput.value) selectDay(dateInput.value);
});
window.addEventListener("beforeunload", (event) => {
  if (dirty) event.preventDefault();
});

// -- on shift now: role swaps ------------------------------------------------------------------

let now = []; // the board's agent rows: status, service_roles, duties on shift now
const nowError = byId("ro-now-error");

function rolesText(agent) {
  return (
    agent.service_roles
      .map((role) => {
        const duties = (agent.duties[role] || []).map((duty) => label("duty", duty));
        return duties.length ? `${label("role", role)}（${duties.join("、")}）` : label("role", role);
      })
      .join(t(", ")) || "—"
  );
}

function renderNow() {
  fillNode(
    byId("ro-now-body"),
    now.map((agent) =>
      el(
        "tr",
        { dataset: { agent: String(agent.agent_id) } },
        el("th", { scope: "row", text: agent.display_name || agent.username }),
        el("td", {}, label("status", agent.status)),
        el("td", { class: "ro-now-roles", text: rolesText(agent) }),
        el(
          "td",
          {},
          boot.can_swap
            ? el("button", {
                type: "button",
                class: "btn btn-quiet",
                text: t("Swap roles"),
                "aria-label": t("Swap roles of {name}", {
                  name: agent.display_name || agent.username,
                }),
                dataset: { key: `swap-${agent.agent_id}` },
                onclick: () => swap.open(agent),
              })
            : null,
        ),
      ),
    ),
  );
}

async function loadNow() {
  try {
    const board = await api("/api/v1/supervisor/board");
    now = board.agents;
    nowError.textContent = "";
    const focusKey = document.activeElement?.dataset?.key;
    renderNow();
    if (focusKey) document.querySelector(`[data-key="${focusKey}"]`)?.focus();
  } catch (err) {
    nowError.textContent = err.message;
  }
}

function createSwapDialog() {
  const dialog = byId("ro-swap-dialog");
  if (!dialog) return { open() {} };
  const form = byId("ro-swap-form");
  const reason = byId("ro-swap-reason");
  const error = byId("ro-swap-error");
  const submit = byId("ro-swap-submit");
  const boxes = [...dialog.querySelectorAll(".ro-swap-role")];
  let agent = null;
  let returnTo = null;

  for (const button of dialog.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => dialog.close());
  }
  dialog.addEventListener("close", () => {
    if (returnTo && document.contains(returnTo)) returnTo.focus();
  });
  for (const box of boxes) {
    const duty = byId(`ro-swap-duty-${box.value}`);
    if (duty) {
      box.addEventListener("change", () => {
        duty.disabled = !box.checked;
      });
      duty.addEventListener("change", () => {
        box.checked = true;
      });
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    reason.removeAttribute("aria-invalid");
    const roles = boxes
      .filter((box) => box.checked)
      .map((box) => ({
        service_role: box.value,
        duty: byId(`ro-swap-duty-${box.value}`)?.value || null,
      }));
    if (!roles.length) {
      error.textContent = t("Choose at least one role.");
      boxes[0].focus();
      return;
    }
    if (!reason.value.trim()) {
      error.textContent = t("Please give a reason for the swap.");
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    submit.disabled = true;
    try {
      const result = await api(`/api/v1/supervisor/agents/${Number(agent.agent_id)}/roles`, {
        method: "POST",
        body: { roles, reason: reason.value.trim() },
      });
      const name = agent.display_name || agent.username;
      dialog.close();
      announce(
        byId("ro-swap-result"),
        t("{name} is now on shift as {roles}.", {
          name,
          roles: rolesText({ service_roles: result.service_roles, duties: result.duties }),
        }),
      );
      await loadNow();
      await loadWeek(day);
      if (!dirty) rowsFromWeek();
      renderDay();
    } catch (err) {
      error.textContent = err.message;
      if (err.field === "reason") {
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
      }
    } finally {
      submit.disabled = false;
    }
  });

  return {
    open(row) {
      agent = row;
      returnTo = document.activeElement;
      error.textContent = "";
      reason.value = "";
      reason.removeAttribute("aria-invalid");
      byId("ro-swap-agent").textContent = row.display_name || row.username;
      for (const box of boxes) {
        box.checked = row.service_roles.includes(box.value);
        const duty = byId(`ro-swap-duty-${box.value}`);
        if (duty) {
          duty.value = (row.duties[box.value] || [])[0] || "";
          duty.disabled = !box.checked;
        }
      }
      dialog.showModal();
      boxes[0].focus();
    },
  };
}

const swap = createSwapDialog();

// -- start -------------------------------------------------------------------------------------

async function start() {
  await selectDay(day);
  await loadNow();
  document.documentElement.dataset.roster = "ready";
}

start();
