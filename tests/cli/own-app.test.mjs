// The README's "Build and run your own app", done as a new user does it, from an empty folder: `npm pack` this
// checkout, `npm install` the tarball (and json-as, from the registry or npm's cache) into a temp app,
// `eventide init`, build, run under every engine, and ask it with a real client. Then what such an app needs
// next: tsc resolving eventide/* for an editor, AssemblyScript packages from the app's node_modules with their
// transform (json-as), and a malformed JSON body answered 400 by the app instead of ending it.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, ENGINES, cliEngine, freePort, spawnTracked, waitForPort, endApps, wasmtime, within } from "../helpers/engines.mjs";
import { get } from "../helpers/http.mjs";

const run = promisify(execFile);
const NPM_FLAGS = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];

/** Runs a command in `cwd` to completion; never throws on a non-zero exit. */
// As a user's shell would run them. Under `npm test`, PATH starts with node_modules/.bin, where as-pect's
// dependencies put an npm 6 that misreads --pack-destination; npm's own npm_* settings stay out too.
const userEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_")));
userEnv.PATH = (process.env.PATH ?? "").split(":").filter((dir) => !dir.includes("node_modules")).join(":");

async function sh(cwd, command, args, { timeout = 180_000 } = {}) {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, timeout, env: { ...userEnv, EVENTIDE_WASMTIME: wasmtime() } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** `eventide run` as installed in the app (node_modules/.bin), on a free loopback port; resolves once it listens. */
async function serve(app, wasm, engine) {
  const port = await freePort();
  const { name, env } = cliEngine(engine);
  const child = spawnTracked(join(app, "node_modules", ".bin", "eventide"), ["run", wasm, "--engine", name, "--listen", `127.0.0.1:${port}`],
    { cwd: app, stdio: ["ignore", "pipe", "pipe"], env });
  const served = { port, child, stderr: "", exited: new Promise((resolve) => child.on("close", (code) => resolve(code))) };
  child.stderr.on("data", (d) => (served.stderr += d));
  await Promise.race([waitForPort(port), served.exited.then((code) => { throw new Error(`exited ${code} before listening: ${served.stderr}`); })]);
  return served;
}

/** POSTs `body` to 127.0.0.1:port; resolves with { status, body }. */
function post(port, path, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers: { "Content-Type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, body: text }));
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`POST ${path}: no response in 10 s`)));
    req.end(body);
  });
}

// A json-as app: POST /todo with {"title": string, "done"?: bool} answers the todo as json-as writes it, and
// anything else a client may send (not JSON, JSON of another shape) 400 — checked before json-as sees it,
// since json-as aborts (ending the app) on what it cannot parse into the class.
const TODO_APP = `
import * as http from "eventide/http";
import { Buffer } from "eventide/buffer";
import { JSON } from "json-as";
import { validateJSON } from "json-as/assembly/util/validateJson";

@json
class Todo {
  title: string = "";
  done: bool = false;
}

function parseTodo(text: string): Todo | null {
  if (!validateJSON(text)) return null;
  const value = JSON.parse<JSON.Value>(text);
  if (value.type != JSON.Types.Object) return null;
  const title = value.get<JSON.Obj>().get("title");
  const done = value.get<JSON.Obj>().get("done");
  if (title == null || title.type != JSON.Types.String) return null;
  if (done != null && done.type != JSON.Types.Bool) return null;
  const todo = new Todo();
  todo.title = title.get<string>();
  todo.done = done != null && done.get<bool>();
  return todo;
}

const bodies = new Map<http.IncomingMessage, string>();

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  bodies.set(req, "");
  req.on("data", (chunk: Buffer, req: http.IncomingMessage) => { bodies.set(req, bodies.get(req) + chunk.toString()); });
  req.on("end", (req: http.IncomingMessage) => {
    const todo = parseTodo(bodies.get(req));
    bodies.delete(req);
    const res = req.res!;
    if (todo == null) {
      res.writeHead(400, ["Content-Type", "text/plain"]);
      res.end("not a todo\\n");
    } else {
      res.writeHead(200, ["Content-Type", "application/json"]);
      res.end(JSON.stringify<Todo>(todo));
    }
  });
}).listen(8080);
`;

describe("your own app, from an empty folder", () => {
  let dir;
  let app;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "eventide-own-app-"));
    // The suite's build made dist/host; --ignore-scripts skips prepack's rebuild of it.
    const packed = await sh(ROOT, "npm", ["pack", "--ignore-scripts", "--pack-destination", dir, "--loglevel=error"]);
    assert.equal(packed.code, 0, packed.stderr);
    const tarball = join(dir, packed.stdout.trim().split("\n").at(-1));
    app = join(dir, "my-app");
    mkdirSync(app);
    const installed = await sh(app, "npm", ["install", ...NPM_FLAGS, tarball, "json-as@1.6.0"]);
    assert.equal(installed.code, 0, installed.stderr);
  });
  after(() => {
    endApps();
    rmSync(dir, { recursive: true, force: true });
  });

  it("eventide init, npm run build, then the app serves under every engine", async () => {
    const init = await sh(app, "npx", ["eventide", "init", "."]);
    assert.equal(init.code, 0, init.stderr);
    for (const file of ["app.ts", "tsconfig.json", ".gitignore", "package.json"]) assert.ok(existsSync(join(app, file)), file);
    const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    assert.match(pkg.dependencies.eventide, /eventide-0\.1\.0\.tgz$/, "init kept the dependency npm install wrote");
    assert.equal(pkg.dependencies["json-as"], "^1.6.0");
    const built = await sh(app, "npm", ["run", "build", "--silent"]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, /eventide: built .*app\.wasm/);
    for (const engine of ENGINES) {
      const served = await serve(app, "app.wasm", engine);
      const reply = await get(served.port, "/hello?x=1");
      served.child.kill("SIGTERM");
      assert.equal(await within(served.exited, 10_000, `${engine}: the exit after SIGTERM`), 0, served.stderr);
      assert.deepEqual([reply.status, reply.body], [200, "Hello from Eventide: GET /hello?x=1\n"], engine);
    }
  });

  it("a second init writes nothing over the app", async () => {
    const before = readFileSync(join(app, "app.ts"), "utf8");
    writeFileSync(join(app, "app.ts"), before + "// mine\n");
    const again = await sh(app, "npx", ["eventide", "init", "."]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already has app\.ts, \.gitignore, tsconfig\.json; nothing was written/);
    assert.equal(readFileSync(join(app, "app.ts"), "utf8"), before + "// mine\n");
    writeFileSync(join(app, "app.ts"), before);
  });

  it("tsc --noEmit with init's tsconfig sees eventide/* and AssemblyScript's types: the app checks clean, a mistake is named", async () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const ownErrors = (out) => out.split("\n").filter((l) => /^[\w.-]+\.ts\(\d+,\d+\): error/.test(l)); // not node_modules/…
    const clean = await sh(app, process.execPath, [tsc, "--noEmit", "-p", "."]);
    assert.deepEqual(ownErrors(clean.stdout), []);
    writeFileSync(join(app, "typo.ts"), readFileSync(join(app, "app.ts"), "utf8").replace("req.method", "req.methd"));
    const typo = await sh(app, process.execPath, [tsc, "--noEmit", "-p", "."]);
    rmSync(join(app, "typo.ts"));
    assert.deepEqual(ownErrors(typo.stdout), ["typo.ts(7,41): error TS2551: Property 'methd' does not exist on type 'IncomingMessage'. Did you mean 'method'?"]);
  });

  it("a package from the app's node_modules with its transform: --transform, or named in package.json", async () => {
    writeFileSync(join(app, "todo.ts"), TODO_APP);
    const bare = await sh(app, "npx", ["eventide", "build", "todo.ts", "-o", "todo.wasm"]);
    assert.equal(bare.code, 1, "json-as built without its transform");
    const missing = await sh(app, "npx", ["eventide", "build", "todo.ts", "-o", "todo.wasm", "--transform", "json-ass"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /the transform json-ass is not installed .*: run 'npm install json-ass' in the app's folder/);
    const flagged = await sh(app, "npx", ["eventide", "build", "todo.ts", "-o", "todo.wasm", "--transform", "json-as"]);
    assert.equal(flagged.code, 0, flagged.stderr);
    const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    writeFileSync(join(app, "package.json"), JSON.stringify({ ...pkg, eventide: { transform: ["json-as"] } }));
    rmSync(join(app, "todo.wasm"));
    const configured = await sh(app, "npx", ["eventide", "build", "todo.ts", "-o", "todo.wasm"]);
    writeFileSync(join(app, "package.json"), JSON.stringify(pkg));
    assert.equal(configured.code, 0, configured.stderr);
  });

  for (const engine of ENGINES) {
    it(`json-as: a todo is answered, and a malformed or mis-shaped body is a 400 the app sends, not a trap (${engine})`, async () => {
      if (!existsSync(join(app, "todo.wasm"))) return assert.fail("todo.wasm was not built (the test before failed)");
      const served = await serve(app, "todo.wasm", engine);
      try {
        assert.deepEqual(await post(served.port, "/todo", '{"title":"milk","done":true}'), { status: 200, body: '{"title":"milk","done":true}' });
        for (const body of ["{bad", "", '{"title":5}', '{"title":"x","done":"no"}', "[1,2]", '"milk"', "null", '{"title":"x"', "[".repeat(10_000)]) {
          assert.deepEqual(await post(served.port, "/todo", body), { status: 400, body: "not a todo\n" }, body.slice(0, 20));
        }
        assert.deepEqual(await post(served.port, "/todo", '{"title":"eggs"}'), { status: 200, body: '{"title":"eggs","done":false}' });
        assert.equal(served.child.exitCode, null, served.stderr);
      } finally {
        served.child.kill("SIGKILL");
      }
    });
  }
});
