// Timers on the loop's monotonic clock: a binary min-heap ordered by (deadline, creation order), so
// 100k pending timers cost O(log n) per change. Due timers are taken out before any runs (libuv's
// ready queue), so a timer re-armed in its callback waits for the next iteration.
import { Handle } from "./handle";
import { Call, Task, now, runTicks } from "./tasks";

const TIMEOUT_MAX: f64 = 2147483647;

let heap = new Array<Timer>();
let nextSequence: u64 = 0;

/** A deadline on the heap. Subclasses say what firing means. */
export abstract class Timer extends Handle {
  when: i64 = 0;
  private sequence: u64 = 0;
  heapIndex: i32 = -1;

  abstract fire(): void;

  /** (Re)arms the timer `delay` ms from the loop's current time. */
  arm(delay: i64): void {
    if (this.heapIndex >= 0) removeAt(this.heapIndex);
    this.when = now() + delay;
    this.sequence = nextSequence++;
    this.heapIndex = heap.length;
    heap.push(this);
    siftUp(this.heapIndex);
    this._activate();
  }

  disarm(): void {
    if (this.heapIndex >= 0) removeAt(this.heapIndex);
    this._deactivate();
  }

  /** True when this timer should run before `other`. */
  @inline precedes(other: Timer): bool {
    return this.when < other.when || (this.when == other.when && this.sequence < other.sequence);
  }
}

/**
 * A deadline that moves far more often than it expires (a socket's idle timeout, an HTTP connection's
 * headers/request/keep-alive deadline): moving it only stores the time, and the heap entry is re-armed when it
 * fires early or the deadline moves earlier, so a busy connection costs no heap operation per request.
 */
export abstract class Deadline extends Timer {
  private deadline: i64 = 0; // loop time; 0 = none

  /** The deadline passed: runs once per setDeadline, unless it is moved or cleared first. */
  abstract expire(): void;

  /** Expires `ms` milliseconds from the loop's current time. */
  setDeadline(ms: i64): void {
    const at = now() + ms;
    const earlier = this.deadline == 0 || at < this.deadline;
    this.deadline = at;
    if (!this.isActive || (earlier && at < this.when)) this.arm(ms);
  }

  clearDeadline(): void {
    this.deadline = 0;
  }

  fire(): void {
    const deadline = this.deadline;
    if (deadline != 0 && deadline > now()) {
      this.arm(deadline - now());
      return;
    }
    this._deactivate();
    if (deadline != 0) {
      this.deadline = 0;
      this.expire();
    }
  }
}

/** What setTimeout and setInterval return. */
export class Timeout extends Timer {
  constructor(private task: Task, private delay: i64, private repeat: bool) {
    super();
  }

  fire(): void {
    if (this.repeat) this.arm(this.delay);
    else this._deactivate();
    this.task.run();
  }

  /** Re-arms with the original delay, as Node's timeout.refresh(). */
  refresh(): this {
    if (this.isActive) this.arm(this.delay);
    return this;
  }

  close(): void {
    this.disarm();
  }
}

function normalizeDelay(ms: f64): i64 {
  // Node: delays outside [1, 2^31-1] (and NaN) become 1.
  if (!(ms >= 1 && ms <= TIMEOUT_MAX)) return 1;
  return <i64>ms;
}

function schedule<T>(callback: (arg: T) => void, ms: f64, arg: T, repeat: bool): Timeout {
  const delay = normalizeDelay(ms);
  const t = new Timeout(new Call<T>(callback, arg), delay, repeat);
  t.arm(delay);
  return t;
}

export function setTimeout<T = i32>(callback: (arg: T) => void, ms: f64 = 0, arg: T = changetype<T>(0)): Timeout {
  return schedule<T>(callback, ms, arg, false);
}

export function setInterval<T = i32>(callback: (arg: T) => void, ms: f64 = 0, arg: T = changetype<T>(0)): Timeout {
  return schedule<T>(callback, ms, arg, true);
}

export function clearTimeout(timeout: Timeout | null): void {
  if (timeout != null) timeout.disarm();
}

export function clearInterval(timeout: Timeout | null): void {
  if (timeout != null) timeout.disarm();
}

/** Milliseconds until the nearest deadline (0 if overdue), or -1 with no timer pending. */
export function nextTimerDelay(): i64 {
  if (heap.length == 0) return -1;
  const delay = unchecked(heap[0]).when - now();
  return delay > 0 ? delay : 0;
}

export function hasTimers(): bool {
  return heap.length > 0;
}

const ready = new Array<Timer>();

/** Timers phase: everything due at the loop's current time, in deadline then creation order. */
export function runTimers(): void {
  const t = now();
  while (heap.length > 0 && unchecked(heap[0]).when <= t) {
    const timer = unchecked(heap[0]);
    removeAt(0);
    ready.push(timer);
  }
  for (let i = 0; i < ready.length; i++) {
    const timer = unchecked(ready[i]);
    // A callback earlier in this batch may have cleared or re-armed it.
    if (timer.heapIndex < 0 && timer.isActive) {
      timer.fire();
      runTicks();
    }
  }
  ready.length = 0;
}

// ---- binary heap over `heap`, each timer knowing its index ----

function removeAt(i: i32): void {
  const removed = unchecked(heap[i]);
  removed.heapIndex = -1;
  const last = heap.pop();
  if (i == heap.length) return;
  unchecked((heap[i] = last));
  last.heapIndex = i;
  siftDown(i);
  siftUp(last.heapIndex);
}

function siftUp(i: i32): void {
  const item = unchecked(heap[i]);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = unchecked(heap[parent]);
    if (!item.precedes(p)) break;
    unchecked((heap[i] = p));
    p.heapIndex = i;
    i = parent;
  }
  unchecked((heap[i] = item));
  item.heapIndex = i;
}

function siftDown(i: i32): void {
  const n = heap.length;
  const item = unchecked(heap[i]);
  while (true) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && unchecked(heap[child + 1]).precedes(unchecked(heap[child]))) child++;
    const c = unchecked(heap[child]);
    if (!c.precedes(item)) break;
    unchecked((heap[i] = c));
    c.heapIndex = i;
    i = child;
  }
  unchecked((heap[i] = item));
  item.heapIndex = i;
}

// ---- setImmediate: the check phase ----

export class Immediate extends Handle {
  constructor(public task: Task) {
    super();
  }
}

let immediates = new Array<Immediate>();
let spareImmediates = new Array<Immediate>();

export function setImmediate<T = i32>(callback: (arg: T) => void, arg: T = changetype<T>(0)): Immediate {
  const im = new Immediate(new Call<T>(callback, arg));
  immediates.push(im);
  im._activate();
  return im;
}

export function clearImmediate(im: Immediate | null): void {
  if (im != null) im._deactivate();
}

export function hasImmediates(): bool {
  return immediates.length > 0;
}

/** Check phase: immediates queued before it started; ones they queue wait for the next iteration. */
export function runImmediates(): void {
  if (immediates.length == 0) return;
  const batch = immediates;
  immediates = spareImmediates;
  for (let i = 0, k = batch.length; i < k; i++) {
    const im = unchecked(batch[i]);
    if (!im.isActive) continue; // cleared
    im._deactivate();
    im.task.run();
    runTicks();
  }
  batch.length = 0;
  spareImmediates = batch;
}
