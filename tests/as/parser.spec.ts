import { Parser, Kind, HeadResult, ParseError, statusForError } from "../../assembly/http/parser";

function bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = <u8>s.charCodeAt(i);
  return b;
}

function text(ptr: usize, len: i32): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(load<u8>(ptr + i));
  return s;
}

/** Parses the head of `msg` presenting growing prefixes; every shorter prefix must need more. */
function headLengthBySplits(p: Parser, msg: Uint8Array): i32 {
  let result = 0;
  for (let cut = 1; cut <= msg.length; cut++) {
    const n = p.parseHead(msg.dataStart, cut);
    if (n != HeadResult.NEED_MORE) {
      result = n;
      break;
    }
  }
  return result;
}

/** Decodes the body after `head` bytes, offered as two pieces split at `split`. */
function bodyWithSplit(p: Parser, msg: Uint8Array, head: i32, split: i32): string {
  let out = "";
  let at = head;
  let end = min(head + split, msg.length);
  while (!p.bodyDone) {
    const n = p.decodeBody(msg.dataStart + at, end - at);
    if (n < 0) return "error " + (<i32>p.error).toString();
    if (p.dataLength > 0) out += text(msg.dataStart + at + p.dataOffset, p.dataLength);
    at += n;
    if (at == end) {
      if (end == msg.length) break;
      end = msg.length;
    }
  }
  return out;
}

const CHUNKED = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "5;ext=1\r\nhello\r\n6;q=\"a;b\"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";

describe("parser: incremental heads", () => {
  it("needs more until the blank line, at every split, then parses the same head", () => {
    const msg = bytes("GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Two: 1\r\nx-two: 2\r\n\r\n");
    const p = new Parser(Kind.REQUEST);
    const n = headLengthBySplits(p, msg);
    expect(n).toBe(msg.length);
    expect(text(msg.dataStart + p.targetStart, p.targetLength)).toBe("/a?b=c");
    expect(p.headerCount).toBe(3);
    expect(text(msg.dataStart + p.nameStart(2), p.nameLength(2))).toBe("x-two");
    expect(text(msg.dataStart + p.valueStart(2), p.valueLength(2))).toBe("2");
    expect(p.keepAlive).toBe(true);
  });

  it("parses a response head", () => {
    const msg = bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc");
    const p = new Parser(Kind.RESPONSE);
    const n = p.parseHead(msg.dataStart, msg.length);
    expect(n).toBe(msg.length - 3);
    expect(p.status).toBe(404);
    expect(bodyWithSplit(p, msg, n, 1)).toBe("abc");
  });
});

describe("parser: chunked bodies split at every offset", () => {
  it("decodes the same body whatever the split, extensions and trailers included", () => {
    const msg = bytes(CHUNKED);
    const p = new Parser(Kind.REQUEST);
    for (let split = 0; split <= msg.length; split++) {
      p.reset();
      const head = p.parseHead(msg.dataStart, msg.length);
      expect(p.chunked).toBe(true);
      expect(bodyWithSplit(p, msg, head, split)).toBe("hello world");
      expect(p.bodyDone).toBe(true);
    }
  });
});

function errorOf(s: string): ParseError {
  const msg = bytes(s);
  const p = new Parser(Kind.REQUEST);
  const n = p.parseHead(msg.dataStart, msg.length);
  if (n == HeadResult.ERROR) return p.error;
  if (n > 0 && p.hasBody) {
    let at = n;
    while (at < msg.length && !p.bodyDone) {
      const used = p.decodeBody(msg.dataStart + at, msg.length - at);
      if (used < 0) return p.error;
      at += used;
    }
  }
  return ParseError.NONE;
}

describe("parser: every rejection is named", () => {
  it("names each error and maps it to a status", () => {
    expect(errorOf("G(T / HTTP/1.1\r\n\r\n")).toBe(ParseError.INVALID_METHOD);
    expect(errorOf("GET nope HTTP/1.1\r\n\r\n")).toBe(ParseError.INVALID_TARGET);
    expect(errorOf("GET / HTTX/1.1\r\n\r\n")).toBe(ParseError.INVALID_VERSION);
    expect(errorOf("GET / HTTP/2.0\r\n\r\n")).toBe(ParseError.UNSUPPORTED_VERSION);
    expect(errorOf("GET / HTTP/1.1\r\n:x\r\n\r\n")).toBe(ParseError.INVALID_HEADER_NAME);
    expect(errorOf("GET / HTTP/1.1\r\nHost : x\r\n\r\n")).toBe(ParseError.WHITESPACE_BEFORE_COLON);
    expect(errorOf("GET / HTTP/1.1\r\nHost\r\n\r\n")).toBe(ParseError.MISSING_COLON);
    expect(errorOf("GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n")).toBe(ParseError.INVALID_HEADER_VALUE);
    expect(errorOf("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n")).toBe(ParseError.OBS_FOLD);
    expect(errorOf("GET / HTTP/1.1\nX: a\r\n\r\n")).toBe(ParseError.BARE_CR);
    expect(errorOf("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n")).toBe(ParseError.INVALID_CONTENT_LENGTH);
    expect(errorOf("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n")).toBe(ParseError.DUPLICATE_CONTENT_LENGTH);
    expect(errorOf("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")).toBe(ParseError.CONTENT_LENGTH_AND_TRANSFER_ENCODING);
    expect(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")).toBe(ParseError.INVALID_TRANSFER_ENCODING);
    expect(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: br, chunked\r\n\r\n")).toBe(ParseError.UNKNOWN_TRANSFER_CODING);
    expect(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n")).toBe(ParseError.INVALID_CHUNK_SIZE);
    expect(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n")).toBe(ParseError.CHUNK_SIZE_OVERFLOW);
    expect(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;;\r\n")).toBe(ParseError.INVALID_CHUNK_EXTENSION);
    expect(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY")).toBe(ParseError.INVALID_CHUNK_DATA);
    expect(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n")).toBe(ParseError.INVALID_TRAILER);
    expect(statusForError(ParseError.UNSUPPORTED_VERSION)).toBe(505);
    expect(statusForError(ParseError.UNKNOWN_TRANSFER_CODING)).toBe(501);
    expect(statusForError(ParseError.TOO_MANY_HEADERS)).toBe(431);
    expect(statusForError(ParseError.TARGET_TOO_LONG)).toBe(414);
    expect(statusForError(ParseError.OBS_FOLD)).toBe(400);
  });

  it("limits the header section and the number of fields", () => {
    const p = new Parser(Kind.REQUEST);
    p.maxHeaderSize = 64;
    const big = bytes("GET / HTTP/1.1\r\nX-Big: " + "b".repeat(100) + "\r\n\r\n");
    expect(p.parseHead(big.dataStart, big.length)).toBe(HeadResult.ERROR);
    expect(p.error).toBe(ParseError.HEADERS_TOO_LARGE);
    expect(errorOf("GET / HTTP/1.1\r\n" + "A: 1\r\n".repeat(101) + "\r\n")).toBe(ParseError.TOO_MANY_HEADERS);
    expect(errorOf("GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n")).toBe(ParseError.TARGET_TOO_LONG);
  });
});

/** Whether byte `c` is an RFC 9110 tchar, spelled out independently of the parser's tables. */
function isTchar(c: i32): bool {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  return "!#$%&'*+-.^_`|~".indexOf(String.fromCharCode(c)) >= 0;
}

/**
 * Puts every byte value at each of 20 positions of a 21-byte run of `filler` between `before` and `after`
 * (so every lane of the SIMD and SWAR steps is tried), and returns the first case where the head's
 * acceptance differs from `allowed(byte, position)`, or "" if none does.
 */
function mismatchAcrossPositions(before: string, filler: string, after: string, allowed: (c: i32, at: i32) => bool): string {
  const p = new Parser(Kind.REQUEST);
  for (let c = 0; c < 256; c++) {
    for (let at = 0; at < 20; at++) {
      const msg = bytes(before + filler.repeat(at) + "#" + filler.repeat(20 - at) + after);
      msg[before.length + at] = <u8>c;
      p.reset();
      const n = p.parseHead(msg.dataStart, msg.length);
      if ((n == msg.length) != allowed(c, at)) return `byte ${c} at ${at}: ${n}`;
    }
  }
  return "";
}

describe("parser: byte classes at every position of the 16- and 8-byte scans", () => {
  it("accepts a byte in a field name exactly when it is a tchar", () => {
    // An earlier colon just ends the name sooner.
    expect(mismatchAcrossPositions("GET / HTTP/1.1\r\n", "n", ": v\r\n\r\n", (c: i32, at: i32): bool => isTchar(c) || (c == 0x3a && at > 0))).toBe("");
  });

  it("accepts a byte in a field value exactly when it is field-vchar, SP, HTAB or obs-text", () => {
    expect(mismatchAcrossPositions("GET / HTTP/1.1\r\nName: v", "v", "\r\n\r\n", (c: i32, at: i32): bool => c == 0x09 || (c >= 0x20 && c != 0x7f))).toBe("");
  });

  it("accepts a byte in a request-target exactly when it is VCHAR", () => {
    expect(mismatchAcrossPositions("GET /", "t", " HTTP/1.1\r\n\r\n", (c: i32, at: i32): bool => c >= 0x21 && c <= 0x7e)).toBe("");
  });
});
