// Serialises a response head (and small bodies) into one reusable buffer, so a whole response usually
// leaves in a single send with no allocation.
import { statusText } from "./status";

let buffer = heap.alloc(16 * 1024);
let capacity: i32 = 16 * 1024;
let length: i32 = 0;

export function reset(): void {
  length = 0;
}

export function ptr(): usize {
  return buffer;
}

export function size(): i32 {
  return length;
}

function reserve(extra: i32): void {
  const needed = length + extra;
  if (needed <= capacity) return;
  let next = capacity * 2;
  while (next < needed) next *= 2;
  buffer = heap.realloc(buffer, next);
  capacity = next;
}

/**
 * Appends `text` as UTF-8. Heads are ASCII: eight UTF-16 units at a time are checked and narrowed to bytes
 * with SIMD, then unit by unit, until a non-ASCII one hands the rest to the encoder.
 */
export function text(s: string): void {
  const n = s.length;
  reserve(n * 3);
  const src = changetype<usize>(s);
  const dst = buffer + length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const units = v128.load(src + (<usize>i << 1));
    if (v128.any_true(v128.and(units, i16x8.splat(<i16>0xff80)))) break;
    store<u64>(dst + i, i64x2.extract_lane(i8x16.narrow_i16x8_u(units, units), 0));
  }
  for (; i < n; i++) {
    const c = load<u16>(src + (<usize>i << 1));
    if (c >= 0x80) break;
    store<u8>(dst + i, <u8>c);
  }
  length += i;
  if (i < n) length += <i32>String.UTF8.encodeUnsafe(src + (<usize>i << 1), n - i, buffer + length);
}

export function bytes(src: usize, len: i32): void {
  reserve(len);
  memory.copy(buffer + length, src, len);
  length += len;
}

/** Takes back the last `n` bytes appended (a body cut at its declared length). */
export function unwrite(n: i32): void {
  length -= n;
}

export function crlf(): void {
  reserve(2);
  store<u16>(buffer + length, 0x0a0d);
  length += 2;
}

/** Appends an integer's digits (no intermediate string). */
export function decimal(n: i64): void {
  if (n < 0) {
    reserve(1);
    store<u8>(buffer + length++, 0x2d);
    n = -n;
  }
  let digits = 1;
  for (let rest = n; rest >= 10; rest /= 10) digits++;
  reserve(digits);
  let at = buffer + length + digits;
  do {
    store<u8>(--at, <u8>(0x30 + n % 10));
    n /= 10;
  } while (n > 0);
  length += digits;
}

export function hex(n: i32): void {
  text(n.toString(16));
}

/** `HTTP/1.1 <status> <reason>` CRLF (RFC 9112 §4); the reason is the standard one unless given (checked by the caller). */
export function statusLine(status: i32, reason: string = ""): void {
  text("HTTP/1.1 ");
  decimal(status);
  text(" ");
  text(reason.length > 0 ? reason : statusText(status));
  crlf();
}

// The fixed responses the server sends on its own (a rejected or timed-out request) are made once per status.
const fixedResponses = new Map<i32, Uint8Array>();

/** A complete `status` response with no body that closes the connection, e.g. for a malformed request. */
export function closingResponse(status: i32): Uint8Array {
  if (fixedResponses.has(status)) return fixedResponses.get(status);
  reset();
  statusLine(status);
  text("Connection: close\r\nContent-Length: 0\r\n\r\n");
  const bytes = new Uint8Array(length);
  memory.copy(bytes.dataStart, buffer, length);
  fixedResponses.set(status, bytes);
  return bytes;
}
