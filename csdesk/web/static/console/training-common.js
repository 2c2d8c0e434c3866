// What the training and points pages share: their label tables (boot.training_labels),
// dates in the shop's zone, the verdict sentence of an effect row, field errors.

import { byId } from "./dom.js";
import { t } from "./i18n.js";
import { formatDate, formatTime } from "./time.js";

export const boot = JSON.parse(byId("wb-boot").textContent);
const TL = boot.training_labels || {};

/** Display name of a stored training value (table: source, status, team, category ...). */
export function tl(table, key) {
  if (key === null || key === undefined) return "";
  return TL[table]?.[key] ?? String(key);
}

export function when(iso) {
  return iso ? formatTime(iso) : "";
}

export function day(iso) {
  return iso ? formatDate(iso) : "";
}

/** "4.1 → 1.2 per 100 chats" and the interval, or why there is no verdict yet. */
export function verdictText(row) {
  const rate = (side) => (row[side].rate === null ? "—" : row[side].rate.toFixed(1));
  const rates = t("{before} → {after} per 100 scored chats", {
    before: rate("before"),
    after: rate("after"),
  });
  const sizes = t("(n = {before} before, {after} after)", {
    before: row.before.chats,
    after: row.after.chats,
  });
  const interval = row.interval
    ? t("95% interval of the change: {low} to {high}", {
        low: row.interval[0].toFixed(1),
        high: row.interval[1].toFixed(1),
      })
    : "";
  return { verdict: tl("verdict", row.verdict), rates, sizes, interval };
}

/** Show an API error next to the form (and on the field it names, when there is one). */
export function showError(box, err, form) {
  box.textContent = err.message || String(err);
  if (form && err.field) {
    const input = form.querySelector(`[data-field="${CSS.escape(err.field)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }
}

export function clearErrors(form) {
  form?.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

/** YYYY-MM of today (the browser's month; the server reads it in the shop's zone). */
export function thisMonth() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
}
