// Messages between the primary and its workers, under both engines: through the embedding API (run() with
// `workers`: worker.send, broadcast, 'message'), in order and bounded in size, and the CLI's relay of every
// worker's messages to the others (examples/cluster-counter.ts keeps a cluster-wide count that way).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { ENGINES, ROOT, skipOnComponent, wasmtime } from "../helpers/engines.mjs";
import { run, MAX_MESSAGE_BYTES } from "../../dist/host/index.js";
import { CLUSTER_APP, connectionTo, request, startCluster } from "./helpers.mjs";

function sink() {
  const stream = new PassThrough();
  stream.text = "";
  stream.on("data", (d) => (stream.text += d));
  return stream;
}

/** The next `n` messages from worker `id`. */
function collect(app, id, n) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => reject(new Error(`${got.length} of ${n} messages from worker ${id} in 15 s`)), 15_000);
    const on = (worker, data) => {
      if (worker.id !== id) return;
      got.push(data);
      if (got.length < n) return;
      clearTimeout(timer);
      app.off("message", on);
      resolve(got);
    };
    app.on("message", on);
  });
}

for (const engine of ENGINES) {
  describe(`messages (${engine})`, { skip: skipOnComponent(engine, "a component can't be handed a listener, so --workers is refused (tests/cluster/flags.test.mjs)") }, () => {
    it("1,000 messages, text and bytes, come back from a worker in order; broadcast reaches both", async () => {
      const stderr = sink();
      const app = await run(CLUSTER_APP, {
        engine, workers: 2, listen: ["127.0.0.1:0"], stdout: sink(), stderr, wasmtime: engine === "wasmtime" ? wasmtime() : undefined,
      });
      try {
        assert.deepEqual(app.workers.map((w) => [w.id, w.ready]), [[1, true], [2, true]]);
        const sent = Array.from({ length: 1000 }, (_, i) => (i % 2 ? `message ${i} ✓` : Buffer.from([i & 255, i >> 8, 0, 255])));
        const back = collect(app, 1, sent.length);
        for (const m of sent) assert.equal(app.workers[0].send(m), true);
        assert.deepEqual(await back, sent);
        const fromEach = Promise.all([collect(app, 1, 1), collect(app, 2, 1)]);
        app.broadcast("to all");
        assert.deepEqual(await fromEach, [["to all"], ["to all"]]);
      } finally {
        assert.equal(await app.stop(5000), 0, stderr.text);
      }
    });

    it("a message over 1 MiB is refused with EVENTIDE_E_MESSAGE_TOO_LARGE; one of exactly 1 MiB goes through", async () => {
      const app = await run(CLUSTER_APP, {
        engine, workers: 2, listen: ["127.0.0.1:0"], stdout: sink(), stderr: sink(), wasmtime: engine === "wasmtime" ? wasmtime() : undefined,
      });
      try {
        const tooLarge = { name: "EventideError", code: "EVENTIDE_E_MESSAGE_TOO_LARGE" };
        assert.throws(() => app.workers[1].send(Buffer.alloc(MAX_MESSAGE_BYTES + 1)), tooLarge);
        assert.throws(() => app.workers[1].send("é".repeat(MAX_MESSAGE_BYTES / 2 + 1)), tooLarge); // counted in UTF-8 bytes
        assert.throws(() => app.broadcast(new Uint8Array(MAX_MESSAGE_BYTES + 1)), tooLarge);
        const largest = Buffer.alloc(MAX_MESSAGE_BYTES, 7);
        const back = collect(app, 2, 2);
        app.workers[1].send(largest);
        app.workers[1].send("after");
        const [echo, after] = await back;
        assert.ok(largest.equals(echo), "the largest message came back whole");
        assert.equal(after, "after", "the channel still works after a refused message");
      } finally {
        assert.equal(await app.stop(5000), 0);
      }
    });

    it("events: a killed worker's 'worker-exit' and its replacement's 'worker-start'/'worker-ready'; restart() replaces both", async () => {
      const app = await run(CLUSTER_APP, {
        engine, workers: 2, listen: ["127.0.0.1:0"], stdout: sink(), stderr: sink(), wasmtime: engine === "wasmtime" ? wasmtime() : undefined,
      });
      try {
        const events = [];
        for (const event of ["worker-start", "worker-ready", "worker-exit"]) {
          app.on(event, (worker, code, signal) => events.push([event, worker.id, worker.pid, ...(event === "worker-exit" ? [code, signal] : [])]));
        }
        const killed = app.workers[1].pid;
        const replaced = new Promise((resolve) => app.on("worker-ready", resolve));
        process.kill(killed, "SIGKILL");
        const next = await replaced;
        assert.equal(next.id, 2);
        assert.deepEqual(events, [["worker-exit", 2, killed, null, "SIGKILL"], ["worker-start", 2, next.pid], ["worker-ready", 2, next.pid]]);
        const before = app.workers.map((w) => w.pid);
        await app.restart(2000);
        const after = app.workers.map((w) => w.pid);
        assert.deepEqual(app.workers.map((w) => [w.id, w.ready]), [[1, true], [2, true]]);
        assert.ok(after.every((pid, i) => pid !== before[i]), "every worker was replaced");
        assert.equal(events.filter(([e, , , code]) => e === "worker-exit" && code === 0).length, 2, "the old workers drained and exited 0");
        assert.equal(await app.stop(5000), 0);
        await assert.rejects(request(app.addresses[0].port), /ECONNREFUSED/, "the primary let go of the listener");
      } finally {
        assert.equal(await app.stop(5000), 0);
      }
    });

    it("a worker's send() of more than 1 MiB returns false and emits ERR_CLUSTER_MESSAGE_TOO_LARGE; the channel goes on", async () => {
      const app = await run(CLUSTER_APP, {
        engine, workers: 1, listen: ["127.0.0.1:0"], stdout: sink(), stderr: sink(), wasmtime: engine === "wasmtime" ? wasmtime() : undefined,
      });
      try {
        const back = collect(app, 1, 2);
        app.workers[0].send("send too much");
        app.workers[0].send("still there");
        // The report waits for the 'error' (next tick), so the echo may come first.
        assert.deepEqual((await back).sort(), ["still there", "too much: refused, ERR_CLUSTER_MESSAGE_TOO_LARGE"]);
      } finally {
        assert.equal(await app.stop(5000), 0);
      }
    });

    it("eventide run relays each worker's messages to the others: a cluster-wide count", async () => {
      const app = await startCluster(engine, { wasm: join(ROOT, "dist/examples/cluster-counter.wasm") });
      try {
        const one = await connectionTo(app.port, 1);
        const two = await connectionTo(app.port, 2);
        for (let i = 0; i < 100; i++) await request(app.port, "/", one);
        // Worker 2 hears of worker 1's 100 requests only through the primary; on its own it has served a few.
        let count = 0;
        for (let i = 0; i < 10 && count <= 100; i++) {
          const { body } = await request(app.port, "/", two);
          assert.match(body, /^worker 2 served request \d+ of the cluster\n$/);
          count = Number(/request (\d+)/.exec(body)[1]);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(count > 100, `worker 2 counted ${count}`);
        one.destroy();
        two.destroy();
      } finally {
        await app.stop();
      }
    });
  });
}
