import { EventEmitter } from "../../assembly/events";
import { Buffer } from "../../assembly/buffer";

let calls = new Array<string>();
function a(x: string): void { calls.push("a:" + x); }
function b(x: string): void { calls.push("b:" + x); }
function withEmitter(x: string, e: EventEmitter): void { calls.push("self:" + x + ":" + e.listenerCount("ev").toString()); }
function noArgs(): void { calls.push("none"); }
function removesB(x: string, e: EventEmitter): void { calls.push("removesB"); e.off("ev", b); }
function addsA(x: string, e: EventEmitter): void { calls.push("addsA"); e.on("ev", a); }

describe("EventEmitter", () => {
  beforeEach(() => { calls = new Array<string>(); });

  it("calls listeners in order with arguments cut to their arity", () => {
    const e = new EventEmitter();
    e.on("ev", a).on("ev", withEmitter).on("ev", noArgs);
    expect(e.emitWith<string>("ev", "1")).toBe(true);
    expect(calls.join(",")).toBe("a:1,self:1:3,none");
  });

  it("once listeners run once", () => {
    const e = new EventEmitter();
    e.once("ev", a);
    e.emitWith<string>("ev", "1");
    e.emitWith<string>("ev", "2");
    expect(calls.join(",")).toBe("a:1");
    expect(e.listenerCount("ev")).toBe(0);
  });

  it("emit returns false without listeners; off removes one registration", () => {
    const e = new EventEmitter();
    expect(e.emitWith<string>("ev", "x")).toBe(false);
    e.on("ev", a).on("ev", a);
    e.off("ev", a);
    expect(e.listenerCount("ev")).toBe(1);
    e.removeAllListeners();
    expect(e.listenerCount("ev")).toBe(0);
  });

  it("changes during emit don't affect the emit in progress", () => {
    const e = new EventEmitter();
    e.on("ev", removesB).on("ev", b).on("ev", addsA);
    e.emitWith<string>("ev", "1");
    expect(calls.join(",")).toBe("removesB,b:1,addsA");
    calls = new Array<string>();
    e.emitWith<string>("ev", "2");
    expect(calls.join(",")).toBe("removesB,addsA,a:2,addsA".substring(0, 0) + "removesB,addsA,a:2");
  });

  // 'error' without a listener ends the process: covered by tests/net (as-pect can't observe an abort).

  it("'error' with a listener is an ordinary event", () => {
    const e = new EventEmitter();
    e.on("error", (err: Error) => { calls.push(err.message); });
    e.emitWith<Error>("error", new Error("handled"));
    expect(calls.join(",")).toBe("handled");
  });
});

describe("Buffer", () => {
  it("round-trips UTF-8", () => {
    const buf = Buffer.from("héllo ✓");
    expect(buf.length).toBe(10);
    expect(buf.toString()).toBe("héllo ✓");
  });

  it("concatenates and compares", () => {
    const joined = Buffer.concat([Buffer.from("ab"), Buffer.from(""), Buffer.from("cd")]);
    expect(joined.toString()).toBe("abcd");
    expect(joined.equals(Buffer.from("abcd"))).toBe(true);
    expect(joined.equals(Buffer.from("abce"))).toBe(false);
  });

  it("copies out of linear memory", () => {
    const src = Buffer.from("xyz");
    const copy = Buffer.copyOf(src.dataStart, 3);
    src[0] = 0x41;
    expect(copy.toString()).toBe("xyz");
  });
});
