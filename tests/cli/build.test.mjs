// eventide build's developer loop: --watch builds again after a save, and a failed build names the fix for each
// Node habit the compiler rejected (docs/apps.md), once per habit.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, writeFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, spawnTracked, endApps, within } from "../helpers/engines.mjs";

const CLI = join(ROOT, "dist/host/cli.js");

async function build(dir, file) {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [CLI, "build", join(dir, file), "-o", join(dir, "out.wasm")], { timeout: 120_000 });
    return { code: 0, stderr };
  } catch (err) {
    return { code: err.code, stderr: err.stderr };
  }
}

describe("eventide build", () => {
  let dir;
  before(() => { dir = mkdtempSync(join(tmpdir(), "eventide-build-")); });
  after(() => {
    endApps();
    rmSync(dir, { recursive: true, force: true });
  });

  const HABITS = [
    ["untyped parameters", `import * as http from "eventide/http";\nhttp.createServer((req, res) => { res.end("x"); }).listen(8080);\n`,
      /eventide: hint: every parameter needs a type.*docs\/apps\.md, "Node habits the compiler rejects"/],
    ["a closure", `import * as http from "eventide/http";\nfunction serve(greeting: string): void {\n  http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => { res.end(greeting); }).listen(8080);\n}\nserve("hi");\n`,
      /eventide: hint: a callback can't use its enclosing function's variables \(no closures\).*docs\/apps\.md/],
    ["setTimeout without its import", `setTimeout(() => { console.log("late"); }, 10);\n`,
      /eventide: hint: timers are not globals: import \{ setTimeout, setInterval, setImmediate \} from "eventide\/timers"/],
  ];
  for (const [habit, source, hint] of HABITS) {
    it(`a failed build names the fix for ${habit}, in one line`, async () => {
      writeFileSync(join(dir, "habit.ts"), source);
      const r = await build(dir, "habit.ts");
      assert.equal(r.code, 1);
      assert.match(r.stderr, hint);
      assert.equal(r.stderr.match(/eventide: hint:/g).length, 1, r.stderr);
    });
  }

  it("an error that is no Node habit gets no hint", async () => {
    writeFileSync(join(dir, "typo.ts"), `let x: i32 = "not a number";\n`);
    const r = await build(dir, "typo.ts");
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /hint:/);
  });

  it("--watch builds, then builds again after the app is saved", async () => {
    const app = join(dir, "watched.ts");
    const out = join(dir, "watched.wasm");
    writeFileSync(app, `console.log("one");\n`);
    const child = spawnTracked(process.execPath, [CLI, "build", app, "-o", out, "--watch"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const lines = (pattern, count) => new Promise((resolve) => {
      const check = () => { if ((stderr.match(pattern) ?? []).length >= count) resolve(); };
      child.stderr.on("data", (d) => { stderr += d; check(); });
      check();
    });
    try {
      await within(lines(/watching .* for changes/g, 1), 120_000, "the first build");
      assert.match(stderr, /eventide: built .*watched\.wasm/);
      const first = statSync(out).mtimeMs;
      writeFileSync(app, `console.log("two");\n`);
      await within(lines(/eventide: built .*watched\.wasm/g, 2), 120_000, `the build after a save: ${stderr}`);
      assert.ok(statSync(out).mtimeMs > first, "the .wasm was not written again");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
