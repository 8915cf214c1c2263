// A raw TCP client for what Node's http client hides: exact bytes, trickled writes, and whether the server
// closed the connection (and when) or merely went quiet.
import { connect } from "node:net";

/**
 * Writes `payload` on a fresh connection to 127.0.0.1:port (byte by byte every `trickle` ms, if given) and
 * collects the reply until the server closes or `ms` passes. Resolves with
 * `{ text, elapsed, closed, timedOut, reset }`: `text` is the reply as latin1; `elapsed` ms from connecting
 * to the end; `closed` the server ended the connection (FIN or RST) before `ms`; `timedOut` it was still
 * open at `ms` and was destroyed here; `reset` the end was an RST. Rejects when the connection can't be
 * made (ECONNREFUSED), so a dead server never reads as "closed".
 */
export function raw(port, payload, { ms = 5000, trickle = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const started = Date.now();
    let connected = false;
    let timedOut = false;
    let reset = false;
    const s = connect(port, "127.0.0.1", async () => {
      connected = true;
      if (!trickle) return s.write(payload);
      for (const byte of Buffer.from(payload)) {
        if (s.destroyed) return;
        s.write(Buffer.of(byte));
        await new Promise((r) => setTimeout(r, trickle));
      }
    });
    const timer = setTimeout(() => { timedOut = true; s.destroy(); }, ms);
    s.on("data", (d) => chunks.push(d));
    s.on("error", (err) => {
      if (!connected) reject(err);
      else if (err.code === "ECONNRESET") reset = true;
    });
    s.on("close", () => {
      clearTimeout(timer);
      if (!connected) return;
      resolve({ text: Buffer.concat(chunks).toString("latin1"), elapsed: Date.now() - started, closed: !timedOut, timedOut, reset });
    });
  });
}
