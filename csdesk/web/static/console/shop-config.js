// The shop's own rules. One document (the overrides JSON of /api/v1/shop/config) is the
// state: the form fields and the phrase table read and write their keys in it, the JSON
// view shows all of it and may be edited directly. The server checks the document exactly
// as routing reads it and answers a mistake with the key that is wrong; shown as it comes.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const form = boot.form;
const editable = boot.can_edit;
const text = byId("sc-text");
const reason = byId("sc-reason");
const error = byId("sc-error");
const jsonError = byId("sc-json-error");
const result = byId("sc-result");
const rowsBody = byId("sc-phrase-rows");

let doc = {};
let jsonValid = true; // the JSON view parses (else saving would send an older document)

// -- the document ----------------------------------------------------------------------

function getPath(path) {
  let node = doc;
  for (const part of path) {
    if (node === null || typeof node !== "object" || !(part in node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Set a dotted key; ``undefined`` removes it and any object it leaves empty. */
function setPath(path, value) {
  const parents = [doc];
  let node = doc;
  for (const part of path.slice(0, -1)) {
    if (node[part] === null || typeof node[part] !== "object" || Array.isArray(node[part])) {
      if (value === undefined) return;
      node[part] = {};
    }
    node = node[part];
    parents.push(node);
  }
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  for (let depth = path.length - 1; depth > 0; depth -= 1) {
    const child = parents[depth];
    if (Object.keys(child).length) break;
    delete parents[depth - 1][path[depth - 1]];
  }
}

function showJson() {
  text.value = JSON.stringify(doc, null, 2);
  jsonValid = true;
  jsonError.textContent = "";
  text.removeAttribute("aria-invalid");
}

function changed() {
  showJson();
  setHidden(result, true);
}

// -- promotion and timers ----------------------------------------------------------------

const FIELD_LABELS = {
  "routing.payment_chasing.delay_s": t("First payment reminder after"),
  "routing.payment_chasing.max_attempts": t("Payment reminders per order (within 24 h)"),
  "routing.payment_chasing.quiet_start": t("No payment reminders from"),
  "routing.payment_chasing.quiet_end": t("No payment reminders until"),
  "routing.payment_chasing.big_order_fen": t("Orders from this amount are chased by phone (hotline)"),
  "routing.refund.unshipped_deadline_s": t("Platform auto-approves a refund, not shipped, after"),
  "routing.refund.shipped_deadline_s": t("Platform auto-approves a refund, shipped or returned, after"),
  "assignment.protection_s": t("Returning buyer goes back to their agent for"),
  "assignment.unanswered_reassign_s": t("Reassign an assigned chat left unanswered for"),
};
const UNITS = {
  minutes: { factor: 60, unit: t("minutes") },
  hours: { factor: 3600, unit: t("hours") },
  yuan: { factor: 100, unit: t("yuan") },
  count: { factor: 1, unit: t("times") },
};

function shown(field, stored) {
  if (field.unit === "clock") return stored;
  return String(stored / UNITS[field.unit].factor);
}

function stored(field, raw) {
  if (raw.trim() === "") return undefined;
  if (field.unit === "clock") return raw.trim();
  const number = Number(raw);
  // Not a number: kept as typed, so the server names the key rather than the page guessing.
  if (!Number.isFinite(number)) return raw.trim();
  return Math.round(number * UNITS[field.unit].factor);
}

function fieldRow(field) {
  const id = `sc-field-${field.key.replaceAll(".", "-")}`;
  const path = field.key.split(".");
  const unit = field.unit === "clock" ? null : UNITS[field.unit];
  const input = el("input", {
    id,
    type: field.unit === "clock" ? "text" : "number",
    inputmode: field.unit === "clock" ? "numeric" : "decimal",
    pattern: field.unit === "clock" ? "[0-2][0-9]:[0-5][0-9]" : null,
    step: field.unit === "yuan" ? "0.01" : "1",
    min: field.unit === "clock" ? null : "0",
    placeholder: shown(field, field.default),
    disabled: !editable,
    "data-key": field.key,
  });
  const value = getPath(path);
  input.value = value === undefined ? "" : shown(field, value);
  input.addEventListener("input", () => {
    setPath(path, stored(field, input.value));
    changed();
  });
  const hint = t("default {value}", { value: shown(field, field.default) });
  return [
    el("label", { for: id, text: FIELD_LABELS[field.key] || field.key }),
    el("span", { class: "sc-value" }, input, unit ? ` ${unit.unit}` : ""),
    el("span", { class: "muted small", text: hint }),
  ];
}

function renderCommon() {
  const select = byId("sc-promotion");
  const current = doc.promotion ?? "";
  fillNode(
    select,
    el("option", { value: "", text: t("None") }),
    form.promotions.map((name) => el("option", { value: name, text: label("promotion", name) })),
  );
  if (current && !form.promotions.includes(current)) {
    select.append(el("option", { value: current, text: current }));
  }
  select.value = current;
  select.disabled = !editable;
  fillNode(byId("sc-fields"), form.fields.flatMap(fieldRow));
}

byId("sc-promotion").addEventListener("change", (event) => {
  const value = event.target.value;
  if (value) doc.promotion = value;
  else delete doc.promotion;
  changed();
});

// -- triage phrases ----------------------------------------------------------------------

const PHRASES = ["routing", "triage", "phrases"];

function choice(values, current, labelTable, name) {
  return el(
    "select",
    { "aria-label": name, disabled: !editable },
    el("option", { value: "", text: "—" }),
    values.map((value) =>
      el("option", { value, text: label(labelTable, value), selected: value === current }),
    ),
  );
}

function builtinText(phrase) {
  const rule = form.phrases[phrase.trim()];
  if (!rule) return t("new");
  const parts = [];
  if (rule.intent) parts.push(label("intent", rule.intent));
  if (rule.risk) parts.push(label("risk", rule.risk));
  parts.push(t("weight {weight}", { weight: rule.weight }));
  return parts.join(" · ");
}

function phraseRow(phrase, edit) {
  const off = edit === null;
  const phraseInput = el("input", {
    type: "text",
    value: phrase,
    maxlength: "40",
    "aria-label": t("Phrase"),
    disabled: !editable,
  });
  const intent = choice(form.intents, off ? "" : edit.intent ?? "", "intent", t("Intent"));
  const risk = choice(form.risks, off ? "" : edit.risk ?? "", "risk", t("Risk"));
  const weight = el("input", {
    type: "number",
    step: "0.5",
    min: "0",
    value: off || edit.weight === undefined ? "" : String(edit.weight),
    "aria-label": t("Weight"),
    disabled: !editable,
  });
  const offBox = el("input", {
    type: "checkbox",
    checked: off,
    "aria-label": t("Switch the built-in phrase off"),
    disabled: !editable,
  });
  const builtin = el("td", { class: "muted small", text: builtinText(phrase) });
  const remove = el("button", {
    type: "button",
    class: "btn btn-small",
    text: t("Remove"),
    "aria-label": t("Remove the row"),
    hidden: !editable,
  });
  const row = el(
    "tr",
    {},
    el("td", {}, phraseInput),
    el("td", {}, intent),
    el("td", {}, risk),
    el("td", {}, weight),
    el("td", {}, offBox),
    builtin,
    el("td", {}, remove),
  );
  row.read = () => {
    const key = phraseInput.value.trim();
    if (!key) return null;
    if (offBox.checked) return [key, null];
    const entry = {};
    if (intent.value) entry.intent = intent.value;
    if (risk.value) entry.risk = risk.value;
    if (weight.value !== "") entry.weight = Number(weight.value);
    return [key, entry];
  };
  const sync = () => {
    for (const field of [intent, risk, weight]) field.disabled = !editable || offBox.checked;
    builtin.textContent = builtinText(phraseInput.value);
    readPhrases();
  };
  for (const field of [phraseInput, intent, risk, weight, offBox]) {
    field.addEventListener(field.tagName === "SELECT" || field === offBox ? "change" : "input", sync);
  }
  remove.addEventListener("click", () => {
    row.remove();
    readPhrases();
  });
  for (const field of [intent, risk, weight]) field.disabled = !editable || off;
  return row;
}

/** The table → ``routing.triage.phrases`` (a phrase written twice: the lower row wins). */
function readPhrases() {
  const phrases = {};
  for (const row of rowsBody.children) {
    const read = row.read();
    if (read) phrases[read[0]] = read[1];
  }
  setPath(PHRASES, Object.keys(phrases).length ? phrases : undefined);
  setHidden(byId("sc-no-phrases"), rowsBody.children.length > 0);
  changed();
}

function renderPhrases() {
  const phrases = getPath(PHRASES);
  const entries =
    phrases && typeof phrases === "object" && !Array.isArray(phrases) ? Object.entries(phrases) : [];
  fillNode(
    rowsBody,
    entries.map(([phrase, edit]) =>
      phraseRow(phrase, edit === null || typeof edit === "object" ? edit : {}),
    ),
  );
  setHidden(byId("sc-no-phrases"), entries.length > 0);
}

byId("sc-add-phrase").addEventListener("click", () => {
  const row = phraseRow("", {});
  rowsBody.append(row);
  setHidden(byId("sc-no-phrases"), true);
  row.querySelector("input").focus();
});

// -- trying a message --------------------------------------------------------------------

function verdict(title, triage) {
  return el(
    "div",
    { class: "sc-verdict" },
    el("h4", { text: title }),
    el(
      "p",
      {},
      el("strong", { text: label("intent", triage.intent) }),
      ` → ${label("role", triage.role)} · ${label("risk", triage.risk)}`,
    ),
    el(
      "ul",
      { class: "small" },
      triage.reasons.map((reason) => el("li", { text: reason })),
    ),
  );
}

async function tryMessage() {
  const out = byId("sc-try-result");
  const message = byId("sc-try-text").value;
  try {
    const answer = await api(boot.preview_api, { method: "POST", body: { config: doc, text: message } });
    fillNode(
      out,
      verdict(t("With these changes"), answer.draft),
      verdict(t("With the saved rules"), answer.saved),
    );
  } catch (problem) {
    fillNode(out, el("p", { class: "field-error", text: problem instanceof ApiError ? problem.message : String(problem) }));
  }
  setHidden(out, false);
}

byId("sc-try").addEventListener("click", tryMessage);
byId("sc-try-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    tryMessage();
  }
});

// -- the JSON view and saving ------------------------------------------------------------

function renderAll() {
  renderCommon();
  renderPhrases();
  showJson();
}

text.addEventListener("input", () => {
  try {
    const parsed = JSON.parse(text.value || "{}");
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error(t("the rules must be a JSON object"));
    }
    doc = parsed;
    jsonValid = true;
    renderCommon();
    renderPhrases();
    jsonError.textContent = "";
    text.removeAttribute("aria-invalid");
  } catch (problem) {
    jsonValid = false;
    jsonError.textContent = t("Not valid JSON: {problem}", { problem: problem.message });
    text.setAttribute("aria-invalid", "true");
  }
});

function fail(message) {
  error.textContent = message;
  setHidden(result, true);
}

/** Point at what the server named: a form field, a phrase's row, else the JSON view. */
function markInvalid(key) {
  const phrasePrefix = `${PHRASES.join(".")}.`;
  let target = null;
  if (key && key.startsWith(phrasePrefix)) {
    const rest = key.slice(phrasePrefix.length);
    for (const row of rowsBody.children) {
      const input = row.querySelector('input[type="text"]');
      const phrase = input.value.trim();
      if (phrase && (rest === phrase || rest.startsWith(`${phrase}.`))) target = input;
    }
  } else if (key) {
    target = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
  }
  if (!target) {
    byId("sc-json").open = true;
    target = text;
  }
  target.setAttribute("aria-invalid", "true");
  target.dataset.marked = "server";
  target.focus();
}

function clearMarks() {
  for (const node of document.querySelectorAll("#shop-config [data-marked]")) {
    delete node.dataset.marked;
    if (node !== text || jsonValid) node.removeAttribute("aria-invalid");
  }
}

async function save() {
  error.textContent = "";
  result.textContent = "";
  setHidden(result, true);
  clearMarks();
  if (!jsonValid) {
    byId("sc-json").open = true;
    fail(jsonError.textContent);
    text.focus();
    return;
  }
  try {
    const saved = await api(boot.api, { method: "PUT", body: { config: doc, reason: reason.value } });
    doc = saved.config;
    renderAll();
    reason.value = "";
    result.textContent = t("Saved. Routing uses the new rules within 2 seconds.");
    setHidden(result, false);
    result.focus();
  } catch (problem) {
    fail(problem instanceof ApiError ? problem.message : String(problem));
    if (problem instanceof ApiError && problem.status === 400) markInvalid(problem.field);
  }
}

doc = boot.config;
renderAll();
text.readOnly = !editable;
setHidden(byId("sc-add-phrase"), !editable);
setHidden(byId("sc-edit"), !editable);
setHidden(byId("sc-readonly"), editable);
byId("sc-save").addEventListener("click", save);
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "s" && editable) {
    event.preventDefault();
    save();
  }
});
