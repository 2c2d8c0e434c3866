// The inspector's workspace: sampled queue, transcript with auto-check hits, scorecard.
// Keyboard: J / K messages, ↑ / ↓ items, 0-9 score the current item, N not applicable,
// Ctrl+S save the draft, Ctrl+Enter submit. Changing an auto-scored item asks for a reason first.

import { api, ApiError } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { t } from "./i18n.js";
import { formatTime } from "./time.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const L = boot.qc_labels;
const name = (table, key) => L[table]?.[key] ?? key;

function whoAndWhen(m) {
  const agentName = m.author?.display_name ?? t("Agent");
  return t("{who} · {time}", { who: m.sender === "agent" ? agentName : t("Buyer"), time: formatTime(m.sent_at) });
}

const state = {
  conversationId: null,
  work: null,
  ratings: {}, // key → {rating, override_reason, message_id, comment}
  item: 0,
  message: -1,
};

// -- queue ---------------------------------------------------------------------------------

function fillFilters() {
  const reason = byId("qc-filter-reason");
  for (const [key, text] of Object.entries(L.reason)) reason.append(el("option", { value: key, text }));
  const role = byId("qc-filter-role");
  for (const [key, text] of Object.entries(boot.labels.role || {})) role.append(el("option", { value: key, text }));
  for (const id of ["qc-filter-status", "qc-filter-reason", "qc-filter-role", "qc-filter-all"]) {
    byId(id).addEventListener("change", loadQueue);
  }
}

async function loadQueue() {
  const params = new URLSearchParams();
  const status = byId("qc-filter-status").value;
  if (status) params.set("status", status);
  if (byId("qc-filter-reason").value) params.set("reason", byId("qc-filter-reason").value);
  if (byId("qc-filter-role").value) params.set("role", byId("qc-filter-role").value);
  if (byId("qc-filter-all").checked) params.set("all", "1");
  const data = await api(`/api/v1/qc/queue?${params}`);
  const list = byId("qc-queue-list");
  fillNode(
    list,
    data.items.map((row) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: `qc-row${row.spotlight ? " qc-spotlight" : ""}`,
            "aria-current": row.conversation_id === state.conversationId ? "true" : null,
            dataset: { conversationId: row.conversation_id },
            onclick: () => openConversation(row.conversation_id),
          },
          el("strong", { text: row.buyer_nick || `#${row.conversation_id}` }),
          " ",
          el("span", { class: "muted small", text: `${boot.labels.role?.[row.role] ?? row.role} · ${row.agent?.display_name ?? ""}` }),
          el("span", { class: "qc-reason-chips" }, row.reasons.map((w) => el("span", { class: "chip", title: w.detail, text: name("reason", w.reason) }))),
          row.draft ? el("span", { class: "chip chip-draft", text: t("Draft") }) : null,
          row.status === "scored" ? el("span", { class: "chip", text: t("Scored") }) : null,
        ),
      ),
    ),
  );
  setHidden(byId("qc-queue-empty"), data.items.length > 0);
}

// -- transcript ----------------------------------------------------------------------------

function markedText(message, hits) {
  const spans = hits
    .filter((h) => h.message_index === message.index && h.span[1] > h.span[0])
    .sort((a, b) => a.span[0] - b.span[0]);
  const parts = [];
  let at = 0;
  for (const hit of spans) {
    if (hit.span[0] < at) continue; // overlapping: the first mark shows it
    parts.push(message.text.slice(at, hit.span[0]));
    const why = `${hit.rule} · ${name("category", hit.category)} · ${name("severity", hit.severity)}${hit.why ? ` — ${hit.why}` : ""}`;
    parts.push(el("mark", { class: `qc-hit qc-${hit.severity}`, title: why, "data-rule": hit.rule }, message.text.slice(hit.span[0], hit.span[1])));
    at = hit.span[1];
  }
  parts.push(message.text.slice(at));
  return parts;
}

function renderMessages() {
  const work = state.work;
  const list = byId("qc-messages");
  fillNode(
    list,
    work.messages.map((m) => {
      const flags = work.hits.filter((h) => h.message_index === m.index && h.span[1] <= h.span[0]);
      return el(
        "li",
        {
          class: `qc-msg qc-msg-${m.sender}${m.index === state.message ? " qc-current" : ""}`,
          "aria-current": m.index === state.message ? "true" : null,
          dataset: { index: m.index },
          onclick: () => selectMessage(m.index),
        },
        el("span", { class: "qc-msg-who muted small", text: whoAndWhen(m) }),
        el("span", { class: "qc-msg-text" }, markedText(m, work.hits)),
        flags.map((h) => el("span", { class: `qc-hit-flag qc-${h.severity}`, title: `${h.rule} — ${h.why || h.detail}`, "data-rule": h.rule, text: name("category", h.category) })),
      );
    }),
  );
}

function selectMessage(index) {
  const count = state.work?.messages.length ?? 0;
  if (!count) return;
  state.message = Math.max(0, Math.min(count - 1, index));
  renderMessages();
  byId("qc-messages").querySelector(".qc-current")?.scrollIntoView({ block: "nearest" });
}

// -- scorecard -----------------------------------------------------------------------------

function items() {
  return state.work?.scorecard.items ?? [];
}

function totalNow() {
  const card = state.work.scorecard;
  const rating = (key) => state.ratings[key]?.rating;
  if (card.items.some((i) => i.critical && rating(i.key) === 0)) return { total: 0, critical: true };
  const live = [];
  for (const section of card.sections) {
    const rated = card.items.filter((i) => i.section === section.key && !i.critical && rating(i.key) !== null && rating(i.key) !== undefined);
    if (rated.length) {
      const got = rated.reduce((sum, i) => sum + rating(i.key), 0);
      const outOf = rated.reduce((sum, i) => sum + i.max_rating, 0);
      live.push([section.weight, got / outOf]);
    }
  }
  const weights = live.reduce((sum, [w]) => sum + w, 0);
  const earned = weights ? live.reduce((sum, [w, f]) => sum + (100 * w * f) / weights, 0) : 0;
  const bonus = Number(byId("qc-bonus").value) || 0;
  return { total: Math.min(100, Math.round((earned + bonus) * 100) / 100), critical: false };
}

function renderCard() {
  const card = state.work.scorecard;
  const groups = [
    ...card.sections.map((s) => ({ key: s.key, title: `${name("section", s.key)} · ${s.weight}`, items: card.items.filter((i) => i.section === s.key && !i.critical) })),
    { key: "critical", title: t("Critical items (a fail zeroes the score)"), items: card.items.filter((i) => i.critical) },
  ];
  const all = items();
  fillNode(
    byId("qc-items"),
    groups.map((group) =>
      el(
        "fieldset",
        { class: "qc-section" },
        el("legend", { text: group.title }),
        group.items.map((item) => {
          const index = all.indexOf(item);
          const value = state.ratings[item.key];
          const rating = value?.rating;
          const choices = item.critical ? [[0, t("Fail")], [1, t("Pass")]] : [...Array(item.max_rating + 1).keys()].map((n) => [n, String(n)]);
          return el(
            "div",
            {
              class: `qc-item${index === state.item ? " qc-current" : ""}${item.critical ? " qc-critical" : ""}`,
              "aria-current": index === state.item ? "true" : null,
              dataset: { item: item.key },
              onclick: () => {
                state.item = index;
                renderCard();
              },
            },
            el("span", { class: "qc-item-label", text: name("item", item.key) }),
            item.auto_scored ? el("span", { class: "chip chip-auto", title: t("Scored by the auto-check: {rating}", { rating: state.work.auto_ratings[item.key] ?? "N/A" }), text: t("Auto") }) : null,
            el(
              "span",
              { class: "qc-choices", role: "group", "aria-label": name("item", item.key) },
              choices.map(([n, text]) =>
                el("button", { type: "button", class: "qc-choice", "aria-pressed": rating === n ? "true" : "false", dataset: { rating: n }, onclick: (e) => { e.stopPropagation(); state.item = index; setRating(item, n); }, text }),
              ),
              item.critical ? null : el("button", { type: "button", class: "qc-choice", "aria-pressed": rating === null ? "true" : "false", dataset: { rating: "na" }, onclick: (e) => { e.stopPropagation(); state.item = index; setRating(item, null); }, text: t("N/A") }),
            ),
            value?.override_reason ? el("span", { class: "qc-override-note small", text: t("Overridden: {reason}", { reason: value.override_reason }) }) : null,
          );
        }),
      ),
    ),
  );
  const { total, critical } = totalNow();
  byId("qc-total").textContent = critical ? t("0 (critical item failed)") : String(total);
  byId("qc-total").classList.toggle("qc-zero", critical);
}

let pendingOverride = null;

function setRating(item, rating, { advance = false } = {}) {
  const auto = state.work.auto_ratings;
  const previous = state.ratings[item.key] || {};
  const messageId = currentAgentMessageId();
  const apply = (reason) => {
    state.ratings[item.key] = { ...previous, rating, override_reason: reason, message_id: messageId ?? previous.message_id ?? null };
    if (advance) state.item = Math.min(items().length - 1, state.item + 1);
    renderCard();
  };
  if (item.key in auto && auto[item.key] !== rating) {
    pendingOverride = apply;
    byId("qc-override-item").textContent = name("item", item.key);
    byId("qc-override-reason").value = previous.override_reason || "";
    byId("qc-override-error").textContent = "";
    byId("qc-override").showModal();
    byId("qc-override-reason").focus();
    return;
  }
  apply("");
}

function currentAgentMessageId() {
  const m = state.work?.messages[state.message];
  return m && m.sender === "agent" ? m.id : null;
}

function payload() {
  const out = {};
  for (const [key, value] of Object.entries(state.ratings)) {
    if (value.rating === undefined) continue;
    out[key] = { rating: value.rating };
    if (value.override_reason) out[key].override_reason = value.override_reason;
    if (value.message_id) out[key].message_id = value.message_id;
  }
  return { items: out, bonus: Number(byId("qc-bonus").value) || 0, comment: byId("qc-comment").value };
}

async function save(submit) {
  byId("qc-error").textContent = "";
  if (!state.conversationId) return;
  const base = `/api/v1/qc/conversations/${state.conversationId}/score`;
  try {
    const score = submit ? await api(`${base}/submit`, { method: "POST", body: payload() }) : await api(base, { method: "PUT", body: payload() });
    byId("qc-saved").textContent = submit ? t("Submitted: {total}", { total: score.total }) : t("Draft saved");
    if (submit) {
      await loadQueue();
      setReadOnly(true);
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    byId("qc-error").textContent = error.message;
    const key = error.field?.split(".")[1];
    const index = items().findIndex((i) => i.key === key);
    if (index >= 0) {
      state.item = index;
      renderCard();
    }
  }
}

function setReadOnly(readOnly) {
  for (const id of ["qc-save", "qc-submit", "qc-bonus", "qc-comment"]) byId(id).disabled = readOnly;
}

async function openConversation(conversationId) {
  state.conversationId = conversationId;
  const work = await api(`/api/v1/qc/conversations/${conversationId}`);
  state.work = work;
  state.item = 0;
  state.message = -1;
  state.ratings = {};
  for (const [key, rating] of Object.entries(work.auto_ratings)) state.ratings[key] = { rating, override_reason: "" };
  if (work.score) {
    for (const [key, value] of Object.entries(work.score.items)) state.ratings[key] = { ...value };
    byId("qc-bonus").value = work.score.bonus;
    byId("qc-comment").value = work.score.comment;
  } else {
    byId("qc-bonus").value = 0;
    byId("qc-comment").value = "";
  }
  byId("qc-bonus").max = work.scorecard.bonus_max;
  const c = work.conversation;
  byId("qc-conv-title").textContent = `${c.buyer_nick || ""} #${c.id}`;
  byId("qc-conv-meta").textContent = t("{role} · {agent} · auto-check score {score}", { role: boot.labels.role?.[c.role] ?? c.role, agent: c.agent?.display_name ?? "", score: work.auto_score });
  fillNode(byId("qc-reasons"), (work.sample?.reasons ?? []).map((w) => el("span", { class: "chip", title: w.detail, text: `${name("reason", w.reason)}: ${w.detail}` })));
  byId("qc-version").textContent = t("Script version {key}", { key: work.script_version.key });
  const templates = byId("qc-templates");
  fillNode(templates, el("option", { value: "", text: t("Insert a comment template…") }), work.scorecard.comment_templates.map((text) => el("option", { value: text, text })));
  byId("qc-saved").textContent = work.score ? (work.score.status === "submitted" ? t("Submitted: {total}", { total: work.score.total }) : t("Draft saved")) : "";
  setReadOnly(work.score?.status === "submitted");
  renderMessages();
  renderCard();
  await loadQueue();
}

// -- keyboard ------------------------------------------------------------------------------

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (!state.work || event.isComposing || byId("qc-override").open) return;
  const ctrl = event.ctrlKey || event.metaKey;
  if (ctrl && (event.code === "KeyS" || event.key === "Enter")) {
    event.preventDefault();
    save(event.key === "Enter");
    return;
  }
  if (ctrl || event.altKey || typing(event.target)) return;
  const item = items()[state.item];
  let handled = true;
  if (event.code === "KeyJ") selectMessage(state.message + 1);
  else if (event.code === "KeyK") selectMessage(state.message - 1);
  else if (event.key === "ArrowDown") {
    state.item = Math.min(items().length - 1, state.item + 1);
    renderCard();
  } else if (event.key === "ArrowUp") {
    state.item = Math.max(0, state.item - 1);
    renderCard();
  } else if (/^[0-9]$/.test(event.key) && item && Number(event.key) <= item.max_rating) {
    setRating(item, Number(event.key), { advance: true });
  } else if (event.code === "KeyN" && item && !item.critical) {
    setRating(item, null, { advance: true });
  } else handled = false;
  if (handled) event.preventDefault();
});

// -- wiring --------------------------------------------------------------------------------

byId("qc-override-form").addEventListener("submit", (event) => {
  const reason = byId("qc-override-reason").value.trim();
  if (!reason) {
    event.preventDefault();
    byId("qc-override-error").textContent = t("Say why you change the auto score.");
    return;
  }
  byId("qc-override").close();
  pendingOverride?.(reason);
  pendingOverride = null;
});
byId("qc-override-reason").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    byId("qc-override-form").requestSubmit();
  }
});
byId("qc-override-cancel").addEventListener("click", () => {
  pendingOverride = null;
  byId("qc-override").close();
});
byId("qc-hits-toggle").addEventListener("change", (e) => byId("qc").classList.toggle("qc-hits-off", !e.target.checked));
byId("qc-bonus").addEventListener("input", () => state.work && renderCard());
byId("qc-templates").addEventListener("change", (e) => {
  if (!e.target.value) return;
  const box = byId("qc-comment");
  box.value = box.value ? `${box.value}\n${e.target.value}` : e.target.value;
  e.target.value = "";
});
byId("qc-save").addEventListener("click", () => save(false));
byId("qc-submit").addEventListener("click", () => save(true));

fillFilters();
await loadQueue();
const wanted = Number(new URLSearchParams(window.location.search).get("conversation"));
if (wanted) await openConversation(wanted);
