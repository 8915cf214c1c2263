// Starting a cluster from run()'s options: hold the listeners, then start and supervise the workers.
import { availableParallelism } from "node:os";
import type { Writable } from "node:stream";
import { EventideError } from "../errors.js";
import type { AppOptions } from "../engines/engine.js";
import { findWasmtime, runsComponent, wasmtimeMajor } from "../engines/wasmtime.js";
import type { ListenAddress, ListenTarget } from "../listeners.js";
import { holdListeners } from "./hold.js";
import { Cluster } from "./supervisor.js";
import type { EngineName } from "../index.js";

export const DEFAULT_WATCHDOG_MS = 5000;

export interface ClusterStartOptions extends AppOptions {
  engine: EngineName;
  addresses: ListenTarget[];
  workers: number | "auto";
  watchdogMs?: number;
  wasmtime?: string;
  stdout?: Writable;
  stderr?: Writable;
}

/** A worker count: a positive integer, or "auto" (os.availableParallelism()). Throws EVENTIDE_E_BAD_FLAG. */
export function workerCount(workers: number | string): number {
  if (workers === "auto") return availableParallelism();
  const n = typeof workers === "number" ? workers : /^\d+$/.test(workers) ? Number(workers) : NaN;
  if (!Number.isInteger(n) || n < 1) {
    throw new EventideError("EVENTIDE_E_BAD_FLAG", `--workers ${workers} is not a number of workers`,
      "use --workers N (1 or more) or --workers auto (one per core)");
  }
  return n;
}

/** Binds the listeners, starts the workers, and resolves once each is ready or its slot gave up. */
export async function startCluster(options: ClusterStartOptions): Promise<{ cluster: Cluster; addresses: ListenAddress[] }> {
  const workers = workerCount(options.workers);
  const watchdogMs = options.watchdogMs ?? DEFAULT_WATCHDOG_MS;
  if (!Number.isFinite(watchdogMs) || watchdogMs < 0) {
    throw new EventideError("EVENTIDE_E_BAD_FLAG", `--watchdog ${watchdogMs} is not a time`,
      "use --watchdog MS (milliseconds without a heartbeat; 0 turns the watchdog off), e.g. --watchdog 5000");
  }
  const wasmtime = options.engine === "wasmtime" ? findWasmtime(options.wasmtime) : "";
  if (wasmtime && runsComponent(wasmtime)) {
    // A component can't be handed a listener, and a second process can't bind the port the first one holds.
    throw new EventideError("EVENTIDE_E_BAD_FLAG",
      `--workers needs wasmtime 36–46 (${wasmtime} is wasmtime ${wasmtimeMajor(wasmtime)}, whose WASI 0.2 apps can't share a listening socket)`,
      "run one eventide process per port, or several replicas behind a load balancer; or use --engine node " +
      "or a wasmtime 36–46 (EVENTIDE_WASMTIME) with --workers");
  }
  const held = await holdListeners(options.addresses);
  const stderr = options.stderr ?? process.stderr;
  const cluster = new Cluster({
    workers, watchdogMs, held, log: (line) => stderr.write(line + "\n"),
    template: {
      engine: options.engine, wasmPath: options.wasmPath, listeners: held.listeners, env: options.env,
      args: options.args, dirs: options.dirs, memoryLimit: options.memoryLimit, wasmtime,
      stdout: options.stdout ?? process.stdout, stderr,
    },
  });
  try {
    await cluster.start();
  } catch (err) {
    cluster.kill();
    await held.release();
    throw err;
  }
  return { cluster, addresses: held.listeners.map((l) => l.address) };
}
