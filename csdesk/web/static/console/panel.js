// The buyer panel: profile and tier, orders with status, refunds, earlier conversations
// and who served them. Sections collapse and move; the layout is remembered per agent.
// Phone, address and name arrive masked; "Show" asks for a reason (audited).
// Each order carries one-click cards (订单核对, and 催付 while unpaid) and the orders
// section offers an item or a coupon card; they go out filled from the stored data.
// Notes (内部备注) about this buyer from all their conversations have their own section.

import { byId, el } from "./dom.js";
import { label, t } from "./i18n.js";
import { maskedValue } from "./pii.js";
import { formatDate, formatMoney, formatTime } from "./time.js";

const SECTIONS = ["profile", "orders", "refunds", "notes", "history"];

export function createPanel({ prefs, onReveal, canSend = () => false, onCard = () => {} }) {
  const container = byId("panel-sections");
  const sections = new Map(
    [...container.querySelectorAll(".panel-section")].map((node) => [node.dataset.section, node]),
  );

  function body(key) {
    return byId(`sec-${key}-body`);
  }

  function applyLayout() {
    const saved = prefs.get("panelOrder", SECTIONS);
    const order = [...saved.filter((key) => sections.has(key)), ...SECTIONS.filter((k) => !saved.includes(k))];
    container.replaceChildren(...order.map((key) => sections.get(key)));
    const collapsed = prefs.get("panelCollapsed", []);
    for (const [key, node] of sections) setExpanded(node, !collapsed.includes(key));
  }

  function setExpanded(node, expanded) {
    node.querySelector(".section-toggle").setAttribute("aria-expanded", String(expanded));
    body(node.dataset.section).hidden = !expanded;
  }

  function saveLayout() {
    const order = [...container.querySelectorAll(".panel-section")].map((n) => n.dataset.section);
    prefs.set("panelOrder", order);
    prefs.set(
      "panelCollapsed",
      order.filter((key) => sections.get(key).querySelector(".section-toggle").getAttribute("aria-expanded") === "false"),
    );
  }

  container.addEventListener("click", (event) => {
    const toggle = event.target.closest(".section-toggle");
    const move = event.target.closest("[data-move]");
    const node = event.target.closest(".panel-section");
    if (!node) return;
    if (toggle) {
      setExpanded(node, toggle.getAttribute("aria-expanded") !== "true");
      saveLayout();
    } else if (move) {
      const sibling =
        move.dataset.move === "up" ? node.previousElementSibling : node.nextElementSibling;
      if (sibling) {
        if (move.dataset.move === "up") container.insertBefore(node, sibling);
        else container.insertBefore(sibling, node);
        move.focus();
        saveLayout();
      }
    }
  });

  // Values revealed on this page (each reveal was audited): a re-render keeps showing them.
  const revealed = new Map();
  const revealKey = (target) => `${target.buyerId}:${target.orderId ?? ""}:${target.field}`;

  function masked(value, target) {
    const known = value ? revealed.get(revealKey(target)) : undefined;
    if (known !== undefined) return el("span", { class: "pii pii-revealed", text: known });
    return maskedValue(value, target, (asked, show) =>
      onReveal(asked, (clear) => {
        revealed.set(revealKey(asked), clear);
        show(clear);
      }),
    );
  }

  function facts(pairs) {
    return el(
      "dl",
      { class: "facts-list" },
      pairs.filter(Boolean).flatMap(([term, value]) => [el("dt", { text: term }), el("dd", {}, value)]),
    );
  }

  function profile(data) {
    const buyer = data.buyer;
    const protection = data.protection;
    return facts([
      [t("Nick"), buyer.nick],
      [t("Tier"), el("span", { class: `tag tag-tier-${buyer.tier}`, text: label("tier", buyer.tier) })],
      [t("Name"), masked(buyer.name, { buyerId: buyer.id, field: "name", what: t("buyer name") })],
      [t("Phone"), masked(buyer.phone, { buyerId: buyer.id, field: "phone", what: t("buyer phone") })],
      [t("Address"), masked(buyer.address, { buyerId: buyer.id, field: "address", what: t("buyer address") })],
      [
        t("Protection owner"),
        protection
          ? t("{name} until {time}", { name: protection.owner_name || "?", time: formatTime(protection.until) })
          : t("none"),
      ],
      [t("Customer since"), formatDate(buyer.since)],
    ]);
  }

  function cardButton(text, name, handler) {
    return el("button", {
      type: "button",
      class: "btn btn-small",
      text,
      "aria-label": name,
      disabled: !canSend(),
      onclick: handler,
    });
  }

  function order(item, buyerId) {
    const what = (field) => t("{field} of order {id}", { field: label("pii_field", field), id: item.external_id });
    const cards = el(
      "div",
      { class: "card-actions" },
      item.status !== "closed"
        ? cardButton(t("Order check"), t("Order check card for {id}", { id: item.external_id }), () =>
            onCard("order_check", { order_id: item.id }),
          )
        : null,
      item.status === "created"
        ? cardButton(t("Payment reminder"), t("Payment reminder card for {id}", { id: item.external_id }), () =>
            onCard("payment_reminder", { order_id: item.id }),
          )
        : null,
    );
    return el(
      "li",
      { class: `order-card${item.focus ? " is-focus" : ""}` },
      el(
        "div",
        { class: "card-head" },
        el("span", { class: "order-id", text: item.external_id }),
        el("span", { class: `tag status-${item.status}`, text: label("order_status", item.status) }),
        item.focus ? el("span", { class: "tag tag-focus", text: t("This conversation") }) : null,
      ),
      el("p", {
        class: "order-items",
        text: item.items.map((line) => `${line.title} ×${line.qty}`).join("，"),
      }),
      facts([
        [t("Amount"), formatMoney(item.amount_fen)],
        [t("Ordered"), formatTime(item.created_at)],
        item.paid_at ? [t("Paid"), formatTime(item.paid_at)] : null,
        item.shipped_at ? [t("Shipped"), formatTime(item.shipped_at)] : null,
        item.tracking_no ? [t("Tracking no."), item.tracking_no] : null,
        item.gifts.length ? [t("Gifts"), item.gifts.join("，")] : null,
        [t("Receiver"), masked(item.receiver_name, { buyerId, orderId: item.id, field: "name", what: what("name") })],
        [t("Phone"), masked(item.receiver_phone, { buyerId, orderId: item.id, field: "phone", what: what("phone") })],
        [t("Address"), masked(item.address, { buyerId, orderId: item.id, field: "address", what: what("address") })],
      ]),
      cards,
    );
  }

  function note(item) {
    const head = `${item.author_name || "?"} · ${formatTime(item.sent_at)}`;
    const where = item.this_conversation
      ? el("span", { class: "tag", text: t("This conversation") })
      : el("a", { href: `/console/conversations/${Number(item.conversation_id)}`, text: t("Conversation #{id}", { id: item.conversation_id }) });
    return el(
      "li",
      { class: "note-item" },
      el("p", { class: "muted small" }, head, " ", where),
      el("p", { class: "note-text", text: item.text }),
    );
  }

  function refund(item) {
    return el(
      "li",
      { class: "order-card" },
      el(
        "div",
        { class: "card-head" },
        el("span", { class: "order-id", text: item.external_id }),
        el("span", { class: "tag", text: label("refund_status", item.status) }),
      ),
      facts([
        [t("Kind"), label("refund_kind", item.kind)],
        [t("Amount"), formatMoney(item.amount_fen)],
        [t("Order"), item.order_external_id || "—"],
        [t("Reason"), item.reason],
        [t("Requested"), formatTime(item.requested_at)],
        item.resolved_at ? [t("Resolved"), formatTime(item.resolved_at)] : [t("Deadline"), formatTime(item.deadline_at)],
      ]),
    );
  }

  function past(item) {
    const when = formatTime(item.opened_at);
    const summary = [
      label("role", item.role),
      item.served_by ? t("served by {name}", { name: item.served_by }) : t("not served"),
      item.disposition ? label("disposition", item.disposition) : label("conversation_status", item.status),
    ].join(" · ");
    const head = item.readable
      ? el("a", { href: `/console/conversations/${Number(item.id)}`, text: when })
      : el("span", { text: when });
    return el("li", { class: "history-item" }, head, el("span", { class: "muted small", text: ` ${summary}` }));
  }

  function list(items, render, emptyText) {
    if (!items.length) return el("p", { class: "muted small", text: emptyText });
    return el("ol", { class: "card-list" }, items.map(render));
  }

  function render(data) {
    if (!data.buyer) {
      for (const key of SECTIONS) body(key).replaceChildren(el("p", { class: "muted small", text: t("No buyer on this item.") }));
      return;
    }
    body("profile").replaceChildren(profile(data));
    body("orders").replaceChildren(
      el(
        "div",
        { class: "card-actions" },
        cardButton(t("Recommend an item"), null, () => onCard("product", {})),
        cardButton(t("Coupon"), t("Coupon card"), () => onCard("coupon", {})),
      ),
      list(data.orders, (item) => order(item, data.buyer.id), t("No orders.")),
    );
    body("notes").replaceChildren(list(data.notes || [], note, t("No notes about this buyer yet.")));
    body("refunds").replaceChildren(list(data.refunds, refund, t("No refunds.")));
    body("history").replaceChildren(list(data.history, past, t("No earlier conversations.")));
  }

  function clear() {
    for (const key of SECTIONS) body(key).replaceChildren(el("p", { class: "muted small", text: "—" }));
  }

  function focus() {
    container.querySelector(".section-toggle")?.focus();
  }

  applyLayout();
  return { render, clear, focus };
}
