// deploy/systemd: the socket unit + service pair. systemd-analyze checks the units; systemd-socket-activate
// (what systemd does for eventide.socket, without a booted systemd) then binds the socket unit's address,
// and runs the service's ExecStart as written — paths moved to this checkout — which must take the listener
// from LISTEN_FDS, serve on it, and drain on SIGTERM. Plain `wasmtime run -S listenfd` takes it too.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENGINES, ROOT, freePort, isComponent, spawnTracked, waitForPort, wasmtime, within } from "../helpers/engines.mjs";
import { get } from "../helpers/http.mjs";

const UNITS = join(ROOT, "deploy/systemd");
const APP = join(ROOT, "dist/examples/hello-http.wasm");
const INSTALL = "/opt/eventide";
const isWasmtime = (engine) => engine.startsWith("wasmtime");

/** `key=value` lines of a unit file's [section] (continuation lines joined). */
function unitValues(file, section, key) {
  const text = readFileSync(join(UNITS, file), "utf8").replace(/\\\n/g, " ");
  const body = text.split(/^\[/m).find((s) => s.startsWith(`${section}]`)) ?? "";
  return [...body.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1].trim());
}

/**
 * Runs `command` under systemd-socket-activate listening on 127.0.0.1:`port` (the socket unit's queue), with
 * `env` set for it. Resolves with the process once the port accepts, output collected in `out`.
 */
async function activate(port, env, command) {
  const args = ["-l", `127.0.0.1:${port}`, ...Object.entries(env).flatMap(([k, v]) => ["-E", `${k}=${v}`]), ...command];
  const child = spawnTracked("systemd-socket-activate", args, { stdio: ["ignore", "pipe", "pipe"] });
  child.out = "";
  child.stdout.on("data", (d) => (child.out += d));
  child.stderr.on("data", (d) => (child.out += d));
  child.exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  const missing = new Promise((_, reject) => child.on("error", (err) => reject(err.code === "ENOENT"
    ? new Error("systemd-socket-activate is not installed: apt-get install systemd (.ci/run does)") : err)));
  await Promise.race([waitForPort(port), missing]);
  return child;
}

describe("deploy/systemd units", () => {
  it("pass systemd-analyze verify", () => {
    // verify also checks that ExecStart's program exists: copies that name this machine's node stand in.
    const dir = mkdtempSync(join(tmpdir(), "eventide-units-"));
    try {
      for (const unit of ["eventide.socket", "eventide.service"]) {
        writeFileSync(join(dir, unit), readFileSync(join(UNITS, unit), "utf8").replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `));
      }
      const r = spawnSync("systemd-analyze", ["verify", "--man=no", join(dir, "eventide.socket"), join(dir, "eventide.service")], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), "", "systemd-analyze has something to say about the units");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("drain on SIGTERM: KillMode=mixed sends it to eventide alone, and TimeoutStopSec outlasts --grace", () => {
    assert.deepEqual(unitValues("eventide.service", "Service", "KillMode"), ["mixed"]);
    const grace = Number(/--grace (\d+)/.exec(unitValues("eventide.service", "Service", "ExecStart")[0])[1]);
    const timeoutStop = Number(unitValues("eventide.service", "Service", "TimeoutStopSec")[0]);
    assert.ok(timeoutStop * 1000 > grace, `TimeoutStopSec=${timeoutStop} s does not outlast --grace ${grace} ms`);
  });

  it("give wasmtime the writable cache directory it needs to start in the sandbox", () => {
    assert.deepEqual(unitValues("eventide.service", "Service", "CacheDirectory"), ["eventide"]);
    assert.ok(unitValues("eventide.service", "Service", "Environment").includes("XDG_CACHE_HOME=%C/eventide"));
  });
});

for (const engine of ENGINES) {
  describe(`socket activation of eventide.service, under ${engine}`, () => {
    let execStart;
    let environment;
    before(() => {
      [execStart] = unitValues("eventide.service", "Service", "ExecStart");
      environment = Object.fromEntries(unitValues("eventide.service", "Service", "Environment").map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
      assert.match(unitValues("eventide.socket", "Socket", "ListenStream")[0], /:8080$/);
    });

    /** ExecStart as written, run from this checkout: node, the app and the engine are this test's. */
    function command() {
      const argv = execStart.split(/\s+/).map((a) => (a === "/usr/bin/node" ? process.execPath : a === `${INSTALL}/app.wasm` ? APP : a.replace(INSTALL, ROOT)));
      const at = argv.indexOf("--engine");
      argv[at + 1] = isWasmtime(engine) ? "wasmtime" : engine;
      return argv;
    }
    // %C is systemd's cache root (CacheDirectory= makes %C/eventide writable for the service): a fresh one here.
    const caches = [];
    after(() => { for (const dir of caches) rmSync(dir, { recursive: true, force: true }); });
    const env = () => {
      caches.push(mkdtempSync(join(tmpdir(), "eventide-cache-")));
      return {
        ...Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, v.replace("%C", caches.at(-1))])),
        EVENTIDE_WASMTIME: isWasmtime(engine) ? wasmtime(engine) : "",
      };
    };

    if (isComponent(engine)) {
      it("is refused with the fix: a WASI 0.2 component can't be handed a listener", async () => {
        const child = await activate(await freePort(), env(), command()); // its first connection starts eventide
        const { code } = await within(child.exited, 15_000, "eventide to exit");
        assert.equal(code, 1, child.out);
        assert.match(child.out, /can't be handed the listening socket fd 3\n\s+fix: use a wasmtime 36–46/);
      });
      return;
    }

    for (const extra of [[], ["--workers", "2"]]) {
      it(`the first connection starts eventide ${extra.join(" ")}, which serves on the inherited socket and drains on SIGTERM`, async () => {
        const port = await freePort();
        const child = await activate(port, env(), [...command(), ...extra]);
        const first = await get(port, "/first");
        assert.equal(first.body, "Hello World\n");
        // systemd-socket-activate execs the service in its place: the pid is eventide's, as LISTEN_PID says.
        assert.match(child.out, /Execing /);
        assert.equal((await get(port, "/second")).body, "Hello World\n");
        // eventide takes SIGTERM as a drain once run() has started every worker (h14b-findings.md: before, it dies).
        const workers = extra.length ? Number(extra[1]) : 0;
        const deadline = Date.now() + 10_000;
        while ((child.out.match(/\) ready\n/g) ?? []).length < workers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        child.kill("SIGTERM");
        const { code, signal } = await within(child.exited, 15_000, "eventide to drain and exit");
        assert.deepEqual({ code, signal }, { code: 0, signal: null }, child.out);
      });
    }
  });
}

describe("socket activation without eventide", () => {
  it("plain `wasmtime run -S listenfd` (36–46) serves on the inherited socket", { skip: !ENGINES.includes("wasmtime") && "wasmtime not among EVENTIDE_TEST_ENGINES" }, async () => {
    const port = await freePort();
    const child = await activate(port, {}, [wasmtime("wasmtime"), "run", "-S", "preview2=n", "-S", "listenfd",
      "--env", `EVENTIDE_LISTEN=3=127.0.0.1:${port}`, APP]);
    assert.equal((await get(port, "/")).body, "Hello World\n");
    child.kill("SIGKILL"); // WASI preview1 gets no signals: plain wasmtime cannot drain
    await within(child.exited, 5000, "wasmtime to exit");
  });
});

describe("LISTEN_FDS that are not this process's", () => {
  it("are left alone: eventide listens where --listen says", async () => {
    const port = await freePort();
    const child = spawnTracked(process.execPath, [join(ROOT, "dist/host/cli.js"), "run", APP, "--listen", `127.0.0.1:${port}`],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LISTEN_FDS: "1", LISTEN_PID: "1" } });
    const exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
    try {
      await waitForPort(port);
      assert.equal((await get(port, "/")).body, "Hello World\n");
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await within(exited, 10_000, "eventide to exit"), 0);
  });

  it("a LISTEN_FDS that is not a number is refused, naming the fix", () => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `process.env.LISTEN_PID = String(process.pid); process.env.LISTEN_FDS = "x";
      process.argv = [process.argv[0], "cli", "run", ${JSON.stringify(APP)}]; await import(${JSON.stringify(join(ROOT, "dist/host/cli.js"))});`],
    { encoding: "utf8", input: "", timeout: 20_000, env: { ...process.env } });
    assert.match(r.stderr, /LISTEN_FDS=x is not a number of listening sockets\n\s+fix: start eventide from a socket unit/);
    assert.equal(r.status, 1);
  });
});
