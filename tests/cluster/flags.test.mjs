// The multi-core flags of `eventide run`: a bad value names its fix and exits 2 before anything starts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ENGINES, ROOT, wasmtime } from "../helpers/engines.mjs";
import { CLUSTER_APP } from "./helpers.mjs";

function eventide(args, env = {}) {
  return spawnSync(process.execPath, [join(ROOT, "dist/host/cli.js"), "run", CLUSTER_APP, "--listen", "127.0.0.1:0", ...args],
    { encoding: "utf8", timeout: 10_000, env: { ...process.env, ...env } });
}

describe("--workers and --watchdog", () => {
  for (const bad of ["0", "-1", "two", "1.5"]) {
    it(`--workers ${bad} is refused with its fix`, () => {
      const { status, stderr } = eventide(["--workers", bad]);
      assert.equal(status, 2, stderr);
      assert.match(stderr, new RegExp(`--workers ${bad.replace(".", "\\.")} is not a number of workers\\n  fix: use --workers N \\(1 or more\\) or --workers auto`));
    });
  }

  it("--workers under wasmtime 47 or newer is refused, naming what to do instead", { skip: !ENGINES.includes("wasmtime-current") }, () => {
    const { status, stdout, stderr } = eventide(["--engine", "wasmtime", "--workers", "2"], { EVENTIDE_WASMTIME: wasmtime("wasmtime-current") });
    assert.equal(status, 2, stderr);
    assert.match(stderr, /--workers needs wasmtime 36–46 \(.* is wasmtime \d+, whose WASI 0\.2 apps can't share a listening socket\)/);
    assert.match(stderr, /fix: run one eventide process per port, or several replicas behind a load balancer/);
    assert.equal(stdout, "", "an app ran");
  });

  it("--watchdog takes milliseconds, and only with --workers", () => {
    const notTime = eventide(["--workers", "1", "--watchdog", "5s"]);
    assert.equal(notTime.status, 2);
    assert.match(notTime.stderr, /--watchdog 5s is not a time\n  fix: use --watchdog MS/);
    const alone = eventide(["--watchdog", "1000"]);
    assert.equal(alone.status, 2);
    assert.match(alone.stderr, /--watchdog needs --workers\n  fix: add --workers N/);
  });
});
