// One run at a time for a page's reads (resyncs, board reloads, guided mode's next item).

/**
 * Wrap an async task: while a run is going, calls ask for one more run afterwards (however
 * many there are) and get the promise of the run going, which settles when none is asked
 * for any more (or a run fails).
 */
export function coalesced(task) {
  let running = null;
  let again = false;
  return function run() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await task();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}
