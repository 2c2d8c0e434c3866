// Alerts (提醒): a buyer message or a new assignment the agent is not looking at — the tab is
// hidden, or another conversation is open — is unread. The tab title counts unread
// messages ("(3) 工作台") and a short chime sounds, again every 30 s while anything stays
// unread; opening the conversation with the tab in front reads it. A note that mentions the
// agent chimes once. Whether a tab in front also chimes is the agent's choice (kept with the
// other per-agent preferences).
//
// The chime is synthesised with WebAudio (no file, no CDN). Browsers only start audio after
// the person has clicked or typed on the page, so until then an alert is recorded as
// "blocked" rather than played. What happened is written to the page root for tests and
// support: data-alerts-rung (chimes attempted), data-alert-sound (played / blocked /
// unavailable / muted), data-unread (the title's count).

export const REPEAT_MS = 30000;
const PREF = "soundWhenFocused";

function chime(audio) {
  const start = audio.currentTime;
  const gain = audio.createGain();
  gain.connect(audio.destination);
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.5);
  for (const [frequency, offset] of [
    [880, 0],
    [1318.5, 0.14],
  ]) {
    const tone = audio.createOscillator();
    tone.type = "sine";
    tone.frequency.value = frequency;
    tone.connect(gain);
    tone.start(start + offset);
    tone.stop(start + offset + 0.34);
  }
}

export function createAlerts({ prefs, baseTitle, isOpen, root, focusedToggle }) {
  const unread = new Map(); // conversation id -> Set of unread keys (message ids, "assigned")
  let audio = null;
  let rung = 0;
  let repeat = null;

  focusedToggle.checked = Boolean(prefs.get(PREF, true));
  focusedToggle.addEventListener("change", () => prefs.set(PREF, focusedToggle.checked));

  function audioContext() {
    if (audio) return audio;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    try {
      audio = new Context();
    } catch {
      audio = null;
    }
    return audio;
  }

  // Audio may start once the person has interacted with the page.
  const unlock = () => {
    const context = audioContext();
    if (context && context.state === "suspended") context.resume().catch(() => {});
  };
  document.addEventListener("pointerdown", unlock, { capture: true });
  document.addEventListener("keydown", unlock, { capture: true });

  const inFront = () => document.visibilityState === "visible" && document.hasFocus();
  const viewing = (id) => document.visibilityState === "visible" && isOpen(id);
  const total = () => [...unread.values()].reduce((sum, keys) => sum + keys.size, 0);

  function render() {
    const count = total();
    document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
    root.dataset.unread = String(count);
  }

  function record(sound) {
    root.dataset.alertSound = sound;
    root.dataset.alertsRung = String(rung);
  }

  function ring() {
    if (inFront() && !focusedToggle.checked) {
      record("muted");
      return;
    }
    rung += 1;
    const context = audioContext();
    if (!context) {
      record("unavailable");
      return;
    }
    if (context.state !== "running") {
      context.resume().catch(() => {});
      record("blocked");
      return;
    }
    chime(context);
    record("played");
  }

  function schedule() {
    if (repeat === null && total() > 0) {
      repeat = window.setInterval(() => {
        if (total() > 0) ring();
        else stop();
      }, REPEAT_MS);
    }
  }

  function stop() {
    if (repeat !== null) window.clearInterval(repeat);
    repeat = null;
  }

  /** A buyer wrote (key: the message id), or a conversation was assigned to me (key: its
   * last buyer message's id, else "assigned"): unread unless I am looking. Keys make the
   * count the same whichever of the two events about a new chat is applied first. */
  function arrived(id, key) {
    if (viewing(id)) return;
    const keys = unread.get(id) || new Set();
    if (keys.has(key)) return;
    keys.add(key);
    unread.set(id, keys);
    render();
    ring();
    schedule();
  }

  /** The conversation is on screen: read, if the tab is in front. */
  function seen(id) {
    if (id === null || !viewing(id) || !unread.has(id)) return;
    unread.delete(id);
    render();
    if (!total()) stop();
  }

  /** Conversations no longer mine are not unread any more. */
  function keepOnly(ids) {
    const mine = new Set(ids);
    for (const id of [...unread.keys()]) if (!mine.has(id)) unread.delete(id);
    render();
    if (!total()) stop();
  }

  function forget(id) {
    if (unread.delete(id)) render();
    if (!total()) stop();
  }

  /** Something for me that is not a conversation of mine (a colleague's note naming me):
   * one chime, nothing counted as unread. */
  function ping() {
    ring();
  }

  record("none");
  render();
  return { arrived, seen, keepOnly, forget, ping, unread: total };
}
