// `eventide init <dir>`: a runnable app from templates/app — app.ts, a tsconfig.json through which an editor and
// `tsc --noEmit` see eventide/* and AssemblyScript's types, and a package.json whose scripts build and run it.
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { EventideError } from "./errors.js";

const SCRIPTS = {
  build: "eventide build app.ts -o app.wasm",
  watch: "eventide build app.ts -o app.wasm --watch",
  start: "eventide run app.wasm --listen 127.0.0.1:8080",
};

/**
 * Writes the app into `dir` (created if missing) and returns the paths written, relative to it. An existing
 * package.json keeps what it has and gains the scripts and the eventide dependency it lacks; one is created
 * otherwise, depending on the eventide package at `packageRoot` (as a file: path). Throws EventideError
 * EVENTIDE_E_EXISTS, writing nothing, when a template file (app.ts, tsconfig.json, .gitignore) is there already.
 */
export function initApp(dir: string, packageRoot: string): string[] {
  const target = resolve(dir);
  const templates = join(packageRoot, "templates", "app");
  const files = readdirSync(templates).map((name) => ({ name: name === "gitignore" ? ".gitignore" : name, from: join(templates, name) }));
  const taken = files.filter((f) => existsSync(join(target, f.name))).map((f) => f.name);
  if (taken.length) {
    throw new EventideError("EVENTIDE_E_EXISTS", `${dir} already has ${taken.join(", ")}; nothing was written`,
      "init into an empty or new folder, or move those files away");
  }
  mkdirSync(target, { recursive: true });
  for (const f of files) writeFileSync(join(target, f.name), readFileSync(f.from));
  writeFileSync(join(target, "package.json"), JSON.stringify(appPackage(target, packageRoot), null, 2) + "\n");
  return [...files.map((f) => f.name), "package.json"];
}

/** The app's package.json: the one there with what it lacks added, or a new one. */
function appPackage(target: string, packageRoot: string): Record<string, any> {
  const file = join(target, "package.json");
  let pkg: Record<string, any> = { name: basename(target).toLowerCase().replace(/[^a-z0-9._-]/g, "-"), version: "0.1.0", private: true };
  if (existsSync(file)) {
    try {
      pkg = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new EventideError("EVENTIDE_E_BAD_FILE", `${file} is not valid JSON: ${(err as Error).message}`, "fix it, or remove it and init again");
    }
  }
  pkg.scripts = { ...SCRIPTS, ...pkg.scripts };
  const installed = { ...pkg.dependencies, ...pkg.devDependencies };
  if (!("eventide" in installed)) {
    pkg.dependencies = { ...pkg.dependencies, eventide: `file:${relative(realpathSync(target), realpathSync(packageRoot)) || "."}` };
  }
  return pkg;
}
