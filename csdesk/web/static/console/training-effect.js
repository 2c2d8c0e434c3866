// A course's effect: per QC category, the finding rate before and after passing, pooled
// and per agent, with the sample sizes, the 95% interval of the change and the verdict
// (only when both sides have enough scored chats).

import { api } from "./api.js";
import { byId, el, fillNode } from "./dom.js";
import { t } from "./i18n.js";
import { boot, day, tl, verdictText } from "./training-common.js";

function rows(comparisons) {
  return el(
    "table",
    { class: "tr-table" },
    el(
      "thead",
      {},
      el("tr", {}, [t("QC category"), t("Before"), t("After"), t("Change"), t("Verdict")].map((h) => el("th", { scope: "col", text: h }))),
    ),
    el(
      "tbody",
      {},
      comparisons.map((c) => {
        const text = verdictText(c);
        const rate = (side) => (c[side].rate === null ? "—" : `${c[side].rate.toFixed(1)} (${c[side].with_category}/${c[side].chats})`);
        return el(
          "tr",
          { class: `tr-verdict-${c.verdict}` },
          el("th", { scope: "row", text: tl("category", c.category) }),
          el("td", { text: rate("before") }),
          el("td", { text: rate("after") }),
          el("td", { text: c.difference === null ? "—" : `${c.difference > 0 ? "+" : ""}${c.difference.toFixed(1)} · ${text.interval}` }),
          el("td", {}, el("strong", { text: text.verdict }), el("span", { class: "muted small", text: ` ${text.rates} ${text.sizes}` })),
        );
      }),
    ),
  );
}

async function load() {
  const data = await api(`/api/v1/training/courses/${boot.course_id}/effect`);
  byId("te-method").textContent = t(
    "Rates are scored chats with a standing finding per 100 scored chats, {days} days before and after each agent passed. The change's 95% interval is Newcombe's two-proportion method; a verdict needs {min} scored chats on each side.",
    { days: data.window_days, min: data.min_chats },
  );
  fillNode(
    byId("te-pooled"),
    data.pooled.length ? rows(data.pooled) : el("p", { class: "muted", text: t("Nobody has passed this course yet.") }),
  );
  fillNode(
    byId("te-agents"),
    data.agents.length
      ? data.agents.map((a) =>
          el("div", { class: "tr-team" }, el("h3", { text: t("{name}, passed {date}", { name: a.agent.display_name, date: day(a.passed_at) }) }), rows(a.comparisons)),
        )
      : el("p", { class: "muted", text: t("Nobody has passed this course yet.") }),
  );
  document.documentElement.dataset.training = "ready";
}

load().catch((err) => {
  byId("te-error").textContent = err.message;
});
