// Taking a course: the quiz of the version I was given (single choice: radio buttons,
// multiple: check boxes), the result at once; failing keeps the course open to retry.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { t } from "./i18n.js";
import { boot, day, showError, tl, when } from "./training-common.js";

const assignment = boot.assignment;
const questions = boot.questions;
const form = byId("tk-quiz");

function renderQuestions() {
  fillNode(
    byId("tk-questions"),
    questions.map((q, n) =>
      el(
        "li",
        { class: "tr-question" },
        el(
          "fieldset",
          { dataset: { field: `answers.${q.key}` } },
          el("legend", {}, el("span", { text: q.text }), " ", el("span", { class: "chip", text: tl("kind", q.kind) })),
          q.options.map((option, k) =>
            el(
              "label",
              { class: "tr-check" },
              el("input", { type: q.kind === "single" ? "radio" : "checkbox", name: `q-${q.key}`, value: String(k), id: `tk-${n}-${k}`, disabled: !boot.can_take }),
              ` ${option}`,
            ),
          ),
        ),
      ),
    ),
  );
}

function answers() {
  const sheet = {};
  for (const q of questions) {
    const picked = [...form.querySelectorAll(`input[name="q-${CSS.escape(q.key)}"]:checked`)].map((input) => Number(input.value));
    if (picked.length) sheet[q.key] = picked;
  }
  return sheet;
}

function renderResult(attempt) {
  const r = attempt.result;
  const box = byId("tk-result");
  const head = attempt.passed
    ? t("Passed: {score}% ({correct} of {total} right).", { score: r.score, correct: r.correct, total: r.total })
    : t("Not passed yet: {score}% ({correct} of {total} right); the pass mark is {mark}%. Read the pages again and retry.", { score: r.score, correct: r.correct, total: r.total, mark: r.pass_mark });
  fillNode(
    box,
    el("p", { class: attempt.passed ? "tr-pass" : "tr-fail" }, el("strong", { text: head })),
    el(
      "ol",
      {},
      r.questions.map((qr, n) => {
        const question = questions[n] || { text: qr.key, options: [] };
        const verdict = qr.correct ? t("right") : t("wrong");
        const separator = t(", ");
        const expected = qr.expected
          ? t("Right answer: {answer}", { answer: qr.expected.map((k) => question.options[k]).join(separator) })
          : "";
        return el(
          "li",
          { class: qr.correct ? "tr-right" : "tr-wrong" },
          el("span", { text: question.text + " — " + verdict }),
          expected ? el("span", { class: "muted small", text: " " + expected }) : null,
          qr.explanation ? el("p", { class: "muted small", text: qr.explanation }) : null,
        );
      }),
    ),
  );
  setHidden(box, false);
  box.focus();
}

function renderAttempts(attempts) {
  fillNode(
    byId("tk-attempts"),
    attempts.length
      ? attempts.map((a) => {
          const outcome = a.passed ? tl("status", "passed") : t("not passed");
          return el("li", { text: [when(a.submitted_at), a.score + "%", outcome].join(" · ") });
        })
      : [el("li", { class: "muted", text: t("No attempts yet.") })],
  );
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  byId("tk-error").textContent = "";
  try {
    const answer = await api(`/api/v1/training/assignments/${assignment.id}/attempts`, { method: "POST", body: { answers: answers() } });
    renderResult(answer.attempt);
    const detail = await api(`/api/v1/training/assignments/${assignment.id}`);
    renderAttempts(detail.attempts);
    byId("tk-status").textContent = tl("status", answer.assignment.status);
    if (answer.attempt.passed) {
      boot.can_take = false;
      renderQuestions();
      setHidden(byId("tk-submit"), true);
    }
  } catch (err) {
    showError(byId("tk-error"), err, form);
  }
});

byId("tk-due").textContent =
  assignment.status === "passed"
    ? t("Passed {date}.", { date: day(assignment.passed_at) })
    : t("Due {date}.", { date: day(assignment.due_at) }) + (assignment.overdue ? ` ${tl("notice", "overdue")}` : "");
renderQuestions();
renderAttempts(boot.attempts);
setHidden(byId("tk-submit"), !boot.can_take);
if (boot.attempts.length && assignment.status === "passed") renderResult(boot.attempts[0]);
document.documentElement.dataset.training = "ready";
