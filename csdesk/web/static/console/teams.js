// 班组: teams with their members and supervisors (GET /api/v1/admin/teams). Owners and
// admins create, rename and delete teams and tick who is in each and who leads it; only a
// supervisor, owner or admin may lead (the server says so when someone else is ticked).

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const list = byId("tm-list");
const errorBox = byId("tm-error");
const statusBox = byId("tm-status");
const LEADERS = new Set(["supervisor", "owner", "admin"]);
let users = [];

function say(text) {
  statusBox.textContent = text;
  setHidden(statusBox, !text);
}

function memberRow(team, user, current) {
  const inTeam = Boolean(current);
  const id = `tm-${team.id}-${user.id}`;
  return el(
    "tr",
    { dataset: { userId: String(user.id) } },
    el(
      "td",
      {},
      el("input", { type: "checkbox", id: `${id}-in`, class: "tm-in", checked: inTeam, disabled: !boot.can_admin }),
      " ",
      el("label", { for: `${id}-in`, text: user.display_name }),
    ),
    el("td", { text: label("login_role", user.role) }),
    el(
      "td",
      {},
      LEADERS.has(user.role)
        ? el(
            "label",
            { class: "ad-inline" },
            el("input", { type: "checkbox", class: "tm-lead", checked: Boolean(current?.lead), disabled: !boot.can_admin }),
            t("Supervisor of this team"),
          )
        : null,
    ),
  );
}

function teamCard(team) {
  const byUser = new Map(team.members.map((m) => [m.user_id, m]));
  const leads = team.members.filter((m) => m.lead).map((m) => m.display_name);
  const shown = boot.can_admin ? users.filter((u) => u.active) : users.filter((u) => byUser.has(u.id));
  const table = el(
    "table",
    { class: "sv-table" },
    el(
      "thead",
      {},
      el("tr", {}, el("th", { scope: "col", text: t("Team member") }), el("th", { scope: "col", text: t("Login role") }), el("th", { scope: "col", text: t("Supervisor") })),
    ),
    el("tbody", {}, shown.map((user) => memberRow(team, user, byUser.get(user.id)))),
  );
  const card = el(
    "section",
    { class: "sv-card tm-team", dataset: { teamId: String(team.id) }, "aria-label": team.name },
    el("h2", { text: team.name }),
    el("p", {
      class: "muted small",
      text: leads.length
        ? t("Supervisors: {names}", { names: leads.join(t(", ")) })
        : t("No supervisor yet."),
    }),
    table,
  );
  if (boot.can_admin) {
    card.append(
      el(
        "div",
        { class: "ad-row-actions" },
        el("button", { type: "button", class: "btn btn-primary", text: t("Save members"), onclick: () => save(team, card) }),
        el("button", { type: "button", class: "btn btn-quiet", text: t("Rename"), onclick: () => rename(team) }),
        el("button", { type: "button", class: "btn btn-quiet", text: t("Delete team"), onclick: () => remove(team) }),
      ),
    );
  }
  return card;
}

async function load() {
  try {
    const [teamData, userData] = await Promise.all([api(boot.teams_api), api(boot.users_api)]);
    users = userData.users;
    fillNode(list, teamData.teams.map(teamCard));
    setHidden(byId("tm-empty"), teamData.teams.length > 0);
    errorBox.textContent = "";
  } catch (error) {
    errorBox.textContent = error.message;
  }
}

async function save(team, card) {
  const members = [...card.querySelectorAll("tbody tr")]
    .filter((row) => row.querySelector(".tm-in").checked)
    .map((row) => ({
      user_id: Number(row.dataset.userId),
      lead: Boolean(row.querySelector(".tm-lead")?.checked),
    }));
  try {
    await api(`${boot.teams_api}/${team.id}/members`, { method: "PUT", body: { members } });
    say(t("{name}: members saved.", { name: team.name }));
    await load();
  } catch (error) {
    errorBox.textContent = error.message;
  }
}

async function rename(team) {
  const name = window.prompt(t("New name for {name}", { name: team.name }), team.name);
  if (!name) return;
  try {
    await api(`${boot.teams_api}/${team.id}`, { method: "PATCH", body: { name } });
    await load();
  } catch (error) {
    errorBox.textContent = error.message;
  }
}

async function remove(team) {
  if (!window.confirm(t("Delete the team {name}? Its people stay.", { name: team.name }))) return;
  try {
    await api(`${boot.teams_api}/${team.id}`, { method: "DELETE" });
    say(t("{name}: deleted.", { name: team.name }));
    await load();
  } catch (error) {
    errorBox.textContent = error.message;
  }
}

byId("tm-add")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = byId("tm-name");
  try {
    await api(boot.teams_api, { method: "POST", body: { name: input.value } });
    say(t("{name}: created.", { name: input.value.trim() }));
    input.value = "";
    await load();
  } catch (error) {
    errorBox.textContent = error.message;
  }
});

load().finally(() => {
  document.documentElement.dataset.teams = "ready";
});
