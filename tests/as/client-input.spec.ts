// What docs/api.md ("No exceptions") says about AssemblyScript's own functions on text a client controls.
import { percentDecode } from "../../assembly/url";

describe("parsing client text with AssemblyScript's library", () => {
  it("I32.parseInt gives 0 for text that is not a number, instead of aborting", () => {
    expect(I32.parseInt("abc")).toBe(0);
    expect(I32.parseInt("")).toBe(0);
    expect(I32.parseInt("12abc")).toBe(12);
    expect(I32.parseInt("-")).toBe(0);
  });

  it("percentDecode takes what decodeURIComponent aborts on", () => {
    expect(percentDecode("%zz%")).toBe("%zz%");
    expect(percentDecode("%FF")).toBe("\ufffd");
    expect(percentDecode("a+b%20c", true)).toBe("a b c");
  });
});
