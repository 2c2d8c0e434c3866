// Improvement proposals: raise one from findings; the QC lead moves it along to done.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { t } from "./i18n.js";
import { formatDate } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const L = boot.qc_labels;
const name = (table, key) => L[table]?.[key] ?? key;
const STATUS = { open: () => t("Open"), in_progress: () => t("In progress"), done: () => t("Done") };
const NEXT = { open: ["in_progress", "done"], in_progress: ["done", "open"], done: [] };

async function load() {
  const [proposals, findings] = await Promise.all([api("/api/v1/qc/proposals"), api("/api/v1/qc/findings")]);
  fillNode(
    byId("qp-findings"),
    el("legend", { text: t("Findings it comes from") }),
    findings.items.slice(0, 50).map((f) =>
      el("label", { class: "qc-check qp-finding" }, el("input", { type: "checkbox", class: "qp-pick", value: f.id }), ` ${name("item", f.item)} · ${f.agent?.display_name ?? ""} · ${formatDate(f.created_at)}`),
    ),
  );
  fillNode(
    byId("qp-list"),
    proposals.items.map((p) =>
      el(
        "li",
        { class: "qc-row", dataset: { proposalId: p.id } },
        el("strong", { text: p.title }),
        " ",
        el("span", { class: "chip", text: STATUS[p.status]() }),
        el("div", { class: "small", text: p.body }),
        el("div", { class: "muted small", text: t("{count} findings", { count: p.finding_ids.length }) }),
        boot.is_lead ? NEXT[p.status].map((next) => el("button", { type: "button", class: "btn btn-quiet", onclick: () => move(p.id, next), text: STATUS[next]() })) : null,
      ),
    ),
  );
  setHidden(byId("qp-empty"), proposals.items.length > 0);
}

async function move(id, status) {
  byId("qp-error").textContent = "";
  try {
    await api(`/api/v1/qc/proposals/${id}/status`, { method: "POST", body: { status } });
    await load();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    byId("qp-error").textContent = error.message;
  }
}

byId("qp-submit").addEventListener("click", async () => {
  byId("qp-error").textContent = "";
  const ids = [...document.querySelectorAll(".qp-pick:checked")].map((i) => Number(i.value));
  try {
    await api("/api/v1/qc/proposals", { method: "POST", body: { title: byId("qp-title").value, body: byId("qp-body").value, finding_ids: ids } });
    byId("qp-title").value = "";
    byId("qp-body").value = "";
    await load();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    byId("qp-error").textContent = error.message;
  }
});
await load();
