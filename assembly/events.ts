// EventEmitter with Node's semantics, closure-free: a listener gets the emitter's arguments, and the
// emitter itself where Node would have bound `this` (see docs/api.md). Listeners are stored as function
// references plus their declared arity, so `(chunk) => …` and `(chunk, socket) => …` both work.

import { fatal } from "./sys";
import { Task, queueTick } from "./tasks";

class Listener {
  constructor(
    public event: string,
    public fn: usize,        // a function reference of the arity below
    public arity: i32,
    public once: bool,
  ) {}
}

export class EventEmitter {
  // Allocated on the first `on`, so an emitter nobody listens to costs one word.
  private listeners: Array<Listener> | null = null;
  // Nesting depth of emit(); while > 0 a change to the listeners copies the array first, so the
  // running emit keeps iterating the registrations it started with (Node's arrayClone, paid only on change).
  private emitting: i32 = 0;

  on<F>(event: string, listener: F): this {
    return this.add(event, changetype<usize>(listener), lengthof<F>(), false);
  }

  addListener<F>(event: string, listener: F): this {
    return this.add(event, changetype<usize>(listener), lengthof<F>(), false);
  }

  once<F>(event: string, listener: F): this {
    return this.add(event, changetype<usize>(listener), lengthof<F>(), true);
  }

  /** Removes the most recently added registration of `listener` for `event`, as Node does. */
  off<F>(event: string, listener: F): this {
    const list = this.mutableListeners();
    if (list == null) return this;
    const fn = changetype<usize>(listener);
    for (let i = list.length - 1; i >= 0; i--) {
      const l = unchecked(list[i]);
      if (l.fn == fn && l.event == event) {
        list.splice(i, 1);
        break;
      }
    }
    return this;
  }

  removeListener<F>(event: string, listener: F): this {
    return this.off<F>(event, listener);
  }

  removeAllListeners(event: string | null = null): this {
    const list = this.mutableListeners();
    if (list == null) return this;
    if (event == null) {
      this.listeners = null;
      return this;
    }
    for (let i = list.length - 1; i >= 0; i--) {
      if (unchecked(list[i]).event == event) list.splice(i, 1);
    }
    return this;
  }

  listenerCount(event: string): i32 {
    const list = this.listeners;
    if (list == null) return 0;
    let n = 0;
    for (let i = 0, k = list.length; i < k; i++) {
      if (unchecked(list[i]).event == event) n++;
    }
    return n;
  }

  /** Emits with no argument; listeners may still declare `(emitter)`. */
  emit(event: string): bool {
    return this.emitWith<EventEmitter>(event, this);
  }

  /**
   * Emits `arg`. Every listener receives `(arg, emitter)` cut to its arity. Like Node, 'error' with no
   * listener is fatal: the message goes to stderr and the process exits with status 1.
   */
  emitWith<A>(event: string, arg: A): bool {
    return this.emitPair<A, EventEmitter>(event, arg, this);
  }

  /** Emits two arguments, e.g. HTTP's `(req, res)`; listeners receive `(a, b, emitter)` cut to their arity. */
  emitPair<A, B>(event: string, a: A, b: B): bool {
    const list = this.listeners;
    if (list == null || !this.hasAny(list, event)) {
      if (event == "error") uncaught<A>(a);
      return false;
    }
    this.emitting++;
    for (let i = 0, k = list.length; i < k; i++) {
      const l = unchecked(list[i]);
      if (l.event != event) continue;
      if (l.once) this.removeRecord(l);
      const arity = l.arity;
      if (arity == 0) changetype<() => void>(l.fn)();
      else if (arity == 1) changetype<(a: A) => void>(l.fn)(a);
      else if (arity == 2) changetype<(a: A, b: B) => void>(l.fn)(a, b);
      else changetype<(a: A, b: B, self: EventEmitter) => void>(l.fn)(a, b, this);
    }
    this.emitting--;
    return true;
  }

  private hasAny(list: Array<Listener>, event: string): bool {
    for (let i = 0, k = list.length; i < k; i++) {
      if (unchecked(list[i]).event == event) return true;
    }
    return false;
  }

  private add(event: string, fn: usize, arity: i32, once: bool): this {
    if (arity > 3) abort("an event listener takes at most 3 parameters");
    let list = this.mutableListeners();
    if (list == null) this.listeners = list = new Array<Listener>();
    list.push(new Listener(event, fn, arity, once));
    return this;
  }

  private mutableListeners(): Array<Listener> | null {
    const list = this.listeners;
    if (list != null && this.emitting > 0) return (this.listeners = list.slice(0));
    return list;
  }

  private removeRecord(record: Listener): void {
    const list = this.mutableListeners();
    if (list == null) return;
    const i = list.indexOf(record);
    if (i >= 0) list.splice(i, 1);
  }
}

/** An 'error' nobody listens to ends the process with exit code 1, as in Node; the message names the error. */
function uncaught<A>(arg: A): void {
  let message = "Uncaught 'error' event";
  if (isReference<A>() && arg instanceof Error) {
    const err = changetype<Error>(arg);
    message = "Uncaught " + err.name + ": " + err.message;
  }
  fatal(message);
}

/**
 * Emits an event from the nextTick queue, so a call never emits before its caller could listen (Node's
 * process.nextTick(emitErrorNT, …) and friends). Several are queued per HTTP request, so spent ones are kept
 * for reuse instead of becoming garbage.
 */
class EmitSoon extends Task {
  target: EventEmitter | null = null;
  event: string = "";
  error: Error | null = null;
  run(): void {
    const target = changetype<EventEmitter>(this.target);
    const event = this.event;
    const error = this.error;
    this.target = null;
    this.error = null;
    spareEmits.push(this);
    if (error != null) target.emitWith<Error>(event, error);
    else target.emit(event);
  }
}

const spareEmits = new Array<EmitSoon>();

function queueEmit(target: EventEmitter, event: string, error: Error | null): void {
  const task = spareEmits.length > 0 ? spareEmits.pop() : new EmitSoon();
  task.target = target;
  task.event = event;
  task.error = error;
  queueTick(task);
}

/** Emits `event` (no argument) after the current callback, from the nextTick queue. */
export function emitSoon(target: EventEmitter, event: string): void {
  queueEmit(target, event, null);
}

/** Emits 'error' with `err` after the current callback; fatal then if nobody listens, as any 'error'. */
export function emitErrorSoon(target: EventEmitter, err: Error): void {
  queueEmit(target, "error", err);
}
