// Scripts (话术): each role's current version, and publishing a new one (QC lead).

import { api, ApiError } from "./api.js";
import { byId, el, fillNode } from "./dom.js";
import { t, label } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const L = boot.qc_labels;
const name = (table, key) => L[table]?.[key] ?? key;

const FLAGS = ["require_greeting", "require_order_confirm", "require_closing", "require_rating_invite", "check_extreme_words", "check_pushy", "chase_opening"];
const FLAG_NAMES = {
  require_greeting: () => t("Greeting in the first reply"),
  require_order_confirm: () => t("Confirm the order"),
  require_closing: () => t("Closing"),
  require_rating_invite: () => t("Rating invitation"),
  check_extreme_words: () => t("Extreme advertising words (广告法)"),
  check_pushy: () => t("Pushy chasing"),
  chase_opening: () => t("Phone-chase opening on outbound calls"),
};
const TIMES = ["first_response_s", "long_gap_s", "followup_s"];
const TIME_NAMES = {
  first_response_s: () => t("First response within"),
  long_gap_s: () => t("A wait this long needs an apology"),
  followup_s: () => t("A promised follow-up within"),
};
let versions = {};

function render(role) {
  const v = versions[role];
  const s = v.script;
  const version = byId("qs-version");
  version.textContent = t("{role}, version {n}", { role: label("role", v.role), n: v.version });
  version.title = v.version_key;
  // csdesk's own notes are translated; a lead's note is their words, shown as written.
  const meta = byId("qs-meta");
  const own = v.author_id === null && v.note in L.version_note;
  meta.textContent = own ? name("version_note", v.note) : v.note || "";
  meta.toggleAttribute("data-verbatim", !own && Boolean(v.note));
  byId("qs-phrases").value = Object.entries(s.forbidden_phrases).map(([p, why]) => `${p} = ${why}`).join("\n");
  fillNode(byId("qs-flags"), el("legend", { text: t("Required steps and checks") }), FLAGS.map((f) => el("label", { class: "qc-check" }, el("input", { type: "checkbox", id: `qs-${f}`, checked: s[f] }), ` ${FLAG_NAMES[f]()}`)));
  fillNode(byId("qs-times"), el("legend", { text: t("Timing (seconds)") }), TIMES.map((f) => el("label", { class: "qcal-item" }, `${TIME_NAMES[f]()} `, el("input", { type: "number", id: `qs-${f}`, value: s[f], min: 1 }))));
  fillNode(
    byId("qs-rules"),
    Object.entries(s.rules).map(([id, rule]) =>
      el(
        "tr",
        { dataset: { rule: id } },
        el("td", { title: id, text: name("rule", id) }),
        el("td", {}, el("select", { class: "qs-severity", "aria-label": t("Severity") }, ["fatal", "major", "minor"].map((sev) => el("option", { value: sev, selected: sev === rule.severity, text: name("severity", sev) })))),
        el("td", {}, el("input", { type: "number", class: "qs-points", min: 0, max: 100, value: rule.points, "aria-label": t("Points") })),
        el("td", { class: "small", text: rule.why }),
      ),
    ),
  );
}

function changes() {
  const phrases = {};
  for (const line of byId("qs-phrases").value.split("\n")) {
    if (!line.trim()) continue;
    const [phrase, ...why] = line.split("=");
    phrases[phrase.trim()] = why.join("=").trim();
  }
  const out = { forbidden_phrases: phrases, rules: {} };
  for (const f of FLAGS) out[f] = byId(`qs-${f}`).checked;
  for (const f of TIMES) out[f] = Number(byId(`qs-${f}`).value);
  for (const row of byId("qs-rules").querySelectorAll("tr")) {
    out.rules[row.dataset.rule] = { severity: row.querySelector(".qs-severity").value, points: Number(row.querySelector(".qs-points").value) };
  }
  return out;
}

async function load() {
  const data = await api("/api/v1/qc/scripts");
  versions = Object.fromEntries(data.items.map((v) => [v.role, v]));
  const select = byId("qs-role");
  const current = select.value || data.items[0].role;
  fillNode(select, data.items.map((v) => el("option", { value: v.role, selected: v.role === current, text: label("role", v.role) })));
  render(current);
}

byId("qs-role").addEventListener("change", (e) => render(e.target.value));
byId("qs-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  byId("qs-error").textContent = "";
  const role = byId("qs-role").value;
  try {
    const saved = await api(`/api/v1/qc/scripts/${role}`, { method: "POST", body: { changes: changes(), note: byId("qs-note").value } });
    byId("qs-result").textContent = t("Published version {n}", { n: saved.version });
    byId("qs-note").value = "";
    await load();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    byId("qs-error").textContent = error.message;
  }
});
await load();
