// 团队管理: the members table (GET /api/v1/admin/users); owners and admins add a colleague
// (the one-time password is shown once), edit an agent's profile, reset a password,
// deactivate or reactivate. Errors name the field the server named.

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const usersApi = boot.users_api;
const body = byId("ad-users-body");
const errorBox = byId("ad-error");
let users = [];
let editing = null;

function roleChecks(container, name, checked) {
  fillNode(
    container,
    boot.service_roles.map((role) =>
      el(
        "label",
        { class: "ad-inline" },
        el("input", { type: "checkbox", name, value: role, checked: checked.includes(role) }),
        label("role", role),
      ),
    ),
  );
}

function checkedRoles(container) {
  return [...container.querySelectorAll("input:checked")].map((input) => input.value);
}

function showSecret(box, text, password) {
  fillNode(box, el("p", { text }), el("p", { class: "ad-secret", text: password }));
  setHidden(box, false);
  box.focus();
}

async function load() {
  try {
    users = (await api(usersApi)).users;
    errorBox.textContent = "";
  } catch (error) {
    errorBox.textContent = error.message;
    return;
  }
  fillNode(body, users.map(row));
}

function action(text, handler) {
  return el("button", { type: "button", class: "btn btn-quiet", text, onclick: handler });
}

async function act(path, confirmText, done) {
  if (confirmText && !window.confirm(confirmText)) return;
  try {
    const answer = await api(path, { method: "POST", body: {} });
    errorBox.textContent = "";
    if (done) done(answer);
    await load();
  } catch (error) {
    errorBox.textContent = error.message;
  }
}

function row(user) {
  const agent = user.agent;
  const actions = [];
  if (boot.can_admin && user.id !== boot.me_id) {
    if (agent) actions.push(action(t("Edit agent"), () => openEdit(user)));
    if (user.active) {
      actions.push(
        action(t("Reset password"), () =>
          act(`${usersApi}/${user.id}/password-reset`, null, (answer) =>
            showSecret(
              byId("ad-secret"),
              t("One-time password for {name} (shown once; they choose their own at first login):", {
                name: user.display_name,
              }),
              answer.one_time_password,
            ),
          ),
        ),
      );
      actions.push(
        action(t("Deactivate"), () =>
          act(
            `${usersApi}/${user.id}/deactivate`,
            t("Deactivate {name}? They are signed out at once and their open conversations go back to the queue.", {
              name: user.display_name,
            }),
          ),
        ),
      );
    } else {
      actions.push(
        action(t("Reactivate"), () =>
          act(`${usersApi}/${user.id}/reactivate`, null, (answer) =>
            showSecret(
              byId("ad-secret"),
              t("One-time password for {name} (shown once; they choose their own at first login):", {
                name: user.display_name,
              }),
              answer.one_time_password,
            ),
          ),
        ),
      );
    }
  }
  const status = !user.active
    ? t("Deactivated")
    : user.must_change_password
      ? t("Waiting for first login")
      : agent
        ? label("status", agent.status)
        : t("Active");
  return el(
    "tr",
    { class: user.active ? null : "ad-inactive", dataset: { userId: user.id, username: user.username } },
    el("th", { scope: "row" }, user.display_name, el("span", { class: "muted small", text: ` ${user.username}` })),
    el("td", { text: label("login_role", user.role) }),
    el("td", {
      text: agent
        ? agent.service_roles.map((role) => label("role", role)).join("、") +
          (agent.trainee ? t(" (trainee)") : "")
        : "—",
    }),
    el("td", { class: "num", text: agent ? agent.chat_capacity : "—" }),
    el("td", { text: status }),
    el("td", {}, el("div", { class: "ad-row-actions" }, actions)),
  );
}

// -- add -------------------------------------------------------------------------------------

const addForm = byId("ad-add");
if (addForm) {
  const roleSelect = byId("ad-role");
  fillNode(
    roleSelect,
    boot.login_roles.map((role) => el("option", { value: role, text: label("login_role", role) })),
  );
  roleSelect.value = "agent";
  roleChecks(byId("ad-service-roles"), "service_roles", ["presales"]);
  roleSelect.addEventListener("change", () => setHidden(byId("ad-agent"), roleSelect.value !== "agent"));
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const addError = byId("ad-add-error");
    const data = {
      username: byId("ad-username").value,
      display_name: byId("ad-display").value || null,
      role: roleSelect.value,
    };
    if (data.role === "agent") {
      const capacity = byId("ad-chat").value;
      data.agent = {
        service_roles: checkedRoles(byId("ad-service-roles")),
        chat_capacity: capacity === "" ? null : Number(capacity),
        skills: byId("ad-skills").value,
      };
    }
    try {
      const answer = await api(usersApi, { method: "POST", body: data });
      addError.textContent = "";
      addForm.reset();
      roleSelect.value = "agent";
      roleChecks(byId("ad-service-roles"), "service_roles", ["presales"]);
      showSecret(
        byId("ad-secret"),
        t("One-time password for {name} (shown once; they choose their own at first login):", {
          name: answer.user.display_name,
        }),
        answer.one_time_password,
      );
      await load();
    } catch (error) {
      addError.textContent = error.message;
    }
  });
}

// -- edit an agent ------------------------------------------------------------------------------

const dialog = byId("ad-edit");

function openEdit(user) {
  editing = user;
  const agent = user.agent;
  byId("ad-edit-title").textContent = t("Agent profile of {name}", { name: user.display_name });
  roleChecks(byId("ad-edit-roles"), "edit_roles", agent.service_roles);
  byId("ad-edit-chat").value = agent.chat_capacity;
  byId("ad-edit-hotline").value = agent.hotline_capacity;
  byId("ad-edit-suspend").value = agent.auto_suspend_at ?? "";
  byId("ad-edit-skills").value = agent.skills.join(", ");
  byId("ad-edit-trainee").checked = agent.trainee;
  byId("ad-edit-error").textContent = "";
  dialog.showModal();
}

byId("ad-edit-cancel").addEventListener("click", () => dialog.close());
byId("ad-edit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const number = (id) => (byId(id).value === "" ? null : Number(byId(id).value));
  const data = {
    service_roles: checkedRoles(byId("ad-edit-roles")),
    chat_capacity: number("ad-edit-chat"),
    hotline_capacity: number("ad-edit-hotline"),
    auto_suspend_at: number("ad-edit-suspend"),
    skills: byId("ad-edit-skills").value,
    trainee: byId("ad-edit-trainee").checked,
  };
  try {
    await api(`${usersApi}/${editing.id}/agent`, { method: "PUT", body: data });
    dialog.close();
    await load();
  } catch (error) {
    byId("ad-edit-error").textContent = error.message;
  }
});

load();
