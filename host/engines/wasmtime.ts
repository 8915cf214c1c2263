// The wasmtime engine: the app under the wasmtime CLI, on either line it runs on.
// - 36–46, which still have WASI preview1 sockets: the app's module (X.wasm). Listeners are bound here and
//   inherited as fds 3, 4, … (`-S listenfd`, LISTEN_FDS), and named in EVENTIDE_LISTEN, so the guest sees the
//   same layout as under the Node engine.
// - 47 and newer, which removed them: the app's WASI 0.2 component (X.component.wasm, written beside X.wasm by
//   `eventide build`). A component can't be handed a listener, so the guest binds the addresses EVENTIDE_LISTEN
//   names itself and reports the ports over the control channel (LISTENING), which it connects to.
import { spawn, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { EventideError, WASMTIME_HELP } from "../errors.js";
import { bindListeners, formatAddress, type ListenAddress, type ListenTarget } from "../listeners.js";
import { ControlChannel, openControlListener, serverFd, type ControlListener } from "../cluster/control.js";
import { decodeListening, encodeFrame, FrameType } from "../cluster/protocol.js";
import { loadModule } from "../module.js";
import { withMounts } from "./wasmtime-mounts.js";
import { normalizeExitCode, type AppOptions, type EngineOptions, type RunningEngine, type StopOutcome } from "./engine.js";

/** The preview1 line's release that scripts/ensure-wasmtime.sh builds (36 LTS). */
export const PINNED_WASMTIME = "36.0.20";
/** The current line's release that `scripts/ensure-wasmtime.sh current` builds. */
export const PINNED_WASMTIME_CURRENT = "48.0.8";
/** The first wasmtime without WASI preview1 sockets (47.0.0 removed the legacy preview1 implementation). */
export const FIRST_COMPONENT_MAJOR = 47;
const OLDEST_MAJOR = 36;

const versions = new Map<string, string>();

/** What `path --version` prints ("" when it is not a program that runs). */
function versionOf(path: string): string {
  let version = versions.get(path);
  if (version === undefined) {
    try {
      version = execFileSync(path, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      version = "";
    }
    versions.set(path, version);
  }
  return version;
}

/**
 * The major version of the wasmtime at `path`: the CLI's (`wasmtime 48.0.8`), or the crate's that eventide-wasmtime
 * is built on (`eventide-wasmtime 0.1.0 (wasmtime 48.0.8)`); undefined when it is neither.
 */
export function wasmtimeMajor(path: string): number | undefined {
  return Number(/^(?:eventide-wasmtime \S+ \()?wasmtime (\d+)\./.exec(versionOf(path))?.[1]) || undefined;
}

/**
 * Whether `path` is eventide-wasmtime (host/engines/wasmtime-host, built by `scripts/ensure-wasmtime.sh host`):
 * Eventide's own host for the component on the wasmtime crate, where the guest waits in epoll in its own thread
 * (the CLI's runtime parks it and wakes it from another).
 */
export function isEventideHost(path: string): boolean {
  return versionOf(path).startsWith("eventide-wasmtime ");
}

/** Whether the wasmtime at `path` runs the app's WASI 0.2 component (47 or newer) rather than its module. */
export function runsComponent(path: string): boolean {
  return (wasmtimeMajor(path) ?? 0) >= FIRST_COMPONENT_MAJOR;
}

/**
 * A wasmtime of either line (36 or newer): `explicit`, EVENTIDE_WASMTIME, the per-user cache
 * scripts/ensure-wasmtime.sh builds into (36 LTS, then the current release), then PATH. Throws
 * EVENTIDE_E_WASMTIME_MISSING naming both ways to get one.
 */
export function findWasmtime(explicit?: string): string {
  const cacheRoot = process.env.EVENTIDE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "eventide");
  const candidates = [explicit, process.env.EVENTIDE_WASMTIME,
    ...[PINNED_WASMTIME, PINNED_WASMTIME_CURRENT].map((v) => join(cacheRoot, `wasmtime-${v}`, "bin", "wasmtime"))];
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir) candidates.push(join(dir, "wasmtime"));
  for (const c of candidates) if (c && existsSync(c) && (wasmtimeMajor(c) ?? 0) >= OLDEST_MAJOR) return c;
  throw new EventideError("EVENTIDE_E_WASMTIME_MISSING", "no wasmtime 36 or newer was found", WASMTIME_HELP);
}

/** The component `eventide build` writes beside the module `wasmPath` (X.wasm → X.component.wasm). */
export function componentPath(wasmPath: string): string {
  return wasmPath.replace(/(\.wasm)?$/, ".component.wasm");
}

export type WasmtimeEngineOptions = Omit<EngineOptions, "listeners"> & {
  /** Where to listen: bound here, or an inherited listener (36–46); bound by the guest (47 and newer: addresses only). */
  listen: ListenTarget[];
  wasmtime?: string;
};

export interface RunningWasmtimeEngine extends RunningEngine {
  /** The listeners' addresses, with the ports actually bound (port 0 → the one picked). */
  readonly addresses: ListenAddress[];
}

/**
 * Starts the app under wasmtime and resolves once it listens on every address of `listen` (at once for 36–46,
 * which get listeners bound here). Rejects with EventideError: as loadModule does for the file,
 * EVENTIDE_E_WASMTIME_MISSING, EVENTIDE_E_NOT_FOUND (no component beside the module for wasmtime 47 and newer),
 * EVENTIDE_E_ADDR_IN_USE or EVENTIDE_E_LISTEN, or EVENTIDE_E_GUEST_TRAP when the app ended before it listened.
 */
export async function startWasmtimeEngine(options: WasmtimeEngineOptions): Promise<RunningWasmtimeEngine> {
  await loadModule(options.wasmPath); // same checks and errors as the Node engine
  const wasmtime = findWasmtime(options.wasmtime);
  if (runsComponent(wasmtime)) return startComponent({ ...options, listen: addressesOnly(options.listen, wasmtime) }, wasmtime);
  const listeners = await bindListeners(options.listen);
  let control: ControlListener;
  try {
    control = await openControlListener();
  } catch (err) {
    for (const l of listeners) l.server.close();
    throw err;
  }
  const launch = wasmtimeLaunch(options, listeners.map((l) => ({ fd: serverFd(l.server), address: l.address })),
    { fd: serverFd(control.server), token: control.token });
  const app = startProcess(wasmtime, launch, options, ControlChannel.connect(control.port, control.token));
  // The child has its own copies of the listening fds; ours must not accept connections meant for it.
  for (const l of listeners) l.server.close();
  control.server.close();
  return { ...app, addresses: listeners.map((l) => l.address) };
}

/** `listen` when it holds no inherited listener, which a WASI 0.2 component can't be given; else EVENTIDE_E_LISTEN. */
function addressesOnly(listen: ListenTarget[], wasmtime: string): ListenAddress[] {
  const inherited = listen.find((l): l is { fd: number } => "fd" in l);
  if (inherited) {
    throw new EventideError("EVENTIDE_E_LISTEN",
      `wasmtime ${wasmtimeMajor(wasmtime)} runs the app's WASI 0.2 component, which can't be handed the listening socket fd ${inherited.fd}`,
      "use a wasmtime 36–46 (EVENTIDE_WASMTIME) or --engine node with socket activation, or let eventide bind the address (--listen)");
  }
  return listen as ListenAddress[];
}

/**
 * wasmtime 47 and newer: the component beside the module, with the control channel in connect mode; resolves
 * once the guest has reported (LISTENING) every listener bound.
 */
async function startComponent(options: WasmtimeEngineOptions & { listen: ListenAddress[] }, wasmtime: string): Promise<RunningWasmtimeEngine> {
  const component = componentPath(options.wasmPath);
  if (!existsSync(component)) {
    throw new EventideError("EVENTIDE_E_NOT_FOUND",
      `wasmtime ${wasmtimeMajor(wasmtime)} runs the app's WASI 0.2 component ${basename(component)}, which is not beside ${basename(options.wasmPath)}`,
      "build the app with 'eventide build app.ts -o app.wasm' (it writes app.wasm and app.component.wasm), " +
      `or use a wasmtime 36–46 (EVENTIDE_WASMTIME), which runs ${basename(options.wasmPath)} itself`);
  }
  const control = await openControlListener();
  const channel = ControlChannel.accept(control);
  const bound = new Array<ListenAddress | undefined>(options.listen.length);
  const listening = new Promise<void>((resolve, reject) => {
    if (options.listen.length === 0) return resolve();
    channel.on("frame", (frame) => {
      const report = frame.type === FrameType.LISTENING ? decodeListening(frame.payload) : null;
      if (!report || report.index >= bound.length) return;
      if (report.error) return reject(listenError(options.listen[report.index], report.error));
      bound[report.index] = report.address;
      if (bound.every((a) => a)) resolve();
    });
  });
  const launch = componentLaunch({ ...options, wasmPath: component }, options.listen,
    { address: `127.0.0.1:${control.port}`, token: control.token }, isEventideHost(wasmtime));
  const app = startProcess(wasmtime, launch, options, channel);
  const ended = app.exited.then((code) => {
    throw new EventideError("EVENTIDE_E_GUEST_TRAP", `the app exited (code ${code}) before it listened on every address`,
      "see the app's output above");
  });
  try {
    await Promise.race([listening, ended]);
  } catch (err) {
    await app.stop(0);
    throw err;
  } finally {
    // Whichever lost the race settles later (ended: when the app exits) with no one waiting for it.
    listening.catch(() => undefined);
    ended.catch(() => undefined);
  }
  return { ...app, addresses: bound as ListenAddress[] };
}

/** The error for a listener the guest could not bind, as bindListeners words it for one bound here. */
function listenError(address: ListenAddress, code: string): EventideError {
  if (code === "EADDRINUSE") {
    return new EventideError("EVENTIDE_E_ADDR_IN_USE", `${formatAddress(address)} is already in use`,
      "stop the process using it, or choose another port with --listen");
  }
  return new EventideError("EVENTIDE_E_LISTEN", `cannot listen on ${formatAddress(address)}: ${code}`,
    "check the address: it must be a local interface address");
}

/** Spawns wasmtime and ties the app's lifetime to the control channel (stop = STOP, then SIGKILL after the grace). */
function startProcess(wasmtime: string, launch: WasmtimeLaunch, options: WasmtimeEngineOptions, channel: ControlChannel): RunningEngine {
  const child = spawn(...withMounts(wasmtime, launch.args, options.dirs), {
    stdio: ["inherit", options.stdout ? "pipe" : "inherit", options.stderr ? "pipe" : "inherit", ...launch.fds],
    // In this process's group, as before the control channel: whatever ends the group (a process manager, a test
    // harness, a terminal's Ctrl-C) ends wasmtime with it. SIGINT/SIGTERM sent to this process alone drain it.
    env: launch.env,
  });
  if (options.stdout) child.stdout!.pipe(options.stdout, { end: false });
  if (options.stderr) child.stderr!.pipe(options.stderr, { end: false });
  const running = () => child.exitCode === null && child.signalCode === null;
  // The app drains when the channel ends, but one stuck in a handler would not notice: it ends with this process.
  const killOnExit = () => running() && child.kill("SIGKILL");
  process.on("exit", killOnExit);
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
      // WASI delivers no signals: the drain is asked for over the control channel (STOP). A guest still starting
      // reads it once the channel is up, behind HELLO.
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
 * wasmtime's command line (36–46) for an app granted `listeners` (fds in this process), and `control` after them:
 * `-S listenfd` with LISTEN_FDS, EVENTIDE_LISTEN naming the app's listeners, EVENTIDE_CONTROL the control one.
 */
export function wasmtimeLaunch(
  options: AppOptions,
  listeners: Array<{ fd: number; address: ListenAddress }>, control?: ControlGrant,
): WasmtimeLaunch {
  const fds = listeners.map((l) => l.fd);
  const granted: Record<string, string> = {};
  if (listeners.length) granted.EVENTIDE_LISTEN = listeners.map((l, i) => `${3 + i}=${formatAddress(l.address)}`).join(",");
  if (control) {
    granted.EVENTIDE_CONTROL = String(3 + fds.length);
    granted.EVENTIDE_CONTROL_TOKEN = control.token;
    fds.push(control.fd);
  }
  const args = ["run", "-S", "preview2=n"];
  if (fds.length) args.push("-S", "listenfd");
  return { args: [...args, ...appArgs(options, granted)], fds, env: childEnv({ LISTEN_FDS: String(fds.length) }) };
}

/**
 * wasmtime's command line (47 and newer) for the component `options.wasmPath`: EVENTIDE_LISTEN names the addresses
 * the guest binds (`n=host:port`, n counting from 0), EVENTIDE_CONTROL the host's control listener it connects to.
 * `-S inherit-network` is the only network grant the CLI has for WASI 0.2 and it is all-or-nothing: the app may
 * bind, accept and connect on any address the user running it may (SECURITY.md, docs/cli.md). UDP and
 * name lookup, which the runtime does not use, stay off.
 */
export function componentLaunch(
  options: AppOptions, listen: ListenAddress[], control: { address: string; token: string }, eventideHost = false,
): WasmtimeLaunch {
  const granted: Record<string, string> = { EVENTIDE_CONTROL: control.address, EVENTIDE_CONTROL_TOKEN: control.token };
  if (listen.length) granted.EVENTIDE_LISTEN = listen.map((a, i) => `${i}=${formatAddress(a)}`).join(",");
  if (eventideHost) return { args: hostArgs(options, granted), fds: [], env: childEnv({}) };
  const args = ["run", "-S", "inherit-network", "-S", "tcp", "-S", "udp=n", "-S", "allow-ip-name-lookup=n"];
  return { args: [...args, ...appArgs(options, granted)], fds: [], env: childEnv({}) };
}

/**
 * eventide-wasmtime's command line: the same grants as the CLI's (its network grant is TCP only, no UDP, no name
 * lookup). Every directory goes as writable (`--dir-rw`), as the CLI grants them, and the mount namespace
 * (withMounts) makes the read-only ones read-only: rights on a preopen would also refuse a writable grant nested
 * in a read-only one, which the model (SECURITY.md) keeps writable through either.
 */
function hostArgs(options: AppOptions, granted: Record<string, string>): string[] {
  const args = envFlags(options, granted);
  for (const d of options.dirs) args.push("--dir-rw", `${d.host}::${d.guest}`);
  if (options.memoryLimit !== undefined) args.push("--max-memory-size", String(options.memoryLimit));
  return [...args, options.wasmPath, ...options.args];
}

/**
 * The flags both lines share, then the app and its arguments: the app's environment with the runtime's own
 * variables (`granted`) over it, directories, memory limit.
 */
function appArgs(options: AppOptions, granted: Record<string, string>): string[] {
  const args = envFlags(options, granted);
  for (const d of options.dirs) args.push("--dir", `${d.host}::${d.guest}`);
  if (options.memoryLimit !== undefined) args.push("-W", `max-memory-size=${options.memoryLimit}`);
  return [...args, options.wasmPath, ...options.args];
}

/** `--env` for each of the app's variables, with the runtime's own (`granted`) over them. */
function envFlags(options: AppOptions, granted: Record<string, string>): string[] {
  return Object.entries({ ...options.env, ...granted }).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
}

// RUST_BACKTRACE makes wasmtime 36 capture a backtrace for every WASI error (each EAGAIN): ~40% throughput.
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, RUST_BACKTRACE: "0", RUST_LIB_BACKTRACE: "0" };
}
