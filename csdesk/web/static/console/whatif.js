// What-if (模拟推演). The boot data is the run list, the promotion profiles, the limits.
// The form posts to /api/v1/whatif (202: queued; a bad field is named and marked); while
// any run is queued or running the list is re-read every boot.poll_ms, so progress moves
// and results appear without a reload. A finished run opens beside its baseline; two
// ticked runs open side by side. Charts are SVG drawn by the server, parsed as SVG, never
// as HTML.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const form = byId("wi-form");
const error = byId("wi-error");
const changesBox = byId("wi-changes");
const rowsBox = byId("wi-rows");
const compareButton = byId("wi-compare");
let runs = boot.runs;
let pollTimer = null;
let openAfterDone = null;
const ticked = new Set();

const STATUS = {
  queued: t("Queued"),
  running: t("Simulating"),
  done: t("Finished"),
  failed: t("Simulation failed"),
};

const hourLabel = (h) => `${String(h).padStart(2, "0")}:00`;

function inShopTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat("sv-SE", {
    timeZone: boot.timezone,
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  })
    .format(new Date(iso))
    .replace(",", "");
}

function duration(seconds) {
  if (seconds < 120) return t("{n} s", { n: Math.round(seconds) });
  if (seconds < 7200) return t("{n} min", { n: Math.round(seconds / 60) });
  return t("{n} h", { n: (seconds / 3600).toFixed(1) });
}

const money = (yuan) => `¥${Number(yuan).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

// ---- the form -------------------------------------------------------------------------

function fillProfiles() {
  const select = byId("wi-promotion");
  const live = boot.profiles.find((p) => p.name === boot.promotion);
  fillNode(
    select,
    el("option", { value: "", text: live ? t("As now: {name}", { name: live.label }) : t("None (an ordinary day)") }),
    boot.profiles.map((p) => el("option", { value: p.name, text: p.label })),
  );
}

function addChange(role = "refund", delta = 2, fromHour = 20) {
  if (changesBox.children.length >= boot.limits.max_changes) return;
  const index = changesBox.children.length;
  const row = el(
    "div",
    { class: "wi-change" },
    el(
      "label",
      {},
      t("Role"),
      " ",
      el(
        "select",
        { class: "wi-role", "aria-label": t("Role") },
        boot.roles.map((r) => el("option", { value: r, text: label("role", r), selected: r === role })),
      ),
    ),
    el(
      "label",
      {},
      t("People (+ more, − fewer)"),
      " ",
      el("input", {
        class: "wi-delta",
        type: "number",
        step: "1",
        min: String(-boot.limits.max_delta),
        max: String(boot.limits.max_delta),
        value: String(delta),
      }),
    ),
    el(
      "label",
      {},
      t("From"),
      " ",
      el(
        "select",
        { class: "wi-from" },
        Array.from({ length: 24 }, (_, h) =>
          el("option", { value: String(h), text: hourLabel(h), selected: h === fromHour }),
        ),
      ),
    ),
    el("button", { type: "button", class: "btn", text: t("Remove"), onclick: () => row.remove() }),
  );
  row.dataset.index = String(index);
  changesBox.append(row);
}

function numberOf(input) {
  const raw = input.value.trim();
  return raw === "" ? null : Number(raw);
}

function body() {
  const roster_changes = [...changesBox.querySelectorAll(".wi-change")].map((row) => ({
    role: row.querySelector(".wi-role").value,
    delta: numberOf(row.querySelector(".wi-delta")),
    from_hour: Number(row.querySelector(".wi-from").value),
  }));
  const data = {
    roster_changes,
    scale: numberOf(byId("wi-scale")),
    hours: numberOf(byId("wi-hours")),
    policy: byId("wi-policy").value,
    seed: numberOf(byId("wi-seed")),
    promotion: byId("wi-promotion").value || null,
  };
  for (const key of ["scale", "hours", "seed"]) if (data[key] === null) delete data[key];
  return data;
}

function markField(field) {
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  if (!field) return;
  let node = form.querySelector(`[data-field="${field}"]`);
  const match = /^roster_changes\[(\d+)\]\.(\w+)$/.exec(field);
  if (match) {
    const row = changesBox.querySelectorAll(".wi-change")[Number(match[1])];
    const cls = { role: ".wi-role", delta: ".wi-delta", from_hour: ".wi-from" }[match[2]];
    node = row && cls ? row.querySelector(cls) : null;
  }
  if (node) {
    node.setAttribute("aria-invalid", "true");
    node.focus();
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  markField(null);
  const button = byId("wi-submit");
  button.disabled = true;
  try {
    const run = await api(boot.api.list, { method: "POST", body: body() });
    runs = [run, ...runs.filter((r) => r.id !== run.id)];
    openAfterDone = run.id;
    renderList();
    schedulePoll();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    error.textContent = e.message;
    markField(e.field);
  } finally {
    button.disabled = false;
  }
});

byId("wi-add-change").addEventListener("click", () => addChange());

// ---- the list -------------------------------------------------------------------------

function changesText(p) {
  const parts = p.roster_changes.map((c) => {
    const signed = c.delta > 0 ? "+" + c.delta : String(c.delta);
    return t("{role} {delta} from {hour}", {
      role: label("role", c.role),
      delta: signed,
      hour: hourLabel(c.from_hour),
    });
  });
  if (p.scale !== 1) parts.push(t("arrivals × {n}", { n: p.scale }));
  parts.push(t("{n} hours", { n: p.hours }));
  parts.push(p.policy === "fifo" ? t("oldest first") : t("our routing"));
  if (p.promotion) parts.push(boot.profiles.find((x) => x.name === p.promotion)?.label || p.promotion);
  parts.push(t("seed {n}", { n: p.seed }));
  return parts.join("，");
}

function statusCell(run) {
  if (run.status === "queued" || run.status === "running") {
    return el(
      "td",
      { class: "wi-status", dataset: { status: run.status } },
      STATUS[run.status],
      " ",
      el("progress", { max: "100", value: String(run.progress), "aria-label": t("Progress") }),
      ` ${run.progress}%`,
    );
  }
  return el(
    "td",
    { class: "wi-status", dataset: { status: run.status } },
    STATUS[run.status] || run.status,
    run.error ? el("span", { class: "wi-error small" }, ` ${run.error}`) : null,
  );
}

function renderList() {
  setHidden(byId("wi-empty"), runs.length > 0);
  fillNode(
    rowsBox,
    runs.map((run) =>
      el(
        "tr",
        { dataset: { run: String(run.id) } },
        el(
          "td",
          {},
          el("input", {
            type: "checkbox",
            class: "wi-tick",
            "aria-label": t("Compare"),
            disabled: run.status !== "done",
            checked: ticked.has(run.id),
            onchange: (event) => {
              if (event.target.checked) ticked.add(run.id);
              else ticked.delete(run.id);
              compareButton.disabled = ticked.size !== 2;
            },
          }),
        ),
        el("td", {}, inShopTime(run.requested_at)),
        el("td", {}, run.requested_by || ""),
        el("td", { class: "small" }, changesText(run.parameters)),
        statusCell(run),
        el(
          "td",
          {},
          run.status === "done"
            ? el("button", { type: "button", class: "btn wi-open", text: t("Open"), onclick: () => openRun(run.id) })
            : null,
        ),
      ),
    ),
  );
  compareButton.disabled = ticked.size !== 2;
}

function schedulePoll() {
  if (pollTimer !== null) return;
  if (!runs.some((r) => r.status === "queued" || r.status === "running")) return;
  pollTimer = setTimeout(async () => {
    pollTimer = null;
    try {
      runs = (await api(boot.api.list)).runs;
      renderList();
      const mine = runs.find((r) => r.id === openAfterDone);
      if (mine && mine.status === "done") {
        openAfterDone = null;
        await openRun(mine.id);
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      error.textContent = e.message;
    }
    schedulePoll();
  }, boot.poll_ms);
}

// ---- results --------------------------------------------------------------------------

function drawSvg(svg) {
  const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
  if (doc.querySelector("parsererror")) return null;
  return document.importNode(doc.documentElement, true);
}

function delta(value, other, lowerIsBetter = true) {
  if (other === undefined || other === null || value === other) return null;
  const better = lowerIsBetter ? value < other : value > other;
  return el("span", { class: better ? "wi-better small" : "wi-worse small" }, ` (${value > other ? "+" : ""}${typeof value === "number" && !Number.isInteger(value) ? (value - other).toFixed(1) : value - other})`);
}

function column(title, data, other) {
  const roles = Object.keys(data.roles);
  const table = el(
    "table",
    { class: "sv-table wi-roles" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { scope: "col", text: t("Role") }),
        el("th", { scope: "col", class: "wi-num", text: t("Arrivals") }),
        el("th", { scope: "col", class: "wi-num", text: t("Served") }),
        el("th", { scope: "col", class: "wi-num", text: t("Abandoned") }),
        el("th", { scope: "col", class: "wi-num", text: t("Wait p50") }),
        el("th", { scope: "col", class: "wi-num", text: t("Wait p90") }),
        el("th", { scope: "col", class: "wi-num", text: t("SLA breaches") }),
      ),
    ),
    el(
      "tbody",
      {},
      roles.map((role) => {
        const r = data.roles[role];
        const o = other?.roles?.[role];
        return el(
          "tr",
          { dataset: { role } },
          el("th", { scope: "row", text: label("role", role) }),
          el("td", { class: "wi-num", dataset: { k: "arrivals" } }, String(r.arrivals)),
          el("td", { class: "wi-num", dataset: { k: "served" } }, String(r.served), delta(r.served, o?.served, false)),
          el("td", { class: "wi-num", dataset: { k: "abandoned" } }, String(r.abandoned), delta(r.abandoned, o?.abandoned)),
          el("td", { class: "wi-num" }, duration(r.wait_p50_s)),
          el("td", { class: "wi-num" }, duration(r.wait_p90_s)),
          el("td", { class: "wi-num", dataset: { k: "sla" } }, String(r.sla_breaches), delta(r.sla_breaches, o?.sla_breaches)),
        );
      }),
    ),
  );
  const scenario = data.scenario;
  const roster = Object.entries(scenario.roster)
    .map(([key, n]) => `${key.split("+").map((r) => label("role", r)).join("+")} ${n}`)
    .join("，");
  return el(
    "div",
    { class: "wi-col" },
    el("h3", { text: title }),
    el(
      "p",
      { class: "small" },
      t("From {start}, {hours} hours. On shift: {roster}.", {
        start: inShopTime(scenario.start),
        hours: scenario.hours,
        roster: roster || t("nobody"),
      }),
    ),
    table,
    el(
      "p",
      { class: "wi-totals" },
      t("Refund deadline misses"),
      " ",
      el("strong", { class: "wi-misses" }, String(data.refund_deadline_misses)),
      delta(data.refund_deadline_misses, other?.refund_deadline_misses),
      "　",
      t("Recovered by chasing"),
      " ",
      el("strong", { class: "wi-recovered" }, money(data.recovered_gmv)),
      "　",
      t("Mean wait"),
      " ",
      el("strong", {}, duration(data.asa_s)),
    ),
    el("figure", {}, el("figcaption", { class: "small", text: t("Queue depth") }), drawSvg(data.charts.depth_svg)),
    el("figure", {}, el("figcaption", { class: "small", text: t("Wait p90 (minutes)") }), drawSvg(data.charts.wait_svg)),
  );
}

function showColumns(title, note, columns) {
  byId("wi-result-title").textContent = title;
  byId("wi-result-note").textContent = note;
  fillNode(byId("wi-columns"), columns);
  setHidden(byId("wi-result"), false);
}

async function openRun(runId) {
  try {
    const run = await api(boot.api.one + runId);
    const result = run.result;
    const columns = [];
    if (result.baseline) columns.push(column(t("As the shop is"), result.baseline, null));
    columns.push(column(result.baseline ? t("With the changes") : t("Result"), result.adjusted, result.baseline));
    showColumns(
      t("Simulation #{id}", { id: run.id }),
      changesText(run.parameters),
      columns,
    );
    byId("wi-result").dataset.run = String(run.id);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    error.textContent = e.message;
  }
}

compareButton.addEventListener("click", async () => {
  const [a, b] = [...ticked].sort((x, y) => x - y);
  try {
    const [first, second] = await Promise.all([api(boot.api.one + a), api(boot.api.one + b)]);
    showColumns(t("Simulation #{a} and #{b}", { a, b }), "", [
      column(`#${a}：${changesText(first.parameters)}`, first.result.adjusted, null),
      column(`#${b}：${changesText(second.parameters)}`, second.result.adjusted, first.result.adjusted),
    ]);
    byId("wi-result").dataset.run = `${a},${b}`;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    error.textContent = e.message;
  }
});

fillProfiles();
renderList();
schedulePoll();
document.documentElement.dataset.whatif = "ready";
