// Notes that mention me (note.mentioned): who wrote what, in which conversation, newest
// first, with a link when I may open that conversation. Kept until dismissed.

import { byId, el, setHidden } from "./dom.js";
import { t } from "./i18n.js";

const KEEP = 20;

export function createMentions({ onOpen }) {
  const box = byId("mentions");
  const list = byId("mentions-list");

  byId("mentions-clear").addEventListener("click", () => {
    list.replaceChildren();
    setHidden(box, true);
  });

  function add(payload) {
    const id = Number(payload.conversation_id);
    const where = payload.buyer_nick || `#${id}`;
    const head = t("{name} mentioned you ({where})", {
      name: payload.by?.display_name || "?",
      where,
    });
    let open = null;
    if (payload.can_open) {
      open = el("a", { href: `/console/conversations/${id}`, text: t("Open") });
      open.addEventListener("click", (event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        onOpen(id);
      });
    }
    const item = el(
      "li",
      { class: "mention", dataset: { conversationId: String(id) } },
      el("span", { class: "mention-head", text: head }),
      open ? " " : null,
      open,
      el("p", { class: "mention-text", text: payload.message?.text || "" }),
    );
    list.prepend(item);
    while (list.children.length > KEEP) list.lastElementChild.remove();
    setHidden(box, false);
  }

  return { add };
}
