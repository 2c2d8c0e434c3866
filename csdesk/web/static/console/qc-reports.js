// QC reports: the server draws the chart (an SVG image) and answers the tables as JSON;
// each table links to its CSV and XLSX export.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode } from "./dom.js";
import { label, t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const L = boot.qc_labels;
const name = (table, key) => L[table]?.[key] ?? key;
const version = (key) => {
  const [role, n] = String(key).split(".v");
  return n ? t("{role}, version {n}", { role: label("role", role), n }) : key;
};
/** Cells holding stored codes, shown by their names (exports keep the codes). */
const CELLS = {
  role: (v) => label("role", v),
  category: (v) => name("category", v),
  version,
  rule: (v) => name("rule", v),
  severity: (v) => name("severity", v),
  measure: (v) => name("measure", v),
};
const cellText = (header, value) => {
  if (value === null || value === undefined) return "—";
  return CELLS[header] ? CELLS[header](value) : String(value);
};

const TITLES = {
  rates: () => t("Finding rate"),
  top_rules: () => t("Top rules fired"),
  throughput: () => t("Inspector throughput"),
  disputes: () => t("Disputes and outcomes"),
};

const HEADERS = {
  agent: t("Agent"),
  role: t("Role"),
  category: t("Category"),
  version: t("Script version"),
  findings: t("Findings"),
  scored: t("Scored"),
  rate: t("Findings per scored conversation"),
  rule: t("Rule"),
  severity: t("Severity"),
  hits: t("Hits"),
  per_checked: t("Per checked conversation"),
  inspector: t("Inspector"),
  per_day: t("Per day"),
  measure: t("Measure"),
  value: t("Value"),
};

function query() {
  const params = new URLSearchParams({ by: byId("qrep-by").value });
  if (byId("qrep-start").value) params.set("start", byId("qrep-start").value);
  if (byId("qrep-end").value) params.set("end", byId("qrep-end").value);
  return params;
}

async function load() {
  byId("qrep-error").textContent = "";
  const params = query();
  try {
    const data = await api(`/api/v1/qc/reports?${params}`);
    byId("qrep-start").value = data.start;
    byId("qrep-end").value = data.end;
    byId("qrep-chart").src = `/api/v1/qc/reports/chart.svg?${params}`;
    fillNode(
      byId("qrep-tables"),
      Object.entries(data.tables).map(([name, table]) => {
        const link = (format) => {
          const p = new URLSearchParams(params);
          p.set("table", name);
          p.set("format", format);
          return el("a", { class: "btn btn-quiet", href: `/api/v1/qc/reports/export?${p}`, download: "", text: format.toUpperCase() });
        };
        return el(
          "section",
          { class: "sv-card", dataset: { table: name } },
          el("h2", { text: TITLES[name]() }),
          link("csv"),
          link("xlsx"),
          el(
            "table",
            { class: "sv-table" },
            el("thead", {}, el("tr", {}, table.headers.map((h) => el("th", { scope: "col", text: HEADERS[h] ?? h })))),
            el("tbody", {}, table.rows.map((row) => el("tr", {}, row.map((cell, n) => el("td", { title: CELLS[table.headers[n]] ? String(cell) : "", text: cellText(table.headers[n], cell) }))))),
          ),
        );
      }),
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    byId("qrep-error").textContent = error.message;
  }
}

byId("qrep-form").addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
await load();
