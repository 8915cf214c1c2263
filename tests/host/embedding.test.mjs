// The embedding API, in this process: start, stop (graceful and forced), restart, two apps side by side,
// stop with work in flight, an app that ends by itself — under every engine where the API allows.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import { ROOT, ENGINES, apiEngine, isWasmtime, within, pipelined, requestInFlight, freePort, waitForPort } from "../helpers/engines.mjs";
import { run, FORCED_STOP_EXIT_CODE } from "../../dist/host/index.js";

const HELLO = join(ROOT, "dist/examples/hello-http.wasm");
const PROBE = join(ROOT, "dist/tests/apps/http-probe.wasm");

function get(port, path = "/", agent = false) {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    }).on("error", reject);
  });
}

function capture() {
  const stream = new PassThrough();
  stream.text = "";
  stream.on("data", (d) => (stream.text += d));
  return stream;
}

// Every app this file starts is stopped when it ends, even after a failed assertion.
const started = new Set();
async function start(wasm, options) {
  const app = await run(wasm, { stdout: capture(), ...options });
  started.add(app);
  return app;
}
after(async () => {
  await Promise.all([...started].filter((app) => app.exitCode === undefined).map((app) => app.stop(0)));
});

describe("embedding API (node engine)", () => {
  it("starts, serves, stops gracefully, and starts again in the same process", async () => {
    for (let round = 0; round < 2; round++) {
      const stdout = capture();
      const app = await start(HELLO, { listen: ["127.0.0.1:0"], stdout });
      const port = app.addresses[0].port;
      assert.ok(port > 0);
      assert.deepEqual(await get(port), { status: 200, body: "Hello World\n" });
      assert.match(stdout.text, /Server running at/);
      assert.equal(app.stopped, undefined);
      assert.equal(await app.stop(2000), 0);
      assert.equal(app.stopped, "graceful");
      await assert.rejects(get(port), /ECONNREFUSED/);
    }
  });

  it("runs two apps side by side on different ports", async () => {
    const hello = await start(HELLO, { listen: ["127.0.0.1:0"] });
    const probe = await start(PROBE, { listen: ["127.0.0.1:0"] });
    const [a, b] = await Promise.all([get(hello.addresses[0].port, "/x"), get(probe.addresses[0].port, "/y")]);
    assert.equal(a.body, "Hello World\n");
    assert.equal(b.body, "GET /y");
    assert.deepEqual(await Promise.all([hello.stop(2000), probe.stop(2000)]), [0, 0]);
    assert.deepEqual([hello.stopped, probe.stopped], ["graceful", "graceful"]);
  });

  it("stop() lets a request in flight finish, then the app exits: a graceful stop, 0", async () => {
    const app = await start(PROBE, { listen: ["127.0.0.1:0"] });
    const { ended } = await pipelined(app.addresses[0].port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); // answered after 50 ms
    assert.equal(await within(app.stop(3000), 5000, "a graceful stop"), 0);
    assert.equal(app.stopped, "graceful");
    const { text } = await ended;
    assert.match(text, /^HTTP\/1\.1 200 [^]*\r\nConnection: close\r\n[^]*GET \/slow$/i);
  });

  it("a request that outlives the grace period makes the stop forced: exit 124, and the request is cut", async () => {
    const app = await start(PROBE, { listen: ["127.0.0.1:0"] });
    const exits = [];
    app.on("exit", (code) => exits.push(code));
    const { ended } = await requestInFlight(app.addresses[0].port); // a POST whose body never completes
    const began = Date.now();
    assert.equal(await within(app.stop(300), 5000, "a forced stop"), FORCED_STOP_EXIT_CODE);
    assert.ok(Date.now() - began >= 290, `ended after ${Date.now() - began} ms, before its grace period`);
    assert.equal(FORCED_STOP_EXIT_CODE, 124);
    assert.equal(app.stopped, "forced");
    assert.equal(app.exitCode, 124);
    assert.deepEqual(exits, [124]);
    assert.equal((await within(ended, 5000, "the cut connection")).text, "", "the cut request got an answer");
  });

  it("survives connections reset before the app accepts them", async () => {
    const { connect } = await import("node:net");
    const app = await start(HELLO, { listen: ["127.0.0.1:0"] });
    const port = app.addresses[0].port;
    await Promise.all(Array.from({ length: 50 }, () => new Promise((resolve) => {
      const s = connect(port, "127.0.0.1", () => { s.resetAndDestroy(); resolve(); });
      s.on("error", resolve);
    })));
    assert.deepEqual(await get(port), { status: 200, body: "Hello World\n" });
    assert.equal(await app.stop(2000), 0);
    assert.equal(app.stopped, "graceful");
  });

  it("enforces the memory limit", async () => {
    const stderr = capture();
    const app = await start(HELLO, { listen: ["127.0.0.1:0"], memoryLimit: 16 * 1024, stderr });
    assert.equal(await app.exited, 1);
    assert.match(stderr.text, /memory limit|limit of 16384/);
  });
});

describe("run() options", () => {
  for (const engine of ["node", "wasmtime"]) {
    it(`refuses unknown ones by name, listing the known, before binding a port (engine ${engine})`, async () => {
      const port = await freePort();
      await assert.rejects(run(HELLO, { engine, listen: [`127.0.0.1:${port}`], memoryLimt: 1 << 24, stdOut: null }), (err) => {
        assert.equal(err.code, "EVENTIDE_E_BAD_FLAG");
        assert.match(err.message, /^run\(\): unknown options memoryLimt, stdOut\n  fix: use only listen, engine, .*\bmemoryLimit\b/);
        return true;
      });
      await assert.rejects(waitForPort(port, "127.0.0.1", 200), /nothing listening/);
    });
  }
});

for (const engine of ENGINES) {
  describe(`an app whose loop runs out of work ends by itself (embedding, ${engine})`, () => {
    it("the timers example exits 0 after its last timer", async () => {
      const stdout = capture();
      const app = await start(join(ROOT, "dist/examples/timers.wasm"), { ...apiEngine(engine), stdout });
      assert.equal(await within(app.exited, 10_000, "the timers example's exit"), 0);
      assert.match(stdout.text, /timeout 60ms\n$/);
      assert.equal(app.stopped, undefined);
    });

    it("routes the app's exit code and emits 'exit'", async () => {
      const app = await start(join(ROOT, "dist/tests/apps/exit-code.wasm"), apiEngine(engine));
      const emitted = new Promise((resolve) => app.on("exit", resolve));
      assert.equal(await within(app.exited, 10_000, "exit-code's exit"), 3);
      assert.equal(await emitted, 3);
    });
  });
}

for (const engine of ENGINES.filter(isWasmtime)) {
  describe(`embedding API (${engine})`, () => {
    it("serves on the port it got for port 0, and a stop drains it over the control channel: exit 0", async () => {
      const app = await start(PROBE, { ...apiEngine(engine), listen: ["127.0.0.1:0"] });
      assert.notEqual(app.addresses[0].port, 0);
      assert.deepEqual(await get(app.addresses[0].port, "/w"), { status: 200, body: "GET /w" });
      assert.equal(await within(app.stop(2000), 5000, "a stop under wasmtime"), 0);
      assert.equal(app.stopped, "graceful");
    });
  });
}
