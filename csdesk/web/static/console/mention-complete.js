// @ autocomplete in internal notes (console UX bar, point 11): typing "@" and letters in
// note mode lists matching colleagues (username or shown name); ↑/↓ choose, Enter or Tab
// inserts "@username ", Esc closes. The list comes from GET /api/v1/workbench/colleagues.

import { api } from "./api.js";
import { byId, el, setHidden } from "./dom.js";
import { label } from "./i18n.js";

const MAX_SHOWN = 8;

export function createMentionComplete({ textarea, isNoteMode, me }) {
  const options = byId("mention-options");
  let people = null;
  let results = [];
  let active = 0;
  let range = null; // {start, end} of "@query" in the textarea

  async function colleagues() {
    if (people === null) {
      try {
        people = (await api("/api/v1/workbench/colleagues")).colleagues.filter((p) => p.id !== me.id);
      } catch {
        people = [];
      }
    }
    return people;
  }

  function close() {
    range = null;
    results = [];
    setHidden(options, true);
    textarea.removeAttribute("aria-activedescendant");
    textarea.setAttribute("aria-expanded", "false");
  }

  function query() {
    const at = textarea.selectionStart;
    const before = textarea.value.slice(0, at);
    const match = /(^|[\s，。,.!?！？])@([\w\u4e00-\u9fff.-]*)$/.exec(before);
    if (!match) return null;
    return { text: match[2], start: at - match[2].length - 1, end: at };
  }

  function render() {
    options.replaceChildren(
      ...results.map((person, index) =>
        el(
          "li",
          {
            id: `mention-option-${index}`,
            role: "option",
            class: "quick-option",
            "aria-selected": String(index === active),
            dataset: { index: String(index), username: person.username },
          },
          el("span", { class: "quick-code", text: `@${person.username}` }),
          el("span", { class: "quick-text", text: person.display_name }),
          el("span", { class: "quick-group", text: label("login_role", person.role) }),
        ),
      ),
    );
    setHidden(options, results.length === 0);
    textarea.setAttribute("aria-expanded", String(results.length > 0));
    if (results.length) textarea.setAttribute("aria-activedescendant", `mention-option-${active}`);
  }

  let seq = 0;

  async function update() {
    const mine = ++seq;
    if (!isNoteMode()) {
      close();
      return;
    }
    const found = query();
    if (!found) {
      close();
      return;
    }
    const all = await colleagues();
    if (mine !== seq) return; // typed on meanwhile: a newer update decides
    const needle = found.text.toLowerCase();
    results = all
      .filter(
        (p) => p.username.toLowerCase().startsWith(needle) || p.display_name.toLowerCase().includes(needle),
      )
      .slice(0, MAX_SHOWN);
    range = found;
    active = 0;
    render();
  }

  function choose(index) {
    const person = results[index];
    const here = query(); // where "@…" is now, whatever was typed since the list showed
    if (!person || !here) return;
    const text = `@${person.username} `;
    textarea.setRangeText(text, here.start, here.end, "end");
    close();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  textarea.addEventListener("input", () => {
    update();
  });
  textarea.addEventListener(
    "keydown",
    (event) => {
      if (!range || !results.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        event.stopImmediatePropagation();
        active = (active + (event.key === "ArrowDown" ? 1 : -1) + results.length) % results.length;
        render();
      } else if ((event.key === "Enter" || event.key === "Tab") && !event.isComposing) {
        event.preventDefault();
        event.stopImmediatePropagation();
        choose(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopImmediatePropagation();
        close();
      }
    },
    { capture: true },
  );
  options.addEventListener("mousedown", (event) => event.preventDefault());
  options.addEventListener("click", (event) => {
    const item = event.target.closest('[role="option"]');
    if (item) choose(Number(item.dataset.index));
  });
  textarea.addEventListener("blur", () => window.setTimeout(close, 150));

  return { close, isOpen: () => Boolean(range && results.length) };
}
