// The capability model (SECURITY.md), under both engines: an app gets the listeners named by --listen, the
// directories named by --dir and the variables named by --env — and nothing else: none of eventide's own
// environment, no other fd. tests/apps/capability-probe prints every variable name and every open fd it can
// find; what reaches the filesystem beneath a granted directory is tests/sandbox/fs-escape.test.mjs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENGINES, ROOT, cliEngine, freePort, isComponent } from "../helpers/engines.mjs";

const APP = join(ROOT, "dist/tests/apps/capability-probe.wasm");
// WASI preview1 filetypes.
const DIRECTORY = 3;
const SOCKET_STREAM = 6;
/**
 * What the host itself adds, for the runtime: the listeners' addresses, the control channel, the drain's grace
 * period, and wasmtime's own LISTEN_FDS (`-S listenfd`). Nothing in them is the host's to keep secret.
 */
const RUNTIME_VARIABLES = /^(EVENTIDE_(LISTEN|CONTROL|CONTROL_TOKEN|GRACE)|LISTEN_FDS)$/;
/**
 * The single-process wasmtime 36–46 engine's control listener (the Node engine's guest has it only as a worker;
 * a WASI 0.2 component connects to it, and its sockets are no preview1 fds).
 */
const controlFds = (engine) => (engine === "wasmtime" ? [`filetype ${SOCKET_STREAM}`] : []);
/** A component binds its listeners itself once it listens, which this app never does: none is granted to it here. */
const listens = (engine) => !isComponent(engine);
const granted = (lines, kind) => lines.filter((l) => l.startsWith(kind + " ")).map((l) => l.slice(kind.length + 1));

function probe(engine, flags) {
  return new Promise((resolve, reject) => {
    const { name, env } = cliEngine(engine);
    execFile(process.execPath, [join(ROOT, "dist/host/cli.js"), "run", APP, "--engine", name, ...flags], {
      timeout: 60_000, env: { ...env, HOST_SECRET: "must not leak" },
    }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim().split("\n"))));
  });
}

for (const engine of ENGINES) {
  describe(`what an app is granted (${engine})`, () => {
    it("with no grants: no variable of the host's, no fd beyond stdio (and the runtime's control channel)", async () => {
      const lines = await probe(engine, []);
      assert.deepEqual(granted(lines, "fd").map((l) => l.replace(/^\d+ /, "")), controlFds(engine));
      assert.deepEqual(granted(lines, "env").filter((n) => !RUNTIME_VARIABLES.test(n)), []);
    });

    it("exactly what --listen, --dir and --env name", async () => {
      const dir = mkdtempSync(join(tmpdir(), "eventide-grants-"));
      try {
        const port = await freePort();
        const listen = listens(engine) ? ["--listen", `127.0.0.1:${port}`] : [];
        const lines = await probe(engine, [...listen, "--dir", `${dir}:/data`, "--env", "GRANTED=1"]);
        assert.deepEqual(granted(lines, "env").filter((n) => !RUNTIME_VARIABLES.test(n)), ["GRANTED"]);
        const fds = granted(lines, "fd").map((l) => l.replace(/^\d+ /, ""));
        const socket = listens(engine) ? [`filetype ${SOCKET_STREAM}`] : [];
        assert.deepEqual(fds.sort(), [...socket, ...controlFds(engine), `filetype ${DIRECTORY} preopen /data`].sort());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
