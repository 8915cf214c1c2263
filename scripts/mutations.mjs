// `npm run test:mutations [id…]`: plants each mutation of tests/mutations.mjs — a small realistic bug — one at a
// time in a scratch copy of the project, rebuilds what it touches, and runs only the test files named to catch
// it. Caught means those tests failed (or hit their time limit); missed means they passed with the bug in. A
// mutation whose original text is not in its file exactly once is an ERROR: the list must follow the code. The
// real tree is never written: the copy is the tracked and untracked (not ignored) files of this working tree
// (with --head: the last commit instead), with node_modules linked. Options: --keep (leave the copy),
// --no-baseline (skip the un-mutated run of the named tests).
import { spawnSync, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ASPECT_ARGS, endLeftovers, runMarker } from "./runners.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const keep = args.includes("--keep");
const baseline = !args.includes("--no-baseline");
const fromHead = args.includes("--head");
const only = args.filter((a) => !a.startsWith("--"));
// A mutant that hangs a test file is caught by this limit (a loop that never ends is one of the mutations).
const FILE_TIMEOUT_MS = 120_000;
const ASPECT_TIMEOUT_MS = 90_000;

const { MUTATIONS } = await import(join(root, "tests", "mutations.mjs"));
const chosen = only.length ? MUTATIONS.filter((m) => only.includes(m.id)) : MUTATIONS;
const unknown = only.filter((id) => !MUTATIONS.some((m) => m.id === id));
if (unknown.length) {
  console.error(`no mutation ${unknown.join(", ")}: see tests/mutations.mjs`);
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), "eventide-mutants-"));
let files;
if (fromHead) {
  execFileSync("bash", ["-c", `git archive HEAD | tar -x -C "${scratch}"`], { cwd: root });
  files = execFileSync("git", ["ls-tree", "-r", "-z", "--name-only", "HEAD"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
} else {
  files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
    .split("\0").filter((f) => f && existsSync(join(root, f)));
  for (const f of files) {
    mkdirSync(dirname(join(scratch, f)), { recursive: true });
    cpSync(join(root, f), join(scratch, f));
  }
}
symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"), "dir");
const env = { ...process.env, EVENTIDE_WASMTIME: wasmtimePath(), RUST_BACKTRACE: "0" };
console.log(`scratch copy: ${scratch} (${files.length} files)`);

function wasmtimePath() {
  return process.env.EVENTIDE_WASMTIME ||
    execFileSync("bash", [join(root, "scripts/ensure-wasmtime.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/** Runs `command` in the scratch copy with this run's marker; returns { ok, timedOut, output }. */
function sh(command, argv, timeout) {
  const marker = runMarker();
  const r = spawnSync(command, argv, {
    cwd: scratch, encoding: "utf8", env: { ...env, EVENTIDE_TEST_RUN: marker }, timeout, killSignal: "SIGKILL", maxBuffer: 256 << 20,
  });
  const leftovers = endLeftovers(marker, argv.join(" ").slice(0, 80));
  return { ok: r.status === 0 && leftovers === 0, timedOut: r.error?.code === "ETIMEDOUT", output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** The apps (by name) a set of test files runs: every dist/…/NAME.wasm they mention. */
function appsOf(testFiles) {
  const names = new Set();
  for (const t of testFiles) {
    for (const m of readFileSync(join(scratch, t), "utf8").matchAll(/dist\/(?:examples|tests\/apps)\/([\w-]+)\.wasm/g)) names.add(m[1]);
    if (t.startsWith("tests/parser/")) names.add("parser-harness");
  }
  return [...names];
}

/** Builds what the mutated file feeds: the named apps for AssemblyScript, the host bundle for host/. */
function build(file, testFiles) {
  if (file.startsWith("host/")) return sh(process.execPath, ["node_modules/rollup/dist/bin/rollup", "-c", "--silent"], 300_000);
  if (file.startsWith("assembly/")) {
    const apps = appsOf(testFiles);
    return apps.length ? sh(process.execPath, ["scripts/build.mjs", ...apps], 600_000) : { ok: true, output: "" };
  }
  return { ok: true, output: "" };
}

/** Runs the test files: as-pect (every spec) if any is named, the rest through node:test. Passing means all passed. */
function runTests(testFiles) {
  const specs = testFiles.filter((t) => t.endsWith(".spec.ts"));
  const suites = testFiles.filter((t) => t.endsWith(".test.mjs"));
  const results = [];
  if (specs.length) results.push(sh(process.execPath, ASPECT_ARGS, ASPECT_TIMEOUT_MS)); // all specs: ~20 s
  if (suites.length) {
    results.push(sh(process.execPath, ["--test", "--test-concurrency=1", `--test-timeout=${FILE_TIMEOUT_MS}`, "--test-reporter=spec", ...suites],
      FILE_TIMEOUT_MS * suites.length + 30_000));
  }
  const output = results.map((r) => r.output).join("\n");
  return { passed: results.every((r) => r.ok), timedOut: results.some((r) => r.timedOut), output, failing: failingTests(output) };
}

/** The names of the tests that failed, from node:test's spec reporter and as-pect's output. */
function failingTests(output) {
  const names = new Set();
  for (const line of output.replace(/\x1b\[\d+m/g, "").split("\n")) {
    const m = /^\s*(?:✖|❌) (.+?)(?: \([\d.]+ms\))?(?: - .*)?$/.exec(line);
    if (m && !/\.(test\.mjs|spec\.ts)\b/.test(m[1]) && m[1] !== "failing tests:") names.add(m[1].trim());
  }
  return [...names];
}

const started = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(0);

console.log("building the scratch copy …");
const full = sh(process.execPath, ["scripts/build.mjs"], 900_000);
if (!full.ok) {
  console.error(`ERROR: the un-mutated copy does not build:\n${full.output.slice(-3000)}`);
  process.exit(1);
}
const pristine = join(scratch, "dist.pristine");
cpSync(join(scratch, "dist"), pristine, { recursive: true, verbatimSymlinks: true });

if (baseline) {
  const all = [...new Set(chosen.flatMap((m) => m.tests))];
  const t0 = Date.now();
  const r = runTests(all);
  if (!r.passed) {
    console.error(`ERROR: the named tests fail without any mutation (${seconds(t0)} s); fix them first:\n${r.output.slice(-4000)}`);
    process.exit(1);
  }
  console.log(`baseline: ${all.length} test files pass un-mutated (${seconds(t0)} s)`);
}

const report = [];
for (const m of chosen) {
  const t0 = Date.now();
  const path = join(scratch, m.file);
  const original = existsSync(path) ? readFileSync(path, "utf8") : null;
  const count = original === null ? 0 : original.split(m.find).length - 1;
  if (count !== 1) {
    report.push({ m, verdict: "ERROR", note: original === null ? `${m.file} does not exist` : `its original text occurs ${count} times in ${m.file}, not once` });
    console.log(`ERROR   ${m.id}: ${report.at(-1).note}`);
    continue;
  }
  writeFileSync(path, original.replace(m.find, m.replace));
  let verdict;
  let note = "";
  const built = build(m.file, m.tests);
  if (!built.ok) {
    verdict = "ERROR";
    note = "the mutant does not build: " + built.output.trim().split("\n").slice(-3).join(" / ");
  } else {
    const r = runTests(m.tests);
    verdict = r.passed ? "MISSED" : "caught";
    if (r.timedOut) note = "(by a time limit) ";
    if (!r.passed) note += `by: ${r.failing.slice(0, 3).map((n) => JSON.stringify(n.slice(0, 70))).join(", ") || "(see the output)"}`;
  }
  writeFileSync(path, original);
  rmSync(join(scratch, "dist"), { recursive: true, force: true });
  cpSync(pristine, join(scratch, "dist"), { recursive: true, verbatimSymlinks: true }); // newer than the restored source
  report.push({ m, verdict, note, seconds: seconds(t0) });
  console.log(`${verdict.padEnd(7)} ${m.id} (${m.area}, ${seconds(t0)} s) ${note}`);
}

const tally = (v) => report.filter((r) => r.verdict === v).length;
console.log(`\n${tally("caught")} caught, ${tally("MISSED")} missed, ${tally("ERROR")} errors, of ${report.length} mutations in ${seconds(started)} s`);
for (const r of report.filter((x) => x.verdict !== "caught")) console.log(`  ${r.verdict} ${r.m.id}: ${r.m.why} ${r.note ?? ""}`);
if (keep) console.log(`scratch copy kept: ${scratch}`);
else rmSync(scratch, { recursive: true, force: true });
process.exit(tally("caught") === report.length ? 0 : 1);
