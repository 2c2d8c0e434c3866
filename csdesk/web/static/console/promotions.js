// Promotion mode (大促模式). The boot data is GET /api/v1/promotions: the live profile and
// until when, the profiles with what each changes, the schedule. Owners and admins switch a
// profile on or off now and schedule one (start and end typed in shop time, sent as they
// are: the server reads them in the shop's zone and names a bad field). The page re-reads
// itself on promotion.changed (a schedule switching it) and every 30 s.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { LiveClient } from "./live.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const editable = boot.can_edit;
const error = byId("pr-error");
const result = byId("pr-result");
let view = boot;

const STATUS = {
  scheduled: t("Upcoming"),
  live: t("Running"),
  ended: t("Ended"),
  cancelled: t("Cancelled"),
  missed: t("Missed (the desk was not running)"),
};

/** "2026-11-11T02:00" (shop time) → "2026-11-11 02:00". */
const local = (value) => (value ? value.replace("T", " ") : "");

function inShopTime(iso) {
  const parts = new Intl.DateTimeFormat("sv-SE", {
    timeZone: view.timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(iso));
  return parts.replace(",", "");
}

function changes(p) {
  const items = [];
  const points = Object.entries(p.role_points).filter(([, v]) => v);
  if (points.length) {
    items.push(
      t("Score: {list}", {
        list: points.map(([role, v]) => `${label("role", role)} +${v}`).join("，"),
      }),
    );
  }
  if (p.chat_capacity_extra) items.push(t("Every agent takes {n} more chats", { n: p.chat_capacity_extra }));
  const sla = Object.entries(p.first_response_s);
  if (sla.length) {
    items.push(
      t("First reply within: {list}", {
        list: sla.map(([role, s]) => `${label("role", role)} ${s}s`).join("，"),
      }),
    );
  }
  if (p.refund_reviewers_process) items.push(t("Refund reviewers also process refunds"));
  if (p.howto_to_everyone) items.push(t("Everyone on shift takes simple after-sales questions"));
  if (p.chase_quiet_hours) {
    items.push(t("No payment reminders {from}–{until}", { from: p.chase_quiet_hours[0], until: p.chase_quiet_hours[1] }));
  }
  return items.length ? items : [t("Nothing changes")];
}

function renderLive() {
  const live = view.live;
  const node = byId("pr-live");
  if (live) {
    const until = live.until
      ? t("until {time}", { time: inShopTime(live.until) })
      : t("until switched off");
    fillNode(node, el("strong", { text: live.label }), ` ${until}`);
    node.dataset.live = live.name;
    fillNode(byId("pr-live-changes"), changes(live).map((text) => el("li", { text })));
  } else {
    fillNode(node, t("No promotion running"));
    delete node.dataset.live;
    fillNode(byId("pr-live-changes"));
  }
  setHidden(byId("pr-stop"), !live);
}

function scheduleRow(s) {
  const cell = el("td");
  if (editable && (s.status === "scheduled" || s.status === "live")) {
    const cancel = el("button", { type: "button", class: "btn", text: s.status === "live" ? t("End now") : t("Cancel") });
    cancel.addEventListener("click", () => act(`${boot.api.schedules}/${s.id}/cancel`, {}, t("Schedule cancelled.")));
    cell.append(cancel);
  }
  return el(
    "tr",
    { dataset: { scheduleId: s.id, status: s.status } },
    el("td", { text: s.label }),
    el("td", { text: local(s.starts_local) }),
    el("td", { text: local(s.ends_local) }),
    el("td", {}, el("span", { class: "pr-status", dataset: { status: s.status }, text: STATUS[s.status] || s.status })),
    el("td", { text: s.created_by || "" }),
    cell,
  );
}

function render() {
  byId("pr-zone").textContent = `(${view.timezone})`;
  renderLive();
  const rows = view.schedules.map(scheduleRow);
  fillNode(byId("pr-rows"), rows);
  setHidden(byId("pr-empty"), rows.length > 0);
  fillNode(
    byId("pr-profiles"),
    view.profiles.map((p) =>
      el("tr", {}, el("th", { scope: "row", text: p.label }), el("td", {}, el("ul", { class: "pr-changes" }, changes(p).map((text) => el("li", { text }))))),
    ),
  );
}

function fillProfiles(select) {
  fillNode(select, view.profiles.map((p) => el("option", { value: p.name, text: p.label })));
}

async function refresh() {
  try {
    const next = await api(boot.api.view);
    view = { ...next };
    render();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  }
}

function clearErrors() {
  error.textContent = "";
  for (const node of document.querySelectorAll("#promotions [aria-invalid]")) node.removeAttribute("aria-invalid");
  setHidden(result, true);
}

function showError(err, scope) {
  error.textContent = err.message;
  if (err.field) {
    const input = scope.querySelector(`[data-field="${CSS.escape(err.field)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }
}

async function act(path, body, message, { method = "POST", scope = document } = {}) {
  clearErrors();
  try {
    await api(path, { method, body });
    result.textContent = message;
    setHidden(result, false);
    await refresh();
    return true;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    showError(err, scope);
    return false;
  }
}

byId("pr-schedule").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {
    profile: byId("pr-profile").value,
    starts_at: byId("pr-starts").value,
    ends_at: byId("pr-ends").value,
  };
  const note = byId("pr-note").value.trim();
  if (note) body.note = note;
  const ok = await act(boot.api.schedules, body, t("Promotion scheduled."), { scope: byId("pr-schedule") });
  if (ok) byId("pr-note").value = "";
});

byId("pr-switch").addEventListener("submit", (event) => {
  event.preventDefault();
  act(
    boot.api.live,
    { profile: byId("pr-switch-profile").value, reason: byId("pr-switch-reason").value },
    t("Promotion switched on."),
    { method: "PUT", scope: byId("pr-switch") },
  );
});

byId("pr-stop").addEventListener("click", () => {
  act(boot.api.live, { profile: null, reason: byId("pr-switch-reason").value }, t("Promotion switched off."), {
    method: "PUT",
    scope: byId("pr-switch"),
  });
});

setHidden(byId("pr-readonly"), editable);
setHidden(byId("pr-schedule"), !editable);
setHidden(byId("pr-switch"), !editable);
fillProfiles(byId("pr-profile"));
fillProfiles(byId("pr-switch-profile"));
render();
document.documentElement.dataset.promotions = "ready";

new LiveClient({
  path: boot.live_path,
  pollMs: 30000,
  onEvent: (type) => {
    if (type === "promotion.changed") refresh();
  },
  onResync: () => refresh(),
  onPoll: () => refresh(),
  onState: () => {},
}).start();
window.setInterval(refresh, 30000);
