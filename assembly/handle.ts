// Handles: what keeps the loop alive. One counter of active, referenced handles decides whether the loop
// goes on (libuv's uv__handle_start/uv__handle_ref); I/O handles also own their poll subscriptions, in the
// backend's poll set (sys.ts), and learn when a subscription moves to another slot.
import { EventEmitter } from "./events";
import * as sys from "./sys";
import { now } from "./tasks";

let activeRefs: i32 = 0;

export function activeHandleCount(): i32 {
  return activeRefs;
}

export class Handle extends EventEmitter {
  private active: bool = false;
  private referenced: bool = true;

  /** Keep the loop alive while this handle is active (the default). */
  ref(): this {
    if (!this.referenced) {
      this.referenced = true;
      if (this.active) activeRefs++;
    }
    return this;
  }

  /** Let the loop end even while this handle is active. */
  unref(): this {
    if (this.referenced) {
      this.referenced = false;
      if (this.active) activeRefs--;
    }
    return this;
  }

  hasRef(): bool {
    return this.referenced;
  }

  /** Internal: the handle became active (counts toward keeping the loop alive if referenced). */
  _activate(): void {
    if (this.active) return;
    this.active = true;
    if (this.referenced) activeRefs++;
  }

  /** Internal: the handle became inactive. */
  _deactivate(): void {
    if (!this.active) return;
    this.active = false;
    if (this.referenced) activeRefs--;
  }

  get isActive(): bool {
    return this.active;
  }
}

// Open I/O handles are rooted here: the poll subscriptions name them by address only, which the GC cannot see.
const openHandles = new Array<IoHandle>();
// Closed handles wait here for the close phase, so an event already polled for them finds them intact.
let closing = new Array<IoHandle>();

/** A handle on a file descriptor with read/write interest registered in the poll set. */
export abstract class IoHandle extends Handle {
  fd: i32 = -1;
  private readSlot: i32 = -1;
  private writeSlot: i32 = -1;
  private openIndex: i32 = -1;
  /** Loop time of the last event, for hot/cold polling. */
  lastEvent: i64 = 0;
  /** Never demoted to cold (listening sockets: new connections shouldn't wait for a sweep). */
  alwaysHot: bool = false;

  /** Takes ownership of an open fd: the handle is active and rooted until closeHandle(). */
  protected attach(fd: i32): void {
    this.fd = fd;
    this.openIndex = openHandles.length;
    openHandles.push(this);
    this._activate();
  }

  /** The fd is readable (data, EOF or a pending connection). Returns whether anything was there. */
  abstract onReadable(): bool;
  /** The fd accepts writes again. Returns whether it did (false if the write would still block). */
  abstract onWritable(): bool;
  /** Runs in the close phase after close(). */
  abstract onClose(): void;

  get closed(): bool {
    return this.fd < 0;
  }

  protected watchRead(on: bool): void {
    if (on == (this.readSlot >= 0) || this.fd < 0) return;
    if (on) this.readSlot = sys.subscribe(<u32>this.fd, sys.EVENTTYPE_FD_READ, changetype<usize>(this));
    else this.readSlot = unwatch(this.readSlot);
    this.lastEvent = now();
  }

  protected watchWrite(on: bool): void {
    if (on == (this.writeSlot >= 0) || this.fd < 0) return;
    if (on) this.writeSlot = sys.subscribe(<u32>this.fd, sys.EVENTTYPE_FD_WRITE, changetype<usize>(this) | 1);
    else this.writeSlot = unwatch(this.writeSlot);
    this.lastEvent = now();
  }

  get watchingRead(): bool {
    return this.readSlot >= 0;
  }

  get readSlotIndex(): i32 {
    return this.readSlot;
  }

  get writeSlotIndex(): i32 {
    return this.writeSlot;
  }

  get watchingWrite(): bool {
    return this.writeSlot >= 0;
  }

  /** Stops all interest, closes the fd and schedules onClose for the close phase. */
  protected closeHandle(): void {
    if (this.fd < 0) return;
    this.watchRead(false);
    this.watchWrite(false);
    sys.close(<u32>this.fd);
    this.fd = -1;
    this._deactivate();
    const last = openHandles.pop();
    if (last !== this) {
      unchecked((openHandles[this.openIndex] = last));
      last.openIndex = this.openIndex;
    }
    closing.push(this);
  }

  /** Moved-slot bookkeeping for unwatch(). */
  slotMoved(isWrite: bool, slot: i32): void {
    if (isWrite) this.writeSlot = slot;
    else this.readSlot = slot;
  }
}

/** Removes a subscription (others move; onSubscriptionMoved tells them). Returns -1 for the caller's slot. */
function unwatch(slot: i32): i32 {
  sys.unsubscribe(slot);
  return -1;
}

/** The handle a poll token names (its address; the low bit marks write interest). */
export function handleOf(token: u64): IoHandle {
  return changetype<IoHandle>(<usize>(token & ~1));
}

sys.onSubscriptionMoved((token: u64, slot: i32): void => {
  handleOf(token).slotMoved((token & 1) != 0, slot);
});

export function hasClosing(): bool {
  return closing.length > 0;
}

/** Close phase: 'close' callbacks for every handle closed since the last one. */
export function runClosing(): void {
  if (closing.length == 0) return;
  const batch = closing;
  closing = new Array<IoHandle>();
  for (let i = 0, k = batch.length; i < k; i++) unchecked(batch[i]).onClose();
}

/** Every open I/O handle, e.g. for a graceful stop. */
export function openIoHandles(): Array<IoHandle> {
  return openHandles;
}
