// What the Node engine's two threads say to each other (engines/node.ts on the main thread, node/worker.ts on
// the guest's thread). Everything here crosses by structured clone (Node's worker_threads docs).
import type { ListenAddress, ListenTarget } from "../../listeners.js";
import type { DirGrant } from "../engine.js";

/** The guest's thread's `workerData`. */
export interface WorkerSetup {
  /** Compiled once on the main thread (and cached there); a Module crosses threads without recompiling. */
  module: WebAssembly.Module;
  /** The app's argv[0]. */
  name: string;
  listen: ListenTarget[];
  /** A cluster worker's control listener: granted to the guest, named in EVENTIDE_CONTROL, not EVENTIDE_LISTEN. */
  control?: ListenTarget;
  env: Record<string, string>;
  args: string[];
  dirs: DirGrant[];
  /** Whether the app's stdout/stderr come to the main thread as Output messages, or go straight to fds 1 and 2. */
  forwardStdout: boolean;
  forwardStderr: boolean;
  /** One Int32: the guest's linear memory in 64 KiB pages, stored after every guest call. */
  memoryPages: SharedArrayBuffer;
}

/** From the guest's thread, in this order: Output*, then Failed, or Started and (eventually) Exit. */
export type WorkerMessage =
  /** The app wrote to stdout (fd 1) or stderr (fd 2). */
  | { type: "output"; fd: 1 | 2; chunk: Uint8Array }
  /** A listener could not be bound: run() rejects with this EventideError. The thread then ends. */
  | { type: "failed"; code: string; message: string; fix: string }
  /** The listeners are bound and the app's script has run (or ended it: an Exit message came first). */
  | { type: "started"; addresses: ListenAddress[] }
  /** The app ended; `error`, when set, is the line to print (a trap). Its sockets are closed already. */
  | { type: "exit"; code: number; error?: string };

/** From the main thread: begin a graceful stop (the guest's `eventide_stop`). */
export type MainMessage = { type: "stop" };
