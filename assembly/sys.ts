// The runtime's one door to the operating system (libuv's uv__io_poll and friends, one backend per platform):
// sockets, clocks, stderr, exit and the poll set. net, loop and the rest import this file only. The build picks
// the backend: WASI preview1 (the module for wasmtime 36–46 and the Node engine), or WASI 0.2 for the
// component build, which compiles with `--use EVENTIDE_WASI_P2=1` (scripts/build.mjs); the other backend's
// functions and imports are not compiled in.
import * as p1 from "./sys/preview1";
import * as p2 from "./sys/preview2";
import { addSubscription } from "./sys/pollset";
import { Errno } from "./sys/errno";

export * from "./sys/errno";
export * from "./sys/files";
export {
  EVENTTYPE_CLOCK, EVENTTYPE_FD_READ, EVENTTYPE_FD_WRITE, onSubscriptionMoved, unsubscribe, promote, demote,
  subscriptionCount, hotSubscriptionCount, subscriptionToken, reportHot, eventToken, eventError, eventType,
} from "./sys/pollset";
export { fatal, printError, realtimeMs } from "./sys/preview1"; // through the component's adapter under 0.2

// @ts-ignore: a compile-time constant of the component build
const P2: bool = isDefined(EVENTIDE_WASI_P2);

/**
 * Whether the runtime binds the listeners EVENTIDE_LISTEN names itself (WASI 0.2: a component can't be handed
 * a listening socket), rather than finding the host's among its fds (preview1).
 */
export const BINDS_LISTENERS: bool = P2;

/**
 * Whether a poll reports only the subscriptions that are ready (wasi:io/poll), unlike wasmtime 36's
 * poll_oneoff, which reports every one whenever any is ready.
 */
export const POLL_REPORTS_ONLY_READY: bool = P2;

/**
 * Before non-blocking calls on `fd` after a long time without polling (a listener's last accepts as it closes):
 * lets a host that answers them from a readiness cache look at the socket again. Nothing to do under preview1.
 */
export function refreshReadiness(fd: u32): void {
  if (P2) p2.refreshReadiness(fd);
}

/** Monotonic time in nanoseconds. */
@inline export function monotonicNs(): u64 {
  return P2 ? p2.monotonicNs() : p1.monotonicNs();
}

/** Ends the process with `code` (kept under WASI 0.2 too). */
export function exit(code: i32): void {
  if (P2) p2.exit(code);
  else process.exit(code);
}

/** Waits up to `timeoutMs` for the last bytes of closed connections to leave (WASI 0.2; nothing to do under preview1). */
export function settle(timeoutMs: i32): void {
  if (P2) p2.settle(timeoutMs);
}

/** The granted listening sockets among fds 3, 4, … but `exclude` (preview1; none under WASI 0.2). */
export function probeListeners(exclude: i32): Array<i32> {
  return P2 ? new Array<i32>() : p1.probeListeners(exclude);
}

/** Binds and listens on an IP literal and port (0: any): an fd, or -errno. Only where BINDS_LISTENERS. */
export function listen(host: string, port: i32, backlog: i32): i32 {
  return P2 ? p2.listen(host, port, backlog) : -<i32>Errno.NOTSUP;
}

/** The port a listener the runtime bound is on, or -errno. Only where BINDS_LISTENERS. */
export function localPort(fd: u32): i32 {
  return P2 ? p2.localPort(fd) : -<i32>Errno.NOTSUP;
}

/** Connects to an IP literal and port, waiting for the handshake: an fd, or -errno. Only where BINDS_LISTENERS. */
export function connect(host: string, port: i32): i32 {
  return P2 ? p2.connect(host, port) : -<i32>Errno.NOTSUP;
}

/** A connection's peer address as text, or null where the backend can't tell (preview1). */
export function remoteAddress(fd: u32): string | null {
  return P2 ? p2.remoteAddress(fd) : null;
}

/** A connection's peer port, or -1 where the backend can't tell (preview1). */
export function remotePort(fd: u32): i32 {
  return P2 ? p2.remotePort(fd) : -1;
}

export function setNonBlocking(fd: u32): u16 {
  return P2 ? Errno.SUCCESS : p1.setNonBlocking(fd);
}

/** Accepts one pending connection: the new fd, or -errno (-Errno.AGAIN when none is pending). */
@inline export function accept(listenFd: u32): i32 {
  return P2 ? p2.accept(listenFd) : p1.accept(listenFd);
}

/** Receives into [ptr, ptr+len): bytes read (0 = end of stream), or -errno (-Errno.AGAIN: nothing yet). */
@inline export function recv(fd: u32, ptr: usize, len: u32): i32 {
  return P2 ? p2.recv(fd, ptr, len) : p1.recv(fd, ptr, len);
}

/** Sends up to `len` bytes at `ptr`: bytes sent, or -errno (-Errno.AGAIN when none can go now). */
@inline export function send(fd: u32, ptr: usize, len: i32): i32 {
  return P2 ? p2.send(fd, ptr, len) : p1.send(fd, ptr, len);
}

/** Sends queued chunks, skipping `skip` bytes of the first: bytes sent, or -errno. */
@inline export function sendChunks(fd: u32, chunks: Array<Uint8Array>, skip: i32): i32 {
  return P2 ? p2.sendChunks(fd, chunks, skip) : p1.sendChunks(fd, chunks, skip);
}

export function shutdownWrite(fd: u32): u16 {
  return P2 ? p2.shutdownWrite(fd) : p1.shutdownWrite(fd);
}

export function close(fd: u32): u16 {
  return P2 ? p2.close(fd) : p1.close(fd);
}

/** A read or write subscription on `fd`, hot; returns its slot. `token` comes back with its event. */
@inline export function subscribe(fd: u32, type: u8, token: u64): i32 {
  return P2 ? p2.subscribe(fd, type, token) : addSubscription(fd, type, token);
}

/** Polls the subscriptions in slots [from, to), waiting up to `timeoutNs` (< 0: no clock): the event count. */
@inline export function poll(from: i32, to: i32, timeoutNs: i64): i32 {
  return P2 ? p2.poll(from, to, timeoutNs) : p1.poll(from, to, timeoutNs);
}

/** The canonical ABI's allocator, exported by the entry as `cabi_realloc` (called by WASI 0.2 hosts only). */
export { cabiRealloc as cabi_realloc } from "./sys/preview2";
