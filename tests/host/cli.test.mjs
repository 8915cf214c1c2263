// The eventide CLI: every error names its fix; help for each command; build then run a user's app; and
// `eventide run --engine node|wasmtime --listen` end to end with real clients (the other suites start
// wasmtime themselves, so these are what see a CLI that lost its listener), stops by signal included.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, ENGINES, cliEngine, isComponent, freePort, startApp, endApps, within, pipelined, requestInFlight, spawnTracked } from "../helpers/engines.mjs";
import { get } from "../helpers/http.mjs";
import { childPids } from "../helpers/serving.mjs";

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

  for (const engine of ENGINES) {
    it(`a port in use is reported with the address (${engine})`, async () => {
      const blocker = createServer();
      await new Promise((r) => blocker.listen(0, "127.0.0.1", r));
      const { port } = blocker.address();
      try {
        const { name, env } = cliEngine(engine);
        const r = await eventide(["run", join(ROOT, "dist/examples/hello-http.wasm"), "--engine", name, "--listen", `127.0.0.1:${port}`], { env });
        assert.equal(r.code, 1, engine);
        assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
      } finally {
        blocker.close();
      }
    });
  }

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
    const timers = join(ROOT, "dist/examples/timers.wasm");
    for (const [args, message] of [
      [["--grace", "soon"], /--grace takes milliseconds[\s\S]*fix: e\.g\. --grace 5000/],
      [["--memory-limit", "12q"], /--memory-limit 12q is not a size[\s\S]*fix: .*--memory-limit 64m/],
      [["--env", "NOVALUE"], /--env NOVALUE is not K=V[\s\S]*fix: use --env NAME=value/],
      [["--dir", "nocolon"], /--dir nocolon is not HOST:GUEST[\s\S]*fix: use --dir/],
      [["--listen"], /--listen needs a value/],
    ]) {
      for (const engine of ENGINES) {
        const { name, env } = cliEngine(engine);
        const r = await eventide(["run", timers, "--engine", name, ...args], { env });
        assert.equal(r.code, 2, `${args.join(" ")} under ${engine}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal(r.stdout, "", "the app ran despite a bad flag");
      }
    }
  });

  it("a missing wasmtime explains how to get either line (current, or 36 LTS)", async () => {
    const r = await eventide(["run", join(ROOT, "dist/examples/timers.wasm"), "--engine", "wasmtime"],
      { env: { EVENTIDE_WASMTIME: "", EVENTIDE_CACHE: join(dir, "no-cache"), PATH: "/usr/bin:/bin" } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no wasmtime 36 or newer was found/);
    assert.match(r.stderr, /47 or newer runs the app's WASI 0\.2 component/);
    assert.match(r.stderr, /--version v36\.0\.20/);
  });

  for (const engine of ENGINES) {
    it(`a guest trap prints its message and exits 1 (${engine})`, async () => {
      const { name, env } = cliEngine(engine);
      const r = await eventide(["run", join(ROOT, "dist/tests/apps/trap.wasm"), "--engine", name], { env });
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
      const app = await startApp(out, { engine, cli: true });
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

// An app for the CLI's grants: GET /env answers $GREETING, /argv the app's argv, /file the text of hello.txt
// in the first granted directory that has one (found by trying fds: the engines number them differently).
const GRANTS_PROBE = `
  import * as http from "eventide/http";

  @external("wasi_snapshot_preview1", "path_open")
  declare function path_open(fd: u32, dirflags: u32, path: usize, pathLen: usize, oflags: u16,
    rightsBase: u64, rightsInheriting: u64, fdflags: u16, fdOut: usize): u16;
  @external("wasi_snapshot_preview1", "fd_read")
  declare function fd_read(fd: u32, iovs: usize, iovsLen: usize, nreadOut: usize): u16;

  function readGranted(name: string): string {
    const path = String.UTF8.encode(name);
    const out = new ArrayBuffer(4);
    for (let dir: u32 = 3; dir < 64; dir++) {
      if (path_open(dir, 0, changetype<usize>(path), path.byteLength, 0, 2, 0, 0, changetype<usize>(out)) != 0) continue;
      const buf = new ArrayBuffer(256);
      const iov = new ArrayBuffer(8);
      store<u32>(changetype<usize>(iov), <u32>changetype<usize>(buf));
      store<u32>(changetype<usize>(iov), 256, 4);
      if (fd_read(load<u32>(changetype<usize>(out)), changetype<usize>(iov), 1, changetype<usize>(out)) != 0) return "unreadable";
      return String.UTF8.decode(buf.slice(0, load<u32>(changetype<usize>(out))));
    }
    return "none";
  }

  http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url == "/env") res.end(process.env.has("GREETING") ? process.env.get("GREETING") : "unset");
    else if (req.url == "/argv") res.end(process.argv.slice(1).join(" "));
    else if (req.url == "/file") res.end(readGranted("hello.txt"));
    else res.end("?");
  }).listen(8080);
`;

// An app whose script takes 3 s before it listens: a stop that arrives meanwhile must wait for it, then drain.
const SLOW_START = `
import * as http from "eventide/http";
const until = Date.now() + 3000;
while (Date.now() < until) { /* a slow start: loading data, warming a cache */ }
http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => { res.end("ok"); }).listen(8080);
`;

// 3,000 lines of 100 bytes at start: far more than a pipe holds while nobody reads it.
const CHATTY = `
const line = "x".repeat(95);
for (let i = 0; i < 3000; i++) console.log(i.toString().padStart(4, "0") + line);
`;

/** `source` built with `eventide build` in a new temp folder, as `name`.wasm: { dir, app } (the .wasm's path). */
async function buildInline(name, source) {
  const dir = mkdtempSync(join(tmpdir(), `eventide-${name}-`));
  writeFileSync(join(dir, `${name}.ts`), source);
  const app = join(dir, `${name}.wasm`);
  const built = await eventide(["build", join(dir, `${name}.ts`), "-o", app], { timeout: 120_000 });
  assert.equal(built.code, 0, built.stderr);
  return { dir, app };
}

describe("console output into a pipe nobody reads yet", () => {
  let dir;
  let app;
  before(async () => { ({ dir, app } = await buildInline("chatty", CHATTY)); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const engine of ENGINES) {
    it(`waits for the reader and loses no line (${engine})`, async () => {
      const { name, env } = cliEngine(engine);
      const child = spawnTracked(process.execPath, [CLI, "run", app, "--engine", name], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.stdout.pause(); // the pipe fills: the app's writes would block
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const chunks = [];
      child.stdout.on("data", (d) => chunks.push(d));
      child.stdout.resume();
      const [code] = await within(new Promise((resolve) => child.on("close", (c) => resolve([c]))), 60_000, "the exit");
      const lines = Buffer.concat(chunks).toString().split("\n").filter(Boolean);
      assert.equal(code, 0, stderr);
      assert.equal(lines.length, 3000, stderr);
      assert.equal(lines[2999].slice(0, 4), "2999");
    });
  }
});

describe("a stop during start-up", () => {
  let dir;
  let app;
  before(async () => { ({ dir, app } = await buildInline("slow-start", SLOW_START)); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const engine of ENGINES) {
    for (const workers of isComponent(engine) ? [null] : [null, "2"]) {
      it(`SIGTERM before the app is ready (${engine}${workers ? ", --workers 2" : ""}) is kept: the app starts, drains, exits 0`, async () => {
        const { name, env } = cliEngine(engine);
        const port = await freePort();
        const args = [CLI, "run", app, "--engine", name, "--listen", `127.0.0.1:${port}`, ...(workers ? ["--workers", workers] : [])];
        const child = spawnTracked(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        await new Promise((resolve) => setTimeout(resolve, 1500)); // the CLI is up, the script still runs
        process.kill(child.pid, "SIGTERM");
        const [code, signal] = await within(new Promise((resolve) => child.on("exit", (c, s) => resolve([c, s]))), 20_000, "the exit");
        assert.deepEqual({ code, signal }, { code: 0, signal: null }, stderr);
      });
    }
  }
});

for (const engine of ENGINES) {
  describe(`eventide run --engine ${engine} with real listeners`, () => {
    let dir;
    let probe;
    const PROBE = join(ROOT, "dist/tests/apps/http-probe.wasm");
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `eventide-cli-${engine}-`));
      mkdirSync(join(dir, "data"));
      writeFileSync(join(dir, "data", "hello.txt"), "granted text");
      probe = join(dir, "grants-probe.wasm");
      writeFileSync(join(dir, "grants-probe.ts"), GRANTS_PROBE);
      const built = await eventide(["build", join(dir, "grants-probe.ts"), "-o", probe], { timeout: 120_000 });
      assert.equal(built.code, 0, built.stderr);
    });
    after(() => {
      endApps(); // what a failed test left running
      rmSync(dir, { recursive: true, force: true });
    });

    it("serves on the --listen address; --env, --dir and the app's args reach the app", async () => {
      const app = await startApp(probe, {
        engine, cli: true, env: { GREETING: "hello from --env" }, cliFlags: ["--dir", `${join(dir, "data")}:/data`], args: ["--verbose", "x"],
      });
      try {
        const env = await get(app.port, "/env");
        assert.deepEqual([env.status, env.body], [200, "hello from --env"]);
        assert.equal((await get(app.port, "/argv")).body, "--verbose x");
        assert.equal((await get(app.port, "/file")).body, "granted text");
      } finally {
        await app.kill();
      }
    });

    it("without --dir the app sees no directory, and without --env no variable", async () => {
      const app = await startApp(probe, { engine, cli: true });
      try {
        assert.equal((await get(app.port, "/file")).body, "none");
        assert.equal((await get(app.port, "/env")).body, "unset");
      } finally {
        await app.kill();
      }
    });

    for (const signal of ["SIGTERM", "SIGINT"]) {
      it(`${signal} with nothing in flight exits 0`, async () => {
        const app = await startApp(PROBE, { engine, cli: true });
        assert.equal((await get(app.port, "/x")).body, "GET /x");
        // What is still running says which side hung (eventide, or the app it should have drained or killed).
        const state = () => `the exit after ${signal} (eventide's children: ${childPids(app.child.pid).join(" ") || "none"}; stderr: ${JSON.stringify(app.stderr)})`;
        const { code, signal: killedBy } = await within(app.stop(signal), 10_000, state);
        assert.deepEqual({ code, killedBy }, { code: 0, killedBy: null }, app.stderr); // wasmtime drains over its control channel
        assert.equal(app.stderr, "");
      });
    }

    it("SIGTERM with a request in flight past --grace: the stop is forced, exit 124, and says so", async () => {
      const app = await startApp(PROBE, { engine, cli: true, cliFlags: ["--grace", "300"] });
      const { ended } = await requestInFlight(app.port); // a POST whose body never completes
      const { code } = await within(app.stop("SIGTERM"), 10_000, "the exit after SIGTERM");
      assert.equal(code, 124, app.stderr);
      assert.match(app.stderr, /work in flight after --grace 300 ms and was ended; exit 124/);
      assert.equal((await within(ended, 5000, "the cut connection")).text, "", "the cut request got an answer");
    });

    if (engine === "node") {
      it("SIGTERM with a quick request in flight: it is answered, then exit 0", async () => {
        const app = await startApp(PROBE, { engine, cli: true });
        const { ended } = await pipelined(app.port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); // answered after 50 ms
        const { code } = await within(app.stop("SIGTERM"), 10_000, "the exit after SIGTERM");
        assert.equal(code, 0, app.stderr);
        assert.match((await ended).text, /^HTTP\/1\.1 200 [^]*GET \/slow$/);
      });
    }

    it("an app whose loop runs out of work exits by itself with its code", async () => {
      const timers = await startApp("dist/examples/timers.wasm", { engine, cli: true, listen: false });
      assert.equal((await within(timers.exited, 10_000, "the timers example's exit")).code, 0, timers.stderr);
      assert.match(timers.stdout, /timeout 60ms\n$/);
      const exitCode = await startApp("dist/tests/apps/exit-code.wasm", { engine, cli: true, listen: false });
      assert.equal((await within(exitCode.exited, 10_000, "exit-code's exit")).code, 3, exitCode.stderr);
    });
  });
}
