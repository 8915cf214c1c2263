import { setTimeout, setInterval, clearTimeout, clearInterval, setImmediate, clearImmediate, Timeout } from "../../assembly/timers";
import { nextTick, now } from "../../assembly/tasks";
import { run, tick, loopAlive, TICK_DONE, TICK_IDLE } from "../../assembly/loop";

let order = new Array<string>();
function record(label: string): void {
  order.push(label);
}

describe("event loop", () => {
  beforeEach(() => {
    order = new Array<string>();
  });

  it("is not alive with nothing scheduled, and tick reports done", () => {
    expect(loopAlive()).toBe(false);
    expect(tick()).toBe(TICK_DONE);
  });

  it("runs nextTick before immediates before timers due later", () => {
    setTimeout(record, 5, "timeout");
    setImmediate(record, "immediate");
    nextTick(record, "tick");
    run();
    expect(order.join(",")).toBe("tick,immediate,timeout");
  });

  it("fires equal deadlines in insertion order and shorter delays first", () => {
    setTimeout(record, 20, "b20");
    setTimeout(record, 10, "a10");
    setTimeout(record, 10, "a10-second");
    setTimeout(record, 1, "first");
    run();
    expect(order.join(",")).toBe("first,a10,a10-second,b20");
  });

  it("waits at least the delay", () => {
    const start = now();
    setTimeout(record, 30, "late");
    run();
    expect(now() - start).toBeGreaterThanOrEqual(30);
  });

  it("clearTimeout cancels, even from an earlier timer in the same batch", () => {
    const victim = setTimeout(record, 5, "victim");
    setTimeout((t: Timeout) => { clearTimeout(t); record("killer"); }, 4, victim);
    run();
    expect(order.join(",")).toBe("killer");
  });

  it("setInterval repeats until cleared", () => {
    const iv = setInterval(record, 2, "iv");
    setTimeout((t: Timeout) => { clearInterval(t); }, 15, iv);
    run();
    expect(order.length).toBeGreaterThanOrEqual(2); // a loaded machine may delay ticks; it must repeat
    expect(order.length).toBeLessThanOrEqual(8);
  });

  it("immediates queued by an immediate run in the next iteration", () => {
    setImmediate((_: i32) => {
      record("outer");
      setImmediate(record, "inner");
      nextTick(record, "tick-from-outer");
    });
    run();
    expect(order.join(",")).toBe("outer,tick-from-outer,inner");
  });

  it("clearImmediate cancels", () => {
    const im = setImmediate(record, "never");
    clearImmediate(im);
    run();
    expect(order.length).toBe(0);
  });

  it("an unref'ed timer does not keep the loop alive", () => {
    const t = setTimeout(record, 50, "unrefd");
    t.unref();
    expect(loopAlive()).toBe(false);
    run();
    expect(order.length).toBe(0);
    clearTimeout(t);
  });

  it("tick() reports the delay to the next timer, then done", () => {
    const t = setTimeout(record, 1000, "far");
    const wait = tick();
    clearTimeout(t);
    expect(wait).toBeGreaterThan(900_000_000);
    expect(wait).toBeLessThanOrEqual(1_000_000_000);
    expect(tick()).toBe(TICK_DONE);
    expect(TICK_IDLE).toBe(-2);
  });

  it("keeps 100k pending timers cheap and ordered", () => {
    const timers = new Array<Timeout>();
    for (let i = 0; i < 100_000; i++) timers.push(setTimeout(record, 100_000 - (i % 1000), "x"));
    for (let i = 0; i < 100_000; i += 2) clearTimeout(timers[i]);
    for (let i = 1; i < 100_000; i += 2) clearTimeout(timers[i]);
    expect(loopAlive()).toBe(false);
  });
});
