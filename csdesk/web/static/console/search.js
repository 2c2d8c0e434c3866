// 会话搜索: GET /api/v1/search with the form's fields; each result opens the conversation.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, locale } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const form = byId("se-form");

function row(result) {
  return el(
    "tr",
    { dataset: { conversationId: result.id } },
    el("td", { class: "num" }, el("a", { href: `/console/conversations/${Number(result.id)}`, text: new Date(result.opened_at).toLocaleString(locale, { hour12: false }) })),
    el(
      "td",
      {},
      result.buyer
        ? el("a", { href: `/console/buyers/${Number(result.buyer.id)}`, text: result.buyer.nick })
        : "—",
    ),
    el("td", { text: result.buyer?.phone || "—" }),
    el("td", { text: result.order || "—" }),
    el("td", { text: label("kind", result.kind) }),
    el("td", { text: label("conversation_status", result.status) }),
    el("td", { text: result.agent || "—" }),
  );
}

async function run() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (String(value).trim()) params.set(name, String(value).trim());
  }
  if (![...params.keys()].length) return;
  try {
    const answer = await api(`${boot.search_api}?${params}`);
    byId("se-error").textContent = "";
    fillNode(byId("se-body"), answer.results.map(row));
    setHidden(byId("se-empty"), answer.results.length > 0);
  } catch (error) {
    byId("se-error").textContent = error.message;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  run();
});
run();
