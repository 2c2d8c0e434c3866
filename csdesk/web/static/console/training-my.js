// My courses: open ones by due date (overdue marked), then those passed; the reminders not
// seen yet, marked seen once shown.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { t } from "./i18n.js";
import { day, tl } from "./training-common.js";

export function courseRow(a) {
  const due = a.status === "passed" ? t("passed {date}", { date: day(a.passed_at) }) : t("due {date}", { date: day(a.due_at) });
  return el(
    "li",
    { class: `tr-course${a.overdue ? " tr-overdue" : ""}` },
    el("a", { href: `/console/training/my/${a.id}`, class: "tr-course-link" }, el("strong", { text: a.course_title })),
    el("span", { class: "chip", text: tl("status", a.status) }),
    a.overdue ? el("span", { class: "chip tr-late", text: tl("notice", "overdue") }) : null,
    el("span", { class: "muted small", text: ` ${due} · ${tl("source", a.source)}` }),
  );
}

export function noticeRow(n) {
  return el(
    "li",
    { class: `tr-notice tr-notice-${n.kind}` },
    el("strong", { text: tl("notice", n.kind) }),
    " ",
    el("a", { href: `/console/training/my/${n.assignment_id}`, text: n.course_title }),
    el("span", { class: "muted small", text: ` ${t("due {date}", { date: day(n.due_at) })}` }),
  );
}

async function load() {
  const data = await api("/api/v1/training/my");
  fillNode(byId("tm-notices"), data.notices.map(noticeRow));
  fillNode(byId("tm-list"), data.items.map(courseRow));
  setHidden(byId("tm-empty"), data.items.length > 0);
  if (data.notices.length) await api("/api/v1/training/notices/seen", { method: "POST", body: {} });
  document.documentElement.dataset.training = "ready";
}

if (byId("training-my")) {
  load().catch((err) => {
    byId("tm-error").textContent = err.message;
  });
}
