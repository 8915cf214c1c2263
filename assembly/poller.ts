// The polling policy (libuv's uv__io_poll, above the backend's poll set in sys.ts): which subscriptions a poll
// covers, when quiet ones are swept, when a busy server reads its hot connections without polling, and how
// each event reaches its handle.
import * as sys from "./sys";
import { handleOf } from "./handle";
import { runTicks, now, updateTime } from "./tasks";
import { afterCallback } from "./heap";

let lastSweep: i64 = 0;
const IDLE_SLEEP_NS: i64 = 3_600_000_000_000;
const SWEEP_BATCH: i32 = 64;
const SWEEP_BATCHES_PER_ITERATION: i32 = 4;
/** The next cold slot of a sweep in progress, or -1. */
let sweepCursor: i32 = -1;
// Under eventide_tick the host's readiness is exact and a full poll only costs a scan of the subscriptions,
// so polling splits hot/cold only past a few thousand quiet ones (a sweep delays a woken connection).
let tickDriven = false;

/** The loop is driven by eventide_tick (an embedding host), not by a blocking poll. */
export function setTickDriven(): void {
  tickDriven = true;
}
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
export function pollIo(timeoutNs: i64): void {
  const hot = sys.hotSubscriptionCount();
  const total = sys.subscriptionCount();
  const cold = total - hot;
  if (!splitPolling(hot, cold)) {
    if (readHotDirectly()) return;
    // Nothing to wait on but the loop is alive (e.g. every socket paused): sleep in long steps, as Node
    // would sleep, rather than spin (a backend may not wait without a subscription).
    const n = sys.poll(0, total, total == 0 && timeoutNs < 0 ? IDLE_SLEEP_NS : timeoutNs);
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
  const polled = sys.hotSubscriptionCount();
  const n = sys.poll(0, polled, wait > 0 ? wait : 0);
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
  if (tickDriven || sys.POLL_REPORTS_ONLY_READY || !hotWasBusy || speculativeRounds == SPECULATIVE_LIMIT) {
    speculativeRounds = 0;
    return false;
  }
  speculativeRounds++;
  const hot = sys.hotSubscriptionCount();
  noteYield(dispatch(sys.reportHot(), hot, hot), hot);
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
export function sweepDelay(): i64 {
  const hot = sys.hotSubscriptionCount();
  const cold = sys.subscriptionCount() - hot;
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
    for (let i = 0; i < n; i++) if (sys.eventType(i) != sys.EVENTTYPE_CLOCK && isCold(sys.eventToken(i), sys.eventType(i), hot)) coldEvents++;
  }
  const suspicious = coldEvents > SWEEP_BATCH && coldEvents == total - hot;
  for (let i = 0; i < n; i++) {
    const type = sys.eventType(i);
    if (type == sys.EVENTTYPE_CLOCK) continue;
    const token = sys.eventToken(i);
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
    if (from >= sys.subscriptionCount()) return -1;
    const to = min(from + SWEEP_BATCH, sys.subscriptionCount());
    const n = sys.poll(from, to, 0);
    for (let i = 0; i < n; i++) {
      const type = sys.eventType(i);
      if (type == sys.EVENTTYPE_CLOCK) continue;
      dispatchIoEvent(sys.eventToken(i), type);
      runTicks();
      afterCallback();
    }
    from = to;
  }
  return from < sys.subscriptionCount() ? from : -1;
}

/**
 * Delivers one polled fd event; returns whether it was productive (data, EOF, a connection, a write). A handle
 * closed earlier in the same batch is skipped. Only a productive event makes the subscription hot: some hosts
 * report readiness for every subscription whenever any is ready (wasmtime 36's poll_oneoff does).
 */
export function dispatchIoEvent(token: u64, type: u8): bool {
  const handle = handleOf(token);
  if (handle.fd < 0) return false;
  if (type == sys.EVENTTYPE_FD_READ) {
    if (!handle.watchingRead) return false;
    const slot = handle.readSlotIndex;
    if (!handle.onReadable()) return false;
    if (handle.readSlotIndex == slot) {
      handle.lastEvent = now();
      sys.promote(slot);
    }
    return true;
  }
  if (!handle.watchingWrite || !handle.onWritable()) return false;
  handle.lastEvent = now();
  if (handle.watchingWrite) sys.promote(handle.writeSlotIndex); // still more to write
  return true;
}

/** The slot of the subscription a polled event names (-1 if it is gone). */
export function subscriptionSlot(token: u64, type: u8): i32 {
  const handle = handleOf(token);
  return type == sys.EVENTTYPE_FD_READ ? handle.readSlotIndex : handle.writeSlotIndex;
}

const QUIET_MS: i64 = 10;

/** After a full poll: subscriptions of handles quiet for a while become cold. */
export function demoteQuiet(): void {
  const t = now();
  for (let slot = sys.hotSubscriptionCount() - 1; slot >= 0; slot--) {
    const handle = handleOf(sys.subscriptionToken(slot));
    if (!handle.alwaysHot && t - handle.lastEvent > QUIET_MS) sys.demote(slot);
  }
}

