// HTTP/1.1 message parser (RFC 9112), strict by default, zero-copy.
// The head is parsed picohttpparser-style: bytes are scanned once for the end of the header section (a resume
// offset means a trickling client is never rescanned), then the complete head is parsed in one pass into
// spans relative to its first byte. The body is decoded incrementally by a declared state machine, so input
// may be split anywhere — inside CRLF, a chunk-size or an extension.
import { ParseError, MAX_CHUNK_EXTENSIONS_SIZE } from "./errors";
import { is, TOKEN, VALUE, TARGET, HEX, HOST, isHostValue } from "./fields";
export { ParseError, errorReason, errorCode, statusForError } from "./errors";

export enum Kind { REQUEST, RESPONSE }

export enum Method { OTHER, GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH }

/** Interned names, so the common methods cost no allocation per request. */
export function methodName(m: Method): string {
  switch (m) {
    case Method.GET: return "GET";
    case Method.HEAD: return "HEAD";
    case Method.POST: return "POST";
    case Method.PUT: return "PUT";
    case Method.DELETE: return "DELETE";
    case Method.CONNECT: return "CONNECT";
    case Method.OPTIONS: return "OPTIONS";
    case Method.TRACE: return "TRACE";
    case Method.PATCH: return "PATCH";
    default: return "";
  }
}

const CR: u32 = 0x0d;
const LF: u32 = 0x0a;
const SP: u32 = 0x20;
const HTAB: u32 = 0x09;

export const DEFAULT_MAX_HEADER_SIZE: i32 = 16 * 1024;
export const DEFAULT_MAX_HEADERS: i32 = 100;
export const DEFAULT_MAX_TARGET: i32 = 8 * 1024;
/** Each header slot: nameStart, nameLen, valueStart, valueLen (u32 each), offsets into the head. */
const SLOT: usize = 16;
/** Bytes per header in copySpans' output: the same four u32s. */
export const HEADER_SPAN: usize = SLOT;

export enum HeadResult { NEED_MORE = -1, ERROR = -2 }

enum Body { NONE, LENGTH, CHUNKED, UNTIL_EOF }

const CONNECTION_CLOSE: u8 = 1;
const CONNECTION_KEEP_ALIVE: u8 = 2;
const CONNECTION_UPGRADE: u8 = 4;

enum Chunk {
  SIZE, SIZE_MORE,
  // chunk-ext = *( ";" name [ "=" ( token / quoted-string ) ] ); the BWS RFC 9112 allows is refused, as llhttp does
  EXT_BEFORE_NAME, EXT_NAME, EXT_BEFORE_VALUE, EXT_VALUE, EXT_QUOTED, EXT_QUOTED_ESCAPE, EXT_AFTER_VALUE,
  SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER_NAME, TRAILER_VALUE, TRAILER_LF, FINAL_LF, DONE,
}

export class Parser {
  kind: Kind;
  maxHeaderSize: i32 = DEFAULT_MAX_HEADER_SIZE;
  maxHeaders: i32 = DEFAULT_MAX_HEADERS;
  maxTargetLength: i32 = DEFAULT_MAX_TARGET;
  error: ParseError = ParseError.NONE;

  // Head, as spans relative to the head's first byte (valid until the next parseHead).
  method: Method = Method.OTHER;
  methodLength: i32 = 0;
  targetStart: i32 = 0;
  targetLength: i32 = 0;
  versionMajor: i32 = 1;
  versionMinor: i32 = 1;
  status: i32 = 0;
  headerCount: i32 = 0;
  private slots: usize;
  contentLength: i64 = -1;
  chunked: bool = false;
  keepAlive: bool = true;
  upgrade: bool = false;
  expectContinue: bool = false;
  /** Host fields in the head, and whether every one was a valid uri-host [":" port] (the server judges). */
  hostCount: i32 = 0;
  hostValid: bool = true;

  private scanned: i32 = 0;     // head bytes already searched for the blank line
  private body: Body = Body.NONE;
  private remaining: u64 = 0;
  private chunkState: Chunk = Chunk.SIZE;
  private sizeDigits: i32 = 0;
  private trailerBytes: i32 = 0;
  private extensionBytes: i32 = 0; // chunk-extension bytes in this message, bounded by MAX_CHUNK_EXTENSIONS_SIZE
  /** After decodeBody: the span of body data found (relative to the ptr given), and whether the body ended. */
  dataOffset: i32 = 0;
  dataLength: i32 = 0;
  bodyDone: bool = false;

  constructor(kind: Kind = Kind.REQUEST) {
    this.kind = kind;
    this.slots = heap.alloc(<usize>DEFAULT_MAX_HEADERS * SLOT);
  }

  /** Ready for the next message on the connection. */
  reset(): void {
    this.error = ParseError.NONE;
    this.scanned = 0;
    this.keepAlive = true;
    this.resetHead();
    this.body = Body.NONE;
    this.bodyDone = false;
  }

  /** What one parse of a head accumulates; cleared before each attempt. */
  private resetHead(): void {
    this.headerCount = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.upgrade = false;
    this.expectContinue = false;
    this.hostCount = 0;
    this.hostValid = true;
    this.sawTransferEncoding = false;
    this.sawUpgrade = false;
    this.connectionTokens = 0;
  }

  setMaxHeaders(n: i32): void {
    if (n > this.maxHeaders) this.slots = heap.realloc(this.slots, <usize>n * SLOT);
    this.maxHeaders = n;
  }

  // ---- head ----

  /**
   * Parses the head at [ptr, ptr+len), which starts at the message's first byte and holds everything
   * received so far. Returns the head's length once complete, HeadResult.NEED_MORE, or HeadResult.ERROR
   * (see `error`). The first look parses straight through (most heads arrive whole); if the head was
   * incomplete, later calls first scan only the new bytes for its end (picohttpparser's `last_len`), so a
   * client trickling bytes never makes the parser redo its work per packet.
   */
  parseHead(ptr: usize, len: i32, isHeadRequest: bool = false): i32 {
    let end = len;
    const from = this.scanned;
    if (from > 0) {
      end = findHeadEnd(ptr, len, from > 3 ? from - 3 : 0);
      if (end < 0) {
        this.scanned = len;
        if (len > this.maxHeaderSize) return this.fail(ParseError.HEADERS_TOO_LARGE);
        return HeadResult.NEED_MORE;
      }
    }
    this.resetHead();
    const lineEnd = this.kind == Kind.REQUEST ? this.parseRequestLine(ptr, end) : this.parseStatusLine(ptr, end);
    let headEnd = lineEnd < 0 ? lineEnd : this.parseFields(ptr, lineEnd, end);
    // A head is judged once complete, however it was split: an error in an incomplete first look waits.
    if (headEnd == HeadResult.ERROR && from == 0 && findHeadEnd(ptr, len, 0) < 0) {
      this.error = ParseError.NONE;
      headEnd = HeadResult.NEED_MORE;
    }
    if (headEnd == HeadResult.NEED_MORE) {
      this.scanned = len;
      if (len > this.maxHeaderSize) return this.fail(ParseError.HEADERS_TOO_LARGE);
      return HeadResult.NEED_MORE;
    }
    if (headEnd < 0) return HeadResult.ERROR;
    if (headEnd > this.maxHeaderSize) return this.fail(ParseError.HEADERS_TOO_LARGE);
    if (!this.frameBody(isHeadRequest)) return HeadResult.ERROR;
    return headEnd;
  }

  private fail(code: ParseError): i32 {
    this.error = code;
    return HeadResult.ERROR;
  }

  private reject(code: ParseError): bool {
    this.error = code;
    return false;
  }

  // The head's parts, each bounded by `end`: running into it means NEED_MORE, never an error.

  /** method SP request-target SP HTTP-version CRLF; returns the offset after the CRLF. */
  private parseRequestLine(p: usize, end: i32): i32 {
    let i = scanToken(p, 0, end);
    if (i == end) return HeadResult.NEED_MORE;
    if (i == 0 || load<u8>(p + i) != SP) return this.fail(ParseError.INVALID_METHOD);
    this.methodLength = i;
    this.method = classifyMethod(p, i);
    const start = ++i;
    i = scanTarget(p, i, end);
    if (i - start > this.maxTargetLength) return this.fail(ParseError.TARGET_TOO_LONG);
    if (i == end) return HeadResult.NEED_MORE;
    if (i == start || load<u8>(p + i) != SP) return this.fail(ParseError.INVALID_TARGET);
    if (!isTargetForm(p + start, i - start, this.method)) return this.fail(ParseError.INVALID_TARGET);
    this.targetStart = start;
    this.targetLength = i - start;
    i = this.parseVersion(p, i + 1, end);
    if (i < 0) return i;
    return this.expectCrlf(p, i, end);
  }

  /** HTTP-version SP 3DIGIT SP [reason] CRLF */
  private parseStatusLine(p: usize, end: i32): i32 {
    let i = this.parseVersion(p, 0, end);
    if (i < 0) return i;
    if (end - i < 5) return HeadResult.NEED_MORE;
    if (load<u8>(p + i) != SP) return this.fail(ParseError.INVALID_STATUS);
    let status = 0;
    for (let k = 1; k <= 3; k++) {
      const d = <u32>load<u8>(p + i + k) - 0x30;
      if (d > 9) return this.fail(ParseError.INVALID_STATUS);
      status = status * 10 + <i32>d;
    }
    this.status = status;
    i += 4;
    const c = <u32>load<u8>(p + i);
    if (c == SP) {
      i++;
      while (i < end && is(load<u8>(p + i), VALUE)) i++;
    } else if (c != CR) {
      return this.fail(ParseError.INVALID_STATUS);
    }
    return this.expectCrlf(p, i, end);
  }

  private parseVersion(p: usize, i: i32, end: i32): i32 {
    if (end - i < 8) {
      // Shorter than "HTTP/1.1" before the line ends: no more bytes can make it a version.
      for (let k = i; k < end; k++) {
        const c = <u32>load<u8>(p + k);
        if (c == CR || c == LF) return this.fail(ParseError.INVALID_VERSION);
      }
      return HeadResult.NEED_MORE;
    }
    // "HTTP/" as one little-endian u32 plus the slash
    if (load<u32>(p + i) != 0x50545448 || load<u8>(p + i + 4) != 0x2f) return this.fail(ParseError.INVALID_VERSION);
    const major = <u32>load<u8>(p + i + 5) - 0x30;
    const minor = <u32>load<u8>(p + i + 7) - 0x30;
    if (major > 9 || minor > 9 || load<u8>(p + i + 6) != 0x2e) return this.fail(ParseError.INVALID_VERSION);
    if (major != 1 || minor > 1) return this.fail(ParseError.UNSUPPORTED_VERSION);
    this.versionMajor = <i32>major;
    this.versionMinor = <i32>minor;
    return i + 8;
  }

  private expectCrlf(p: usize, i: i32, end: i32): i32 {
    if (i >= end) return HeadResult.NEED_MORE;
    if (load<u8>(p + i) != CR) return this.fail(ParseError.BARE_CR);
    if (i + 1 >= end) return HeadResult.NEED_MORE;
    if (load<u8>(p + i + 1) != LF) return this.fail(ParseError.BARE_CR);
    return i + 2;
  }

  /** field-line = field-name ":" OWS field-value OWS CRLF, until the empty line; returns the head's end. */
  private parseFields(p: usize, i: i32, end: i32): i32 {
    let count = 0;
    while (true) {
      if (i >= end) return HeadResult.NEED_MORE;
      const first = <u32>load<u8>(p + i);
      if (first == CR) {
        i = this.expectCrlf(p, i, end);
        if (i < 0) return i;
        break; // the empty line
      }
      if (first == SP || first == HTAB) return this.fail(ParseError.OBS_FOLD);
      if (first == LF) return this.fail(ParseError.BARE_CR);
      const nameStart = i;
      i = scanToken(p, i, end);
      if (i >= end) return HeadResult.NEED_MORE;
      const nameLength = i - nameStart;
      const c = <u32>load<u8>(p + i);
      if (c != 0x3a) {
        if (nameLength > 0 && (c == SP || c == HTAB)) return this.fail(ParseError.WHITESPACE_BEFORE_COLON);
        if (nameLength > 0 && (c == CR || c == LF)) return this.fail(ParseError.MISSING_COLON);
        return this.fail(ParseError.INVALID_HEADER_NAME);
      }
      if (nameLength == 0) return this.fail(ParseError.INVALID_HEADER_NAME);
      i++;
      while (i < end && (load<u8>(p + i) == SP || load<u8>(p + i) == HTAB)) i++;
      const valueStart = i;
      i = scanValue(p, i, end);
      if (i >= end) return HeadResult.NEED_MORE;
      let valueEnd = i;
      const stop = <u32>load<u8>(p + i);
      if (stop != CR) return this.fail(stop == LF ? ParseError.BARE_CR : ParseError.INVALID_HEADER_VALUE);
      i = this.expectCrlf(p, i, end);
      if (i < 0) return i;
      while (valueEnd > valueStart && (load<u8>(p + valueEnd - 1) == SP || load<u8>(p + valueEnd - 1) == HTAB)) valueEnd--;
      if (count == this.maxHeaders) return this.fail(ParseError.TOO_MANY_HEADERS);
      const slot = this.slots + <usize>count * SLOT;
      store<u32>(slot, nameStart);
      store<u32>(slot, nameLength, 4);
      store<u32>(slot, valueStart, 8);
      store<u32>(slot, valueEnd - valueStart, 12);
      count++;
      if (!this.noteField(p, nameStart, nameLength, valueStart, valueEnd - valueStart)) return HeadResult.ERROR;
    }
    this.headerCount = count;
    return i;
  }

  /** Headers that decide framing and connection handling. */
  private noteField(p: usize, name: i32, nameLength: i32, value: i32, valueLength: i32): bool {
    switch (nameLength) {
      case 14: { // content-length
        if (!equalsLower(p + name, CONTENT_LENGTH)) return true;
        let n: i64 = 0;
        if (valueLength == 0 || valueLength > 15) return this.reject(ParseError.INVALID_CONTENT_LENGTH);
        for (let k = 0; k < valueLength; k++) {
          const d = <u32>load<u8>(p + value + k) - 0x30;
          if (d > 9) return this.reject(ParseError.INVALID_CONTENT_LENGTH);
          n = n * 10 + d;
        }
        // Any repeat is refused, identical or not (RFC 9110 §8.6 allows either; llhttp refuses too).
        if (this.contentLength >= 0) return this.reject(ParseError.DUPLICATE_CONTENT_LENGTH);
        this.contentLength = n;
        return true;
      }
      case 17: { // transfer-encoding
        if (!equalsLower(p + name, TRANSFER_ENCODING)) return true;
        this.sawTransferEncoding = true;
        return this.noteCodings(p + value, valueLength);
      }
      case 10: { // connection
        if (!equalsLower(p + name, CONNECTION)) return true;
        this.noteConnection(p + value, valueLength);
        return true;
      }
      case 7: { // upgrade
        if (equalsLower(p + name, UPGRADE)) this.sawUpgrade = true;
        return true;
      }
      case 4: { // host
        if (!equalsLower(p + name, HOST_NAME)) return true;
        this.hostCount++;
        if (!isHostValue(p + value, valueLength)) this.hostValid = false;
        return true;
      }
      case 6: { // expect
        if (equalsLower(p + name, EXPECT) && valueLength == 12 && equalsLower(p + value, N100_CONTINUE)) this.expectContinue = true;
        return true;
      }
    }
    return true;
  }

  private sawTransferEncoding: bool = false;
  private sawUpgrade: bool = false;
  private connectionTokens: u8 = 0; // CONNECTION_* bits seen in Connection headers

  /**
   * Transfer-Encoding codings, left to right (repeated header lines continue the list): chunked must come
   * last, once, in a request (RFC 9112 §6.3); a coding we don't know is refused (§6.1: 501).
   */
  private noteCodings(v: usize, len: i32): bool {
    let i = 0;
    if (len == 0 || load<u8>(v + len - 1) == 0x2c) return this.reject(ParseError.INVALID_TRANSFER_ENCODING); // empty item
    while (i < len) {
      while (i < len && (load<u8>(v + i) == SP || load<u8>(v + i) == HTAB)) i++;
      const start = i;
      while (i < len && is(load<u8>(v + i), TOKEN)) i++;
      const n = i - start;
      while (i < len && (load<u8>(v + i) == SP || load<u8>(v + i) == HTAB)) i++;
      if (n == 0 || (i < len && load<u8>(v + i) != 0x2c)) return this.reject(ParseError.INVALID_TRANSFER_ENCODING);
      i++; // the comma
      if (n == 7 && equalsLower(v + start, CHUNKED)) {
        if (this.chunked && this.kind == Kind.REQUEST) return this.reject(ParseError.INVALID_TRANSFER_ENCODING);
        this.chunked = true;
        continue;
      }
      if (!isKnownCoding(v + start, n)) return this.reject(ParseError.UNKNOWN_TRANSFER_CODING);
      if (this.chunked && this.kind == Kind.REQUEST) return this.reject(ParseError.INVALID_TRANSFER_ENCODING);
      this.chunked = false; // a coding after chunked: the body isn't chunk-delimited
    }
    return true;
  }

  private noteConnection(v: usize, len: i32): void {
    // The usual values whole, before the general list walk.
    if (len == 10 && equalsLower(v, KEEP_ALIVE)) {
      this.connectionTokens |= CONNECTION_KEEP_ALIVE;
      return;
    }
    let i = 0;
    while (i < len) {
      while (i < len && (load<u8>(v + i) == SP || load<u8>(v + i) == HTAB || load<u8>(v + i) == 0x2c)) i++;
      const start = i;
      while (i < len && load<u8>(v + i) != 0x2c) i++;
      let stop = i;
      while (stop > start && (load<u8>(v + stop - 1) == SP || load<u8>(v + stop - 1) == HTAB)) stop--;
      const n = stop - start;
      if (n == 5 && equalsLower(v + start, CLOSE)) this.connectionTokens |= CONNECTION_CLOSE;
      else if (n == 10 && equalsLower(v + start, KEEP_ALIVE)) this.connectionTokens |= CONNECTION_KEEP_ALIVE;
      else if (n == 7 && equalsLower(v + start, UPGRADE)) this.connectionTokens |= CONNECTION_UPGRADE;
    }
  }

  /** Decides how the body is delimited (RFC 9112 §6.3). */
  private frameBody(isHeadRequest: bool): bool {
    if (this.sawTransferEncoding) {
      if (this.contentLength >= 0) return this.reject(ParseError.CONTENT_LENGTH_AND_TRANSFER_ENCODING);
      if (this.kind == Kind.REQUEST && (this.versionMinor == 0 || !this.chunked)) return this.reject(ParseError.INVALID_TRANSFER_ENCODING);
    }
    const tokens = this.connectionTokens;
    this.upgrade = this.method == Method.CONNECT && this.kind == Kind.REQUEST || (this.sawUpgrade && (tokens & CONNECTION_UPGRADE) != 0);
    // "close" anywhere wins; HTTP/1.0 stays open only when asked to.
    this.keepAlive = (tokens & CONNECTION_CLOSE) == 0 && (this.versionMinor == 1 || (tokens & CONNECTION_KEEP_ALIVE) != 0);
    this.sawTransferEncoding = false;
    this.sawUpgrade = false;
    this.connectionTokens = 0;
    this.bodyDone = false;
    this.chunkState = Chunk.SIZE;
    this.sizeDigits = 0;
    this.remaining = 0;
    this.trailerBytes = 0;
    this.extensionBytes = 0;
    if (this.kind == Kind.RESPONSE) {
      const s = this.status;
      if (isHeadRequest || (s >= 100 && s < 200) || s == 204 || s == 304) return this.noBody();
    }
    if (this.chunked) {
      this.body = Body.CHUNKED;
    } else if (this.contentLength > 0) {
      this.body = Body.LENGTH;
      this.remaining = <u64>this.contentLength;
    } else if (this.kind == Kind.RESPONSE && this.contentLength < 0) {
      this.body = Body.UNTIL_EOF;
      this.keepAlive = false;
    } else {
      return this.noBody();
    }
    return true;
  }

  private noBody(): bool {
    this.body = Body.NONE;
    this.bodyDone = true;
    return true;
  }

  /** Whether the message has a body still to decode after its head. */
  get hasBody(): bool {
    return !this.bodyDone;
  }

  /** Header i's name and value as spans into the head (see parseHead). */
  nameStart(i: i32): i32 { return <i32>load<u32>(this.slots + <usize>i * SLOT); }
  nameLength(i: i32): i32 { return <i32>load<u32>(this.slots + <usize>i * SLOT, 4); }
  valueStart(i: i32): i32 { return <i32>load<u32>(this.slots + <usize>i * SLOT, 8); }
  valueLength(i: i32): i32 { return <i32>load<u32>(this.slots + <usize>i * SLOT, 12); }

  /** Copies every header's spans (HEADER_SPAN bytes each) to `dest`. */
  copySpans(dest: usize): void {
    memory.copy(dest, this.slots, <usize>this.headerCount * SLOT);
  }

  // ---- body ----

  /**
   * Decodes body bytes from [ptr, ptr+len). Returns bytes consumed (or -1 on error); sets dataOffset/dataLength
   * to at most one span of body data within the input, and bodyDone at the end of the message.
   * Call again with the rest while it consumes bytes and the body isn't done.
   */
  decodeBody(ptr: usize, len: i32): i32 {
    this.dataLength = 0;
    switch (this.body) {
      case Body.NONE:
        this.bodyDone = true;
        return 0;
      case Body.UNTIL_EOF:
        this.dataOffset = 0;
        this.dataLength = len;
        return len;
      case Body.LENGTH: {
        const take = <i32>min(<u64>len, this.remaining);
        this.dataOffset = 0;
        this.dataLength = take;
        this.remaining -= take;
        if (this.remaining == 0) this.bodyDone = true;
        return take;
      }
    }
    return this.decodeChunked(ptr, len);
  }

  /** The end of the connection ends an until-EOF body. */
  finishAtEof(): void {
    if (this.body == Body.UNTIL_EOF) this.bodyDone = true;
  }

  private decodeChunked(p: usize, len: i32): i32 {
    let i = 0;
    let state = this.chunkState;
    while (i < len) {
      const c = <u32>load<u8>(p + i);
      switch (state) {
        case Chunk.SIZE:
        case Chunk.SIZE_MORE: {
          if (is(c, HEX)) {
            if (++this.sizeDigits > 15) return this.chunkError(ParseError.CHUNK_SIZE_OVERFLOW);
            const d = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
            this.remaining = (state == Chunk.SIZE ? 0 : this.remaining << 4) | d;
            state = Chunk.SIZE_MORE;
          } else if (state == Chunk.SIZE) {
            return this.chunkError(ParseError.INVALID_CHUNK_SIZE);
          } else if (c == 0x3b) {
            if (!this.countExtensionByte()) return -1;
            state = Chunk.EXT_BEFORE_NAME;
          } else if (c == CR) {
            state = Chunk.SIZE_LF;
          } else {
            return this.chunkError(ParseError.INVALID_CHUNK_SIZE); // whitespace after the size too, as llhttp
          }
          i++;
          break;
        }
        case Chunk.EXT_BEFORE_NAME:
        case Chunk.EXT_BEFORE_VALUE: {
          if (!this.countExtensionByte()) return -1;
          if (state == Chunk.EXT_BEFORE_VALUE && c == 0x22) state = Chunk.EXT_QUOTED;
          else if (is(c, TOKEN)) state = state == Chunk.EXT_BEFORE_NAME ? Chunk.EXT_NAME : Chunk.EXT_VALUE;
          else return this.chunkError(ParseError.INVALID_CHUNK_EXTENSION);
          i++;
          break;
        }
        case Chunk.EXT_NAME:
        case Chunk.EXT_VALUE:
        case Chunk.EXT_AFTER_VALUE: {
          if (c != CR && !this.countExtensionByte()) return -1;
          if (state != Chunk.EXT_AFTER_VALUE && is(c, TOKEN)) {
            // more of the name or value
          } else if (c == 0x3d && state == Chunk.EXT_NAME) {
            state = Chunk.EXT_BEFORE_VALUE;
          } else if (c == 0x3b) {
            state = Chunk.EXT_BEFORE_NAME;
          } else if (c == CR) {
            state = Chunk.SIZE_LF;
          } else {
            return this.chunkError(ParseError.INVALID_CHUNK_EXTENSION);
          }
          i++;
          break;
        }
        case Chunk.EXT_QUOTED: {
          if (!this.countExtensionByte()) return -1;
          if (c == 0x22) state = Chunk.EXT_AFTER_VALUE;
          else if (c == 0x5c) state = Chunk.EXT_QUOTED_ESCAPE;
          else if (!is(c, VALUE)) return this.chunkError(ParseError.INVALID_CHUNK_EXTENSION);
          i++;
          break;
        }
        case Chunk.EXT_QUOTED_ESCAPE: {
          if (!this.countExtensionByte()) return -1;
          if (!is(c, VALUE)) return this.chunkError(ParseError.INVALID_CHUNK_EXTENSION);
          state = Chunk.EXT_QUOTED;
          i++;
          break;
        }
        case Chunk.SIZE_LF: {
          if (c != LF) return this.chunkError(ParseError.BARE_CR);
          i++;
          this.sizeDigits = 0;
          state = this.remaining == 0 ? Chunk.TRAILER_START : Chunk.DATA;
          break;
        }
        case Chunk.DATA: {
          const take = <i32>min(<u64>(len - i), this.remaining);
          this.dataOffset = i;
          this.dataLength = take;
          this.remaining -= take;
          i += take;
          if (this.remaining == 0) state = Chunk.DATA_CR;
          this.chunkState = state;
          return i; // one data span per call
        }
        case Chunk.DATA_CR: {
          if (c != CR) return this.chunkError(ParseError.INVALID_CHUNK_DATA);
          state = Chunk.DATA_LF;
          i++;
          break;
        }
        case Chunk.DATA_LF: {
          if (c != LF) return this.chunkError(ParseError.INVALID_CHUNK_DATA);
          state = Chunk.SIZE;
          i++;
          break;
        }
        case Chunk.TRAILER_START: {
          // trailer fields are checked like header fields (name ":" value), then dropped
          if (c == CR) state = Chunk.FINAL_LF;
          else if (is(c, TOKEN)) state = Chunk.TRAILER_NAME;
          else return this.chunkError(ParseError.INVALID_TRAILER);
          i++;
          this.trailerBytes++;
          break;
        }
        case Chunk.TRAILER_NAME:
        case Chunk.TRAILER_VALUE: {
          if (state == Chunk.TRAILER_NAME) {
            if (c == 0x3a) state = Chunk.TRAILER_VALUE;
            else if (!is(c, TOKEN)) return this.chunkError(ParseError.INVALID_TRAILER);
          } else if (c == CR) {
            state = Chunk.TRAILER_LF;
          } else if (!is(c, VALUE)) {
            return this.chunkError(ParseError.INVALID_TRAILER);
          }
          if (++this.trailerBytes > this.maxHeaderSize) return this.chunkError(ParseError.HEADERS_TOO_LARGE);
          i++;
          break;
        }
        case Chunk.TRAILER_LF: {
          if (c != LF) return this.chunkError(ParseError.BARE_CR);
          state = Chunk.TRAILER_START;
          i++;
          break;
        }
        case Chunk.FINAL_LF: {
          if (c != LF) return this.chunkError(ParseError.BARE_CR);
          i++;
          this.chunkState = Chunk.DONE;
          this.bodyDone = true;
          return i;
        }
        default:
          return i;
      }
    }
    this.chunkState = state;
    return i;
  }

  /**
   * Chunk extensions are read and dropped, so they are bounded like the head: a client must not make the
   * server scan without limit bytes that are not body (RFC 9112 §7.1.1; Node's fix for CVE-2024-22019).
   */
  private countExtensionByte(): bool {
    if (++this.extensionBytes <= MAX_CHUNK_EXTENSIONS_SIZE) return true;
    this.error = ParseError.CHUNK_EXTENSIONS_TOO_LARGE;
    return false;
  }

  private chunkError(code: ParseError): i32 {
    this.error = code;
    return -1;
  }
}

/** Empty lines tolerated before a request-line (RFC 9112 §2.2 asks servers to ignore "at least one"). */
export const MAX_EMPTY_LINES: i32 = 8;

/**
 * Bytes of empty lines (CRLF) before a start-line, which RFC 9112 §2.2 says to ignore; call before parseHead
 * while no byte of the message has been parsed. -1 when the input is a lone CR that may begin one: wait.
 */
export function skipEmptyLines(p: usize, len: i32): i32 {
  let i = 0;
  while (i + 1 < len && load<u8>(p + i) == CR && load<u8>(p + i + 1) == LF) i += 2;
  return i + 1 == len && load<u8>(p + i) == CR ? -1 : i;
}

/** Offset just past the blank line ending the head, or -1. Searches from `from` for LF followed by CRLF or LF. */
function findHeadEnd(p: usize, len: i32, from: i32): i32 {
  let i = from;
  while (i < len) {
    // Fast path: skip 8 bytes at a time while none is LF (SWAR zero-byte test on x ^ 0x0a…).
    while (i + 8 <= len) {
      const x = load<u64>(p + i) ^ 0x0a0a0a0a0a0a0a0a;
      if (((x - 0x0101010101010101) & ~x & 0x8080808080808080) != 0) break;
      i += 8;
    }
    if (i >= len) break;
    if (load<u8>(p + i) == LF) {
      if (i + 1 < len && load<u8>(p + i + 1) == LF) return i + 2;
      if (i + 2 < len && load<u8>(p + i + 1) == CR && load<u8>(p + i + 2) == LF) return i + 3;
      if (i + 2 >= len) return -1; // the terminator may be split; rescan these few bytes next time
    }
    i++;
  }
  return -1;
}

/**
 * RFC 9112 §3.2: origin-form ("/…"), asterisk-form ("*"), authority-form (CONNECT only, "host:port") or
 * absolute-form ("scheme://…").
 */
function isTargetForm(p: usize, n: i32, method: Method): bool {
  const first = <u32>load<u8>(p);
  if (method == Method.CONNECT) return isAuthorityForm(p, n);
  if (first == 0x2f) return true;
  if (first == 0x2a) return n == 1;
  let i = 0;
  while (i < n) {
    const c = <u32>load<u8>(p + i) | 0x20;
    const isAlpha = c >= 0x61 && c <= 0x7a;
    if (!(isAlpha || (i > 0 && ((c >= 0x30 && c <= 0x39) || c == 0x2b || c == 0x2d || c == 0x2e)))) break;
    i++;
  }
  if (!(i > 0 && i + 2 < n && load<u8>(p + i) == 0x3a && load<u16>(p + i + 1) == 0x2f2f)) return false;
  // The authority, up to the path, query or fragment: [ userinfo "@" ] host [ ":" port ] (RFC 3986 §3.2).
  for (i += 3; i < n; i++) {
    const c = <u32>load<u8>(p + i);
    if (c == 0x2f || c == 0x3f || c == 0x23) break;
    if (!is(c, HOST) && c != 0x3a && c != 0x40 && c != 0x5b && c != 0x5d) return false;
  }
  return true;
}

/** authority-form = uri-host ":" port, with host as reg-name, IPv4 or [IPv6] characters. */
function isAuthorityForm(p: usize, n: i32): bool {
  let colon = -1;
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u8>(p + i);
    if (c == 0x3a) colon = i;
    const lower = c | 0x20;
    const ok = (lower >= 0x61 && lower <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2e || c == 0x5f ||
      c == 0x7e || c == 0x21 || c == 0x24 || (c >= 0x26 && c <= 0x2c) || c == 0x3b || c == 0x3d || c == 0x3a ||
      c == 0x5b || c == 0x5d || c == 0x25;
    if (!ok) return false;
  }
  if (colon <= 0 || colon == n - 1) return false;
  for (let i = colon + 1; i < n; i++) {
    const d = <u32>load<u8>(p + i) - 0x30;
    if (d > 9) return false;
  }
  return true;
}

function isKnownCoding(p: usize, n: i32): bool {
  switch (n) {
    case 4: return equalsLower(p, GZIP);
    case 6: return equalsLower(p, X_GZIP);
    case 7: return equalsLower(p, DEFLATE);
    case 8: return equalsLower(p, COMPRESS);
    case 10: return equalsLower(p, X_COMPRESS);
  }
  return false;
}

// The scans below look at 16 bytes per step with wasm SIMD (as llhttp's and picohttpparser's SSE paths do),
// then 8 per step with SWAR, then byte by byte: a step passes when none of its bytes can end the run, and a
// bitmask's trailing zeros find the exact stop.
const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/** High bit set in each byte of `x` below `n` (n ≤ 128); exact up to the first such byte. */
@inline function lessMask(x: u64, n: u64): u64 {
  return (x - ONES * n) & ~x & HIGHS;
}

/** High bit set in each byte of `x` above `n` (n < 128), any byte ≥ 0x80 included; exact up to the first. */
@inline function moreMask(x: u64, n: u64): u64 {
  return ((x + ONES * (127 - n)) | x) & HIGHS;
}

/** Value stops: control characters (HTAB among them, checked by the caller) and DEL. */
@inline function valueStops(x: v128): i32 {
  return i8x16.bitmask(v128.or(i8x16.lt_u(x, i8x16.splat(0x20)), i8x16.eq(x, i8x16.splat(0x7f))));
}

/** End of a field value: stops at a control character (HTAB excepted) or DEL. */
function scanValue(p: usize, i: i32, end: i32): i32 {
  while (i + 16 <= end) {
    const stops = valueStops(v128.load(p + i));
    if (stops == 0) {
      i += 16;
      continue;
    }
    i += ctz(stops);
    if (load<u8>(p + i) != <u8>HTAB) return i;
    i++;
  }
  while (i + 8 <= end) {
    const x = load<u64>(p + i);
    const stops = lessMask(x, 0x20) | lessMask(x ^ (ONES * 0x7f), 1);
    if (stops == 0) {
      i += 8;
      continue;
    }
    i += <i32>(ctz(stops) >> 3);
    if (load<u8>(p + i) != <u8>HTAB) return i;
    i++;
  }
  while (i < end && is(load<u8>(p + i), VALUE)) i++;
  return i;
}

/** End of a request-target: stops at anything but VCHAR. */
function scanTarget(p: usize, i: i32, end: i32): i32 {
  while (i + 16 <= end) {
    const x = v128.load(p + i);
    // VCHAR is 0x21–0x7e: as signed bytes, everything ≤ 0x20 or ≥ 0x7f (0x80+ is negative) stops.
    const stops = i8x16.bitmask(v128.or(i8x16.lt_s(x, i8x16.splat(0x21)), i8x16.gt_s(x, i8x16.splat(0x7e))));
    if (stops != 0) return i + ctz(stops);
    i += 16;
  }
  while (i + 8 <= end) {
    const x = load<u64>(p + i);
    const stops = lessMask(x, 0x21) | moreMask(x, 0x7e);
    if (stops != 0) return i + <i32>(ctz(stops) >> 3);
    i += 8;
  }
  while (i < end && is(load<u8>(p + i), TARGET)) i++;
  return i;
}

// tchar by nibbles (simdjson's classification): a byte is a token character iff
// TOKEN_BY_LOW[low nibble] & TOKEN_BY_HIGH[high nibble] != 0. Tokens have high nibbles 2–7 only, so a bit per
// high nibble makes the test exact; both tables are derived from the byte classes above.
let tokenByLow = i8x16.splat(0);
let tokenByHigh = i8x16.splat(0);

function initTokenNibbles(): void {
  const low = memory.data(16);
  const high = memory.data(16);
  for (let h = 2; h < 8; h++) {
    store<u8>(high + h, <u8>(<u32>1 << (h - 2)));
    for (let l = 0; l < 16; l++) {
      if (is(<u32>(h << 4 | l), TOKEN)) store<u8>(low + l, load<u8>(low + l) | <u8>(<u32>1 << (h - 2)));
    }
  }
  tokenByLow = v128.load(low);
  tokenByHigh = v128.load(high);
}
initTokenNibbles();

/** End of a token (method, field name): stops at anything but tchar. */
function scanToken(p: usize, i: i32, end: i32): i32 {
  while (i + 16 <= end) {
    const x = v128.load(p + i);
    const lowHits = i8x16.swizzle(tokenByLow, v128.and(x, i8x16.splat(0x0f)));
    const highHits = i8x16.swizzle(tokenByHigh, i8x16.shr_u(x, 4));
    const stops = i8x16.bitmask(i8x16.eq(v128.and(lowHits, highHits), i8x16.splat(0)));
    if (stops != 0) return i + ctz(stops);
    i += 16;
  }
  while (i < end && is(load<u8>(p + i), TOKEN)) i++;
  return i;
}

// Lower-case literals as bytes, compared a word at a time. OR-ing 0x20 into each input byte folds case;
// it can't make a non-letter match, because every byte the inputs can hold (tchar, field-vchar) that folds
// onto a literal byte is that byte's own upper-case letter.
@final class Literal {
  constructor(readonly ptr: usize, readonly length: i32) {}
}

function literal(s: string): Literal {
  const n = s.length;
  assert(n >= 4, "literals are compared in 4- or 8-byte words");
  const ptr = heap.alloc(<usize>n);
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    assert(c < 0x80 && (c & 0x20) != 0 && !(c >= 0x41 && c <= 0x5a), "literal bytes must be lower-case ASCII with bit 0x20 set");
    store<u8>(ptr + k, <u8>c);
  }
  return new Literal(ptr, n);
}

const CONTENT_LENGTH = literal("content-length");
const TRANSFER_ENCODING = literal("transfer-encoding");
const CONNECTION = literal("connection");
const UPGRADE = literal("upgrade");
const EXPECT = literal("expect");
const HOST_NAME = literal("host");
const N100_CONTINUE = literal("100-continue");
const CHUNKED = literal("chunked");
const CLOSE = literal("close");
const KEEP_ALIVE = literal("keep-alive");
const GZIP = literal("gzip");
const X_GZIP = literal("x-gzip");
const DEFLATE = literal("deflate");
const COMPRESS = literal("compress");
const X_COMPRESS = literal("x-compress");

const FOLD32: u32 = 0x20202020;
const FOLD64: u64 = 0x2020202020202020;

/** Whether the `lit.length` bytes at `p` equal `lit`, ignoring ASCII case. */
function equalsLower(p: usize, lit: Literal): bool {
  const l = lit.ptr;
  const n = <usize>lit.length;
  if (n < 8) return (load<u32>(p) | FOLD32) == load<u32>(l) && (load<u32>(p + n - 4) | FOLD32) == load<u32>(l + n - 4);
  for (let k: usize = 0; k + 8 < n; k += 8) {
    if ((load<u64>(p + k) | FOLD64) != load<u64>(l + k)) return false;
  }
  return (load<u64>(p + n - 8) | FOLD64) == load<u64>(l + n - 8);
}

function trailingSpace(v: usize, len: i32): i32 {
  let n = 0;
  while (n < len && (load<u8>(v + len - 1 - n) == SP || load<u8>(v + len - 1 - n) == HTAB)) n++;
  return n;
}

/** Length of the last comma-separated item, without surrounding whitespace. */
function lastListItem(v: usize, len: i32): i32 {
  let stop = len - trailingSpace(v, len);
  let i = stop;
  while (i > 0 && load<u8>(v + i - 1) != 0x2c) i--;
  while (i < stop && (load<u8>(v + i) == SP || load<u8>(v + i) == HTAB)) i++;
  return stop - i;
}

/** `len` method bytes at `p`, followed by at least one more byte (the SP), so a 3-byte method may load 4. */
function classifyMethod(p: usize, len: i32): Method {
  if (len < 3) return Method.OTHER;
  const w = load<u32>(p);
  switch (len) {
    case 3:
      if ((w & 0xffffff) == 0x544547) return Method.GET;
      if ((w & 0xffffff) == 0x545550) return Method.PUT;
      break;
    case 4:
      if (w == 0x44414548) return Method.HEAD;
      if (w == 0x54534f50) return Method.POST;
      break;
    case 5:
      if (w == 0x43544150 && load<u8>(p + 4) == 0x48) return Method.PATCH;
      if (w == 0x43415254 && load<u8>(p + 4) == 0x45) return Method.TRACE;
      break;
    case 6:
      if (w == 0x454c4544 && load<u16>(p + 4) == 0x4554) return Method.DELETE;
      break;
    case 7:
      if (w == 0x4e4e4f43 && load<u16>(p + 4) == 0x4345 && load<u8>(p + 6) == 0x54) return Method.CONNECT;
      if (w == 0x4954504f && load<u16>(p + 4) == 0x4e4f && load<u8>(p + 6) == 0x53) return Method.OPTIONS;
      break;
  }
  return Method.OTHER;
}
