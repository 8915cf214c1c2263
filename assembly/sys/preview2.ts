// The WASI 0.2 backend behind assembly/sys.ts, for the component build (wasmtime ≥ 47): TCP through
// wasi:sockets, reads, writes and readiness through wasi:io, the monotonic clock. Stderr, the wall clock and
// exit with status 1 stay preview1 calls, which the component's preview1 adapter maps. Each socket, its two
// streams and their pollables sit in a small table under a descriptor number of ours, so net.ts and the poll
// set see fds as they do with preview1. Import names and layouts: the canonical ABI over the 0.2.12 WIT
// (docs/architecture.md, "The WASI 0.2 backend").
import { Errno } from "./errno";
import { addSubscription, at, ensureCapacity, events, EVENT_SIZE, EVENTTYPE_CLOCK, EVENTTYPE_FD_READ } from "./pollset";

@external("wasi:sockets/instance-network@0.2.12", "instance-network")
declare function instance_network(): u32;
@external("wasi:sockets/tcp-create-socket@0.2.12", "create-tcp-socket")
declare function create_tcp_socket(family: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.start-bind")
declare function start_bind(self: u32, network: u32, tag: u32, a0: u32, a1: u32, a2: u32, a3: u32, a4: u32,
  a5: u32, a6: u32, a7: u32, a8: u32, a9: u32, a10: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.finish-bind")
declare function finish_bind(self: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.start-connect")
declare function start_connect(self: u32, network: u32, tag: u32, a0: u32, a1: u32, a2: u32, a3: u32, a4: u32,
  a5: u32, a6: u32, a7: u32, a8: u32, a9: u32, a10: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.finish-connect")
declare function finish_connect(self: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.set-listen-backlog-size")
declare function set_listen_backlog_size(self: u32, size: u64, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.start-listen")
declare function start_listen(self: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.finish-listen")
declare function finish_listen(self: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.accept")
declare function tcp_accept(self: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.local-address")
declare function local_address(self: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.remote-address")
declare function remote_address(self: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.shutdown")
declare function tcp_shutdown(self: u32, how: u32, ret: usize): void;
@external("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.subscribe")
declare function tcp_subscribe(self: u32): u32;
@external("wasi:sockets/tcp@0.2.12", "[resource-drop]tcp-socket")
declare function drop_tcp_socket(handle: u32): void;
@external("wasi:io/poll@0.2.12", "poll")
declare function io_poll(list: usize, len: u32, ret: usize): void;
@external("wasi:io/poll@0.2.12", "[resource-drop]pollable")
declare function drop_pollable(handle: u32): void;
@external("wasi:io/streams@0.2.12", "[method]input-stream.read")
declare function input_read(self: u32, len: u64, ret: usize): void;
@external("wasi:io/streams@0.2.12", "[method]input-stream.subscribe")
declare function input_subscribe(self: u32): u32;
@external("wasi:io/streams@0.2.12", "[method]output-stream.check-write")
declare function output_check_write(self: u32, ret: usize): void;
@external("wasi:io/streams@0.2.12", "[method]output-stream.write")
declare function output_write(self: u32, ptr: usize, len: u32, ret: usize): void;
@external("wasi:io/streams@0.2.12", "[method]output-stream.subscribe")
declare function output_subscribe(self: u32): u32;
@external("wasi:io/streams@0.2.12", "[resource-drop]input-stream")
declare function drop_input_stream(handle: u32): void;
@external("wasi:io/streams@0.2.12", "[resource-drop]output-stream")
declare function drop_output_stream(handle: u32): void;
@external("wasi:io/error@0.2.12", "[resource-drop]error")
declare function drop_error(handle: u32): void;
@external("wasi:clocks/monotonic-clock@0.2.12", "now")
declare function monotonic_now(): u64;
@external("wasi:clocks/monotonic-clock@0.2.12", "subscribe-duration")
declare function subscribe_duration(ns: u64): u32;
@external("wasi:clocks/monotonic-clock@0.2.12", "subscribe-instant")
declare function subscribe_instant(when: u64): u32;
@external("wasi:cli/exit@0.2.12", "exit-with-code")
declare function exit_with_code(code: u8): void;

// The return area of every call (a result's discriminant at 0, its payload after); single-threaded.
const RET = memory.data(48, 8);

// ---- lists the host allocates (cabi_realloc) ----
// A read's bytes and a poll's ready list are lowered into memory the host asks cabi_realloc for. Before such a
// call the backend names where they should go (the caller's read buffer, the event scratch), so the bytes land
// in place, without an allocation and a copy per call; anything else goes to the heap.
let landing: usize = 0;
let landingSize: usize = 0;

/** The canonical ABI's allocator export (`cabi_realloc`). */
export function cabiRealloc(old: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (old == 0 && landing != 0 && newSize <= landingSize) {
    const p = landing;
    landing = 0;
    return p;
  }
  return old == 0 ? heap.alloc(newSize) : heap.realloc(old, newSize);
}

@inline function landAt(ptr: usize, size: usize): void {
  landing = ptr;
  landingSize = size;
}

/** After the call: the list's bytes are at `ptr` (copied there, and the host's copy freed, if they weren't). */
function takeList(listPtr: usize, bytes: usize, ptr: usize): void {
  landing = 0;
  if (listPtr == ptr || listPtr == 0) return;
  memory.copy(ptr, listPtr, bytes);
  heap.free(listPtr);
}

// ---- descriptors ----

const FD_BASE: i32 = 3; // as preview1 numbers them: 0–2 are stdio
const MIN_READ: u32 = 4096;
// wasmtime allocates and zero-fills min(len, 64 KiB) per read (wasmtime-wasi p2/tcp.rs), so a read asks for
// what the connection has recently delivered: 4 KiB for requests, doubling while reads fill it.
const MAX_READ: u32 = 65536;

class Descriptor {
  listener: bool = false;
  socket: u32 = 0;
  input: u32 = 0;
  output: u32 = 0;
  readPollable: u32 = 0;
  writePollable: u32 = 0;
  readSize: u32 = MIN_READ;
}

const table = new Array<Descriptor | null>();
const freeFds = new Array<i32>();
// Closed with a write still in flight: wasmtime's output-stream drop waits for it (and for a full send buffer
// to drain), which would block the loop on a slow peer, so the drop waits here until check-write says done.
const lingering = new Array<Descriptor>();
let network: u32 = 0;

function open(listener: bool, socket: u32, input: u32, output: u32): i32 {
  const d = new Descriptor();
  let fd: i32;
  if (freeFds.length > 0) {
    fd = freeFds.pop();
    unchecked((table[fd - FD_BASE] = d));
  } else {
    fd = table.length + FD_BASE;
    table.push(d);
  }
  d.listener = listener;
  d.socket = socket;
  d.input = input;
  d.output = output;
  return fd;
}

@inline function descriptor(fd: u32): Descriptor {
  return changetype<Descriptor>(unchecked(table[<i32>fd - FD_BASE]));
}

function isOpen(fd: u32): bool {
  const i = <i32>fd - FD_BASE;
  return i >= 0 && i < table.length && unchecked(table[i]) != null;
}

// wasi:sockets error-code (in its enum order) → the WASI errno net.ts understands.
const SOCKET_ERRNO: StaticArray<u16> = [
  29 /* unknown: EIO */, 2 /* access-denied: EACCES */, 58 /* not-supported: ENOTSUP */,
  28 /* invalid-argument: EINVAL */, 48 /* out-of-memory: ENOMEM */, 73 /* timeout: ETIMEDOUT */,
  16 /* concurrency-conflict: EDEADLK */, 28 /* not-in-progress: EINVAL */, 6 /* would-block: EAGAIN */,
  28 /* invalid-state: EINVAL */, 33 /* new-socket-limit: EMFILE */, 4 /* address-not-bindable: EADDRNOTAVAIL */,
  3 /* address-in-use: EADDRINUSE */, 23 /* remote-unreachable: EHOSTUNREACH */,
  14 /* connection-refused: ECONNREFUSED */, 15 /* connection-reset: ECONNRESET */,
  13 /* connection-aborted: ECONNABORTED */, 35 /* datagram-too-large: EMSGSIZE */,
  44 /* name-unresolvable: ENOENT */, 6 /* temporary-resolver-failure: EAGAIN */, 29 /* permanent: EIO */
];

/**
 * The error-code of a failed result in RET, as -errno. The payload sits at the alignment of the larger case:
 * byte 1 of a `result<_, error-code>` (UNIT), byte 4 when the ok case holds handles or an address (OF_VALUE).
 */
function socketError(at: usize): i32 {
  const code = <i32>load<u8>(RET + at);
  return -<i32>(code < SOCKET_ERRNO.length ? unchecked(SOCKET_ERRNO[code]) : Errno.IO);
}

/** The error of a failed `result<_, stream-error>` whose variant is at RET+at, as -errno (closed → EPIPE). */
function streamError(at: usize): i32 {
  if (load<u8>(RET + at) == 1) return -<i32>Errno.PIPE;
  drop_error(load<u32>(RET + at, 4)); // last-operation-failed carries an error resource
  return -<i32>Errno.CONNRESET;
}

const UNIT: usize = 1;
const OF_VALUE: usize = 4;

// ---- addresses ----
// ip-socket-address flattened for a call: a tag (0 ipv4, 1 ipv6) and 11 slots (ipv4: port, 4 octets; ipv6:
// port, flow-info, 8 segments, scope-id).
const SLOTS = memory.data(12 * 4, 4);

/** Parses `host` (IPv4 dotted or IPv6 text, optionally in brackets) and `port` into SLOTS; false if invalid. */
function encodeAddress(host: string, port: i32): bool {
  memory.fill(SLOTS, 0, 48);
  if (port < 0 || port > 65535) return false;
  store<u32>(SLOTS, <u32>port, 4);
  if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length - 1);
  if (host == "localhost") host = "127.0.0.1";
  if (!host.includes(":")) return parseIPv4(host, SLOTS + 8);
  store<u32>(SLOTS, 1);
  return parseIPv6(host);
}

/** Dotted-decimal IPv4 into four u32 slots at `out`. */
function parseIPv4(text: string, out: usize): bool {
  const parts = text.split(".");
  if (parts.length != 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = unchecked(parts[i]);
    if (part.length == 0 || part.length > 3) return false;
    let value = 0;
    for (let j = 0; j < part.length; j++) {
      const c = part.charCodeAt(j) - 48;
      if (c < 0 || c > 9) return false;
      value = value * 10 + c;
    }
    if (value > 255) return false;
    store<u32>(out + (<usize>i << 2), <u32>value);
  }
  return true;
}

/** IPv6 text (RFC 4291 §2.2: hex groups, one "::", an optional dotted IPv4 tail) into slots 3–10 of SLOTS. */
function parseIPv6(text: string): bool {
  const front = new Array<u32>();
  const back = new Array<u32>();
  const gap = text.indexOf("::");
  if (gap < 0) {
    if (!parseGroups(text, front, true) || front.length != 8) return false;
  } else {
    const head = text.substring(0, gap);
    const tail = text.substring(gap + 2);
    if (tail.includes("::")) return false;
    if (head.length > 0 && !parseGroups(head, front, false)) return false;
    if (tail.length > 0 && !parseGroups(tail, back, true)) return false;
    if (front.length + back.length > 7) return false;
  }
  const segments = SLOTS + 12;
  for (let i = 0; i < front.length; i++) store<u32>(segments + <usize>i * 4, front[i]);
  const backStart = 8 - back.length;
  for (let i = 0; i < back.length; i++) store<u32>(segments + <usize>(backStart + i) * 4, back[i]);
  return true;
}

/** Colon-separated hex groups into `out`; a dotted IPv4 last group (if `v4Tail`) gives two. */
function parseGroups(text: string, out: Array<u32>, v4Tail: bool): bool {
  const groups = text.split(":");
  for (let i = 0; i < groups.length; i++) {
    const g = unchecked(groups[i]);
    if (v4Tail && i == groups.length - 1 && g.includes(".")) {
      const v4 = memory.data(16, 4);
      if (!parseIPv4(g, v4)) return false;
      out.push(load<u32>(v4) << 8 | load<u32>(v4, 4));
      out.push(load<u32>(v4, 8) << 8 | load<u32>(v4, 12));
      continue;
    }
    if (g.length == 0 || g.length > 4) return false;
    let value: u32 = 0;
    for (let j = 0; j < g.length; j++) {
      const c = g.charCodeAt(j);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (digit < 0) return false;
      value = value << 4 | <u32>digit;
    }
    out.push(value);
  }
  return true;
}

/** The ip-socket-address in RET at offset 4 (a result's payload) as text, as Node writes it. */
function formatAddress(): string {
  if (load<u8>(RET, 4) == 0) {
    return load<u8>(RET, 10).toString() + "." + load<u8>(RET, 11).toString() + "." +
      load<u8>(RET, 12).toString() + "." + load<u8>(RET, 13).toString();
  }
  const segment = (i: i32): u32 => <u32>load<u16>(RET + 16 + <usize>i * 2);
  // IPv4-mapped (::ffff:a.b.c.d), as Node reports a dual-stack peer.
  let mapped = segment(5) == 0xffff;
  for (let i = 0; i < 5; i++) if (segment(i) != 0) mapped = false;
  if (mapped) {
    return "::ffff:" + (segment(6) >> 8).toString() + "." + (segment(6) & 255).toString() + "." +
      (segment(7) >> 8).toString() + "." + (segment(7) & 255).toString();
  }
  // RFC 5952 §4.2: the longest run of two or more zero groups becomes "::" (the first of equal runs).
  let bestStart = -1, bestLength = 1;
  for (let i = 0; i < 8;) {
    if (segment(i) != 0) { i++; continue; }
    let j = i;
    while (j < 8 && segment(j) == 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  let text = "";
  for (let i = 0; i < 8; i++) {
    if (i == bestStart) {
      text += "::";
      i += bestLength - 1;
      continue;
    }
    if (text.length > 0 && !text.endsWith(":")) text += ":";
    text += segment(i).toString(16);
  }
  return text;
}

// ---- sockets ----

function startCall(socket: u32, connect: bool): void {
  const s = SLOTS;
  if (connect) {
    start_connect(socket, network, load<u32>(s), load<u32>(s, 4), load<u32>(s, 8), load<u32>(s, 12), load<u32>(s, 16),
      load<u32>(s, 20), load<u32>(s, 24), load<u32>(s, 28), load<u32>(s, 32), load<u32>(s, 36), load<u32>(s, 40),
      load<u32>(s, 44), RET);
  } else {
    start_bind(socket, network, load<u32>(s), load<u32>(s, 4), load<u32>(s, 8), load<u32>(s, 12), load<u32>(s, 16),
      load<u32>(s, 20), load<u32>(s, 24), load<u32>(s, 28), load<u32>(s, 32), load<u32>(s, 36), load<u32>(s, 40),
      load<u32>(s, 44), RET);
  }
}

/** A new TCP socket for the address in SLOTS: its handle, or -errno. */
function newSocket(): i32 {
  if (network == 0) network = instance_network();
  create_tcp_socket(load<u32>(SLOTS), RET);
  if (load<u8>(RET) != 0) return socketError(OF_VALUE);
  return <i32>load<u32>(RET, 4);
}

/** Waits until `pollable` is ready (a loopback connect; the loop isn't running yet) and drops it. */
function waitFor(pollable: u32): void {
  store<u32>(RET + 16, pollable);
  landAt(RET + 24, 8);
  io_poll(RET + 16, 1, RET);
  takeList(load<u32>(RET), 4, RET + 24);
  drop_pollable(pollable);
}

/**
 * Binds and listens on `host`:`port` (port 0: the system picks; see localPort) with `backlog`: the listener's
 * fd, or -errno (EINVAL for an address that isn't an IP literal, EADDRINUSE, EACCES…).
 */
export function listen(host: string, port: i32, backlog: i32): i32 {
  if (!encodeAddress(host, port)) return -<i32>Errno.INVAL;
  const socket = newSocket();
  if (socket < 0) return socket;
  let err = 0;
  set_listen_backlog_size(<u32>socket, <u64>backlog, RET); // a hint; the default stands if refused
  startCall(<u32>socket, false);
  if (load<u8>(RET) != 0) err = socketError(UNIT);
  if (err == 0) {
    finish_bind(<u32>socket, RET);
    if (load<u8>(RET) != 0) err = socketError(UNIT);
  }
  if (err == 0) {
    start_listen(<u32>socket, RET);
    if (load<u8>(RET) != 0) err = socketError(UNIT);
  }
  if (err == 0) {
    finish_listen(<u32>socket, RET);
    if (load<u8>(RET) != 0) err = socketError(UNIT);
  }
  if (err != 0) {
    drop_tcp_socket(<u32>socket);
    return err;
  }
  return open(true, <u32>socket, 0, 0);
}

/** Connects to `host`:`port`, waiting for the handshake (for the loopback control channel): an fd, or -errno. */
export function connect(host: string, port: i32): i32 {
  if (!encodeAddress(host, port)) return -<i32>Errno.INVAL;
  const socket = newSocket();
  if (socket < 0) return socket;
  startCall(<u32>socket, true);
  let err = load<u8>(RET) != 0 ? socketError(UNIT) : 0;
  while (err == 0) {
    finish_connect(<u32>socket, RET);
    if (load<u8>(RET) == 0) return open(false, <u32>socket, load<u32>(RET, 4), load<u32>(RET, 8));
    err = socketError(OF_VALUE);
    if (err == -<i32>Errno.AGAIN) {
      waitFor(tcp_subscribe(<u32>socket));
      err = 0;
    }
  }
  drop_tcp_socket(<u32>socket);
  return err;
}

/** The port a listener is bound to, or -errno. */
export function localPort(fd: u32): i32 {
  local_address(descriptor(fd).socket, RET);
  return load<u8>(RET) == 0 ? <i32>load<u16>(RET, 8) : socketError(OF_VALUE);
}

/** The peer's address of a connection as text ("127.0.0.1", "::1"), or null if unknown. */
export function remoteAddress(fd: u32): string | null {
  if (!isOpen(fd)) return null;
  remote_address(descriptor(fd).socket, RET);
  return load<u8>(RET) == 0 ? formatAddress() : null;
}

/** The peer's port of a connection, or -1 if unknown. */
export function remotePort(fd: u32): i32 {
  if (!isOpen(fd)) return -1;
  remote_address(descriptor(fd).socket, RET);
  return load<u8>(RET) == 0 ? <i32>load<u16>(RET, 8) : -1;
}

/** Accepts one pending connection: the new fd, or -errno (-Errno.AGAIN when none is pending). */
export function accept(listenFd: u32): i32 {
  tcp_accept(descriptor(listenFd).socket, RET);
  if (load<u8>(RET) != 0) return socketError(OF_VALUE);
  return open(false, load<u32>(RET, 4), load<u32>(RET, 8), load<u32>(RET, 12));
}

/** Receives into [ptr, ptr+len): bytes read (0 = end of stream), or -errno (-Errno.AGAIN: nothing yet). */
export function recv(fd: u32, ptr: usize, len: u32): i32 {
  const d = descriptor(fd);
  const size = min(len, d.readSize);
  landAt(ptr, len);
  input_read(d.input, size, RET);
  if (load<u8>(RET) != 0) {
    landing = 0;
    return load<u8>(RET, 4) == 1 ? 0 : streamError(4); // closed: the peer's end of stream
  }
  const n = load<u32>(RET, 8);
  takeList(load<u32>(RET, 4), n, ptr);
  if (n == size && size < MAX_READ) d.readSize = size << 1;
  else if (n < size >> 2 && size > MIN_READ) d.readSize = size >> 1;
  return n > 0 ? <i32>n : -<i32>Errno.AGAIN;
}

/** How many bytes the connection's stream takes now: > 0, 0 while a write is in flight, or -errno. */
function writable(d: Descriptor): i32 {
  output_check_write(d.output, RET);
  if (load<u8>(RET) != 0) return streamError(8);
  return <i32>min<u64>(load<u64>(RET, 8), <u64>I32.MAX_VALUE);
}

function write(d: Descriptor, ptr: usize, len: i32): i32 {
  output_write(d.output, ptr, <u32>len, RET);
  return load<u8>(RET) == 0 ? len : streamError(4);
}

/** Sends up to `len` bytes at `ptr`: bytes sent, or -errno (-Errno.AGAIN while the stream takes none). */
export function send(fd: u32, ptr: usize, len: i32): i32 {
  const d = descriptor(fd);
  const permit = writable(d);
  if (permit <= 0) return permit == 0 ? -<i32>Errno.AGAIN : permit;
  return write(d, ptr, min(permit, len));
}

// Each write needs its own check-write, so small chunks are gathered into one write; a large first chunk
// goes as it is.
const GATHER_SIZE: i32 = 16384;
const gather = memory.data(GATHER_SIZE, 16);

/**
 * Sends the queued chunks, skipping the first `skip` bytes of the first: bytes sent, or -errno. Small chunks
 * are copied into one write of up to 16 KiB; a first chunk of that size or more is written alone.
 */
export function sendChunks(fd: u32, chunks: Array<Uint8Array>, skip: i32): i32 {
  const d = descriptor(fd);
  const permit = writable(d);
  if (permit <= 0) return permit == 0 ? -<i32>Errno.AGAIN : permit;
  const first = unchecked(chunks[0]);
  const firstLength = first.length - skip;
  if (chunks.length == 1 || firstLength >= GATHER_SIZE) {
    return write(d, first.dataStart + <usize>skip, min(permit, firstLength));
  }
  const room = min(permit, GATHER_SIZE);
  let used = 0;
  for (let i = 0; i < chunks.length && used < room; i++) {
    const chunk = unchecked(chunks[i]);
    const from = i == 0 ? skip : 0;
    const n = min(chunk.length - from, room - used);
    memory.copy(gather + <usize>used, chunk.dataStart + <usize>from, n);
    used += n;
  }
  return write(d, gather, used);
}

export function shutdownWrite(fd: u32): u16 {
  tcp_shutdown(descriptor(fd).socket, 1 /* send */, RET);
  return load<u8>(RET) == 0 ? Errno.SUCCESS : <u16>-socketError(UNIT);
}

/** Closes a descriptor: its pollables, then its streams, then its socket (children before their parent). */
export function close(fd: u32): u16 {
  if (!isOpen(fd)) return Errno.BADF;
  const d = descriptor(fd);
  unchecked((table[<i32>fd - FD_BASE] = null));
  if (d.readPollable != 0) drop_pollable(d.readPollable);
  if (d.writePollable != 0) drop_pollable(d.writePollable);
  d.readPollable = d.writePollable = 0;
  if (d.input != 0) drop_input_stream(d.input);
  d.input = 0;
  if (d.output != 0 && writable(d) == 0) {
    lingering.push(d); // its fd is free; the handles go once the write is done
  } else {
    release(d);
  }
  freeFds.push(<i32>fd);
  return Errno.SUCCESS;
}

function release(d: Descriptor): void {
  if (d.output != 0) drop_output_stream(d.output);
  drop_tcp_socket(d.socket);
}

/** Drops the lingering streams whose writes have finished. */
function releaseLingering(): void {
  for (let i = lingering.length - 1; i >= 0; i--) {
    const d = unchecked(lingering[i]);
    if (writable(d) == 0) continue;
    release(d);
    const last = lingering.pop();
    if (i < lingering.length) unchecked((lingering[i] = last));
  }
}

/**
 * Before the process ends: waits up to `timeoutMs` for writes still in flight on closed connections (a
 * response's last bytes), as the kernel would deliver them after close(2) under preview1.
 */
export function settle(timeoutMs: i32): void {
  const deadline = monotonic_now() + <u64>timeoutMs * 1_000_000;
  releaseLingering();
  while (lingering.length > 0) {
    const now = monotonic_now();
    if (now >= deadline) return;
    const clock = subscribe_duration(deadline - now);
    const waiting = output_subscribe(unchecked(lingering[0]).output);
    pollOnce(clock, waiting);
    drop_pollable(waiting);
    drop_pollable(clock);
    releaseLingering();
  }
}

// ---- the poll set ----

/** A read or write subscription on `fd`'s pollable (made once per descriptor and kept), hot; returns its slot. */
export function subscribe(fd: u32, type: u8, token: u64): i32 {
  const d = descriptor(fd);
  let pollable: u32;
  if (type == EVENTTYPE_FD_READ) {
    pollable = readPollable(d);
  } else {
    pollable = d.writePollable;
    if (pollable == 0) d.writePollable = pollable = output_subscribe(d.output);
  }
  return addSubscription(pollable, type, token);
}

function readPollable(d: Descriptor): u32 {
  if (d.readPollable == 0) d.readPollable = d.listener ? tcp_subscribe(d.socket) : input_subscribe(d.input);
  return d.readPollable;
}

/**
 * Polls `fd` for reading without waiting, so that a host answering from a readiness cache (tokio's, which
 * eventide-wasmtime refreshes at each poll) has looked at the socket before a non-blocking call that follows.
 */
export function refreshReadiness(fd: u32): void {
  if (isOpen(fd)) pollOnce(clockFor(0), readPollable(descriptor(fd)));
}

/** One wasi:io/poll of `pollable` with `clock` as its timeout, the ready list landed in scratch and discarded. */
function pollOnce(clock: u32, pollable: u32): void {
  store<u32>(RET + 16, clock);
  store<u32>(RET + 20, pollable);
  landAt(RET + 24, 8);
  io_poll(RET + 16, 2, RET);
  takeList(load<u32>(RET), load<u32>(RET, 4) << 2, RET + 24);
}

// The pollable list handed to wasi:io/poll, and the ready indices it returns (grown as needed).
let pollList: usize = 0;
let pollListCapacity: i32 = 0;

/**
 * Polls the subscriptions in slots [from, to) with wasi:io/poll; `timeoutNs` < 0 waits without a clock (the
 * range must then not be empty). Fills the shared event list and returns the number of events.
 */
export function poll(from: i32, to: i32, timeoutNs: i64): i32 {
  releaseLingering();
  ensureCapacity(1); // the event list exists even before the first subscription
  const n = to - from;
  const clocked = timeoutNs >= 0;
  const total = n + (clocked ? 1 : 0);
  if (total > pollListCapacity) {
    pollListCapacity = max(total, pollListCapacity * 2);
    pollList = pollList == 0 ? heap.alloc(<usize>pollListCapacity * 8) : heap.realloc(pollList, <usize>pollListCapacity * 8);
  }
  const ready = pollList + <usize>pollListCapacity * 4;
  let p = pollList;
  if (clocked) {
    store<u32>(p, clockFor(timeoutNs));
    p += 4;
  }
  for (let slot = from; slot < to; slot++, p += 4) store<u32>(p, load<u32>(at(slot), 16));
  landAt(ready, <usize>total * 4);
  io_poll(pollList, <u32>total, RET);
  const count = <i32>load<u32>(RET, 4);
  takeList(load<u32>(RET), <usize>count * 4, ready);
  const offset = from - (clocked ? 1 : 0);
  for (let i = 0; i < count; i++) {
    const index = <i32>load<u32>(ready + <usize>i * 4);
    const event = events + <usize>i * EVENT_SIZE;
    if (clocked && index == 0) {
      store<u64>(event, 0);
      store<u8>(event, EVENTTYPE_CLOCK, 10);
    } else {
      const sub = at(offset + index);
      store<u64>(event, load<u64>(sub));
      store<u8>(event, load<u8>(sub, 8), 10);
    }
    store<u16>(event, 0, 8);
  }
  return count;
}

// A poll's timeout is a clock pollable. Making one and dropping it costs two calls per poll, so deadlines are
// rounded up to the millisecond and the pollable is kept while polls wait for the same one (several per
// millisecond under load); a deadline in the past, always ready, serves every poll that must not wait.
let clockPollable: u32 = 0;
let clockDeadline: u64 = 0;
let readyPollable: u32 = 0;
// The loop reads the clock once per iteration (monotonicNs), just before it polls.
let lastNow: u64 = 0;

function clockFor(timeoutNs: i64): u32 {
  if (timeoutNs == 0) {
    if (readyPollable == 0) readyPollable = subscribe_instant(0);
    return readyPollable;
  }
  const deadline = (lastNow + <u64>timeoutNs + 999_999) / 1_000_000 * 1_000_000;
  if (deadline != clockDeadline || clockPollable == 0) {
    if (clockPollable != 0) drop_pollable(clockPollable);
    clockPollable = subscribe_instant(deadline);
    clockDeadline = deadline;
  }
  return clockPollable;
}

// ---- clocks and exit ----

/** Monotonic time in nanoseconds. */
export function monotonicNs(): u64 {
  return (lastNow = monotonic_now());
}

/** Ends the process with `code` (the preview1 adapter's proc_exit would turn every failure into 1). */
export function exit(code: i32): void {
  exit_with_code(<u8>code);
}
