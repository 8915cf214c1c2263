// Buffer: Node's byte container, as a Uint8Array with the conversions apps reach for most, in Node's
// encodings (https://nodejs.org/api/buffer.html#buffers-and-character-encodings). The codecs are written
// here rather than taken from a package: Buffer is part of every app, and Node's decoding rules (both base64
// alphabets accepted, anything else skipped, hex cut at the first bad pair) are what apps expect.

/** Node's encoding names (case-insensitive); see encodingOf. */
enum Encoding { UTF8, HEX, BASE64, BASE64URL, LATIN1, ASCII }

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ALPHABET_URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX_DIGITS = "0123456789abcdef";
const NOT_BASE64: u8 = 0xff;
// Byte → 6-bit value for both alphabets ("+/" and "-_"), NOT_BASE64 for anything else.
const base64Values = memory.data(256);

function initBase64Values(): void {
  memory.fill(base64Values, NOT_BASE64, 256);
  for (let i = 0; i < 64; i++) {
    store<u8>(base64Values + ALPHABET.charCodeAt(i), <u8>i);
    store<u8>(base64Values + ALPHABET_URL.charCodeAt(i), <u8>i);
  }
}
initBase64Values();

export class Buffer extends Uint8Array {
  /**
   * The bytes `text` stands for in `encoding` (default "utf8"): "utf8"/"utf-8"; "hex" (pairs of hex digits, up
   * to the first pair that isn't one); "base64" and "base64url" (either alphabet, characters outside it skipped,
   * up to the first "="); "latin1"/"binary" and "ascii" (one byte per UTF-16 unit, its low 8 bits). As Node,
   * malformed input decodes as far as it goes instead of failing. An unknown encoding name aborts
   * ("Unknown encoding: …", Node's ERR_UNKNOWN_ENCODING): it is the app's constant, not input.
   */
  static from(text: string, encoding: string = "utf8"): Buffer {
    switch (encodingOf(encoding)) {
      case Encoding.HEX: return fromHex(text);
      case Encoding.BASE64:
      case Encoding.BASE64URL: return fromBase64(text);
      case Encoding.LATIN1:
      case Encoding.ASCII: return fromLatin1(text);
    }
    const len = String.UTF8.byteLength(text);
    const buf = new Buffer(len);
    String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, buf.dataStart);
    return buf;
  }

  /** A copy of `len` bytes at `ptr` in linear memory. */
  static copyOf(ptr: usize, len: i32): Buffer {
    const buf = new Buffer(len);
    memory.copy(buf.dataStart, ptr, len);
    return buf;
  }

  static alloc(size: i32): Buffer {
    return new Buffer(size);
  }

  static concat(list: Array<Uint8Array>): Buffer {
    let total = 0;
    for (let i = 0, k = list.length; i < k; i++) total += list[i].length;
    const out = new Buffer(total);
    let at = out.dataStart;
    for (let i = 0, k = list.length; i < k; i++) {
      const part = unchecked(list[i]);
      memory.copy(at, part.dataStart, part.length);
      at += part.length;
    }
    return out;
  }

  /** The bytes decoded as UTF-8 (each invalid sequence becomes U+FFFD). For other encodings see toStringAs. */
  toString(): string {
    return decodeUtf8(this.dataStart, this.length);
  }

  /**
   * Node's `buf.toString(encoding, start, end)`: bytes [start, end) as text in `encoding` (names as
   * Buffer.from): "utf8" (invalid sequences become U+FFFD), "hex" (lower case), "base64" (padded), "base64url"
   * (unpadded), "latin1" (one UTF-16 unit per byte), "ascii" (latin1 with the high bit cleared). `start` and
   * `end` are clamped to the buffer, as Node does. Named apart because AssemblyScript requires an override to
   * keep its base's parameters, and Uint8Array's toString() takes none.
   */
  toStringAs(encoding: string, start: i32 = 0, end: i32 = i32.MAX_VALUE): string {
    const length = this.length;
    if (end > length) end = length;
    if (start < 0) start = 0;
    if (end <= start) return "";
    const ptr = this.dataStart + <usize>start;
    const n = end - start;
    switch (encodingOf(encoding)) {
      case Encoding.HEX: return toHex(ptr, n);
      case Encoding.BASE64: return toBase64(ptr, n, ALPHABET, true);
      case Encoding.BASE64URL: return toBase64(ptr, n, ALPHABET_URL, false);
      case Encoding.LATIN1: return toLatin1(ptr, n, 0xff);
      case Encoding.ASCII: return toLatin1(ptr, n, 0x7f);
    }
    return decodeUtf8(ptr, n);
  }

  equals(other: Uint8Array): bool {
    return this.length == other.length && memory.compare(this.dataStart, other.dataStart, this.length) == 0;
  }
}

function encodingOf(name: string): Encoding {
  const lower = name.toLowerCase();
  if (lower == "utf8" || lower == "utf-8") return Encoding.UTF8;
  if (lower == "hex") return Encoding.HEX;
  if (lower == "base64") return Encoding.BASE64;
  if (lower == "base64url") return Encoding.BASE64URL;
  if (lower == "latin1" || lower == "binary") return Encoding.LATIN1;
  if (lower == "ascii") return Encoding.ASCII;
  abort("Unknown encoding: " + name);
  return Encoding.UTF8;
}

/** A character's value as a hex digit (either case), or -1. */
export function hexValue(c: u32): i32 {
  if (c - 0x30 <= 9) return <i32>(c - 0x30);
  const lower = c | 0x20;
  if (lower - 0x61 <= 5) return <i32>(lower - 0x61 + 10);
  return -1;
}

function fromHex(text: string): Buffer {
  const units = changetype<usize>(text);
  const pairs = text.length >> 1;
  let valid = 0;
  while (valid < pairs &&
    hexValue(load<u16>(units + (<usize>valid << 2))) >= 0 && hexValue(load<u16>(units + (<usize>valid << 2), 2)) >= 0) valid++;
  const buf = new Buffer(valid);
  for (let i = 0; i < valid; i++) {
    const at = units + (<usize>i << 2);
    store<u8>(buf.dataStart + i, <u8>(hexValue(load<u16>(at)) << 4 | hexValue(load<u16>(at, 2))));
  }
  return buf;
}

function toHex(ptr: usize, n: i32): string {
  const text = changetype<string>(__new(<usize>n << 2, idof<string>()));
  const units = changetype<usize>(text);
  const digits = changetype<usize>(HEX_DIGITS);
  for (let i = 0; i < n; i++) {
    const b = <usize>load<u8>(ptr + i);
    store<u16>(units + (<usize>i << 2), load<u16>(digits + ((b >> 4) << 1)));
    store<u16>(units + (<usize>i << 2), load<u16>(digits + ((b & 15) << 1)), 2);
  }
  return text;
}

/** The 6-bit value of a UTF-16 unit in either base64 alphabet, or NOT_BASE64. */
@inline function base64Value(c: u32): u32 {
  return c < 256 ? <u32>load<u8>(base64Values + c) : NOT_BASE64;
}

function fromBase64(text: string): Buffer {
  const units = changetype<usize>(text);
  const n = text.length;
  // First count the alphabet's characters before the first "=", so the buffer is allocated once at its size.
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u16>(units + (<usize>i << 1));
    if (c == 0x3d) break;
    if (base64Value(c) != NOT_BASE64) digits++;
  }
  const rest = digits & 3;
  const buf = new Buffer((digits >> 2) * 3 + (rest > 1 ? rest - 1 : 0));
  let out = buf.dataStart;
  let bits: u32 = 0;
  let held = 0;
  for (let i = 0, seen = 0; seen < digits; i++) {
    const v = base64Value(<u32>load<u16>(units + (<usize>i << 1)));
    if (v == NOT_BASE64) continue;
    seen++;
    bits = bits << 6 | v;
    held += 6;
    if (held >= 8) {
      held -= 8;
      store<u8>(out++, <u8>(bits >> held));
    }
  }
  return buf;
}

function toBase64(ptr: usize, n: i32, alphabet: string, pad: bool): string {
  const rest = n % 3;
  const full = n - rest;
  const length = (full / 3) * 4 + (rest == 0 ? 0 : pad ? 4 : rest + 1);
  const text = changetype<string>(__new(<usize>length << 1, idof<string>()));
  const table = changetype<usize>(alphabet);
  let out = changetype<usize>(text);
  for (let i = 0; i < full; i += 3) {
    const group = <u32>load<u8>(ptr + i) << 16 | <u32>load<u8>(ptr + i + 1) << 8 | <u32>load<u8>(ptr + i + 2);
    store<u16>(out, load<u16>(table + ((group >> 18) << 1)));
    store<u16>(out, load<u16>(table + ((group >> 12 & 63) << 1)), 2);
    store<u16>(out, load<u16>(table + ((group >> 6 & 63) << 1)), 4);
    store<u16>(out, load<u16>(table + ((group & 63) << 1)), 6);
    out += 8;
  }
  if (rest > 0) {
    const group = <u32>load<u8>(ptr + full) << 16 | (rest == 2 ? <u32>load<u8>(ptr + full + 1) << 8 : 0);
    store<u16>(out, load<u16>(table + ((group >> 18) << 1)));
    store<u16>(out, load<u16>(table + ((group >> 12 & 63) << 1)), 2);
    if (rest == 2) store<u16>(out, load<u16>(table + ((group >> 6 & 63) << 1)), 4);
    else if (pad) store<u16>(out, 0x3d, 4);
    if (pad) store<u16>(out, 0x3d, 6);
  }
  return text;
}

function fromLatin1(text: string): Buffer {
  const n = text.length;
  const buf = new Buffer(n);
  const units = changetype<usize>(text);
  for (let i = 0; i < n; i++) store<u8>(buf.dataStart + i, <u8>load<u16>(units + (<usize>i << 1)));
  return buf;
}

function toLatin1(ptr: usize, n: i32, mask: u32): string {
  const text = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const units = changetype<usize>(text);
  for (let i = 0; i < n; i++) store<u16>(units + (<usize>i << 1), <u16>(<u32>load<u8>(ptr + i) & mask));
  return text;
}

/**
 * The `n` bytes at `ptr` as UTF-8 text, each maximal invalid subpart replaced by U+FFFD (the Encoding
 * Standard's UTF-8 decode, which Node's Buffer and TextDecoder follow). AssemblyScript's String.UTF8.decode
 * lets invalid input through as arbitrary code units, and input from a client must not decide what those are.
 */
export function decodeUtf8(ptr: usize, n: i32): string {
  const text = __new(<usize>n << 1, idof<string>()); // a byte never yields more than one UTF-16 unit
  let out = text;
  let i = 0;
  while (i < n) {
    const b = <u32>load<u8>(ptr + i++);
    if (b < 0x80) {
      store<u16>(out, <u16>b);
      out += 2;
      continue;
    }
    let need = 0;
    let lower: u32 = 0x80;
    let upper: u32 = 0xbf;
    let cp: u32 = 0;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0x0f;
      if (b == 0xe0) lower = 0xa0;
      else if (b == 0xed) upper = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      cp = b & 0x07;
      if (b == 0xf0) lower = 0x90;
      else if (b == 0xf4) upper = 0x8f; // nothing past U+10FFFF
    }
    while (need > 0 && i < n) {
      const c = <u32>load<u8>(ptr + i);
      if (c < lower || c > upper) break; // not consumed: it may begin the next sequence
      cp = cp << 6 | (c & 0x3f);
      lower = 0x80;
      upper = 0xbf;
      need--;
      i++;
    }
    if (need > 0 || cp == 0) { // cp == 0: a lead byte that begins no sequence
      store<u16>(out, 0xfffd);
      out += 2;
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      store<u16>(out, <u16>(0xd800 | cp >> 10));
      store<u16>(out, <u16>(0xdc00 | (cp & 0x3ff)), 2);
      out += 4;
    } else {
      store<u16>(out, <u16>cp);
      out += 2;
    }
  }
  return changetype<string>(__renew(text, out - text));
}
