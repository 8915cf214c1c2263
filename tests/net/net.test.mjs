// The foundation under real engines: the echo example and test apps over real loopback sockets.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { ENGINES, isComponent, startApp, endApps, rssKiB, within, freePort } from "../helpers/engines.mjs";

const ECHO = "dist/examples/echo-tcp.wasm";
const PROBE = "dist/tests/apps/net-probe.wasm";
const GREETING = "Echo server\r\n";

after(endApps); // an app a failed test left running would keep this file from ending

/** Connects, sends `payload` (then half-closes unless keepOpen), and collects everything until EOF. */
function exchange(port, payload, { readDelayMs = 0, keepOpen = false } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const s = connect(port, "127.0.0.1");
    s.on("data", (d) => {
      chunks.push(d);
      if (readDelayMs) { s.pause(); setTimeout(() => s.resume(), readDelayMs); }
    });
    s.on("end", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
    s.on("connect", () => (keepOpen ? s.write(payload) : s.end(payload)));
    s.setTimeout(30_000, () => { s.destroy(); reject(new Error("exchange timed out")); });
  });
}

for (const engine of ENGINES) {
  describe(`net under ${engine}`, () => {
    let echo;
    before(async () => { echo = await startApp(ECHO, { engine }); });
    after(async () => { await echo.kill(); });

    it("greets and echoes, then closes after the client half-closes", async () => {
      const got = await exchange(echo.port, "hello\n");
      assert.equal(got.toString(), GREETING + "hello\n");
    });

    it("echoes 64 MB through a slow reader intact, with bounded memory (backpressure)", async () => {
      const payload = Buffer.alloc(64 << 20);
      for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
      // A first pass lets the server's heap reach its working size (the Node engine's V8 heap grows lazily);
      // buffering the measured pass would grow the server by ≥ 64 MiB.
      await exchange(echo.port, payload);
      const before = rssKiB(echo.child.pid);
      const got = await exchange(echo.port, payload, { readDelayMs: 1 });
      assert.equal(got.length, GREETING.length + payload.length);
      assert.ok(got.subarray(GREETING.length).equals(payload), "echoed bytes differ");
      const grownKiB = rssKiB(echo.child.pid) - before;
      const limitKiB = (engine === "node" ? 16 : 12) * 1024; // V8's heap breathes more than wasmtime's
      assert.ok(grownKiB < limitKiB, `server RSS grew ${grownKiB} KiB while echoing 64 MiB`);
    });

    it("serves 200 concurrent clients", async () => {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => exchange(echo.port, `client ${i} says hi\n`)),
      );
      results.forEach((got, i) => assert.equal(got.toString(), `${GREETING}client ${i} says hi\n`));
    });

    it("survives garbage, resets mid-write and abrupt disconnects, and keeps serving", async () => {
      const junk = Buffer.alloc(256 * 1024);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) & 0xff;
      await Promise.all(Array.from({ length: 50 }, (_, i) => new Promise((resolve) => {
        const s = connect(echo.port, "127.0.0.1", () => {
          if (i % 3 === 0) s.destroy();                                   // gone at once
          else if (i % 3 === 1) { s.write(junk); s.resetAndDestroy(); }   // RST while data is in flight
          else { s.write(junk); setTimeout(() => s.resetAndDestroy(), 5); }
        });
        s.on("error", () => {});
        s.on("close", resolve);
      })));
      const got = await exchange(echo.port, "still there?\n");
      assert.equal(got.toString(), GREETING + "still there?\n");
      assert.equal(echo.child.exitCode, null, "server exited: " + echo.stderr);
    });
  });

  describe(`socket semantics under ${engine}`, () => {
    let probe;
    before(async () => { probe = await startApp(PROBE, { engine }); });
    after(async () => { await probe.kill(); });

    it("half-close: the server still writes after the client's FIN", async () => {
      const got = await exchange(probe.port, Buffer.alloc(100_000, 1));
      assert.equal(got.toString(), "received 100000\n");
    });

    it("knows the peer's address where the backend can tell (WASI 0.2), else says so", async () => {
      const got = await new Promise((resolve, reject) => {
        const s = connect(probe.port, "127.0.0.1", () => s.write("A"));
        let text = "";
        s.on("data", (d) => (text += d));
        s.on("end", () => resolve({ text, port: s.localPort }));
        s.on("error", reject);
      });
      // WASI preview1 has no getpeername: the wasmtime 36 line and the Node engine's shim report none.
      const expected = isComponent(engine) ? `peer 127.0.0.1 ${got.port}\n` : "peer null -1\n";
      assert.equal(got.text, expected);
    });

    it("idle timeout emits 'timeout' after the socket goes quiet", async () => {
      const started = Date.now();
      const got = await exchange(probe.port, "T", { keepOpen: true });
      assert.equal(got.toString(), "timeout\n");
      assert.ok(Date.now() - started >= 90, "timed out too early");
    });
  });

  describe(`process lifecycle under ${engine}`, () => {
    it("runs timers in order and exits 0 when nothing is left", async () => {
      const app = await startApp("dist/examples/timers.wasm", { engine, listen: false });
      const { code } = await within(app.exited, 10_000, "the timers example's exit"); // its last timer is at 60 ms
      assert.equal(code, 0, app.stderr);
      const lines = app.stdout.trim().split("\n");
      assert.deepEqual([...lines].sort(), [
        "immediate", "interval 1", "interval 2", "interval 3", "interval cleared", "nextTick",
        "script done; the loop starts now", "timeout 10ms with an argument", "timeout 60ms",
      ]);
      // Only what holds however late the loop starts or a timer fires (the script arms every timer from one
      // loop time): the script and its nextTick first; 5 ms before 10 ms before 60 ms; an interval re-armed at
      // or after its first run fires after the 10 ms timeout; an immediate runs in the first iteration, before
      // anything re-armed can be due.
      assert.deepEqual(lines.slice(0, 2), ["script done; the loop starts now", "nextTick"]);
      const at = (line) => lines.indexOf(line);
      const before = (a, b) => assert.ok(at(a) < at(b), `"${a}" before "${b}" in ${JSON.stringify(lines)}`);
      before("interval 1", "timeout 10ms with an argument");
      before("timeout 10ms with an argument", "timeout 60ms");
      before("timeout 10ms with an argument", "interval 2");
      before("interval 2", "interval 3");
      before("immediate", "interval 2");
      assert.equal(at("interval cleared"), at("interval 3") + 1);
    });

    it("exits with process.exitCode", async () => {
      const app = await startApp("dist/tests/apps/exit-code.wasm", { engine, listen: false });
      assert.equal((await within(app.exited, 10_000, "exit-code's exit")).code, 3);
    });

    it("an unhandled 'error' prints it and exits 1", async () => {
      const app = await startApp("dist/tests/apps/uncaught-error.wasm", { engine, listen: false });
      assert.equal((await within(app.exited, 10_000, "uncaught-error's exit")).code, 1);
      assert.match(app.stderr, /Uncaught Error: the disk is full of eels/);
    });

    it("listen() without a granted socket names the flag that grants one", async () => {
      const app = await startApp(ECHO, { engine, listen: false });
      assert.equal((await within(app.exited, 10_000, "the exit")).code, 1);
      // The wasmtime command that grants one, for what runs: the component binds what EVENTIDE_LISTEN names.
      assert.match(app.stderr, isComponent(engine) ? /-S inherit-network --env EVENTIDE_LISTEN=0=127\.0\.0\.1:PORT app\.component\.wasm/
        : /-S tcplisten=127\.0\.0\.1:PORT/);
      assert.match(app.stderr, /--listen/);
    });

    it("listen() on a port none of several granted sockets has names the ones granted", async () => {
      const [a, b] = [await freePort(), await freePort()];
      const cliFlags = ["--listen", `127.0.0.1:${a}`, "--listen", `127.0.0.1:${b}`]; // echo-tcp listens on 1337
      const app = await startApp(ECHO, { engine, cli: true, listen: false, cliFlags });
      assert.equal((await within(app.exited, 10_000, "the exit")).code, 1);
      assert.match(app.stderr, new RegExp(`listen 127\\.0\\.0\\.1:1337: none of the granted listening sockets matches \\(granted: 127\\.0\\.0\\.1:${a}, 127\\.0\\.0\\.1:${b}\\); listen on one of those, or grant 127\\.0\\.0\\.1:1337 with eventide run --listen`));
      assert.doesNotMatch(app.stderr, /no listening socket was granted/);
    });
  });
}
