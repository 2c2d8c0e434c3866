// Collision (console UX bar, point 10): who else views (eye) or writes (pen) in a
// conversation, from the live socket's presence frames. One entry per tab; a tab not heard
// of for a minute is dropped (each server re-announces its viewers every 20 s, so a server
// that died goes quiet). My own tabs are not shown.

import { byId, el, fillNode, setHidden } from "./dom.js";
import { t } from "./i18n.js";

const EXPIRE_MS = 60000;

export function createPresence({ me, onChange }) {
  const tabs = new Map(); // tab -> {conversationId, user, state, mode, at}
  const box = byId("chat-presence");

  function apply(frame) {
    if (!frame || frame.user?.id === me.id) return;
    const id = Number(frame.conversation_id);
    if (frame.state === "left") tabs.delete(frame.tab);
    else {
      tabs.set(frame.tab, {
        conversationId: id,
        user: frame.user,
        state: frame.state,
        mode: frame.mode,
        at: Date.now(),
      });
    }
    onChange(id);
  }

  /** Others in a conversation, one per person (writing wins over viewing). */
  function others(conversationId) {
    const people = new Map();
    for (const entry of tabs.values()) {
      if (entry.conversationId !== conversationId) continue;
      const known = people.get(entry.user.id);
      if (!known || entry.state === "typing") people.set(entry.user.id, entry);
    }
    return [...people.values()];
  }

  function expire() {
    const now = Date.now();
    const touched = new Set();
    for (const [tab, entry] of tabs) {
      if (now - entry.at > EXPIRE_MS) {
        tabs.delete(tab);
        touched.add(entry.conversationId);
      }
    }
    for (const id of touched) onChange(id);
  }

  function clear() {
    const touched = new Set([...tabs.values()].map((entry) => entry.conversationId));
    tabs.clear();
    for (const id of touched) onChange(id);
  }

  /** The line under the chat title: 👁 王主管 正在查看 · ✎ 小美 正在输入备注. */
  function render(conversationId) {
    const people = conversationId === null ? [] : others(conversationId);
    fillNode(
      box,
      people.map((entry) =>
        el(
          "span",
          {
            class: `presence presence-${entry.state}`,
            dataset: { userId: String(entry.user.id), state: entry.state },
          },
          el("span", { "aria-hidden": "true", text: entry.state === "typing" ? "✎ " : "👁 " }),
          entry.state === "typing"
            ? entry.mode === "note"
              ? t("{name} is writing a note", { name: entry.user.display_name })
              : t("{name} is typing", { name: entry.user.display_name })
            : t("{name} is viewing", { name: entry.user.display_name }),
        ),
      ),
    );
    setHidden(box, people.length === 0);
  }

  window.setInterval(expire, 10000);
  return { apply, others, clear, render };
}
