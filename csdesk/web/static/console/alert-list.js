// Alerts (告警): the list of alerts raised with each robot delivery's outcome, and the
// shop's alert settings with "send a test". The list comes with the page, then follows the
// live events (alert.raised, alert.delivery) and re-reads GET /api/v1/alerts every few
// seconds (a retry comes due without any event). The settings form sends what was typed:
// the server refuses a bad field by name, and the field named is marked here.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { LiveClient } from "./live.js";
import { formatTime, setTimeZone, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
syncClock(boot.server_now);
setTimeZone(boot.timezone);
const editable = boot.can_configure;
const form = byId("al-form");
const error = byId("al-error");
const result = byId("al-result");
const failedOnly = byId("al-failed-only");

const KINDS = {
  queue: t("Queue over its threshold"),
  refund_due: t("Refunds about to auto-approve"),
  agent_silent: t("Agent silent too long"),
  staffing: t("Staffing shortfall"),
  test: t("Test"),
};
const STATUSES = {
  pending: t("Retrying"),
  sent: t("Delivered"),
  failed: t("Failed"),
  rate_limited: t("Rate-limited, not sent"),
};
const CHANNELS = { dingtalk: t("DingTalk"), wecom: t("WeCom") };
const THRESHOLDS = [
  { key: "queue_depth", label: t("A queue longer than"), unit: 1, suffix: t("items") },
  { key: "queue_wait_s", label: t("A queue's oldest item waiting over"), unit: 60, suffix: t("minutes") },
  { key: "refund_due_count", label: t("Refunds auto-approving within the hour, at least"), unit: 1, suffix: t("refunds") },
  { key: "agent_silent_s", label: t("A buyer waiting on an agent's reply over"), unit: 60, suffix: t("minutes") },
  { key: "staffing_short", label: t("Agents short of the need (Erlang C), at least"), unit: 1, suffix: t("agents") },
];

let list = boot.list;

// -- the list ----------------------------------------------------------------------------

function deliveryLine(d) {
  const parts = [
    el("span", { text: `${CHANNELS[d.channel] || d.channel}: ` }),
    el("span", { class: "al-status", dataset: { status: d.status }, text: STATUSES[d.status] || d.status }),
    el("span", { class: "muted", text: ` · ${t("attempts {n}", { n: d.attempts })}` }),
  ];
  if (d.status === "pending" && d.next_attempt_at && d.attempts > 0) {
    parts.push(el("span", { class: "muted", text: ` · ${t("next try {time}", { time: formatTime(d.next_attempt_at) })}` }));
  }
  if (d.sent_at) parts.push(el("span", { class: "muted", text: ` · ${formatTime(d.sent_at)}` }));
  const item = el("li", { class: "al-delivery", dataset: { channel: d.channel, status: d.status } }, parts);
  if (d.last_error) item.append(el("div", { class: "al-error", text: d.last_error }));
  return item;
}

function row(alert) {
  const deliveries = alert.deliveries.length
    ? el("ul", { class: "al-deliveries" }, alert.deliveries.map(deliveryLine))
    : el("span", { class: "muted small", text: t("Console only: no robot set") });
  return el(
    "tr",
    { dataset: { alertId: alert.id, kind: alert.kind } },
    el("td", { class: "al-when" }, el("time", { datetime: alert.raised_at, text: formatTime(alert.raised_at) })),
    el(
      "td",
      {},
      el("div", {},
        el("span", { class: `al-sev${alert.severity === "critical" ? " is-critical" : ""}`, text: KINDS[alert.kind] || alert.kind }),
        el("span", { class: "al-title", text: alert.title }),
      ),
      el("div", { class: "small", text: alert.text }),
    ),
    el("td", {}, deliveries),
  );
}

function renderList() {
  const rows = list.alerts.map(row);
  fillNode(byId("al-rows"), rows);
  setHidden(byId("al-empty"), rows.length > 0);
  const c = list.deliveries || {};
  byId("al-summary").textContent = t(
    "Robot messages in the last 24 h: {sent} delivered, {pending} being retried, {failed} failed, {limited} rate-limited",
    { sent: c.sent || 0, pending: c.pending || 0, failed: c.failed || 0, limited: c.rate_limited || 0 },
  );
}

let reading = false;
async function refresh() {
  if (reading) return;
  reading = true;
  try {
    const query = failedOnly.checked ? "?failed=1" : "";
    list = await api(`${boot.api.list}${query}`);
    renderList();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  } finally {
    reading = false;
  }
}

failedOnly.addEventListener("change", refresh);

// -- the settings ------------------------------------------------------------------------

function thresholdRow(spec, value, path) {
  const id = `al-th-${path.join("-")}`;
  const input = el("input", {
    id,
    type: "text",
    inputmode: "numeric",
    dataset: { field: `thresholds.${path.join(".")}`, unit: String(spec.unit) },
    disabled: !editable,
  });
  input.value = value === undefined || value === null ? "" : String(value / spec.unit);
  return [
    el("label", { for: id, text: spec.label }),
    el("span", { class: "sc-value" }, input, ` ${spec.suffix}`),
    el("span", { class: "muted small", text: t("default {value}", { value: boot.config.defaults[spec.key] / spec.unit }) }),
  ];
}

function fillForm(config) {
  byId("al-enabled").checked = config.enabled;
  byId("al-dingtalk-url").value = config.dingtalk_url || "";
  byId("al-wecom-url").value = config.wecom_url || "";
  const secret = byId("al-dingtalk-secret");
  secret.value = "";
  secret.placeholder = config.dingtalk_secret_set ? t("Set (leave empty to keep)") : "SEC…";
  byId("al-secret-hint").textContent = config.dingtalk_secret_set
    ? t("Saved; never shown again. Type a new one to replace it.")
    : t("Copy it from the robot's security settings (加签).");
  byId("al-dedupe").value = String(config.dedupe_window_s / 60);
  byId("al-rate").value = String(config.max_per_hour);
  fillNode(byId("al-thresholds"), THRESHOLDS.flatMap((spec) => thresholdRow(spec, config.thresholds[spec.key], [spec.key])));
  const byRole = config.thresholds.queue_depth_by_role || {};
  fillNode(
    byId("al-by-role"),
    boot.roles.flatMap((role) =>
      thresholdRow(
        { ...THRESHOLDS[0], label: t("{role} queue longer than", { role: label("role", role) }) },
        byRole[role],
        ["queue_depth_by_role", role],
      ),
    ),
  );
  for (const input of form.querySelectorAll("input")) input.disabled = !editable;
}

/** A typed number in the field's unit, as stored; not a number: sent as typed. */
function numberOf(input) {
  const raw = input.value.trim();
  if (raw === "") return undefined;
  const number = Number(raw);
  if (!Number.isFinite(number)) return raw;
  return Math.round(number * Number(input.dataset.unit || 1));
}

function settingsOf() {
  const body = {
    enabled: byId("al-enabled").checked,
    dingtalk_url: byId("al-dingtalk-url").value.trim() || null,
    wecom_url: byId("al-wecom-url").value.trim() || null,
    thresholds: {},
  };
  const secret = byId("al-dingtalk-secret").value;
  if (secret !== "") body.dingtalk_secret = secret;
  for (const input of byId("al-thresholds").querySelectorAll("input")) {
    const value = numberOf(input);
    if (value !== undefined) body.thresholds[input.dataset.field.split(".")[1]] = value;
  }
  const byRole = {};
  for (const input of byId("al-by-role").querySelectorAll("input")) {
    const value = numberOf(input);
    if (value !== undefined) byRole[input.dataset.field.split(".")[2]] = value;
  }
  if (Object.keys(byRole).length) body.thresholds.queue_depth_by_role = byRole;
  for (const id of ["al-dedupe", "al-rate"]) {
    const input = byId(id);
    const value = numberOf(input);
    if (value !== undefined) body[input.dataset.field] = value;
  }
  return body;
}

function clearErrors() {
  error.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

function showError(err) {
  error.textContent = err.message;
  if (err.field) {
    const input = form.querySelector(`[data-field="${CSS.escape(err.field)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }
}

function done(message) {
  result.textContent = message;
  setHidden(result, false);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  setHidden(result, true);
  try {
    const saved = await api(boot.api.config, { method: "PUT", body: settingsOf() });
    boot.config = { ...saved, defaults: boot.config.defaults };
    fillForm(boot.config);
    done(t("Alert settings saved."));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    showError(err);
  }
});

byId("al-test").addEventListener("click", async () => {
  clearErrors();
  setHidden(result, true);
  try {
    const alert = await api(boot.api.test, { method: "POST", body: {} });
    done(t("Test alert sent to {n} robot(s); the outcome shows in the list.", { n: alert.deliveries.length }));
    await refresh();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    showError(err);
  }
});

// -- start -------------------------------------------------------------------------------

setHidden(byId("al-readonly"), editable);
setHidden(byId("al-edit"), !editable);
fillForm(boot.config);
renderList();
document.documentElement.dataset.alerts = "ready";

new LiveClient({
  path: boot.live_path,
  pollMs: boot.refresh_ms,
  onEvent: (type) => {
    if (type === "alert.raised" || type === "alert.delivery") refresh();
  },
  onResync: () => refresh(),
  onPoll: () => refresh(),
  onState: () => {},
}).start();
window.setInterval(refresh, boot.refresh_ms);
