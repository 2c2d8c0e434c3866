// The course editor: pages (Markdown) and a quiz (single or multiple choice, the right
// options marked, a pass mark), the course's categories, roles, starter flag and due days;
// saving changed content makes a new version. Beside it: give the course, its rules, its
// images. The preview below is the server's rendering of the shown version.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { boot, clearErrors, showError, tl } from "./training-common.js";

const course = boot.course; // null for a new course
const ROLES = ["presales", "order_review", "payment_chasing", "aftersales_triage", "refund", "hotline"];
const form = byId("tc-form");
const pagesBox = byId("tc-pages");
const questionsBox = byId("tc-questions");

const state = course
  ? structuredClone(course.shown.content)
  : { title: "", summary: "", pages: [{ title: "", body: "" }], questions: [], pass_mark: 80 };
if (!course) state.questions.push(blankQuestion());

function blankQuestion() {
  return { text: "", kind: "single", options: ["", ""], answer: [0], explanation: "" };
}

function move(list, index, delta) {
  const target = index + delta;
  if (target < 0 || target >= list.length) return;
  [list[index], list[target]] = [list[target], list[index]];
}

function renderPages() {
  fillNode(
    pagesBox,
    state.pages.map((page, n) =>
      el(
        "li",
        { class: "tr-block" },
        el("div", { class: "field" }, el("label", { for: `tc-page-title-${n}`, text: t("Page {n} title", { n: n + 1 }) }), el("input", { id: `tc-page-title-${n}`, type: "text", maxlength: "120", value: page.title, dataset: { field: `content.pages[${n}].title` }, oninput: (e) => { page.title = e.target.value; } })),
        el("div", { class: "field" }, el("label", { for: `tc-page-body-${n}`, text: t("Page {n} text (Markdown)", { n: n + 1 }) }), el("textarea", { id: `tc-page-body-${n}`, rows: "8", maxlength: "20000", dataset: { field: `content.pages[${n}].body` }, oninput: (e) => { page.body = e.target.value; } }, page.body)),
        el(
          "div",
          { class: "tr-block-actions" },
          el("button", { type: "button", class: "btn btn-quiet", text: t("Move up"), disabled: n === 0, onclick: () => { move(state.pages, n, -1); renderPages(); } }),
          el("button", { type: "button", class: "btn btn-quiet", text: t("Move down"), disabled: n === state.pages.length - 1, onclick: () => { move(state.pages, n, 1); renderPages(); } }),
          el("button", { type: "button", class: "btn btn-quiet", text: t("Remove page"), disabled: state.pages.length === 1, onclick: () => { state.pages.splice(n, 1); renderPages(); } }),
        ),
      ),
    ),
  );
}

function renderQuestions() {
  fillNode(
    questionsBox,
    state.questions.map((q, n) => {
      const answerType = q.kind === "single" ? "radio" : "checkbox";
      return el(
        "li",
        { class: "tr-block" },
        el("div", { class: "field" }, el("label", { for: `tc-q-text-${n}`, text: t("Question {n}", { n: n + 1 }) }), el("input", { id: `tc-q-text-${n}`, type: "text", maxlength: "500", value: q.text, dataset: { field: `content.questions[${n}].text` }, oninput: (e) => { q.text = e.target.value; } })),
        el(
          "div",
          { class: "field" },
          el("label", { for: `tc-q-kind-${n}`, text: t("Kind") }),
          el(
            "select",
            { id: `tc-q-kind-${n}`, dataset: { field: `content.questions[${n}].kind` }, onchange: (e) => { q.kind = e.target.value; if (q.kind === "single") q.answer = q.answer.slice(0, 1); renderQuestions(); } },
            ["single", "multiple"].map((kind) => el("option", { value: kind, text: tl("kind", kind), selected: q.kind === kind })),
          ),
        ),
        el(
          "fieldset",
          { class: "tr-options", dataset: { field: `content.questions[${n}].answer` } },
          el("legend", { text: t("Options (mark the right ones)") }),
          q.options.map((option, k) =>
            el(
              "div",
              { class: "tr-option" },
              el("input", { type: answerType, name: `tc-q-answer-${n}`, id: `tc-q-${n}-right-${k}`, checked: q.answer.includes(k), "aria-label": t("Option {k} is right", { k: k + 1 }), onchange: (e) => {
                if (q.kind === "single") q.answer = [k];
                else if (e.target.checked) q.answer = [...new Set([...q.answer, k])].sort();
                else q.answer = q.answer.filter((a) => a !== k);
              } }),
              el("input", { type: "text", maxlength: "200", value: option, "aria-label": t("Option {k}", { k: k + 1 }), dataset: { field: `content.questions[${n}].options[${k}]` }, oninput: (e) => { q.options[k] = e.target.value; } }),
              el("button", { type: "button", class: "btn btn-quiet", text: t("Remove option"), "aria-label": t("Remove option {k}", { k: k + 1 }), disabled: q.options.length <= 2, onclick: () => {
                q.options.splice(k, 1);
                q.answer = q.answer.filter((a) => a !== k).map((a) => (a > k ? a - 1 : a));
                if (!q.answer.length) q.answer = [0];
                renderQuestions();
              } }),
            ),
          ),
          el("button", { type: "button", class: "btn btn-quiet", text: t("Add option"), disabled: q.options.length >= 8, onclick: () => { q.options.push(""); renderQuestions(); } }),
        ),
        el("div", { class: "field" }, el("label", { for: `tc-q-why-${n}`, text: t("Explanation (shown once passed)") }), el("input", { id: `tc-q-why-${n}`, type: "text", maxlength: "500", value: q.explanation || "", dataset: { field: `content.questions[${n}].explanation` }, oninput: (e) => { q.explanation = e.target.value; } })),
        el("div", { class: "tr-block-actions" }, el("button", { type: "button", class: "btn btn-quiet", text: t("Remove question"), disabled: state.questions.length === 1, onclick: () => { state.questions.splice(n, 1); renderQuestions(); } })),
      );
    }),
  );
}

function renderChecks(box, keys, chosen, name) {
  fillNode(
    box,
    keys.map((key) =>
      el("label", { class: "tr-check" }, el("input", { type: "checkbox", value: key, checked: chosen.includes(key), name }), ` ${name === "role" ? label("role", key) : tl("category", key)}`),
    ),
  );
}

function checked(box) {
  return [...box.querySelectorAll("input:checked")].map((input) => input.value);
}

function fillForm() {
  byId("tc-title").value = state.title;
  byId("tc-summary").value = state.summary || "";
  byId("tc-pass").value = String(state.pass_mark);
  renderPages();
  renderQuestions();
  renderChecks(byId("tc-categories"), boot.categories, course ? course.categories : [], "category");
  renderChecks(byId("tc-roles"), ROLES, course ? course.roles : [], "role");
  byId("tc-starter").checked = course ? course.starter : false;
  byId("tc-due").value = String(course ? course.due_days : 7);
  if (course) byId("tc-status").value = course.status;
}

async function save(event) {
  event?.preventDefault();
  clearErrors(form);
  byId("tc-error").textContent = "";
  setHidden(byId("tc-done"), true);
  state.title = byId("tc-title").value;
  state.summary = byId("tc-summary").value;
  state.pass_mark = Number(byId("tc-pass").value);
  const body = {
    content: state,
    categories: checked(byId("tc-categories")),
    roles: checked(byId("tc-roles")),
    starter: byId("tc-starter").checked,
    due_days: Number(byId("tc-due").value),
    note: byId("tc-note").value,
  };
  if (course) body.status = byId("tc-status").value;
  try {
    const saved = course
      ? await api(`/api/v1/training/courses/${course.id}`, { method: "PUT", body })
      : await api("/api/v1/training/courses", { method: "POST", body });
    window.location.assign(`/console/training/courses/${saved.id}`);
  } catch (err) {
    showError(byId("tc-error"), err, form);
  }
}

// -- beside the editor: give the course, its rules, its images ---------------------------------

function target() {
  return form.ownerDocument.querySelector('input[name="tc-target"]:checked').value;
}

function showTarget() {
  setHidden(byId("tc-agents-box"), target() !== "agents");
  setHidden(byId("tc-role-box"), target() === "agents");
  setHidden(byId("tc-shift-box"), target() !== "shift");
}

async function setUpAssign() {
  const agents = await api("/api/v1/training/agents");
  fillNode(
    byId("tc-agents"),
    agents.items.map((a) => {
      const separator = t(", ");
      const starter = t("new starter");
      const parts = [a.display_name, a.roles.map((r) => label("role", r)).join(separator)];
      if (a.trainee) parts.push(starter);
      return el("option", { value: String(a.id), text: parts.join(" · ") });
    }),
  );
  byId("tc-role").append(...ROLES.map((r) => el("option", { value: r, text: label("role", r) })));
  byId("tc-assign-due").value = String(course.due_days);
  for (const radio of document.querySelectorAll('input[name="tc-target"]')) {
    radio.addEventListener("change", showTarget);
  }
  showTarget();
  byId("tc-assign").addEventListener("submit", async (event) => {
    event.preventDefault();
    byId("tc-assign-error").textContent = "";
    setHidden(byId("tc-assign-done"), true);
    const body = { due_days: Number(byId("tc-assign-due").value) };
    if (target() === "agents") {
      body.agent_ids = [...byId("tc-agents").selectedOptions].map((o) => Number(o.value));
    } else {
      if (byId("tc-role").value) body.role = byId("tc-role").value;
      if (target() === "shift") {
        const local = byId("tc-shift").value;
        body.shift_at = local ? new Date(local).toISOString() : "";
      }
      if (!body.role && !body.shift_at && target() === "role") body.role = "";
    }
    try {
      const result = await api(`/api/v1/training/courses/${course.id}/assign`, { method: "POST", body });
      byId("tc-assign-done").textContent = t("Given to {n}; {m} already had it open.", { n: result.assigned.length, m: result.skipped.length });
      setHidden(byId("tc-assign-done"), false);
    } catch (err) {
      showError(byId("tc-assign-error"), err, byId("tc-assign"));
    }
  });
}

function renderRules(rules) {
  fillNode(
    byId("tc-rules"),
    rules.length
      ? rules.map((r) => el("li", { text: t("{n} × {category} within {days} days → due in {due} days", { n: r.threshold, category: tl("category", r.category), days: r.window_days, due: r.due_days }) }))
      : [el("li", { class: "muted", text: t("No rule gives this course yet.") })],
  );
}

function setUpRules() {
  renderRules(course.rules);
  byId("tr-category").append(...boot.categories.map((k) => el("option", { value: k, text: tl("category", k) })));
  if (course.categories.length) byId("tr-category").value = course.categories[0];
  byId("tc-rule").addEventListener("submit", async (event) => {
    event.preventDefault();
    byId("tr-rule-error").textContent = "";
    try {
      await api("/api/v1/training/rules", {
        method: "POST",
        body: {
          category: byId("tr-category").value,
          course_id: course.id,
          threshold: Number(byId("tr-threshold").value),
          window_days: Number(byId("tr-window").value),
          due_days: Number(byId("tr-rule-due").value),
        },
      });
      const detail = await api(`/api/v1/training/courses/${course.id}`);
      renderRules(detail.rules);
    } catch (err) {
      showError(byId("tr-rule-error"), err);
    }
  });
}

function renderAssets(assets) {
  fillNode(
    byId("tc-assets"),
    assets.length
      ? assets.map((a) => el("li", {}, el("code", { text: `![${a.name}](asset:${a.name})` })))
      : [el("li", { class: "muted", text: t("No images yet.") })],
  );
}

function setUpAssets() {
  renderAssets(course.assets);
  byId("tc-asset").addEventListener("submit", async (event) => {
    event.preventDefault();
    byId("tc-asset-error").textContent = "";
    const file = byId("tc-asset-file").files[0];
    const data = new FormData();
    data.append("name", byId("tc-asset-name").value);
    if (file) data.append("file", file);
    const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
    const response = await fetch(`/api/v1/training/courses/${course.id}/assets`, { method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, Accept: "application/json" } });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      byId("tc-asset-error").textContent = answer.error || t("Request failed ({status}).", { status: response.status });
      return;
    }
    course.assets.push({ name: answer.name, content_type: answer.content_type });
    renderAssets(course.assets);
    byId("tc-asset").reset();
  });
}

byId("tc-add-page").addEventListener("click", () => {
  state.pages.push({ title: "", body: "" });
  renderPages();
  byId(`tc-page-title-${state.pages.length - 1}`).focus();
});
byId("tc-add-question").addEventListener("click", () => {
  state.questions.push(blankQuestion());
  renderQuestions();
  byId(`tc-q-text-${state.questions.length - 1}`).focus();
});
form.addEventListener("submit", save);
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s" && boot.can_manage) {
    event.preventDefault();
    save();
  }
});

fillForm();
if (!boot.can_manage) {
  for (const node of form.querySelectorAll("input, textarea, select, button")) node.disabled = true;
}
const ready = course && boot.can_manage ? Promise.all([setUpAssign(), setUpRules(), setUpAssets()]) : Promise.resolve();
if (course && !boot.can_manage) {
  for (const id of ["tc-assign", "tc-rule", "tc-asset"]) setHidden(byId(id), true);
  renderRules(course.rules);
  renderAssets(course.assets);
}
ready.then(() => {
  document.documentElement.dataset.training = "ready";
});
