// The eventide CLI: every error names its fix; help for each command; build then run a user's app.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, ENGINES, freePort, startApp } from "../helpers/engines.mjs";

const CLI = join(ROOT, "dist/host/cli.js");

/** Runs the CLI to completion; never throws on a non-zero exit. */
async function eventide(args, { env = {}, timeout = 30_000 } = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("eventide CLI", () => {
  let dir;
  before(() => { dir = mkdtempSync(join(tmpdir(), "eventide-cli-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints help for itself and for each command", async () => {
    const main = await eventide(["--help"]);
    assert.equal(main.code, 0);
    assert.match(main.stdout, /eventide run <app\.wasm>/);
    for (const command of ["run", "build"]) {
      const r = await eventide([command, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^eventide ${command} `));
    }
  });

  it("a missing file says so and how to build one", async () => {
    const r = await eventide(["run", join(dir, "nope.wasm")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read .*nope\.wasm/);
    assert.match(r.stderr, /fix: .*eventide build/);
  });

  it("rejects a file that is not WebAssembly, and a module that is not an Eventide app", async () => {
    writeFileSync(join(dir, "text.wasm"), "hello");
    const text = await eventide(["run", join(dir, "text.wasm")]);
    assert.equal(text.code, 1);
    assert.match(text.stderr, /is not a WebAssembly module/);
    writeFileSync(join(dir, "empty.wasm"), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const empty = await eventide(["run", join(dir, "empty.wasm")]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /is not an Eventide module: it lacks memory, _initialize/);
  });

  it("a port in use is reported with the address", async () => {
    const blocker = createServer();
    await new Promise((r) => blocker.listen(0, "127.0.0.1", r));
    const { port } = blocker.address();
    const r = await eventide(["run", join(ROOT, "dist/examples/hello-http.wasm"), "--listen", `127.0.0.1:${port}`]);
    blocker.close();
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
  });

  it("bad flags exit 2 and name the fix", async () => {
    const listen = await eventide(["run", "x.wasm", "--listen", "nonsense"]);
    assert.equal(listen.code, 2);
    assert.match(listen.stderr, /--listen nonsense is not an address[\s\S]*fix: use --listen HOST:PORT/);
    const unknown = await eventide(["run", "x.wasm", "--frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option --frobnicate/);
    const engine = await eventide(["run", join(ROOT, "dist/examples/timers.wasm"), "--engine", "v8"]);
    assert.equal(engine.code, 2);
    assert.match(engine.stderr, /use --engine node or --engine wasmtime/);
  });

  it("a missing wasmtime explains how to get wasmtime 36", async () => {
    const r = await eventide(["run", join(ROOT, "dist/examples/timers.wasm"), "--engine", "wasmtime"],
      { env: { EVENTIDE_WASMTIME: "", EVENTIDE_CACHE: join(dir, "no-cache"), PATH: "/usr/bin:/bin" } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no wasmtime with WASI preview1 sockets/);
    assert.match(r.stderr, /--version v36\.0\.20/);
  });

  for (const engine of ENGINES) {
    it(`a guest trap prints its message and exits 1 (${engine})`, async () => {
      const r = await eventide(["run", join(ROOT, "dist/tests/apps/trap.wasm"), "--engine", engine]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /unreachable/);
    });
  }

  it("builds a user's app that imports eventide/*, and the result runs under every engine", async () => {
    const source = join(dir, "shout.ts");
    writeFileSync(source, `
      import { createServer, Socket } from "eventide/net";
      import { Buffer, nextTick } from "eventide";
      let lastChunk = "";
      createServer((socket: Socket) => {
        socket.on("data", (chunk: Buffer, s: Socket) => { nextTick((t: Socket) => { t.end(lastChunk.toUpperCase()); }, s); lastChunk = chunk.toString(); });
      }).listen(8080);
    `);
    const out = join(dir, "shout.wasm");
    const built = await eventide(["build", source, "-o", out], { timeout: 120_000 });
    assert.equal(built.code, 0, built.stderr);
    for (const engine of ENGINES) {
      const app = await startApp(out, { engine });
      const reply = await new Promise((resolve, reject) => {
        const s = connect(app.port, "127.0.0.1", () => s.write("quiet please"));
        let got = "";
        s.on("data", (d) => (got += d));
        s.on("end", () => resolve(got));
        s.on("error", reject);
      });
      await app.kill();
      assert.equal(reply, "QUIET PLEASE", engine);
    }
  });

  it("a compile error fails the build with the compiler's message", async () => {
    const source = join(dir, "broken.ts");
    writeFileSync(source, `let x: i32 = "not a number";\n`);
    const r = await eventide(["build", source, "-o", join(dir, "broken.wasm")], { timeout: 120_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TS2322|not assignable/);
  });
});
