// The raw-socket helper against Node's own net servers: a close, a reset and silence must read differently.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { raw } from "./raw.mjs";
import { freePort } from "./engines.mjs";

describe("raw()", () => {
  let server;
  let port;
  before(async () => {
    server = createServer((s) => {
      let received = "";
      let reads = 0;
      s.on("data", (d) => {
        received += d;
        reads++;
        if (received === "close") s.end("bye");
        else if (received === "reset") s.resetAndDestroy();
        else if (received === "stay") s.write("hm"); // and stays open
        else if (received === "count") s.end(`${reads} reads`);
      });
      s.on("error", () => {});
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    port = server.address().port;
  });
  after(() => new Promise((r) => server.close(r)));

  it("reports a close by the server, with the reply", async () => {
    const r = await raw(port, "close", { ms: 5000 });
    assert.deepEqual({ text: r.text, closed: r.closed, timedOut: r.timedOut, reset: r.reset }, { text: "bye", closed: true, timedOut: false, reset: false });
    assert.ok(r.elapsed < 5000);
  });

  it("reports a reset as a close", async () => {
    const r = await raw(port, "reset", { ms: 5000 });
    assert.deepEqual({ closed: r.closed, timedOut: r.timedOut, reset: r.reset }, { closed: true, timedOut: false, reset: true });
  });

  it("reports a connection still open at `ms` as timed out, with what came so far", async () => {
    const r = await raw(port, "stay", { ms: 300 });
    assert.deepEqual({ text: r.text, closed: r.closed, timedOut: r.timedOut }, { text: "hm", closed: false, timedOut: true });
    assert.ok(r.elapsed >= 290, `ended after ${r.elapsed} ms`);
  });

  it("trickles the payload a byte at a time", async () => {
    const r = await raw(port, "count", { ms: 5000, trickle: 20 });
    assert.equal(r.text, "5 reads");
  });

  it("rejects when nothing listens", async () => {
    await assert.rejects(raw(await freePort(), "x", { ms: 1000 }), /ECONNREFUSED/);
  });
});
