// The wasmtime engine: the same module under the wasmtime CLI (36–46, which still has WASI preview1
// sockets). Listeners are bound here and inherited as fds 3, 4, … (`-S listenfd`, LISTEN_FDS), and named in
// EVENTIDE_LISTEN, so the guest sees the same layout as under the Node engine.
import { spawn, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { EventideError, WASMTIME_HELP } from "../errors.js";
import { listenEnv } from "../listeners.js";
import { loadModule } from "../module.js";
import { normalizeExitCode, type EngineOptions, type RunningEngine, type StopOutcome } from "./engine.js";

export const PINNED_WASMTIME = "36.0.20";

function versionOk(path: string): boolean {
  try {
    const out = execFileSync(path, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const major = Number(/^wasmtime (\d+)\./.exec(out)?.[1]);
    return major >= 36 && major <= 46;
  } catch {
    return false;
  }
}

/** EVENTIDE_WASMTIME, then the per-user cache scripts/ensure-wasmtime.sh builds into, then PATH. */
export function findWasmtime(explicit?: string): string {
  const cacheRoot = process.env.EVENTIDE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "eventide");
  const candidates = [explicit, process.env.EVENTIDE_WASMTIME, join(cacheRoot, `wasmtime-${PINNED_WASMTIME}`, "bin", "wasmtime")];
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir) candidates.push(join(dir, "wasmtime"));
  for (const c of candidates) if (c && existsSync(c) && versionOk(c)) return c;
  throw new EventideError("EVENTIDE_E_WASMTIME_MISSING", "no wasmtime with WASI preview1 sockets (36–46) was found", WASMTIME_HELP);
}

export async function startWasmtimeEngine(options: EngineOptions & { wasmtime?: string }): Promise<RunningEngine> {
  await loadModule(options.wasmPath); // same checks and errors as the Node engine
  const wasmtime = findWasmtime(options.wasmtime);
  const fds = options.listeners.map((_, i) => 3 + i);
  const flags = ["run", "-S", "preview2=n"];
  if (fds.length) flags.push("-S", "listenfd", "--env", `EVENTIDE_LISTEN=${listenEnv(options.listeners, fds)}`);
  for (const [k, v] of Object.entries(options.env)) flags.push("--env", `${k}=${v}`);
  for (const d of options.dirs) flags.push("--dir", `${d.host}::${d.guest}`);
  if (options.memoryLimit !== undefined) flags.push("-W", `max-memory-size=${options.memoryLimit}`);
  const handles = options.listeners.map((l) => (l.server as unknown as { _handle: { fd: number } })._handle.fd);
  const child = spawn(wasmtime, [...flags, options.wasmPath, ...options.args], {
    stdio: ["inherit", options.stdout ? "pipe" : "inherit", options.stderr ? "pipe" : "inherit", ...handles],
    // RUST_BACKTRACE makes wasmtime 36 capture a backtrace for every WASI error (each EAGAIN): ~40% throughput.
    env: { ...process.env, LISTEN_FDS: String(fds.length), RUST_BACKTRACE: "0", RUST_LIB_BACKTRACE: "0" },
  });
  if (options.stdout) child.stdout!.pipe(options.stdout, { end: false });
  if (options.stderr) child.stderr!.pipe(options.stderr, { end: false });
  // The child has its own copies of the listening fds; ours must not accept connections meant for it.
  for (const l of options.listeners) l.server.close();
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGTERM" || signal === "SIGINT" ? 0 : 1)));
    child.on("error", () => resolve(1));
  }).then(normalizeExitCode);
  return {
    exited,
    memoryBytes: () => undefined,
    stop(graceMs: number): Promise<StopOutcome> {
      // WASI preview1 delivers no signals to the guest: a stop under wasmtime ends the process, and whatever
      // it had in flight with it. That is a forced stop, unless the app had already ended by itself.
      const running = child.exitCode === null && child.signalCode === null;
      if (running) child.kill("SIGTERM");
      const force = setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), graceMs);
      force.unref();
      return exited.finally(() => clearTimeout(force)).then(() => (running ? "forced" : "graceful"));
    },
  };
}
