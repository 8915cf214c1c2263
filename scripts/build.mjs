// Builds everything `npm test` and `npm start` need: every example and test fixture app compiled with the
// runtime into one WASI preview1 module each, then the host bundle. Pass names to build only those apps.
import asc from "assemblyscript/asc";
import { readdirSync, mkdirSync, existsSync, statSync } from "node:fs";
import { join, basename, dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv.slice(2);

/** Compiles one app against the runtime; the app's top level becomes `_initialize`, the loop `_start`. */
export async function buildApp(entry, outFile, { debug = false } = {}) {
  mkdirSync(dirname(outFile), { recursive: true });
  const args = [
    relative(root, entry), "assembly/entry.ts",
    "--config", "asconfig.json", "--target", debug ? "debug" : "release",
    "-o", relative(root, outFile),
  ];
  const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
  if (error) throw new Error(`asc failed for ${entry}: ${error.message}\n${stderr}`);
}

const appDirs = [
  ["examples", "dist/examples"],
  ["tests/apps", "dist/tests/apps"],
];

async function main() {
  process.chdir(root);
  for (const [src, out] of appDirs) {
    if (!existsSync(src)) continue;
    for (const file of readdirSync(src).filter((f) => f.endsWith(".ts")).sort()) {
      const name = basename(file, ".ts");
      if (only.length && !only.includes(name)) continue;
      const outFile = join(out, name + ".wasm");
      if (existsSync(outFile) && statSync(outFile).mtimeMs > newestSource(src, file)) continue;
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
  newest = Math.max(newest, statSync("asconfig.json").mtimeMs);
  return newest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e.message); process.exit(1); });
}
