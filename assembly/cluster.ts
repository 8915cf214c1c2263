// `eventide/cluster`: the worker side of Eventide's multi-core layer (Node's `cluster` worker and
// `process.send` / `process.on("message")` model), and the private control channel every supervised process has.
//
// The host grants a private loopback listener (EVENTIDE_CONTROL) and a token (EVENTIDE_CONTROL_TOKEN); it then
// connects and authenticates with HELLO. Over that one connection the runtime reports READY and a HEARTBEAT
// while its loop turns, drains on STOP, and carries the app's messages. Frames both ways:
// u32 length (big-endian) | u8 type | payload, with length = 1 + payload bytes (docs/architecture.md).
import { EventEmitter, emitErrorSoon } from "./events";
import { Buffer } from "./buffer";
import * as net from "./net";
import { AddressInfo, NetError, Server, Socket, SocketReader, closeAllServers, setAcceptsPerWakeup, setConnectionTarget,
  openConnectionCount } from "./net";
import { Deadline, Timer } from "./timers";
import { updateTime } from "./tasks";
import * as sys from "./sys";

/** The largest message payload either side sends or accepts, in bytes (1 MiB). */
export const MAX_MESSAGE_BYTES: i32 = 1 << 20;

const HELLO: u8 = 1;
const READY: u8 = 2;
const HEARTBEAT: u8 = 3;
const STOP: u8 = 4;
const MESSAGE_TEXT: u8 = 5;
const MESSAGE_BYTES: u8 = 6;
const BALANCE: u8 = 7;
const LISTENING: u8 = 8;

const HEADER_BYTES: i32 = 5;
const HEARTBEAT_MS: i64 = 250;
const HELLO_TIMEOUT_MS: i32 = 2000;
// A worker takes at most this many connections per readiness of a shared listener, so a burst is spread over
// the workers that are polling (each takes its share as it wakes) instead of landing on the first awake.
const ACCEPTS_PER_WAKEUP_IN_WORKER: i32 = 1;

/** Whether this process is a worker started by `eventide run --workers` (or `run(path, { workers })`). */
export const isWorker: bool = process.env.has("EVENTIDE_WORKER_ID");

/** The worker's id, 1…N (a replacement keeps the id of the worker it replaces); 0 when not a worker. */
export const workerId: i32 = isWorker ? I32.parseInt(process.env.get("EVENTIDE_WORKER_ID")) : 0;

/** A message from the primary: text (sent as a string) or bytes. */
export class Message {
  constructor(readonly isText: bool, readonly bytes: Uint8Array) {}

  /** The message as text (UTF-8 decoded, also for byte messages). */
  get text(): string {
    return String.UTF8.decodeUnsafe(this.bytes.dataStart, this.bytes.length);
  }
}

// 'message' (Message) and 'error' (NetError) for the app; module-level, as `process` is in Node.
const emitter = new EventEmitter();

/** Registers a listener: "message" gets a Message, "error" a NetError (e.g. ERR_CLUSTER_MESSAGE_TOO_LARGE). */
export function on<F>(event: string, listener: F): void {
  emitter.on<F>(event, listener);
}

export function once<F>(event: string, listener: F): void {
  emitter.once<F>(event, listener);
}

export function off<F>(event: string, listener: F): void {
  emitter.off<F>(event, listener);
}

/**
 * Sends a message (a string, as UTF-8 text, or bytes) to the primary, in order with every other message.
 * Returns false when it can't: not a worker, or over MAX_MESSAGE_BYTES (then 'error' with
 * ERR_CLUSTER_MESSAGE_TOO_LARGE if the app listens for it, else a line on stderr). Messages sent before the
 * primary has connected wait for it.
 */
export function send<T>(message: T): bool {
  if (!isWorker) return false;
  if (isString<T>()) {
    const text = changetype<string>(message);
    return channel.sendFrame(MESSAGE_TEXT, changetype<usize>(text), String.UTF8.byteLength(text), text);
  } else if (isReference<T>()) {
    if (message instanceof Uint8Array) {
      const bytes = changetype<Uint8Array>(message);
      return channel.sendFrame(MESSAGE_BYTES, bytes.dataStart, bytes.length, null);
    }
    return false; // null
  }
  ERROR("cluster.send takes a string or a Uint8Array (Buffer)");
  return false;
}

/** The graceful drain STOP asks for (and the Node engine's eventide_stop): servers stop accepting, work finishes. */
export function drain(): void {
  closeAllServers();
}

// ---- the control channel ----

/** The private listener: its first connection that says HELLO with the token becomes the channel. */
class ControlServer extends Server {
  protected onConnection(socket: Socket): void {
    socket.unref();
    socket.setTimeout(HELLO_TIMEOUT_MS);
    socket.on("timeout", (s: Socket) => { if (!channel.owns(s)) s.destroy(); });
    socket.on("error", (err: NetError) => {}); // a stranger's reset must not end the app
    socket.setReader(new FrameReader(socket));
  }
}

/** Splits a control connection's bytes into frames and hands each to the channel. */
class FrameReader extends SocketReader {
  private buffer: Uint8Array | null = null;
  private length: i32 = 0;

  constructor(private socket: Socket) {
    super();
  }

  onData(socket: Socket, ptr: usize, len: i32): void {
    // Whole frames straight from the read buffer; only a partial frame is copied.
    if (this.length == 0) {
      const used = frames(socket, ptr, len);
      if (used >= 0 && used < len) this.keep(ptr + <usize>used, len - used);
      return;
    }
    this.keep(ptr, len);
    const buf = changetype<Uint8Array>(this.buffer);
    const used = frames(socket, buf.dataStart, this.length);
    if (used < 0) return;
    const rest = this.length - used;
    if (rest > 0 && used > 0) memory.copy(buf.dataStart, buf.dataStart + <usize>used, rest);
    this.length = rest;
  }

  onEnd(socket: Socket): void {
    channel.lost(socket);
  }

  onClose(socket: Socket): void {
    channel.lost(socket);
  }

  private keep(ptr: usize, len: i32): void {
    const needed = this.length + len;
    let buf = this.buffer;
    if (buf == null || buf.length < needed) {
      const grown = new Uint8Array(max(needed, buf == null ? 256 : buf.length * 2));
      if (buf != null) memory.copy(grown.dataStart, buf.dataStart, this.length);
      this.buffer = buf = grown;
    }
    memory.copy(buf.dataStart + <usize>this.length, ptr, len);
    this.length = needed;
  }
}

/**
 * Hands every whole frame in [p, p+len) to the channel; returns the bytes they took, or -1 once the socket was
 * dropped (a frame over the maximum, or one the channel refused).
 */
function frames(socket: Socket, p: usize, len: i32): i32 {
  let used = 0;
  while (len - used >= HEADER_BYTES) {
    const at = p + <usize>used;
    const size = frameSize(at);
    if (size < 0) {
      channel.refuse(socket);
      return -1;
    }
    if (len - used < size) break;
    if (!channel.receive(socket, load<u8>(at, 4), at + HEADER_BYTES, size - HEADER_BYTES)) return -1;
    used += size;
  }
  return used;
}

/** The whole frame's size from its header at `p`, or -1 when it announces more than the maximum. */
function frameSize(p: usize): i32 {
  const length = bswap<u32>(load<u32>(p));
  if (length == 0 || length > <u32>(MAX_MESSAGE_BYTES + 1)) return -1;
  return <i32>length + 4;
}

/** Every HEARTBEAT_MS while the loop turns: a heartbeat carrying this process's open connections (u32 BE). */
class Heartbeat extends Timer {
  fire(): void {
    this.arm(HEARTBEAT_MS);
    store<u32>(heartbeatPayload, bswap<u32>(<u32>openConnectionCount()));
    channel.sendFrame(HEARTBEAT, heartbeatPayload, 4, null);
  }
}

const heartbeatPayload = memory.data(4);

/** Exit status of a drain cut short, as the host's forced stop reports it (timeout(1)'s). */
const FORCED_STOP_EXIT_CODE: i32 = 124;

/** Ends an orphaned process whose drain outlasted its grace period (a connection held open, a request never done). */
class OrphanedDrainLimit extends Timer {
  readonly ms: i32 = process.env.has("EVENTIDE_GRACE") ? I32.parseInt(process.env.get("EVENTIDE_GRACE")) : 5000;

  fire(): void {
    sys.printError("eventide: the host is gone and the drain was not done after " + this.ms.toString() + " ms; exiting");
    process.exit(FORCED_STOP_EXIT_CODE);
  }
}

// A worker hears from its primary every 250 ms (BALANCE). The primary's death ends the channel, and that end is
// the worker's STOP; a worker that hears nothing for this long takes the primary for gone too, so an end of
// the connection it never saw can't leave it serving as an orphan.
const PRIMARY_SILENCE_MS: i64 = 3000;

class PrimarySilence extends Deadline {
  expire(): void {
    channel.silent();
  }
}

class Channel {
  private server: ControlServer | null = null;
  private socket: Socket | null = null;
  private token: string = "";
  private heartbeat: Heartbeat | null = null;
  private silence: PrimarySilence | null = null;
  private waiting: Array<Uint8Array> | null = null; // frames sent before the primary connected
  private stopped: bool = false;
  private orphan: bool = false;

  /**
   * Opens the control channel the host granted, if any: EVENTIDE_CONTROL is a listener's fd (preview1: the host
   * connects and says HELLO), or `host:port` where the runtime binds its listeners itself (WASI 0.2, which can't
   * be handed a listener: the runtime connects and says HELLO).
   */
  start(): void {
    if (!process.env.has("EVENTIDE_CONTROL")) return;
    this.token = process.env.has("EVENTIDE_CONTROL_TOKEN") ? process.env.get("EVENTIDE_CONTROL_TOKEN") : "";
    if (this.token.length == 0) return;
    const control = process.env.get("EVENTIDE_CONTROL");
    const connectsOut = control.includes(":");
    const fd = connectsOut ? -1 : I32.parseInt(control);
    if (!connectsOut && fd < 3) return;
    // Until the host's HELLO, silence means it is gone (killed between starting this process and connecting).
    // Counted from now: the loop's time is from before the app's script, which may have run for seconds.
    updateTime();
    const silence = new PrimarySilence();
    silence.unref();
    silence.setDeadline(PRIMARY_SILENCE_MS);
    this.silence = silence;
    if (connectsOut) {
      this.connect(control);
      return;
    }
    if (isWorker) setAcceptsPerWakeup(ACCEPTS_PER_WAKEUP_IN_WORKER);
    const server = new ControlServer();
    server.maxConnections = 0; // the host's --max-connections is for the app's servers
    server.unref(); // the channel never keeps the loop alive: an app with nothing left to do still ends
    server.on("error", (err: NetError) => sys.printError("eventide: control channel: " + err.message));
    server.listenOn(new AddressInfo(fd, "127.0.0.1", 0));
    this.server = server;
  }

  private connect(address: string): void {
    const colon = address.lastIndexOf(":");
    const fd = sys.connect(address.substring(0, colon), I32.parseInt(address.substring(colon + 1)));
    if (fd < 0) {
      sys.printError("eventide: control channel: connect " + address + ": " + sys.errnoName(<u16>-fd));
      this.orphaned();
      return;
    }
    const socket = new Socket(fd);
    socket.unref();
    socket.on("error", (err: NetError) => {}); // the end of the channel is handled as 'end' (lost)
    socket.setReader(new FrameReader(socket));
    const hello = encodeFrame(HELLO, 0, this.token.length, this.token);
    socket.writeBytes(hello.dataStart, hello.length);
    this.accept(socket);
  }

  owns(socket: Socket): bool {
    return this.socket === socket;
  }

  /** One frame from `socket`; false once the socket was dropped (the reader must stop). */
  receive(socket: Socket, type: u8, payload: usize, length: i32): bool {
    if (this.socket !== socket) {
      if (type == HELLO && this.socket == null && this.stopped == false && payloadIs(payload, length, this.token)) {
        this.accept(socket);
        return true;
      }
      socket.destroy(); // anything else from a connection that hasn't said HELLO with the token
      return false;
    }
    const silence = this.silence;
    if (silence != null) silence.setDeadline(PRIMARY_SILENCE_MS);
    if (type == STOP) {
      this.stop();
    } else if (type == BALANCE && length == 4) {
      setConnectionTarget(<i32>bswap<u32>(load<u32>(payload)));
    } else if (type == MESSAGE_TEXT || type == MESSAGE_BYTES) {
      emitter.emitWith<Message>("message", new Message(type == MESSAGE_TEXT, Buffer.copyOf(payload, length)));
    }
    return true;
  }

  /**
   * Nothing from the host for PRIMARY_SILENCE_MS: no HELLO since the start, or (a worker) no frame since the
   * last one. Either is taken as the channel's end.
   */
  silent(): void {
    if (this.socket == null) {
      sys.printError("eventide: the host did not connect to the control channel within " +
        PRIMARY_SILENCE_MS.toString() + " ms; taking it for gone");
    }
    this.orphaned();
  }

  /** A frame announcing more than the maximum: a stranger's connection is dropped; the primary's means it broke. */
  refuse(socket: Socket): void {
    socket.destroy();
    if (this.socket === socket) this.stop();
  }

  /** The primary's connection ended. */
  lost(socket: Socket): void {
    if (this.socket === socket) this.orphaned();
  }

  /**
   * Nobody supervises this process any more, so it drains and ends — within EVENTIDE_GRACE ms (default 5000, as
   * `--grace`), since no host is left to end a drain that doesn't.
   */
  private orphaned(): void {
    if (this.orphan) return;
    this.orphan = true;
    this.stop(); // a drain STOP began goes on, now with a limit
    const limit = new OrphanedDrainLimit();
    limit.unref(); // a drain that finishes first ends the loop, and the app exits as usual
    limit.arm(limit.ms);
  }

  private accept(socket: Socket): void {
    this.socket = socket;
    socket.setTimeout(0);
    const server = this.server;
    if (server != null) server.close(); // the channel is taken: nobody else can connect
    this.server = null;
    const heartbeat = new Heartbeat();
    heartbeat.unref();
    heartbeat.arm(HEARTBEAT_MS);
    this.heartbeat = heartbeat;
    // Only a worker hears from its primary regularly (BALANCE); a single process's host may say nothing for hours.
    const silence = this.silence;
    if (silence != null) {
      if (isWorker) silence.setDeadline(PRIMARY_SILENCE_MS);
      else silence.clearDeadline();
    }
    if (sys.BINDS_LISTENERS) reportListeners();
    this.sendFrame(READY, 0, 0, null);
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting != null) {
      for (let i = 0; i < waiting.length; i++) socket.writeBytes(waiting[i].dataStart, waiting[i].length);
    }
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const silence = this.silence;
    if (silence != null) silence.clearDeadline(); // a draining worker is told nothing more
    const heartbeat = this.heartbeat;
    if (heartbeat != null) heartbeat.disarm();
    drain();
  }

  /**
   * Sends one frame of `length` payload bytes at `payload` (for text, `text` is the string to encode there
   * instead). False when it is over the maximum or there is no channel.
   */
  sendFrame(type: u8, payload: usize, length: i32, text: string | null): bool {
    if (length > MAX_MESSAGE_BYTES) {
      const err = new NetError("ERR_CLUSTER_MESSAGE_TOO_LARGE",
        "cluster.send: " + length.toString() + " bytes is over the maximum of " + MAX_MESSAGE_BYTES.toString());
      if (emitter.listenerCount("error") > 0) emitErrorSoon(emitter, err);
      else sys.printError("eventide: " + err.message);
      return false;
    }
    const frame = encodeFrame(type, payload, length, text);
    const socket = this.socket;
    if (socket == null) {
      if (this.stopped) return false;
      let waiting = this.waiting;
      if (waiting == null) this.waiting = waiting = new Array<Uint8Array>();
      waiting.push(frame);
      return true;
    }
    if (socket.destroyed) return false;
    socket.writeBytes(frame.dataStart, frame.length);
    return true;
  }
}

/** One frame of `length` payload bytes at `payload`, or of `text` encoded (then `length` is its UTF-8 size). */
function encodeFrame(type: u8, payload: usize, length: i32, text: string | null): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + length);
  store<u32>(frame.dataStart, bswap<u32>(<u32>(1 + length)));
  store<u8>(frame.dataStart, type, 4);
  if (text != null) String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, frame.dataStart + HEADER_BYTES);
  else if (length > 0) memory.copy(frame.dataStart + HEADER_BYTES, payload, length);
  return frame;
}

/**
 * LISTENING frames, one per listener the runtime bound itself: `n=host:port` (IPv6 in brackets) with n the
 * entry's position in EVENTIDE_LISTEN and the port the system picked for port 0; `n=!ECODE` when it failed.
 */
function reportListeners(): void {
  const list = net.grantedListeners();
  for (let i = 0; i < list.length; i++) {
    const l = list[i];
    const host = l.address.includes(":") ? "[" + l.address + "]" : l.address;
    const text = i.toString() + "=" + (l.fd < 0 ? "!" + sys.errnoName(<u16>-l.fd) : host + ":" + l.port.toString());
    channel.sendFrame(LISTENING, 0, String.UTF8.byteLength(text), text);
  }
}

function payloadIs(p: usize, n: i32, s: string): bool {
  if (n != s.length) return false;
  for (let i = 0; i < n; i++) {
    if (<u32>load<u8>(p + <usize>i) != <u32>s.charCodeAt(i)) return false;
  }
  return true;
}

const channel = new Channel();

/** Internal: called once by the loop's entry, after the app's script has run. */
export function startControlChannel(): void {
  channel.start();
}
