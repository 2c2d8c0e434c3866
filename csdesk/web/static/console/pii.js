// Buyer data that arrives masked (name, phone, address). A masked value offers 查看 only
// where the page allows a reveal; the reveal itself is the reveal-with-reason dialog
// (dialogs.js createRevealDialog, audited on the server).

import { el } from "./dom.js";
import { t } from "./i18n.js";

/**
 * A masked value; with a reveal target ({buyerId, orderId, field, what}) and a reveal
 * function (dialogs.js createRevealDialog().open), a 查看 button that swaps in the clear value.
 */
export function maskedValue(value, target, reveal) {
  if (!value) return el("span", { class: "muted", text: "—" });
  const text = el("span", { class: "pii", text: value });
  if (!target || !reveal) return text;
  const button = el("button", {
    type: "button",
    class: "link-btn",
    text: t("Show"),
    "aria-label": t("Show {what}", { what: target.what }),
  });
  button.addEventListener("click", () =>
    reveal(target, (clear) => {
      text.textContent = clear;
      text.classList.add("pii-revealed");
      button.remove();
    }),
  );
  return el("span", { class: "pii-field" }, text, " ", button);
}
