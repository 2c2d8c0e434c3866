// 快捷短语库: the groups I may see with their phrases (GET /api/v1/quick-replies/library),
// each with its image, my hotkey and how often it went out (all time, last 30 days, and how
// many of those were edited before sending). Supervisors change team groups; everyone keeps
// their own phrases. Images go up as the raw file (POST /api/v1/media) and are checked by
// the server from their bytes.

import { api, upload } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { formatTime } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const groupsBox = byId("ql-groups");
const hotkeysBox = byId("ql-hotkeys");
const errorBox = byId("ql-error");
const statusBox = byId("ql-status");
const groupSelect = byId("ql-group");
const personalName = byId("ql-personal-name");
const personalLabel = byId("ql-personal-label");
const NEW_PERSONAL = "personal:new";
let library = { groups: [], hotkeys: [], max_hotkeys: 9 };
let editing = null;

function say(text) {
  statusBox.textContent = text;
  setHidden(statusBox, !text);
  errorBox.textContent = "";
}

function editable(group) {
  return group.scope === "personal" || boot.can_edit_shop;
}

/** A built-in phrase (not stored yet) is named by its code; stored ones by id. */
function ref(phrase) {
  return phrase.id !== null ? { id: phrase.id } : { code: phrase.code };
}

function allPhrases() {
  return library.groups.flatMap((group) => group.phrases.map((phrase) => ({ ...phrase, group })));
}

function renderHotkeys() {
  const byId_ = new Map(allPhrases().filter((p) => p.id !== null).map((p) => [p.id, p]));
  const slots = new Map(library.hotkeys.map((key) => [key.slot, byId_.get(key.phrase_id)]));
  const items = [];
  for (let slot = 1; slot <= library.max_hotkeys; slot += 1) {
    const phrase = slots.get(slot);
    items.push(
      el(
        "li",
        { dataset: { slot: String(slot) } },
        el("kbd", { text: `Alt+${slot}` }),
        " ",
        phrase
          ? el("span", { "data-verbatim": "", text: `/${phrase.code} ${phrase.text.slice(0, 24)}` })
          : el("span", { class: "muted", text: t("empty") }),
      ),
    );
  }
  fillNode(hotkeysBox, items);
}

function hotkeySelect(phrase) {
  const select = el("select", {
    "aria-label": t("Hotkey for /{code}", { code: phrase.code }),
    class: "ql-hotkey",
  });
  select.append(el("option", { value: "", text: t("No hotkey") }));
  for (let slot = 1; slot <= library.max_hotkeys; slot += 1) {
    select.append(el("option", { value: String(slot), text: `Alt+${slot}` }));
  }
  select.value = phrase.hotkey ? String(phrase.hotkey) : "";
  select.addEventListener("change", async () => {
    try {
      if (select.value) {
        await api(`${boot.phrases_api}/hotkeys/${select.value}`, {
          method: "PUT",
          body: { quick_reply: ref(phrase) },
        });
        say(t("/{code} is on Alt+{slot}.", { code: phrase.code, slot: select.value }));
      } else if (phrase.hotkey) {
        await api(`${boot.phrases_api}/hotkeys/${phrase.hotkey}`, {
          method: "PUT",
          body: { quick_reply: null },
        });
        say(t("/{code} has no hotkey now.", { code: phrase.code }));
      }
      await load();
    } catch (error) {
      errorBox.textContent = error.message;
    }
  });
  return select;
}

function phraseRow(group, phrase) {
  const uses = t("{total} in all · {recent} in 30 days", {
    total: phrase.use_count,
    recent: phrase.uses_30d ?? 0,
  });
  const edited = phrase.uses_30d
    ? t("{edited} edited before sending", { edited: phrase.edited_30d ?? 0 })
    : "";
  const actions = editable(group)
    ? el(
        "div",
        { class: "ad-row-actions" },
        el("button", {
          type: "button",
          class: "btn btn-quiet",
          text: t("Edit"),
          "aria-label": t("Edit /{code}", { code: phrase.code }),
          onclick: () => openEdit(phrase),
        }),
        el("button", {
          type: "button",
          class: "btn btn-quiet",
          text: t("Delete"),
          "aria-label": t("Delete /{code}", { code: phrase.code }),
          onclick: () => removePhrase(phrase),
        }),
      )
    : null;
  return el(
    "tr",
    { dataset: { code: phrase.code } },
    el("td", { "data-verbatim": "" }, el("code", { text: `/${phrase.code}` })),
    el(
      "td",
      {},
      el("span", { class: "ql-text", text: phrase.text }),
      phrase.image
        ? el("div", {}, el("img", { class: "ql-thumb", src: phrase.image.url, alt: phrase.image.name }))
        : null,
    ),
    el("td", {}, hotkeySelect(phrase)),
    el(
      "td",
      { class: "ql-uses" },
      el("span", { class: "ql-count", text: uses }),
      edited ? el("div", { class: "muted small", text: edited }) : null,
      phrase.last_used_at
        ? el("div", { class: "muted small", text: t("last {time}", { time: formatTime(phrase.last_used_at) }) })
        : null,
    ),
    el("td", {}, actions),
  );
}

function groupCard(group) {
  const roles = group.roles.length
    ? group.roles.map((role) => label("role", role)).join(t(", "))
    : t("every role");
  const head = el(
    "div",
    { class: "ad-row-actions" },
    el("h2", { text: group.name }),
    el("span", { class: "tag ql-scope", text: label("phrase_scope", group.scope) }),
    group.scope === "shop" ? el("span", { class: "muted small", text: roles }) : null,
  );
  if (editable(group) && group.id !== null) {
    head.append(
      el("button", {
        type: "button",
        class: "btn btn-quiet",
        text: t("Delete group"),
        onclick: () => removeGroup(group),
      }),
    );
  }
  return el(
    "section",
    { class: "sv-card", "aria-label": group.name, dataset: { group: group.name, scope: group.scope } },
    head,
    group.phrases.length
      ? el(
          "table",
          { class: "sv-table" },
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              el("th", { scope: "col", text: t("Code") }),
              el("th", { scope: "col", text: t("Text") }),
              el("th", { scope: "col", text: t("Hotkey") }),
              el("th", { scope: "col", text: t("Sent") }),
              el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: t("Actions") })),
            ),
          ),
          el("tbody", {}, group.phrases.map((phrase) => phraseRow(group, phrase))),
        )
      : el("p", { class: "muted small", text: t("No phrases in this group.") }),
  );
}

function renderGroupChoices() {
  const current = groupSelect.value;
  const options = [];
  for (const group of library.groups) {
    if (!editable(group)) continue;
    const scope = label("phrase_scope", group.scope);
    options.push(el("option", { value: group.id ?? `code:${group.name}`, text: `${scope} · ${group.name}` }));
  }
  options.push(el("option", { value: NEW_PERSONAL, text: t("My phrases · a new group of mine") }));
  fillNode(groupSelect, options);
  const mine = library.groups.find((g) => g.scope === "personal");
  groupSelect.value = [...groupSelect.options].some((o) => o.value === current)
    ? current
    : mine
      ? String(mine.id)
      : NEW_PERSONAL;
  syncPersonalName();
}

function syncPersonalName() {
  const fresh = groupSelect.value === NEW_PERSONAL;
  setHidden(personalName, !fresh);
  setHidden(personalLabel, !fresh);
}

async function load() {
  try {
    library = await api(boot.library_api);
  } catch (error) {
    errorBox.textContent = error.message;
    return;
  }
  renderHotkeys();
  renderGroupChoices();
  fillNode(groupsBox, library.groups.map(groupCard));
}

/** Team phrases of the built-in library have no ids until a supervisor first changes one:
 * keep the library as the shop's own, then find the same group or phrase again. */
async function ensureStored() {
  if (library.stored || !boot.can_edit_shop) return;
  await api(`${boot.phrases_api}/library/store`, { method: "POST", body: {} });
  library = await api(boot.library_api);
}

async function storedGroupId(value) {
  if (!value.startsWith("code:")) return Number(value);
  const name = value.slice(5);
  await ensureStored();
  return library.groups.find((g) => g.scope === "shop" && g.name === name)?.id ?? null;
}

byId("ql-add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorLine = byId("ql-add-error");
  errorLine.textContent = "";
  const file = byId("ql-image").files[0];
  const body = { code: byId("ql-code").value, text: byId("ql-text").value };
  try {
    if (groupSelect.value === NEW_PERSONAL) {
      body.personal_group = personalName.value.trim() || "我的短语";
    } else {
      body.group_id = await storedGroupId(groupSelect.value);
    }
    if (file) {
      if (file.size > boot.max_image_mb * 1024 * 1024) {
        errorLine.textContent = t("The image is larger than {mb} MB.", { mb: boot.max_image_mb });
        return;
      }
      body.image_id = (await upload(boot.media_api, file)).id;
    }
    await api(boot.phrases_api, { method: "POST", body });
    say(t("/{code} saved.", { code: body.code.trim().replace(/^\//, "").toLowerCase() }));
    byId("ql-code").value = "";
    byId("ql-text").value = "";
    byId("ql-image").value = "";
    await load();
  } catch (error) {
    errorLine.textContent = error.message;
  }
});

groupSelect.addEventListener("change", syncPersonalName);

const scopeSelect = byId("ql-group-scope");
if (scopeSelect) {
  fillNode(
    byId("ql-group-role-checks"),
    boot.service_roles.map((role) =>
      el(
        "label",
        { class: "ad-inline" },
        el("input", { type: "checkbox", value: role }),
        label("role", role),
      ),
    ),
  );
  scopeSelect.addEventListener("change", () => setHidden(byId("ql-group-roles"), scopeSelect.value !== "shop"));
}

byId("ql-group-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorLine = byId("ql-group-error");
  errorLine.textContent = "";
  const scope = scopeSelect ? scopeSelect.value : "personal";
  const roles = scope === "shop"
    ? [...byId("ql-group-role-checks").querySelectorAll("input:checked")].map((i) => i.value)
    : [];
  try {
    const name = byId("ql-group-name").value;
    await api(`${boot.phrases_api}/groups`, { method: "POST", body: { name, scope, roles } });
    say(t("Group {name} created.", { name: name.trim() }));
    byId("ql-group-name").value = "";
    await load();
  } catch (error) {
    errorLine.textContent = error.message;
  }
});

async function removeGroup(group) {
  if (!window.confirm(t("Delete the group {name} and its phrases?", { name: group.name }))) return;
  try {
    await api(`${boot.phrases_api}/groups/${group.id}`, { method: "DELETE" });
    say(t("Group {name} deleted.", { name: group.name }));
    await load();
  } catch (error) {
    errorBox.textContent = error.message;
  }
}

async function stored(phrase) {
  if (phrase.id !== null) return phrase.id;
  await ensureStored();
  return allPhrases().find((p) => p.group.scope === "shop" && p.code === phrase.code)?.id ?? null;
}

async function removePhrase(phrase) {
  if (!window.confirm(t("Delete /{code}?", { code: phrase.code }))) return;
  try {
    const id = await stored(phrase);
    await api(`${boot.phrases_api}/${id}`, { method: "DELETE" });
    say(t("/{code} deleted.", { code: phrase.code }));
    await load();
  } catch (error) {
    errorBox.textContent = error.message;
  }
}

const dialog = byId("ql-edit");

function openEdit(phrase) {
  editing = phrase;
  byId("ql-edit-code").value = phrase.code;
  byId("ql-edit-text").value = phrase.text;
  byId("ql-edit-image").value = "";
  byId("ql-edit-noimage").checked = false;
  byId("ql-edit-error").textContent = "";
  dialog.showModal();
  byId("ql-edit-text").focus();
}

byId("ql-edit-cancel").addEventListener("click", () => dialog.close());
byId("ql-edit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!editing) return;
  const body = { code: byId("ql-edit-code").value, text: byId("ql-edit-text").value };
  try {
    const file = byId("ql-edit-image").files[0];
    if (file) body.image_id = (await upload(boot.media_api, file)).id;
    else if (byId("ql-edit-noimage").checked) body.image_id = null;
    const id = await stored(editing);
    await api(`${boot.phrases_api}/${id}`, { method: "PATCH", body });
    dialog.close();
    say(t("/{code} saved.", { code: body.code.trim().toLowerCase() }));
    await load();
  } catch (error) {
    byId("ql-edit-error").textContent = error.message;
  }
});

load().finally(() => {
  document.documentElement.dataset.library = "ready";
});
