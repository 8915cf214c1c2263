// `npm test [suite…]`: wasmtime (built once into the user cache if missing), the build, the AssemblyScript unit
// tests (as-pect), then every node:test suite under tests/ against the real engines. Suites are "as" and the
// folders of tests/ (net, host, parser, …); naming some runs only those. Every runner has a time limit, and
// every process a runner leaves behind is ended and counted as a failure. Ends with one line that counts
// both runners and says what this run left out (engines, suites, shortened campaigns).
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, dirname, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ASPECT_ARGS, endLeftovers, runMarker } from "./runners.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);

// "wasmtime": the 36 LTS line (the app's preview1 module); "wasmtime-current": 47 or newer (its WASI 0.2 component);
// "wasmtime-host": the component under eventide-wasmtime, Eventide's own host on the wasmtime 48 crate.
const ALL_ENGINES = ["wasmtime", "wasmtime-current", "wasmtime-host", "node"];
// The slowest file passes in about a minute; a hang fails after these instead of holding CI to its limit.
const ASPECT_TIMEOUT_MS = 120_000;
const FILE_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 45 * 60_000;
// Campaign sizes a developer may shorten; a run that does says so.
const SHORTENED = ["EVENTIDE_DIFF_MUTATIONS", "EVENTIDE_FUZZ_ITERATIONS"];

const engines = (process.env.EVENTIDE_TEST_ENGINES ?? ALL_ENGINES.join(",")).split(",").filter(Boolean);
const unknownEngine = engines.find((e) => !ALL_ENGINES.includes(e));
if (unknownEngine || engines.length === 0) {
  console.error(`EVENTIDE_TEST_ENGINES=${process.env.EVENTIDE_TEST_ENGINES}: use a comma-separated list of ${ALL_ENGINES.join(", ")}`);
  process.exit(2);
}

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
const suiteOf = (file) => relative("tests", file).split(sep)[0];
const allSuites = ["as", ...new Set(files.map(suiteOf))];
const chosen = process.argv.slice(2);
const badSuite = chosen.find((s) => !allSuites.includes(s));
if (badSuite) {
  console.error(`no suite '${badSuite}': choose from ${allSuites.join(", ")}`);
  process.exit(2);
}
const suites = chosen.length ? allSuites.filter((s) => chosen.includes(s)) : allSuites;
const nodeFiles = files.filter((f) => suites.includes(suiteOf(f)));

// Every process this run starts carries this marker in its environment, so what outlives a runner is found.
const RUN_MARKER = runMarker();
const env = { ...process.env, EVENTIDE_TEST_ENGINES: engines.join(","), EVENTIDE_TEST_RUN: RUN_MARKER };
// Each line's wasmtime, built once into the user cache when missing (about 15–20 minutes each on 2 cores; the
// host about 6–10).
for (const [engine, variable, line] of [["wasmtime", "EVENTIDE_WASMTIME", "lts"], ["wasmtime-current", "EVENTIDE_WASMTIME_CURRENT", "current"],
  ["wasmtime-host", "EVENTIDE_WASMTIME_HOST", "host"]]) {
  if (!engines.includes(engine)) continue;
  env[variable] = execFileSync("bash", ["scripts/ensure-wasmtime.sh", line], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  console.log(`${engine}: ${env[variable]}`);
}

if (spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit", env }).status !== 0) {
  console.error("FAIL: the build failed (the compiler's messages are above); no test ran");
  process.exit(1);
}

let aspectPassed = 0;
let aspectFailed = 0;
if (suites.includes("as")) {
  const aspect = spawnSync(process.execPath, ASPECT_ARGS,
    { encoding: "utf8", env, timeout: ASPECT_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 64 << 20 });
  process.stdout.write(aspect.stdout ?? "");
  process.stderr.write(aspect.stderr ?? "");
  const totals = /\[Tests\]:\s*(?:\x1b\[\d+m)*(\d+)(?:\x1b\[\d+m)*\s*\/\s*(\d+)/.exec(aspect.stdout ?? "");
  if (aspect.error?.code === "ETIMEDOUT") {
    console.error(`FAIL: as-pect timed out after ${ASPECT_TIMEOUT_MS / 1000} s and was ended: a test never returned (a loop that never exits?)`);
  } else if (!totals) {
    console.error("FAIL: as-pect printed no test totals");
  }
  aspectPassed = Number(totals?.[1] ?? 0);
  // A non-zero exit with every counted test green (a compile error, a timeout) still counts as a failure.
  aspectFailed = Math.max(Number(totals?.[2] ?? 0) - aspectPassed, aspect.status === 0 && totals ? 0 : 1);
  aspectFailed += endLeftovers(RUN_MARKER, "as-pect");
}

let nodePassed = 0;
let nodeFailed = 0;
if (nodeFiles.length) {
  // --test-timeout bounds each file's subprocess as well as each test in it.
  const node = spawnSync(process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=1", `--test-timeout=${FILE_TIMEOUT_MS}`, ...nodeFiles],
    { encoding: "utf8", env, stdio: ["ignore", "pipe", "inherit"], maxBuffer: 256 << 20, timeout: RUN_TIMEOUT_MS, killSignal: "SIGKILL" });
  process.stdout.write(node.stdout ?? "");
  const count = (name) => Number((new RegExp(`ℹ ${name} (\\d+)`).exec(node.stdout ?? "") ?? [0, 0])[1]);
  nodePassed = count("pass");
  nodeFailed = count("fail") + count("cancelled");
  if (node.error?.code === "ETIMEDOUT") {
    console.error(`FAIL: node:test ran past ${RUN_TIMEOUT_MS / 60_000} min and was ended`);
    nodeFailed++;
  } else if (node.status !== 0 && nodeFailed === 0) {
    nodeFailed = 1; // it failed without a failing test to show for it (a file that did not load)
  }
  nodeFailed += endLeftovers(RUN_MARKER, "node:test");
}

const left = [];
const skippedEngines = ALL_ENGINES.filter((e) => !engines.includes(e));
left.push(`engines: ${engines.join(", ")}${skippedEngines.length ? ` (${skippedEngines.join(", ")} skipped by EVENTIDE_TEST_ENGINES)` : ""}`);
const skippedSuites = allSuites.filter((s) => !suites.includes(s));
left.push(`suites: ${skippedSuites.length ? `${suites.join(", ")} (${skippedSuites.join(", ")} skipped by arguments)` : "all"}`);
const shortened = SHORTENED.filter((name) => process.env[name] !== undefined).map((name) => `${name}=${process.env[name]}`);
if (shortened.length) left.push(`campaigns changed: ${shortened.join(", ")}`);

const passed = aspectPassed + nodePassed;
const failed = aspectFailed + nodeFailed;
console.log(`as-pect: ${aspectPassed} passed, ${aspectFailed} failed; node:test: ${nodePassed} passed, ${nodeFailed} failed`);
console.log(`what ran: ${left.join("; ")}`);
// Last and alone on its line: the plain closing line CI reads.
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
