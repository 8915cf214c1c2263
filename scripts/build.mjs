// Builds everything `npm test` and `npm start` need: every example and test fixture app compiled with the
// runtime into one WASI preview1 module and one WASI 0.2 component each (scripts/component.mjs), then the host
// bundle. Pass names to build only those apps.
import asc from "assemblyscript/asc";
import { readdirSync, readFileSync, mkdirSync, existsSync, statSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { join, basename, dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import HeapCounter from "./heap-counter.mjs";
import NodeGlobals from "./node-globals.mjs";
import { componentPath, writeComponent } from "./component.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv.slice(2);

// Apps import the runtime as "eventide/<module>" (net, http, timers, events, buffer, tasks, or "eventide").
// AssemblyScript 0.27 resolves "pkg/sub" to pkg/sub.ts (or pkg/sub/index.ts) in a package folder on --path,
// so dist/asc/eventide links to assembly/. The loop entry imports the runtime the same way, so app and
// entry share one copy of it.
function packagePath() {
  const dir = join(root, "dist", "asc");
  const link = join(dir, "eventide");
  mkdirSync(dir, { recursive: true });
  if (!existsSync(link)) symlinkSync(join("..", "..", "assembly"), link, "dir");
  return dir;
}

/**
 * Compiles one app against the runtime; the app's top level becomes `_initialize`, the loop `_start`.
 * Paths may be absolute or relative to the current directory. AssemblyScript packages the app imports are
 * found in node_modules from the app's folder up (as Node finds them), then the runtime as "eventide/…".
 * `transforms` (asc's --transform: a package name such as "json-as", or a path) are resolved from the app's
 * folder too, joined with those its asconfig.json or package.json names (appTransforms). Rejects with asc's
 * diagnostics on failure, or when a transform is not installed.
 */
export async function buildApp(entry, outFile, { debug = false, transforms = [], stdout = process.stdout, stderr = process.stderr } = {}) {
  mkdirSync(dirname(resolve(outFile)), { recursive: true });
  const appDir = dirname(resolve(entry));
  const args = [
    resolve(entry), join(root, "assembly", "entry.ts"),
    "--config", join(root, "asconfig.json"), "--target", debug ? "debug" : "release",
    // asc looks for packages in node_modules from baseDir up, not from the importing file's folder, and
    // baseDir must be / (asc joins library paths onto it): the app's node_modules folders are named instead.
    ...nodeModules(appDir).flatMap((dir) => ["--path", dir]), "--path", packagePath(),
    "--baseDir", "/",
    "-o", resolve(outFile),
  ];
  for (const t of new Set([...transforms, ...appTransforms(appDir)])) args.push("--transform", resolveTransform(t, appDir));
  const runtimeTransforms = [HeapCounter, NodeGlobals];
  const { error } = await asc.main(args, { stdout, stderr, transforms: runtimeTransforms });
  if (error) throw new Error(`asc failed for ${entry}: ${error.message}`);
  // Again with the WASI 0.2 backend (assembly/sys.ts), kept in memory and made X.component.wasm for wasmtime ≥ 47.
  let core;
  const keep = (name, contents) => { if (name.endsWith(".wasm")) core = contents; };
  const p2 = await asc.main([...args, "--use", "EVENTIDE_WASI_P2=1"], { stdout, stderr, transforms: runtimeTransforms, writeFile: keep });
  if (p2.error) throw new Error(`asc failed for ${entry} (WASI 0.2 build): ${p2.error.message}`);
  try {
    await writeComponent(core, outFile);
  } catch (err) {
    throw new Error(`making the WASI 0.2 component of ${entry} failed: ${err.message}`);
  }
}

/** The node_modules folders Node would look in for a package imported from `dir`, nearest first. */
function nodeModules(dir) {
  const found = [];
  for (let d = dir; ; d = dirname(d)) {
    if (basename(d) !== "node_modules" && existsSync(join(d, "node_modules"))) found.push(join(d, "node_modules"));
    if (dirname(d) === d) return found;
  }
}

/**
 * The transforms an app's own configuration names: `options.transform` of the asconfig.json, and
 * `eventide.transform` of the package.json, of the nearest folder from `dir` up that has a package.json
 * (or `dir` itself). Each may be a string or an array of strings.
 */
export function appTransforms(dir) {
  let home = dir;
  while (!existsSync(join(home, "package.json")) && dirname(home) !== home) home = dirname(home);
  if (!existsSync(join(home, "package.json"))) home = dir;
  const read = (file, pick) => {
    if (!existsSync(join(home, file))) return [];
    let json;
    try {
      json = JSON.parse(readFileSync(join(home, file), "utf8"));
    } catch (err) {
      throw new Error(`${join(home, file)} is not valid JSON: ${err.message}`);
    }
    const value = pick(json) ?? [];
    return Array.isArray(value) ? value : [value];
  };
  return [...read("asconfig.json", (j) => j.options?.transform), ...read("package.json", (j) => j.eventide?.transform)];
}

/** A transform's file, found from the app's folder as Node finds a package (a relative path: from that folder). */
function resolveTransform(name, appDir) {
  if (name.startsWith(".") || isAbsolute(name)) return resolve(appDir, name);
  try {
    return createRequire(join(appDir, "package.json")).resolve(name);
  } catch {
    throw new Error(`the transform ${name} is not installed where ${appDir} can find it: run 'npm install ${name}' in the app's folder`);
  }
}

/** The parser harness: runtime modules without the loop entry, importing only env.abort. */
async function buildHarness(entry, outFile) {
  mkdirSync(dirname(outFile), { recursive: true });
  const args = [
    resolve(entry), "--path", packagePath(), "--baseDir", "/", "--runtime", "minimal",
    "-O3", "--noAssert", "--enable", "simd", "--exportRuntime", "-o", resolve(outFile),
  ];
  const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
  if (error) throw new Error(`asc failed for ${entry}: ${error.message}`);
}

const appDirs = [
  ["examples", "dist/examples"],
  ["tests/apps", "dist/tests/apps"],
];

async function main() {
  process.chdir(root);
  // Harnesses first: asc keeps the library files of one compilation (the WASI shim's) for later ones.
  const harness = "tests/parser-harness/harness.ts";
  const harnessOut = "dist/tests/parser-harness.wasm";
  if (existsSync(harness) && (!only.length || only.includes("parser-harness")) &&
      !(existsSync(harnessOut) && statSync(harnessOut).mtimeMs > newestSource("tests/parser-harness", "harness.ts"))) {
    await buildHarness(harness, harnessOut);
    console.log(`built ${harnessOut}`);
  }
  for (const [src, out] of appDirs) {
    if (!existsSync(src)) continue;
    for (const file of readdirSync(src).filter((f) => f.endsWith(".ts")).sort()) {
      const name = basename(file, ".ts");
      if (only.length && !only.includes(name)) continue;
      const outFile = join(out, name + ".wasm");
      const built = [outFile, componentPath(outFile)];
      if (built.every((f) => existsSync(f) && statSync(f).mtimeMs > newestSource(src, file))) continue;
      await buildApp(join(src, file), outFile);
      console.log(`built ${outFile}`);
    }
  }
  if (!only.length && existsSync("rollup.config.mjs")) {
    execFileSync(process.execPath, ["node_modules/rollup/dist/bin/rollup", "-c", "--silent"], { stdio: "inherit" });
  }
}

/** Newest mtime among the app and the whole runtime, so any runtime edit rebuilds every app. */
function newestSource(dir, file) {
  let newest = statSync(join(dir, file)).mtimeMs;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk("assembly");
  walk("wit");
  newest = Math.max(newest, statSync("asconfig.json").mtimeMs);
  return newest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e.message); process.exit(1); });
}
