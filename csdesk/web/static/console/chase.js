// The payment chasing page (催付工作台): my chases with when each buyer may be contacted
// (quiet hours, shop time), the script of the selected chase, outcome recording, and my
// recovered amount. Outcomes are one JSON API call each; the list and the KPI are then
// fetched again and shown in place, without a reload (and every 30 s while the page is open).

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, locale, t } from "./i18n.js";
import { formatMoney, formatTime, nowMs, setTimeZone, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const REFRESH_MS = 30_000;
const agentId = Number(boot.agent.id);
const ofOther = boot.supervising && agentId !== Number(boot.user.id);
const listPath = `/api/v1/chases/mine${ofOther ? `?agent_id=${agentId}` : ""}`;
const kpiPath = `/api/v1/chases/kpi?days=${Number(boot.kpi_days)}`;

let chases = boot.chases;
let kpi = boot.kpi;
let selectedId = null;
let busy = false;

syncClock(boot.server_now);
setTimeZone(boot.timezone);

const rowsBody = byId("ch-rows");
const result = byId("ch-result");
const actionError = byId("ch-error");
const outcomeError = byId("ch-outcome-error");
const script = byId("ch-script");

const shopClock = new Intl.DateTimeFormat("en-GB", {
  timeZone: boot.timezone || "Asia/Shanghai",
  hourCycle: "h23",
  hour: "2-digit",
  minute: "2-digit",
});

function minutesOf(hhmm) {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

/** Is it inside the daily window [start, end) now, in shop time (windows may wrap midnight)? */
function inWindow({ start, end }) {
  const now = minutesOf(shopClock.format(new Date(nowMs())));
  const s = minutesOf(start) % 1440;
  const e = minutesOf(end) % 1440;
  return s <= e ? s <= now && now < e : now >= s || now < e;
}

function renderQuiet() {
  const { chat, phone } = boot.quiet_hours;
  const quiet = inWindow(chat);
  const hours = t("Quiet hours: chat {chat}, phone {phone} (shop time).", {
    chat: `${chat.start}–${chat.end}`,
    phone: `${phone.start}–${phone.end}`,
  });
  const state = quiet
    ? t("It is quiet hours now: do not contact buyers until {end}.", { end: chat.end })
    : t("Buyers may be contacted now.");
  const banner = byId("ch-quiet");
  banner.textContent = `${state} ${hours}`;
  banner.dataset.quiet = String(quiet);
}

function nextAllowed(row) {
  return Date.parse(row.allowed_at) > nowMs() + 1000 ? formatTime(row.allowed_at) : t("Now");
}

function renderKpi() {
  const mine = kpi.chasers.find((entry) => Number(entry.agent_id) === agentId) || {
    recovered_fen: 0,
    paid: 0,
    chases_ended: 0,
    attempts: 0,
  };
  byId("ch-kpi-label").textContent = ofOther
    ? t("Recovered by {name}, last {days} days", {
        name: boot.agent.display_name,
        days: boot.kpi_days,
      })
    : t("My recovered amount, last {days} days", { days: boot.kpi_days });
  byId("ch-recovered").textContent = formatMoney(mine.recovered_fen);
  byId("ch-paid").textContent = t("{paid} of {ended}", {
    paid: mine.paid,
    ended: mine.chases_ended,
  });
  byId("ch-rate").textContent = mine.chases_ended
    ? new Intl.NumberFormat(locale, { style: "percent" }).format(mine.paid / mine.chases_ended)
    : "—";
  byId("ch-attempts").textContent = String(mine.attempts);
  setHidden(byId("ch-total-box"), !boot.supervising);
  byId("ch-total").textContent = formatMoney(kpi.total_recovered_fen);
}

function renderRows() {
  // Rows are rebuilt on every refresh: keep the keyboard focus on the row it was on.
  const focusedId = rowsBody.contains(document.activeElement)
    ? document.activeElement.closest("tr")?.dataset.id
    : null;
  fillNode(
    rowsBody,
    chases.map((row) => {
      const selected = row.id === selectedId;
      const pick = el("button", {
        type: "button",
        class: "ch-pick",
        "aria-pressed": String(selected),
        text: row.buyer?.nick || "—",
        onclick: () => select(row.id, true),
      });
      return el(
        "tr",
        {
          class: selected ? "is-selected" : "",
          dataset: { id: String(row.id), status: row.status },
        },
        el("td", {}, pick),
        el("td", { class: "ch-order-no", text: row.order?.external_id || "—" }),
        el("td", { class: "num", text: row.order ? formatMoney(row.order.amount_fen) : "—" }),
        el("td", { text: row.order ? formatTime(row.order.created_at) : "—" }),
        el("td", { class: "num", text: String(row.attempts) }),
        el("td", { class: "ch-next", text: nextAllowed(row) }),
        el(
          "td",
          {},
          el("span", {
            class: row.quiet_now ? "tag tag-risk" : "tag tag-focus",
            text: row.quiet_now ? t("Quiet now") : t("May contact"),
          }),
        ),
        el("td", { text: label("conversation_status", row.status) }),
      );
    }),
  );
  if (focusedId) rowsBody.querySelector(`tr[data-id="${focusedId}"] .ch-pick`)?.focus();
  byId("ch-count").textContent = String(chases.length);
  setHidden(byId("ch-table"), chases.length === 0);
  setHidden(byId("ch-empty"), chases.length > 0);
}

function selected() {
  return chases.find((row) => row.id === selectedId) || null;
}

function renderDetail() {
  const row = selected();
  setHidden(byId("ch-selected"), !row);
  setHidden(byId("ch-none"), Boolean(row));
  byId("ch-kind").textContent = row ? label("kind", row.kind) : "";
  if (!row) return;
  const phone = row.kind === "phone_chase";
  const order = row.order;
  byId("ch-buyer").textContent = row.buyer?.nick || "—";
  byId("ch-order").textContent = order
    ? [order.external_id, formatMoney(order.amount_fen), label("order_status", order.status)].join(
        " · ",
      )
    : "—";
  byId("ch-items").textContent = order
    ? order.items.map((entry) => `${entry.title} × ${entry.qty}`).join("、")
    : "—";
  setHidden(byId("ch-phone-label"), !phone);
  setHidden(byId("ch-phone"), !phone);
  byId("ch-phone").textContent = order?.receiver_phone || "—";
  byId("ch-script-label").textContent = phone
    ? t("Phone opening (话术)")
    : t("Chat message (催付话术)");
  script.value = (phone ? row.script : row.chat_script) || row.script || "";
  const inHand = row.status === "assigned";
  setHidden(byId("ch-outcome-form"), !inHand);
  setHidden(byId("ch-waiting"), inHand);
  byId("ch-waiting").textContent = inHand
    ? ""
    : t("Waiting for the next attempt ({time}); it comes back to you then.", {
        time: row.next_chase_at ? formatTime(row.next_chase_at) : "—",
      });
  byId("ch-record").disabled = busy;
}

/** The outcomes in two groups: those after which the chase goes on, and those that end it. */
function renderOutcomes() {
  const group = (id, title, keys) =>
    el(
      "div",
      { class: "ch-outcome-group", role: "group", "aria-labelledby": id },
      el("span", { id, class: "ch-outcome-title", text: title }),
      keys.map((key) =>
        el(
          "label",
          { class: "ch-choice" },
          el("input", { type: "radio", name: "outcome", value: key }),
          el("span", { text: label("chase_outcome", key) }),
        ),
      ),
    );
  fillNode(
    byId("ch-outcomes"),
    group("ch-outcomes-keep", t("Keep chasing:"), boot.outcomes.keep),
    group("ch-outcomes-stop", t("End the chase:"), boot.outcomes.stop),
  );
}

function render() {
  renderQuiet();
  renderKpi();
  renderRows();
  renderDetail();
}

function announce(text) {
  result.textContent = text;
  setHidden(result, !text);
}

function select(id, focusDetail = false) {
  if (selectedId !== id) {
    for (const radio of document.querySelectorAll('input[name="outcome"]')) radio.checked = false;
    outcomeError.textContent = "";
  }
  selectedId = id;
  renderRows();
  renderDetail();
  if (focusDetail) {
    const first = document.querySelector('input[name="outcome"]');
    if (selected()?.status === "assigned" && first) first.focus();
    else script.focus();
  }
}

async function refresh() {
  if (busy) return;
  try {
    const [list, totals] = await Promise.all([api(listPath), api(kpiPath)]);
    chases = list.chases;
    kpi = totals;
    actionError.textContent = "";
  } catch (err) {
    actionError.textContent = err.message;
  }
  if (!selected()) selectedId = chases.length ? chases[0].id : null;
  byId("ch-refreshed").textContent = t("Updated {time}", {
    time: formatTime(new Date(nowMs()).toISOString()),
  });
  render();
}

async function record(outcome) {
  const row = selected();
  if (busy || !row) return;
  busy = true;
  actionError.textContent = "";
  outcomeError.textContent = "";
  announce("");
  renderDetail();
  try {
    const answer = await api(`/api/v1/chases/${Number(row.id)}/outcome`, {
      method: "POST",
      body: { outcome },
    });
    const name = label("chase_outcome", outcome);
    announce(
      answer.next_chase_at
        ? t("Recorded: {outcome}. Next chase at {time}.", {
            outcome: name,
            time: formatTime(answer.next_chase_at),
          })
        : t("Recorded: {outcome}. The chase has ended.", { outcome: name }),
    );
    busy = false;
    await refresh();
    result.focus();
  } catch (err) {
    busy = false;
    if (err.field === "outcome") outcomeError.textContent = err.message;
    else actionError.textContent = err.message;
    renderDetail();
  }
}

byId("ch-outcome-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const chosen = document.querySelector('input[name="outcome"]:checked');
  if (!chosen) {
    outcomeError.textContent = t("Please choose an outcome.");
    document.querySelector('input[name="outcome"]')?.focus();
    return;
  }
  record(chosen.value);
});

byId("ch-copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(script.value);
    announce(t("Script copied."));
  } catch {
    script.focus();
    script.select();
    announce(t("Script selected: press Ctrl+C to copy."));
  }
});

byId("ch-refresh").addEventListener("click", () => refresh());

renderOutcomes();
const focus = boot.focus_item === null ? null : Number(boot.focus_item);
const focused = chases.find((row) => row.id === focus);
selectedId = focused ? focused.id : chases.length ? chases[0].id : null;
setHidden(byId("ch-missing"), focus === null || Boolean(focused));
announce("");
render();
if (focused) {
  const button = rowsBody.querySelector(`tr[data-id="${focused.id}"] .ch-pick`);
  button?.scrollIntoView({ block: "nearest" });
  button?.focus();
}
window.setInterval(refresh, REFRESH_MS);
window.setInterval(renderQuiet, REFRESH_MS);
document.documentElement.dataset.chases = "ready";
