// Request bodies under both engines: readBody's limit (413 at once for a declared length over it, as soon as
// the bytes pass it otherwise), a slow upload collected whole, req.pipe(res) with backpressure, req.pipe(socket).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import http from "node:http";
import { createHash } from "node:crypto";
import { ENGINES, startApp, within } from "../helpers/engines.mjs";
import { raw } from "../helpers/raw.mjs";

const LIMIT = 64 * 1024;

/** What tests/apps/body-app answers for a collected body: its length and a 31-based byte sum (u32). */
function summary(bytes) {
  let sum = 0;
  for (const b of bytes) sum = (Math.imul(sum, 31) + b) >>> 0;
  return `${bytes.length} ${sum}`;
}

function pattern(n, seed = 7) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 8)) & 0xff;
  return b;
}

/**
 * A raw connection that sends `head`, then `pieces` one every `gapMs` (stopping once a response arrived), and
 * resolves with { text, sent, closed } when the server closes or 10 s pass.
 */
function upload(port, head, pieces, gapMs) {
  return new Promise((resolve) => {
    let text = "";
    let sent = 0;
    let closed = false;
    const s = connect(port, "127.0.0.1", async () => {
      s.write(head);
      for (const piece of pieces) {
        await new Promise((r) => setTimeout(r, gapMs));
        if (text || s.destroyed) break;
        s.write(piece);
        sent += piece.length;
      }
    });
    s.on("data", (d) => (text += d.toString("latin1")));
    s.on("error", () => {});
    const timer = setTimeout(() => s.destroy(), 10_000);
    s.on("close", () => { closed = true; clearTimeout(timer); resolve({ text, sent, closed }); });
  });
}

function chunked(buffers) {
  return buffers.map((b) => Buffer.concat([Buffer.from(b.length.toString(16) + "\r\n"), b, Buffer.from("\r\n")]));
}

for (const engine of ENGINES) {
  describe(`request bodies under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp("dist/tests/apps/body-app.wasm", { engine }); });
    after(() => app.kill());

    it("readBody collects a body up to the limit, and one of exactly the limit", async () => {
      for (const n of [0, 5, 1000, LIMIT]) {
        const body = pattern(n);
        const { text } = await raw(app.port, Buffer.concat([
          Buffer.from(`POST /collect HTTP/1.1\r\nHost: x\r\nContent-Length: ${n}\r\nConnection: close\r\n\r\n`), body]));
        assert.match(text, /^HTTP\/1\.1 200 /);
        assert.ok(text.endsWith("\r\n\r\n" + summary(body)), `${n} bytes: ${text}`);
      }
    });

    it("readBody collects a slow chunked upload whole", async () => {
      const parts = Array.from({ length: 10 }, (_, i) => pattern(5000, i + 3));
      const r = await upload(app.port, "POST /collect HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        [...chunked(parts), Buffer.from("0\r\n\r\n")], 30);
      assert.match(r.text, /^HTTP\/1\.1 200 /);
      assert.ok(r.text.endsWith("\r\n\r\n" + summary(Buffer.concat(parts))), r.text);
    });

    it("answers 413 at once when Content-Length declares more than the limit, before any body byte", async () => {
      const r = await upload(app.port, `POST /collect HTTP/1.1\r\nHost: x\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`,
        [pattern(LIMIT + 1)], 500);
      assert.match(r.text, /^HTTP\/1\.1 413 /);
      assert.match(r.text, /\r\nConnection: close\r\n/i);
      assert.equal(r.sent, 0, "the 413 came before the body was sent");
      assert.ok(r.closed);
    });

    it("answers 413 as soon as a chunked upload passes the limit, and closes (the rest is not read)", async () => {
      const pieces = chunked(Array.from({ length: 64 }, (_, i) => pattern(16 * 1024, i + 1))); // 1 MiB if all went
      const started = Date.now();
      const r = await upload(app.port, "POST /collect HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", pieces, 20);
      assert.match(r.text, /^HTTP\/1\.1 413 /);
      assert.ok(r.text.endsWith("Payload Too Large\n"), r.text);
      assert.ok(r.sent < 256 * 1024, `the client could send ${r.sent} bytes before the 413`);
      assert.ok(Date.now() - started < 5000);
    });

    it("req.pipe(res) pauses the upload while the client doesn't read the echo, then finishes it", async () => {
      const total = 32 * 1024 * 1024;
      const block = pattern(1024 * 1024);
      let received = 0;
      const s = connect(app.port, "127.0.0.1");
      s.pause(); // read nothing for a while: the server's writes back must block, and so its reads
      s.on("data", (d) => { received += d.length; });
      s.on("error", () => {});
      const closed = new Promise((r) => s.on("close", r));
      s.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${total}\r\nConnection: close\r\n\r\n`);
      let written = 0;
      const writing = (async () => {
        while (written < total && !s.destroyed) {
          written += block.length;
          if (!s.write(block)) await new Promise((r) => s.once("drain", r));
        }
      })();
      await new Promise((r) => setTimeout(r, 1500));
      const acceptedWhilePaused = s.bytesWritten;
      assert.ok(acceptedWhilePaused < total / 2,
        `the server took ${acceptedWhilePaused} of ${total} bytes while its echo went unread`);
      s.resume();
      await within(writing, 30_000, "the upload");
      await within(closed, 30_000, "the echo");
      assert.ok(received > total, `${received} bytes of echo for ${total} sent`); // the body, its head and chunk framing
    });

    it("req.pipe(res) echoes a body byte for byte (Node's http client)", async () => {
      const body = pattern(3 * 1024 * 1024 + 17, 13);
      const echoed = await new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: app.port, method: "POST", path: "/echo", agent: false }, (res) => {
          const parts = [];
          res.on("data", (d) => parts.push(d));
          res.on("end", () => resolve(Buffer.concat(parts)));
        });
        req.on("error", reject);
        req.end(body);
      });
      assert.ok(echoed.equals(body));
    });

    it("req.pipe(socket) sends the body onto the connection and ends it", async () => {
      const body = pattern(200_000, 5);
      const { text, closed } = await raw(app.port, Buffer.concat([
        Buffer.from(`POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
      assert.ok(closed);
      assert.ok(Buffer.from(text, "latin1").equals(body));
    });

    it("req.pipe(res) after the body ended ends the response", async () => {
      const { text, closed } = await raw(app.port, "GET /late-echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", { ms: 3000 });
      assert.ok(closed, "the response never ended");
      assert.match(text, /^HTTP\/1\.1 200 /);
    });

    it("is still serving", async () => {
      const { text } = await raw(app.port, "POST /collect HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
      assert.ok(text.endsWith("\r\n\r\n" + summary(Buffer.from("ok"))));
      assert.equal(app.child.exitCode, null);
    });
  });
}
