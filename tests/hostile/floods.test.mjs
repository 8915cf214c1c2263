// Connection floods: more connections than --max-connections allows (each one past it closed on arrival, the
// burst logged once), and more than the server has file descriptors for (it waits for fds to come back instead
// of ending or spinning). After either, normal requests succeed again. tests/http-server/hardening.test.mjs
// holds the fd-exhaustion case's CPU and log checks; here the connections stay open, and the server must give
// every fd back when they go.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { execFileSync } from "node:child_process";
import { ENGINES } from "../helpers/engines.mjs";
import { startHostile, assertRecovered, sleep } from "./helpers.mjs";
import { openFdCount } from "../helpers/serving.mjs";

const MAX_CONNECTIONS = 50;
const FLOOD = 1000;
const FD_LIMIT = 128;

/**
 * Opens `n` connections that send nothing, 200 at a time, waiting at most 1 s for each batch (past the
 * listener's backlog a connection waits for the server to accept). Resolves with the sockets and
 * `closedBy(ms)`, which resolves with how many had closed within `ms` of the call.
 */
async function idleConnections(port, n) {
  const sockets = [];
  let closed = 0;
  for (let i = 0; i < n; i += 200) {
    const batch = Array.from({ length: Math.min(200, n - i) }, () => new Promise((resolve) => {
      const s = connect(port, "127.0.0.1", resolve);
      s.on("error", resolve);
      s.on("close", () => closed++);
      sockets.push(s);
    }));
    await Promise.race([Promise.all(batch), sleep(1000)]);
  }
  const closedBy = async (ms) => {
    const deadline = Date.now() + ms;
    while (closed < n && Date.now() < deadline) await sleep(50);
    return closed;
  };
  return { sockets, closedBy };
}

for (const engine of ENGINES) {
  describe(`connection floods, under ${engine}`, () => {
    describe(`beyond --max-connections ${MAX_CONNECTIONS}`, () => {
      let app;
      let baseline;
      before(async () => ({ app, baseline } = await startHostile({ engine, cli: true, cliFlags: ["--max-connections", String(MAX_CONNECTIONS)] })));
      after(async () => { await app.kill(); });

      it(`${FLOOD} connections past the limit are each closed on arrival while the ${MAX_CONNECTIONS} admitted stay; then normal requests succeed`, async () => {
        const admitted = await idleConnections(app.port, MAX_CONNECTIONS - 1); // one place left for the warm-up's keep-alive, gone by now
        const flood = await idleConnections(app.port, FLOOD);
        try {
          const closed = await flood.closedBy(5000);
          assert.ok(closed >= FLOOD - 1, `${FLOOD - closed} of ${FLOOD} connections past the limit still open after 5 s`);
          assert.equal(await admitted.closedBy(0), 0, "an admitted connection was closed by the flood");
          assert.ok(openFdCount(baseline.pid) >= baseline.fds + MAX_CONNECTIONS - 1, "the admitted connections were let go");
          const lines = app.stderr.split("\n").filter((l) => /maxConnections/.test(l));
          assert.ok(lines.length >= 1 && lines.length <= 5, `the burst is logged once (or a few times, for pauses within it):\n${app.stderr}`);
        } finally {
          for (const s of [...admitted.sockets, ...flood.sockets]) s.destroy();
        }
        await sleep(200);
        await assertRecovered(app, baseline);
      });
    });

    describe(`beyond the fd limit (${FD_LIMIT})`, () => {
      let app;
      let baseline;
      before(async () => {
        ({ app, baseline } = await startHostile({ engine }));
        execFileSync("prlimit", ["--pid", String(baseline.pid), `--nofile=${FD_LIMIT}:${FD_LIMIT}`]);
      });
      after(async () => { await app.kill(); });

      it(`${FLOOD} held connections against ${FD_LIMIT} fds: the server stays up, and when they go it gives every fd back and serves again`, async () => {
        const flood = await idleConnections(app.port, FLOOD);
        try {
          await sleep(1000);
          assert.equal(app.child.exitCode, null, `the server exited: ${app.stderr}`);
          assert.ok(openFdCount(baseline.pid) >= FD_LIMIT - 8, `the server took only ${openFdCount(baseline.pid)} fds of ${FD_LIMIT}`);
        } finally {
          // Reset, not FIN: past the full backlog the kernel dropped the handshake's last ACK of some of these,
          // so it holds them half-open and lets them in later, when the client's socket is already closing. A
          // FIN then arrives only by retransmission, seconds apart (FIN-WAIT-1 for 12 s measured), and the
          // server would rightly hold those fds until it does; a reset ends them on the spot.
          for (const s of flood.sockets) s.resetAndDestroy();
        }
        await sleep(1500); // accept's back-off after EMFILE is at most 1 s
        await assertRecovered(app, baseline);
      });
    });
  });
}
