// Monthly rankings: per role, per team or of the whole shop; equal points share a rank;
// my own row is marked. CSV/XLSX exports of what is shown.

import { api } from "./api.js";
import { byId, el, fillNode } from "./dom.js";
import { label, t } from "./i18n.js";
import { thisMonth, tl } from "./training-common.js";

byId("rk-month").value = thisMonth();

function groupName(by, group) {
  if (by === "role") return group.key === "none" ? tl("team", "none") : label("role", group.key);
  return group.name || tl("team", group.key);
}

async function load() {
  byId("rk-error").textContent = "";
  const params = new URLSearchParams({ by: byId("rk-by").value, month: byId("rk-month").value || thisMonth() });
  try {
    const data = await api(`/api/v1/training/points/rankings?${params}`);
    fillNode(
      byId("rk-groups"),
      data.groups.map((group) =>
        el(
          "section",
          { class: "tr-card" },
          el("h2", { text: groupName(data.by, group) }),
          el(
            "table",
            { class: "tr-table" },
            el("thead", {}, el("tr", {}, [t("Rank"), t("Agent"), t("Total points"), t("Lines")].map((h) => el("th", { scope: "col", text: h })))),
            el(
              "tbody",
              {},
              group.rows.map((r) =>
                el(
                  "tr",
                  { class: r.me ? "tr-me" : null, "aria-current": r.me ? "true" : null },
                  el("td", { text: String(r.rank) }),
                  el("td", { text: r.agent.display_name || "" }),
                  el("td", { text: String(r.points) }),
                  el("td", { text: String(r.entries) }),
                ),
              ),
            ),
          ),
        ),
      ),
    );
    if (!data.groups.length) fillNode(byId("rk-groups"), el("p", { class: "muted", text: t("No agents yet.") }));
    byId("rk-csv").href = `/api/v1/training/points/rankings/export?${params}&format=csv`;
    byId("rk-xlsx").href = `/api/v1/training/points/rankings/export?${params}&format=xlsx`;
  } catch (err) {
    byId("rk-error").textContent = err.message;
  }
  document.documentElement.dataset.training = "ready";
}

byId("tk-filter").addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
byId("rk-by").addEventListener("change", load);
load();
