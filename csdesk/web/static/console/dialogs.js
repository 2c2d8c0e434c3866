// Dialogs: transfer (转接, note required; to a role's queue or to a named colleague, each
// shown with status and load), close (disposition and tags), snooze (稍后处理), the item and
// coupon picker for cards, intent correction (改判意图), reveal buyer data (reason required), keyboard cheat sheet. Native <dialog>: focus moves in, Esc closes,
// focus returns to where it was.

import { api } from "./api.js";
import { byId, el, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";

const boot = JSON.parse(document.getElementById("wb-boot")?.textContent || "{}");

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

/** One submission at a time: pressing again (or Enter twice) while the first is on its way
 * does nothing, so a transfer, a close or a reveal is never sent twice; the server's
 * refusal shows in the dialog's error line. */
function onSubmitOnce(form, error, submit) {
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    form.setAttribute("aria-busy", "true");
    try {
      await submit();
    } catch (err) {
      error.textContent = err.message;
    } finally {
      busy = false;
      form.removeAttribute("aria-busy");
    }
  });
}

export function createTransferDialog({ getConversation, onDone }) {
  const dialog = byId("transfer-dialog");
  const form = byId("transfer-form");
  const roles = byId("transfer-roles");
  const agentsBox = byId("transfer-agents");
  const note = byId("transfer-note");
  let agents = [];

  const intentField = byId("transfer-intent-field");
  const intentSelect = byId("transfer-intent");

  /** A role with several intents (after-sales: logistics, quality ...) asks which one the
   * buyer had: the answer teaches the shop's triage model. One intent needs no question. */
  function renderIntents(roleKey) {
    const intents = Object.entries(boot.intent_roles || {})
      .filter(([, role]) => role === roleKey)
      .map(([intent]) => intent);
    intentSelect.replaceChildren(
      el("option", { value: "", text: t("Not sure") }),
      ...intents.map((intent) => el("option", { value: intent, text: label("intent", intent) })),
    );
    setHidden(intentField, intents.length < 2);
  }

  function renderAgents(roleKey) {
    const holders = agents.filter((agent) => agent.service_roles.includes(roleKey) && !agent.me);
    const queue = el(
      "div",
      { class: "role-choice" },
      el("input", { type: "radio", name: "to_agent", id: "transfer-agent-queue", value: "", checked: true }),
      el("label", { for: "transfer-agent-queue" }, el("span", { class: "role-name", text: t("The role's queue (routing picks)") })),
    );
    const rows = holders.map((agent) => {
      const id = `transfer-agent-${agent.id}`;
      const full = agent.open >= agent.capacity;
      const unavailable = agent.status === "away" || agent.status === "offline";
      return el(
        "div",
        { class: "role-choice", dataset: { agentId: String(agent.id) } },
        el("input", { type: "radio", name: "to_agent", id, value: String(agent.id), disabled: full || unavailable }),
        el(
          "label",
          { for: id },
          el("span", { class: "role-name", text: agent.display_name }),
          el("span", { class: `tag status-${agent.status}`, text: label("status", agent.status) }),
          el("span", {
            class: "muted small agent-load",
            text: t("{open}/{capacity} chats", { open: agent.open, capacity: agent.capacity }),
          }),
          full ? el("span", { class: "muted small", text: t("(full)") }) : null,
        ),
      );
    });
    agentsBox.replaceChildren(
      queue,
      ...(rows.length ? rows : [el("p", { class: "muted small", text: t("Nobody else is on shift in this role.") })]),
    );
  }
  const error = byId("transfer-error");
  const control = wire(dialog);

  async function open() {
    const conversation = getConversation();
    if (!conversation || !conversation.can_reply) return;
    error.textContent = "";
    note.value = "";
    note.removeAttribute("aria-invalid");
    roles.replaceChildren(el("p", { class: "muted small", text: t("Loading…") }));
    agentsBox.replaceChildren(el("p", { class: "muted small", text: t("Choose a role first.") }));
    setHidden(intentField, true);
    control.open(note);
    try {
      const board = await api("/api/v1/workbench/roles");
      agents = board.agents || [];
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
      for (const input of roles.querySelectorAll("input")) {
        input.addEventListener("change", () => {
          renderAgents(input.value);
          renderIntents(input.value);
        });
      }
      roles.querySelector("input")?.focus();
    } catch (err) {
      roles.replaceChildren();
      error.textContent = err.message;
    }
  }

  onSubmitOnce(form, error, async () => {
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
    const agent = form.querySelector('input[name="to_agent"]:checked');
    const body = { to_role: chosen.value, note: note.value };
    if (agent && agent.value) body.to_agent_id = Number(agent.value);
    if (!intentField.hidden && intentSelect.value) body.intent = intentSelect.value;
    const result = await api(`/api/v1/conversations/${conversation.id}/transfer`, {
      method: "POST",
      body,
    });
    control.close();
    onDone(conversation.id, result);
  });

  return { open, isOpen: control.isOpen };
}

/** 改判意图: the conversation's intent corrected in place (a labelled example for the
 * shop's triage model); the holder or a supervisor. */
export function createIntentDialog({ getConversation, onDone }) {
  const dialog = byId("intent-dialog");
  const form = byId("intent-form");
  const choice = byId("intent-choice");
  const error = byId("intent-error");
  const control = wire(dialog);

  function open() {
    const conversation = getConversation();
    if (!conversation) return;
    error.textContent = "";
    choice.replaceChildren(
      ...Object.keys(boot.intent_roles || {}).map((intent) =>
        el("option", { value: intent, text: label("intent", intent), selected: intent === conversation.intent }),
      ),
    );
    control.open(choice);
  }

  onSubmitOnce(form, error, async () => {
    const conversation = getConversation();
    const result = await api(`/api/v1/conversations/${conversation.id}/intent`, {
      method: "POST",
      body: { intent: choice.value },
    });
    control.close();
    onDone(conversation.id, result);
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

  onSubmitOnce(form, error, async () => {
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
    await api(`/api/v1/conversations/${conversation.id}/close`, {
      method: "POST",
      body: { disposition: disposition.value, tags: tagList },
    });
    control.close();
    onDone(conversation.id);
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

  onSubmitOnce(form, error, async () => {
    if (!pending) return;
    const reason = [preset.value, detail.value.trim()].filter(Boolean).join(": ");
    if (!reason) {
      error.textContent = t("A reason is required to see this data.");
      preset.focus();
      return;
    }
    const { target, onRevealed } = pending;
    const result = await api(`/api/v1/buyers/${target.buyerId}/reveal`, {
      method: "POST",
      body: { field: target.field, reason, order_id: target.orderId ?? null },
    });
    pending = null;
    control.close();
    onRevealed(result.value);
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

export function createSnoozeDialog({ getConversation, onDone }) {
  const dialog = byId("snooze-dialog");
  const form = byId("snooze-form");
  const minutes = byId("snooze-minutes");
  const error = byId("snooze-error");
  const control = wire(dialog);

  function open() {
    const conversation = getConversation();
    if (!conversation || !conversation.can_reply) return;
    error.textContent = "";
    minutes.value = "30";
    control.open(minutes);
  }

  onSubmitOnce(form, error, async () => {
    const conversation = getConversation();
    const result = await api(`/api/v1/conversations/${conversation.id}/snooze`, {
      method: "POST",
      body: { minutes: Number(minutes.value) },
    });
    control.close();
    onDone(conversation.id, result.snoozed_until);
  });

  return { open, isOpen: control.isOpen };
}

/** 推荐商品 / 优惠券: pick one and it goes out as a card at once. */
export function createCatalogDialog({ onPick }) {
  const dialog = byId("catalog-dialog");
  const title = byId("catalog-title");
  const search = byId("catalog-search");
  const searchField = byId("catalog-search-field");
  const list = byId("catalog-list");
  const empty = byId("catalog-empty");
  const error = byId("catalog-error");
  const control = wire(dialog);
  let kind = "product";
  let timer = null;

  function money(fen) {
    return `¥${(fen / 100).toFixed(2)}`;
  }

  function choice(text, detail, handler) {
    return el(
      "li",
      { class: "order-card" },
      el("button", { type: "button", class: "btn btn-block catalog-choice", onclick: handler },
        el("span", { class: "role-name", text }),
        el("span", { class: "muted small", text: detail }),
      ),
    );
  }

  async function load() {
    error.textContent = "";
    try {
      const data = await api(`/api/v1/workbench/catalog?q=${encodeURIComponent(search.value)}`);
      const items =
        kind === "product"
          ? data.products.map((item) =>
              choice(item.title, `${money(item.price_fen)} · ${item.sku}`, () => pick({ product_id: item.id })),
            )
          : data.coupons.map((item) =>
              choice(
                item.title,
                item.min_spend_fen
                  ? t("{amount} off orders from {min}", { amount: money(item.amount_fen), min: money(item.min_spend_fen) })
                  : t("{amount} off, no minimum", { amount: money(item.amount_fen) }),
                () => pick({ coupon_code: item.code }),
              ),
            );
      list.replaceChildren(...items);
      empty.textContent =
        kind === "product" ? t("No product matches.") : t("The shop has no coupons yet (shop rules: console.coupons).");
      setHidden(empty, items.length > 0);
    } catch (err) {
      error.textContent = err.message;
    }
  }

  async function pick(ref) {
    try {
      await onPick(kind, ref);
      control.close();
    } catch (err) {
      error.textContent = err.message;
    }
  }

  search.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(load, 200);
  });

  return {
    open(which) {
      kind = which;
      title.textContent = which === "product" ? t("Recommend an item") : t("Send a coupon");
      search.value = "";
      setHidden(searchField, which !== "product");
      list.replaceChildren();
      control.open(which === "product" ? search : null);
      load();
    },
  };
}
