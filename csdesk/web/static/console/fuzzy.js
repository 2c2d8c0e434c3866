// Fuzzy search over quick replies: shortcut code first, then text and group, then
// characters in order ("fh" finds "fh", "发货" finds "...发货...", "退款到" finds
// "退款...到账"). Pure functions, no DOM.

const normalize = (text) => text.toLowerCase().normalize("NFKC");

/** Penalised subsequence match: higher when the characters sit close together. */
function subsequence(token, text) {
  let from = 0;
  let first = -1;
  let last = -1;
  for (const ch of token) {
    const at = text.indexOf(ch, from);
    if (at < 0) return 0;
    if (first < 0) first = at;
    last = at;
    from = at + ch.length;
  }
  const spread = last - first + 1 - [...token].length;
  return Math.max(5, 30 - spread);
}

function tokenScore(token, code, text, group) {
  if (code === token) return 100;
  if (code.startsWith(token)) return 90;
  if (code.includes(token)) return 70;
  if (text.includes(token)) return 60;
  if (group.includes(token)) return 55;
  const inCode = subsequence(token, code);
  if (inCode) return 35 + inCode / 3;
  return subsequence(token, text);
}

/** Score of one phrase ({code, text, group}) for a query, or 0 when it does not match. */
export function score(query, phrase) {
  const tokens = normalize(query).split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return 1;
  const code = normalize(phrase.code);
  const text = normalize(phrase.text);
  const group = normalize(phrase.group || "");
  let total = 0;
  for (const token of tokens) {
    const points = tokenScore(token, code, text, group);
    if (!points) return 0;
    total += points;
  }
  return total;
}

/** Matching phrases, best first; ties keep library order. */
export function search(query, phrases, limit = 40) {
  return phrases
    .map((phrase, index) => ({ phrase, index, score: score(query, phrase) }))
    .filter((hit) => hit.score > 0)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, limit)
    .map((hit) => hit.phrase);
}
