// --memory-limit is a hard cap under both engines (issue 9): an app that allocates in one callback without
// ever returning is stopped at the limit — not after the callback, gigabytes later — with exit status 1 and
// the same one-line message from either engine, and no trap report.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ENGINES, ROOT, cliEngine, rssKiB } from "../helpers/engines.mjs";
import { childPids } from "../helpers/serving.mjs";

const APP = join(ROOT, "dist/tests/apps/mem-hog.wasm");
const LIMIT_MIB = 64;
// Node itself (~50 MiB), the compiled module and the app's memory under the limit fit well inside this.
const RSS_HEADROOM_MIB = 200;
const RUN_TIMEOUT_MS = 60_000;
const MESSAGE = /^out of memory: linear memory could not grow past (\d+) bytes \(the memory limit\)\n$/;

/** RSS of `pid` and its children (wasmtime runs as the CLI's child), or 0 once it is gone. */
function treeRssKiB(pid) {
  try {
    return rssKiB(pid) + childPids(pid).reduce((sum, child) => sum + treeRssKiB(child), 0);
  } catch {
    return 0;
  }
}

/**
 * Runs the app through the CLI, sampling RSS every 10 ms; ends it after RUN_TIMEOUT_MS at most, or as soon as
 * its RSS passes `rssBoundKiB` (an uncapped app would take gigabytes of a machine others share).
 */
function runHog(engine, rssBoundKiB) {
  const { name, env } = cliEngine(engine);
  const child = spawn(process.execPath, [join(ROOT, "dist/host/cli.js"), "run", APP, "--engine", name, "--memory-limit", `${LIMIT_MIB}m`],
    { stdio: ["ignore", "pipe", "pipe"], env });
  let stdout = "";
  let stderr = "";
  let maxRssKiB = 0;
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const sampler = setInterval(() => {
    maxRssKiB = Math.max(maxRssKiB, treeRssKiB(child.pid));
    if (maxRssKiB > rssBoundKiB) child.kill("SIGKILL");
  }, 10);
  const killer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  return new Promise((resolve) => child.on("close", (code, signal) => {
    clearInterval(sampler);
    clearTimeout(killer);
    resolve({ code, signal, stdout, stderr, maxRssKiB });
  }));
}

describe("--memory-limit", () => {
  const messages = {};

  for (const engine of ENGINES) {
    it(`stops an app that allocates in one callback at the limit under ${engine}: exit 1, one line, bounded RSS`, async () => {
      const bound = (LIMIT_MIB + RSS_HEADROOM_MIB) * 1024;
      const run = await runHog(engine, bound);
      assert.ok(run.maxRssKiB <= bound, `RSS reached ${run.maxRssKiB} KiB`);
      assert.equal(run.signal, null, `killed after ${RUN_TIMEOUT_MS} ms`);
      assert.equal(run.stdout, "allocating\n");
      assert.match(run.stderr, MESSAGE); // the whole of stderr: no trap, no backtrace
      assert.ok(Number(MESSAGE.exec(run.stderr)[1]) <= LIMIT_MIB << 20);
      assert.equal(run.code, 1);
      messages[engine] = run.stderr;
    });
  }

  if (ENGINES.length > 1) {
    it("prints the same message under every engine", () => {
      assert.deepEqual(ENGINES.filter((e) => !messages[e]), [], "each engine printed its message");
      // The same words; the size reached may differ (the component's adapter keeps its own state in the memory).
      const words = (message) => message.replace(/\d+ bytes/, "N bytes");
      for (const engine of ENGINES) assert.equal(words(messages[engine]), words(messages[ENGINES[0]]), engine);
    });
  }
});
