// The `eventide` command: run an app under either engine, or build one from AssemblyScript.
import { spawn } from "node:child_process";
import { existsSync, watch as watchFiles } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs as parseArgsUtil } from "node:util";
import { run, inheritedListeners, EventideCluster, type ClusterWorker, type EngineName } from "./index.js";
import { workerCount } from "./cluster/start.js";
import { componentPath } from "./engines/wasmtime.js";
import { EventideError } from "./errors.js";
import { nodeHabitHints } from "./build-hints.js";
import { initApp } from "./init.js";

const HELP: Record<string, string> = {
  main: `eventide — evented I/O for WebAssembly

Usage:
  eventide run <app.wasm> [options] [-- app args]   run an app (default engine: node)
  eventide build <app.ts> -o <app.wasm> [options]  compile an AssemblyScript app with the runtime
  eventide init <dir>                               create a runnable app (app.ts, package.json, tsconfig.json)
  eventide help [run|build|init]                    this text, or a command's

Run 'eventide run --help' for the run options.`,
  run: `eventide run <app.wasm> [options] [-- app args]

Runs an Eventide app until its event loop has nothing left to do; exits with the app's exit code
(1 for a trap or a failure to start, 2 for a bad command line, 124 after a forced stop).

Options:
  --listen ADDR        grant a listening socket: HOST:PORT, [IPv6]:PORT or PORT (127.0.0.1); repeatable.
                       The app's listen(port) takes the matching one, or the only one granted.
                       Sockets passed by socket activation (LISTEN_FDS, LISTEN_PID: systemd) are
                       granted too, before these (docs/deploy.md).
  --engine NAME        node (default: runs inside this Node process) or wasmtime (spawns wasmtime: 36–46
                       run app.wasm, 47 and newer app.component.wasm with -S inherit-network; docs/cli.md)
  --env K=V            set an environment variable for the app; repeatable
  --dir HOST:GUEST     grant a directory, read-only; HOST:GUEST:rw lets the app write there too;
                       repeatable (read-only under wasmtime needs Linux user namespaces: SECURITY.md)
  --memory-limit N     largest linear memory, in bytes (suffixes k, m, g)
  --max-connections N  per server: connections beyond N are closed on arrival (logged once per burst)
  --max-header-size N  largest request head, in bytes (suffixes k, m; default 16k); larger: 431
  --headers-timeout MS time to receive a request's head (default 60000); then 408
  --request-timeout MS time to receive a whole request, body included (default 300000); then 408
  --grace MS           on SIGINT/SIGTERM, time to finish in-flight work before closing (default 5000);
                       if work is left then, the stop is forced: exit 124
  --workers N|auto     run N worker processes sharing the listeners (auto: one per core), restarted when
                       they crash; SIGHUP replaces them one at a time; a second SIGINT/SIGTERM kills them
  --watchdog MS        with --workers: kill and restart a worker whose loop has not turned for MS
                       (default 5000; 0: off)
  -h, --help           this text

Example:
  eventide run dist/examples/hello-http.wasm --listen 127.0.0.1:1337`,
  build: `eventide build <app.ts> -o <app.wasm> [options]

Compiles an AssemblyScript app together with the Eventide runtime into a WASI preview1 module (app.wasm:
Node, wasmtime 36–46) and a WASI 0.2 component beside it (app.component.wasm: wasmtime 47 and newer).
Apps import the runtime as "eventide/net", "eventide/http", "eventide/timers", "eventide/events",
"eventide/buffer" or "eventide"; other AssemblyScript packages come from the app's node_modules.

Options:
  -o, --out FILE     the .wasm to write (default: the app's name with .wasm)
  --transform NAME   an asc transform, e.g. json-as (a package, or a path); repeatable. The app's
                     asconfig.json (options.transform) and package.json (eventide.transform) add theirs
  --watch            build again whenever a .ts file under the app's folder changes
  --debug            unoptimised, with names and assertions
  -h, --help         this text`,
  init: `eventide init <dir>

Creates a runnable app in <dir> (created if missing): app.ts (an HTTP server), tsconfig.json (so an editor
and tsc --noEmit see eventide/* and AssemblyScript's types), .gitignore, and package.json with the scripts
build, watch and start. An existing package.json keeps what it has. Writes nothing if app.ts, tsconfig.json
or .gitignore is there already.

Example:
  eventide init my-app && cd my-app && npm install && npm run build && npm start`,
};

class UsageError extends EventideError {
  constructor(message: string, fix: string) {
    super("EVENTIDE_E_BAD_FLAG", message, fix);
  }
}

function parseSize(flag: string, text: string, example: string): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(text);
  if (!m) throw new UsageError(`${flag} ${text} is not a size`, `use bytes, or a number with k, m or g: ${flag} ${example}`);
  return Number(m[1]) * { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
}

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
  rest: string[];
}

/**
 * Parses `--name value`, `--name=value`, `-o value` and boolean flags (Node's util.parseArgs); anything after
 * `--` goes to the app. `valued` and `boolean` hold the flags as written ("--listen", "-o").
 */
function parseArgs(argv: string[], valued: Set<string>, boolean: Set<string>, command: string): Parsed {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const flag of [...valued, ...boolean]) {
    const name = flag.replace(/^--?/, "");
    options[name] = { type: valued.has(flag) ? "string" : "boolean", ...(flag.startsWith("--") ? {} : { short: name }) };
  }
  const { tokens } = parseArgsUtil({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const parsed: Parsed = { positional: [], flags: new Map(), rest: [] };
  for (const token of tokens) {
    if (token.kind === "option-terminator") {
      parsed.rest = argv.slice(token.index + 1);
      break;
    }
    if (token.kind === "positional") {
      parsed.positional.push(token.value);
      continue;
    }
    const name = token.rawName;
    if (boolean.has(name)) {
      if (token.inlineValue) throw new UsageError(`${name} takes no value`, `write ${name} alone`);
      parsed.flags.set(name, ["true"]);
    } else if (valued.has(name)) {
      if (token.value === undefined) throw new UsageError(`${name} needs a value`, `see 'eventide ${command} --help'`);
      parsed.flags.set(name, [...(parsed.flags.get(name) ?? []), token.value]);
    } else {
      throw new UsageError(`unknown option ${name} for 'eventide ${command}'`, `see 'eventide ${command} --help' for the options`);
    }
  }
  return parsed;
}

async function runCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, new Set(["--listen", "--engine", "--env", "--dir", "--memory-limit", "--grace", "--workers", "--watchdog",
    "--max-connections", "--max-header-size", "--headers-timeout", "--request-timeout"]), new Set(["-h", "--help"]), "run");
  if (p.flags.has("-h") || p.flags.has("--help")) {
    console.log(HELP.run);
    return 0;
  }
  if (p.positional.length !== 1) {
    throw new UsageError(p.positional.length ? "one app at a time" : "which app?", "eventide run <app.wasm> --listen 127.0.0.1:1337");
  }
  const env: Record<string, string> = {};
  for (const kv of p.flags.get("--env") ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env ${kv} is not K=V`, "use --env NAME=value");
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const engine = (p.flags.get("--engine")?.at(-1) ?? "node") as EngineName;
  const grace = Number(p.flags.get("--grace")?.at(-1) ?? 5000);
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError("--grace takes milliseconds", "e.g. --grace 5000");
  const last = (flag: string) => p.flags.get(flag)?.at(-1);
  const limit = last("--memory-limit");
  const headerSize = last("--max-header-size");
  const workers = p.flags.get("--workers")?.at(-1);
  const watchdog = p.flags.get("--watchdog")?.at(-1);
  if (watchdog !== undefined && workers === undefined) throw new UsageError("--watchdog needs --workers", "add --workers N (or auto)");
  // A stop asked for while the app starts (systemd or Kubernetes stopping a unit that is still starting) would
  // otherwise take Node's default action and end this process without a drain: it is kept and applied at once.
  let early: NodeJS.Signals | undefined;
  const remember = (signal: NodeJS.Signals) => { early ??= signal; };
  process.on("SIGINT", remember);
  process.on("SIGTERM", remember);
  const app = await run(p.positional[0], {
    engine, env, listen: [...inheritedListeners(), ...p.flags.get("--listen") ?? []], dirs: p.flags.get("--dir") ?? [], args: p.rest,
    memoryLimit: limit === undefined ? undefined : parseSize("--memory-limit", limit, "64m"),
    maxConnections: wholeNumber("--max-connections", last("--max-connections"), "connections", 1000),
    maxHeaderSize: headerSize === undefined ? undefined : parseSize("--max-header-size", headerSize, "16k"),
    headersTimeout: wholeNumber("--headers-timeout", last("--headers-timeout"), "milliseconds", 60000),
    requestTimeout: wholeNumber("--request-timeout", last("--request-timeout"), "milliseconds", 300000),
    grace,
    workers: workers === undefined ? undefined : workerCount(workers),
    watchdog: watchdog === undefined ? undefined : parseWatchdog(watchdog),
  }).finally(() => {
    process.off("SIGINT", remember);
    process.off("SIGTERM", remember);
  });
  if (app instanceof EventideCluster) return superviseCluster(app, grace, early !== undefined);
  const stop = () => void app.stop(grace);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  if (early !== undefined) stop();
  const code = await app.exited;
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  if (app.stopped === "forced") console.error(`eventide: the app had work in flight after --grace ${grace} ms and was ended; exit ${code}`);
  return code;
}

/** A flag's whole-number value (undefined when the flag is absent); `example` goes into the fix. */
function wholeNumber(flag: string, text: string | undefined, unit: string, example: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 2 ** 31 - 1) throw new UsageError(`${flag} ${text} is not a number of ${unit}`, `e.g. ${flag} ${example}`);
  return Number(text);
}

function parseWatchdog(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--watchdog ${text} is not a time`, "use --watchdog MS, e.g. --watchdog 5000 (0: off)");
  return Number(text);
}

/**
 * The primary of `--workers`: SIGINT/SIGTERM drain every worker (a second one kills them at once), SIGHUP
 * replaces them one at a time; each message a worker sends is relayed to every other worker. `stopAtOnce`: a
 * signal came while the workers started.
 */
async function superviseCluster(app: EventideCluster, grace: number, stopAtOnce: boolean): Promise<number> {
  let signals = 0;
  const stop = () => (signals++ === 0 ? void app.stop(grace) : app.kill());
  const restart = () => void app.restart(grace);
  const relay = (from: ClusterWorker, data: string | Buffer) => {
    for (const worker of app.workers) if (worker !== from) worker.send(data);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", restart);
  app.on("message", relay);
  if (stopAtOnce) stop();
  const code = await app.exited;
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  process.off("SIGHUP", restart);
  if (app.stopped === "forced") {
    console.error(signals > 1 ? `eventide: workers killed by a second signal before they had drained; exit ${code}`
      : `eventide: workers still had work in flight after --grace ${grace} ms and were killed; exit ${code}`);
  }
  return code;
}

/** This package's root: where scripts/build.mjs, templates/ and docs/ are. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function buildCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, new Set(["-o", "--out", "--transform"]), new Set(["--debug", "--watch", "-h", "--help"]), "build");
  if (p.flags.has("-h") || p.flags.has("--help")) {
    console.log(HELP.build);
    return 0;
  }
  if (p.positional.length !== 1) throw new UsageError("which app?", "eventide build app.ts -o app.wasm");
  const entry = resolve(p.positional[0]);
  if (!existsSync(entry)) {
    throw new EventideError("EVENTIDE_E_NOT_FOUND", `cannot read ${p.positional[0]}`, "check the path of the app's .ts file");
  }
  if (p.flags.has("--watch")) return watch(entry, argv.filter((a) => a !== "--watch"));
  const out = resolve(p.flags.get("-o")?.at(-1) ?? p.flags.get("--out")?.at(-1) ?? entry.replace(/\.ts$/, "") + ".wasm");
  // The compiler driver is shared with the project's own build (scripts/build.mjs).
  const { buildApp } = await import(pathToFileURL(join(PACKAGE_ROOT, "scripts", "build.mjs")).href);
  let diagnostics = "";
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, done) {
      diagnostics += chunk;
      process.stderr.write(chunk, done);
    },
  });
  try {
    await buildApp(entry, out, { debug: p.flags.has("--debug"), transforms: p.flags.get("--transform") ?? [], stderr });
  } catch (err) {
    for (const hint of nodeHabitHints(diagnostics)) console.error(`eventide: hint: ${hint}`);
    throw new EventideError("EVENTIDE_E_BUILD", (err as Error).message, "fix the errors the compiler reported above");
  }
  console.error(`eventide: built ${out} and ${componentPath(out)}`);
  return 0;
}

/**
 * `eventide build --watch`: builds, then builds again whenever a .ts file (or the app's asconfig.json or
 * package.json) under the app's folder changes, until interrupted. Each build is a process of its own: the
 * compiler and its transforms keep state between compilations in one process.
 */
function watch(entry: string, buildArgs: string[]): Promise<number> {
  const dir = dirname(entry);
  let building = false;
  let again = false;
  const build = () => {
    if (building) {
      again = true;
      return;
    }
    building = true;
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "build", ...buildArgs], { stdio: "inherit" });
    child.on("exit", () => {
      building = false;
      if (again) {
        again = false;
        build();
      } else {
        console.error(`eventide: watching ${dir} for changes (Ctrl-C to stop)`);
      }
    });
  };
  let pending: NodeJS.Timeout | undefined;
  watchFiles(dir, { recursive: true }, (_event, name) => {
    if (!name || name.split(sep).includes("node_modules") || !/\.ts$|(^|\/)(asconfig|package)\.json$/.test(name)) return;
    clearTimeout(pending);
    pending = setTimeout(build, 50); // an editor's save is often several events
  });
  build();
  return new Promise(() => {}); // until a signal ends the process
}

async function initCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, new Set(), new Set(["-h", "--help"]), "init");
  if (p.flags.has("-h") || p.flags.has("--help")) {
    console.log(HELP.init);
    return 0;
  }
  if (p.positional.length !== 1) throw new UsageError("init where?", "eventide init my-app (or . for this folder)");
  const written = initApp(p.positional[0], PACKAGE_ROOT);
  console.log(`eventide: wrote ${written.join(", ")} in ${resolve(p.positional[0])}`);
  console.log(`next: npm install, then npm run build, then npm start (see app.ts)`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await runCommand(rest);
      case "build":
        return await buildCommand(rest);
      case "init":
        return await initCommand(rest);
      case undefined:
      case "-h":
      case "--help":
        console.log(HELP.main);
        return command === undefined ? 2 : 0;
      case "help":
        console.log(HELP[rest[0] ?? "main"] ?? HELP.main);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'`, "use 'eventide run', 'eventide build' or 'eventide init' (see 'eventide --help')");
    }
  } catch (err) {
    if (err instanceof EventideError) {
      console.error(`eventide: ${err.message}`);
      return err.code === "EVENTIDE_E_BAD_FLAG" ? 2 : 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
