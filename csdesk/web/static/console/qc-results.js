// QC results: the findings (an agent's own only), one opened with its transcript and the
// message marked; acknowledge, or dispute with a required comment.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { t } from "./i18n.js";
import { formatDate, formatTime } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const L = boot.qc_labels;
const name = (table, key) => L[table]?.[key] ?? key;

function whoAndWhen(m) {
  const agentName = m.author?.display_name ?? t("Agent");
  return t("{who} · {time}", { who: m.sender === "agent" ? agentName : t("Buyer"), time: formatTime(m.sent_at) });
}
let current = null;

async function loadList() {
  const data = await api("/api/v1/qc/findings");
  byId("qr-unseen").textContent = data.unseen ? t("{count} new findings", { count: data.unseen }) : "";
  fillNode(
    byId("qr-list"),
    data.items.map((f) =>
      el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: `qc-row${f.seen_at ? "" : " qc-new"}`, "aria-current": f.id === current ? "true" : null, dataset: { findingId: f.id }, onclick: () => openFinding(f.id) },
          el("strong", { text: name("item", f.item) }),
          " ",
          el("span", { class: `chip qc-${f.severity}`, text: name("severity", f.severity) }),
          " ",
          el("span", { class: "chip", text: name("finding", f.status) }),
          el("span", { class: "muted small", text: ` ${f.agent?.display_name ?? ""} · ${formatDate(f.created_at)}` }),
        ),
      ),
    ),
  );
  setHidden(byId("qr-empty"), data.items.length > 0);
  if (data.unseen) await api("/api/v1/qc/findings/seen", { method: "POST", body: {} });
}

async function openFinding(findingId) {
  current = findingId;
  byId("qr-error").textContent = "";
  setHidden(byId("qr-result"), true);
  const f = await api(`/api/v1/qc/findings/${findingId}`);
  byId("qr-finding-title").textContent = `${name("item", f.item)} · ${name("severity", f.severity)}`;
  const facts = [
    [t("Status"), name("finding", f.status)],
    [t("Category"), L.category[f.category] ?? name("item", f.category)],
    [t("Points lost"), String(f.points)],
    [t("Evidence"), f.evidence],
    [t("Inspector's comment"), f.comment],
    [t("Score"), f.score ? String(f.score.total) : ""],
  ];
  if (f.dispute) facts.push([t("My dispute"), f.dispute.comment], [t("Resolution"), f.dispute.resolution_comment || t("Waiting for the QC lead")]);
  fillNode(byId("qr-facts"), facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  fillNode(
    byId("qr-messages"),
    f.messages.map((m) =>
      el(
        "li",
        { class: `qc-msg qc-msg-${m.sender}${m.id === f.message_id ? " qc-current qc-finding-msg" : ""}` },
        el("span", { class: "qc-msg-who muted small", text: whoAndWhen(m) }),
        el("span", { class: "qc-msg-text", text: m.text }),
      ),
    ),
  );
  byId("qr-messages").querySelector(".qc-finding-msg")?.scrollIntoView({ block: "nearest" });
  setHidden(byId("qr-answer"), !f.can_respond);
  byId("qr-window").textContent = t("Answer by {date}", { date: formatDate(f.respond_by) });
  byId("qr-comment").value = "";
  await loadList();
}

async function answer(kind) {
  byId("qr-error").textContent = "";
  try {
    const body = kind === "dispute" ? { comment: byId("qr-comment").value } : {};
    await api(`/api/v1/qc/findings/${current}/${kind}`, { method: "POST", body });
    const result = byId("qr-result");
    result.textContent = kind === "dispute" ? t("Disputed: the QC lead will answer.") : t("Acknowledged.");
    await openFinding(current);
    setHidden(result, false);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    byId("qr-error").textContent = error.message;
  }
}

byId("qr-ack").addEventListener("click", () => answer("acknowledge"));
byId("qr-dispute").addEventListener("click", () => answer("dispute"));
await loadList();
