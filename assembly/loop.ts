// The event loop, in libuv's phases (uv_run): timers, I/O poll, immediates (check), close callbacks — and
// nothing else: the poll phase is poller.ts, the OS behind it sys.ts. One iteration is shared by both drivers:
// blocking (wasmtime's _start, waiting in poll) and non-blocking ticks for an embedding host (timeout 0,
// report the next deadline).
import { activeHandleCount, hasClosing, runClosing } from "./handle";
import { pollIo, setTickDriven, sweepDelay } from "./poller";
import { hasImmediates, nextTimerDelay, runImmediates, runTimers } from "./timers";
import { hasTicks, runTicks, updateTime } from "./tasks";
import { afterCallback } from "./heap";

export const TICK_DONE: i64 = -1;
export const TICK_IDLE: i64 = -2;

/** The loop goes on while a referenced handle is active, or a tick or close callback is pending. */
export function loopAlive(): bool {
  return activeHandleCount() > 0 || hasClosing() || hasTicks();
}

/** Runs until nothing is left, waiting in poll_oneoff between events. */
export function run(): void {
  runTicks(); // the script's own nextTicks run before the loop starts, as in Node
  while (loopAlive()) {
    iterate(false);
  }
}

/** One iteration without waiting. Returns TICK_DONE, TICK_IDLE (only I/O can wake the loop) or ns to wait. */
export function tick(): i64 {
  runTicks();
  setTickDriven();
  if (loopAlive()) iterate(true);
  if (!loopAlive()) return TICK_DONE;
  if (hasImmediates() || hasClosing() || hasTicks()) return 0;
  // The host must also call back for the next sweep of quiet subscriptions, if one is pending.
  const timer = nextTimerDelay();
  const sweep = sweepDelay();
  const delay = timer < 0 ? sweep : sweep < 0 ? timer : min(timer, sweep);
  return delay < 0 ? TICK_IDLE : delay * 1_000_000;
}

// No phase keeps a reference on the stack between callbacks: those are the collector's safe points.
function iterate(nonBlocking: bool): void {
  updateTime();
  runTimers();
  afterCallback();
  pollIo(nonBlocking ? 0 : pollTimeoutNs());
  runImmediates();
  runClosing();
  afterCallback();
}

/** How long poll may wait: not at all with work queued, until the nearest timer, or indefinitely (-1). */
function pollTimeoutNs(): i64 {
  if (hasImmediates() || hasClosing() || hasTicks() || activeHandleCount() == 0) return 0;
  const delay = nextTimerDelay();
  return delay < 0 ? -1 : delay * 1_000_000;
}
