// `npm test`: wasmtime (built once into the user cache if missing), the build, the AssemblyScript unit
// tests (as-pect), then every node:test suite under tests/ against the real engines. Ends with one
// "N passed, N failed" line that counts both runners.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);

const wasmtime = execFileSync("bash", ["scripts/ensure-wasmtime.sh"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
const env = { ...process.env, EVENTIDE_WASMTIME: wasmtime, EVENTIDE_TEST_ENGINES: process.env.EVENTIDE_TEST_ENGINES ?? "wasmtime,node" };
console.log(`wasmtime: ${wasmtime}`);

execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit", env });

const aspect = spawnSync(process.execPath, ["node_modules/@as-pect/cli/bin/asp", "--config", "as-pect.config.cjs", "--no-logo"],
  { encoding: "utf8", env });
process.stdout.write(aspect.stdout);
process.stderr.write(aspect.stderr);
const aspectTotals = /\[Tests\]:\s*(?:\x1b\[\d+m)*(\d+)(?:\x1b\[\d+m)*\s*\/\s*(\d+)/.exec(aspect.stdout);
if (!aspectTotals) {
  console.error("as-pect printed no test totals");
  process.exit(1);
}
const aspectPassed = Number(aspectTotals[1]);
// A non-zero exit with every counted test green (a compile error, say) still counts as a failure.
const aspectFailed = Math.max(Number(aspectTotals[2]) - aspectPassed, aspect.status === 0 ? 0 : 1);

const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith(".test.mjs")) files.push(p);
  }
};
walk("tests");
files.sort();

// A test that hangs fails after 5 minutes instead of holding CI to its limit (the slowest passes in seconds).
const node = spawnSync(process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=1", "--test-timeout=300000", ...files],
  { encoding: "utf8", env, stdio: ["ignore", "pipe", "inherit"], maxBuffer: 256 << 20 });
process.stdout.write(node.stdout);
const count = (name) => Number((new RegExp(`ℹ ${name} (\\d+)`).exec(node.stdout) ?? [0, 0])[1]);
const passed = aspectPassed + count("pass");
const failed = aspectFailed + count("fail") + count("cancelled");
console.log(`as-pect: ${aspectPassed} passed, ${aspectFailed} failed; node:test: ${count("pass")} passed, ${count("fail") + count("cancelled")} failed`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(aspect.status === 0 && node.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
