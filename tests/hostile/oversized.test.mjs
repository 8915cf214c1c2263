// Requests too big to hold: header and field-count bombs (answered 431 as soon as the limit is passed, many at
// once without the server holding them) and a 1 GiB upload to a handler that never reads it (discarded as it
// arrives: memory stays flat, and the connection goes on to its next request).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { ENGINES } from "../helpers/engines.mjs";
import { raw } from "../helpers/raw.mjs";
import { startHostile, assertRecovered, grownMiB, sleep } from "./helpers.mjs";

const MiB = 1 << 20;
const HEAD = "GET / HTTP/1.1\r\nHost: x\r\n";
/** The bombs, each far past a limit (16 KiB of head, 100 fields). */
const BOMBS = {
  "one 1 MiB field": HEAD + "X-Bomb: " + "b".repeat(MiB) + "\r\n\r\n",
  "100,000 small fields": HEAD + "a: b\r\n".repeat(100_000) + "\r\n",
  "100,000 empty-valued fields": HEAD + "a:\r\n".repeat(100_000) + "\r\n",
  "a 1 MiB field name": HEAD + "X".repeat(MiB) + ": 1\r\n\r\n",
  "100,000 trailer fields": "POST /consume HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n" + "t: 1\r\n".repeat(100_000) + "\r\n",
};
// A hundred 4 MiB heads at once: a server that held them would grow by 400 MiB.
const CONCURRENT_BOMBS = 100;
const CONCURRENT_BOMB = HEAD + "X-Bomb: " + "c".repeat(4 * MiB) + "\r\n\r\n";
// What stays behind is the engine's read buffers and their garbage (the Node engine's plateau near 40 MiB).
const BOMBS_RSS_MIB = 64;
const UPLOAD_BYTES = 2 ** 30;
const UPLOAD_RSS_MIB = 64; // as BOMBS_RSS_MIB

for (const engine of ENGINES) {
  describe(`oversized requests, under ${engine}`, () => {
    let app;
    let baseline;
    before(async () => ({ app, baseline } = await startHostile({ engine })));
    after(async () => { await app.kill(); });

    it("header and field-count bombs get 431 at once and a close, a hundred at a time without the server holding them", async () => {
      for (const [name, payload] of Object.entries(BOMBS)) {
        const r = await raw(app.port, payload, { ms: 5000 });
        assert.match(r.text, /^HTTP\/1\.1 431 /, name);
        assert.match(r.text, /\r\nConnection: close\r\n/, name);
        assert.ok(r.closed, `${name}: still open after 5 s`);
        assert.ok(r.elapsed < 3000, `${name}: 431 after ${r.elapsed} ms`);
      }
      const many = await Promise.all(Array.from({ length: CONCURRENT_BOMBS }, () =>
        raw(app.port, CONCURRENT_BOMB, { ms: 10_000 })));
      const refused = many.filter((r) => /^HTTP\/1\.1 431 /.test(r.text) && r.closed).length;
      assert.equal(refused, CONCURRENT_BOMBS, `${CONCURRENT_BOMBS - refused} of ${CONCURRENT_BOMBS} concurrent bombs were not refused and closed`);
      await assertRecovered(app, baseline, { rssMiB: BOMBS_RSS_MIB });
    });

    it("a 1 GiB upload to a handler that ignores the body: flat memory, and the connection serves its next request", async () => {
      let peakMiB = 0;
      const watch = setInterval(() => { peakMiB = Math.max(peakMiB, grownMiB(baseline)); }, 100);
      const chunk = Buffer.alloc(MiB, "u");
      const text = await new Promise((resolve, reject) => {
        let text = "";
        let sent = 0;
        const s = connect(app.port, "127.0.0.1", () => {
          s.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${UPLOAD_BYTES}\r\n\r\n`);
          const pump = () => {
            while (sent < UPLOAD_BYTES) {
              sent += chunk.length;
              if (!s.write(chunk)) return s.once("drain", pump);
            }
            s.write("GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
          };
          pump();
        });
        s.on("data", (d) => (text += d.toString("latin1")));
        s.on("error", reject);
        const timer = setTimeout(() => { s.destroy(); reject(new Error(`${(sent / MiB).toFixed(0)} MiB sent in 60 s`)); }, 60_000);
        s.on("close", () => { clearTimeout(timer); resolve(text); });
      }).finally(() => clearInterval(watch));
      const bodies = [...text.matchAll(/HTTP\/1\.1 200 OK\r\n[^]*?\r\n\r\nok/g)].length;
      assert.equal(bodies, 2, `the answer at once and the next request's, on one connection: ${JSON.stringify(text.slice(0, 400))}`);
      assert.ok(peakMiB < UPLOAD_RSS_MIB, `the server's RSS rose ${peakMiB.toFixed(0)} MiB during a 1 GiB upload it discards`);
      await sleep(100);
      await assertRecovered(app, baseline, { rssMiB: UPLOAD_RSS_MIB });
    });
  });
}
