// The points ledger: an agent's lines of a month (mine, or the agent picked), the month's
// total and the balance, CSV/XLSX exports; supervisors record an award or a deduction.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { t } from "./i18n.js";
import { boot, showError, thisMonth, tl, when } from "./training-common.js";

const agentSelect = byId("tp-agent");
byId("tp-month").value = thisMonth();

function query() {
  const params = new URLSearchParams({ month: byId("tp-month").value || thisMonth() });
  if (agentSelect) params.set("agent_id", agentSelect.value);
  return params;
}

async function load() {
  byId("tp-error").textContent = "";
  const params = query();
  try {
    const data = await api(`/api/v1/training/points/ledger?${params}`);
    byId("tp-totals").textContent = t("{name}: {month} total {total}, balance {balance}", {
      name: data.agent.display_name,
      month: data.month,
      total: data.month_total,
      balance: data.balance,
    });
    fillNode(
      byId("tp-entries"),
      data.entries.map((e) =>
        el(
          "tr",
          {},
          el("td", { text: when(e.at) }),
          el("td", { class: e.points < 0 ? "tr-minus" : "tr-plus", text: e.points > 0 ? `+${e.points}` : String(e.points) }),
          el("td", { text: tl("points_source", e.source) }),
          el("td", {}, e.link ? el("a", { href: e.link, text: e.reason }) : e.reason),
        ),
      ),
    );
    setHidden(byId("tp-empty"), data.entries.length > 0);
    byId("tp-csv").href = `/api/v1/training/points/ledger/export?${params}&format=csv`;
    byId("tp-xlsx").href = `/api/v1/training/points/ledger/export?${params}&format=xlsx`;
  } catch (err) {
    byId("tp-error").textContent = err.message;
  }
  document.documentElement.dataset.training = "ready";
}

byId("tp-filter").addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
agentSelect?.addEventListener("change", load);

const award = byId("tp-award");
if (award && boot.can_award) {
  award.addEventListener("submit", async (event) => {
    event.preventDefault();
    byId("tp-award-error").textContent = "";
    try {
      await api("/api/v1/training/points/awards", {
        method: "POST",
        body: {
          agent_id: Number(agentSelect.value),
          points: Number(byId("tp-award-points").value),
          reason: byId("tp-award-reason").value,
        },
      });
      award.reset();
      await load();
    } catch (err) {
      showError(byId("tp-award-error"), err);
    }
  });
}
load();
