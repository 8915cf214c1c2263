// What the deploy checks share: their tools (tests/deploy/ensure-tools.sh installs them once into the user
// cache), a YAML reader (PyYAML, which kubernetes-validate brings into the same virtualenv), and the image's
// command line run from this checkout.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, freePort, spawnTracked, waitForPort, wasmtime } from "../helpers/engines.mjs";

let bin;
/** The path of a tool of the deploy checks' virtualenv: "kubernetes-validate", "hadolint" or "python". */
export function tool(name) {
  bin ??= execFileSync("bash", [join(ROOT, "tests/deploy/ensure-tools.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  return join(bin, name);
}

/** Every document of a YAML file, as plain objects. */
export function readYamlDocuments(path) {
  const json = execFileSync(tool("python"), ["-c",
    "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]))", path],
  { encoding: "utf8" });
  return JSON.parse(json);
}

/**
 * Runs the image's command line — its ENTRYPOINT (exec form) followed by `args` — from this checkout, as the
 * image would: /opt/eventide is this checkout, app.wasm the hello-http example, the wasmtime the tests use,
 * a fresh XDG_CACHE_HOME, and any `--listen` moved to a free loopback port. Resolves with the app
 * (engines.mjs startApp's shape: port, child, stderr, exited) once it listens.
 */
export async function startImageCommand(entrypoint, args) {
  const port = await freePort();
  const cache = mkdtempSync(join(tmpdir(), "eventide-cache-"));
  const argv = [...entrypoint, ...args].map((a, i, all) => (all[i - 1] === "--listen" ? `127.0.0.1:${port}`
    : a === "/opt/eventide/app.wasm" ? join(ROOT, "dist/examples/hello-http.wasm") : a.replace("/opt/eventide", ROOT)));
  assert.equal(argv[0], "node");
  const child = spawnTracked(process.execPath, argv.slice(1), {
    stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, EVENTIDE_WASMTIME: wasmtime(), XDG_CACHE_HOME: cache },
  });
  const app = { port, child, stderr: "", exited: new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal }))) };
  child.stderr.on("data", (d) => (app.stderr += d));
  app.exited.then(() => rmSync(cache, { recursive: true, force: true }));
  await Promise.race([waitForPort(port), app.exited.then(() => { throw new Error(`exited before listening: ${app.stderr}`); })]);
  return app;
}
