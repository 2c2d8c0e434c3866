// 审计日志: GET /api/v1/admin/audit with the form's filters, newest first, older pages on
// demand; the CSV link carries the same filters.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { locale } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const form = byId("au-filter");
const tbody = byId("au-body");
let lastId = null;

function filters() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (String(value).trim()) params.set(name, String(value).trim());
  }
  return params;
}

function when(iso) {
  return new Date(iso).toLocaleString(locale, { hour12: false });
}

function row(entry) {
  return el(
    "tr",
    {},
    el("td", { class: "num", text: when(entry.at) }),
    el("td", { text: entry.actor_username || "—" }),
    el("td", { "data-verbatim": true }, el("code", { text: entry.action })),
    el("td", { "data-verbatim": true, text: `${entry.target_type} ${entry.target_id}` }),
    el("td", { class: "small", "data-verbatim": true, text: [entry.reason, JSON.stringify(entry.detail)].filter((x) => x && x !== "{}").join(" · ") }),
  );
}

async function load(more = false) {
  const params = filters();
  byId("au-csv").href = `${boot.audit_api}.csv?${params}`;
  if (more && lastId) params.set("before_id", lastId);
  params.set("limit", "100");
  try {
    const entries = (await api(`${boot.audit_api}?${params}`)).entries;
    byId("au-error").textContent = "";
    if (more) tbody.append(...entries.map(row));
    else fillNode(tbody, entries.map(row));
    lastId = entries.length ? entries[entries.length - 1].id : lastId;
    setHidden(byId("au-more"), entries.length < 100);
    setHidden(byId("au-empty"), more || entries.length > 0);
  } catch (error) {
    byId("au-error").textContent = error.message;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  lastId = null;
  load();
});
byId("au-more").addEventListener("click", () => load(true));
load();
