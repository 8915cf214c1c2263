// The WASI preview1 backend behind assembly/sys.ts (wasmtime 36–46, and the Node engine's shim): sockets,
// clocks, stderr and exit, and poll_oneoff over the shared poll set.
import { Errno, errnoName } from "./errno";
import { at, ensureCapacity, events, swapTemp, EVENTTYPE_CLOCK, SUB_SIZE } from "./pollset";

@external("wasi_snapshot_preview1", "poll_oneoff")
declare function poll_oneoff(subscriptions: usize, events: usize, count: u32, eventCountOut: usize): u16;
@external("wasi_snapshot_preview1", "sock_accept")
declare function sock_accept(fd: u32, flags: u16, fdOut: usize): u16;
@external("wasi_snapshot_preview1", "sock_recv")
declare function sock_recv(fd: u32, iovs: usize, iovsLen: u32, flags: u16, lenOut: usize, flagsOut: usize): u16;
@external("wasi_snapshot_preview1", "sock_send")
declare function sock_send(fd: u32, iovs: usize, iovsLen: u32, flags: u16, lenOut: usize): u16;
@external("wasi_snapshot_preview1", "sock_shutdown")
declare function sock_shutdown(fd: u32, how: u8): u16;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_fdstat_get")
declare function fd_fdstat_get(fd: u32, statOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_fdstat_set_flags")
declare function fd_fdstat_set_flags(fd: u32, flags: u16): u16;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, writtenOut: usize): u16;
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;
@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(clock: u32, precision: u64, timeOut: usize): u16;

// Scratch words for out-parameters and the single iovec; the runtime is single-threaded.
const scratch = memory.data(32);
const IOV = scratch;          // iovec { buf: u32, len: u32 }
const OUT_A = scratch + 16;   // u32 or u64 out-parameter
const OUT_B = scratch + 24;

const FILETYPE_SOCKET_STREAM: u8 = 6;
const FDFLAGS_NONBLOCK: u16 = 4;
const SDFLAGS_WR: u8 = 2;
const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;

/** Prints `message` and a newline to stderr and exits with status 1 (an uncaught error, as in Node). */
export function fatal(message: string): void {
  printError(message);
  proc_exit(1);
}

/** Writes `message` and a newline to stderr (no prefix), for the runtime's own warnings. */
export function printError(message: string): void {
  const text = String.UTF8.encode(message + "\n");
  store<u32>(IOV, <u32>changetype<usize>(text));
  store<u32>(IOV, <u32>text.byteLength, 4);
  fd_write(2, IOV, 1, OUT_A);
}

/** Wall-clock time in milliseconds since the Unix epoch. */
export function realtimeMs(): i64 {
  clock_time_get(CLOCK_REALTIME, 1_000_000, OUT_A);
  return <i64>(load<u64>(OUT_A) / 1_000_000);
}

/** Monotonic time in nanoseconds. */
export function monotonicNs(): u64 {
  clock_time_get(CLOCK_MONOTONIC, 1000, OUT_A);
  return load<u64>(OUT_A);
}

/**
 * The listening sockets the host granted without naming them (`wasmtime -S tcplisten`): every socket among the
 * fds 3, 4, … up to the first that isn't open, but `exclude`.
 */
export function probeListeners(exclude: i32): Array<i32> {
  const fds = new Array<i32>();
  const stat = scratch; // fdstat is 24 bytes; IOV is not in use here
  for (let fd = 3; fd_fdstat_get(<u32>fd, stat) == Errno.SUCCESS; fd++) {
    if (load<u8>(stat) == FILETYPE_SOCKET_STREAM && fd != exclude) fds.push(fd);
  }
  return fds;
}

export function setNonBlocking(fd: u32): u16 {
  return fd_fdstat_set_flags(fd, FDFLAGS_NONBLOCK);
}

/** Accepts one pending connection: the new fd, or -errno (-Errno.AGAIN when none is pending). */
export function accept(listenFd: u32): i32 {
  const err = sock_accept(listenFd, FDFLAGS_NONBLOCK, OUT_A);
  return err == Errno.SUCCESS ? <i32>load<u32>(OUT_A) : -<i32>err;
}

/** Receives into [ptr, ptr+len): bytes read (0 = end of stream), or -errno. */
export function recv(fd: u32, ptr: usize, len: u32): i32 {
  store<u32>(IOV, <u32>ptr);
  store<u32>(IOV, len, 4);
  const err = sock_recv(fd, IOV, 1, 0, OUT_A, OUT_B);
  return err == Errno.SUCCESS ? <i32>load<u32>(OUT_A) : -<i32>err;
}

/** Sends `len` bytes at `ptr`: bytes sent, or -errno (-Errno.AGAIN when the socket's buffer is full). */
export function send(fd: u32, ptr: usize, len: i32): i32 {
  store<u32>(IOV, <u32>ptr);
  store<u32>(IOV, <u32>len, 4);
  const err = sock_send(fd, IOV, 1, 0, OUT_A);
  return err == Errno.SUCCESS ? <i32>load<u32>(OUT_A) : -<i32>err;
}

const MAX_IOVECS: i32 = 64;
const iovecs = memory.data(MAX_IOVECS * 8, 8);

/**
 * Sends the queued chunks in one gathered write, skipping the first `skip` bytes of the first chunk: bytes
 * sent, or -errno. At most 64 chunks go per call.
 */
export function sendChunks(fd: u32, chunks: Array<Uint8Array>, skip: i32): i32 {
  const count = min(chunks.length, MAX_IOVECS);
  for (let i = 0; i < count; i++) {
    const chunk = unchecked(chunks[i]);
    const from = i == 0 ? skip : 0;
    store<u32>(iovecs + (<usize>i << 3), <u32>(chunk.dataStart + <usize>from));
    store<u32>(iovecs + (<usize>i << 3), <u32>(chunk.length - from), 4);
  }
  const err = sock_send(fd, iovecs, <u32>count, 0, OUT_A);
  return err == Errno.SUCCESS ? <i32>load<u32>(OUT_A) : -<i32>err;
}

export function shutdownWrite(fd: u32): u16 {
  return sock_shutdown(fd, SDFLAGS_WR);
}

export function close(fd: u32): u16 {
  return fd_close(fd);
}

// ---- poll_oneoff over the shared poll set (pollset.ts): its records are poll_oneoff's subscriptions ----

/**
 * Polls the subscriptions in slots [from, to); `timeoutNs` < 0 waits without a clock. Returns the number of
 * events. The clock subscription goes in the slot just before `from` (slot -1 is reserved for it; any other
 * occupant is saved and put back), so every range can carry a timeout.
 */
export function poll(from: i32, to: i32, timeoutNs: i64): i32 {
  const n = to - from;
  ensureCapacity(1);
  let first = at(from);
  let total = n;
  const clock = at(from - 1);
  if (timeoutNs >= 0) {
    if (from > 0) memory.copy(swapTemp, clock, SUB_SIZE);
    first = clock;
    total++;
    store<u64>(clock, 0);
    store<u8>(clock, EVENTTYPE_CLOCK, 8);
    store<u32>(clock, CLOCK_MONOTONIC, 16);
    store<u64>(clock, <u64>timeoutNs, 24);
    store<u64>(clock, 0, 32); // precision
    store<u16>(clock, 0, 40); // relative
  }
  const err = poll_oneoff(first, events, <u32>total, OUT_A);
  if (timeoutNs >= 0 && from > 0) memory.copy(clock, swapTemp, SUB_SIZE);
  if (err != Errno.SUCCESS) {
    if (err == Errno.INTR) return 0;
    abort("poll_oneoff failed: " + errnoName(err));
  }
  return <i32>load<u32>(OUT_A);
}

