// The Node engine: the module runs in this process over host/shim.ts, driven by eventide_tick whenever a
// socket event arrives or the guest's next timer is due. Node's event loop is never blocked.
import { basename } from "node:path";
import { SocketShim, GuestExit } from "../shim.js";
import { FsSandbox } from "./node/fs-sandbox.js";
import { memoryCap, MemoryLimitTooLow } from "./node/memory-limit.js";
import { loadModule } from "../module.js";
import { listenEnv } from "../listeners.js";
import { EventideError } from "../errors.js";
import { normalizeExitCode, type EngineOptions, type RunningEngine, type StopOutcome } from "./engine.js";

const TICK_DONE = -1n;

type WasiClass = typeof import("node:wasi").WASI;
let wasiClass: Promise<WasiClass> | undefined;

/** node:wasi, without the ExperimentalWarning Node 20 prints when it loads. */
function loadWasi(): Promise<WasiClass> {
  wasiClass ??= (async () => {
    const emit = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      if (String((warning as Error)?.message ?? warning).includes("WASI is an experimental feature")) return;
      return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    try {
      return (await import("node:wasi")).WASI;
    } finally {
      process.emitWarning = emit;
    }
  })();
  return wasiClass;
}

interface GuestExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  eventide_tick(): bigint;
  eventide_exit_code(): number;
  eventide_stop(): void;
}

export async function startNodeEngine(options: EngineOptions): Promise<RunningEngine> {
  const engine = new NodeEngine(options);
  await engine.start();
  return engine;
}

class NodeEngine implements RunningEngine {
  readonly exited: Promise<number>;
  private resolveExit!: (code: number) => void;
  private guest!: GuestExports;
  private shim: SocketShim;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private done = false;

  constructor(private readonly options: EngineOptions) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.shim = new SocketShim({ wake: () => this.schedule(), stdout: options.stdout, stderr: options.stderr });
  }

  async start(): Promise<void> {
    const { options } = this;
    const limit = options.memoryLimit;
    let module: WebAssembly.Module;
    try {
      module = await loadModule(options.wasmPath, limit === undefined ? undefined : memoryCap(limit));
    } catch (err) {
      if (!(err instanceof MemoryLimitTooLow)) throw err;
      this.fail(new EventideError("EVENTIDE_E_MEMORY_LIMIT", err.message, "raise the memory limit"));
      return;
    }
    const WASI = await loadWasi();
    const fds = options.listeners.map((l) => this.shim.addListener(l.server));
    const env = { ...options.env, EVENTIDE_LISTEN: listenEnv(options.listeners, fds) };
    const fs = new FsSandbox(options.dirs);
    const wasi = new WASI({ version: "preview1", args: [basename(options.wasmPath), ...options.args], env, preopens: fs.preopens, returnOnExit: true });
    const instance = new WebAssembly.Instance(module, {
      wasi_snapshot_preview1: this.shim.imports(fs.imports(wasi.wasiImport as Record<string, (...args: any[]) => any>)),
    });
    this.guest = instance.exports as unknown as GuestExports;
    this.shim.bindMemory(this.guest.memory);
    fs.bindMemory(this.guest.memory);
    // node:wasi refuses modules exporting both _start and _initialize; it only needs these two.
    this.guard(() => wasi.initialize({ exports: { memory: this.guest.memory, _initialize: this.guest._initialize } }));
    this.schedule();
  }

  memoryBytes(): number | undefined {
    return this.guest?.memory.buffer.byteLength;
  }

  stop(graceMs: number): Promise<StopOutcome> {
    let forced = false;
    if (!this.done) {
      this.guard(() => this.guest.eventide_stop());
      this.schedule();
      const force = setTimeout(() => {
        if (this.done) return;
        forced = true;
        this.finish(this.guest.eventide_exit_code());
      }, graceMs);
      force.unref();
      this.exited.finally(() => clearTimeout(force));
    }
    return this.exited.then(() => (forced ? "forced" : "graceful"));
  }

  /** Coalesces wake-ups: one tick per turn of Node's loop, however many sockets spoke. */
  private schedule(): void {
    if (this.scheduled || this.done) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.tick();
    });
  }

  private tick(): void {
    if (this.done) return;
    const next = this.guard(() => this.guest.eventide_tick());
    if (this.done || next === undefined) return;
    if (next === TICK_DONE) this.finish(this.guest.eventide_exit_code());
    else if (next === 0n || this.shim.stillReady()) this.schedule();
    if (next > 0n) this.wakeIn(Math.ceil(Number(next) / 1e6));
    // -2 (idle): only a socket event can wake the app; the shim calls schedule(). A timer already set
    // stays: waking early costs one tick.
  }

  /**
   * Arms the timer for the guest's next deadline. Busy apps tick thousands of times a second with the same
   * far deadline (a keep-alive timeout), so a timer due no later than asked is kept rather than re-created.
   */
  private wakeIn(ms: number): void {
    const due = performance.now() + ms;
    if (this.timer !== undefined && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, ms);
  }

  /** Runs a guest call; an exit or a trap ends the app. */
  private guard<T>(call: () => T): T | undefined {
    try {
      return call();
    } catch (err) {
      if (err instanceof GuestExit) this.finish(err.code);
      else this.fail(new EventideError("EVENTIDE_E_GUEST_TRAP", `the app trapped: ${(err as Error).message}`,
        "this is a bug in the app (or in Eventide): the message above says where"));
      return undefined;
    }
  }

  private fail(err: EventideError): void {
    (this.options.stderr ?? process.stderr).write(`eventide: ${err.message}\n`);
    this.finish(1);
  }

  private finish(code: number): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.shim.closeAll();
    for (const l of this.options.listeners) l.server.close();
    this.resolveExit(normalizeExitCode(code));
  }
}
