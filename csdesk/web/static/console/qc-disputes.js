// The QC lead's dispute queue: uphold, reverse or amend, each with a comment.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { t } from "./i18n.js";
import { formatDate } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const L = boot.qc_labels;
const name = (table, key) => L[table]?.[key] ?? key;

async function load() {
  const data = await api("/api/v1/qc/disputes");
  fillNode(
    byId("qd-body"),
    data.items.map((d) => {
      const f = d.finding;
      const comment = el("textarea", { rows: 2, maxlength: 1000, "aria-label": t("Resolution comment"), class: "qd-comment" });
      const rating = el("input", { type: "number", min: 0, max: 9, "aria-label": t("Amended rating"), class: "qd-rating" });
      const act = (resolution) => async () => {
        byId("qd-error").textContent = "";
        try {
          const body = { resolution, comment: comment.value };
          if (resolution === "amend") body.rating = rating.value === "" ? null : Number(rating.value);
          const done = await api(`/api/v1/qc/findings/${f.id}/resolve`, { method: "POST", body });
          byId("qd-result").textContent = t("Resolved: {status}; score now {total}", { status: name("finding", done.status), total: done.score.total });
          setHidden(byId("qd-result"), false);
          await load();
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          byId("qd-error").textContent = error.message;
        }
      };
      return el(
        "tr",
        { dataset: { findingId: f.id } },
        el("td", { text: formatDate(d.due_by) }),
        el("td", { text: f.agent?.display_name ?? "" }),
        el("td", {}, el("strong", { text: name("item", f.item) }), el("div", { class: "small", text: f.evidence }), el("div", { class: "muted small", text: f.comment })),
        el("td", { text: d.comment }),
        el(
          "td",
          { class: "qd-actions" },
          comment,
          el("button", { type: "button", class: "btn", onclick: act("uphold"), text: t("Uphold") }),
          el("button", { type: "button", class: "btn btn-primary", onclick: act("reverse"), text: t("Reverse") }),
          rating,
          el("button", { type: "button", class: "btn", onclick: act("amend"), text: t("Amend") }),
        ),
      );
    }),
  );
  setHidden(byId("qd-empty"), data.items.length > 0);
}

await load();
