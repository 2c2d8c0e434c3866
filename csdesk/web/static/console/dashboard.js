// The owner dashboard. The numbers and charts come with the page; then the dashboard's own
// websocket (boot.live_path) sends a snapshot of the shop whenever it changed, at most one
// a second, with the charts (server-drawn SVG) when the series moved. While the socket is
// down the page polls GET /api/v1/dashboard (and the charts) every boot.refresh_ms, and
// stops as soon as a snapshot arrives again. Every figure marked data-drill opens the rows
// it counts (GET /api/v1/dashboard/rows/{metric}), with CSV and XLSX exports of them.

import { api } from "./api.js";
import { byId, el, fillNode } from "./dom.js";
import { label, t } from "./i18n.js";
import { formatTime, formatWait, setTimeZone, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
syncClock(boot.server_now);
setTimeZone(boot.timezone);

const yuan = (amount) => `¥${Number(amount).toFixed(2)}`;
const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

function setText(id, value) {
  const node = byId(id);
  if (node && node.textContent !== String(value)) node.textContent = String(value);
}

function drillLink(text, metric, { group = null, flag = null } = {}) {
  const dataset = { drill: metric };
  if (group !== null) dataset.group = String(group);
  if (flag !== null) dataset.flag = String(flag);
  return el("a", { href: "#", class: "db-drill", dataset, text });
}

function renderReasons(reasons) {
  const body = byId("db-reasons");
  if (!reasons.length) {
    fillNode(body, el("tr", {}, el("td", { colspan: "3", class: "muted", text: body.dataset.empty })));
    return;
  }
  fillNode(
    body,
    reasons.map((r) =>
      el(
        "tr",
        { dataset: { reason: r.reason } },
        el("th", { scope: "row", text: r.reason }),
        el("td", { class: "num" }, drillLink(r.pending, "refunds.by_reason", { group: r.reason })),
        el("td", { class: "num", text: yuan(r.pending_amount) }),
      ),
    ),
  );
}

function renderChasers(chasers) {
  const body = byId("db-chasers");
  if (!chasers.length) {
    fillNode(body, el("tr", {}, el("td", { colspan: "4", class: "muted", text: body.dataset.empty })));
    return;
  }
  fillNode(
    body,
    chasers.map((c) =>
      el(
        "tr",
        { dataset: { agent: String(c.agent_id) } },
        el("th", { scope: "row", text: c.agent || body.dataset.nobody }),
        el("td", { class: "num" }, drillLink(c.chased, "chasing.per_chaser", { group: c.agent_id })),
        el(
          "td",
          { class: "num" },
          drillLink(c.paid_after_chase, "chasing.per_chaser", { group: c.agent_id, flag: 1 }),
        ),
        el("td", { class: "num", text: yuan(c.recovered_amount) }),
      ),
    ),
  );
}

function render(d) {
  const r = d.refunds;
  setText("db-pending", r.pending);
  setText("db-pending-amount", yuan(r.pending_amount));
  setText("db-due-1h", r.due_within_hour);
  setText("db-due-1h-amount", yuan(r.due_within_hour_amount));
  setText("db-due-4h", r.due_within_4h);
  setText("db-due-4h-amount", yuan(r.due_within_4h_amount));
  setText("db-overdue", r.overdue);
  setText("db-overdue-amount", yuan(r.overdue_amount));
  setText("db-decided", r.decided_today);
  setText("db-decided-amount", yuan(r.decided_today_amount));
  setText("db-intercepts", r.intercepts_requested);
  setText("db-intercepts-ok", r.intercepts_succeeded);
  for (const row of byId("db-kinds").querySelectorAll("tr[data-kind]")) {
    const kind = r.pending_by_kind[row.dataset.kind] || { pending: 0, pending_amount: 0 };
    row.querySelector('[data-cell="pending"]').textContent = String(kind.pending);
    row.querySelector('[data-cell="pending_amount"]').textContent = yuan(kind.pending_amount);
  }
  renderReasons(r.pending_by_reason || []);
  setText("db-chased", d.chasing.chased);
  setText("db-paid", d.chasing.paid_after_chase);
  setText("db-recovered", yuan(d.chasing.recovered_amount));
  renderChasers(d.chasing.per_chaser || []);
  const k = d.kpis;
  setText("db-conversion", percent(k.inquiry_conversion.rate));
  setText("db-converted", k.inquiry_conversion.converted);
  setText("db-askers", k.inquiry_conversion.askers);
  setText(
    "db-first-response",
    k.first_response.mean_s === null ? "—" : formatWait(Math.round(k.first_response.mean_s)),
  );
  setText("db-first-answered", k.first_response.answered);
  setText("db-rate-3m", percent(k.response_rate_3m.rate));
  setText("db-rounds-answered", k.response_rate_3m.answered);
  setText("db-rounds", k.response_rate_3m.rounds);
  const promotion = byId("db-promotion");
  setText("db-promotion", d.promotion ? d.promotion.label : promotion.dataset.none);
  promotion.dataset.live = d.promotion ? d.promotion.name : "";
  setText(
    "db-promotion-until",
    d.promotion ? (d.promotion.until ? t("until {time}", { time: formatTime(d.promotion.until) }) : t("until switched off")) : "",
  );
  for (const row of byId("db-roles-body").querySelectorAll("tr[data-role]")) {
    const figures = d.roles[row.dataset.role];
    if (!figures) continue;
    const cell = (name) => row.querySelector(`[data-cell="${name}"]`);
    cell("queued").textContent = String(figures.queued);
    cell("oldest_wait_s").textContent = formatWait(Math.round(figures.oldest_wait_s));
    cell("sla_breaches").textContent = String(figures.sla_breaches);
    cell("arrivals_60m").textContent = String(figures.arrivals_60m);
    cell("aht_s").textContent = formatWait(Math.round(figures.aht_s));
    const onShift = cell("agents_on_shift");
    onShift.textContent = String(figures.agents_on_shift);
    onShift.classList.toggle("is-alert", figures.short);
    onShift.title = figures.short
      ? t("Short by {n}", { n: figures.agents_needed - figures.agents_on_shift })
      : "";
    cell("agents_needed").textContent = String(figures.agents_needed);
  }
  document.dispatchEvent(new CustomEvent("dashboard:data", { detail: d }));
  const updated = byId("db-updated");
  updated.dateTime = d.generated_at;
  updated.textContent = formatTime(d.generated_at);
}

// The charts are SVG drawn by this server (labels escaped there), parsed as SVG, never as
// HTML, and only ever from our own origin.
function drawCharts(charts) {
  const parser = new DOMParser();
  for (const [key, svg] of Object.entries(charts)) {
    const box = byId(`db-chart-${key}`);
    if (!box) continue;
    const doc = parser.parseFromString(svg, "image/svg+xml");
    if (doc.querySelector("parsererror")) continue;
    box.replaceChildren(document.importNode(doc.documentElement, true));
  }
}

// ---- live, with polling while the socket is down -----------------------------------------

let socket = null;
let pollTimer = null;
let retryMs = 1000;

async function poll() {
  try {
    const [d, charts] = await Promise.all([api(boot.api), api(boot.charts_path)]);
    syncClock(d.generated_at);
    render(d);
    drawCharts(charts);
    setText("db-error", "");
  } catch (error) {
    setText("db-error", error.message);
  } finally {
    if (pollTimer !== null) pollTimer = window.setTimeout(poll, boot.refresh_ms);
  }
}

function startPolling() {
  if (pollTimer === null) pollTimer = window.setTimeout(poll, boot.refresh_ms);
  document.documentElement.dataset.dashboardLive = "polling";
}

function stopPolling() {
  if (pollTimer !== null) window.clearTimeout(pollTimer);
  pollTimer = null;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${boot.live_path}`);
  socket.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.op !== "snapshot") return;
    stopPolling();
    retryMs = 1000;
    syncClock(frame.dashboard.generated_at);
    render(frame.dashboard);
    if (frame.charts) drawCharts(frame.charts);
    setText("db-error", "");
    document.documentElement.dataset.dashboardLive = "live";
  };
  socket.onclose = () => {
    socket = null;
    startPolling();
    const delay = retryMs * (0.8 + Math.random() * 0.4);
    retryMs = Math.min(retryMs * 2, 30_000);
    window.setTimeout(connect, delay);
  };
}

// ---- drill-down -------------------------------------------------------------------------

const dialog = byId("db-drill-dialog");

function rowsUrl(metric, group, flag, format) {
  const params = new URLSearchParams();
  if (group !== undefined && group !== "") params.set("group", group);
  if (flag !== undefined && flag !== "") params.set("flag", flag);
  if (format) params.set("format", format);
  const query = params.toString();
  return `${boot.rows_path.replace("{metric}", encodeURIComponent(metric))}${query ? `?${query}` : ""}`;
}

function cellText(column, value) {
  if (value === null || value === undefined) return "";
  if (column.endsWith("_fen")) return yuan(value);
  if (column.endsWith("_at")) return formatTime(value);
  if (column === "role") return label("role", value);
  if (column === "kind") return label("refund_kind", value) !== String(value) ? label("refund_kind", value) : label("kind", value);
  if (column === "status") return label("refund_status", value) !== String(value) ? label("refund_status", value) : label("conversation_status", value);
  if (column === "order_status") return label("order_status", value);
  if (typeof value === "number" && column.endsWith("_s")) return value.toFixed(1);
  return String(value);
}

async function openDrill(link) {
  const { drill: metric, group, flag } = link.dataset;
  const title = flag === "1" && boot.flag_titles[metric] ? boot.flag_titles[metric] : boot.titles[metric] || metric;
  setText("db-drill-title", group ? `${title} · ${label("role", group) || group}` : title);
  byId("db-drill-csv").href = rowsUrl(metric, group, flag, "csv");
  byId("db-drill-xlsx").href = rowsUrl(metric, group, flag, "xlsx");
  const table = byId("db-drill-table");
  fillNode(table.tBodies[0]);
  setText("db-drill-count", "…");
  if (!dialog.open) dialog.showModal();
  try {
    const data = await api(rowsUrl(metric, group, flag));
    const columns = data.columns.filter((c) => c !== "id");
    fillNode(
      table.tHead,
      el("tr", {}, columns.map((c) => el("th", { scope: "col", text: boot.columns[c] || c }))),
    );
    fillNode(
      table.tBodies[0],
      data.rows.map((row) =>
        el("tr", { dataset: { id: String(row.id) } }, columns.map((c) => el("td", { text: cellText(c, row[c]) }))),
      ),
    );
    setText("db-drill-count", t("{n} rows", { n: data.count }));
    const note = byId("db-drill-note");
    note.textContent = data.truncated ? note.dataset.truncated : "";
    dialog.dataset.metric = metric;
    dialog.dataset.ready = "1";
  } catch (error) {
    setText("db-drill-count", error.message);
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a.db-drill");
  if (!link) return;
  event.preventDefault();
  delete dialog.dataset.ready;
  openDrill(link);
});
byId("db-drill-close").addEventListener("click", () => dialog.close());

render(boot.dashboard);
document.documentElement.dataset.dashboard = "ready";
connect();
