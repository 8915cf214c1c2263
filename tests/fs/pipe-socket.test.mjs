// fs.ReadStream.pipe into a net Socket (issue 13, item 2) under every engine: tests/apps/fs-pipe-socket.ts sends
// a 32 MiB file to each connection. The file must arrive whole, paced by the client (linear memory bounded while
// it doesn't read), and a client that leaves early must have its file closed.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENGINES, startApp } from "../helpers/engines.mjs";
import { servingPid, openFdCount } from "../helpers/serving.mjs";

const SIZE = 32 << 20;

/** Reads a connection's bytes, pausing `pauseMs` once `pauseAt` bytes are in; resolves with { bytes, sha }. */
function download(port, { pauseAt = Infinity, pauseMs = 0, stopAt = Infinity } = {}) {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    let bytes = 0;
    let paused = false;
    const s = connect(port, "127.0.0.1");
    const timer = setTimeout(() => s.destroy(new Error(`only ${bytes} bytes in 30 s`)), 30_000);
    s.on("data", (d) => {
      hash.update(d);
      bytes += d.length;
      if (bytes >= stopAt) s.destroy();
      else if (!paused && bytes >= pauseAt) {
        paused = true;
        s.pause();
        setTimeout(() => s.resume(), pauseMs);
      }
    });
    s.on("error", reject);
    s.on("close", () => { clearTimeout(timer); resolve({ bytes, sha: hash.digest("hex") }); });
  });
}

/** Linear memory's size as the app printed it at its start, or once a connection that was sent `sent` bytes ended. */
function memoryWhen(app, sent) {
  const m = new RegExp(`^memory (\\d+) ${sent === undefined ? "at start" : `sent ${sent}`}$`, "m").exec(app.stdout);
  return m ? Number(m[1]) : undefined;
}

async function waitFor(check, what, ms = 5000) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (check()) return;
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

for (const engine of ENGINES) {
  describe(`fs.ReadStream piped into a Socket under ${engine}`, () => {
    const base = mkdtempSync(join(tmpdir(), "eventide-fs-pipe-"));
    let app;
    let sha;
    before(async () => {
      mkdirSync(join(base, "data"));
      const file = randomBytes(SIZE);
      sha = createHash("sha256").update(file).digest("hex");
      writeFileSync(join(base, "data", "big.bin"), file);
      app = await startApp("dist/tests/apps/fs-pipe-socket.wasm", { engine, cli: true, cliFlags: ["--dir", `${join(base, "data")}:/data`] });
    });
    after(async () => {
      await app?.kill();
      rmSync(base, { recursive: true, force: true });
    });

    it("sends the whole file, and holds about a chunk while the client doesn't read", async () => {
      await waitFor(() => memoryWhen(app) !== undefined, "the app's memory line at its start");
      assert.deepEqual(await download(app.port, { pauseAt: 1 << 20, pauseMs: 2000 }), { bytes: SIZE, sha });
      await waitFor(() => memoryWhen(app, SIZE) !== undefined, "the memory line of the connection that took the file");
      const grown = memoryWhen(app, SIZE) - memoryWhen(app);
      assert.ok(grown < 16 << 20, `linear memory grew ${(grown / 2 ** 20).toFixed(1)} MiB sending ${SIZE >> 20} MiB`);
    });

    it("closes the file of a client that leaves early, and goes on serving", async () => {
      const pid = await servingPid(app, engine);
      const fdsBefore = openFdCount(pid);
      for (let i = 0; i < 20; i++) await download(app.port, { stopAt: 200_000 });
      let fds = 0;
      await waitFor(() => (fds = openFdCount(pid)) <= fdsBefore + 2, "the files closed")
        .catch(() => assert.fail(`${fds - fdsBefore} more fds open after 20 clients left early`));
      assert.deepEqual(await download(app.port), { bytes: SIZE, sha });
    });
  });
}
