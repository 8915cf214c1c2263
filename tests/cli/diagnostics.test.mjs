// What `eventide run` says when the app fails: a trap inside the Node engine prints where it happened, as the
// wasm backtrace wasmtime prints (function names when the build has them); an abort prints its message and
// source position and exits 1 on every engine. And where the app's console writes go: Node's streams.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, ENGINES, startApp, endApps, within } from "../helpers/engines.mjs";

const CLI = join(ROOT, "dist/host/cli.js");
const CONSOLE_ABORT = "dist/tests/apps/console-abort.wasm";

after(endApps);

async function eventide(args) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("a trap under the Node engine", () => {
  let dir;
  before(() => { dir = mkdtempSync(join(tmpdir(), "eventide-diag-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the wasm backtrace with function names from a --debug build, innermost first", async () => {
    const wasm = join(dir, "trap-debug.wasm");
    const built = await eventide(["build", join(ROOT, "tests/apps/trap.ts"), "-o", wasm, "--debug"]);
    assert.equal(built.code, 0, built.stderr);
    const r = await eventide(["run", wasm, "--engine", "node"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the app trapped: unreachable\n  wasm backtrace:\n    0: +0x[0-9a-f]+ - start:.*tests\/apps\/trap~anonymous\|0\n/);
    assert.match(r.stderr, /\n    \d: +0x[0-9a-f]+ - ~lib\/eventide\/timers\/runTimers\n/);
  });

  it("prints function indices and offsets from a release build", async () => {
    const r = await eventide(["run", join(ROOT, "dist/tests/apps/trap.wasm"), "--engine", "node"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wasm backtrace:\n    0: +0x[0-9a-f]+ - <wasm function \d+>\n    1: /);
  });
});

for (const engine of ENGINES) {
  describe(`console and abort under ${engine}`, () => {
    async function run(args) {
      const app = await startApp(CONSOLE_ABORT, { engine, listen: false, args });
      return { ...(await within(app.exited, 20_000, "console-abort's exit")), stdout: app.stdout, stderr: app.stderr };
    }

    it("console.log, info and debug write to stdout, error, warn and a failed assert to stderr, with nothing added", async () => {
      const r = await run([]);
      assert.equal(r.stdout, "log line\ninfo line\ndebug line\n");
      assert.match(r.stderr, /^warn line\nerror line\nAssertion failed: arithmetic\nUncaught/);
    });

    it("an index out of range exits 1 with the message and where the check failed, and nothing else", async () => {
      const r = await run([]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\nAssertion failed: arithmetic\nUncaught Error: Index out of range\n    at ~lib\/array\.ts:\d+:\d+\n$/);
    });

    it("a failed assert names the app's own file, line and column", async () => {
      const r = await run(["assert"]);
      assert.equal(r.code, 1);
      const at = `${ROOT}/tests/apps/console-abort.ts:15:`.replace(/[.\/]/g, "\\$&");
      assert.match(r.stderr, new RegExp(`\nUncaught Error: three values expected\\n    at ${at}\\d+\\n$`));
    });
  });
}
