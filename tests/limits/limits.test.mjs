// The limits on the command line (issue 14, item 2), under both engines: --max-connections closes what is
// over it at once and says so once per burst, --max-header-size answers 431, --headers-timeout and
// --request-timeout answer 408 when they run out. The runtime takes each as the default of every server the
// app creates (host/limits.ts → EVENTIDE_* variables → assembly/net.ts hostLimit), so tests/apps/limits-probe
// keeps every default. --memory-limit: tests/sandbox/memory-limit.test.mjs; --watchdog: tests/cluster.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { ENGINES, ROOT, endApps, startApp, within } from "../helpers/engines.mjs";

const APP = join(ROOT, "dist/tests/apps/limits-probe.wasm");
const DROPPED = /connections open \(maxConnections\): closing new ones until one ends \((\d+) closed so far\)/g;

/**
 * A raw connection to the app: `send(text)` writes, `response()` resolves with what arrived until the first
 * complete response (a head and its Content-Length body), or until the close; `closed` resolves at the close.
 */
function client(port) {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(c));
    let text = "";
    let wanted = null;
    const closed = new Promise((r) => s.on("close", () => r(text)));
    s.on("error", () => {}); // a reset reads as a close
    s.on("data", (d) => {
      text += d.toString("latin1");
      if (wanted && complete(text)) wanted(text);
    });
    s.once("error", reject);
    const c = {
      socket: s, closed,
      send: (data) => s.write(data),
      response: () => new Promise((r) => {
        if (complete(text)) return r(text);
        wanted = r;
        closed.then(r);
      }),
      end: () => { s.destroy(); return closed; },
    };
  });
}

function complete(text) {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
  return text.length >= end + 4 + length;
}

const GET = "GET /x HTTP/1.1\r\nHost: x\r\n\r\n";

after(endApps);

for (const engine of ENGINES) {
  describe(`limits on the command line (${engine})`, () => {
    it("--max-connections 2: a third connection is closed at once, logged once per burst and counted; one that ends makes room", async () => {
      const app = await startApp(APP, { engine, cli: true, cliFlags: ["--max-connections", "2"] });
      try {
        // waitForPort's probes count until the app has read their close: retried until two are served.
        const held = [];
        for (let i = 0; i < 20 && held.length < 2; i++) {
          const c = await client(app.port);
          c.send(GET);
          if (/^HTTP\/1\.1 200 [\s\S]*GET \/x$/.test(await c.response())) held.push(c);
          else await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(held.length, 2, app.stderr);
        const before = app.stderr.length;
        const dropped = () => [...app.stderr.slice(before).matchAll(DROPPED)].map((m) => Number(m[1]));
        for (let i = 0; i < 3; i++) {
          const over = await client(app.port);
          over.send(GET);
          assert.equal(await within(over.closed, 2000, "the close of a connection over the limit"), "");
        }
        await new Promise((r) => setTimeout(r, 100)); // for the app's stderr to come through
        assert.equal(dropped().length, 1, `one line for the burst:\n${app.stderr}`);
        const first = dropped()[0];
        await held.pop().end();
        let served = "";
        for (let i = 0; i < 20 && !served.startsWith("HTTP/1.1 200"); i++) { // until the app has seen the close
          await new Promise((r) => setTimeout(r, 50));
          const next = await client(app.port);
          next.send(GET);
          served = await next.response();
          if (served.startsWith("HTTP/1.1 200")) held.push(next);
        }
        assert.match(served, /^HTTP\/1\.1 200 /, "a connection is served again once one has ended");
        const over = await client(app.port);
        assert.equal(await within(over.closed, 2000, "the close of a connection over the limit"), "");
        await new Promise((r) => setTimeout(r, 100));
        const counts = dropped();
        assert.equal(counts.length, 2, `one line per burst:\n${app.stderr}`);
        assert.ok(counts[1] >= first + 3, `the count goes on: ${counts}`);
        for (const c of held) c.end();
      } finally {
        await app.kill();
      }
    });

    it("--max-header-size 1k: a larger head is answered 431, a smaller one is served", async () => {
      const app = await startApp(APP, { engine, cli: true, cliFlags: ["--max-header-size", "1k"] });
      try {
        const big = await client(app.port);
        big.send(`GET /big HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(1500)}\r\n\r\n`);
        assert.match(await big.response(), /^HTTP\/1\.1 431 /);
        const small = await client(app.port);
        small.send(`GET /small HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(500)}\r\n\r\n`);
        assert.match(await small.response(), /^HTTP\/1\.1 200 [\s\S]*GET \/small$/);
        small.end();
      } finally {
        await app.kill();
      }
    });

    for (const [flag, ms, what, request] of [
      ["--headers-timeout", 300, "a head", "GET /slow HTTP/1.1\r\nHost: x\r\n"],
      ["--request-timeout", 500, "a body", "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"],
    ]) {
      it(`${flag} ${ms}: ${what} not done in time is answered 408`, async () => {
        const app = await startApp(APP, { engine, cli: true, cliFlags: [flag, String(ms)] });
        try {
          const slow = await client(app.port);
          const started = Date.now();
          slow.send(request);
          assert.match(await within(slow.response(), ms + 3000, "the 408"), /^HTTP\/1\.1 408 /);
          assert.ok(Date.now() - started >= ms - 50, "not before the timeout");
        } finally {
          await app.kill();
        }
      });
    }
  });
}

describe("limit flags", () => {
  const eventide = (...flags) => spawnSync(process.execPath, [join(ROOT, "dist/host/cli.js"), "run", APP, ...flags], { encoding: "utf8", timeout: 30_000 });
  for (const [flags, message] of [
    [["--max-connections", "many"], /--max-connections many is not a number of connections\n  fix: e.g. --max-connections 1000/],
    [["--max-header-size", "1q"], /--max-header-size 1q is not a size\n  fix: use bytes, or a number with k, m or g: --max-header-size 16k/],
    [["--headers-timeout", "-1"], /--headers-timeout -1 is not a number of milliseconds\n  fix: e.g. --headers-timeout 60000/],
    [["--request-timeout", "5s"], /--request-timeout 5s is not a number of milliseconds\n  fix: e.g. --request-timeout 300000/],
  ]) {
    it(`${flags.join(" ")}: exit 2, naming the fix`, () => {
      const r = eventide(...flags);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    });
  }
});
