// The Node engine: the module runs in this process over host/shim.ts, on a thread of its own (a worker_threads
// Worker running engines/node/worker.ts, which binds the listeners and drives the guest). This thread only
// starts it, relays stop() and the app's output, and learns how it ended — so it can still act when the guest
// never returns (a handler in an endless loop): after the grace period, worker.terminate() ends the guest even
// in the middle of its wasm code.
import { basename } from "node:path";
import { Worker } from "node:worker_threads";
import { memoryCap, MemoryLimitTooLow } from "./node/memory-limit.js";
import { loadModule } from "../module.js";
import { EventideError, type EventideErrorCode } from "../errors.js";
import type { ListenAddress, ListenTarget } from "../listeners.js";
import { FORCED_STOP_EXIT_CODE, normalizeExitCode, type EngineOptions, type RunningEngine, type StopOutcome } from "./engine.js";
import type { MainMessage, WorkerMessage, WorkerSetup } from "./node/messages.js";

const PAGE = 65536;
/** The guest's thread, as bundled beside this file's chunk (rollup.config.mjs). */
const WORKER_ENTRY = new URL("./engines/node-worker.js", import.meta.url);

/** The Node engine's options: where to listen instead of listeners bound here (they are bound on the guest's thread). */
export type NodeEngineOptions = Omit<EngineOptions, "listeners"> & {
  listen: ListenTarget[];
  /**
   * A cluster worker's control listener (docs/architecture.md, the control channel), usually an inherited fd:
   * granted to the guest like the others, but named in EVENTIDE_CONTROL instead of EVENTIDE_LISTEN.
   */
  control?: ListenTarget;
};

export interface RunningNodeEngine extends RunningEngine {
  /** The listeners' addresses, with the ports actually bound (port 0 → the one picked). */
  readonly addresses: ListenAddress[];
}

/**
 * Starts the app: binds `listen` (rejecting with EventideError EVENTIDE_E_ADDR_IN_USE or EVENTIDE_E_LISTEN, and
 * as loadModule does for the file) and runs its script; resolves once both are done, or once the app ended
 * doing so (then `exited` tells how).
 */
export async function startNodeEngine(options: NodeEngineOptions): Promise<RunningNodeEngine> {
  const limit = options.memoryLimit;
  let module: WebAssembly.Module;
  try {
    module = await loadModule(options.wasmPath, limit === undefined ? undefined : memoryCap(limit));
  } catch (err) {
    if (!(err instanceof MemoryLimitTooLow)) throw err;
    const error = new EventideError("EVENTIDE_E_MEMORY_LIMIT", err.message, "raise the memory limit");
    report(options, error.message);
    return { addresses: [], exited: Promise.resolve(1), stop: () => Promise.resolve("graceful"), memoryBytes: () => undefined };
  }
  const engine = new NodeEngine(options, module);
  await engine.started;
  return engine;
}

/**
 * This process's Node options for the guest's thread, less --input-type: it describes the main entry (e.g.
 * `node --input-type=module -e …`), and Node refuses to load a worker's file entry under it.
 */
function workerExecArgv(): string[] {
  const args = process.execArgv;
  return args.filter((a, i) => !a.startsWith("--input-type") && args[i - 1] !== "--input-type");
}

/** Writes one line of the engine's own to the app's stderr. */
function report(options: NodeEngineOptions, line: string): void {
  (options.stderr ?? process.stderr).write(`eventide: ${line}\n`);
}

class NodeEngine implements RunningNodeEngine {
  /** Set once the listeners are bound and the app's script has run. */
  addresses!: ListenAddress[];
  readonly started: Promise<void>;
  readonly exited: Promise<number>;
  private resolveExit!: (code: number) => void;
  private readonly worker: Worker;
  private readonly pages = new Int32Array(new SharedArrayBuffer(4));
  private ended = false;
  private forced = false;

  constructor(private readonly options: NodeEngineOptions, module: WebAssembly.Module) {
    const setup: WorkerSetup = {
      module, name: basename(options.wasmPath), listen: options.listen, control: options.control, env: options.env, args: options.args,
      dirs: options.dirs, forwardStdout: options.stdout !== undefined, forwardStderr: options.stderr !== undefined,
      memoryPages: this.pages.buffer as SharedArrayBuffer,
    };
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.worker = new Worker(WORKER_ENTRY, { workerData: setup, execArgv: workerExecArgv() });
    this.started = new Promise((resolve, reject) => {
      this.worker.on("message", (message: WorkerMessage) => {
        switch (message.type) {
          case "output":
            (message.fd === 1 ? options.stdout : options.stderr)!.write(message.chunk);
            break;
          case "failed":
            reject(new EventideError(message.code as EventideErrorCode, message.message, message.fix));
            break;
          case "started":
            this.addresses = message.addresses;
            resolve();
            break;
          case "exit":
            if (message.error) report(options, message.error);
            this.end(message.code);
            break;
        }
      });
      this.worker.on("error", (err) => {
        // Before "started", run() rejects with it; after, this line is all that tells why the app ended.
        if (this.addresses) report(options, `the Node engine's thread failed: ${err.stack ?? err.message}`);
        reject(err);
      });
      this.worker.on("exit", () => {
        // A no-op after an exit message; without one, the app was stopped by force, or the engine failed.
        this.end(this.forced ? FORCED_STOP_EXIT_CODE : 1);
        reject(new Error("the Node engine's thread ended before the app started"));
      });
    });
  }

  /** Relays the stop to the guest's thread; after `graceMs` without an exit, ends that thread ("forced"). */
  stop(graceMs: number): Promise<StopOutcome> {
    if (!this.ended) {
      this.worker.postMessage({ type: "stop" } satisfies MainMessage);
      const force = setTimeout(() => {
        if (this.ended) return;
        this.forced = true;
        void this.worker.terminate(); // interrupts the guest even inside a loop that never calls out
      }, graceMs);
      force.unref();
      this.exited.finally(() => clearTimeout(force));
    }
    return this.exited.then(() => (this.forced ? "forced" : "graceful"));
  }

  memoryBytes(): number {
    return Atomics.load(this.pages, 0) * PAGE;
  }

  private end(code: number): void {
    if (this.ended) return;
    this.ended = true;
    this.resolveExit(normalizeExitCode(code));
  }
}
