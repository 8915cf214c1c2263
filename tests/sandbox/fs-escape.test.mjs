// The filesystem sandbox (issue 9): an app granted one directory must reach nothing outside it, under either
// engine, whatever links the directory holds or the app makes — and the ordinary things must still work inside.
// tests/apps/fs-escape.ts tries every case and prints "<case> ok|<errno>". wasmtime (cap-std) is the reference:
// EXPECTED holds its answers (wasmtime 36.0.20), so a Node-only run is held to them too.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, readdirSync, lstatSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENGINES, ROOT, isWasmtime, wasmtime, wasmtimeArgs } from "../helpers/engines.mjs";

const APP = join(ROOT, "dist/tests/apps/fs-escape.wasm");
const GUEST_DIR = "/sandbox";
const RUN_TIMEOUT_MS = 60_000;

// 63 EPERM (cap-std's "a path led outside of the filesystem"), 32 ELOOP, 44 ENOENT, 54 ENOTDIR, 20 EEXIST,
// 28 EINVAL, 31 EISDIR, 10 EBUSY.
const EXPECTED_MAKE = "make-up ok, make-abs 63, make-in ok, make-sub-up ok";
const EXPECTED = `
  read ok, read-nested ok, read-dot ok, read-dotdot-inside ok, read-in-link ok, read-in-link-dotdot ok,
  read-in-link-middle ok, read-guest-made-in-link ok, stat ok, stat-in-link ok, stat-link-itself ok,
  stat-escaping-link-itself ok, readlink ok, readlink-escaping-link ok, mkdir ok, create ok, readdir ok,
  readdir-root ok, rename ok, read-renamed ok, symlink ok, read-via-new-link ok, hardlink ok, read-hardlink ok,
  set-times ok, unlink ok, unlink-link ok, rmdir ok, create-excl-existing 20, create-via-dangling-in-link ok,
  read-missing 44, read-missing-dir-dotdot 44, read-file-as-dir 54, read-empty-path 44, loop 32, loop-middle 32,
  open-link-nofollow 32, subdir-read ok, subdir-dotdot 63, subdir-link-up 63, subdir-dotdot-out 63,
  dir-via-escaping-link 63,
  dotdot 63, dotdot-deep 63, dotdot-alone 63, absolute 63, absolute-guest-name 63, link-middle 63,
  link-middle-follow 63, link-middle-deep 63, link-middle-absolute 63, link-middle-absolute-inside 63,
  link-end-follow 63, link-end-nofollow 32, link-end-absolute 63, link-end-absolute-nofollow 32, link-chain 63,
  link-trailing-slash 63, guest-made-link 63, guest-made-link-deep 63, guest-made-absolute-link 44,
  stat-dotdot 63, stat-link-middle 63, stat-link-end 63, set-times-link-middle 63, set-times-link-end 63,
  readlink-outside 63, create-dotdot 63, create-link-middle 63, write-link-end 63, write-link-end-nofollow 32,
  create-via-dangling-link 63, create-via-dangling-link-nofollow 32, mkdir-dotdot 63, mkdir-link-middle 63,
  rename-out 63, rename-out-dotdot 63, rename-in-from-outside 63, rename-link-itself ok, hardlink-from-outside 63,
  hardlink-from-outside-follow 28, hardlink-into-outside 63, symlink-into-outside 63, unlink-outside 63,
  unlink-dotdot 63, rmdir-outside 63,
  rmdir-dot 28, rmdir-sub-dot 28, rmdir-sub-dotdot 28, rmdir-sub-slash 28, unlink-dot 31, unlink-sub-dotdot 31,
  unlink-file-slash 54, mkdir-dot 20, mkdir-sub-dotdot 20, mkdir-slash ok, rename-dot 10, rename-to-dot 10,
  rename-to-sub-dotdot 10, symlink-at-dot 20, symlink-at-sub-dotdot 20, symlink-slash 44, hardlink-to-dot 20,
  hardlink-from-dot 63, hardlink-follow-in-root 28, readlink-dot 28, readlink-sub-dotdot 28, readlink-slash 54,
  stat-dot ok, stat-link-slash ok, set-times-dot ok`;

/** "a ok, b 63" → Map { a → "ok", b → "63" } (also parses the app's output, one case a line). */
function outcomes(text) {
  return new Map(text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean).map((s) => s.split(" ")));
}

/**
 * A fresh tree: `outside/` (what must stay untouched) and `root/` (granted), holding links of every kind the
 * cases go through: relative and absolute, escaping and not, chained, looping, dangling.
 */
function layout(base) {
  const outside = join(base, "outside");
  const root = join(base, "root");
  mkdirSync(join(outside, "victimdir"), { recursive: true });
  mkdirSync(join(root, "sub"), { recursive: true });
  writeFileSync(join(outside, "secret.txt"), "secret\n");
  writeFileSync(join(outside, "victim.txt"), "victim\n");
  symlinkSync("secret.txt", join(outside, "outside-link"));
  writeFileSync(join(root, "inside.txt"), "inside\n");
  writeFileSync(join(root, "sub", "deep.txt"), "deep\n");
  const links = {
    "sub/back": "../inside.txt", "sub/up2": "../..", "sub-link": "sub", up: "..", abs: outside, "abs-in": join(root, "sub"),
    "secret-link": "../outside/secret.txt", "abs-secret-link": join(outside, "secret.txt"), "chain-link": "in-chain",
    "in-chain": "secret-link", "in-link": "inside.txt", loop1: "loop2", loop2: "loop1",
    "dangle-out": "../outside/created-dangle.txt", "dangle-in": "created-in.txt",
  };
  for (const [path, target] of Object.entries(links)) symlinkSync(target, join(root, path));
  return { outside, root };
}

/** Every entry under `dir` with what it holds (a file's text, a link's target), for before/after comparisons. */
function snapshot(dir, prefix = "") {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) out.push(`${prefix}${name} -> ${readlinkSync(path)}`);
    else if (stats.isDirectory()) out.push(`${prefix}${name}/`, ...snapshot(path, `${prefix}${name}/`));
    else out.push(`${prefix}${name}: ${readFileSync(path, "utf8").trim()}`);
  }
  return out;
}

/** Runs the app under `engine` with `root` granted as /sandbox; resolves with its outcomes by case. */
function runApp(engine, root, phase) {
  const [file, args] = isWasmtime(engine)
    // Writable: the wasmtime CLI grants every preopen all rights; eventide-wasmtime's --dir is read-only.
    ? [wasmtime(engine), [...wasmtimeArgs(engine, APP, { flags: [engine === "wasmtime-host" ? "--dir-rw" : "--dir", `${root}::${GUEST_DIR}`] }), phase]]
    : [process.execPath, [join(ROOT, "dist/host/cli.js"), "run", APP, "--engine", "node", "--dir", `${root}:${GUEST_DIR}:rw`, "--", phase]];
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: RUN_TIMEOUT_MS, env: { ...process.env, RUST_BACKTRACE: "0" } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${engine} ${phase} failed: ${err.message}\n${stderr}`));
      else resolve(outcomes(stdout));
    });
  });
}

describe("filesystem sandbox", () => {
  const base = mkdtempSync(join(tmpdir(), "eventide-fs-escape-"));
  const results = {};
  after(() => rmSync(base, { recursive: true, force: true }));

  for (const engine of ENGINES) {
    describe(`under ${engine}`, () => {
      let tree;
      let outsideBefore;
      // The links the app makes come from a run under the other engine, when both are here.
      const maker = ENGINES.find((e) => e !== engine) ?? engine;
      before(async () => {
        tree = layout(join(base, engine));
        outsideBefore = snapshot(tree.outside);
        results[engine] = { make: await runApp(maker, tree.root, "make") };
        results[engine].probe = await runApp(engine, tree.root, "probe");
        // Absolute link targets name each engine's own tree.
        results[engine].rootAfter = snapshot(tree.root).map((entry) => entry.replaceAll(join(base, engine), "TREE"));
      });

      it(`makes links (under ${maker}) as wasmtime does: relative ones whatever they point at, no absolute one`, () => {
        assert.deepEqual(results[engine].make, outcomes(EXPECTED_MAKE));
      });

      it("answers every case as wasmtime does: escapes refused, in-root work done", () => {
        const expected = outcomes(EXPECTED);
        const got = results[engine].probe;
        const wrong = [...expected].filter(([name, want]) => got.get(name) !== want).map(([name, want]) => `${name}: ${got.get(name)} (want ${want})`);
        assert.deepEqual(wrong, []);
        assert.deepEqual([...got.keys()], [...expected.keys()], "the app printed other cases than EXPECTED lists");
      });

      it("left everything outside the granted directory as it was", () => {
        assert.deepEqual(snapshot(tree.outside), outsideBefore);
      });
    });
  }

  if (ENGINES.length > 1) {
    it("leaves the granted directory the same under every engine", () => {
      for (const engine of ENGINES) assert.deepEqual(results[engine].rootAfter, results[ENGINES[0]].rootAfter, engine);
    });
  }
});
