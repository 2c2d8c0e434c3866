// Strings for scripts, in the page's locale (embedded by the server from the Babel catalogs;
// msgids are English). Display names of stored values come with the boot data.

const messages = JSON.parse(document.getElementById("wb-i18n")?.textContent || "{}");
const boot = JSON.parse(document.getElementById("wb-boot")?.textContent || "{}");

/** Translate msgid and fill {name} placeholders. */
export function t(msgid, vars) {
  let text = messages[msgid] || msgid;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  }
  return text;
}

/** Display name of a stored value (table: role, status, kind, intent, tier, ...). */
export function label(table, key) {
  if (key === null || key === undefined) return "";
  return boot.labels?.[table]?.[key] ?? String(key);
}

export const locale = boot.locale === "en" ? "en" : "zh-CN";
