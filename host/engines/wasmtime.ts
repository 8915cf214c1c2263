// The wasmtime engine: the same module under the wasmtime CLI (36–46, which still has WASI preview1
// sockets). Listeners are bound here and inherited as fds 3, 4, … (`-S listenfd`, LISTEN_FDS), and named in
// EVENTIDE_LISTEN, so the guest sees the same layout as under the Node engine.
import { spawn, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { EventideError, WASMTIME_HELP } from "../errors.js";
import { formatAddress, type ListenAddress } from "../listeners.js";
import { ControlChannel, openControlListener, serverFd } from "../cluster/control.js";
import { encodeFrame, FrameType } from "../cluster/protocol.js";
import { loadModule } from "../module.js";
import { normalizeExitCode, type AppOptions, type EngineOptions, type RunningEngine, type StopOutcome } from "./engine.js";

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
  const control = await openControlListener();
  const listeners = options.listeners.map((l) => ({ fd: serverFd(l.server), address: l.address }));
  const launch = wasmtimeLaunch(options, listeners, { fd: serverFd(control.server), token: control.token });
  const child = spawn(wasmtime, launch.args, {
    stdio: ["inherit", options.stdout ? "pipe" : "inherit", options.stderr ? "pipe" : "inherit", ...launch.fds],
    // In this process's group, as before the control channel: whatever ends the group (a process manager, a test
    // harness, a terminal's Ctrl-C) ends wasmtime with it. SIGINT/SIGTERM sent to this process alone drain it.
    env: launch.env,
  });
  if (options.stdout) child.stdout!.pipe(options.stdout, { end: false });
  if (options.stderr) child.stderr!.pipe(options.stderr, { end: false });
  // The child has its own copies of the listening fds; ours must not accept connections meant for it.
  for (const l of options.listeners) l.server.close();
  control.server.close();
  const running = () => child.exitCode === null && child.signalCode === null;
  // The app drains when the channel ends, but one stuck in a handler would not notice: it ends with this process.
  const killOnExit = () => running() && child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const channel = new ControlChannel(control.port, control.token);
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGTERM" || signal === "SIGINT" ? 0 : 1)));
    child.on("error", () => resolve(1));
  }).then(normalizeExitCode).finally(() => {
    channel.close();
    process.off("exit", killOnExit);
  });
  return {
    exited,
    memoryBytes: () => undefined,
    stop(graceMs: number): Promise<StopOutcome> {
      // WASI preview1 delivers no signals: the drain is asked for over the control channel (STOP). A guest still
      // starting reads it once it has accepted the channel, behind HELLO.
      let forced = false;
      if (running()) channel.send(encodeFrame(FrameType.STOP));
      const force = setTimeout(() => {
        if (running()) forced = child.kill("SIGKILL");
      }, graceMs);
      force.unref();
      return exited.finally(() => clearTimeout(force)).then(() => (forced ? "forced" : "graceful"));
    },
  };
}

/** A private control channel to grant (docs/architecture.md, "The control channel"). */
export interface ControlGrant {
  /** The control listener's fd in this process. */
  fd: number;
  token: string;
}

export interface WasmtimeLaunch {
  args: string[];
  /** For spawn's stdio array after stdin, stdout, stderr: the child's fds 3, 4, … */
  fds: number[];
  env: NodeJS.ProcessEnv;
}

/**
 * wasmtime's command line for an app granted `listeners` (fds in this process), and `control` after them:
 * `-S listenfd` with LISTEN_FDS, EVENTIDE_LISTEN naming the app's listeners, EVENTIDE_CONTROL the control one.
 */
export function wasmtimeLaunch(
  options: AppOptions,
  listeners: Array<{ fd: number; address: ListenAddress }>, control?: ControlGrant,
): WasmtimeLaunch {
  const fds = listeners.map((l) => l.fd);
  const env: Record<string, string> = { ...options.env };
  if (listeners.length) env.EVENTIDE_LISTEN = listeners.map((l, i) => `${3 + i}=${formatAddress(l.address)}`).join(",");
  if (control) {
    env.EVENTIDE_CONTROL = String(3 + fds.length);
    env.EVENTIDE_CONTROL_TOKEN = control.token;
    fds.push(control.fd);
  }
  const args = ["run", "-S", "preview2=n"];
  if (fds.length) args.push("-S", "listenfd");
  for (const [k, v] of Object.entries(env)) args.push("--env", `${k}=${v}`);
  for (const d of options.dirs) args.push("--dir", `${d.host}::${d.guest}`);
  if (options.memoryLimit !== undefined) args.push("-W", `max-memory-size=${options.memoryLimit}`);
  args.push(options.wasmPath, ...options.args);
  // RUST_BACKTRACE makes wasmtime 36 capture a backtrace for every WASI error (each EAGAIN): ~40% throughput.
  return { args, fds, env: { ...process.env, LISTEN_FDS: String(fds.length), RUST_BACKTRACE: "0", RUST_LIB_BACKTRACE: "0" } };
}
