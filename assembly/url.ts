// URL and URLSearchParams (WHATWG URL Standard, https://url.spec.whatwg.org/; Node's `url` module follows it):
// what a server needs to read `req.url` — parsing against a base, the parts, the query as name/value pairs,
// percent-decoding. URL.parse answers null where `new URL()` would throw: an unparsable URL from a client must not
// end the instance. Scope: the special schemes a server sees (http, https, ws, wss, ftp); others, `file:` and
// international domain names (which need IDNA) are refused with null.
import { decodeUtf8, hexValue } from "./buffer";

// ---- percent-encode sets (URL Standard §1.3), a bit per set over ASCII; C0 controls and non-ASCII are in all ----
const FRAGMENT: u8 = 1;      // C0 + space " < > `
const QUERY: u8 = 2;         // C0 + space " # < > and ' (the special-query set)
const PATH: u8 = 4;          // query set (without ') + ? ` { }
const USERINFO: u8 = 8;      // path set + / : ; = @ [ \ ] ^ |
const FORM: u8 = 16;         // application/x-www-form-urlencoded: all but alphanumerics and * - . _
const FORBIDDEN_HOST: u8 = 32; // forbidden domain code points (§3.2), C0 controls and DEL included
const encodeSets = memory.data(128);

function initEncodeSets(): void {
  for (let c = 0; c < 128; c++) {
    let bits: u8 = 0;
    const control = c < 0x20 || c == 0x7f;
    if (control || c == 0x20 || c == 0x22 || c == 0x3c || c == 0x3e || c == 0x60) bits |= FRAGMENT;
    if (control || c == 0x20 || c == 0x22 || c == 0x23 || c == 0x3c || c == 0x3e || c == 0x27) bits |= QUERY;
    if (control || c == 0x20 || c == 0x22 || c == 0x23 || c == 0x3c || c == 0x3e || c == 0x3f || c == 0x60 ||
      c == 0x7b || c == 0x7d) bits |= PATH;
    if ((bits & PATH) != 0 || c == 0x2f || c == 0x3a || c == 0x3b || c == 0x3d || c == 0x40 ||
      (c >= 0x5b && c <= 0x5e) || c == 0x7c) bits |= USERINFO;
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && c != 0x2a && c != 0x2d && c != 0x2e && c != 0x5f) bits |= FORM;
    if (control || c == 0x20 || c == 0x23 || c == 0x25 || c == 0x2f || c == 0x3a || c == 0x3c || c == 0x3e ||
      c == 0x3f || c == 0x40 || c == 0x5b || c == 0x5c || c == 0x5d || c == 0x5e || c == 0x7c) bits |= FORBIDDEN_HOST;
    store<u8>(encodeSets + c, bits);
  }
}
initEncodeSets();

@inline function inSet(c: u32, set: u8): bool {
  return c >= 0x7f || (load<u8>(encodeSets + c) & set) != 0;
}

const HEX_UPPER = "0123456789ABCDEF";

/** Appends "%XX" for each UTF-8 byte of code point `cp`. */
function percentEncode(parts: Array<string>, cp: u32): void {
  if (cp < 0x80) {
    appendByte(parts, cp);
  } else if (cp < 0x800) {
    appendByte(parts, 0xc0 | cp >> 6);
    appendByte(parts, 0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    appendByte(parts, 0xe0 | cp >> 12);
    appendByte(parts, 0x80 | (cp >> 6 & 0x3f));
    appendByte(parts, 0x80 | (cp & 0x3f));
  } else {
    appendByte(parts, 0xf0 | cp >> 18);
    appendByte(parts, 0x80 | (cp >> 12 & 0x3f));
    appendByte(parts, 0x80 | (cp >> 6 & 0x3f));
    appendByte(parts, 0x80 | (cp & 0x3f));
  }
}

function appendByte(parts: Array<string>, b: u32): void {
  parts.push("%" + HEX_UPPER.charAt(b >> 4) + HEX_UPPER.charAt(b & 15));
}

/** The code point at `i` of `s` (a lone surrogate reads as U+FFFD, as UTF-8 encoding makes it). */
function codePointAt(s: string, i: i32): u32 {
  const c = <u32>s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return c;
  if (c <= 0xdbff && i + 1 < s.length) {
    const d = <u32>s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
  }
  return 0xfffd;
}

/** s[from, to) with every code point in `set` (and every non-ASCII one) percent-encoded as UTF-8. */
function encode(s: string, from: i32, to: i32, set: u8): string {
  let parts: Array<string> | null = null;
  let run = from; // start of the stretch copied as it is
  let i = from;
  while (i < to) {
    const c = <u32>s.charCodeAt(i);
    if (!inSet(c, set)) {
      i++;
      continue;
    }
    if (parts == null) parts = new Array<string>();
    if (run < i) parts.push(s.substring(run, i));
    const cp = codePointAt(s, i);
    percentEncode(parts, cp);
    i += cp >= 0x10000 ? 2 : 1;
    run = i;
  }
  if (parts == null) return s.substring(from, to);
  if (run < to) parts.push(s.substring(run, to));
  return parts.join("");
}

/**
 * Percent-decodes `s` (URL Standard §1.3 "percent-decode"), then reads the bytes as UTF-8, each invalid
 * sequence becoming U+FFFD. A "%" not followed by two hex digits stays as it is; with `plusIsSpace` (query
 * strings, application/x-www-form-urlencoded) "+" is a space. Never fails — unlike AssemblyScript's
 * decodeURIComponent, which aborts on "%zz" or invalid UTF-8.
 */
export function percentDecode(s: string, plusIsSpace: bool = false): string {
  const bytes = String.UTF8.encode(s);
  const p = changetype<usize>(bytes);
  const n = bytes.byteLength;
  let out = p;
  for (let i = 0; i < n; i++) {
    let b = <u32>load<u8>(p + i);
    if (b == 0x25 && i + 2 < n) {
      const hi = hexValue(load<u8>(p + i + 1));
      const lo = hexValue(load<u8>(p + i + 2));
      if (hi >= 0 && lo >= 0) {
        b = <u32>(hi << 4 | lo);
        i += 2;
      }
    } else if (b == 0x2b && plusIsSpace) {
      b = 0x20;
    }
    store<u8>(out++, <u8>b);
  }
  return decodeUtf8(p, <i32>(out - p));
}

// ---- URL ----

/** The special schemes and their default ports (URL Standard §4.1); -1: not one we parse. */
function defaultPort(scheme: string): i32 {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme == "ftp") return 21;
  return -1;
}

@inline function isSlash(c: u32): bool {
  return c == 0x2f || c == 0x5c; // "/", or "\" which special URLs take as one
}

export class URL {
  private scheme: string = "";
  private user: string = "";
  private secret: string = "";
  private hostText: string = "";
  private portText: string = "";
  private path: Array<string> = new Array<string>();
  private query: string | null = null;
  private fragment: string | null = null;
  private params: URLSearchParams | null = null;

  private constructor() {}

  /**
   * `input` parsed against `base` (e.g. `URL.parse(req.url, "http://localhost")`), or null when either is not a
   * URL we parse — where `new URL(input, base)` throws a TypeError. Leading and trailing spaces and controls,
   * and every tab and newline, are removed first.
   */
  static parse(input: string, base: string | null = null): URL | null {
    let baseUrl: URL | null = null;
    if (base != null) {
      baseUrl = URL.parse(base);
      if (baseUrl == null) return null;
    }
    const url = new URL();
    return url.parseFrom(clean(input), baseUrl) ? url : null;
  }

  /** Whether URL.parse(input, base) would give a URL (the WHATWG URL.canParse). */
  static canParse(input: string, base: string | null = null): bool {
    return URL.parse(input, base) != null;
  }

  /** Percent-encoded, as in href. */
  get username(): string {
    return this.user;
  }

  get password(): string {
    return this.secret;
  }

  /** The host without the port: a lower-case domain, a dotted IPv4 address, or a bracketed IPv6 address. */
  get hostname(): string {
    return this.hostText;
  }

  /** Digits, or "" when there is none or it is the scheme's default (80 for http). */
  get port(): string {
    return this.portText;
  }

  get href(): string {
    let s = this.scheme + "://";
    if (this.username.length > 0 || this.password.length > 0) {
      s += this.username;
      if (this.password.length > 0) s += ":" + this.password;
      s += "@";
    }
    s += this.host + this.pathname;
    // An empty query or fragment is kept ("/p?" stays so), though search and hash read as "".
    const query = this.query;
    if (query != null) s += "?" + query;
    const fragment = this.fragment;
    if (fragment != null) s += "#" + fragment;
    return s;
  }

  /** scheme://host[:port] (the tuple origin's serialization). */
  get origin(): string {
    return this.scheme + "://" + this.host;
  }

  /** The scheme with its colon: "http:". */
  get protocol(): string {
    return this.scheme + ":";
  }

  /** hostname, and ":" port when there is one. */
  get host(): string {
    return this.port.length > 0 ? this.hostname + ":" + this.port : this.hostname;
  }

  /** The path, percent-encoded, starting with "/"; "." and ".." segments resolved. */
  get pathname(): string {
    return "/" + this.path.join("/");
  }

  /** "?" and the query, or "" when the query is absent or empty. */
  get search(): string {
    const query = this.query;
    return query == null || query.length == 0 ? "" : "?" + query;
  }

  /** "#" and the fragment, or "" when it is absent or empty. */
  get hash(): string {
    const fragment = this.fragment;
    return fragment == null || fragment.length == 0 ? "" : "#" + fragment;
  }

  /** The query's name/value pairs; changing them rewrites the URL's query (§6.2, "update steps"). */
  get searchParams(): URLSearchParams {
    let params = this.params;
    if (params == null) {
      const query = this.query;
      params = new URLSearchParams();
      if (query != null) params.parseFrom(query, 0);
      params.url = this;
      this.params = params;
    }
    return params;
  }

  toString(): string {
    return this.href;
  }

  /** Internal: URLSearchParams's update steps set the query it serialized (null when empty). */
  setQuery(query: string | null): void {
    this.query = query;
  }

  /** The basic URL parser (§4.4) for special schemes, from a cleaned input; false on failure. */
  private parseFrom(input: string, base: URL | null): bool {
    const colon = schemeEnd(input);
    if (colon > 0) {
      const scheme = input.substring(0, colon).toLowerCase();
      if (defaultPort(scheme) < 0) return false;
      this.scheme = scheme;
      const rest = colon + 1;
      // "http:foo" against an http base is relative to it (the special relative or authority state).
      if (base != null && base.scheme == scheme && !(rest < input.length && isSlash(input.charCodeAt(rest)))) {
        return this.relative(input, rest, base);
      }
      return this.authority(input, skipSlashes(input, rest));
    }
    if (base == null) return false;
    this.scheme = base.scheme;
    return this.relative(input, 0, base);
  }

  /** The relative state (§4.4) from `at`: what the input doesn't say comes from `base`. */
  private relative(input: string, at: i32, base: URL): bool {
    const n = input.length;
    if (at < n && isSlash(input.charCodeAt(at))) {
      if (at + 1 < n && isSlash(input.charCodeAt(at + 1))) return this.authority(input, skipSlashes(input, at));
      this.copyAuthority(base);
      return this.pathFrom(input, at + 1);
    }
    this.copyAuthority(base);
    this.path = base.path.slice(0);
    if (at == n) {
      this.query = base.query;
      return true;
    }
    const c = input.charCodeAt(at);
    if (c == 0x3f) return this.queryFrom(input, at);
    if (c == 0x23) {
      this.query = base.query;
      return this.queryFrom(input, at);
    }
    if (this.path.length > 0) this.path.pop();
    return this.pathFrom(input, at);
  }

  private copyAuthority(base: URL): void {
    this.user = base.user;
    this.secret = base.secret;
    this.hostText = base.hostText;
    this.portText = base.portText;
  }

  /** The authority state, then host and port (§4.4): userinfo before the last "@", up to "/", "\", "?", "#". */
  private authority(input: string, at: i32): bool {
    const n = input.length;
    let end = at;
    while (end < n) {
      const c = input.charCodeAt(end);
      if (isSlash(c) || c == 0x3f || c == 0x23) break;
      end++;
    }
    let hostStart = at;
    const at_ = input.lastIndexOf("@", end - 1);
    if (at_ >= at) {
      let colon = input.indexOf(":", at);
      if (colon < 0 || colon > at_) colon = at_;
      this.user = encode(input, at, colon, USERINFO);
      this.secret = colon < at_ ? encode(input, colon + 1, at_, USERINFO) : "";
      hostStart = at_ + 1;
    }
    // The port's colon: the last one outside brackets.
    let portColon = -1;
    let bracketed = false;
    for (let i = hostStart; i < end; i++) {
      const c = input.charCodeAt(i);
      if (c == 0x5b) bracketed = true;
      else if (c == 0x5d) bracketed = false;
      else if (c == 0x3a && !bracketed) { portColon = i; break; }
    }
    const hostEnd = portColon >= 0 ? portColon : end;
    if (hostEnd == hostStart) return false; // special URLs have a host
    const host = parseHost(input.substring(hostStart, hostEnd));
    if (host == null) return false;
    this.hostText = host;
    if (portColon >= 0 && !this.parsePort(input, portColon + 1, end)) return false;
    return this.pathFrom(input, end < n && isSlash(input.charCodeAt(end)) ? end + 1 : end);
  }

  private parsePort(input: string, from: i32, to: i32): bool {
    let port: i32 = 0;
    for (let i = from; i < to; i++) {
      const d = <u32>input.charCodeAt(i) - 0x30;
      if (d > 9) return false;
      port = port * 10 + <i32>d;
      if (port > 65535) return false;
    }
    this.portText = from == to || port == defaultPort(this.scheme) ? "" : port.toString();
    return true;
  }

  /** The path state (§4.4) from `at` up to "?" or "#", onto the segments already in `path`. */
  private pathFrom(input: string, at: i32): bool {
    const n = input.length;
    let start = at;
    let i = at;
    while (true) {
      const c: u32 = i < n ? <u32>input.charCodeAt(i) : 0;
      const atEnd = i == n || c == 0x3f || c == 0x23;
      if (atEnd || isSlash(c)) {
        const segment = encode(input, start, i, PATH);
        if (isDoubleDot(segment)) {
          if (this.path.length > 0) this.path.pop();
          if (atEnd) this.path.push("");
        } else if (isSingleDot(segment)) {
          if (atEnd) this.path.push("");
        } else {
          this.path.push(segment);
        }
        if (atEnd) break;
        start = i + 1;
      }
      i++;
    }
    return this.queryFrom(input, i);
  }

  /** The query state from a "?" at `at` (if there is one), then the fragment state from "#". */
  private queryFrom(input: string, at: i32): bool {
    const n = input.length;
    if (at < n && input.charCodeAt(at) == 0x3f) {
      let hash = input.indexOf("#", at);
      if (hash < 0) hash = n;
      this.query = encode(input, at + 1, hash, QUERY);
      at = hash;
    }
    if (at < n) this.fragment = encode(input, at + 1, n, FRAGMENT); // at is the "#"
    return true;
  }
}

/** The input without leading and trailing C0 controls and spaces, and without any tab, LF or CR (§4.4). */
function clean(input: string): string {
  let start = 0;
  let end = input.length;
  while (start < end && <u32>input.charCodeAt(start) <= 0x20) start++;
  while (end > start && <u32>input.charCodeAt(end - 1) <= 0x20) end--;
  let s = input.substring(start, end);
  if (s.includes("\t") || s.includes("\n") || s.includes("\r")) s = s.replaceAll("\t", "").replaceAll("\n", "").replaceAll("\r", "");
  return s;
}

/** Index of the colon ending a scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"), or -1. */
function schemeEnd(input: string): i32 {
  const n = input.length;
  if (n == 0 || ((<u32>input.charCodeAt(0) | 0x20) - 0x61) > 25) return -1;
  for (let i = 1; i < n; i++) {
    const c = <u32>input.charCodeAt(i);
    if (c == 0x3a) return i;
    const alnum = c - 0x30 <= 9 || ((c | 0x20) - 0x61) <= 25;
    if (!alnum && c != 0x2b && c != 0x2d && c != 0x2e) return -1;
  }
  return -1;
}

function skipSlashes(input: string, at: i32): i32 {
  while (at < input.length && isSlash(input.charCodeAt(at))) at++;
  return at;
}

function isSingleDot(s: string): bool {
  return s == "." || (s.length == 3 && s.toLowerCase() == "%2e");
}

function isDoubleDot(s: string): bool {
  if (s.length < 2 || s.length > 6) return false;
  const lower = s.toLowerCase();
  return lower == ".." || lower == ".%2e" || lower == "%2e." || lower == "%2e%2e";
}

// ---- hosts (§3.5 host parsing, §3.6 serializing) ----

/** The serialized host, or null when `input` is not a valid host of a special URL. */
function parseHost(input: string): string | null {
  if (input.charCodeAt(0) == 0x5b) {
    if (input.charCodeAt(input.length - 1) != 0x5d) return null;
    const pieces = parseIPv6(input.substring(1, input.length - 1));
    return pieces == null ? null : "[" + serializeIPv6(pieces) + "]";
  }
  const domain = percentDecode(input);
  for (let i = 0; i < domain.length; i++) {
    const c = <u32>domain.charCodeAt(i);
    if (c >= 0x80) return null; // would need IDNA (UTS #46)
    if ((load<u8>(encodeSets + c) & FORBIDDEN_HOST) != 0) return null;
  }
  const ascii = domain.toLowerCase();
  if (endsInANumber(ascii)) {
    const address = parseIPv4(ascii);
    return address < 0 ? null : serializeIPv4(<u32>address);
  }
  return ascii.length == 0 ? null : ascii;
}

/** Whether the last label (a trailing empty one aside) is a number: then the host must be an IPv4 address. */
function endsInANumber(s: string): bool {
  const labels = s.split(".");
  if (labels[labels.length - 1].length == 0) {
    if (labels.length == 1) return false;
    labels.pop();
  }
  const last = labels[labels.length - 1];
  if (last.length > 0) {
    let digits = true;
    for (let i = 0; i < last.length; i++) if (<u32>last.charCodeAt(i) - 0x30 > 9) digits = false;
    if (digits) return true;
  }
  return parseIPv4Number(last) >= 0;
}

const IPV4_NUMBER_TOO_LARGE: i64 = 1 << 33; // saturation: every part this large fails anyway

/** An IPv4 part: decimal, 0x-hex or 0-octal (§3.5 "IPv4 number parser"); -1 when it is not one. */
function parseIPv4Number(s: string): i64 {
  if (s.length == 0) return -1;
  let radix = 10;
  let at = 0;
  if (s.length >= 2 && s.charCodeAt(0) == 0x30 && (s.charCodeAt(1) | 0x20) == 0x78) {
    radix = 16;
    at = 2;
  } else if (s.length >= 2 && s.charCodeAt(0) == 0x30) {
    radix = 8;
    at = 1;
  }
  let value: i64 = 0;
  for (let i = at; i < s.length; i++) {
    const d = hexValue(s.charCodeAt(i));
    if (d < 0 || d >= radix) return -1;
    value = value * radix + d;
    if (value > IPV4_NUMBER_TOO_LARGE) value = IPV4_NUMBER_TOO_LARGE;
  }
  return value;
}

/** The address as a number, or -1 (§3.5 "IPv4 parser"). */
function parseIPv4(s: string): i64 {
  const parts = s.split(".");
  if (parts[parts.length - 1].length == 0 && parts.length > 1) parts.pop();
  const n = parts.length;
  if (n > 4) return -1;
  let address: i64 = 0;
  for (let i = 0; i < n; i++) {
    const v = parseIPv4Number(parts[i]);
    if (v < 0) return -1;
    if (i < n - 1) {
      if (v > 255) return -1;
      address += v << (8 * (3 - i));
    } else {
      if (v >= (<i64>1 << (8 * (5 - n)))) return -1;
      address += v;
    }
  }
  return address;
}

function serializeIPv4(address: u32): string {
  return (address >> 24).toString() + "." + (address >> 16 & 255).toString() + "." +
    (address >> 8 & 255).toString() + "." + (address & 255).toString();
}

/** The eight 16-bit pieces of an IPv6 address (§3.5 "IPv6 parser"), or null. */
function parseIPv6(s: string): Array<u32> | null {
  const pieces = new Array<u32>(8);
  const n = s.length;
  let piece = 0;
  let compress = -1;
  let i = 0;
  if (i < n && s.charCodeAt(i) == 0x3a) {
    if (i + 1 >= n || s.charCodeAt(i + 1) != 0x3a) return null;
    i += 2;
    compress = ++piece;
  }
  while (i < n) {
    if (piece == 8) return null;
    if (s.charCodeAt(i) == 0x3a) {
      if (compress >= 0) return null;
      i++;
      compress = ++piece;
      continue;
    }
    let value: u32 = 0;
    let length = 0;
    while (length < 4 && i < n && hexValue(s.charCodeAt(i)) >= 0) {
      value = value * 16 + <u32>hexValue(s.charCodeAt(i));
      i++;
      length++;
    }
    if (i < n && s.charCodeAt(i) == 0x2e) { // an IPv4 address in the last two pieces
      if (length == 0) return null;
      i -= length;
      if (piece > 6) return null;
      let numbersSeen = 0;
      while (i < n) {
        let ipv4Piece: i32 = -1;
        if (numbersSeen > 0) {
          if (s.charCodeAt(i) == 0x2e && numbersSeen < 4) i++;
          else return null;
        }
        if (i >= n || <u32>s.charCodeAt(i) - 0x30 > 9) return null;
        while (i < n && <u32>s.charCodeAt(i) - 0x30 <= 9) {
          const d = <i32>s.charCodeAt(i) - 0x30;
          if (ipv4Piece == -1) ipv4Piece = d;
          else if (ipv4Piece == 0) return null;
          else ipv4Piece = ipv4Piece * 10 + d;
          if (ipv4Piece > 255) return null;
          i++;
        }
        pieces[piece] = pieces[piece] * 0x100 + <u32>ipv4Piece;
        numbersSeen++;
        if (numbersSeen == 2 || numbersSeen == 4) piece++;
      }
      if (numbersSeen != 4) return null;
      break;
    }
    if (i < n && s.charCodeAt(i) == 0x3a) {
      i++;
      if (i >= n) return null;
    } else if (i < n) {
      return null;
    }
    pieces[piece++] = value;
  }
  if (compress >= 0) {
    let swaps = piece - compress;
    piece = 7;
    while (piece != 0 && swaps > 0) {
      const other = compress + swaps - 1;
      const t = pieces[piece];
      pieces[piece] = pieces[other];
      pieces[other] = t;
      piece--;
      swaps--;
    }
  } else if (piece != 8) {
    return null;
  }
  return pieces;
}

/** Lower-case hex pieces, the first longest run of two or more zero pieces written "::" (§3.6). */
function serializeIPv6(pieces: Array<u32>): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (pieces[i] != 0) { i++; continue; }
    let j = i;
    while (j < 8 && pieces[j] == 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (i == best) {
      s += i == 0 ? "::" : ":";
      i += bestLength - 1;
      continue;
    }
    s += pieces[i].toString(16);
    if (i < 7) s += ":";
  }
  return s;
}

// ---- URLSearchParams (§6.2) and application/x-www-form-urlencoded (§5) ----

export class URLSearchParams {
  // [name, value, …], decoded.
  private list: Array<string> = new Array<string>();
  /** Internal: the URL whose query this is, rewritten on every change. */
  url: URL | null = null;

  /**
   * Pairs parsed from `init` as application/x-www-form-urlencoded (§5.1): a leading "?" is dropped, pairs are
   * split on "&" (empty ones skipped) and at their first "=", "+" is a space, then percentDecode.
   */
  constructor(init: string = "") {
    this.parseFrom(init, init.length > 0 && init.charCodeAt(0) == 0x3f ? 1 : 0);
  }

  /** Internal: appends the pairs of `init` from `start` (a URL's query is taken whole, a leading "?" included). */
  parseFrom(init: string, start: i32): void {
    const n = init.length;
    while (start <= n) {
      let end = init.indexOf("&", start);
      if (end < 0) end = n;
      if (end > start) {
        let eq = init.indexOf("=", start);
        if (eq < 0 || eq > end) eq = end;
        this.list.push(percentDecode(init.substring(start, eq), true));
        this.list.push(eq < end ? percentDecode(init.substring(eq + 1, end), true) : "");
      }
      start = end + 1;
    }
  }

  /** The number of pairs. */
  get size(): i32 {
    return this.list.length >> 1;
  }

  /** The first value named `name`, or null when there is none. */
  get(name: string): string | null {
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) {
      if (unchecked(list[i]) == name) return unchecked(list[i + 1]);
    }
    return null;
  }

  /** Every value named `name`, in order. */
  getAll(name: string): Array<string> {
    const values = new Array<string>();
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) {
      if (unchecked(list[i]) == name) values.push(unchecked(list[i + 1]));
    }
    return values;
  }

  /** Whether a pair is named `name` (and, with `value`, has that value). */
  has(name: string, value: string | null = null): bool {
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) {
      if (unchecked(list[i]) == name && (value == null || unchecked(list[i + 1]) == value)) return true;
    }
    return false;
  }

  append(name: string, value: string): void {
    this.list.push(name);
    this.list.push(value);
    this.update();
  }

  /** The first pair named `name` takes `value`; the others of that name go. Appends when there is none. */
  set(name: string, value: string): void {
    const list = this.list;
    let found = false;
    for (let i = 0; i < list.length; ) {
      if (unchecked(list[i]) != name) { i += 2; continue; }
      if (found) {
        list.splice(i, 2);
      } else {
        unchecked(list[i + 1] = value);
        found = true;
        i += 2;
      }
    }
    if (!found) {
      list.push(name);
      list.push(value);
    }
    this.update();
  }

  /** Removes every pair named `name` (with `value`: only those with that value). */
  delete(name: string, value: string | null = null): void {
    const list = this.list;
    for (let i = 0; i < list.length; ) {
      if (unchecked(list[i]) == name && (value == null || unchecked(list[i + 1]) == value)) list.splice(i, 2);
      else i += 2;
    }
    this.update();
  }

  /** Sorts the pairs by name, by UTF-16 code units; pairs of the same name keep their order (a stable sort). */
  sort(): void {
    const list = this.list;
    for (let i = 2; i < list.length; i += 2) {
      const name = unchecked(list[i]);
      const value = unchecked(list[i + 1]);
      let j = i;
      while (j > 0 && unchecked(list[j - 2]) > name) {
        unchecked(list[j] = unchecked(list[j - 2]));
        unchecked(list[j + 1] = unchecked(list[j - 1]));
        j -= 2;
      }
      unchecked(list[j] = name);
      unchecked(list[j + 1] = value);
    }
    this.update();
  }

  keys(): Array<string> {
    const keys = new Array<string>(this.size);
    for (let i = 0; i < keys.length; i++) unchecked(keys[i] = unchecked(this.list[2 * i]));
    return keys;
  }

  values(): Array<string> {
    const values = new Array<string>(this.size);
    for (let i = 0; i < values.length; i++) unchecked(values[i] = unchecked(this.list[2 * i + 1]));
    return values;
  }

  /** [name, value] pairs in order: what `for (const [name, value] of params)` yields in JavaScript. */
  entries(): Array<Array<string>> {
    const entries = new Array<Array<string>>(this.size);
    for (let i = 0; i < entries.length; i++) unchecked(entries[i] = [unchecked(this.list[2 * i]), unchecked(this.list[2 * i + 1])]);
    return entries;
  }

  /** application/x-www-form-urlencoded (§5.2): "name=value" pairs joined with "&", spaces as "+". */
  toString(): string {
    const parts = new Array<string>();
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) {
      if (i > 0) parts.push("&");
      parts.push(formEncode(unchecked(list[i])));
      parts.push("=");
      parts.push(formEncode(unchecked(list[i + 1])));
    }
    return parts.join("");
  }

  private update(): void {
    const url = this.url;
    if (url == null) return;
    const query = this.toString();
    url.setQuery(query.length == 0 ? null : query);
  }
}

function formEncode(s: string): string {
  return encode(s, 0, s.length, FORM).replaceAll("%20", "+");
}
