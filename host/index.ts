// Eventide's embedding API: run an Eventide app (.wasm) from Node, inside this process or under wasmtime.
//
//   import { run } from "eventide";
//   const app = await run("dist/examples/hello-http.wasm", { listen: ["127.0.0.1:1337"] });
//   …
//   const code = await app.stop();
import { EventEmitter } from "node:events";
import { resolve } from "node:path";
import type { Writable } from "node:stream";
import { parseListen, type ListenAddress, type ListenTarget } from "./listeners.js";
import { loadModule } from "./module.js";
import { startNodeEngine } from "./engines/node.js";
import { startWasmtimeEngine } from "./engines/wasmtime.js";
import { FORCED_STOP_EXIT_CODE, type DirGrant, type RunningEngine, type StopOutcome } from "./engines/engine.js";
import { EventideError } from "./errors.js";
import { parseDir, resolveDirs } from "./dirs.js";
import { requireMountNamespace } from "./engines/wasmtime-mounts.js";
import { limitEnv, type Limits } from "./limits.js";
import { startCluster } from "./cluster/start.js";
import type { Cluster } from "./cluster/supervisor.js";
import type { ClusterWorker } from "./cluster/worker.js";

export { EventideError, type EventideErrorCode } from "./errors.js";
export { parseListen, formatAddress, inheritedListeners, type ListenAddress, type ListenTarget } from "./listeners.js";
export { findWasmtime, PINNED_WASMTIME, PINNED_WASMTIME_CURRENT } from "./engines/wasmtime.js";
export { FORCED_STOP_EXIT_CODE, type DirGrant, type StopOutcome } from "./engines/engine.js";

export { MAX_MESSAGE_BYTES } from "./cluster/protocol.js";
export type { ClusterWorker } from "./cluster/worker.js";

export type EngineName = "node" | "wasmtime";
export type { Limits } from "./limits.js";

/** How to run an app; the Limits (maxConnections, maxHeaderSize, headersTimeout, requestTimeout, grace) too. */
export interface RunOptions extends Limits {
  /**
   * Listening sockets to grant: "host:port", "[::1]:port" or "port" (port 0 picks a free one), or { fd }, a
   * listening socket this process inherited (socket activation: see inheritedListeners, docs/deploy.md).
   */
  listen?: Array<string | ListenTarget>;
  engine?: EngineName;
  env?: Record<string, string>;
  args?: string[];
  /**
   * Directories to grant: { host, guest, writable? } or "host:guest[:ro|:rw]"; read-only unless writable (`:rw`).
   * Under wasmtime a read-only one needs a Linux mount namespace (SECURITY.md); without one run() rejects.
   */
  dirs?: Array<DirGrant | string>;
  /** Largest linear memory the app may use, in bytes. */
  memoryLimit?: number;
  /** Where the app's stdout/stderr go (default: this process's). */
  stdout?: Writable;
  stderr?: Writable;
  /** A wasmtime binary for engine "wasmtime" (default: found like scripts/ensure-wasmtime.sh does). */
  wasmtime?: string;
  /**
   * Run the app in this many worker processes sharing the listeners ("auto": one per core), supervised by this
   * process; run() then resolves with an EventideCluster. Without it, the app runs alone (see docs/embedding.md).
   */
  workers?: number | "auto";
  /** With `workers`: kill a worker whose loop has not turned for this long, in ms (default 5000; 0: never). */
  watchdog?: number;
}

/** Every option run() takes, so that an unknown one (a misspelt `memoryLimt`) is refused instead of ignored. */
const RUN_OPTIONS: Record<keyof RunOptions, true> = {
  listen: true, engine: true, env: true, args: true, dirs: true, memoryLimit: true, stdout: true, stderr: true,
  wasmtime: true, workers: true, watchdog: true,
  maxConnections: true, maxHeaderSize: true, headersTimeout: true, requestTimeout: true, grace: true,
};

/** A running app. Emits 'exit' (code). */
export class EventideApp extends EventEmitter {
  /** The granted addresses, with the ports actually bound. */
  readonly addresses: ListenAddress[];
  readonly engine: EngineName;
  /**
   * Resolves with the exit code when the app ends: its own, or FORCED_STOP_EXIT_CODE (124) after a forced
   * stop. `exitCode` and 'exit' carry the same.
   */
  readonly exited: Promise<number>;
  exitCode: number | undefined;
  /** How stop() ended the app (see StopOutcome); undefined while it runs, or when it ended by itself. */
  stopped: StopOutcome | undefined;
  private stopping: Promise<StopOutcome> | undefined;

  constructor(private readonly running: RunningEngine, engine: EngineName, addresses: ListenAddress[]) {
    super();
    this.engine = engine;
    this.addresses = addresses;
    this.exited = running.exited.then(async (code) => {
      if (this.stopping) this.stopped = await this.stopping;
      if (this.stopped === "forced") code = FORCED_STOP_EXIT_CODE;
      this.exitCode = code;
      this.emit("exit", code);
      return code;
    });
  }

  /**
   * Graceful stop: servers stop accepting, requests in flight finish; after `graceMs` everything is closed.
   * Resolves with the exit code: the app's own when it finished in time, FORCED_STOP_EXIT_CODE (124) when
   * the grace period ran out — and always under wasmtime, which cannot drain (see `stopped`). A second call
   * waits for the first stop.
   */
  stop(graceMs = 5000): Promise<number> {
    this.stopping ??= this.running.stop(graceMs);
    return this.exited;
  }

  /** The app's linear memory in bytes (Node engine only). */
  get memoryBytes(): number | undefined {
    return this.running.memoryBytes();
  }
}

/**
 * An app running in worker processes (run() with `workers`). Emits 'worker-start' (worker), 'worker-ready'
 * (worker), 'worker-exit' (worker, code: number | null, signal: string | null), 'message' (worker, data: string
 * | Buffer) for each message a worker's app sends (eventide/cluster's send), and 'exit' (code). stop() drains
 * every worker; `exited` resolves with 0 after a clean drain, 124 after a forced one, 1 when every worker
 * crashed in a loop.
 */
export class EventideCluster extends EventideApp {
  constructor(private readonly cluster: Cluster, engine: EngineName, addresses: ListenAddress[]) {
    super(cluster, engine, addresses);
    for (const event of ["worker-start", "worker-ready", "worker-exit", "message"]) {
      cluster.on(event, (...args: unknown[]) => this.emit(event, ...args));
    }
  }

  /** The current worker of each slot (id 1…N) that has one: `send(data)`, `id`, `pid`, `engine`, `ready`. */
  get workers(): ClusterWorker[] {
    return this.cluster.workers;
  }

  /**
   * Rolling restart: each worker in turn is replaced (the new one started and ready before the old one drains,
   * killed after `graceMs`). Resolves when every slot has been replaced.
   */
  restart(graceMs = 5000): Promise<void> {
    return this.cluster.restart(graceMs);
  }

  /**
   * Sends a message to every current worker (a string as text, bytes as bytes). Throws EventideError
   * EVENTIDE_E_MESSAGE_TOO_LARGE over 1 MiB (MAX_MESSAGE_BYTES).
   */
  broadcast(data: string | Uint8Array): void {
    this.cluster.broadcast(data);
  }

  /** Kills every worker at once (SIGKILL), as a second SIGINT/SIGTERM does to `eventide run`. */
  kill(): void {
    this.cluster.kill();
  }
}

/**
 * Loads, checks and starts an app. Rejects with an EventideError when it can't start, or (EVENTIDE_E_BAD_FLAG)
 * when `options` has a key RunOptions doesn't.
 */
export async function run(wasmPath: string, options: RunOptions & { workers: number | "auto" }): Promise<EventideCluster>;
export async function run(wasmPath: string, options?: RunOptions): Promise<EventideApp>;
export async function run(wasmPath: string, options: RunOptions = {}): Promise<EventideApp> {
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(RUN_OPTIONS, key));
  if (unknown.length > 0) {
    throw new EventideError("EVENTIDE_E_BAD_FLAG", `run(): unknown option${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}`,
      `use only ${Object.keys(RUN_OPTIONS).join(", ")} (docs/embedding.md)`);
  }
  const engine = options.engine ?? "node";
  if (engine !== "node" && engine !== "wasmtime") {
    throw new EventideError("EVENTIDE_E_BAD_FLAG", `unknown engine '${engine}'`, "use --engine node or --engine wasmtime");
  }
  const addresses = (options.listen ?? []).map((l) => (typeof l === "string" ? parseListen(l) : l));
  const dirs = resolveDirs((options.dirs ?? []).map(parseDir));
  if (engine === "wasmtime") requireMountNamespace(dirs); // before any port is bound
  const path = resolve(wasmPath);
  const env = { ...options.env, ...limitEnv(options) };
  await loadModule(path); // fail on a bad file before binding any port
  if (options.workers !== undefined) {
    const { cluster, addresses: bound } = await startCluster({
      engine, wasmPath: path, addresses, env, args: options.args ?? [], dirs,
      memoryLimit: options.memoryLimit, workers: options.workers, watchdogMs: options.watchdog,
      wasmtime: options.wasmtime, stdout: options.stdout, stderr: options.stderr,
    });
    return new EventideCluster(cluster, engine, bound);
  }
  const engineOptions = {
    wasmPath: path, dirs, env, args: options.args ?? [],
    memoryLimit: options.memoryLimit, stdout: options.stdout, stderr: options.stderr,
  };
  if (engine === "node") {
    const running = await startNodeEngine({ ...engineOptions, listen: addresses }); // it binds them on the app's thread
    return new EventideApp(running, engine, running.addresses);
  }
  // 36–46: bound here and inherited; 47 and newer: bound by the component, which reports the ports.
  const running = await startWasmtimeEngine({ ...engineOptions, listen: addresses, wasmtime: options.wasmtime });
  return new EventideApp(running, engine, running.addresses);
}

