// The /ws/console client: authenticates with its first frame (the token never goes in the URL),
// resumes after the last event it applied, and reconnects by itself with backoff.
//
// Status: "connecting" → ("resyncing" while a snapshot is replayed) → "live";
// "reconnecting" after any drop; "signed_out" when the server refuses the token (4401).
import { backoffDelay } from "../shared/backoff.js";

export const CLOSE_BAD_TOKEN = 4401;
const PING_EVERY_MS = 20_000;
const PONG_WITHIN_MS = 10_000;

/** The first frame: resume after the last applied event when there is a state to resume. */
export function authFrame(token, lastEventId) {
  const frame = { type: "auth", token };
  if (typeof lastEventId === "number") frame.resume_after = lastEventId;
  return frame;
}

/** The connection status after the server sent `frame` (unchanged for other frames). */
export function statusAfter(status, frame) {
  switch (frame.type) {
    case "resync":
      return "resyncing";
    case "snapshot":
      // A snapshot on the first connection is just loading; after a drop it is a resync.
      return status === "reconnecting" ? "resyncing" : status;
    case "ready":
      return "live";
    default:
      return status;
  }
}

export class ConsoleConnection {
  /**
   * @param {object} options
   * @param {() => string|null} options.getToken
   * @param {() => number|null} options.lastEventId  id of the last event applied, or null
   * @param {(frame: object) => void} options.onFrame  snapshot / resync / event / ready frames
   * @param {(status: string) => void} options.onStatus
   */
  constructor({ url, getToken, lastEventId, onFrame, onStatus, WebSocketImpl }) {
    this.url = url;
    this.getToken = getToken;
    this.lastEventId = lastEventId;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.WebSocketImpl = WebSocketImpl || globalThis.WebSocket;
    this.status = "connecting";
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
    this.timers = new Set();
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000, "bye");
    this.socket = null;
  }

  send(frame) {
    if (this.socket && this.socket.readyState === 1) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** Drop the connection now and reconnect (e.g. after the network came back). */
  reconnectNow() {
    if (this.socket) this.socket.close(4000, "reconnect");
  }

  setStatus(status) {
    if (status !== this.status) {
      this.status = status;
      this.onStatus(status);
    }
  }

  open() {
    const token = this.getToken();
    if (!token) {
      this.setStatus("signed_out");
      return;
    }
    const socket = new this.WebSocketImpl(this.url);
    this.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify(authFrame(token, this.lastEventId())));
      this.startPinging(socket);
    };
    socket.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      this.lastPong = Date.now();
      if (frame.type === "pong") return;
      if (frame.type === "ready") this.attempt = 0;
      this.setStatus(statusAfter(this.status, frame));
      this.onFrame(frame);
    };
    socket.onclose = (event) => {
      clearInterval(this.pinger);
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (event.code === CLOSE_BAD_TOKEN) {
        this.setStatus("signed_out");
        return;
      }
      this.setStatus("reconnecting");
      const delay = backoffDelay(this.attempt++);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopped) this.open();
      }, delay);
      this.timers.add(timer);
    };
  }

  startPinging(socket) {
    clearInterval(this.pinger);
    this.lastPong = Date.now();
    // A half-open connection (sleeping laptop, dropped Wi-Fi) sends no close: notice it.
    this.pinger = setInterval(() => {
      if (Date.now() - this.lastPong > PING_EVERY_MS + PONG_WITHIN_MS) {
        socket.close(4000, "no pong");
        return;
      }
      if (socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" }));
    }, PING_EVERY_MS);
  }
}
