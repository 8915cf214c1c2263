// What `eventide run` says when the app fails: a trap inside the Node engine prints where it happened, as the
// wasm backtrace wasmtime prints (function names when the build has them).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/engines.mjs";

const CLI = join(ROOT, "dist/host/cli.js");

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
