// Clocks: the server's "now" (so waiting timers agree with it), shop-local display.

import { t, locale } from "./i18n.js";

let offsetMs = 0;
let timeZone = "Asia/Shanghai";

export function syncClock(serverIso) {
  const server = Date.parse(serverIso);
  if (!Number.isNaN(server)) offsetMs = server - Date.now();
}

export function setTimeZone(zone) {
  if (zone) timeZone = zone;
}

export function nowMs() {
  return Date.now() + offsetMs;
}

/** Whole seconds since an ISO time (never negative). */
export function secondsSince(iso) {
  return Math.max(0, Math.floor((nowMs() - Date.parse(iso)) / 1000));
}

/** 45 → "45秒", 125 → "2分05秒", 3720 → "1时02分". */
export function formatWait(seconds) {
  if (seconds < 60) return t("{s}s", { s: seconds });
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return t("{m}m{s}s", { m: minutes, s: String(seconds % 60).padStart(2, "0") });
  }
  return t("{h}h{m}m", { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, "0") });
}

function formatter(options) {
  return new Intl.DateTimeFormat(locale, { timeZone, hourCycle: "h23", ...options });
}

const DAY = { year: "numeric", month: "2-digit", day: "2-digit" };

/** Shop-local clock time, with the date when it is not today (shop time). */
export function formatTime(iso) {
  const date = new Date(iso);
  const today = formatter(DAY).format(new Date(nowMs()));
  if (formatter(DAY).format(date) === today) {
    return formatter({ hour: "2-digit", minute: "2-digit" }).format(date);
  }
  return formatter({ month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(
    date,
  );
}

export function formatDate(iso) {
  if (!iso) return "";
  return formatter({ year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(iso));
}

export function formatMoney(fen) {
  return `¥${(fen / 100).toFixed(2)}`;
}
