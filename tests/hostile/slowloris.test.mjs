// Slowloris: a thousand connections that each keep a request head open by sending a byte now and then. The
// server must keep serving everyone else at its usual latency, and end the slow heads at headersTimeout
// (408, --headers-timeout) instead of holding their fds for as long as the attacker likes.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { ENGINES } from "../helpers/engines.mjs";
import { startHostile, assertRecovered, normalClient, percentile, sleep } from "./helpers.mjs";
import { openFdCount } from "../helpers/serving.mjs";

const SLOW = 1000;
const HEADERS_TIMEOUT_MS = 4000;
const TRICKLE_MS = 250;
// The bound is a p99 under 100 ms; the machine is shared and noisy, so the assertion allows 30% more.
const P99_BOUND_MS = 130;

for (const engine of ENGINES) {
  describe(`slowloris, under ${engine}`, () => {
    let app;
    let baseline;
    before(async () => ({ app, baseline } = await startHostile({ engine, cli: true, cliFlags: ["--headers-timeout", String(HEADERS_TIMEOUT_MS)] })));
    after(async () => { await app.kill(); });

    it(`${SLOW} trickling heads: a normal client keeps p99 under ${P99_BOUND_MS} ms, and every slow head gets 408 at headersTimeout`, async () => {
      const sockets = [];
      let refused = 0;
      let closed = 0;
      const connectedAll = Promise.all(Array.from({ length: SLOW }, () => new Promise((resolve) => {
        const s = connect(app.port, "127.0.0.1", () => { s.write("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "); resolve(); });
        s.on("data", (d) => { if (d.toString("latin1").startsWith("HTTP/1.1 408 ")) refused++; });
        s.on("error", () => {});
        s.on("close", () => { closed++; resolve(); });
        sockets.push(s);
      })));
      const trickle = setInterval(() => {
        for (const s of sockets) if (s.writable) s.write("a");
      }, TRICKLE_MS);
      try {
        await connectedAll;
        await sleep(300);
        assert.ok(openFdCount(baseline.pid) >= baseline.fds + SLOW * 0.9, "the slow connections were not all accepted");
        const latencies = await normalClient(app.port, { ms: 2500 });
        const p99 = percentile(latencies, 99);
        assert.ok(latencies.length >= 100, `only ${latencies.length} normal requests in 2.5 s`);
        assert.ok(p99 < P99_BOUND_MS, `p99 ${p99.toFixed(1)} ms (p50 ${percentile(latencies, 50).toFixed(1)} ms) over ${latencies.length} requests`);
        // They were opened about a second ago and still trickle: headersTimeout, not the client, ends them.
        const deadline = Date.now() + HEADERS_TIMEOUT_MS + 3000;
        while (closed < SLOW && Date.now() < deadline) await sleep(100);
        assert.equal(closed, SLOW, `${SLOW - closed} slow heads still open ${HEADERS_TIMEOUT_MS} ms after headersTimeout began`);
        assert.equal(refused, SLOW, "each slow head is answered 408 before the close");
      } finally {
        clearInterval(trickle);
        for (const s of sockets) s.destroy();
      }
      await assertRecovered(app, baseline);
    });
  });
}
