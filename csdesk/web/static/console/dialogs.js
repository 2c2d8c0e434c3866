// Dialogs: transfer (转接, note required), close (disposition and tags), reveal buyer data
// (reason required), keyboard cheat sheet. Native <dialog>: focus moves in, Esc closes,
// focus returns to where it was.

import { api } from "./api.js";
import { byId, el } from "./dom.js";
import { label, t } from "./i18n.js";

function wire(dialog) {
  let returnTo = null;
  for (const button of dialog.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => dialog.close());
  }
  dialog.addEventListener("close", () => {
    if (returnTo && document.contains(returnTo)) returnTo.focus();
  });
  return {
    open(focusTarget) {
      returnTo = document.activeElement;
      if (!dialog.open) dialog.showModal();
      (focusTarget || dialog.querySelector("input, select, textarea, button"))?.focus();
    },
    close() {
      dialog.close();
    },
    isOpen: () => dialog.open,
  };
}

export function anyDialogOpen() {
  return Boolean(document.querySelector("dialog[open]"));
}

export function createTransferDialog({ getConversation, onDone }) {
  const dialog = byId("transfer-dialog");
  const form = byId("transfer-form");
  const roles = byId("transfer-roles");
  const note = byId("transfer-note");
  const error = byId("transfer-error");
  const control = wire(dialog);
  let busy = false;

  async function open() {
    const conversation = getConversation();
    if (!conversation || !conversation.can_reply) return;
    error.textContent = "";
    note.value = "";
    note.removeAttribute("aria-invalid");
    roles.replaceChildren(el("p", { class: "muted small", text: t("Loading…") }));
    control.open(note);
    try {
      const board = await api("/api/v1/workbench/roles");
      roles.replaceChildren(
        ...board.roles.map((role) => {
          const id = `transfer-role-${role.key}`;
          const load = t("{online} online · {busy} busy · {depth} queued", role);
          return el(
            "div",
            { class: "role-choice" },
            el("input", { type: "radio", name: "to_role", id, value: role.key, required: true }),
            el(
              "label",
              { for: id },
              el("span", { class: "role-name", text: label("role", role.key) }),
              el("span", { class: "muted small", text: load }),
              role.key === conversation.role
                ? el("span", { class: "muted small", text: t("(current)") })
                : null,
            ),
          );
        }),
      );
      roles.querySelector("input")?.focus();
    } catch (err) {
      roles.replaceChildren();
      error.textContent = err.message;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const conversation = getConversation();
    const chosen = form.querySelector('input[name="to_role"]:checked');
    if (!chosen) {
      error.textContent = t("Choose the role to transfer to.");
      roles.querySelector("input")?.focus();
      return;
    }
    if (!note.value.trim()) {
      error.textContent = t("A handoff note is required.");
      note.setAttribute("aria-invalid", "true");
      note.focus();
      return;
    }
    busy = true;
    try {
      const result = await api(`/api/v1/conversations/${conversation.id}/transfer`, {
        method: "POST",
        body: { to_role: chosen.value, note: note.value },
      });
      control.close();
      onDone(conversation.id, result);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      busy = false;
    }
  });

  return { open, isOpen: control.isOpen };
}

export function createCloseDialog({ getConversation, onDone }) {
  const dialog = byId("close-dialog");
  const form = byId("close-form");
  const disposition = byId("close-disposition");
  const tags = byId("close-tags");
  const error = byId("close-error");
  const control = wire(dialog);

  function open() {
    const conversation = getConversation();
    if (!conversation || !conversation.can_reply) return;
    error.textContent = "";
    disposition.value = "";
    tags.value = "";
    control.open(disposition);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const conversation = getConversation();
    if (!disposition.value) {
      error.textContent = t("Choose an outcome.");
      disposition.focus();
      return;
    }
    const tagList = tags.value
      .split(/[,，、]/)
      .map((tag) => tag.trim())
      .filter(Boolean);
    try {
      await api(`/api/v1/conversations/${conversation.id}/close`, {
        method: "POST",
        body: { disposition: disposition.value, tags: tagList },
      });
      control.close();
      onDone(conversation.id);
    } catch (err) {
      error.textContent = err.message;
    }
  });

  return { open, isOpen: control.isOpen };
}

export function createRevealDialog() {
  const dialog = byId("reveal-dialog");
  const form = byId("reveal-form");
  const what = byId("reveal-what");
  const preset = byId("reveal-preset");
  const detail = byId("reveal-detail");
  const error = byId("reveal-error");
  const control = wire(dialog);
  let pending = null;

  function open(target, onRevealed) {
    pending = { target, onRevealed };
    what.textContent = target.what;
    preset.value = "";
    detail.value = "";
    error.textContent = "";
    control.open(preset);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!pending) return;
    const reason = [preset.value, detail.value.trim()].filter(Boolean).join(": ");
    if (!reason) {
      error.textContent = t("A reason is required to see this data.");
      preset.focus();
      return;
    }
    const { target, onRevealed } = pending;
    try {
      const result = await api(`/api/v1/buyers/${target.buyerId}/reveal`, {
        method: "POST",
        body: { field: target.field, reason, order_id: target.orderId ?? null },
      });
      pending = null;
      control.close();
      onRevealed(result.value);
    } catch (err) {
      error.textContent = err.message;
    }
  });

  return { open };
}

export function createCheatSheet() {
  const control = wire(byId("cheatsheet-dialog"));
  byId("open-cheatsheet").addEventListener("click", () => control.open());
  return {
    toggle() {
      if (control.isOpen()) control.close();
      else control.open(byId("cheatsheet-dialog").querySelector("[data-close]"));
    },
  };
}
