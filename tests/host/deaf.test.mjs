// A handler that never returns must not make the app deaf (issue 11, item 4): under the Node engine the guest
// runs on a thread of its own, so SIGTERM/SIGINT and app.stop() still act — gracefully when the app can drain,
// by force once the grace period runs out. The embedding API is driven from a child process: were the guest on
// the caller's thread, a spinning handler would stall the test itself, and no timeout could end it from inside.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { ROOT, startApp, spawnTracked, within } from "../helpers/engines.mjs";
import { get } from "../helpers/http.mjs";

const SPIN = join(ROOT, "dist/tests/apps/spin.wasm");
const GRACE_MS = 500;
/** How long after the grace period a forced stop may take. */
const SLACK_MS = 1000;

/** Sends GET /spin on a connection of its own (never answered); returns the socket, for the test to destroy. */
function spin(port) {
  const s = connect(port, "127.0.0.1", () => s.write("GET /spin HTTP/1.1\r\nHost: x\r\n\r\n"));
  s.on("error", () => {});
  return s;
}

/** Resolves once `read()` includes `text`; rejects after `ms`. */
async function waitFor(read, text, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!read().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" after ${ms} ms; got: ${read()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("a spinning handler under the Node engine", () => {
  for (const signal of ["SIGTERM", "SIGINT"]) {
    it(`eventide run: ${signal} ends it after --grace, non-zero, saying it was forced`, async () => {
      const app = await startApp(SPIN, { engine: "node", cliFlags: ["--grace", String(GRACE_MS)] });
      assert.equal((await get(app.port, "/hello", false)).body, "ok");
      const client = spin(app.port);
      await waitFor(() => app.stdout, "spinning");
      const sent = Date.now();
      app.child.kill(signal);
      let exit;
      try {
        exit = await within(app.exited, GRACE_MS + SLACK_MS, `the exit after ${signal}`);
      } finally {
        client.destroy();
        await app.kill();
      }
      assert.ok(Date.now() - sent >= GRACE_MS, "it had its grace period");
      assert.equal(exit.signal, null);
      assert.notEqual(exit.code, 0);
      assert.match(app.stderr, new RegExp(`grace ${GRACE_MS} ms.*(ended|forced|force)`));
    });
  }

  it("the embedding API: stop(500) ends it, forced; the port is free and the app starts again and stops gracefully", async () => {
    const script = `
      import { run } from ${JSON.stringify(join(ROOT, "dist/host/index.js"))};
      import { connect } from "node:net";
      import { PassThrough } from "node:stream";
      const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
      const stdout = new PassThrough();
      let said = "";
      stdout.on("data", (d) => (said += d));
      const app = await run(${JSON.stringify(SPIN)}, { listen: ["127.0.0.1:0"], stdout });
      const port = app.addresses[0].port;
      const s = connect(port, "127.0.0.1", () => s.write("GET /spin HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"));
      s.on("error", () => {});
      while (!said.includes("spinning")) await new Promise((r) => setTimeout(r, 10));
      out({ spinning: true, memoryBytes: app.memoryBytes });
      const t = Date.now();
      const code = await app.stop(${GRACE_MS});
      out({ code, stopped: app.stopped, ms: Date.now() - t });
      s.destroy();
      const again = await run(${JSON.stringify(SPIN)}, { listen: ["127.0.0.1:" + port], stdout: new PassThrough() });
      out({ again: again.addresses[0].port === port, code: await again.stop(2000), stopped: again.stopped });
    `;
    const child = spawnTracked(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
    const lines = () => stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    try {
      await waitFor(() => stdout, "spinning", 10_000);
      assert.equal(await within(exited, GRACE_MS + SLACK_MS + 2000, `stop(${GRACE_MS}) and the restart`), 0, stderr);
    } finally {
      try { process.kill(-child.pid, "SIGKILL"); } catch { /* ended */ }
    }
    const [spinning, forced, again] = lines();
    assert.ok(spinning.memoryBytes > 0, "memoryBytes is read while the guest's thread spins");
    assert.equal(forced.stopped, "forced");
    assert.notEqual(forced.code, 0);
    assert.ok(forced.ms >= GRACE_MS && forced.ms < GRACE_MS + SLACK_MS, `stop(${GRACE_MS}) took ${forced.ms} ms`);
    assert.deepEqual(again, { again: true, code: 0, stopped: "graceful" });
  });
});
