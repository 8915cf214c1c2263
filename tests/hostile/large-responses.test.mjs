// Clients that ask for large responses and then misbehave: some never read (the server must wait on the
// socket, not buffer what it cannot send), some reset the connection in the middle (the server must let go of
// the response and its fd, and go on).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { ENGINES } from "../helpers/engines.mjs";
import { get } from "../helpers/http.mjs";
import { startHostile, assertRecovered, grownMiB, sleep } from "./helpers.mjs";
import { openFdCount } from "../helpers/serving.mjs";

const BIG_MIB = 16; // the hostile app's /big
const NEVER_READ = 200;
// 200 × 16 MiB asked for: a server that buffered them would grow by 3.2 GiB. What may stay in flight per
// connection is the engine's write buffer (the Node engine's sockets hold up to about 400 KiB each).
const NEVER_READ_RSS_MIB = 160;
const RESETS = 100;

for (const engine of ENGINES) {
  describe(`large responses to misbehaving clients, under ${engine}`, () => {
    let app;
    let baseline;
    before(async () => ({ app, baseline } = await startHostile({ engine })));
    after(async () => { await app.kill(); });

    it(`${NEVER_READ} clients that never read a ${BIG_MIB} MiB response: bounded server memory, others served`, async () => {
      const sockets = [];
      for (let i = 0; i < NEVER_READ; i++) {
        const s = connect(app.port, "127.0.0.1", () => s.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
        s.pause(); // never read
        s.on("error", () => {});
        sockets.push(s);
      }
      try {
        await sleep(1500);
        const early = grownMiB(baseline);
        await sleep(1500);
        const late = grownMiB(baseline);
        assert.ok(late < NEVER_READ_RSS_MIB, `the server grew ${late.toFixed(0)} MiB holding ${NEVER_READ} unread ${BIG_MIB} MiB responses`);
        assert.ok(late - early < 16, `still growing: ${early.toFixed(0)} MiB, then ${late.toFixed(0)} MiB 1.5 s later`);
        assert.ok(openFdCount(baseline.pid) >= baseline.fds + NEVER_READ, "the stalled connections were closed, not waited on");
        assert.equal((await get(app.port, "/meanwhile")).body, "ok");
      } finally {
        for (const s of sockets) s.destroy();
      }
      await assertRecovered(app, baseline, { rssMiB: NEVER_READ_RSS_MIB });
    });

    it(`${RESETS} clients that reset the connection in the middle of a ${BIG_MIB} MiB response`, async () => {
      const resets = Array.from({ length: RESETS }, (_, i) => new Promise((resolve, reject) => {
        // Each reads a different amount first: the RST finds the response at many points of its writing.
        const readFirst = 1024 * (1 + i * 97);
        let got = 0;
        const s = connect(app.port, "127.0.0.1", () => s.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
        s.on("data", (d) => {
          got += d.length;
          if (got >= readFirst && !s.destroyed) {
            s.resetAndDestroy();
            resolve(got);
          }
        });
        s.on("error", reject);
        const timer = setTimeout(() => { s.destroy(); reject(new Error(`connection ${i}: ${got} bytes in 10 s`)); }, 10_000);
        s.on("close", () => { clearTimeout(timer); resolve(got); });
      }));
      const read = await Promise.all(resets);
      assert.ok(read.every((n) => n < BIG_MIB << 20), "a response ended before the client reset it");
      await assertRecovered(app, baseline, { rssMiB: NEVER_READ_RSS_MIB });
      const whole = await get(app.port, "/big");
      assert.equal(whole.body.length, BIG_MIB << 20, "a whole large response after the resets");
    });
  });
}
