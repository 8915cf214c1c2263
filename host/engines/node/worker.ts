// The guest's thread of the Node engine (a worker_threads Worker started by engines/node.ts): the listeners, the
// socket shim, node:wasi, the module instance and the tick driver all live here, so a guest that never returns
// holds only this thread; the main thread can still stop it (worker.terminate()).
//
// The app runs in tick mode: eventide_tick is called once per turn of this thread's loop in which a socket had
// news, or when the app's next timer is due. This thread's loop is never blocked by the host.
import { Writable } from "node:stream";
import { parentPort, workerData } from "node:worker_threads";
import { SocketShim, GuestExit } from "../../shim.js";
import { FsSandbox } from "./fs-sandbox.js";
import { bindListeners, listenEnv, type BoundListener } from "../../listeners.js";
import { EventideError } from "../../errors.js";
import type { MainMessage, WorkerMessage, WorkerSetup } from "./messages.js";

const TICK_DONE = -1n;
const PAGE = 65536;

interface GuestExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  eventide_tick(): bigint;
  eventide_exit_code(): number;
  eventide_stop(): void;
}

type WasiClass = typeof import("node:wasi").WASI;

/** node:wasi, without the ExperimentalWarning Node 20 prints when it loads. */
async function loadWasi(): Promise<WasiClass> {
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
}

const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);

/** A stream whose writes become Output messages (the main thread writes them to the embedder's Writable). */
function forward(fd: 1 | 2): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      // A copy of its own, moved rather than cloned: a small Buffer is a view on an 8 KiB pool, which a clone copies whole.
      const own = new Uint8Array(chunk);
      port.postMessage({ type: "output", fd, chunk: own } satisfies WorkerMessage, [own.buffer]);
      done();
    },
  });
}

class Guest {
  private exports!: GuestExports;
  private readonly shim: SocketShim;
  private readonly pages: Int32Array;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private done = false;

  constructor(private readonly setup: WorkerSetup, private readonly listeners: BoundListener[], private readonly control?: BoundListener) {
    this.pages = new Int32Array(setup.memoryPages);
    this.shim = new SocketShim({
      wake: () => this.schedule(),
      stdout: setup.forwardStdout ? forward(1) : undefined,
      stderr: setup.forwardStderr ? forward(2) : undefined,
    });
  }

  /** Instantiates the module and runs the app's script (`_initialize`). */
  start(WASI: WasiClass): void {
    const { setup } = this;
    const fds = this.listeners.map((l) => this.shim.addListener(l.server));
    const env: Record<string, string> = { ...setup.env, EVENTIDE_LISTEN: listenEnv(this.listeners, fds) };
    if (this.control) env.EVENTIDE_CONTROL = String(this.shim.addListener(this.control.server));
    const fs = new FsSandbox(setup.dirs);
    const wasi = new WASI({ version: "preview1", args: [setup.name, ...setup.args], env, preopens: fs.preopens, returnOnExit: true });
    const instance = new WebAssembly.Instance(setup.module, {
      wasi_snapshot_preview1: this.shim.imports(fs.imports(wasi.wasiImport as Record<string, (...args: any[]) => any>)),
    });
    this.exports = instance.exports as unknown as GuestExports;
    this.shim.bindMemory(this.exports.memory);
    fs.bindMemory(this.exports.memory);
    // node:wasi refuses modules exporting both _start and _initialize; it only needs these two.
    this.guard(() => wasi.initialize({ exports: { memory: this.exports.memory, _initialize: this.exports._initialize } }));
    this.schedule();
  }

  stop(): void {
    if (this.done) return;
    this.guard(() => this.exports.eventide_stop());
    this.schedule();
  }

  /** Coalesces wake-ups: one tick per turn of the loop, however many sockets spoke. */
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
    const next = this.guard(() => this.exports.eventide_tick());
    if (this.done || next === undefined) return;
    if (next === TICK_DONE) this.finish(this.exports.eventide_exit_code());
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

  /** Runs a guest call; an exit or a trap ends the app. Publishes the memory size the call left. */
  private guard<T>(call: () => T): T | undefined {
    try {
      return call();
    } catch (err) {
      if (err instanceof GuestExit) this.finish(err.code);
      else this.finish(1, new EventideError("EVENTIDE_E_GUEST_TRAP", `the app trapped: ${(err as Error).message}${wasmBacktrace(err as Error)}`,
        "this is a bug in the app (or in Eventide): the message above says where").message);
      return undefined;
    } finally {
      Atomics.store(this.pages, 0, this.exports.memory.buffer.byteLength / PAGE);
    }
  }

  private finish(code: number, error?: string): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.shim.closeAll(); // closes the listeners too: a connection after this is refused
    post({ type: "exit", code, error });
    port.unref(); // nothing more to wait for from the main thread: the thread ends once its sockets are closed
  }
}

/**
 * A trap's wasm frames from V8's stack, innermost first, numbered as wasmtime prints its backtrace: the function's
 * name where the build has a name section (eventide build --debug), else its index, and the code offset.
 */
function wasmBacktrace(err: Error): string {
  const frames: string[] = [];
  // V8: "at NAME (wasm://wasm/HASH:wasm-function[N]:0xOFF)", or without a name "at wasm://wasm/HASH:wasm-function[N]:0xOFF".
  for (const m of (err.stack ?? "").matchAll(/^\s*at (?:(.+?) \()?wasm:\/\/wasm\/[^:]*:wasm-function\[(\d+)\]:(0x[0-9a-f]+)\)?$/gm)) {
    frames.push(`    ${frames.length}: ${m[3].padStart(8)} - ${m[1] ?? `<wasm function ${m[2]}>`}`);
  }
  return frames.length ? `\n  wasm backtrace:\n${frames.join("\n")}` : "";
}

async function main(setup: WorkerSetup): Promise<void> {
  const WASI = loadWasi(); // loads while the listeners are bound
  let listeners: BoundListener[];
  try {
    listeners = await bindListeners(setup.control ? [...setup.listen, setup.control] : setup.listen);
  } catch (err) {
    if (!(err instanceof EventideError)) throw err;
    // An Error crosses threads as its message alone; EventideError's message ends with its fix, sent apart.
    const message = err.fix ? err.message.slice(0, err.message.lastIndexOf("\n  fix: ")) : err.message;
    post({ type: "failed", code: err.code, message, fix: err.fix });
    return;
  }
  const control = setup.control ? listeners.pop() : undefined;
  const guest = new Guest(setup, listeners, control);
  port.on("message", (message: MainMessage) => {
    if (message.type === "stop") guest.stop();
  });
  guest.start(await WASI);
  post({ type: "started", addresses: listeners.map((l) => l.address) });
}

void main(workerData as WorkerSetup);
