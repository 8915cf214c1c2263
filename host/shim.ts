// The WASI preview1 socket layer for running an Eventide module inside Node. node:wasi has no sockets and
// its poll_oneoff can't wait on them, so this supplies sock_*, poll_oneoff and the socket side of fd_*
// from Node's own event loop, and delegates every other call to node:wasi. poll_oneoff never blocks: the
// guest runs in tick mode and the host calls back in when a socket event arrives (see engines/node.ts).
import type { Server, Socket } from "node:net";
import type { Writable } from "node:stream";
import { Errno as E, errnoFromCode } from "./abi.js";

/** Something to wait on for a millisecond (Atomics.wait), between retries of a console write. */
const pause = new Int32Array(new SharedArrayBuffer(4));

/** The errors a Node socket reports that the guest is told by name; any other reads as EIO. */
const SOCKET_ERROR_CODES = new Set(["ECONNRESET", "EPIPE", "ENOTCONN", "ECONNABORTED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
const FILETYPE_SOCKET_STREAM = 6;
const FDFLAGS_NONBLOCK = 4;
const SDFLAGS_WR = 2;
const EVENTTYPE_CLOCK = 0;
const EVENTTYPE_FD_READ = 1;
const EVENTTYPE_FD_WRITE = 2;
const EVENT_FD_READWRITE_HANGUP = 1;
const SUBSCRIPTION_SIZE = 48;
const EVENT_SIZE = 32;
/** Socket fds live far above node:wasi's (preopens from 3, files after), so the two tables never collide. */
export const FIRST_SOCKET_FD = 0x10000;
/** Bytes buffered per connection before the Node socket is paused for the guest to catch up. */
const READ_HIGH_WATER_MARK = 64 * 1024;

/** Thrown through the guest's stack by proc_exit; the engine catches it around every guest call. */
export class GuestExit extends Error {
  constructor(readonly code: number) {
    super(`guest exited with ${code}`);
  }
}

interface StreamEntry {
  kind: "stream";
  socket: Socket;
  chunks: Buffer[];
  buffered: number;
  ended: boolean;
  errno: number;
}

interface ListenerEntry {
  kind: "listener";
  server: Server;
  pending: Socket[];
}

type Entry = StreamEntry | ListenerEntry;

export interface ShimOptions {
  /** Called (possibly many times per turn) whenever the guest may have something to do. */
  wake(): void;
  stdout?: Writable;
  stderr?: Writable;
}

type WasiImports = Record<string, (...args: any[]) => any>;

export class SocketShim {
  private readonly entries = new Map<number, Entry>();
  /** What the last poll reported ready, as fd * 4 + type (reused: poll runs on every tick). */
  private reported: number[] = [];
  private reportedCount = 0;
  /** The readiness found by readiness(), reused for every subscription. */
  private readonly ready = { errno: 0, nbytes: 0, hangup: false };
  private readonly fds = new FdNumbers(FIRST_SOCKET_FD);
  private memory: WebAssembly.Memory | null = null;
  private view = new DataView(new ArrayBuffer(0));
  private bytes = new Uint8Array(0);

  constructor(private readonly options: ShimOptions) {}

  bindMemory(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  /** Grants a listening server to the guest; returns its fd. */
  addListener(server: Server): number {
    const fd = this.fds.take();
    const entry: ListenerEntry = { kind: "listener", server, pending: [] };
    server.on("connection", (socket: Socket) => {
      // Until the guest accepts it, a reset must not become an unhandled 'error'; accept() reads the state.
      socket.on("error", () => {});
      entry.pending.push(socket);
      this.options.wake();
    });
    this.entries.set(fd, entry);
    return fd;
  }

  /** Closes every socket and listener (the app is gone). */
  closeAll(): void {
    for (const entry of this.entries.values()) {
      if (entry.kind === "stream") entry.socket.destroy();
      else {
        entry.server.close();
        for (const s of entry.pending) s.destroy();
      }
    }
    this.entries.clear();
  }

  get openSockets(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.kind === "stream") n++;
    return n;
  }

  /** node:wasi's imports with the socket, poll and stdio calls replaced. */
  imports(base: WasiImports): WasiImports {
    const self = this;
    const delegate = (name: string, fallback: number) => base[name] ?? (() => fallback);
    const fdClose = delegate("fd_close", E.BADF);
    const fdFdstatGet = delegate("fd_fdstat_get", E.BADF);
    const fdFdstatSetFlags = delegate("fd_fdstat_set_flags", E.BADF);
    const fdWrite = delegate("fd_write", E.BADF);
    // stdout and stderr as this process inherited them may be non-blocking pipes (Node makes them so), and a
    // full pipe answers EAGAIN, which the guest's console takes as fatal: the write waits for the reader
    // instead, as it does under wasmtime.
    const consoleWrite = (fd: number, iovs: number, iovsLen: number, out: number): number => {
      for (;;) {
        const result = fdWrite(fd, iovs, iovsLen, out);
        if (result !== E.AGAIN || (fd !== 1 && fd !== 2)) return result;
        Atomics.wait(pause, 0, 0, 1);
      }
    };
    // Wasm hands i32 arguments to JavaScript as signed numbers; pointers, lengths and counts are u32 (>>> 0).
    return {
      ...base,
      sock_accept: (fd: number, _flags: number, fdOut: number) => self.accept(fd, fdOut >>> 0),
      sock_recv: (fd: number, iovs: number, iovsLen: number, _flags: number, lenOut: number, flagsOut: number) =>
        self.recv(fd, iovs >>> 0, iovsLen >>> 0, lenOut >>> 0, flagsOut >>> 0),
      sock_send: (fd: number, iovs: number, iovsLen: number, _flags: number, lenOut: number) =>
        self.send(fd, iovs >>> 0, iovsLen >>> 0, lenOut >>> 0),
      sock_shutdown: (fd: number, how: number) => self.shutdown(fd, how),
      poll_oneoff: (subs: number, events: number, count: number, countOut: number) =>
        self.poll(subs >>> 0, events >>> 0, count >>> 0, countOut >>> 0),
      fd_close: (fd: number) => (self.entries.has(fd) ? self.close(fd) : fdClose(fd)),
      fd_fdstat_get: (fd: number, out: number) => (self.entries.has(fd) ? self.fdstat(fd, out >>> 0) : fdFdstatGet(fd, out)),
      fd_fdstat_set_flags: (fd: number, flags: number) => (self.entries.has(fd) ? E.SUCCESS : fdFdstatSetFlags(fd, flags)),
      fd_write: (fd: number, iovs: number, iovsLen: number, out: number) => {
        const target = fd === 1 ? self.options.stdout : fd === 2 ? self.options.stderr : undefined;
        if (self.entries.has(fd)) return self.send(fd, iovs >>> 0, iovsLen >>> 0, out >>> 0);
        if (!target) return consoleWrite(fd, iovs, iovsLen, out);
        return self.writeTo(target, iovs >>> 0, iovsLen >>> 0, out >>> 0);
      },
      proc_exit: (code: number) => {
        throw new GuestExit(code);
      },
    };
  }

  // ---- guest memory, checked at the boundary ----

  private refresh(): void {
    const buffer = this.memory!.buffer;
    if (this.bytes.buffer !== buffer) {
      this.view = new DataView(buffer);
      this.bytes = new Uint8Array(buffer);
    }
  }

  /** Whether [ptr, ptr + len) lies inside memory; ptr and len are u32s (a count times a size may exceed one). */
  private inBounds(ptr: number, len: number): boolean {
    return ptr + len <= this.bytes.length;
  }

  /** Total length of the iovecs at `iovs`, or -1 if the list or any buffer lies outside memory. */
  private iovecsLength(iovs: number, count: number): number {
    this.refresh();
    if (!this.inBounds(iovs, count * 8)) return -1;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const ptr = this.view.getUint32(iovs + i * 8, true);
      const len = this.view.getUint32(iovs + i * 8 + 4, true);
      if (!this.inBounds(ptr, len)) return -1;
      total += len;
    }
    return total;
  }

  private putU32(ptr: number, value: number): number {
    if (!this.inBounds(ptr, 4)) return E.FAULT;
    this.view.setUint32(ptr, value, true);
    return E.SUCCESS;
  }

  // ---- sockets ----

  private accept(fd: number, fdOut: number): number {
    const entry = this.entries.get(fd);
    if (!entry) return E.BADF;
    if (entry.kind !== "listener") return E.NOTSOCK;
    if (entry.pending.length === 0) return E.AGAIN;
    this.refresh();
    if (!this.inBounds(fdOut, 4)) return E.FAULT; // before taking it: the connection stays pending
    const socket = entry.pending.shift()!;
    const newFd = this.fds.take();
    // A connection that ended or failed while it waited to be accepted reads as EOF (or its error) at once.
    const gone = socket.destroyed || socket.readableEnded;
    const stream: StreamEntry = { kind: "stream", socket, chunks: [], buffered: 0, ended: gone, errno: 0 };
    socket.on("data", (chunk: Buffer) => {
      stream.chunks.push(chunk);
      stream.buffered += chunk.length;
      if (stream.buffered >= READ_HIGH_WATER_MARK) socket.pause(); // backpressure toward the client
      this.options.wake();
    });
    socket.on("end", () => {
      stream.ended = true;
      this.options.wake();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      stream.errno = errnoFromCode(err.code, SOCKET_ERROR_CODES, E.IO);
      this.options.wake();
    });
    socket.on("drain", () => this.options.wake());
    socket.on("close", () => {
      stream.ended = true;
      this.options.wake();
    });
    socket.setNoDelay(true);
    socket.resume();
    this.entries.set(newFd, stream);
    this.view.setUint32(fdOut, newFd, true);
    return E.SUCCESS;
  }

  private stream(fd: number): StreamEntry | number {
    const entry = this.entries.get(fd);
    if (!entry) return E.BADF;
    if (entry.kind !== "stream") return E.NOTCONN;
    return entry;
  }

  private recv(fd: number, iovs: number, iovsLen: number, lenOut: number, flagsOut: number): number {
    const s = this.stream(fd);
    if (typeof s === "number") return s;
    if (this.iovecsLength(iovs, iovsLen) < 0 || !this.inBounds(lenOut, 4) || !this.inBounds(flagsOut, 2)) return E.FAULT;
    if (s.buffered === 0) {
      if (s.errno) return s.errno;
      if (!s.ended) return E.AGAIN;
      this.view.setUint16(flagsOut, 0, true);
      return this.putU32(lenOut, 0); // end of stream
    }
    let copied = 0;
    for (let i = 0; i < iovsLen && s.chunks.length > 0; i++) {
      const ptr = this.view.getUint32(iovs + i * 8, true);
      const len = this.view.getUint32(iovs + i * 8 + 4, true);
      let at = 0;
      while (at < len && s.chunks.length > 0) {
        const chunk = s.chunks[0];
        const n = Math.min(len - at, chunk.length);
        this.bytes.set(n === chunk.length ? chunk : chunk.subarray(0, n), ptr + at);
        at += n;
        if (n === chunk.length) s.chunks.shift();
        else s.chunks[0] = chunk.subarray(n);
      }
      copied += at;
    }
    s.buffered -= copied;
    if (s.buffered < READ_HIGH_WATER_MARK && s.socket.isPaused() && !s.ended) s.socket.resume();
    this.view.setUint16(flagsOut, 0, true);
    return this.putU32(lenOut, copied);
  }

  private send(fd: number, iovs: number, iovsLen: number, lenOut: number): number {
    const s = this.stream(fd);
    if (typeof s === "number") return s;
    const total = this.iovecsLength(iovs, iovsLen);
    if (total < 0 || !this.inBounds(lenOut, 4)) return E.FAULT;
    if (s.errno) return s.errno;
    const socket = s.socket;
    if (socket.destroyed || socket.writableEnded) return E.PIPE;
    if (socket.writableNeedDrain) return E.AGAIN; // over Node's high-water mark: the guest waits for fd_write
    if (total > 0) socket.write(this.gather(iovs, iovsLen, total));
    return this.putU32(lenOut, total);
  }

  /** A copy of the iovecs' bytes: the guest may reuse its buffers as soon as the call returns. */
  private gather(iovs: number, iovsLen: number, total: number): Buffer {
    const data = Buffer.allocUnsafe(total);
    let at = 0;
    for (let i = 0; i < iovsLen; i++) {
      const ptr = this.view.getUint32(iovs + i * 8, true);
      const len = this.view.getUint32(iovs + i * 8 + 4, true);
      data.set(this.bytes.subarray(ptr, ptr + len), at);
      at += len;
    }
    return data;
  }

  private shutdown(fd: number, how: number): number {
    const s = this.stream(fd);
    if (typeof s === "number") return s;
    if (how & SDFLAGS_WR) s.socket.end();
    return E.SUCCESS;
  }

  private close(fd: number): number {
    const entry = this.entries.get(fd)!;
    this.entries.delete(fd);
    this.fds.release(fd);
    if (entry.kind === "listener") {
      entry.server.close();
      for (const s of entry.pending) s.destroy();
    } else {
      // Like close(2): what the guest already sent is still delivered, then FIN.
      entry.socket.destroySoon();
    }
    return E.SUCCESS;
  }

  private fdstat(fd: number, out: number): number {
    this.refresh();
    if (!this.inBounds(out, 24)) return E.FAULT;
    this.bytes.fill(0, out, out + 24);
    this.view.setUint8(out, FILETYPE_SOCKET_STREAM);
    this.view.setUint16(out + 2, FDFLAGS_NONBLOCK, true);
    this.view.setBigUint64(out + 8, 0xffffffffffffffffn, true);
    this.view.setBigUint64(out + 16, 0xffffffffffffffffn, true);
    return E.SUCCESS;
  }

  private writeTo(target: Writable, iovs: number, iovsLen: number, out: number): number {
    const total = this.iovecsLength(iovs, iovsLen);
    if (total < 0 || !this.inBounds(out, 4)) return E.FAULT;
    if (total > 0) target.write(this.gather(iovs, iovsLen, total));
    return this.putU32(out, total);
  }

  // ---- readiness ----

  /** Reports what is ready now; never waits (a clock subscription fires at once if nothing else is ready). */
  private poll(subs: number, events: number, count: number, countOut: number): number {
    this.refresh();
    if (count === 0) return E.INVAL;
    if (!this.inBounds(subs, count * SUBSCRIPTION_SIZE) || !this.inBounds(events, count * EVENT_SIZE) || !this.inBounds(countOut, 4)) {
      return E.FAULT;
    }
    let n = 0;
    let clockAt = -1;
    this.reportedCount = 0;
    for (let i = 0; i < count; i++) {
      const sub = subs + i * SUBSCRIPTION_SIZE;
      const type = this.view.getUint8(sub + 8);
      if (type === EVENTTYPE_CLOCK) {
        clockAt = sub;
        continue;
      }
      const fd = this.view.getUint32(sub + 16, true);
      if (!this.readiness(fd, type)) continue;
      this.writeEvent(events + n * EVENT_SIZE, sub, type);
      this.reported[this.reportedCount++] = fd * 4 + type;
      n++;
    }
    if (n === 0 && clockAt >= 0) {
      this.ready.errno = 0;
      this.ready.nbytes = 0;
      this.ready.hangup = false;
      this.writeEvent(events, clockAt, EVENTTYPE_CLOCK);
      n = 1;
    }
    this.view.setUint32(countOut, n, true);
    return E.SUCCESS;
  }

  /**
   * Whether something the last poll reported is still ready after the guest's turn (data left unread, an
   * EOF behind the data, more pending connections). Readiness is level-triggered, and no Node event will
   * come for it again, so the engine must call back in.
   */
  stillReady(): boolean {
    for (let i = 0; i < this.reportedCount; i++) {
      const fd = Math.floor(this.reported[i] / 4);
      if (this.entries.has(fd) && this.readiness(fd, this.reported[i] % 4)) return true;
    }
    return false;
  }

  /** Whether (fd, type) is ready; if so, `this.ready` holds what to report. No allocation: this runs per subscription. */
  private readiness(fd: number, type: number): boolean {
    const entry = this.entries.get(fd);
    const r = this.ready;
    r.errno = 0;
    r.nbytes = 0;
    r.hangup = false;
    // node:wasi's own fds (stdio, files) are always ready, as regular files are to poll(2).
    if (!entry) {
      if (fd >= FIRST_SOCKET_FD) r.errno = E.BADF;
      return true;
    }
    if (entry.kind === "listener") {
      r.nbytes = entry.pending.length;
      return type === EVENTTYPE_FD_READ && entry.pending.length > 0;
    }
    if (entry.errno) {
      r.errno = entry.errno;
      r.hangup = true;
      return true;
    }
    if (type === EVENTTYPE_FD_READ) {
      r.nbytes = entry.buffered;
      r.hangup = entry.ended;
      return entry.buffered > 0 || entry.ended;
    }
    const socket = entry.socket;
    if (socket.destroyed) {
      r.errno = E.PIPE;
      r.hangup = true;
      return true;
    }
    r.nbytes = Math.max(0, socket.writableHighWaterMark - socket.writableLength);
    return !socket.writableNeedDrain;
  }

  /** Writes the event for subscription `sub` from `this.ready`. */
  private writeEvent(at: number, sub: number, type: number): void {
    const view = this.view;
    const r = this.ready;
    view.setUint32(at, view.getUint32(sub, true), true); // userdata, as two words (no BigInt)
    view.setUint32(at + 4, view.getUint32(sub + 4, true), true);
    view.setUint32(at + 8, r.errno | (type << 16), true); // errno (u16), type (u8), padding
    view.setUint32(at + 12, 0, true);
    view.setUint32(at + 16, r.nbytes >>> 0, true);
    view.setUint32(at + 20, Math.floor(r.nbytes / 0x100000000), true);
    view.setUint32(at + 24, r.hangup ? EVENT_FD_READWRITE_HANGUP : 0, true);
    view.setUint32(at + 28, 0, true);
  }
}

/**
 * Socket fd numbers, reused as POSIX reuses them: a new socket gets the lowest number free (open(2), "the lowest
 * numbered file descriptor not currently open"). Freed numbers wait in a binary min-heap; above them all is free.
 */
class FdNumbers {
  private readonly free: number[] = [];

  constructor(private next: number) {}

  take(): number {
    const heap = this.free;
    if (heap.length === 0) return this.next++;
    const lowest = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) this.siftDown(last);
    return lowest;
  }

  release(fd: number): void {
    const heap = this.free;
    let i = heap.length;
    heap.push(fd);
    while (i > 0 && heap[(i - 1) >> 1] > fd) {
      heap[i] = heap[(i - 1) >> 1];
      i = (i - 1) >> 1;
    }
    heap[i] = fd;
  }

  /** Puts `fd` at the root and moves it down past every smaller child. */
  private siftDown(fd: number): void {
    const heap = this.free;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1] < heap[child]) child++;
      if (heap[child] >= fd) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = fd;
  }
}
