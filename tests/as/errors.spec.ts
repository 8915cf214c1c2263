import { ParseError, PARSE_ERROR_COUNT, errorAt, errorCode, errorReason, statusForError } from "../../assembly/http/errors";
import { errnoName } from "../../assembly/sys";
import { isHostValue } from "../../assembly/http/fields";

function hostOk(value: string): bool {
  const bytes = String.UTF8.encode(value);
  return isHostValue(changetype<usize>(bytes), bytes.byteLength);
}

describe("the parse error table", () => {
  it("has one row per ParseError, in the enum's order", () => {
    expect(PARSE_ERROR_COUNT).toBe(<i32>ParseError.INCOMPLETE_MESSAGE + 1);
    for (let i = 0; i < PARSE_ERROR_COUNT; i++) expect(<i32>errorAt(i)).toBe(i);
  });

  it("gives every error a distinct HPE_ code, a reason and a 4xx/5xx status", () => {
    const seen = new Set<string>();
    for (let i = 1; i < PARSE_ERROR_COUNT; i++) {
      const code = errorCode(<ParseError>i);
      expect(code.startsWith("HPE_")).toBe(true, code);
      expect(seen.has(code)).toBe(false, code);
      seen.add(code);
      expect(errorReason(<ParseError>i).length).toBeGreaterThan(0);
      expect(statusForError(<ParseError>i)).toBeGreaterThanOrEqual(400);
    }
  });

  it("uses llhttp's names and Node's statuses where they exist", () => {
    expect(errorCode(ParseError.INVALID_METHOD)).toBe("HPE_INVALID_METHOD");
    expect(errorCode(ParseError.HEADERS_TOO_LARGE)).toBe("HPE_HEADER_OVERFLOW");
    expect(errorCode(ParseError.INVALID_TARGET)).toBe("HPE_INVALID_URL");
    expect(errorCode(ParseError.CHUNK_EXTENSIONS_TOO_LARGE)).toBe("HPE_CHUNK_EXTENSIONS_OVERFLOW");
    expect(statusForError(ParseError.CHUNK_EXTENSIONS_TOO_LARGE)).toBe(413);
    expect(statusForError(ParseError.HEADERS_TOO_LARGE)).toBe(431);
    expect(statusForError(ParseError.TARGET_TOO_LONG)).toBe(414);
    expect(statusForError(ParseError.MISSING_HOST)).toBe(400);
  });
});

describe("errno names", () => {
  it("name every WASI errno from its table", () => {
    expect(errnoName(6)).toBe("EAGAIN");
    expect(errnoName(33)).toBe("EMFILE");
    expect(errnoName(41)).toBe("ENFILE");
    expect(errnoName(42)).toBe("ENOBUFS");
    expect(errnoName(44)).toBe("ENOENT");
    expect(errnoName(54)).toBe("ENOTDIR");
    expect(errnoName(63)).toBe("EPERM");
    expect(errnoName(76)).toBe("ENOTCAPABLE");
    expect(errnoName(77)).toBe("WASI_ERRNO_77");
    for (let e: u16 = 1; e <= 76; e++) expect(errnoName(e).startsWith("E")).toBe(true);
  });
});

describe("Host field values", () => {
  it("accept uri-host [':' port] and empty", () => {
    expect(hostOk("example.com")).toBe(true);
    expect(hostOk("example.com:8080")).toBe(true);
    expect(hostOk("127.0.0.1:1")).toBe(true);
    expect(hostOk("[::1]")).toBe(true);
    expect(hostOk("[::1]:80")).toBe(true);
    expect(hostOk("[v1.fe80::a+en1]")).toBe(true);
    expect(hostOk("a%20b")).toBe(true);
    expect(hostOk("")).toBe(true);
  });

  it("refuse everything else", () => {
    const bad = ["a b", "x/y", "h:1:2", "[::1", "[::1]x", "[::1]:8a", "h:12a", "u@h", "h?q", ":80", "\"h\"", "h\\x", "h#f"];
    for (let i = 0; i < bad.length; i++) expect(hostOk(bad[i])).toBe(false, bad[i]);
  });
});
