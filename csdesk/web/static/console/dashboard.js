// The owner dashboard: the numbers come with the page, then from GET /api/v1/dashboard
// every few seconds (boot.refresh_ms); each figure is written as text, and a role's
// "agents on shift" turns red while fewer are on shift than needed.

import { api } from "./api.js";
import { byId } from "./dom.js";
import { t } from "./i18n.js";
import { formatTime, formatWait, setTimeZone, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
syncClock(boot.server_now);
setTimeZone(boot.timezone);

const yuan = (amount) => `¥${Number(amount).toFixed(2)}`;

function setText(id, value) {
  const node = byId(id);
  if (node && node.textContent !== String(value)) node.textContent = String(value);
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
  setText("db-chased", d.chasing.chased);
  setText("db-paid", d.chasing.paid_after_chase);
  setText("db-recovered", yuan(d.chasing.recovered_amount));
  const promotion = byId("db-promotion");
  setText("db-promotion", d.promotion ? d.promotion.name : promotion.dataset.none);
  for (const row of byId("db-roles-body").querySelectorAll("tr[data-role]")) {
    const figures = d.roles[row.dataset.role];
    if (!figures) continue;
    const cell = (name) => row.querySelector(`[data-cell="${name}"]`);
    cell("queued").textContent = String(figures.queued);
    cell("oldest_wait_s").textContent = formatWait(Math.round(figures.oldest_wait_s));
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

async function refresh() {
  try {
    const d = await api(boot.api);
    syncClock(d.generated_at);
    render(d);
    setText("db-error", "");
  } catch (error) {
    setText("db-error", error.message);
  } finally {
    window.setTimeout(refresh, boot.refresh_ms);
  }
}

render(boot.dashboard);
document.documentElement.dataset.dashboard = "ready";
window.setTimeout(refresh, boot.refresh_ms);
