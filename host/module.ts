// Loading and checking Eventide modules, compiled once per file and process (undici's lazyllhttp habit).
import { readFile } from "node:fs/promises";
import { EventideError } from "./errors.js";

const REQUIRED_EXPORTS = ["memory", "_initialize", "_start", "eventide_tick", "eventide_exit_code", "eventide_stop"];
const cache = new Map<string, Promise<WebAssembly.Module>>();

/** A change to a module's bytes before it is compiled (engines/node/memory-limit.ts); `key` names it in the cache. */
export interface ModuleEdit {
  key: string;
  apply(bytes: Uint8Array): Uint8Array;
}

export function loadModule(path: string, edit?: ModuleEdit): Promise<WebAssembly.Module> {
  const key = edit ? `${path}\0${edit.key}` : path;
  let pending = cache.get(key);
  if (!pending) {
    pending = compile(path, edit);
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

async function compile(path: string, edit?: ModuleEdit): Promise<WebAssembly.Module> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EventideError("EVENTIDE_E_NOT_FOUND", `cannot read ${path}${code ? ` (${code})` : ""}`,
      "check the path; build an app with `eventide build app.ts -o app.wasm`");
  }
  const source = edit ? edit.apply(bytes) : bytes; // an edit's own errors are its caller's to report
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(source);
  } catch (err) {
    throw new EventideError("EVENTIDE_E_NOT_EVENTIDE_MODULE", `${path} is not a WebAssembly module: ${(err as Error).message}`,
      "build the app with `eventide build app.ts -o app.wasm`");
  }
  checkEventideModule(path, module);
  return module;
}

export function checkEventideModule(path: string, module: WebAssembly.Module): void {
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = REQUIRED_EXPORTS.filter((name) => !exports.has(name));
  const foreign = WebAssembly.Module.imports(module).filter((i) => i.module !== "wasi_snapshot_preview1");
  if (missing.length || foreign.length) {
    const why = missing.length ? `it lacks ${missing.join(", ")}` : `it imports from ${foreign[0].module}`;
    throw new EventideError("EVENTIDE_E_NOT_EVENTIDE_MODULE", `${path} is not an Eventide module: ${why}`,
      "build the app with `eventide build app.ts -o app.wasm` (it links the Eventide runtime and its loop exports)");
  }
}
