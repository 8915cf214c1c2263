// One worker process of a cluster (docs/architecture.md, "Workers"): wasmtime, or Node running the Node engine,
// given the cluster's listening sockets and a control channel of its own.
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import type { Writable } from "node:stream";
import type { AppOptions } from "../engines/engine.js";
import type { EngineName } from "../index.js";
import { wasmtimeLaunch } from "../engines/wasmtime.js";
import { withMounts } from "../engines/wasmtime-mounts.js";
import type { HeldListener } from "./hold.js";
import { ControlChannel, openControlListener, serverFd } from "./control.js";
import { encodeFrame, encodeMessage, FrameType, type Frame } from "./protocol.js";
import type { NodeWorkerSetup } from "./node-worker.js";

/** What every worker of a cluster shares. */
export interface WorkerTemplate extends AppOptions {
  engine: EngineName;
  listeners: HeldListener[];
  /** The wasmtime binary (engine "wasmtime"). */
  wasmtime: string;
  stdout: Writable;
  stderr: Writable;
}

/** The Node worker process's entry, as bundled beside this file's chunk (rollup.config.mjs). */
const NODE_WORKER_ENTRY = new URL("./cluster/node-worker.js", import.meta.url);

/**
 * A worker process. Emits 'ready' once its app listens (READY), 'message' (data: string | Buffer) for each
 * message it sends, and 'exit' (code: number | null, signal: string | null) once, when the process has ended.
 */
export class ClusterWorker extends EventEmitter {
  /** 1…N; a replacement keeps the id of the worker it replaces. */
  readonly id: number;
  readonly engine: EngineName;
  readonly pid: number;
  ready = false;
  /** Told to STOP: it serves what it has and takes nothing new. */
  draining = false;
  /** When the last frame came (performance.now(), ms): the watchdog's clock. */
  lastFrameAt = 0;
  /** When READY came (performance.now(), ms). */
  readyAt = 0;
  /** Its open connections, as its latest HEARTBEAT said. */
  connections = 0;
  /** The last error the worker wrote to stderr (a trap's or an abort's message), without what follows it. */
  lastError = "";
  exitCode: number | null = null;
  signalCode: string | null = null;
  private readonly child: ChildProcess;
  private readonly channel: ControlChannel;

  constructor(id: number, template: WorkerTemplate, child: ChildProcess, channel: ControlChannel) {
    super();
    this.id = id;
    this.engine = template.engine;
    this.child = child;
    this.pid = child.pid ?? 0;
    this.channel = channel;
    child.stdout!.pipe(template.stdout, { end: false });
    child.stderr!.on("data", (chunk: Buffer) => {
      template.stderr.write(chunk);
      this.noteError(chunk.toString("utf8"));
    });
    channel.on("frame", (frame: Frame) => this.onFrame(frame));
    // A broken channel (a frame over the limit): the worker can no longer be stopped or heard, so it is ended.
    channel.on("close", (broken?: string) => {
      if (!broken) return;
      this.lastError = broken;
      this.kill();
    });
    child.on("close", (code, signal) => this.ended(code, signal));
    child.on("error", (err) => {
      this.lastError = err.message; // it could not be started (or signalled)
      if (child.pid === undefined) this.ended(1, null);
    });
  }

  get alive(): boolean {
    return this.exitCode === null && this.signalCode === null;
  }

  /**
   * Sends a message (a string as UTF-8 text, bytes as bytes; the guest's cluster.on('message')). Throws
   * EventideError EVENTIDE_E_MESSAGE_TOO_LARGE over MAX_MESSAGE_BYTES; false once the worker is gone.
   */
  send(data: string | Uint8Array): boolean {
    return this.channel.send(encodeMessage(data));
  }

  /** Graceful drain (STOP): servers stop accepting, work in flight finishes, the process exits. */
  stop(): void {
    this.draining = true;
    if (!this.channel.send(encodeFrame(FrameType.STOP))) this.kill();
  }

  /** Tells the worker its share of the cluster's open connections (BALANCE; see docs/architecture.md). */
  balance(share: number): void {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(share, 0);
    this.channel.send(encodeFrame(FrameType.BALANCE, payload));
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.alive) this.child.kill(signal);
  }

  private ended(code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.alive) return;
    this.channel.close();
    this.exitCode = code;
    this.signalCode = signal;
    this.emit("exit", code, signal);
  }

  private onFrame(frame: Frame): void {
    this.lastFrameAt = performance.now();
    if (frame.type === FrameType.READY && !this.ready) {
      this.ready = true;
      this.readyAt = this.lastFrameAt;
      this.emit("ready");
    } else if (frame.type === FrameType.HEARTBEAT && frame.payload.length === 4) {
      this.connections = frame.payload.readUInt32BE(0);
    } else if (frame.type === FrameType.MESSAGE_TEXT) {
      this.emit("message", frame.payload.toString("utf8"));
    } else if (frame.type === FrameType.MESSAGE_BYTES) {
      this.emit("message", Buffer.from(frame.payload));
    }
  }

  private noteError(text: string): void {
    const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !AFTER_THE_ERROR.test(l));
    // wasmtime numbers the causes of an error ("2: wasm trap: …"); the Node engine prefixes its own lines.
    if (lines.length) this.lastError = lines[lines.length - 1].replace(/^\d+: /, "").replace(/^eventide: /, "");
  }
}

/**
 * The lines that follow an error's own line on stderr: the engine's "fix:" hint, an abort's source position
 * ("at file:line:column"), a wasm backtrace's heading and its numbered frames (wasmtime's and the Node engine's).
 */
const AFTER_THE_ERROR = /^(fix:|at |wasm backtrace:$|\d+: +0x[0-9a-f]+ - )/;

/** Starts worker `id`: its process, then the control channel to it (HELLO sent; READY comes later). */
export async function startWorker(id: number, template: WorkerTemplate): Promise<ClusterWorker> {
  const control = await openControlListener();
  const controlFd = serverFd(control.server);
  const env = { ...template.env, EVENTIDE_WORKER_ID: String(id) };
  let child: ChildProcess;
  try {
    if (template.engine === "wasmtime") {
      const launch = wasmtimeLaunch({ ...template, env }, template.listeners, { fd: controlFd, token: control.token });
      child = spawnWorker(...withMounts(template.wasmtime, launch.args, template.dirs), launch.fds, launch.env);
    } else {
      const { wasmPath, args, dirs, memoryLimit } = template;
      const setup: NodeWorkerSetup = {
        wasmPath, args, dirs, memoryLimit, env: { ...env, EVENTIDE_CONTROL_TOKEN: control.token },
        listeners: template.listeners.length,
      };
      // libuv then accepts one connection per wake-up, so a sibling that is polling gets the next one.
      const childEnv = { ...process.env, UV_TCP_SINGLE_ACCEPT: "1" };
      child = spawnWorker(process.execPath, [...process.execArgv, NODE_WORKER_ENTRY.pathname, JSON.stringify(setup)],
        [...template.listeners.map((l) => l.fd), controlFd], childEnv);
    }
  } finally {
    // The child holds its own copy now; ours must not accept (it would drop) what is meant for the worker.
    control.server.close();
  }
  return new ClusterWorker(id, template, child, ControlChannel.connect(control.port, control.token));
}

/**
 * A worker leads a process group of its own, so a terminal's Ctrl-C (SIGINT to the foreground group) reaches only
 * the primary, which then drains the workers over their channels.
 */
function spawnWorker(command: string, args: string[], fds: number[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(command, args, { stdio: ["ignore", "pipe", "pipe", ...fds], env, detached: true });
}
