// Stopping and replacing workers without failing a request, under both engines: SIGTERM drains (slow requests
// in flight finish, exit 0), SIGHUP replaces the workers one at a time under load. Also the single-process
// wasmtime engine, which drains over its control channel too.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ENGINES, isWasmtime, skipOnComponent, startApp } from "../helpers/engines.mjs";
import { CLUSTER_APP, connectionTo, load, request, startCluster } from "./helpers.mjs";

/** GET /slow on `n` connections, alternating between workers 1 and 2 where there are workers. */
async function slowRequests(port, n, workers) {
  const agents = workers ? await Promise.all(Array.from({ length: n }, (_, i) => connectionTo(port, 1 + (i % 2)))) : [];
  const started = Date.now();
  const replies = Array.from({ length: n }, (_, i) => request(port, "/slow", agents[i] ?? false).then((r) => ({ ...r, ms: Date.now() - started })));
  return { settled: Promise.allSettled(replies), agents };
}

for (const engine of ENGINES) {
  describe(`drain and rolling restart (${engine})`, { skip: skipOnComponent(engine, "a component can't be handed a listener, so --workers is refused (tests/cluster/flags.test.mjs)") }, () => {
    it("SIGTERM: requests in flight (1 s) finish on both workers, then the primary exits 0", async () => {
      const app = await startCluster(engine);
      const { settled, agents } = await slowRequests(app.port, 4, true);
      await new Promise((r) => setTimeout(r, 200));
      const { code, signal } = await app.stop("SIGTERM");
      const results = await settled;
      for (const r of results) {
        assert.equal(r.status, "fulfilled", String(r.reason));
        assert.equal(r.value.body, "slow\n");
        assert.ok(r.value.ms >= 900);
      }
      assert.deepEqual(new Set(results.map((r) => r.value.worker)), new Set([1, 2]));
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, app.stderr);
      assert.equal(app.lines(/exited with code 0$/).length, 2);
      for (const a of agents) a.destroy();
    });

    it("SIGTERM with a request in flight past --grace: the rest is killed, exit 124, and says so", async () => {
      const app = await startCluster(engine, { flags: ["--grace", "300"] });
      const { settled, agents } = await slowRequests(app.port, 2, true);
      await new Promise((r) => setTimeout(r, 100));
      const { code } = await app.stop("SIGTERM");
      assert.equal(code, 124, app.stderr);
      assert.match(app.stderr, /workers still had work in flight after --grace 300 ms and were killed; exit 124/);
      assert.ok((await settled).every((r) => r.status === "rejected"), "the slow requests were cut");
      for (const a of agents) a.destroy();
    });

    it("a second SIGTERM kills every worker at once: exit 124, and says so", async () => {
      const app = await startCluster(engine);
      const { settled, agents } = await slowRequests(app.port, 2, true);
      await new Promise((r) => setTimeout(r, 200));
      const signalled = Date.now();
      app.child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 100));
      const { code } = await app.stop("SIGTERM");
      assert.ok(Date.now() - signalled < 800, "it did not wait for the slow requests");
      assert.equal(code, 124, app.stderr);
      assert.match(app.stderr, /workers killed by a second signal before they had drained; exit 124/);
      assert.equal(app.lines(/was ended by SIGKILL$/).length, 2);
      assert.ok((await settled).every((r) => r.status === "rejected"), "the slow requests were cut");
      for (const a of agents) a.destroy();
    });

    it("SIGHUP replaces every worker, one at a time, with no failed request under load", async () => {
      const app = await startCluster(engine);
      try {
        const pidsBefore = app.pids();
        const keepAlive = load(app.port, { ms: 4000, clients: 3, keepAlive: true, max: 20_000 });
        const fresh = load(app.port, { ms: 4000, clients: 2, keepAlive: false, max: 5000 });
        await new Promise((r) => setTimeout(r, 500));
        app.child.kill("SIGHUP");
        await app.waitFor(/\) ready$/, 4, 10_000);
        await app.waitFor(/exited with code 0$/, 2, 10_000);
        const [a, b] = await Promise.all([keepAlive, fresh]);
        assert.equal(a.failed, 0, `keep-alive: ${a.errors}`);
        assert.equal(b.failed, 0, `new connections: ${b.errors}`);
        assert.ok(a.ok + b.ok > 200, `served ${a.ok} + ${b.ok}`);
        const pidsAfter = app.pids();
        for (const id of [1, 2]) assert.notEqual(pidsAfter.get(id), pidsBefore.get(id), `worker ${id} was replaced`);
        // One at a time: worker 1's replacement was ready before the old worker 1 exited, and before worker 2's started.
        const events = app.stderr.split("\n").filter((l) => /worker \d \(pid/.test(l)).map((l) => /worker (\d) \(pid (\d+), \w+\) (\w+)/.exec(l).slice(1));
        const at = (id, pid, what) => events.findIndex(([i, p, w]) => i === String(id) && p === String(pid) && w === what);
        assert.ok(at(1, pidsAfter.get(1), "ready") < at(1, pidsBefore.get(1), "exited"));
        assert.ok(at(1, pidsBefore.get(1), "exited") < at(2, pidsAfter.get(2), "started"));
      } finally {
        await app.stop();
      }
    });
  });
}

for (const engine of ENGINES.filter(isWasmtime)) {
  describe(`one wasmtime process (no --workers, ${engine})`, () => {
    it("SIGTERM drains over the control channel: a slow request in flight finishes, exit 0", async () => {
      const app = await startApp(CLUSTER_APP, { engine, cli: true });
      const { settled } = await slowRequests(app.port, 2, false);
      await new Promise((r) => setTimeout(r, 200));
      const { code } = await app.stop("SIGTERM");
      for (const r of await settled) {
        assert.equal(r.status, "fulfilled", String(r.reason));
        assert.equal(r.value.body, "slow\n");
      }
      assert.equal(code, 0, app.stderr);
    });
  });
}
