// The hotline workbench (热线工作台): a caller lookup, the outbound call lists (phone
// chases, proactive calls to complaint-risk buyers, notice calls, callbacks) with an
// outcome per buyer, and, for supervisors, notice campaigns (通知外呼) created from an
// order filter with their per-buyer progress. Every change is one JSON API call; its
// answer is shown in place, without a reload.

import { api } from "./api.js";
import { createRevealDialog } from "./dialogs.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { buyerCards, outcomeLabel, tierTag } from "./hotline-card.js";
import { maskedValue } from "./pii.js";
import { formatMoney, formatTime, setTimeZone, syncClock } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const me = boot.user.id;
const isAgent = boot.user.role === "agent";
let lists = boot.outbound; // {kind: [row]} as GET /api/v1/hotline/outbound answers
const recorded = new Map(); // conversation id -> outcome recorded on this page
let openCampaign = null; // the campaign whose progress is shown
let busy = false;

syncClock(boot.server_now);
setTimeZone(boot.timezone);
const revealDialog = createRevealDialog();
const result = byId("hl-result");
const pageError = byId("hl-error");

function announce(text) {
  result.textContent = text;
  setHidden(result, !text);
}

// -- outbound lists ------------------------------------------------------------------------

const mine = (row) => row.assigned_agent_id === me;

/** Whether this user may record the row's outcome now (the server checks again). */
function canRecord(row) {
  if (recorded.has(row.id) || row.status === "closed") return false;
  // A phone chase is recorded while in hand (it may schedule the next attempt).
  if (row.kind === "phone_chase") return row.status === "assigned" && (!isAgent || mine(row));
  return isAgent ? mine(row) : true;
}

function canOpen(row) {
  return row.kind !== "phone_chase" && (!isAgent || mine(row));
}

function revealTarget(row) {
  if (!row.buyer || row.status !== "assigned" || (isAgent && !mine(row))) return null;
  return {
    buyerId: row.buyer.id,
    // The order the number is on (null: the buyer's own number).
    orderId: row.buyer.phone_order_id ?? null,
    field: "phone",
    what: t("{nick}'s phone", { nick: row.buyer.nick }),
  };
}

function buyerName(row) {
  return row.buyer ? row.buyer.nick : t("Unknown buyer");
}

function buyerCell(row) {
  const name = canOpen(row)
    ? el("a", {
        href: `/console/call-items/${Number(row.id)}`,
        class: "hl-nick",
        text: buyerName(row),
      })
    : el("span", { class: "hl-nick", text: buyerName(row) });
  return el(
    "td",
    {},
    name,
    " ",
    row.buyer ? tierTag(row.buyer.tier) : null,
    row.campaign ? el("span", { class: "tag", text: row.campaign }) : null,
    row.script
      ? el(
          "details",
          { class: "hl-script" },
          el("summary", { text: t("Script") }),
          el("p", { text: row.script }),
        )
      : null,
  );
}

function statusText(row) {
  const parts = [label("conversation_status", row.status)];
  if (mine(row)) parts.push(t("mine"));
  else if (!isAgent && row.assigned_agent_id) {
    parts.push(t("agent #{id}", { id: row.assigned_agent_id }));
  }
  return parts.join(" · ");
}

function outcomeCell(row) {
  const done = recorded.get(row.id);
  if (done) {
    return el(
      "td",
      { class: "hl-recorded" },
      el("span", {
        class: "tag tag-focus",
        text: t("Recorded: {outcome}", { outcome: done.text }),
      }),
      done.next ? el("span", { class: "muted small", text: ` ${done.next}` }) : null,
    );
  }
  if (!canRecord(row)) {
    const why = row.assigned_agent_id ? t("Not in your hands") : t("Waiting for an agent");
    return el("td", { class: "muted small", text: why });
  }
  const select = el(
    "select",
    { class: "hl-outcome", "aria-label": t("Outcome for {nick}", { nick: buyerName(row) }) },
    el("option", { value: "", text: t("Choose an outcome…") }),
    boot.outcomes[row.kind].map((key) =>
      el("option", {
        value: key,
        text: label(row.kind === "phone_chase" ? "chase_outcome" : "call_outcome", key),
      }),
    ),
  );
  const button = el("button", {
    type: "button",
    class: "btn btn-quiet",
    text: t("Record"),
    "aria-label": t("Record the outcome for {nick}", { nick: buyerName(row) }),
  });
  button.addEventListener("click", () => recordOutcome(row, select, button));
  return el("td", {}, el("div", { class: "hl-outcome-row" }, select, button));
}

const columns = () => [
  t("Buyer"),
  t("Phone"),
  t("Order"),
  t("Call status"),
  t("Call from"),
  t("Call outcome"),
];

function rowNode(row) {
  const order = row.order;
  const callFrom = row.not_before || row.due_at;
  return el(
    "tr",
    { dataset: { id: String(row.id), kind: row.kind } },
    buyerCell(row),
    el(
      "td",
      {},
      maskedValue(row.buyer ? row.buyer.phone : null, revealTarget(row), revealDialog.open),
    ),
    el(
      "td",
      {},
      order
        ? [
            el("span", { class: "order-id", text: order.external_id }),
            el("br"),
            `${label("order_status", order.status)} · ${formatMoney(order.amount_fen)}`,
          ]
        : "—",
    ),
    el("td", { class: "hl-status", text: statusText(row) }),
    el("td", { text: callFrom ? formatTime(callFrom) : "—" }),
    outcomeCell(row),
  );
}

function renderLists() {
  fillNode(
    byId("hl-lists"),
    boot.kinds.map((kind) => {
      const rows = lists[kind] || [];
      const titleId = `hl-kind-${kind}-title`;
      return el(
        "section",
        { class: "hl-kind", id: `hl-kind-${kind}`, "aria-labelledby": titleId },
        el(
          "h3",
          { id: titleId },
          label("kind", kind),
          " ",
          el("span", { class: "muted hl-count", text: `(${rows.length})` }),
        ),
        rows.length
          ? el(
              "table",
              { class: "hl-table" },
              el(
                "thead",
                {},
                el(
                  "tr",
                  {},
                  columns().map((text) => el("th", { scope: "col", text })),
                ),
              ),
              el("tbody", {}, rows.map(rowNode)),
            )
          : el("p", { class: "muted small", text: t("No calls in this list.") }),
      );
    }),
  );
}

async function recordOutcome(row, select, button) {
  if (busy) return;
  pageError.textContent = "";
  announce("");
  const outcome = select.value;
  if (!outcome) {
    pageError.textContent = t("Choose the outcome for {nick} first.", { nick: buyerName(row) });
    select.focus();
    return;
  }
  busy = true;
  button.disabled = true;
  const chase = row.kind === "phone_chase";
  try {
    const answer = await api(
      chase
        ? `/api/v1/chases/${Number(row.id)}/outcome`
        : `/api/v1/hotline/calls/${Number(row.id)}/outcome`,
      { method: "POST", body: { outcome } },
    );
    const text = label(chase ? "chase_outcome" : "call_outcome", outcome);
    const next = answer.next_chase_at
      ? t("next attempt {time}", { time: formatTime(answer.next_chase_at) })
      : "";
    recorded.set(row.id, { text, next });
    Object.assign(row, { status: answer.conversation.status });
    announce(t("Outcome recorded for {nick}: {outcome}.", { nick: buyerName(row), outcome: text }));
    busy = false;
    renderLists();
    result.focus();
    if (openCampaign && row.kind === "notice_call") await showProgress(openCampaign, false);
  } catch (err) {
    busy = false;
    button.disabled = false;
    pageError.textContent = err.message;
  }
}

async function refreshLists() {
  const data = await api("/api/v1/hotline/outbound");
  lists = data.kinds;
  recorded.clear();
  renderLists();
}

byId("hl-refresh").addEventListener("click", async () => {
  pageError.textContent = "";
  try {
    await refreshLists();
    announce(t("Lists refreshed."));
  } catch (err) {
    pageError.textContent = err.message;
  }
});

// -- caller lookup -------------------------------------------------------------------------

const lookupForm = byId("hl-lookup-form");
const lookupPhone = byId("hl-lookup-phone");
const lookupError = byId("hl-lookup-error");

lookupForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  lookupError.textContent = "";
  lookupPhone.removeAttribute("aria-invalid");
  const phone = lookupPhone.value.trim();
  if (!phone) {
    lookupError.textContent = t("Enter the caller's number.");
    lookupPhone.setAttribute("aria-invalid", "true");
    lookupPhone.focus();
    return;
  }
  try {
    const card = await api(`/api/v1/hotline/caller?phone=${encodeURIComponent(phone)}`);
    fillNode(
      byId("hl-lookup-card"),
      el("p", { class: "hl-lookup-phone" }, t("Number"), ": ", maskedValue(card.phone)),
      buyerCards(card.buyers),
    );
  } catch (err) {
    lookupError.textContent = err.message;
    if (err.field === "phone") lookupPhone.setAttribute("aria-invalid", "true");
    fillNode(byId("hl-lookup-card"));
  }
});

// -- notice campaigns (supervisors) --------------------------------------------------------

/** Midnight of a YYYY-MM-DD day in the shop's time zone, as an ISO date-time. */
function shopMidnight(day) {
  const probe = new Date(`${day}T12:00:00Z`);
  const zone = new Intl.DateTimeFormat("en-US", {
    timeZone: boot.timezone || "Asia/Shanghai",
    timeZoneName: "longOffset",
  })
    .formatToParts(probe)
    .find((part) => part.type === "timeZoneName");
  const offset = /GMT([+-]\d{2}:\d{2})/.exec(zone ? zone.value : "");
  return `${day}T00:00:00${offset ? offset[1] : "Z"}`;
}

function dayAfter(day) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

const OPEN_STATUSES = new Set(["scheduled", "queued", "assigned"]);
const FIELD_INPUTS = {
  name: "hl-c-name",
  reason: "hl-c-reason",
  filter: "hl-c-campaign",
  "filter.campaign": "hl-c-campaign",
  "filter.skus": "hl-c-skus",
  "filter.created_from": "hl-c-from",
  "filter.created_to": "hl-c-to",
  "filter.min_amount_fen": "hl-c-min",
};

function campaignBody(dryRun) {
  const filter = {
    statuses: [...document.querySelectorAll("#hl-campaign-form input[name='status']:checked")].map(
      (box) => box.value,
    ),
  };
  const campaign = byId("hl-c-campaign").value.trim();
  if (campaign) filter.campaign = campaign;
  const skus = byId("hl-c-skus")
    .value.split(/[,，\s]+/)
    .filter(Boolean);
  if (skus.length) filter.skus = skus;
  const from = byId("hl-c-from").value;
  if (from) filter.created_from = shopMidnight(from);
  const to = byId("hl-c-to").value;
  if (to) filter.created_to = shopMidnight(dayAfter(to));
  const min = byId("hl-c-min").value.trim();
  if (min) filter.min_amount_fen = Math.round(Number(min) * 100);
  return {
    name: byId("hl-c-name").value.trim(),
    reason: byId("hl-c-reason").value.trim(),
    filter,
    dry_run: dryRun,
  };
}

function clearCampaignErrors() {
  byId("hl-campaign-error").textContent = "";
  for (const id of new Set(Object.values(FIELD_INPUTS))) byId(id).removeAttribute("aria-invalid");
}

function campaignError(message, field) {
  byId("hl-campaign-error").textContent = message;
  const input = byId(FIELD_INPUTS[field] || "");
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } else if (field === "filter.statuses") {
    document.querySelector("#hl-campaign-form input[name='status']")?.focus();
  }
}

async function submitCampaign(dryRun) {
  if (busy) return;
  clearCampaignErrors();
  const campaignResult = byId("hl-campaign-result");
  setHidden(campaignResult, true);
  const body = campaignBody(dryRun);
  if (!body.name) return campaignError(t("Give the campaign a name."), "name");
  if (!body.reason) return campaignError(t("Say what the buyers are told."), "reason");
  if (!body.filter.campaign && !body.filter.skus) {
    return campaignError(t("Give an order campaign or SKUs."), "filter");
  }
  if (Number.isNaN(body.filter.min_amount_fen)) {
    return campaignError(t("The minimum amount must be a number."), "filter.min_amount_fen");
  }
  busy = true;
  try {
    const answer = await api("/api/v1/hotline/campaigns", { method: "POST", body });
    campaignResult.textContent = dryRun
      ? t(
          "{orders} orders match: {buyers} buyers would be called ({already} already have an open call).",
          { orders: answer.orders_matched, buyers: answer.buyers, already: answer.already_open },
        )
      : t("Campaign {name} created: {created} calls for {buyers} buyers.", {
          name: answer.name,
          created: answer.created,
          buyers: answer.buyers,
        });
    setHidden(campaignResult, false);
    busy = false;
    if (!dryRun) {
      await Promise.all([refreshRuns(), refreshLists()]);
      await showProgress(answer.name, true);
    }
  } catch (err) {
    busy = false;
    campaignError(err.message, err.field);
  }
}

function renderRuns(runs) {
  const body = byId("hl-runs").querySelector("tbody");
  setHidden(byId("hl-runs-empty"), runs.length > 0);
  setHidden(byId("hl-runs"), runs.length === 0);
  fillNode(
    body,
    runs.map((run) => {
      const button = el("button", {
        type: "button",
        class: "btn btn-quiet",
        text: t("Progress"),
        "aria-label": t("Progress of {name}", { name: run.name }),
      });
      button.addEventListener("click", () => showProgress(run.name, true));
      return el(
        "tr",
        {},
        el("th", { scope: "row", text: run.name }),
        el("td", { text: run.reason || "" }),
        el("td", { text: String(run.buyers ?? "") }),
        el("td", { text: String(run.created ?? "") }),
        el("td", { text: run.at ? formatTime(run.at) : "" }),
        el("td", {}, button),
      );
    }),
  );
}

async function refreshRuns() {
  renderRuns((await api("/api/v1/hotline/campaigns")).campaigns);
}

async function showProgress(name, focus) {
  try {
    const progress = await api(`/api/v1/hotline/campaigns/${encodeURIComponent(name)}`);
    openCampaign = name;
    const section = byId("hl-progress");
    byId("hl-progress-title").textContent = t("Progress: {name}", { name: progress.name });
    const outcomes = Object.entries(progress.by_outcome)
      .map(([key, n]) => {
        const name = OPEN_STATUSES.has(key) ? label("conversation_status", key) : outcomeLabel(key);
        return `${name} ${n}`;
      })
      .join(" · ");
    byId("hl-progress-counts").textContent = [
      t("{total} calls, {open} still open", { total: progress.total, open: progress.open }),
      outcomes,
    ]
      .filter(Boolean)
      .join(" — ");
    fillNode(
      byId("hl-progress-table").querySelector("tbody"),
      progress.calls.map((call) =>
        el(
          "tr",
          { dataset: { id: String(call.conversation_id) } },
          el("th", { scope: "row", text: call.buyer_nick || "—" }),
          el("td", { text: call.order_external_id || "—" }),
          el("td", { text: label("conversation_status", call.status) }),
          el("td", { text: call.outcome ? outcomeLabel(call.outcome) : "—" }),
          el("td", { text: String(call.attempts) }),
        ),
      ),
    );
    setHidden(section, false);
    if (focus) section.focus();
  } catch (err) {
    pageError.textContent = err.message;
  }
}

if (boot.can_campaign) {
  const campaignForm = byId("hl-campaign-form");
  campaignForm.addEventListener("submit", (event) => {
    event.preventDefault();
    submitCampaign(false);
  });
  byId("hl-c-preview").addEventListener("click", () => submitCampaign(true));
  campaignForm.addEventListener("input", (event) => {
    if (event.target.getAttribute("aria-invalid") && event.target.value.trim()) {
      event.target.removeAttribute("aria-invalid");
    }
  });
  renderRuns(boot.campaigns);
}

announce("");
renderLists();
document.documentElement.dataset.hotline = "ready";
