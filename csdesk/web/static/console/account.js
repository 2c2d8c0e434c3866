// 我的账号: my sessions (sign out the others) and my API tokens (issue with a name, shown
// once; revoke).

import { api } from "./api.js";
import { byId, el, fillNode, setHidden } from "./dom.js";
import { label, locale, t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const base = boot.account_api;

function when(iso) {
  return iso ? new Date(iso).toLocaleString(locale, { hour12: false }) : "—";
}

async function load() {
  const data = await api(base);
  byId("ac-role").textContent = label("login_role", data.me.role);
  fillNode(
    byId("ac-sessions"),
    data.sessions.map((s) =>
      el("li", {
        text: s.current
          ? t("Signed in {when} (this browser)", { when: when(s.created_at) })
          : t("Signed in {when}", { when: when(s.created_at) }),
      }),
    ),
  );
  fillNode(
    byId("ac-tokens"),
    data.tokens.map((token) =>
      el(
        "tr",
        {},
        el("td", { text: token.name || t("(no name)") }),
        el("td", { class: "num", text: when(token.created_at) }),
        el("td", { class: "num", text: when(token.last_used_at) }),
        el(
          "td",
          {},
          token.revoked_at
            ? el("span", { class: "muted", text: t("Revoked") })
            : el("button", {
                type: "button",
                class: "btn btn-quiet",
                text: t("Revoke"),
                onclick: async () => {
                  await api(`${base}/tokens/${token.id}`, { method: "DELETE" });
                  await load();
                },
              }),
        ),
      ),
    ),
  );
}

byId("ac-sign-out-others").addEventListener("click", async () => {
  const answer = await api(`${base}/sessions/sign-out-others`, { method: "POST", body: {} });
  const box = byId("ac-sessions-result");
  box.textContent = t("Signed out {count} other session(s).", { count: answer.ended });
  setHidden(box, false);
  await load();
});

byId("ac-token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorBox = byId("ac-token-error");
  try {
    const answer = await api(`${base}/tokens`, { method: "POST", body: { name: byId("ac-token-name").value } });
    errorBox.textContent = "";
    const box = byId("ac-token-secret");
    fillNode(
      box,
      el("p", { text: t("Your new token (shown once): send it as Authorization: Bearer TOKEN") }),
      el("p", { class: "ad-secret", text: answer.token }),
    );
    setHidden(box, false);
    box.focus();
    byId("ac-token-name").value = "";
    await load();
  } catch (error) {
    errorBox.textContent = error.message;
  }
});

load();
