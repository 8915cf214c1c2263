// Runs an app under an engine as a child process, on a free loopback port, for the integration suites.
import { spawn, execFileSync } from "node:child_process";
import { createServer, connect } from "node:net";
import { join, dirname } from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/**
 * The engines a suite runs each test on: "wasmtime" (the 36 LTS line: the app's WASI preview1 module),
 * "wasmtime-current" (47 or newer: its WASI 0.2 component, X.component.wasm), "wasmtime-host" (the component
 * under eventide-wasmtime, Eventide's own host on the wasmtime 48 crate) and "node".
 */
export const ALL_ENGINES = ["wasmtime", "wasmtime-current", "wasmtime-host", "node"];
export const ENGINES = (process.env.EVENTIDE_TEST_ENGINES ?? ALL_ENGINES.join(",")).split(",");

/** Whether `engine` is one of the wasmtime lines (the CLI's `--engine wasmtime` either way). */
export const isWasmtime = (engine) => engine.startsWith("wasmtime");

/**
 * Why a test of a preview1-only feature is skipped on the component line, for node:test's `skip`; false elsewhere.
 * `why` names what WASI 0.2 lacks.
 */
export const skipOnComponent = (engine, why) => isComponent(engine) && `wasmtime ≥ 47 runs the WASI 0.2 component: ${why}`;

/** Whether `engine` runs the app's WASI 0.2 component (the wasmtime ≥ 47 CLI, or eventide-wasmtime). */
export const isComponent = (engine) => engine === "wasmtime-current" || engine === "wasmtime-host";

// Every app a test file starts is its own process group (a CLI under test may have started wasmtime), ended
// when the file ends, fails, or is stopped by node:test's timeout (SIGTERM): a server left behind spins on.
const running = new Set();
/** Ends every app this file started that is still running (SIGKILL to each process group). */
export function endApps() {
  for (const child of running) {
    try { process.kill(-child.pid, "SIGKILL"); } catch { /* already gone */ }
  }
  running.clear();
}
process.on("exit", endApps);
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => {
    endApps();
    process.exit(128 + (signal === "SIGTERM" ? 15 : 2));
  });
}

/** spawn(), but the child leads its own process group and is ended with the test file (see endApps). */
export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, { ...options, detached: true });
  running.add(child);
  // Not at 'exit': a wasmtime the child started may outlive it, holding its output open.
  child.on("close", () => running.delete(child));
  return child;
}

const wasmtimePaths = {};
const LINES = {
  wasmtime: ["EVENTIDE_WASMTIME", "lts"],
  "wasmtime-current": ["EVENTIDE_WASMTIME_CURRENT", "current"],
  "wasmtime-host": ["EVENTIDE_WASMTIME_HOST", "host"],
};
/**
 * The wasmtime binary of a line: "wasmtime" (36–46; EVENTIDE_WASMTIME), "wasmtime-current" (47 or newer;
 * EVENTIDE_WASMTIME_CURRENT) or "wasmtime-host" (eventide-wasmtime; EVENTIDE_WASMTIME_HOST), else what
 * scripts/ensure-wasmtime.sh finds or builds.
 */
export function wasmtime(engine = "wasmtime") {
  const [variable, line] = LINES[engine];
  wasmtimePaths[engine] ??= process.env[variable] ||
    execFileSync("bash", [join(ROOT, "scripts/ensure-wasmtime.sh"), line], { encoding: "utf8" }).trim();
  return wasmtimePaths[engine];
}

/** run()'s options for `engine` (the embedding API): its engine name and, for a wasmtime line, the binary. */
export function apiEngine(engine) {
  return isWasmtime(engine) ? { engine: "wasmtime", wasmtime: wasmtime(engine) } : { engine };
}

/**
 * What `eventide run` needs for `engine`: its --engine name and the environment that picks the wasmtime line.
 */
export function cliEngine(engine) {
  return isWasmtime(engine)
    ? { name: "wasmtime", env: { ...process.env, EVENTIDE_WASMTIME: wasmtime(engine) } }
    : { name: engine, env: process.env };
}

/** Resident set size of a process we started, from /proc. */
export function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
}

/** CPU time (user + system) a process we started has used, in seconds, from /proc. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

export async function freePort(host = "127.0.0.1") {
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, host, resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** `promise`, or a rejection naming `what` if it has not settled within `ms`. */
export function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${typeof what === "function" ? what() : what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * A connection to tests/apps/http-probe with a second request on it once the app has read it: GET /first
 * and `second` go in one write, so when /first is answered the app holds `second` too (an app told to stop
 * before it read a request may close the connection as idle). Resolves then with the socket and `ended`,
 * a promise of { text } (everything received after /first's answer) at its close.
 */
export function pipelined(port, second) {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n" + second));
    let text = "";
    let answered = false;
    const ended = new Promise((r) => s.on("close", () => r({ text })));
    s.on("error", (err) => { if (!answered) reject(err); });
    s.on("data", (d) => {
      text += d.toString("latin1");
      if (answered || !text.endsWith("GET /first")) return;
      answered = true;
      text = "";
      resolve({ socket: s, ended });
    });
  });
}

/** pipelined() with a POST whose body never completes: work in flight the app cannot finish. */
export const requestInFlight = (port) => pipelined(port, "POST /never-ends HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");

/** Resolves once something accepts on host:port, polling for at most `ms`. */
export async function waitForPort(port, host = "127.0.0.1", ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, host, () => { s.destroy(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${host}:${port} after ${ms} ms`);
}

/**
 * wasmtime's own command line for `wasmPath` (X.wasm) under a wasmtime line, granting 127.0.0.1:`port` (0: no
 * listener) and `env`: 36–46 get the module and a listener bound by wasmtime (`-S tcplisten`); 47 and newer the
 * component beside it (X.component.wasm), which binds the address itself, with the network (`-S inherit-network`);
 * eventide-wasmtime the component with its own flags (`flags` are then its flags, e.g. `--dir-rw`).
 */
export function wasmtimeArgs(engine, wasmPath, { port = 0, env = {}, flags = [] } = {}) {
  const component = isComponent(engine);
  const args = engine === "wasmtime-host" ? [...flags]
    : ["run", ...(component ? ["-S", "inherit-network"] : ["-S", "preview2=n"]), ...flags];
  if (port) {
    if (!component) args.push("-S", `tcplisten=127.0.0.1:${port}`);
    args.push("--env", `EVENTIDE_LISTEN=${component ? 0 : 3}=127.0.0.1:${port}`);
  }
  for (const [k, v] of Object.entries(env)) args.push("--env", `${k}=${v}`);
  return [...args, component ? wasmPath.replace(/\.wasm$/, ".component.wasm") : wasmPath];
}

/**
 * Starts `wasm` under `engine` with one loopback listener. Under "node", and under a wasmtime line with `cli`,
 * it runs through `eventide run` (`cliFlags` added); otherwise wasmtime is started directly (wasmtimeArgs).
 * Returns the port, the output so far, a promise of the exit ({ code, signal }, once the output is complete), and
 * stop() (SIGTERM to the app's process) and kill() (SIGKILL to its process group).
 */
export async function startApp(wasm, { engine = "wasmtime", env = {}, listen = true, args = [], cli = engine === "node", cliFlags = [] } = {}) {
  const port = listen ? await freePort() : 0;
  const wasmPath = wasm.startsWith("/") ? wasm : join(ROOT, wasm);
  if (!ALL_ENGINES.includes(engine)) throw new Error(`unknown engine ${engine}`);
  let child;
  if (cli) {
    const { name, env: cliEnv } = cliEngine(engine);
    const flags = ["run", wasmPath, "--engine", name, ...cliFlags];
    if (listen) flags.push("--listen", `127.0.0.1:${port}`);
    for (const [k, v] of Object.entries(env)) flags.push("--env", `${k}=${v}`);
    if (args.length) flags.push("--", ...args);
    child = spawnTracked(process.execPath, [join(ROOT, "dist/host/cli.js"), ...flags], { stdio: ["ignore", "pipe", "pipe"], env: cliEnv });
  } else {
    child = spawnTracked(wasmtime(engine), [...wasmtimeArgs(engine, wasmPath, { port, env }), ...args],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_BACKTRACE: "0" } });
  }
  const alive = () => child.exitCode === null && child.signalCode === null;
  const app = {
    port, child, stdout: "", stderr: "",
    exited: new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal }))),
    kill() {
      // The group outlives its leader while a wasmtime the CLI started still runs, so this is not guarded by alive().
      try { process.kill(-child.pid, "SIGKILL"); } catch { /* nothing left */ }
      return app.exited;
    },
    stop(signal = "SIGTERM") {
      if (alive()) child.kill(signal);
      return app.exited;
    },
  };
  child.stdout.on("data", (d) => (app.stdout += d));
  child.stderr.on("data", (d) => (app.stderr += d));
  if (listen) {
    await Promise.race([
      waitForPort(port),
      app.exited.then(({ code }) => { throw new Error(`app exited with ${code} before listening: ${app.stderr}`); }),
    ]);
  }
  return app;
}
