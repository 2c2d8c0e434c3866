// Per-agent preferences on this browser (agents share desks: keyed by user id).

export function makePrefs(userId) {
  const key = `csdesk:prefs:${userId}`;
  let data = {};
  try {
    data = JSON.parse(window.localStorage.getItem(key) || "{}") || {};
  } catch {
    data = {};
  }
  return {
    get(name, fallback) {
      return name in data ? data[name] : fallback;
    },
    set(name, value) {
      data[name] = value;
      try {
        window.localStorage.setItem(key, JSON.stringify(data));
      } catch {
        // Storage full or disabled: the preference lasts for this page only.
      }
    },
  };
}
