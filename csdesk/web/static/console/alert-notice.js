// Alert notices (告警提示) on every supervisor page: an alert.raised event over the live
// websocket shows a notice at the top right with the alert's title and text and a link to
// the alert list; a critical one stays until closed, a warning for a minute. Loaded by the
// supervisor pages' frame for those who may read alerts (the meta tag names the live path
// and the list). The page root counts the notices shown (data-alert-notices) for tests.

import { el } from "./dom.js";
import { t } from "./i18n.js";
import { LiveClient } from "./live.js";

const meta = document.querySelector('meta[name="csdesk-alert-notices"]');
const WARNING_MS = 60000;
const MAX_SHOWN = 4;

function region() {
  let node = document.getElementById("alert-notices");
  if (!node) {
    node = el("section", {
      id: "alert-notices",
      class: "alert-notices",
      "aria-live": "assertive",
      "aria-label": t("Alerts"),
    });
    document.body.append(node);
  }
  return node;
}

function show(alert) {
  const box = region();
  const close = el("button", { type: "button", class: "btn alert-notice-close", text: t("Dismiss") });
  const notice = el(
    "article",
    {
      class: `alert-notice${alert.severity === "critical" ? " is-critical" : ""}`,
      role: "alert",
      dataset: { alertId: alert.id, kind: alert.kind },
    },
    el("h2", { text: alert.title }),
    el("p", { text: alert.text }),
    el(
      "div",
      { class: "alert-notice-foot" },
      el("a", { href: meta.dataset.list, text: t("All alerts") }),
      close,
    ),
  );
  close.addEventListener("click", () => notice.remove());
  box.prepend(notice);
  while (box.children.length > MAX_SHOWN) box.lastElementChild.remove();
  if (alert.severity !== "critical") window.setTimeout(() => notice.remove(), WARNING_MS);
  const root = document.documentElement;
  root.dataset.alertNotices = String(Number(root.dataset.alertNotices || 0) + 1);
}

if (meta && meta.content) {
  new LiveClient({
    path: meta.content,
    pollMs: 30000,
    onEvent: (type, payload) => {
      if (type === "alert.raised" && payload.alert) show(payload.alert);
    },
    onResync: () => {},
    onPoll: () => {},
    onState: (mode) => {
      document.documentElement.dataset.alertFeed = mode;
    },
  }).start();
}
