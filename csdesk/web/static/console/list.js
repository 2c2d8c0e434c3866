// My conversations (接待列表): one row per open conversation, a waiting clock on each.
// A row darkens and its seconds turn red at the role's first-response target; one toast
// offers a jump to the longest wait (as Qianniu does at 100 s). A snoozed row (稍后处理)
// sinks to the bottom with its wake-up time and no clock; an eye or a pen shows a colleague
// viewing or writing in it (collision).

import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, t } from "./i18n.js";
import { formatTime, formatWait, nowMs, secondsSince } from "./time.js";

// Refund items have their own page (the refund workbench) rather than the chat view.
// Items whose work happens on a role workbench page open there as a plain link; the rest
// open in the chat column. One line per kind, so each role page adds only its own.
export const ITEM_PAGES = new Map([
  ["refund_review", "/console/refund-items/"],
  ["refund_processing", "/console/refund-items/"],
  ["order_check", "/console/order-items/"],
  ["payment_chase", "/console/chases?item="],
  ["phone_chase", "/console/chases?item="],
  ["call", "/console/call-items/"],
  ["proactive_call", "/console/call-items/"],
  ["notice_call", "/console/call-items/"],
  ["callback", "/console/call-items/"],
]);

/** Where an item opens: its role page, else the workbench's chat view. */
export function itemHref(kind, id) {
  return `${ITEM_PAGES.get(kind) ?? "/console/conversations/"}${Number(id)}`;
}

export function createList({ onOpen }) {
  const list = byId("conversation-list");
  const empty = byId("list-empty");
  const count = byId("list-count");
  const toast = byId("overdue-toast");
  const toastText = byId("overdue-text");
  const rows = new Map(); // id -> {data, li, link, timer, preview}
  let order = [];
  let activeId = null;
  let longestId = null;

  function title(data) {
    return data.buyer?.nick || label("kind", data.kind);
  }

  function build(data) {
    const timer = el("span", { class: "conv-timer" });
    const preview = el("span", { class: "conv-preview" });
    const nick = el("span", { class: "conv-nick" });
    const badges = el("span", { class: "conv-badges" });
    const presence = el("span", { class: "conv-presence" });
    const rolePage = ITEM_PAGES.has(data.kind);
    const href = itemHref(data.kind, data.id);
    const link = el(
      "a",
      { class: "conv-link", href },
      el("span", { class: "conv-top" }, nick, presence, timer),
      badges,
      preview,
    );
    link.addEventListener("click", (event) => {
      if (rolePage) return; // a plain link to the role workbench page
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      onOpen(data.id);
    });
    const li = el("li", { class: "conv-row", dataset: { id: String(data.id) } }, link);
    return { data, li, link, timer, preview, nick, badges, presence };
  }

  function fill(row) {
    const { data } = row;
    row.nick.textContent = title(data);
    fillNode(
      row.badges,
      el("span", { class: "tag tag-role", text: label("role", data.role) }),
      data.kind !== "chat" ? el("span", { class: "tag", text: label("kind", data.kind) }) : null,
      data.buyer && data.buyer.tier !== "normal"
        ? el("span", { class: "tag tag-tier", text: label("tier", data.buyer.tier) })
        : null,
      data.risk === "high" ? el("span", { class: "tag tag-risk", text: label("risk", "high") }) : null,
    );
    const last = data.last_message;
    const mePrefix = last && last.sender === "agent" ? t("Me: ") : "";
    row.preview.textContent = last ? mePrefix + last.text : label("intent", data.intent) || "";
    tickRow(row);
  }

  function snoozed(data) {
    if (!data.snoozed_until) return false;
    if (new Date(data.snoozed_until).getTime() <= nowMs()) {
      data.snoozed_until = null;
      return false;
    }
    return true;
  }

  function tickRow(row) {
    const { data } = row;
    const asleep = snoozed(data);
    row.li.classList.toggle("is-snoozed", asleep);
    if (asleep) {
      row.timer.textContent = t("later {time}", { time: formatTime(data.snoozed_until) });
      row.li.classList.remove("is-waiting", "is-overdue");
      row.link.setAttribute(
        "aria-label",
        [title(data), t("snoozed until {time}", { time: formatTime(data.snoozed_until) })].join(", "),
      );
      return 0;
    }
    if (!data.waiting_since) {
      row.timer.textContent = "";
      row.li.classList.remove("is-waiting", "is-overdue");
      const answered = t("answered");
      row.link.setAttribute("aria-label", [title(data), answered].join(", "));
      return 0;
    }
    const seconds = secondsSince(data.waiting_since);
    const overdue = data.sla_s !== null && data.sla_s !== undefined && seconds >= data.sla_s;
    row.timer.textContent = formatWait(seconds);
    row.li.classList.add("is-waiting");
    row.li.classList.toggle("is-overdue", overdue);
    const parts = [title(data), t("waiting {wait}", { wait: formatWait(seconds) })];
    if (overdue) parts.push(t("over target"));
    row.link.setAttribute("aria-label", parts.join(", "));
    return overdue ? seconds : 0;
  }

  let sleeping = 0;

  function tick() {
    const nowSleeping = [...rows.values()].filter((row) => snoozed(row.data)).length;
    if (nowSleeping !== sleeping) {
      sleeping = nowSleeping;
      layout(); // a snooze ended: the row comes back up
    }
    let longest = 0;
    let overdueCount = 0;
    longestId = null;
    for (const row of rows.values()) {
      const overdueFor = tickRow(row);
      if (overdueFor) {
        overdueCount += 1;
        if (overdueFor > longest) {
          longest = overdueFor;
          longestId = row.data.id;
        }
      }
    }
    setHidden(toast, overdueCount === 0);
    if (overdueCount) {
      toastText.textContent = t("{n} waiting over target, longest {wait}", {
        n: overdueCount,
        wait: formatWait(longest),
      });
    }
  }

  function layout() {
    // Snoozed rows sink, in their order; the rest keep theirs.
    order = [
      ...order.filter((id) => !snoozed(rows.get(id).data)),
      ...order.filter((id) => snoozed(rows.get(id).data)),
    ];
    list.replaceChildren(...order.map((id) => rows.get(id).li));
    setHidden(empty, order.length > 0);
    count.textContent = order.length ? `(${order.length})` : "";
    markActive();
  }

  function markActive() {
    for (const [id, row] of rows) {
      if (id === activeId) row.link.setAttribute("aria-current", "page");
      else row.link.removeAttribute("aria-current");
      row.li.classList.toggle("is-active", id === activeId);
    }
  }

  /** Replace the whole list (REST state), keeping row elements that stay. */
  function replace(conversations) {
    const seen = new Set();
    for (const data of conversations) {
      seen.add(data.id);
      upsert(data, { relayout: false });
    }
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    order = conversations.map((data) => data.id);
    layout();
    tick();
  }

  function upsert(data, { relayout = true } = {}) {
    let row = rows.get(data.id);
    if (!row) {
      row = build(data);
      rows.set(data.id, row);
      if (!order.includes(data.id)) order.push(data.id);
    }
    row.data = data;
    fill(row);
    if (relayout) layout();
  }

  function remove(id) {
    if (!rows.has(id)) return;
    rows.delete(id);
    order = order.filter((other) => other !== id);
    layout();
    tick();
  }

  /** A message in one of my conversations: preview and waiting clock follow it. */
  function onMessage(conversationId, message) {
    const row = rows.get(conversationId);
    if (!row || (message.sender !== "buyer" && message.sender !== "agent")) return;
    row.data.last_message = message;
    if (message.sender === "buyer" && row.data.snoozed_until) {
      row.data.snoozed_until = null; // the buyer wrote: awake again
      layout();
    }
    if (message.sender === "agent") row.data.waiting_since = null;
    else if (!row.data.waiting_since) row.data.waiting_since = message.sent_at;
    fill(row);
  }

  /** Collision: colleagues viewing (👁) or writing (✎) in one of my conversations. */
  function setPresence(id, people) {
    const row = rows.get(id);
    if (!row) return;
    fillNode(
      row.presence,
      people.map((entry) =>
        el("span", {
          class: `conv-eye presence-${entry.state}`,
          title:
            entry.state === "typing"
              ? t("{name} is typing", { name: entry.user.display_name })
              : t("{name} is viewing", { name: entry.user.display_name }),
          "aria-label":
            entry.state === "typing"
              ? t("{name} is typing", { name: entry.user.display_name })
              : t("{name} is viewing", { name: entry.user.display_name }),
          text: entry.state === "typing" ? "✎" : "👁",
        }),
      ),
    );
  }

  function setActive(id) {
    activeId = id;
    markActive();
  }

  function neighbour(step) {
    if (!order.length) return null;
    const at = order.indexOf(activeId);
    if (at < 0) return order[step > 0 ? 0 : order.length - 1];
    return order[(at + step + order.length) % order.length];
  }

  return {
    replace,
    upsert,
    remove,
    onMessage,
    setActive,
    tick,
    neighbour,
    setPresence,
    has: (id) => rows.has(id),
    longest: () => longestId,
    row: (id) => rows.get(id)?.data || null,
  };
}
