import { Headers } from "../../assembly/http/headers";

describe("Headers (WHATWG Fetch §5.2)", () => {
  it("answers null, not an abort, for a name that is absent", () => {
    const h = new Headers(["Host", "x"]);
    expect(h.get("user-agent")).toBeNull();
    expect(h.has("user-agent")).toBe(false);
    expect(new Headers().get("host")).toBeNull();
  });

  it("looks names up case-insensitively and joins repeats with \", \"", () => {
    const h = new Headers(["X-Twice", "one", "Host", "x", "x-twice", "two"]);
    expect(h.get("X-TWICE")).toBe("one, two");
    expect(h.has("host")).toBe(true);
  });

  it("ignores an odd trailing name", () => {
    const h = new Headers(["A", "1", "B"]);
    expect(h.get("b")).toBeNull();
    expect(h.keys().length).toBe(1);
  });

  it("iterates lower-cased sorted names, combined, Set-Cookie one per line", () => {
    const h = new Headers(["Zeta", "z", "Set-Cookie", "a=1", "alpha", "1", "set-cookie", "b=2", "ALPHA", "2"]);
    expect(h.keys().join("|")).toBe("alpha|set-cookie|zeta");
    expect(h.values().join("|")).toBe("1, 2|a=1|b=2|z");
    const entries = h.entries();
    expect(entries.length).toBe(4);
    expect(entries[2][0]).toBe("set-cookie");
    expect(entries[2][1]).toBe("b=2");
    expect(h.getSetCookie().join("|")).toBe("a=1|b=2");
  });

  it("set replaces every line of the name, append adds, delete removes; the given list is not changed", () => {
    const given = ["A", "1", "a", "2", "B", "3"];
    const h = new Headers(given);
    expect(h.set("a", "9")).toBe(true);
    expect(h.get("A")).toBe("9");
    expect(h.append("b", "4")).toBe(true);
    expect(h.get("b")).toBe("3, 4");
    h.delete("B");
    expect(h.has("b")).toBe(false);
    h.delete("missing");
    expect(given.join("|")).toBe("A|1|a|2|B|3");
  });

  it("refuses a name that is not a token or a value with CR/LF, changing nothing", () => {
    const h = new Headers(["A", "1"]);
    expect(h.set("Bad Name", "v")).toBe(false);
    expect(h.set("A", "split\r\nX: y")).toBe(false);
    expect(h.append("A", "nul\0")).toBe(false);
    expect(h.get("a")).toBe("1");
  });
});
