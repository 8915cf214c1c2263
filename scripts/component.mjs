// Turns an app's WASI 0.2 core module (compiled with EVENTIDE_WASI_P2, assembly/sys/preview2.ts) into a component
// for wasmtime 47 and newer: the world in wit/ is embedded, then `component new` wraps the module with the WASI
// preview1 *command* adapter, which serves the module's remaining wasi_snapshot_preview1 imports (environment,
// stdio, clocks, random) over WASI 0.2 and exports wasi:cli/run. The tools are jco's: its bundled wasm-tools
// (compiled to wasm, run in Node) and its adapter, so `npm install` alone brings everything.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const WIT_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "wit");
const WORLD = "component";
// Where wit/ and jco's WASI WIT appear inside the in-wasm wasm-tools, whose file access is only what is preopened.
const WIT_GUEST_DIR = "/eventide-wit";
const WASI_WIT = "lib/wit/builtin/0.2.12"; // in the jco package: the version its adapter imports

let tools;

/**
 * jco's componentEmbed/componentNew and its command adapter (bytes), loaded once. jco runs its wasm-tools on its
 * own copy of @bytecodealliance/preview2-shim (resolved from jco-transpile, not from the top of node_modules), and
 * that copy's preopens decide what wasm-tools can read: only wit/ is granted, before wasm-tools starts.
 */
async function loadTools() {
  if (tools) return tools;
  const require = createRequire(import.meta.url);
  let jcoPath;
  try {
    jcoPath = require.resolve("@bytecodealliance/jco");
  } catch {
    throw new Error("@bytecodealliance/jco is not installed: run 'npm install' in the eventide folder");
  }
  const wasmToolsPath = createRequire(jcoPath).resolve("@bytecodealliance/jco-transpile/wasm-tools");
  const shimPath = createRequire(wasmToolsPath).resolve("@bytecodealliance/preview2-shim/filesystem");
  const shim = await import(pathToFileURL(shimPath).href);
  shim._clearPreopens();
  shim._addPreopen(WIT_GUEST_DIR, WIT_DIR);
  shim._addPreopen(`${WIT_GUEST_DIR}/deps`, join(dirname(jcoPath), "..", WASI_WIT));
  const jco = await import(pathToFileURL(jcoPath).href);
  tools = { embed: jco.componentEmbed, create: jco.componentNew, adapter: readFileSync(jco.preview1AdapterCommandPath()) };
  return tools;
}

/**
 * Writes the component of a WASI 0.2 core module (bytes) beside the app's module `wasmPath`, as componentPath()
 * names it. Rejects with wasm-tools' message when the module imports something the world in wit/ does not have
 * (or under a version other than 0.2.12).
 */
export async function writeComponent(core, wasmPath) {
  const { embed, create, adapter } = await loadTools();
  const embedded = await embed({ binary: core, witPath: WIT_GUEST_DIR, world: WORLD });
  writeFileSync(componentPath(wasmPath), await create(embedded, [["wasi_snapshot_preview1", adapter]]));
}

/** `X.wasm` → `X.component.wasm`, the name the wasmtime engine looks for beside the module it is given. */
export function componentPath(wasmPath) {
  return wasmPath.replace(/(\.wasm)?$/, ".component.wasm");
}
