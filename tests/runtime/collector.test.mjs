// The garbage collector runs only between callbacks (assembly/heap.ts). These drive an app that keeps state
// across requests, parks objects in timers and makes megabytes of garbage per request, under both engines.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { ENGINES, startApp } from "../helpers/engines.mjs";
import { get } from "../helpers/http.mjs";

/** The body of GET `path`. */
const body = async (port, path, agent) => (await get(port, path, agent)).body;

for (const engine of ENGINES) {
  describe(`garbage collection under ${engine}`, () => {
    let app;
    let agent;
    before(async () => {
      app = await startApp("dist/tests/apps/heap-probe.wasm", { engine });
      agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    });
    after(async () => {
      agent.destroy();
      await app.kill();
    });

    it("keeps what globals and pending timers reference intact across collections", async () => {
      const rounds = 300;
      for (let i = 0; i < rounds; i++) {
        const work = [body(app.port, "/keep", agent), body(app.port, "/later", agent)];
        if (i % 10 === 0) work.push(body(app.port, "/churn", agent)); // forces collections mid-run
        const [, later] = await Promise.all(work);
        assert.equal(later, "ok", `a timer's argument was damaged in round ${i}`);
      }
      assert.equal(await body(app.port, "/check", agent), `ok ${rounds}`);
    });

    it("reclaims the garbage a handler makes once it returns", async () => {
      // Each /churn makes ~8 MB of garbage in one callback. The heap grows to hold one request's worth
      // (at most doubling once more); without collection 200 more would need over 1.5 GB.
      for (let i = 0; i < 20; i++) await body(app.port, "/churn", agent);
      const warm = Number(await body(app.port, "/memory", agent));
      for (let i = 0; i < 200; i++) await body(app.port, "/churn", agent);
      const after = Number(await body(app.port, "/memory", agent));
      assert.ok(after <= 2 * warm, `linear memory grew from ${warm} to ${after} bytes`);
      assert.equal(await body(app.port, "/check", agent), "ok 300");
    });
  });
}
