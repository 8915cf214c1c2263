// The poll set both backends share (libuv's pollfd array): one array of subscription records kept across
// iterations, in WASI preview1's subscription layout (48 bytes: token at 0, event type at 8, the backend's handle
// at 16 — an fd for poll_oneoff, a pollable for wasi:io/poll), and one event list in preview1's event layout
// (32 bytes: token at 0, error at 8, type at 10). Slot -1 is reserved for the clock. The first `hotCount`
// subscriptions are "hot" (recently active), the rest "cold"; under load the loop polls only the hot prefix
// and sweeps the cold ones every few milliseconds (poller.ts), so thousands of idle connections don't make
// every poll O(all connections). Handles learn their new slot whenever a subscription moves (swap-with-last
// deletion, promotion, demotion).

export const SUB_SIZE: usize = 48;
export const EVENT_SIZE: usize = 32;
export const EVENTTYPE_CLOCK: u8 = 0;
export const EVENTTYPE_FD_READ: u8 = 1;
export const EVENTTYPE_FD_WRITE: u8 = 2;

let subs: usize = 0;        // SUB_SIZE * (1 + capacity) bytes
export let events: usize = 0;
let capacity: i32 = 0;
let count: i32 = 0;         // fd subscriptions in use
let hotCount: i32 = 0;
export const swapTemp = memory.data(<i32>SUB_SIZE, 8);

/** Told about every subscription that moves: (its token, its new slot). */
let movedHandler: (token: u64, slot: i32) => void = (token: u64, slot: i32): void => {};

export function onSubscriptionMoved(handler: (token: u64, slot: i32) => void): void {
  movedHandler = handler;
}

export function ensureCapacity(needed: i32): void {
  if (needed <= capacity) return;
  let next = max(capacity * 2, 64);
  while (next < needed) next <<= 1;
  const subBytes = <usize>(next + 1) * SUB_SIZE;
  const eventBytes = <usize>(next + 1) * EVENT_SIZE;
  subs = subs == 0 ? heap.alloc(subBytes) : heap.realloc(subs, subBytes);
  events = events == 0 ? heap.alloc(eventBytes) : heap.realloc(events, eventBytes);
  capacity = next;
}

@inline export function at(slot: i32): usize {
  return subs + (<usize>slot + 1) * SUB_SIZE;
}

function move(from: i32, to: i32): void {
  memory.copy(at(to), at(from), SUB_SIZE);
  movedHandler(load<u64>(at(to)), to);
}

function swap(a: i32, b: i32): void {
  memory.copy(swapTemp, at(a), SUB_SIZE);
  move(b, a);
  memory.copy(at(b), swapTemp, SUB_SIZE);
  movedHandler(load<u64>(at(b)), b);
}

/**
 * Adds a read or write subscription on the backend's `handle`, hot; returns its slot. `token` comes back with
 * the event.
 */
export function addSubscription(handle: u32, type: u8, token: u64): i32 {
  ensureCapacity(count + 1);
  if (hotCount < count) move(hotCount, count); // the first cold one makes room at the hot boundary
  const slot = hotCount++;
  count++;
  const sub = at(slot);
  store<u64>(sub, token);
  store<u8>(sub, type, 8);
  store<u32>(sub, handle, 16);
  return slot;
}

/** Removes a slot, filling the hole so that hot and cold subscriptions stay contiguous. */
export function unsubscribe(slot: i32): void {
  if (slot < hotCount) {
    const lastHot = --hotCount;
    if (slot != lastHot) move(lastHot, slot);
    slot = lastHot;
  }
  const last = --count;
  if (slot != last) move(last, slot);
}

/** A cold subscription had an event: make it hot. */
export function promote(slot: i32): void {
  if (slot < hotCount) return;
  if (slot != hotCount) swap(slot, hotCount);
  hotCount++;
}

/** A hot subscription went quiet: make it cold. */
export function demote(slot: i32): void {
  if (slot >= hotCount) return;
  const lastHot = hotCount - 1;
  if (slot != lastHot) swap(slot, lastHot);
  hotCount--;
}

export function subscriptionCount(): i32 {
  return count;
}

export function hotSubscriptionCount(): i32 {
  return hotCount;
}

export function subscriptionToken(slot: i32): u64 {
  return load<u64>(at(slot));
}

/**
 * Fills the event list with every hot subscription, as if a poll had found them all ready, without the
 * call (wasmtime 36's poll_oneoff reports them so whenever any is ready). Returns the number of events.
 */
export function reportHot(): i32 {
  for (let slot = 0; slot < hotCount; slot++) {
    const event = events + <usize>slot * EVENT_SIZE;
    store<u64>(event, load<u64>(at(slot)));
    store<u16>(event, 0, 8);
    store<u8>(event, load<u8>(at(slot), 8), 10);
  }
  return hotCount;
}

export function eventToken(i: i32): u64 { return load<u64>(events + <usize>i * EVENT_SIZE); }
export function eventError(i: i32): u16 { return load<u16>(events + <usize>i * EVENT_SIZE, 8); }
export function eventType(i: i32): u8 { return load<u8>(events + <usize>i * EVENT_SIZE, 10); }
