// Deferred calls without closures: a Task carries its function and argument. Also the loop's cached clock
// (libuv's uv_now) and the nextTick queue, which drains after every callback the loop makes.
import * as sys from "./sys";

export abstract class Task {
  abstract run(): void;
}

/** `fn(arg)` later. A function declared with no parameter is fine too. */
export class Call<T> extends Task {
  constructor(public fn: (arg: T) => void, public arg: T) {
    super();
  }
  run(): void {
    this.fn(this.arg);
  }
}

let cachedNow: i64 = <i64>(sys.monotonicNs() / 1_000_000);

/** The loop's time in milliseconds, refreshed once per iteration. */
export function now(): i64 {
  return cachedNow;
}

export function updateTime(): void {
  cachedNow = <i64>(sys.monotonicNs() / 1_000_000);
}

let ticks = new Array<Task>();
let spareTicks = new Array<Task>();

/** Node's process.nextTick: runs after the current callback, before the loop goes on. */
export function nextTick<T>(fn: (arg: T) => void, arg: T): void {
  ticks.push(new Call<T>(fn, arg));
}

export function queueTick(task: Task): void {
  ticks.push(task);
}

export function hasTicks(): bool {
  return ticks.length > 0;
}

/** Drains the nextTick queue, including ticks queued while draining (as Node does). */
export function runTicks(): void {
  while (ticks.length > 0) {
    const batch = ticks;
    ticks = spareTicks;
    for (let i = 0, k = batch.length; i < k; i++) unchecked(batch[i]).run();
    batch.length = 0;
    spareTicks = batch;
  }
}
