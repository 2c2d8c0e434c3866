// Calibration: the lead creates a session; inspectors score its conversations blind;
// closing shows Krippendorff's α overall and per item, and each inspector's drift.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const L = boot.qc_labels;
const name = (table, key) => L[table]?.[key] ?? key;
let session = null;

const alphaText = (a) => (a && a.alpha !== null && a.alpha !== undefined ? a.alpha.toFixed(3) : t("not defined"));

async function loadList() {
  const data = await api("/api/v1/qc/calibrations");
  fillNode(
    byId("qcal-list"),
    data.items.map((s) =>
      el("li", {}, el("button", { type: "button", class: "qc-row", dataset: { sessionId: s.id }, onclick: () => openSession(s.id) }, el("strong", { text: s.title }), " ", el("span", { class: "chip", text: s.status === "open" ? t("Open") : t("Closed") }), s.status === "closed" ? el("span", { class: "muted small", text: ` α ${alphaText(s.result.overall)}` }) : null)),
    ),
  );
  setHidden(byId("qcal-empty"), data.items.length > 0);
}

async function loadCreate() {
  if (!boot.is_lead) return;
  setHidden(byId("qcal-create"), false);
  const [queue, people] = await Promise.all([api("/api/v1/qc/queue?all=1&status="), api("/api/v1/qc/inspectors")]);
  const box = (cls, value, text) => el("label", { class: "qc-check" }, el("input", { type: "checkbox", class: cls, value }), ` ${text}`);
  fillNode(byId("qcal-conversations"), el("legend", { text: t("Conversations") }), queue.items.map((r) => box("qcal-conv", r.conversation_id, `${r.buyer_nick || ""} #${r.conversation_id}`)));
  fillNode(byId("qcal-inspectors"), el("legend", { text: t("Inspectors") }), people.items.map((p) => box("qcal-insp", p.id, p.display_name)));
}

async function create() {
  byId("qcal-create-error").textContent = "";
  const ids = (cls) => [...document.querySelectorAll(`.${cls}:checked`)].map((i) => Number(i.value));
  try {
    const created = await api("/api/v1/qc/calibrations", { method: "POST", body: { title: byId("qcal-title").value, conversation_ids: ids("qcal-conv"), inspector_ids: ids("qcal-insp") } });
    await loadList();
    await openSession(created.id);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    byId("qcal-create-error").textContent = error.message;
  }
}

function unitForm(s, conversation) {
  const mine = s.scores.find((x) => x.conversation_id === conversation.id && x.inspector_id === boot.user.id);
  const selects = s.scorecard.items.map((item) => {
    const options = item.critical ? [[1, t("Pass")], [0, t("Fail")]] : [["", t("N/A")], ...[...Array(item.max_rating + 1).keys()].reverse().map((n) => [n, String(n)])];
    const select = el("select", { class: "qcal-rating", dataset: { item: item.key }, "aria-label": name("item", item.key) }, options.map(([v, text]) => el("option", { value: v, text })));
    const value = mine?.items[item.key]?.rating;
    select.value = value === null || value === undefined ? (item.critical ? "1" : String(item.max_rating)) : String(value);
    return el("label", { class: "qcal-item" }, name("item", item.key), " ", select);
  });
  const status = el("span", { class: "muted small", role: "status", text: mine ? t("Scored: {total}", { total: mine.total }) : "" });
  const transcript = el("ol", { class: "qc-messages qcal-transcript", hidden: true });
  const send = async () => {
    byId("qcal-error").textContent = "";
    const items = {};
    for (const select of form.querySelectorAll(".qcal-rating")) items[select.dataset.item] = { rating: select.value === "" ? null : Number(select.value) };
    try {
      const saved = await api(`/api/v1/qc/calibrations/${s.id}/scores`, { method: "POST", body: { conversation_id: conversation.id, items } });
      status.textContent = t("Scored: {total}", { total: saved.total });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      byId("qcal-error").textContent = error.message;
    }
  };
  const show = async () => {
    const data = await api(`/api/v1/qc/calibrations/${s.id}/conversations/${conversation.id}`);
    fillNode(transcript, data.messages.map((m) => el("li", { class: `qc-msg qc-msg-${m.sender}` }, el("span", { class: "qc-msg-text", text: m.text }))));
    transcript.hidden = !transcript.hidden;
  };
  const form = el(
    "fieldset",
    { class: "qcal-unit", dataset: { conversationId: conversation.id } },
    el("legend", { text: `${conversation.buyer_nick || ""} #${conversation.id}` }),
    el("button", { type: "button", class: "btn btn-quiet", onclick: show, text: t("Transcript") }),
    transcript,
    selects,
    el("button", { type: "button", class: "btn btn-primary qcal-send", onclick: send, text: t("Save my score") }),
    status,
  );
  return form;
}

async function openSession(id) {
  byId("qcal-error").textContent = "";
  const s = await api(`/api/v1/qc/calibrations/${id}`);
  session = s;
  setHidden(byId("qcal-session"), false);
  byId("qcal-session-title").textContent = s.title;
  const names = Object.fromEntries(s.inspectors.map((i) => [String(i.id), i.display_name]));
  byId("qcal-progress").textContent = s.inspectors.map((i) => `${i.display_name}: ${s.progress[String(i.id)]}/${s.conversations.length}`).join(" · ");
  const scoring = s.status === "open" && s.inspector_ids.includes(boot.user.id);
  fillNode(byId("qcal-units"), scoring ? s.conversations.map((c) => unitForm(s, c)) : []);
  setHidden(byId("qcal-close"), !(boot.is_lead && s.status === "open"));
  setHidden(byId("qcal-result"), s.status !== "closed");
  if (s.status === "closed") {
    byId("qcal-alpha").textContent = alphaText(s.result.overall);
    fillNode(byId("qcal-items"), Object.entries(s.result.items).map(([key, a]) => el("tr", {}, el("td", { text: name("item", key) }), el("td", { text: alphaText(a) }))));
    const verdicts = { too_strict: t("Too strict"), in_line: t("In line"), too_lenient: t("Too lenient") };
    fillNode(byId("qcal-drift"), s.result.drift.map((d) => el("tr", {}, el("td", { text: names[d.rater] ?? d.rater }), el("td", { text: d.mean_deviation.toFixed(1) }), el("td", { text: verdicts[d.verdict] ?? d.verdict }))));
  }
}

byId("qcal-create-btn").addEventListener("click", create);
byId("qcal-close").addEventListener("click", async () => {
  byId("qcal-error").textContent = "";
  try {
    await api(`/api/v1/qc/calibrations/${session.id}/close`, { method: "POST", body: {} });
    await openSession(session.id);
    await loadList();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    byId("qcal-error").textContent = error.message;
  }
});
await Promise.all([loadList(), loadCreate()]);
