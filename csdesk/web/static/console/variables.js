// Quick-reply variables ({买家昵称} {订单号} {物流单号} {预计发货}), filled from the
// conversation's focus order. An unresolved one stays in the text and blocks sending.

export const VARIABLES = ["买家昵称", "订单号", "物流单号", "预计发货"];
const PATTERN = new RegExp(`\\{(${VARIABLES.join("|")})\\}`, "g");

/** {text, missing}: variables with a value replaced, the others left in place. */
export function fill(text, values) {
  const missing = [];
  const filled = text.replace(PATTERN, (whole, name) => {
    const value = values?.[name];
    if (value) return value;
    if (!missing.includes(name)) missing.push(name);
    return whole;
  });
  return { text: filled, missing };
}

/** Variables still in the text, each once. */
export function unresolved(text) {
  const found = [];
  for (const match of text.matchAll(PATTERN)) {
    if (!found.includes(match[1])) found.push(match[1]);
  }
  return found;
}

/** Where the first unresolved variable sits, to select it for typing over. */
export function firstUnresolved(text) {
  PATTERN.lastIndex = 0;
  const match = PATTERN.exec(text);
  PATTERN.lastIndex = 0;
  return match ? { start: match.index, end: match.index + match[0].length } : null;
}
