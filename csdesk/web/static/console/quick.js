// The quick-reply picker (快捷短语): "/" in an empty reply box (or anywhere outside a field)
// opens it; typing searches code and text; ↑/↓ choose, Enter inserts, Esc closes.
// The inserted text has its variables filled; unresolved ones stay and are selected.
// Team phrases and my own (我的短语) are searched together; a phrase with an image attaches
// it; Alt+1 … Alt+9 insert my nine favourites without opening the picker.

import { byId, el, setHidden } from "./dom.js";
import { search } from "./fuzzy.js";
import { label, t } from "./i18n.js";
import { fill, firstUnresolved } from "./variables.js";

export function createPicker({ textarea, getVariables, onInserted }) {
  const picker = byId("quick-picker");
  const input = byId("quick-search");
  const options = byId("quick-options");
  const empty = byId("quick-empty");
  let phrases = [];
  let results = [];
  let active = 0;

  function setLibrary(library) {
    phrases = library.groups.flatMap((group) =>
      group.phrases.map((phrase) => ({
        ...phrase,
        group: group.scope === "personal" ? `${label("phrase_scope", "personal")} · ${group.name}` : group.name,
      })),
    );
  }

  /** My favourite on Alt+slot, or null. */
  function hotkey(slot) {
    return phrases.find((phrase) => phrase.hotkey === slot) || null;
  }

  function isOpen() {
    return !picker.hidden;
  }

  function open(query = "") {
    setHidden(picker, false);
    input.value = query;
    render();
    input.focus();
  }

  function close({ refocus = true } = {}) {
    if (!isOpen()) return;
    setHidden(picker, true);
    input.removeAttribute("aria-activedescendant");
    if (refocus) textarea.focus();
  }

  function render() {
    results = search(input.value, phrases);
    active = 0;
    const values = getVariables();
    options.replaceChildren(
      ...results.map((phrase, index) => {
        const preview = fill(phrase.text, values);
        return el(
          "li",
          {
            id: `quick-option-${index}`,
            role: "option",
            class: "quick-option",
            "aria-selected": index === active ? "true" : "false",
            dataset: { index: String(index) },
          },
          el("span", { class: "quick-code", text: `/${phrase.code}` }),
          el("span", { class: "quick-group", text: phrase.group }),
          el("span", { class: "quick-text", text: preview.text }),
          phrase.image
            ? el("img", { class: "quick-thumb", src: phrase.image.url, alt: phrase.image.name })
            : null,
          phrase.hotkey ? el("kbd", { class: "quick-hotkey", text: `Alt+${phrase.hotkey}` }) : null,
          preview.missing.length
            ? el("span", {
                class: "quick-missing",
                text: t("needs {names}", {
                  names: preview.missing.map((name) => `{${name}}`).join(" "),
                }),
              })
            : null,
        );
      }),
    );
    setHidden(empty, results.length > 0);
    highlight();
  }

  function highlight() {
    const items = options.querySelectorAll('[role="option"]');
    items.forEach((item, index) => item.setAttribute("aria-selected", String(index === active)));
    if (items[active]) {
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(index) {
    insertPhrase(results[index]);
  }

  function insertPhrase(phrase) {
    if (!phrase) return;
    const filled = fill(phrase.text, getVariables());
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? start;
    textarea.value = textarea.value.slice(0, start) + filled.text + textarea.value.slice(end);
    close();
    const gap = firstUnresolved(textarea.value);
    if (gap) textarea.setSelectionRange(gap.start, gap.end);
    else textarea.setSelectionRange(start + filled.text.length, start + filled.text.length);
    onInserted(filled, phrase);
  }

  input.addEventListener("input", render);
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (results.length) {
        const step = event.key === "ArrowDown" ? 1 : -1;
        active = (active + step + results.length) % results.length;
        highlight();
      }
    } else if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    } else if (event.key === "Tab") {
      close({ refocus: false });
    }
  });
  options.addEventListener("mousedown", (event) => event.preventDefault());
  options.addEventListener("click", (event) => {
    const item = event.target.closest('[role="option"]');
    if (item) choose(Number(item.dataset.index));
  });

  return { setLibrary, open, close, isOpen, hotkey, insertPhrase };
}
