import * as out from "../../assembly/http/writer";

/** What the writer appended, as a byte array (compared against the standard library's UTF-8 encoder). */
function written(s: string): Uint8Array {
  out.reset();
  out.text(s);
  const copy = new Uint8Array(out.size());
  memory.copy(copy.dataStart, out.ptr(), out.size());
  return copy;
}

function expected(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function same(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

describe("response writer", () => {
  it("writes ASCII of every length, across the 8-unit SIMD steps", () => {
    let s = "";
    for (let n = 0; n <= 40; n++) {
      expect(same(written(s), expected(s))).toBe(true, "length " + n.toString());
      s += String.fromCharCode(0x21 + n);
    }
  });

  it("hands over to the UTF-8 encoder at the first non-ASCII unit, wherever it is", () => {
    const others = ["\u0080", "\u00e9", "\u2713", "\ud83c\udf89", "\u7fff", "\uff80"];
    for (let k = 0; k < others.length; k++) {
      for (let at = 0; at <= 24; at++) {
        const s = "a".repeat(at) + others[k] + "tail-" + at.toString();
        expect(same(written(s), expected(s))).toBe(true, "non-ASCII at " + at.toString());
      }
    }
  });

  it("appends digits and CRLF after text", () => {
    out.reset();
    out.text("Content-Length: ");
    out.decimal(1234567);
    out.crlf();
    out.decimal(-5);
    const s = String.UTF8.decodeUnsafe(out.ptr(), out.size());
    expect(s).toBe("Content-Length: 1234567\r\n-5");
  });
});
