// --memory-limit as a hard cap inside Node: the module's own memory gets a maximum before it is compiled, so
// V8 refuses memory.grow past it (memory.grow returns -1) exactly as wasmtime does under
// `-W max-memory-size`; the guest's allocator then reports "out of memory" itself (scripts/heap-counter.mjs)
// and exits 1 the same way under both engines. A check after each callback would come too late: one
// callback that keeps allocating can take gigabytes before it returns.
//
// The edit is to the memory section (id 5) of the binary format (WebAssembly Core Specification 5.5.8,
// limits 5.3.7): each memory's limits are `0x00 min` or `0x01 min max`, u32 LEB128 numbers of 64 KiB pages.
// Only the section is rewritten; every other byte of the module is kept as it is.

import type { ModuleEdit } from "../../module.js";

const PAGE = 65536;
/** wasm32's largest memory: 4 GiB. */
const MAX_PAGES = 65536;
const SECTION_MEMORY = 5;
const LIMITS_MIN = 0x00;
const LIMITS_MIN_MAX = 0x01;

/** Thrown when the module can't run under the limit at all: it starts with more memory than allowed. */
export class MemoryLimitTooLow extends Error {
  constructor(readonly initialBytes: number, readonly limitBytes: number) {
    super(`the app needs ${initialBytes} bytes of memory to start, over the limit of ${limitBytes}`);
  }
}

/** The edit for loadModule() that caps the module's memory at `limitBytes`; see capMemory. */
export function memoryCap(limitBytes: number): ModuleEdit {
  return { key: `max-memory-pages=${maxPagesFor(limitBytes)}`, apply: (bytes) => capMemory(bytes, limitBytes) };
}

function maxPagesFor(limitBytes: number): number {
  return Math.min(Math.floor(limitBytes / PAGE), MAX_PAGES);
}

/**
 * The module `bytes` with every memory it defines limited to `limitBytes` (rounded down to whole 64 KiB pages;
 * a lower maximum already there is kept). Throws MemoryLimitTooLow if a memory's initial size is over it, and
 * Error for a binary it can't read (shared or 64-bit memories, a truncated section).
 */
export function capMemory(bytes: Uint8Array, limitBytes: number): Uint8Array {
  const maxPages = maxPagesFor(limitBytes);
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at];
    const size = readU32(bytes, at + 1);
    const start = size.next;
    if (id !== SECTION_MEMORY) {
      at = start + size.value;
      continue;
    }
    const count = readU32(bytes, start);
    const payload = [...writeU32(count.value)];
    let p = count.next;
    for (let i = 0; i < count.value; i++) {
      const flags = bytes[p];
      if (flags !== LIMITS_MIN && flags !== LIMITS_MIN_MAX) throw new Error(`memory limits flags 0x${flags.toString(16)} (shared or 64-bit memory) are not supported`);
      const min = readU32(bytes, p + 1);
      const max = flags === LIMITS_MIN_MAX ? readU32(bytes, min.next) : undefined;
      if (min.value > maxPages) throw new MemoryLimitTooLow(min.value * PAGE, limitBytes);
      payload.push(LIMITS_MIN_MAX, ...writeU32(min.value), ...writeU32(Math.min(max?.value ?? maxPages, maxPages)));
      p = max ? max.next : min.next;
    }
    if (p !== start + size.value) throw new Error("malformed memory section");
    const section = [SECTION_MEMORY, ...writeU32(payload.length), ...payload];
    const out = new Uint8Array(bytes.length - (p - at) + section.length);
    out.set(bytes.subarray(0, at));
    out.set(section, at);
    out.set(bytes.subarray(p), at + section.length);
    return out;
  }
  return bytes; // no memory defined here (an imported one is the embedder's to limit)
}

/** Unsigned LEB128 (WebAssembly Core Specification 5.2.2). */
function readU32(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= bytes.length) break;
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: at };
  }
  throw new Error("malformed LEB128 number in the module");
}

function writeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}
