// The caller card (来电卡片) of the hotline pages: the buyers a phone number (or a call
// item) finds, masked as the API sends them (pii.js), with their recent orders, open
// refunds and open items.

import { el } from "./dom.js";
import { label, t } from "./i18n.js";
import { maskedValue } from "./pii.js";
import { formatDate, formatMoney } from "./time.js";

export function tierTag(tier) {
  if (!tier || tier === "normal") return null;
  return el("span", { class: "tag tag-tier", text: label("tier", tier) });
}

export function orderLine(order) {
  return [
    el("span", { class: "order-id", text: order.external_id }),
    " · ",
    label("order_status", order.status),
    " · ",
    formatMoney(order.amount_fen),
    order.created_at ? ` · ${formatDate(order.created_at)}` : "",
    order.campaign ? el("span", { class: "tag", text: order.campaign }) : null,
  ];
}

function listOf(title, headingId, items, render, emptyText) {
  return el(
    "section",
    { class: "hl-sub", "aria-labelledby": headingId },
    el("h4", { id: headingId, text: title }),
    items.length
      ? el(
          "ul",
          { class: "hl-lines" },
          items.map((entry) => el("li", {}, render(entry))),
        )
      : el("p", { class: "muted small", text: emptyText }),
  );
}

function buyerCard(buyer) {
  const headingId = `hl-buyer-${Number(buyer.id)}`;
  return el(
    "article",
    { class: "hl-buyer", "aria-labelledby": headingId, dataset: { buyerId: String(buyer.id) } },
    el(
      "h3",
      { id: headingId, class: "hl-buyer-name" },
      el("span", { class: "hl-nick", text: buyer.nick }),
      " ",
      tierTag(buyer.tier),
    ),
    el(
      "dl",
      { class: "hl-facts" },
      el("dt", { text: label("pii_field", "name") }),
      el("dd", {}, maskedValue(buyer.name)),
      el("dt", { text: label("pii_field", "phone") }),
      el("dd", {}, maskedValue(buyer.phone)),
    ),
    listOf(
      t("Recent orders"),
      `${headingId}-orders`,
      buyer.orders || [],
      orderLine,
      t("No orders."),
    ),
    listOf(
      t("Open refunds"),
      `${headingId}-refunds`,
      buyer.open_refunds || [],
      (refund) => [
        el("span", { class: "order-id", text: refund.external_id }),
        " · ",
        label("refund_status", refund.status),
        " · ",
        formatMoney(refund.amount_fen),
      ],
      t("No open refund."),
    ),
    listOf(
      t("Open conversations"),
      `${headingId}-items`,
      buyer.open_items || [],
      (item) =>
        [
          label("kind", item.kind),
          label("role", item.role),
          label("conversation_status", item.status),
        ]
          .filter(Boolean)
          .join(" · "),
      t("No open conversation."),
    ),
  );
}

/** Every buyer the number found, or a line saying nobody was. */
export function buyerCards(buyers) {
  if (!buyers || buyers.length === 0) {
    return el("p", { class: "muted hl-nobody", text: t("No buyer on record with this number.") });
  }
  return el("div", { class: "hl-buyers" }, buyers.map(buyerCard));
}

/** Display name of a call's result: its disposition (call_reached → 已接通) or outcome. */
export function outcomeLabel(disposition) {
  if (!disposition) return "";
  const named = label("disposition", disposition);
  if (named !== disposition) return named;
  if (disposition.startsWith("call_")) return label("call_outcome", disposition.slice(5));
  if (disposition.startsWith("chase_")) return label("chase_outcome", disposition.slice(6));
  return disposition;
}
