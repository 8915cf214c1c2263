// Read-only and writable directory grants (SECURITY.md), through `eventide run` on every engine: a grant is
// read-only unless marked `:rw`. tests/apps/dir-modes tries every WASI call that changes a directory's contents
// and prints "<case> ok|<errno>"; here each answer is checked, and so is the host directory afterwards: nothing
// in a read-only one created, removed, written or touched, everything in a writable one done.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, lstatSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENGINES, ROOT, cliEngine } from "../helpers/engines.mjs";

const APP = join(ROOT, "dist/tests/apps/dir-modes.wasm");
const RUN_TIMEOUT_MS = 60_000;

// 69 EROFS, 29 EIO, 20 EEXIST, 28 EINVAL, 76 ENOTCAPABLE, 8 EBADF.
const CASES = ["read", "create", "create-read-rights", "creat-existing", "excl-existing", "truncate", "open-write",
  "open-set-size", "fd-set-times", "sub-create", "dir-set-times", "mkdir", "mkdir-existing", "rmdir", "unlink",
  "set-times", "rename", "link", "symlink"];
/** The cases that fail whatever the grant: O_EXCL of a file that exists, mkdir of a directory that exists. */
const ALWAYS = { "excl-existing": "20", "mkdir-existing": "20" };
/**
 * What each engine answers in a read-only grant, beyond ALWAYS. The Node engine answers as Linux does in a
 * read-only mount (EROFS); wasmtime ≥ 47 meets the mount and reports EROFS as EIO (wasmtime-wasi has no mapping
 * for it); wasmtime 36 (wasi-common) traps on EROFS, so there each case runs alone (see readOnlyOutcome).
 */
const READ_ONLY = {
  node: { "creat-existing": "ok", "open-set-size": "76" },
  "wasmtime-current": { "open-set-size": "28", "dir-set-times": "8" },
  "wasmtime-host": { "open-set-size": "28", "dir-set-times": "8" },
};
const READ_ONLY_DEFAULT = { node: "69", "wasmtime-current": "29", "wasmtime-host": "29" };
/** What each engine answers in a writable grant where it differs from "ok" beyond ALWAYS (engine quirks). */
const WRITABLE = {
  node: {},
  wasmtime: { "open-set-size": "28" }, // wasmtime opens a file without FD_WRITE read-only, and ftruncate fails
  "wasmtime-current": { "open-set-size": "28", "dir-set-times": "8" },
  "wasmtime-host": { "open-set-size": "28", "dir-set-times": "8" },
};

/** A fresh tree for the app (the files and directories its cases change). */
function layout(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "sub"), { recursive: true });
  mkdirSync(join(dir, "emptydir"));
  for (const name of ["existing", "truncate-me", "write-me", "size-me", "victim", "rename-me"]) {
    writeFileSync(join(dir, `${name}.txt`), "existing\n");
  }
}

/** Every entry beneath `dir`: name, kind, and its text or link target; with `times`, its modification time too. */
function snapshot(dir, times = true, prefix = "") {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const s = lstatSync(path);
    const what = s.isSymbolicLink() ? `-> ${readlinkSync(path)}` : s.isDirectory() ? "dir" : JSON.stringify(readFileSync(path, "utf8"));
    out.push(`${prefix}${name} ${what}${times ? ` ${s.mtimeMs}` : ""}`);
    if (s.isDirectory() && !s.isSymbolicLink()) out.push(...snapshot(path, times, `${prefix}${name}/`));
  }
  return out;
}

/** Runs the app under `engine` with `dir` granted as /d (`mode`: "" or ":rw"); resolves with { code, stdout, stderr }. */
function runApp(engine, dir, mode, only = []) {
  const { name, env } = cliEngine(engine);
  const args = [join(ROOT, "dist/host/cli.js"), "run", APP, "--engine", name, "--dir", `${dir}:/d${mode}`, "--", ".", ...only];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: RUN_TIMEOUT_MS, env }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr });
    });
  });
}

const outcomes = (stdout) => Object.fromEntries(stdout.trim().split("\n").filter(Boolean).map((l) => l.split(" ")));
const expected = (fill, quirks) => Object.fromEntries(CASES.map((c) => [c, ALWAYS[c] ?? quirks[c] ?? fill]));

/**
 * wasmtime 36: each case alone. One that meets EROFS ends the app with wasi-common's "Read-only file system
 * (os error 30)" trap — refused, not done — and reads here as "trap".
 */
async function readOnlyOutcome(engine, dir, c) {
  const r = await runApp(engine, dir, "", [c]);
  if (r.code !== 0 && r.stderr.includes("Read-only file system (os error 30)")) return "trap";
  return outcomes(r.stdout)[c] ?? `exit ${r.code}: ${r.stderr}`;
}

for (const engine of ENGINES) {
  describe(`directory grants (${engine})`, () => {
    const base = mkdtempSync(join(tmpdir(), "eventide-dir-modes-"));
    const dir = join(base, "granted");

    it("read-only by default: every change refused with an error, nothing in the directory changed", async () => {
      layout(dir);
      const before = snapshot(dir);
      if (engine === "wasmtime") {
        const got = {};
        for (const c of CASES) got[c] = await readOnlyOutcome(engine, dir, c);
        // What wasmtime 36 does not refuse itself: reading, and what fails in any grant.
        const refusedOrOk = Object.fromEntries(CASES.map((c) => [c, c === "read" ? "ok" : got[c] === "ok" ? "done" : "refused"]));
        assert.deepEqual(refusedOrOk, Object.fromEntries(CASES.map((c) => [c, c === "read" ? "ok" : "refused"])), JSON.stringify(got));
        for (const [c, errno] of Object.entries(ALWAYS)) assert.equal(got[c], errno, c);
      } else {
        const r = await runApp(engine, dir, "");
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(outcomes(r.stdout), expected(READ_ONLY_DEFAULT[engine], { read: "ok", ...READ_ONLY[engine] }));
      }
      assert.deepEqual(snapshot(dir), before);
    });

    it("writable with :rw: every change made", async () => {
      layout(dir);
      const r = await runApp(engine, dir, ":rw");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(outcomes(r.stdout), expected("ok", WRITABLE[engine]));
      assert.deepEqual(snapshot(dir, false), [
        'created-r.txt ""', 'created.txt "written\\n"', 'existing.txt "existing\\n"',
        'hard.txt "existing\\n"', "new-link -> existing.txt", "newdir dir", 'renamed.txt "existing\\n"',
        // node:wasi opens a file with FD_FILESTAT_SET_SIZE for writing; wasmtime opens it read-only.
        `size-me.txt ${engine === "node" ? '""' : '"existing\\n"'}`, "sub dir", 'sub/created-in-sub.txt "written\\n"', 'truncate-me.txt ""',
        'write-me.txt "written\\n\\n"', // 8 bytes over the 9 of "existing\\n"
      ]);
    });

    it("a read-only grant inside a writable one stays read-only through the outer one, and the reverse", async () => {
      layout(join(dir, "inner"));
      const before = snapshot(join(dir, "inner"));
      const { name, env } = cliEngine(engine);
      const run = (flags, where) => new Promise((resolve) => execFile(process.execPath,
        [join(ROOT, "dist/host/cli.js"), "run", APP, "--engine", name, ...flags, "--", where, "mkdir"],
        { timeout: RUN_TIMEOUT_MS, env }, (err, stdout, stderr) => resolve({ err, stdout: stdout.trim(), stderr })));
      // The first grant is the app's root: the outer directory; the inner one is reached through it.
      const ro = await run(["--dir", `${dir}:/outer:rw`, "--dir", `${join(dir, "inner")}:/inner`], "inner");
      assert.notEqual(ro.stdout, "mkdir ok", ro.stderr);
      assert.deepEqual(snapshot(join(dir, "inner")), before);
      const rw = await run(["--dir", `${dir}:/outer`, "--dir", `${join(dir, "inner")}:/inner:rw`], "inner");
      assert.equal(rw.stdout, "mkdir ok", rw.stderr);
      rmSync(base, { recursive: true, force: true });
    });
  });
}

describe("--dir syntax", () => {
  it("refuses a mode other than ro or rw, naming the syntax", async () => {
    const r = await runApp("node", tmpdir(), ":rx");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--dir .*:\/d:rx is not HOST:GUEST\[:ro\|:rw\][\s\S]*fix: use --dir \.\/public:\/public \(read-only\) or --dir \.\/data:\/data:rw/);
  });

  it("refuses a host path that is not a directory", async () => {
    const r = await runApp("node", join(tmpdir(), "eventide-no-such-dir"), "");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--dir .*eventide-no-such-dir: no such directory/);
  });
});
