// The live connection (GET /api/v1/live, a websocket):
//   → {"op":"hello","queue_id":null|"id","last_event_id":-1|n}
//   ← {"op":"welcome","queue_id","last_event_id","resumed"}
//   ← {"op":"event","id":n,"type":"message.created"|...,"payload":{...}}  (ids increase)
//   ← {"op":"reset"}                        reload state over REST
//   → {"op":"ack","last_event_id":n}
// Event types handled by the workbench: conversation.assigned, message.created,
// message.delivery, conversation.closed, conversation.requeued, agent.status,
// note.mentioned (others are ignored).
// Collision (who views and writes where), outside the numbered stream:
//   → {"op":"watch","conversation_id":n|null}   → {"op":"typing","conversation_id":n,"typing":bool,"mode":"reply"|"note"}
//   ← {"op":"presence","conversation_id","holder_id","user":{id,display_name,role},"tab","state":"viewing"|"typing"|"left","mode"}
// Reconnects with the same queue_id and last_event_id, backing off exponentially; while the
// socket is down (or the server has no live endpoint) the state is polled over REST. Close
// code 4001: the account was deactivated; the page goes to the sign-in page.

import { t } from "./i18n.js";

const MAX_BACKOFF_MS = 30000;
const ACK_DELAY_MS = 1000;

export class LiveClient {
  constructor({ path, pollMs, onEvent, onResync, onPoll, onState, onPresence, onWelcome }) {
    this.path = path;
    this.onPresence = onPresence || (() => {});
    this.onWelcome = onWelcome || (() => {});
    this.welcomed = false;
    this.pollMs = pollMs;
    this.onEvent = onEvent;
    this.onResync = onResync;
    this.onPoll = onPoll;
    this.onState = onState;
    this.queueId = null;
    this.lastEventId = -1;
    this.attempt = 0;
    this.socket = null;
    this.pollTimer = null;
    this.retryTimer = null;
    this.ackTimer = null;
    this.everOpened = false;
  }

  start() {
    this.connect();
  }

  url() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${window.location.host}${this.path}`;
  }

  connect() {
    this.retryTimer = null;
    let opened = false;
    let socket;
    try {
      socket = new WebSocket(this.url());
    } catch {
      this.disconnected(false);
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      opened = true;
      socket.send(
        JSON.stringify({ op: "hello", queue_id: this.queueId, last_event_id: this.lastEventId }),
      );
    });
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", (event) => {
      if (event.code === 4001) {
        // Signed out by an administrator (deactivated): no reconnect, no polling.
        this.socket = null;
        window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
        return;
      }
      if (this.socket === socket) this.disconnected(opened);
    });
  }

  receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (message.op === "welcome") {
      this.attempt = 0;
      this.everOpened = true;
      this.stopPolling();
      this.queueId = message.queue_id ?? this.queueId;
      if (!message.resumed) {
        // A fresh queue: whatever happened meanwhile is only in the database.
        this.lastEventId = typeof message.last_event_id === "number" ? message.last_event_id : -1;
        this.onResync();
      }
      this.onState("live");
      this.welcomed = true;
      this.onWelcome();
    } else if (message.op === "presence") {
      this.onPresence(message);
    } else if (message.op === "event") {
      if (typeof message.id === "number") {
        if (message.id <= this.lastEventId) return; // a repeat after a resume
        this.lastEventId = message.id;
      }
      try {
        this.onEvent(message.type, message.payload || {});
      } finally {
        this.scheduleAck();
      }
    } else if (message.op === "reset") {
      this.onResync();
    }
  }

  scheduleAck() {
    if (this.ackTimer) return;
    this.ackTimer = window.setTimeout(() => {
      this.ackTimer = null;
      if (this.socket && this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify({ op: "ack", last_event_id: this.lastEventId }));
      }
    }, ACK_DELAY_MS);
  }

  /** Send a collision frame (watch, typing) when the socket is up; dropped otherwise. */
  send(frame) {
    if (this.welcomed && this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  disconnected(wasOpen) {
    this.welcomed = false;
    this.socket = null;
    this.onState(this.everOpened || wasOpen ? "reconnecting" : "polling");
    this.startPolling();
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempt);
    this.attempt += 1;
    const jitter = Math.random() * 0.3 * delay;
    this.retryTimer = window.setTimeout(() => this.connect(), delay + jitter);
  }

  startPolling() {
    if (this.pollTimer) return;
    this.pollTimer = window.setInterval(() => this.onPoll(), this.pollMs);
  }

  stopPolling() {
    if (this.pollTimer) window.clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}

/** An onState handler: the connection's state, shown in a status line (node). */
export function showLiveState(node) {
  return (mode) => {
    node.dataset.mode = mode;
    node.textContent = {
      live: t("Live"),
      reconnecting: t("Connection lost, reconnecting… (refreshing every few seconds)"),
      polling: t("Refreshing every few seconds"),
    }[mode];
  };
}
