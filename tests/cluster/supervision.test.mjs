// `eventide run --workers 2` under both engines: both workers serve, a crash costs only the crashed worker's
// connections and the worker comes back, a crash loop is given up with one line, the watchdog ends a worker
// whose handler never returns. Real processes, real sockets, Node's http client; every load bounded.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ENGINES, ROOT, skipOnComponent } from "../helpers/engines.mjs";
import { connectionTo, load, request, startCluster } from "./helpers.mjs";

for (const engine of ENGINES) {
  describe(`workers (${engine})`, { skip: skipOnComponent(engine, "a component can't be handed a listener, so --workers is refused (tests/cluster/flags.test.mjs)") }, () => {
    it("both workers serve", async () => {
      const app = await startCluster(engine);
      try {
        const seen = new Set();
        for (let i = 0; i < 200 && seen.size < 2; i++) seen.add((await request(app.port)).worker);
        assert.deepEqual([...seen].sort(), [1, 2]);
        assert.equal(app.lines(/ started$/).length, 2);
      } finally {
        await app.stop();
      }
    });

    it("a trap ends only its worker: the other's connections lose nothing, and the worker comes back", async () => {
      const app = await startCluster(engine);
      try {
        const healthy = await connectionTo(app.port, 2);
        const doomed = await connectionTo(app.port, 1);
        const during = load(app.port, { ms: 1500, clients: 1, max: 3000 }); // new agents: any worker
        const onTwo = (async () => {
          let ok = 0;
          for (let i = 0; i < 200; i++) {
            const { worker, status } = await request(app.port, "/", healthy);
            assert.deepEqual({ worker, status }, { worker: 2, status: 200 });
            ok++;
          }
          return ok;
        })();
        await assert.rejects(request(app.port, "/trap", doomed));
        assert.equal(await onTwo, 200);
        const [exit] = await app.waitFor(/worker 1 \(pid \d+, \w+\) exited with code \d+: .+/);
        assert.match(exit, engine === "wasmtime" ? /wasm trap: wasm `unreachable` instruction executed/ : /unreachable/);
        await app.waitFor(/worker 1 restarting in 100 ms/);
        await app.waitFor(/worker 1 \(pid \d+, \w+\) ready$/, 2);
        const { failed, errors } = await during;
        assert.ok(failed <= 1, `at most the request on the trapped worker's connection fails: ${errors}`);
        const seen = new Set();
        for (let i = 0; i < 200 && seen.size < 2; i++) seen.add((await request(app.port)).worker);
        assert.deepEqual([...seen].sort(), [1, 2], "the restarted worker serves again");
        healthy.destroy();
        doomed.destroy();
      } finally {
        await app.stop();
      }
    });

    it("SIGKILL of a worker under load: service continues and the worker is restarted", async () => {
      const app = await startCluster(engine);
      try {
        const running = load(app.port, { ms: 2500, clients: 4, keepAlive: false, max: 5000 });
        await new Promise((r) => setTimeout(r, 800));
        process.kill(app.pids().get(1), "SIGKILL");
        const killedAt = Date.now();
        await app.waitFor(/worker 1 \(pid \d+, \w+\) was ended by SIGKILL/);
        const { ok, failed, errors } = await running;
        assert.ok(ok > 100, `served ${ok}`);
        assert.ok(failed <= 4, `only requests in flight on the killed worker may fail (${failed}: ${errors})`);
        const after = await load(app.port, { ms: 500, clients: 4, keepAlive: false, max: 1000 });
        assert.equal(after.failed, 0, `after the kill: ${after.errors}`);
        await app.waitFor(/worker 1 \(pid \d+, \w+\) ready$/, 2);
        assert.ok(Date.now() - killedAt < 5000);
      } finally {
        await app.stop();
      }
    });

    it("a crash loop is given up with one line per worker, and the primary exits 1 when none is left", async () => {
      const app = await startCluster(engine, { wasm: join(ROOT, "dist/tests/apps/trap.wasm"), ready: 0 });
      const { code } = await Promise.race([
        app.exited,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`still running: ${app.stderr}`)), 20_000)),
      ]);
      assert.equal(code, 1);
      for (const id of [1, 2]) {
        const gaveUp = app.lines(new RegExp(`^eventide: worker ${id} ended 5 times within 10 s \\(last: exited with code \\d+: .+\\); not restarting it$`));
        assert.equal(gaveUp.length, 1, app.stderr);
        assert.equal(app.lines(new RegExp(`worker ${id} \\(pid \\d+, ${engine}\\) started$`)).length, 5);
      }
      assert.deepEqual(app.lines(/restarting in/).map((l) => Number(/in (\d+) ms/.exec(l)[1])).sort((a, b) => a - b),
        [100, 100, 200, 200, 400, 400, 800, 800], "back-off doubles from 100 ms");
    });

    it("a worker's abort is reported by its message, not by the source position printed under it", async () => {
      const app = await startCluster(engine, { wasm: join(ROOT, "dist/tests/apps/console-abort.wasm"), workers: 1, ready: 0 });
      try {
        const [exit] = await app.waitFor(/worker 1 \(pid \d+, \w+\) exited with code/);
        assert.match(exit, /exited with code 1: Uncaught Error: Index out of range$/);
      } finally {
        await app.kill();
      }
    });

    it("the watchdog kills a worker whose handler never returns, says why, and restarts it", async () => {
      const app = await startCluster(engine, { flags: ["--watchdog", "1000"] });
      try {
        const spinning = await connectionTo(app.port, 2);
        const started = Date.now();
        await assert.rejects(request(app.port, "/spin", spinning));
        const [line] = await app.waitFor(/worker 2 \(pid \d+, \w+\) killed by the watchdog: no heartbeat for 1000 ms$/);
        assert.ok(line);
        assert.ok(Date.now() - started < 4000, "killed within the watchdog's time (and its 250 ms checks)");
        await app.waitFor(/worker 2 \(pid \d+, \w+\) ready$/, 2);
        const seen = new Set();
        for (let i = 0; i < 200 && seen.size < 2; i++) seen.add((await request(app.port)).worker);
        assert.deepEqual([...seen].sort(), [1, 2]);
        spinning.destroy();
      } finally {
        await app.stop();
      }
    });
  });
}
