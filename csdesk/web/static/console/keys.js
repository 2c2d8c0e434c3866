// The workbench keyboard map (listed in the cheat sheet, Ctrl+/):
//   Alt+↓ / Alt+↑  next / previous conversation     Alt+J  longest wait
//   Ctrl+K         transfer                          Alt+C  close conversation
//   Alt+R          reply box                         Alt+B  buyer panel
//   Alt+N          reply / internal note           Alt+E  resolve and open the next
//   Alt+Z          snooze                            Alt+S  suspend (busy) / back online
//   Alt+1 … Alt+9  favourite quick replies
//   /              quick replies                     Ctrl+/ cheat sheet
// Letters are matched by physical key (event.code), so Alt+C works on any layout.

import { anyDialogOpen } from "./dialogs.js";

function typing(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

export function installKeys(actions) {
  document.addEventListener("keydown", (event) => {
    if (event.isComposing || event.keyCode === 229) return;
    const ctrl = event.ctrlKey || event.metaKey;
    if (ctrl && !event.altKey && (event.key === "/" || event.code === "Slash")) {
      event.preventDefault();
      actions.cheatSheet();
      return;
    }
    if (anyDialogOpen()) return; // the dialog owns the keyboard (Esc closes it)
    let action = null;
    if (event.altKey && !ctrl && !event.shiftKey) {
      action = {
        ArrowDown: actions.next,
        ArrowUp: actions.previous,
        KeyJ: actions.longest,
        KeyC: actions.close,
        KeyR: actions.reply,
        KeyB: actions.panel,
        KeyN: actions.noteToggle,
        KeyE: actions.resolveNext,
        KeyZ: actions.snooze,
        KeyS: actions.suspend,
      }[event.code];
      const digit = /^Digit([1-9])$/.exec(event.code);
      if (digit && actions.hotkey) action = () => actions.hotkey(Number(digit[1]));
    } else if (ctrl && !event.altKey && !event.shiftKey && event.code === "KeyK") {
      action = actions.transfer;
    } else if (event.key === "/" && !ctrl && !event.altKey && !typing(event.target)) {
      action = actions.quickReply;
    }
    if (action) {
      event.preventDefault();
      action();
    }
  });
}
