// The field grammar of RFC 9110 §5 shared by the parser (bytes received) and outgoing messages (strings the
// app sets): one byte-class table, and the checks every string bound for a head goes through (Node's
// checkIsHttpToken / checkInvalidHeaderChar in _http_common.js).

// ---- byte classes: one 256-byte table, a bit per class ----
export const TOKEN: u8 = 1;      // tchar (RFC 9110 §5.6.2)
export const VALUE: u8 = 2;      // field-vchar, SP, HTAB, obs-text (RFC 9110 §5.5)
export const TARGET: u8 = 4;     // request-target: VCHAR (0x21–0x7e)
export const HEX: u8 = 8;
export const HOST: u8 = 16;      // reg-name and IPv4 characters of a uri-host (RFC 3986 §3.2.2)
const classes = memory.data(256);

function initClasses(): void {
  for (let c = 0; c < 256; c++) {
    let bits: u8 = 0;
    const isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (isAlnum || c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
      c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e) bits |= TOKEN;
    if ((c >= 0x20 && c != 0x7f) || c == 0x09) bits |= VALUE;
    if (c >= 0x21 && c <= 0x7e) bits |= TARGET;
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)) bits |= HEX;
    // reg-name and IPv4address: unreserved / pct-encoded / sub-delims (":" and "[ ]" are handled apart)
    if (isAlnum || c == 0x2d || c == 0x2e || c == 0x5f || c == 0x7e || c == 0x25 || c == 0x21 || c == 0x24 ||
      (c >= 0x26 && c <= 0x2c) || c == 0x3b || c == 0x3d) bits |= HOST;
    store<u8>(classes + c, bits);
  }
}
initClasses();

/** Whether byte `c` (0–255) is in class `cls`. */
@inline export function is(c: u32, cls: u8): bool {
  return (load<u8>(classes + c) & cls) != 0;
}

// Strings are UTF-16: their code units are read in place (no bounds-checked charCodeAt per character).

@inline export function unit(s: string, i: i32): u32 {
  return <u32>load<u16>(changetype<usize>(s) + (<usize>i << 1));
}

/** Whether a UTF-16 unit may appear in a header name (tchar). */
export function isTokenUnit(c: u32): bool {
  return c < 256 && is(c, TOKEN);
}

/** Whether a UTF-16 unit may appear in a field value: anything but control characters other than HTAB. */
export function isValueUnit(c: u32): bool {
  return c >= 256 || is(c, VALUE);
}

/** A non-empty token: a valid field name (RFC 9110 §5.1) or method. */
export function isToken(s: string): bool {
  const n = s.length;
  if (n == 0) return false;
  for (let i = 0; i < n; i++) {
    if (!isTokenUnit(unit(s, i))) return false;
  }
  return true;
}

/**
 * A valid field value (RFC 9110 §5.5): no CR, LF, NUL or other control character but HTAB. The reason phrase
 * of a status line has the same grammar (RFC 9112 §4: HTAB / SP / VCHAR / obs-text).
 */
export function isFieldValue(s: string): bool {
  for (let i = 0, n = s.length; i < n; i++) {
    if (!isValueUnit(unit(s, i))) return false;
  }
  return true;
}

/** Whether two characters are equal, or the same ASCII letter in either case. */
@inline function equalFolded(x: u32, y: u32): bool {
  if (x == y) return true;
  const lower = x | 0x20;
  return lower == (y | 0x20) && lower >= 0x61 && lower <= 0x7a;
}

/** ASCII case-insensitive equality, as field names compare (RFC 9110 §5.1). */
export function equalsIgnoreCase(a: string, b: string): bool {
  const n = a.length;
  if (n != b.length) return false;
  for (let i = 0; i < n; i++) {
    if (!equalFolded(unit(a, i), unit(b, i))) return false;
  }
  return true;
}

/** Whether the `n` bytes at `p` spell `name`, ignoring ASCII case (a received field name against a string). */
export function bytesEqualIgnoreCase(p: usize, n: i32, name: string): bool {
  if (n != name.length) return false;
  for (let k = 0; k < n; k++) {
    if (!equalFolded(<u32>load<u8>(p + k), unit(name, k))) return false;
  }
  return true;
}

/** Whether a comma-separated field value lists `token` (case-insensitively), e.g. "close" in Connection. */
export function listHasToken(value: string, token: string): bool {
  const n = value.length;
  let i = 0;
  while (i < n) {
    while (i < n && (unit(value, i) == 0x20 || unit(value, i) == 0x09 || unit(value, i) == 0x2c)) i++;
    const start = i;
    while (i < n && unit(value, i) != 0x2c) i++;
    let stop = i;
    while (stop > start && (unit(value, stop - 1) == 0x20 || unit(value, stop - 1) == 0x09)) stop--;
    if (stop - start == token.length && equalsIgnoreCase(value.substring(start, stop), token)) return true;
  }
  return false;
}

/** Whether a comma-separated field value's last item is `token`, e.g. "chunked" last in Transfer-Encoding. */
export function lastTokenIs(value: string, token: string): bool {
  let stop = value.length;
  while (stop > 0 && (unit(value, stop - 1) == 0x20 || unit(value, stop - 1) == 0x09)) stop--;
  let start = stop;
  while (start > 0 && unit(value, start - 1) != 0x2c) start--;
  while (start < stop && (unit(value, start) == 0x20 || unit(value, start) == 0x09)) start++;
  return stop - start == token.length && equalsIgnoreCase(value.substring(start, stop), token);
}

/** A Content-Length value: 1*DIGIT, at most 15 digits (RFC 9110 §8.6); -1 when it is not one. */
export function parseContentLength(value: string): i64 {
  const n = value.length;
  if (n == 0 || n > 15) return -1;
  let length: i64 = 0;
  for (let i = 0; i < n; i++) {
    const d = unit(value, i) - 0x30;
    if (d > 9) return -1;
    length = length * 10 + d;
  }
  return length;
}

/**
 * Whether the `n` bytes at `p` are a valid Host field value: uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986
 * §3.2.2), or empty (allowed when the target has no authority). An IP-literal is bracketed; a port is digits.
 * Runs on every request, so the common reg-name / IPv4 form is one table lookup per byte.
 */
export function isHostValue(p: usize, n: i32): bool {
  let i = 0;
  if (n > 0 && load<u8>(p) == 0x5b) { // [IPv6] or [vX.…]
    i = 1;
    while (i < n && load<u8>(p + i) != 0x5d) {
      const c = <u32>load<u8>(p + i++);
      if (!is(c, HOST) && c != 0x3a) return false;
    }
    if (i++ == n) return false;
    if (i == n) return true;
    if (load<u8>(p + i) != 0x3a) return false;
  } else {
    while (i < n && is(load<u8>(p + i), HOST)) i++;
    if (i == n) return true;
    if (i == 0 || load<u8>(p + i) != 0x3a) return false;
  }
  for (let k = i + 1; k < n; k++) { // the port, after the colon at i
    if (<u32>load<u8>(p + k) - 0x30 > 9) return false;
  }
  return true;
}
