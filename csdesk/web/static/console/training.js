// The trainer's desk: the catalog, overdue courses by team, the rules, the assignments,
// the shop's training settings (trainers change them; supervisors and owners read).

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { boot, day, showError, tl } from "./training-common.js";

const POINT_KEYS = [
  ["finding.minor", () => t("Finding, minor")],
  ["finding.major", () => t("Finding, major")],
  ["finding.fatal", () => t("Finding, critical")],
  ["praise_per_bonus", () => t("Per QC bonus point")],
  ["rating.5", () => t("Buyer rating 5")],
  ["rating.4", () => t("Buyer rating 4")],
  ["rating.2", () => t("Buyer rating 2")],
  ["rating.1", () => t("Buyer rating 1")],
  ["recovered_chase", () => t("Chased order paid")],
  ["course_passed", () => t("Course passed")],
];

async function loadCourses() {
  const data = await api("/api/v1/training/courses");
  fillNode(
    byId("tr-courses"),
    data.items.map((c) =>
      el(
        "tr",
        { class: c.status === "archived" ? "tr-archived" : null },
        el("td", {}, el("a", { href: `/console/training/courses/${c.id}`, text: c.title }), c.starter ? el("span", { class: "chip", text: t("Starter") }) : null, c.status === "archived" ? el("span", { class: "chip", text: tl("course_status", "archived") }) : null),
        el("td", { text: `v${c.version}` }),
        el("td", { text: c.roles.map((r) => label("role", r)).join(t(", ")) }),
        el("td", { text: c.categories.map((k) => tl("category", k)).join(t(", ")) }),
        el("td", { text: String(c.open) }),
        el("td", { class: c.overdue ? "tr-late" : null, text: String(c.overdue) }),
        el("td", { text: String(c.passed) }),
        el("td", {}, el("a", { href: `/console/training/courses/${c.id}/effect`, text: t("Effect") })),
      ),
    ),
  );
  setHidden(byId("tr-courses-empty"), data.items.length > 0);
  return data.items;
}

async function loadOverdue() {
  const data = await api("/api/v1/training/overdue");
  byId("tr-overdue-count").textContent = data.total ? `(${data.total})` : "";
  if (!data.total) {
    fillNode(byId("tr-overdue"), el("p", { class: "muted", text: t("No overdue courses.") }));
    return;
  }
  fillNode(
    byId("tr-overdue"),
    data.teams.map((group) =>
      el(
        "div",
        { class: "tr-team" },
        el("h3", { text: `${group.name || tl("team", group.team)} (${group.items.length})` }),
        el(
          "ul",
          { class: "tr-plain" },
          group.items.map((a) =>
            el("li", {}, el("strong", { text: a.agent.display_name }), ` · ${a.course_title} · `, el("span", { class: "tr-late", text: t("due {date}", { date: day(a.due_at) }) })),
          ),
        ),
      ),
    ),
  );
}

async function loadRules() {
  const data = await api("/api/v1/training/rules");
  fillNode(
    byId("tr-rules"),
    data.items.map((r) =>
      el(
        "tr",
        {},
        el("td", { text: tl("category", r.category) }),
        el("td", { text: String(r.threshold) }),
        el("td", { text: String(r.window_days) }),
        el("td", {}, el("a", { href: `/console/training/courses/${r.course_id}`, text: r.course_title })),
        el("td", { text: String(r.due_days) }),
        el("td", { text: r.active ? t("Yes") : t("No") }),
      ),
    ),
  );
  setHidden(byId("tr-rules-empty"), data.items.length > 0);
}

async function loadAssignments() {
  const status = byId("tr-assign-status").value;
  const data = await api(`/api/v1/training/assignments?status=${status}`);
  fillNode(
    byId("tr-assignments"),
    data.items.map((a) =>
      el(
        "tr",
        { class: a.overdue ? "tr-overdue" : null },
        el("td", { text: a.agent.display_name }),
        el("td", {}, el("a", { href: `/console/training/my/${a.id}`, text: `${a.course_title} (v${a.version})` })),
        el("td", { text: tl("source", a.source) }),
        el("td", { class: a.overdue ? "tr-late" : null, text: a.status === "passed" ? t("passed {date}", { date: day(a.passed_at) }) : day(a.due_at) }),
        el("td", { text: String(a.attempts) }),
        el("td", { text: a.best_score === null ? "—" : `${a.best_score}%` }),
        el(
          "td",
          {},
          boot.can_manage && a.status === "assigned"
            ? el("button", {
                type: "button",
                class: "btn btn-quiet",
                text: t("Cancel"),
                "aria-label": t("Cancel {course} for {agent}", { course: a.course_title, agent: a.agent.display_name }),
                onclick: async () => {
                  await api(`/api/v1/training/assignments/${a.id}/cancel`, { method: "POST", body: {} });
                  await Promise.all([loadAssignments(), loadCourses(), loadOverdue()]);
                },
              })
            : null,
        ),
      ),
    ),
  );
  setHidden(byId("tr-assignments-empty"), data.items.length > 0);
}

function pointsValue(points, key) {
  const [head, tail] = key.split(".");
  return tail === undefined ? points[head] : points[head][tail];
}

async function loadSettings() {
  const data = await api("/api/v1/training/settings");
  for (const input of byId("tr-settings").querySelectorAll("[data-key]")) {
    input.value = data[input.dataset.key];
    input.disabled = !boot.can_manage;
  }
  fillNode(
    byId("ts-points"),
    el("legend", { text: t("Points rules") }),
    POINT_KEYS.map(([key, name]) =>
      el(
        "div",
        { class: "field tr-points-field" },
        el("label", { for: `tp-${key}`, text: name() }),
        el("input", { id: `tp-${key}`, type: "number", min: "-100", max: "100", value: String(pointsValue(data.points, key)), dataset: { point: key, field: `training.points.${key}` }, disabled: !boot.can_manage }),
      ),
    ),
  );
  setHidden(byId("ts-save"), !boot.can_manage);
}

async function saveSettings(event) {
  event.preventDefault();
  byId("ts-error").textContent = "";
  setHidden(byId("ts-done"), true);
  const body = { points: { finding: {}, rating: {} } };
  for (const input of byId("tr-settings").querySelectorAll("[data-key]")) {
    body[input.dataset.key] = Number(input.value);
  }
  for (const input of byId("tr-settings").querySelectorAll("[data-point]")) {
    const [head, tail] = input.dataset.point.split(".");
    if (tail === undefined) body.points[head] = Number(input.value);
    else body.points[head][tail] = Number(input.value);
  }
  try {
    await api("/api/v1/training/settings", { method: "PUT", body });
    setHidden(byId("ts-done"), false);
  } catch (err) {
    showError(byId("ts-error"), err, byId("tr-settings"));
  }
}

byId("tr-assign-status").addEventListener("change", () => loadAssignments());
byId("tr-settings").addEventListener("submit", saveSettings);
Promise.all([loadCourses(), loadOverdue(), loadRules(), loadAssignments(), loadSettings()])
  .then(() => {
    document.documentElement.dataset.training = "ready";
  })
  .catch((err) => console.warn("training", err));
