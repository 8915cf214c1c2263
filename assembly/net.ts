// TCP servers and sockets with Node's `net` semantics (lib/net.js), over non-blocking WASI sockets.
// Reads land in one pooled buffer that is held only during the read, so an idle connection owns no read
// buffer; writes go straight to the socket and only the unsent rest is queued.
import * as sys from "./sys";
import { IoHandle, openIoHandles } from "./handle";
import { Deadline } from "./timers";
import { Buffer } from "./buffer";
import { EventEmitter, emitSoon, emitErrorSoon } from "./events";

const READ_POOL_SIZE: i32 = 64 * 1024;
const readPool = memory.data(READ_POOL_SIZE, 16);
const ENCODE_SCRATCH_SIZE: i32 = 64 * 1024;
const encodeScratch = memory.data(ENCODE_SCRATCH_SIZE, 16);
const READS_PER_WAKEUP: i32 = 32;
/** Connections still waiting to be accepted that close() takes and serves. */
const ACCEPTS_ON_CLOSE: i32 = 1024;
/** Connections accepted per readiness of a listener; a worker sharing its listeners with siblings takes fewer. */
let acceptsPerWakeup: i32 = 128;

/**
 * Internal: how many connections a listener accepts each time it is ready. Worker processes sharing a
 * listening socket set a small number (eventide/cluster), so a connection burst is spread over the workers
 * that are polling instead of landing on the first one to wake.
 */
export function setAcceptsPerWakeup(n: i32): void {
  acceptsPerWakeup = max(n, 1);
}

// Balance across worker processes that share listeners (eventide/cluster). The kernel wakes every worker
// polling a shared listener and the one that polled last tends to win the accept, so a busy worker keeps
// winning: a burst of keep-alive connections can land mostly on one. The primary tells each worker its share
// of the cluster's connections (a target); a worker over it lets its siblings accept first (it takes a
// connection only if it is still waiting at its next look), and asks as many keep-alive clients to reconnect —
// their next response says Connection: close — so the surplus moves to the others.
let openConnections: i32 = 0;  // accepted by this process's servers and still open
let connectionLimit: i32 = 0;  // the target plus a tenth (at least 1) of slack, so counts that merely wobble
                               // shed nothing; 0: no target
let shedding: i32 = 0;         // connections whose next response closes them, counted against the target

/** Internal (eventide/cluster): this process's share of the cluster's connections; 0 lifts the target. */
export function setConnectionTarget(n: i32): void {
  connectionLimit = n > 0 ? n + max(1, n / 10) : 0;
}

/** Connections accepted by this process's servers that are still open. */
export function openConnectionCount(): i32 {
  return openConnections;
}
export const DEFAULT_HIGH_WATER_MARK: i32 = 16 * 1024;

/** An error from the system or the stream machinery; `code` is the errno name (e.g. ECONNRESET). */
export class NetError extends Error {
  constructor(public code: string, public syscall: string, public errno: i32 = 0) {
    super(syscall.length > 0 ? syscall + " " + code : code);
    this.name = "NetError";
  }
}

function systemError(errno: i32, syscall: string): NetError {
  return new NetError(sys.errnoName(<u16>errno), syscall, errno);
}

/**
 * A consumer that takes a socket's bytes before they become 'data' events, borrowing the read buffer
 * for the duration of the call (the HTTP server is one). It must copy what it keeps.
 */
export abstract class SocketReader {
  abstract onData(socket: Socket, ptr: usize, len: i32): void;
  abstract onEnd(socket: Socket): void;
  /** The write queue emptied after the high-water mark was passed. */
  onDrain(socket: Socket): void {}
  /** The socket closed (after 'error', before 'close'). */
  onClose(socket: Socket): void {}
}

// Socket state bits.
const FLOWING: u32 = 1 << 0;      // reading wanted (resume(), 'data' listener, pipe or reader)
const READ_ENDED: u32 = 1 << 1;   // peer's EOF seen
const WRITE_ENDED: u32 = 1 << 2;  // end() called
const FINISHED: u32 = 1 << 3;     // our FIN sent
const DESTROYED: u32 = 1 << 4;
const NEED_DRAIN: u32 = 1 << 5;
const HALF_OPEN: u32 = 1 << 6;    // allowHalfOpen
const HAD_ERROR: u32 = 1 << 7;

export class Socket extends IoHandle {
  private state: u32 = 0;
  bytesRead: u64 = 0;
  bytesWritten: u64 = 0;
  /** Bytes queued in user space, not yet accepted by the kernel. */
  writableLength: i32 = 0;
  writableHighWaterMark: i32 = DEFAULT_HIGH_WATER_MARK;
  server: Server | null = null;
  private writeQueue: Array<Uint8Array> | null = null;
  private writeOffset: i32 = 0; // sent bytes of writeQueue[0]
  private pipeTarget: Socket | null = null;
  private pipeSources: Array<Socket> | null = null;
  private reader: SocketReader | null = null;
  private idle: IdleTimer | null = null;
  private shed: bool = false;
  private pendingError: NetError | null = null;

  constructor(fd: i32, server: Server | null = null) {
    super();
    this.server = server;
    this.attach(fd);
  }

  /**
   * The peer's IP address as text ("127.0.0.1", "::1", "::ffff:10.0.0.2"), or null when the backend can't tell
   * (WASI preview1 has no getpeername) or the socket is closed. Node: `socket.remoteAddress`.
   */
  get remoteAddress(): string | null {
    return this.fd < 0 ? null : sys.remoteAddress(<u32>this.fd);
  }

  /** The peer's port, or -1 when unknown (as remoteAddress). Node: `socket.remotePort`. */
  get remotePort(): i32 {
    return this.fd < 0 ? -1 : sys.remotePort(<u32>this.fd);
  }

  // ---- readable side ----

  /** Registers a listener; a 'data' listener starts the flow of data, as in Node. */
  on<F>(event: string, listener: F): this {
    super.on<F>(event, listener);
    if (event == "data") this.resume();
    return this;
  }

  pause(): this {
    this.state &= ~FLOWING;
    this.watchRead(false);
    return this;
  }

  resume(): this {
    this.state |= FLOWING;
    if ((this.state & (READ_ENDED | DESTROYED)) == 0) this.watchRead(true);
    return this;
  }

  get isPaused(): bool {
    return (this.state & FLOWING) == 0;
  }

  get readableEnded(): bool {
    return (this.state & READ_ENDED) != 0;
  }

  get currentReader(): SocketReader | null {
    return this.reader;
  }

  /** Internal: hands every received byte to `reader` instead of 'data' events. */
  setReader(reader: SocketReader | null): void {
    this.reader = reader;
    if (reader != null) this.resume();
  }

  /** Sends everything read to `dest`, pausing while `dest` is over its high-water mark. Returns `dest`. */
  pipe(dest: Socket): Socket {
    this.pipeTarget = dest;
    let sources = dest.pipeSources;
    if (sources == null) dest.pipeSources = sources = new Array<Socket>();
    if (!sources.includes(this)) sources.push(this);
    this.resume();
    return dest;
  }

  unpipe(): this {
    const dest = this.pipeTarget;
    if (dest != null) {
      const sources = dest.pipeSources;
      if (sources != null) {
        const i = sources.indexOf(this);
        if (i >= 0) sources.splice(i, 1);
      }
      this.pipeTarget = null;
    }
    return this;
  }

  onReadable(): bool {
    let progress = false;
    for (let budget = READS_PER_WAKEUP; budget > 0; budget--) {
      if ((this.state & (FLOWING | DESTROYED)) != FLOWING) return progress;
      const n = sys.recv(<u32>this.fd, readPool, READ_POOL_SIZE);
      if (n > 0) {
        progress = true;
        this.bytesRead += n;
        this.touch();
        this.deliver(readPool, n);
        if (n < READ_POOL_SIZE) return true; // drained; the next poll says if more came
      } else if (n == 0) {
        this.onEof();
        return true;
      } else if (n == -<i32>sys.Errno.AGAIN) {
        return progress;
      } else {
        this.destroy(systemError(-n, "read"));
        return true;
      }
    }
    return progress;
  }

  private deliver(ptr: usize, len: i32): void {
    const reader = this.reader;
    if (reader != null) {
      reader.onData(this, ptr, len);
      return;
    }
    if (this.listenerCount("data") > 0) {
      this.emitWith<Buffer>("data", Buffer.copyOf(ptr, len));
      if ((this.state & DESTROYED) != 0) return; // the listener may have destroyed us
    }
    const dest = this.pipeTarget;
    if (dest != null && !dest.writeBytes(ptr, len)) this.pause();
  }

  private onEof(): void {
    this.state |= READ_ENDED;
    this.watchRead(false);
    const reader = this.reader;
    if (reader != null) reader.onEnd(this);
    else this.emit("end");
    if ((this.state & DESTROYED) != 0) return;
    const dest = this.pipeTarget;
    if (dest != null) dest.end();
    if ((this.state & HALF_OPEN) == 0) this.end();
    this.maybeClose();
  }

  // ---- writable side ----

  /** Writes a string (as UTF-8) or bytes. Returns false once the queue passes the high-water mark. */
  write<T>(data: T): bool {
    if (isString<T>()) {
      const text = changetype<string>(data);
      const len = String.UTF8.byteLength(text);
      if (len <= ENCODE_SCRATCH_SIZE) {
        String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, encodeScratch);
        return this.writeBytes(encodeScratch, len);
      }
      const bytes = Buffer.from(text);
      return this.writeBytes(bytes.dataStart, bytes.length);
    } else if (isReference<T>()) {
      if (data instanceof Uint8Array) return this.writeBytes(data.dataStart, data.length);
      if (data instanceof ArrayBuffer) return this.writeBytes(changetype<usize>(data), data.byteLength);
      if (changetype<usize>(data) == 0) return this.writableLength < this.writableHighWaterMark; // null: nothing to write
      this.failSoon(new NetError("ERR_INVALID_ARG_TYPE", "write"));
      return false;
    }
    ERROR("Socket.write takes a string, a Uint8Array (Buffer) or an ArrayBuffer");
    return false;
  }

  /** Writes `len` bytes at `ptr`, copying only what the kernel doesn't take now. */
  writeBytes(ptr: usize, len: i32): bool {
    if ((this.state & (WRITE_ENDED | DESTROYED)) != 0) {
      this.failSoon(new NetError("ERR_STREAM_WRITE_AFTER_END", "write"));
      return false;
    }
    if (len == 0) return this.writableLength < this.writableHighWaterMark;
    let sent = 0;
    if (this.writableLength == 0) {
      const n = sys.send(<u32>this.fd, ptr, len);
      if (n >= 0) {
        sent = n;
        this.bytesWritten += n;
        this.touch();
      } else if (n != -<i32>sys.Errno.AGAIN) {
        this.destroy(systemError(-n, "write"));
        return false;
      }
    }
    if (sent < len) this.enqueue(ptr + sent, len - sent);
    if (this.writableLength < this.writableHighWaterMark) return true;
    this.state |= NEED_DRAIN;
    return false;
  }

  private enqueue(ptr: usize, len: i32): void {
    let queue = this.writeQueue;
    if (queue == null) this.writeQueue = queue = new Array<Uint8Array>();
    queue.push(Buffer.copyOf(ptr, len));
    this.writableLength += len;
    this.watchWrite(true);
  }

  onWritable(): bool {
    const queue = this.writeQueue;
    if (queue != null && this.writableLength > 0) {
      const n = sys.sendChunks(<u32>this.fd, queue, this.writeOffset);
      if (n == -<i32>sys.Errno.AGAIN) return false;
      if (n < 0) {
        this.destroy(systemError(-n, "write"));
        return true;
      }
      this.bytesWritten += n;
      this.writableLength -= n;
      this.touch();
      this.consumeQueue(queue, n);
      if (this.writableLength > 0) return true;
    }
    this.watchWrite(false);
    this.afterFlush();
    return true;
  }

  private consumeQueue(queue: Array<Uint8Array>, sent: i32): void {
    let done = 0;
    let offset = this.writeOffset + sent;
    while (done < queue.length) {
      const size = unchecked(queue[done]).length;
      if (offset < size) break;
      offset -= size;
      done++;
    }
    if (done > 0) queue.splice(0, done);
    this.writeOffset = offset;
  }

  /** The queue is empty: report 'drain', send the FIN that end() deferred, wake paused pipe sources. */
  private afterFlush(): void {
    if ((this.state & WRITE_ENDED) != 0) {
      this.finish();
      return;
    }
    if ((this.state & NEED_DRAIN) != 0) {
      this.state &= ~NEED_DRAIN;
      const sources = this.pipeSources;
      if (sources != null) {
        for (let i = 0, k = sources.length; i < k; i++) unchecked(sources[i]).resume();
      }
      const reader = this.reader;
      if (reader != null) reader.onDrain(this);
      this.emit("drain");
    }
  }

  /** Half-closes: queued data is sent, then FIN. Optional last data. */
  end<T = string | null>(data: T = changetype<T>(0)): this {
    if ((this.state & (WRITE_ENDED | DESTROYED)) != 0) return this;
    if (!isNullable<T>() || changetype<usize>(data) != 0) this.write<T>(data);
    this.state |= WRITE_ENDED;
    if (this.writableLength == 0) this.finish();
    return this;
  }

  private finish(): void {
    if ((this.state & (FINISHED | DESTROYED)) != 0) return;
    this.state |= FINISHED;
    sys.shutdownWrite(<u32>this.fd); // a peer that already left makes this fail harmlessly
    this.emit("finish");
    this.maybeClose();
  }

  get writableEnded(): bool {
    return (this.state & WRITE_ENDED) != 0;
  }

  get writableFinished(): bool {
    return (this.state & FINISHED) != 0;
  }

  get writableNeedDrain(): bool {
    return (this.state & NEED_DRAIN) != 0;
  }

  // ---- lifetime ----

  setAllowHalfOpen(allow: bool): this {
    if (allow) this.state |= HALF_OPEN;
    else this.state &= ~HALF_OPEN;
    return this;
  }

  /** Emits 'timeout' after `ms` without reads or writes (0 turns it off). It does not close the socket. */
  setTimeout(ms: i32): this {
    let idle = this.idle;
    if (ms <= 0) {
      if (idle != null) {
        idle.timeout = 0;
        idle.disarm();
      }
      return this;
    }
    if (idle == null) {
      this.idle = idle = new IdleTimer(this);
      idle.unref(); // the socket, not its timer, keeps the loop alive
    }
    idle.timeout = ms;
    idle.setDeadline(ms);
    return this;
  }

  @inline private touch(): void {
    const idle = this.idle;
    if (idle != null && idle.timeout > 0) idle.setDeadline(idle.timeout);
  }

  get destroyed(): bool {
    return (this.state & DESTROYED) != 0;
  }

  /** Closes at once, dropping queued writes; 'error' (if `err`) then 'close' follow in the close phase. */
  destroy(err: NetError | null = null): this {
    if ((this.state & DESTROYED) != 0) return this;
    this.state |= DESTROYED;
    if (err != null) {
      this.state |= HAD_ERROR;
      this.pendingError = err;
    }
    const idle = this.idle;
    if (idle != null) idle.disarm();
    this.writeQueue = null;
    this.writableLength = 0;
    this.unpipe();
    this.closeHandle();
    return this;
  }

  /** Both directions done: release the fd (Node's autoDestroy). */
  private maybeClose(): void {
    const done = READ_ENDED | FINISHED;
    if ((this.state & done) == done) this.destroy();
  }

  onClose(): void {
    const err = this.pendingError;
    const reader = this.reader;
    // A socket owned by a reader (an HTTP connection) reports errors to it unless the app listens itself.
    if (err != null && (reader == null || this.listenerCount("error") > 0)) {
      this.pendingError = null;
      this.emitWith<NetError>("error", err);
    }
    if (reader != null) reader.onClose(this);
    this.emitWith<bool>("close", (this.state & HAD_ERROR) != 0);
    const server = this.server;
    if (server != null) {
      openConnections--;
      if (this.shed) shedding--;
      server.connectionClosed();
    }
    this.pipeSources = null;
    this.reader = null;
  }

  /**
   * Internal (http): whether this connection should close after its current exchange so that this worker
   * process comes down to the share of connections the primary gave it (see setConnectionTarget).
   */
  shedForBalance(): bool {
    if (this.shed || connectionLimit == 0 || openConnections - shedding <= connectionLimit) return false;
    this.shed = true;
    shedding++;
    return true;
  }

  /** Reports an error from a call that must not emit synchronously (Node's emitErrorNT). */
  private failSoon(err: NetError): void {
    emitErrorSoon(this, err);
  }
}

/** 'timeout' once per idle period (Node's socket.setTimeout): activity moves the deadline. */
class IdleTimer extends Deadline {
  timeout: i32 = 0;
  constructor(private socket: Socket) {
    super();
  }
  expire(): void {
    this.socket.emit("timeout");
  }
}

// ---- servers ----

/** A granted listening socket, as the host named it in EVENTIDE_LISTEN. */
export class AddressInfo {
  constructor(public fd: i32, public address: string, public port: i32) {}
  get family(): string {
    return this.address.includes(":") ? "IPv6" : "IPv4";
  }
}

let granted: Array<AddressInfo> | null = null;
const claimed = new Set<i32>();

// Node's default backlog is 511; a burst of new connections (wrk opening 1,000) overflows it.
const LISTEN_BACKLOG: i32 = 4096;

/**
 * EVENTIDE_LISTEN entries (`n=host:port`, comma-separated), or else every socket among fds 3, 4, … (address
 * unknown). Under preview1 `n` is the listener's fd; where the backend binds listeners itself (WASI 0.2) it binds
 * each address here, in order (port 0: the system picks, and `port` is the one it picked).
 */
export function grantedListeners(): Array<AddressInfo> {
  let list = granted;
  if (list != null) return list;
  granted = list = new Array<AddressInfo>();
  if (process.env.has("EVENTIDE_LISTEN")) {
    const entries = process.env.get("EVENTIDE_LISTEN").split(",");
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i].trim();
      if (entry.length == 0) continue;
      const eq = entry.indexOf("=");
      const colon = entry.lastIndexOf(":");
      if (eq <= 0 || colon <= eq) abort("EVENTIDE_LISTEN entry '" + entry + "' is not fd=host:port");
      let host = entry.substring(eq + 1, colon);
      if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length - 1);
      let fd = I32.parseInt(entry.substring(0, eq));
      let port = I32.parseInt(entry.substring(colon + 1));
      if (sys.BINDS_LISTENERS) {
        // The number names the entry only; a failure (-errno) is reported when the app listens on it.
        fd = sys.listen(host, port, LISTEN_BACKLOG);
        if (fd >= 0) port = sys.localPort(<u32>fd);
      }
      list.push(new AddressInfo(fd, host, port));
    }
    return list;
  }
  // The control channel's listener (eventide/cluster) is the runtime's, never the app's.
  const control = process.env.has("EVENTIDE_CONTROL") ? I32.parseInt(process.env.get("EVENTIDE_CONTROL")) : -1;
  const fds = sys.probeListeners(control);
  for (let i = 0; i < fds.length; i++) list.push(new AddressInfo(fds[i], "", 0));
  return list;
}

// The grant named the way this build is run: the preview1 module under wasmtime 36–46, the component under 47+.
const NO_LISTENER_HELP = "no listening socket was granted to this module. Under wasmtime: " + (sys.BINDS_LISTENERS
  ? "wasmtime run -S inherit-network --env EVENTIDE_LISTEN=0=127.0.0.1:PORT app.component.wasm; "
  : "wasmtime run -S preview2=n -S tcplisten=127.0.0.1:PORT app.wasm; ") +
  "with eventide: eventide run app.wasm --listen 127.0.0.1:PORT";

/**
 * Why listen() on `what` found no socket: none was granted, or which were (each marked "(taken)" when a server
 * already has it) and how to use or add one.
 */
function noListenerMessage(what: string): string {
  const list = grantedListeners();
  if (list.length == 0) return "listen " + what + ": " + NO_LISTENER_HELP;
  const names = new Array<string>();
  for (let i = 0; i < list.length; i++) {
    const l = list[i];
    const name = l.address.length == 0 ? "fd " + l.fd.toString() // found by probing: the address is unknown
      : (l.address.includes(":") ? "[" + l.address + "]" : l.address) + ":" + l.port.toString();
    names.push(claimed.has(l.fd) ? name + " (taken)" : name);
  }
  return "listen " + what + ": none of the granted listening sockets matches (granted: " + names.join(", ") +
    "); listen on one of those, or grant " + what + " with eventide run --listen";
}

function findListener(port: i32, host: string): AddressInfo | null {
  const list = grantedListeners();
  let unclaimed: AddressInfo | null = null;
  let unclaimedCount = 0;
  for (let i = 0; i < list.length; i++) {
    const l = list[i];
    if (claimed.has(l.fd)) continue;
    if (l.port == port && (host.length == 0 || host == l.address || (host == "localhost" && isLoopback(l.address)))) return l;
    unclaimed = l;
    unclaimedCount++;
  }
  // The operator decides where the app listens: a single granted socket serves whatever port the app asks for.
  return unclaimedCount == 1 ? unclaimed : null;
}

function isLoopback(address: string): bool {
  return address == "::1" || address.startsWith("127.");
}

/**
 * A limit the host sets for every server (`eventide run --max-connections` etc.): the environment variable
 * `name` as a whole number, or `fallback` when it is unset. The app's own setting, made after, wins.
 */
export function hostLimit(name: string, fallback: i32): i32 {
  return process.env.has(name) ? I32.parseInt(process.env.get(name)) : fallback;
}

export class Server extends IoHandle {
  /** Connections beyond this many are closed on arrival ('drop'); 0 = no limit (EVENTIDE_MAX_CONNECTIONS). */
  maxConnections: i32 = hostLimit("EVENTIDE_MAX_CONNECTIONS", 0);
  /** Connections closed on arrival for being over maxConnections, in all. */
  droppedConnections: i32 = 0;
  private dropping: bool = false;
  private connectionCount: i32 = 0;
  private listening_: bool = false;
  /** close() was called: no new connections; 'close' once the last one ends. */
  closing: bool = false;
  private closeEmitted: bool = false;
  private info: AddressInfo | null = null;

  /**
   * Binds to the granted listening socket for `port` (and `host`). WebAssembly modules can't open ports:
   * the host grants them (see docs/api.md). 'listening' (and `callback`) or 'error' follow asynchronously.
   */
  listen(port: i32 = 0, host: string = "", callback: ((server: Server) => void) | null = null): this {
    if (callback != null) this.once("listening", callback);
    if (this.listening_) {
      this.failSoon(new NetError("ERR_SERVER_ALREADY_LISTEN", "listen"));
      return this;
    }
    const info = findListener(port, host);
    if (info == null) {
      const what = host.length > 0 ? host + ":" + port.toString() : "port " + port.toString();
      this.failSoon(new NetError("EADDRNOTAVAIL", noListenerMessage(what)));
      return this;
    }
    claimed.add(info.fd);
    if (info.fd < 0) {
      this.failSoon(systemError(-info.fd, "listen " + info.address + ":" + info.port.toString()));
      return this;
    }
    this.listenOn(info.address.length > 0 ? info : new AddressInfo(info.fd, host, port)); // unnamed: all we know
    return this;
  }

  /** Internal: starts accepting on a granted listening fd the runtime picked itself (the cluster control listener). */
  listenOn(info: AddressInfo): void {
    this.info = info;
    sys.setNonBlocking(<u32>info.fd);
    this.attach(info.fd);
    this.alwaysHot = true;
    this.listening_ = true;
    this.watchRead(true);
    emitSoon(this, "listening");
  }

  get listening(): bool {
    return this.listening_;
  }

  address(): AddressInfo | null {
    return this.listening_ ? this.info : null;
  }

  get connections(): i32 {
    return this.connectionCount;
  }

  onReadable(): bool {
    let accepted = false;
    let budget = acceptsPerWakeup;
    if (connectionLimit > 0 && openConnections >= connectionLimit) {
      // Over its share: the first readiness is left to the siblings woken with it; if the connection is still
      // waiting at the next one, none of them took it, and this worker does.
      if (!this.deferred) {
        this.deferred = true;
        return false;
      }
      budget = 1;
    }
    this.deferred = false;
    for (; budget > 0 && this.fd >= 0; budget--) {
      const fd = sys.accept(<u32>this.fd);
      if (fd < 0) {
        const errno = <u16>-fd;
        if (errno == sys.Errno.AGAIN) return accepted;
        // The client gave up between its handshake and our accept: nothing is wrong with the listener.
        if (errno == sys.Errno.CONNABORTED || errno == sys.Errno.PROTO || errno == sys.Errno.PERM) continue;
        this.backOff(errno);
        return accepted;
      }
      accepted = true;
      const backoff = this.backoff;
      if (backoff != null) backoff.succeeded();
      this.take(fd);
    }
    return accepted;
  }

  private backoff: AcceptBackoff | null = null;
  private deferred: bool = false;

  /**
   * accept failed for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM) or for a reason the listener can't
   * fix by retrying at once: the listener is not polled for a while, doubling up to a second while it keeps
   * failing, so the loop neither spins on a listener that stays readable nor ends; connections already open
   * are served meanwhile and free fds, and the waiting ones stay queued in the kernel's backlog. (libuv keeps
   * a spare fd to accept-and-close instead; WASI gives a module no fd to spare.) One report per burst: an
   * 'error' event when the app listens for it, else a line on stderr.
   */
  private backOff(errno: u16): void {
    let backoff = this.backoff;
    if (backoff == null) {
      this.backoff = backoff = new AcceptBackoff(this);
      backoff.unref(); // the listening socket, not this timer, keeps the loop alive
    }
    const err = systemError(errno, "accept");
    if (backoff.start()) {
      if (this.listenerCount("error") > 0) this.emitWith<NetError>("error", err);
      else sys.printError("eventide: " + err.message + "; not accepting for " + backoff.delay.toString() +
        " ms while open connections are served (more follow as fds free up)");
    }
    this.watchRead(false);
  }

  /** Internal: the back-off period ended. */
  resumeAccepting(): void {
    if (this.listening_) this.watchRead(true);
  }

  /** A new connection; subclasses (the HTTP server) take it over here. */
  protected onConnection(socket: Socket): void {
    this.emitWith<Socket>("connection", socket);
  }

  onWritable(): bool {
    return false;
  }

  /**
   * Stops accepting; 'close' follows once every connection has ended. Connections that already wait to be
   * accepted are taken first (a bounded number) and served, rather than reset when the listener closes: a
   * client that connected before close() is owed an answer (under the Node engine they were accepted by the
   * host already, and under workers no sibling could take them instead).
   */
  close(callback: ((server: Server) => void) | null = null): this {
    if (callback != null) this.once("close", callback);
    if (!this.listening_) {
      if (!this.closing) this.failSoon(new NetError("ERR_SERVER_NOT_RUNNING", "close"));
      return this;
    }
    this.listening_ = false;
    this.closing = true;
    const backoff = this.backoff;
    if (backoff != null) backoff.disarm();
    this.acceptWaiting();
    this.closeHandle();
    return this;
  }

  /**
   * A connection accepted: past maxConnections it is closed at once ('drop'), else it is served. Without a
   * 'drop' listener, the first connection closed of each burst (until one is served again) says so on stderr.
   */
  private take(fd: i32): void {
    if (this.maxConnections > 0 && this.connectionCount >= this.maxConnections) {
      sys.close(<u32>fd);
      this.droppedConnections++;
      if (!this.dropping && this.listenerCount("drop") == 0) {
        sys.printError("eventide: " + this.maxConnections.toString() + " connections open (maxConnections): closing new ones until one ends (" +
          this.droppedConnections.toString() + " closed so far)");
      }
      this.dropping = true;
      this.emit("drop");
      return;
    }
    this.dropping = false;
    this.connectionCount++;
    openConnections++;
    this.onConnection(new Socket(fd, this));
  }

  private acceptWaiting(): void {
    if (this.fd >= 0) sys.refreshReadiness(<u32>this.fd); // the loop may not have polled for a while (a busy handler)
    for (let budget = ACCEPTS_ON_CLOSE; budget > 0 && this.fd >= 0; budget--) {
      const fd = sys.accept(<u32>this.fd);
      if (fd < 0) return;
      this.take(fd);
    }
  }

  onClose(): void {
    this.emitCloseIfDrained();
  }

  connectionClosed(): void {
    this.connectionCount--;
    if (this.closing) this.emitCloseIfDrained();
  }

  private emitCloseIfDrained(): void {
    if (this.fd >= 0 || this.connectionCount > 0 || !this.closing || this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit("close");
  }

  private failSoon(err: NetError): void {
    emitErrorSoon(this, err);
  }
}

const BACKOFF_MIN_MS: i32 = 20;
const BACKOFF_MAX_MS: i32 = 1000;

/** Re-enables a server's accepts after a failed accept, with a delay that doubles while accepts keep failing. */
class AcceptBackoff extends Deadline {
  delay: i32 = 0;
  private failing: bool = false;
  constructor(private server: Server) {
    super();
  }
  /** Arms the next period; true when this failure starts a burst (the first after a success). */
  start(): bool {
    const first = !this.failing;
    this.failing = true;
    this.delay = first ? BACKOFF_MIN_MS : min(this.delay * 2, BACKOFF_MAX_MS);
    this.setDeadline(this.delay);
    return first;
  }
  succeeded(): void {
    this.failing = false;
  }
  expire(): void {
    this.server.resumeAccepting();
  }
}

/** net.createServer((socket) => …): the listener gets every new connection. */
export function createServer<F>(connectionListener: F): Server {
  const server = new Server();
  server.on<F>("connection", connectionListener);
  return server;
}

/** The open sockets accepted by `server`. */
export function connectionsOf(server: Server): Array<Socket> {
  const handles = openIoHandles();
  const list = new Array<Socket>();
  for (let i = 0; i < handles.length; i++) {
    const h = handles[i];
    if (h instanceof Socket && changetype<Socket>(h).server === server) list.push(changetype<Socket>(h));
  }
  return list;
}

/** Graceful stop: every listening server stops accepting; connections finish on their own. */
export function closeAllServers(): void {
  const handles = openIoHandles().slice(0);
  for (let i = 0; i < handles.length; i++) {
    const h = handles[i];
    if (h instanceof Server) changetype<Server>(h).close();
  }
}
