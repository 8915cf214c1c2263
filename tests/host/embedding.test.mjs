// The embedding API, in this process: start, stop, restart, two apps side by side, stop with work in flight.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import { ROOT } from "../helpers/engines.mjs";
import { run } from "../../dist/host/index.js";

const HELLO = join(ROOT, "dist/examples/hello-http.wasm");
const PROBE = join(ROOT, "dist/tests/apps/http-probe.wasm");

function get(port, path = "/") {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
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

describe("embedding API (node engine)", () => {
  it("starts, serves, stops gracefully, and starts again in the same process", async () => {
    for (let round = 0; round < 2; round++) {
      const stdout = capture();
      const app = await run(HELLO, { listen: ["127.0.0.1:0"], stdout });
      const port = app.addresses[0].port;
      assert.ok(port > 0);
      assert.deepEqual(await get(port), { status: 200, body: "Hello World\n" });
      assert.match(stdout.text, /Server running at/);
      assert.equal(await app.stop(2000), 0);
      await assert.rejects(get(port), /ECONNREFUSED/);
    }
  });

  it("runs two apps side by side on different ports", async () => {
    const hello = await run(HELLO, { listen: ["127.0.0.1:0"], stdout: capture() });
    const probe = await run(PROBE, { listen: ["127.0.0.1:0"] });
    const [a, b] = await Promise.all([get(hello.addresses[0].port, "/x"), get(probe.addresses[0].port, "/y")]);
    assert.equal(a.body, "Hello World\n");
    assert.equal(b.body, "GET /y");
    await Promise.all([hello.stop(2000), probe.stop(2000)]);
  });

  it("stop() lets a request in flight finish, then the app exits", async () => {
    const app = await run(PROBE, { listen: ["127.0.0.1:0"] });
    const port = app.addresses[0].port;
    const inFlight = get(port, "/slow"); // answered after 50 ms
    await new Promise((r) => setTimeout(r, 10));
    const stopped = app.stop(3000);
    assert.deepEqual(await inFlight, { status: 200, body: "GET /slow" });
    assert.equal(await stopped, 0);
  });

  it("survives connections reset before the app accepts them", async () => {
    const { connect } = await import("node:net");
    const app = await run(HELLO, { listen: ["127.0.0.1:0"], stdout: capture() });
    const port = app.addresses[0].port;
    await Promise.all(Array.from({ length: 50 }, () => new Promise((resolve) => {
      const s = connect(port, "127.0.0.1", () => { s.resetAndDestroy(); resolve(); });
      s.on("error", resolve);
    })));
    assert.deepEqual(await get(port), { status: 200, body: "Hello World\n" });
    assert.equal(await app.stop(2000), 0);
  });

  it("enforces the memory limit", async () => {
    const stderr = capture();
    const app = await run(HELLO, { listen: ["127.0.0.1:0"], memoryLimit: 16 * 1024, stdout: capture(), stderr });
    assert.equal(await app.exited, 1);
    assert.match(stderr.text, /over the limit of 16384/);
  });

  it("routes the app's exit code and emits 'exit'", async () => {
    const app = await run(join(ROOT, "dist/tests/apps/exit-code.wasm"), { stdout: capture() });
    const emitted = new Promise((resolve) => app.on("exit", resolve));
    assert.equal(await app.exited, 3);
    assert.equal(await emitted, 3);
  });
});
