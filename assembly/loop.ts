// The event loop, in libuv's phases: timers, I/O poll, immediates (check), close callbacks.
// One iteration is shared by both drivers: blocking (wasmtime's _start, waiting in poll_oneoff) and
// non-blocking ticks for an embedding host (timeout 0, report the next deadline).
import * as wasi from "./wasi";
import { activeHandleCount, demoteQuiet, dispatchIoEvent, hasClosing, runClosing, subscriptionSlot } from "./handle";
import { hasImmediates, nextTimerDelay, runImmediates, runTimers } from "./timers";
import { hasTicks, now, runTicks, updateTime } from "./tasks";
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
  tickDriven = true;
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

let lastSweep: i64 = 0;
const SWEEP_BATCH: i32 = 64;
const SWEEP_BATCHES_PER_ITERATION: i32 = 4;
/** The next cold slot of a sweep in progress, or -1. */
let sweepCursor: i32 = -1;
// Under eventide_tick the host's readiness is exact and a full poll only costs a scan of the subscriptions,
// so polling splits hot/cold only past a few thousand quiet ones (a sweep delays a woken connection).
let tickDriven = false;
const TICK_SPLIT_ABOVE: i32 = 4096;

/** Whether this many cold subscriptions (with `hot` hot ones) are polled apart from the hot ones. */
function splitPolling(hot: i32, cold: i32): bool {
  return hot > 0 && cold > (tickDriven ? TICK_SPLIT_ABOVE : SWEEP_BATCH);
}

/**
 * Hot/cold polling, so thousands of idle connections don't make every poll cost O(all of them). With more
 * than a batch of cold (quiet) subscriptions, the loop waits on the hot ones only — at most until the next
 * sweep, which polls the cold ones in batches without waiting, every few milliseconds (longer with more of
 * them). With no hot subscription it waits on everything; if that wait reports every cold subscription at
 * once (wasmtime 36 reports all subscriptions whenever any is ready), a sweep finds the real ones.
 */
function pollIo(timeoutNs: i64): void {
  const hot = wasi.hotSubscriptionCount();
  const total = wasi.subscriptionCount();
  const cold = total - hot;
  if (!splitPolling(hot, cold)) {
    if (readHotDirectly()) return;
    const n = wasi.poll(0, total, timeoutNs);
    updateTime();
    lastSweep = now();
    sweepCursor = -1;
    demoteQuiet();
    const productive = dispatch(n, hot, total);
    if (productive < 0) sweepCold(hot, I32.MAX_VALUE);
    noteYield(productive, hot);
    return;
  }
  // A sweep is spread over iterations, a few batches each, so the hot connections never wait for all of it.
  if (sweepCursor < 0 && now() - lastSweep >= sweepInterval(cold)) sweepCursor = hot;
  if (sweepCursor >= 0) {
    sweepCursor = sweepCold(max(sweepCursor, hot), SWEEP_BATCHES_PER_ITERATION);
    if (sweepCursor < 0) {
      lastSweep = now();
      demoteQuiet();
    }
  }
  if (readHotDirectly()) return;
  const untilSweep = sweepCursor >= 0 ? 0 : (lastSweep + sweepInterval(cold) - now()) * 1_000_000;
  const wait = timeoutNs < 0 ? untilSweep : min(timeoutNs, untilSweep);
  const polled = wasi.hotSubscriptionCount();
  const n = wasi.poll(0, polled, wait > 0 ? wait : 0);
  updateTime();
  noteYield(dispatch(n, n, n), polled); // every slot polled was hot
}

// Under wasmtime 36 a poll that finds anything ready reports every subscription (see pollIo), so while
// most hot subscriptions have something each time, a poll only repeats what the loop expects — at the cost
// of a poll(2), and an ioctl and a table lookup per subscription, in the host. The loop then reads and
// writes the hot ones without polling, until fewer than half of them yield or SPECULATIVE_LIMIT iterations
// in a row did (then a real poll also covers the cold ones, and waits if nothing is ready). Not under
// eventide_tick: the embedding host's poll reports only what is ready.
const SPECULATIVE_LIMIT: i32 = 8;
let speculativeRounds: i32 = 0;
let hotWasBusy = false;

/** Dispatches every hot subscription as if polled, when the last pass says it pays; false to poll instead. */
function readHotDirectly(): bool {
  if (tickDriven || !hotWasBusy || speculativeRounds == SPECULATIVE_LIMIT) {
    speculativeRounds = 0;
    return false;
  }
  speculativeRounds++;
  const hot = wasi.hotSubscriptionCount();
  noteYield(dispatch(wasi.reportHot(), hot, hot), hot);
  return true;
}

function noteYield(productive: i32, hot: i32): void {
  hotWasBusy = productive > 0 && productive * 2 >= hot;
}

/** Quiet subscriptions are swept every 2 ms plus 1 ms per 200 of them. */
function sweepInterval(cold: i32): i64 {
  return 2 + cold / 200;
}

/** Milliseconds until the next sweep while polling is split hot/cold, else -1. */
function sweepDelay(): i64 {
  const hot = wasi.hotSubscriptionCount();
  const cold = wasi.subscriptionCount() - hot;
  if (!splitPolling(hot, cold)) return -1;
  if (sweepCursor >= 0) return 0;
  const delay = lastSweep + sweepInterval(cold) - now();
  return delay > 0 ? delay : 0;
}

/**
 * Dispatches `n` polled events. Events of cold subscriptions (slots hot..total) are held back if they cover
 * the whole cold range, which says nothing about which is ready: returns -1 then, else how many events were
 * productive (data, EOF, a connection, a write).
 */
function dispatch(n: i32, hot: i32, total: i32): i32 {
  let coldEvents = 0;
  let productive = 0;
  if (total > hot) {
    for (let i = 0; i < n; i++) if (wasi.eventType(i) != wasi.EVENTTYPE_CLOCK && isCold(wasi.eventToken(i), wasi.eventType(i), hot)) coldEvents++;
  }
  const suspicious = coldEvents > SWEEP_BATCH && coldEvents == total - hot;
  for (let i = 0; i < n; i++) {
    const type = wasi.eventType(i);
    if (type == wasi.EVENTTYPE_CLOCK) continue;
    const token = wasi.eventToken(i);
    if (suspicious && isCold(token, type, hot)) continue;
    if (dispatchIoEvent(token, type)) productive++;
    runTicks();
    afterCallback();
  }
  return suspicious ? -1 : productive;
}

function isCold(token: u64, type: u8, hot: i32): bool {
  return subscriptionSlot(token, type) >= hot;
}

/**
 * Polls up to `batches` batches of the cold range from slot `from` without waiting, dispatching what each
 * reports. Returns where the next batch starts, or -1 once the whole range was polled.
 */
function sweepCold(from: i32, batches: i32): i32 {
  // Dispatching moves subscriptions (promotions, closes): bound each batch by the live count. One that
  // moves past the cursor waits for the next sweep.
  for (let b = 0; b < batches; b++) {
    if (from >= wasi.subscriptionCount()) return -1;
    const to = min(from + SWEEP_BATCH, wasi.subscriptionCount());
    const n = wasi.poll(from, to, 0);
    for (let i = 0; i < n; i++) {
      const type = wasi.eventType(i);
      if (type == wasi.EVENTTYPE_CLOCK) continue;
      dispatchIoEvent(wasi.eventToken(i), type);
      runTicks();
      afterCallback();
    }
    from = to;
  }
  return from < wasi.subscriptionCount() ? from : -1;
}
