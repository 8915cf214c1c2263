// eventide/fs (issue 13, item 2) under both engines: tests/apps/fs-probe.ts calls readFile, stat, lstat,
// readdir, existsSync, statSync and createReadStream on a tree granted as /data (beside a second grant and a
// file outside both), and prints a line per result; each must be what Node's fs says of the same tree.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, statSync, lstatSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ENGINES, ROOT, startApp, within } from "../helpers/engines.mjs";

const APP = join(ROOT, "dist/tests/apps/fs-probe.wasm");
const RUN_TIMEOUT_MS = 60_000;
const MANY = 3000;
const manyName = (i) => `entry-${String(i).padStart(5, "0")}-${"x".repeat(48)}`;

/** FNV-1a (32-bit), as tests/apps/fs-probe.ts computes it. */
function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16);
}

/** Runs fs-probe through `eventide run` with `args`, granting `dirs` ([host, guest] pairs); resolves with its stdout lines. */
async function probe(engine, dirs, args) {
  const app = await startApp(APP, { engine, listen: false, cli: true, args, cliFlags: dirs.flatMap(([h, g]) => ["--dir", `${h}:${g}`]) });
  const { code } = await within(app.exited, RUN_TIMEOUT_MS, `fs-probe ${args.join(" ")} under ${engine}`);
  assert.equal(code, 0, app.stderr);
  return app.stdout.trim().split("\n");
}

describe("eventide/fs", () => {
  const base = mkdtempSync(join(tmpdir(), "eventide-fs-"));
  const data = join(base, "data");
  const nested = join(base, "data-sub-grant");
  let bigSize;
  let bigHash;
  before(() => {
    mkdirSync(join(data, "sub"), { recursive: true });
    mkdirSync(nested);
    writeFileSync(join(data, "a.txt"), "hello\n");
    writeFileSync(join(data, "sub", "b.txt"), "bee\n");
    writeFileSync(join(data, "empty.txt"), "");
    writeFileSync(join(base, "outside.txt"), "secret\n");
    writeFileSync(join(nested, "b.txt"), "nested grant\n");
    symlinkSync("../outside.txt", join(data, "leak"));
    symlinkSync("a.txt", join(data, "in-link"));
    const big = randomBytes(1_000_000);
    big.write("0123456789abcdef", 0);
    big.write("tail starts here", big.length - 70000);
    writeFileSync(join(data, "big.bin"), big);
    bigSize = big.length;
    bigHash = fnv1a(big);
    // Names of 60 bytes: 3000 of them take some 250 KiB of dirents, so fd_readdir is called several times.
    mkdirSync(join(data, "many"));
    for (let i = 0; i < MANY; i++) writeFileSync(join(data, "many", manyName(i)), "");
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  /** What the probe must print for the "read" cases, from Node's own view of the tree. */
  function expectedReads() {
    const ms = (path, link) => Math.trunc((link ? lstatSync : statSync)(join(data, path)).mtimeMs);
    return [
      "exists /data/a.txt true", "exists /data/missing false", "exists /elsewhere false", "statSync /data/sub true",
      "readFile /data/a.txt 6 [hello\\n]", "readFile data/sub/b.txt 4 [bee\\n]", "readFile /data/sub/../a.txt 6 [hello\\n]",
      "readFile /data/empty.txt 0 []",
      "readFile /data/missing.txt error ENOENT 44 open /data/missing.txt",
      "readFile /data/sub error EISDIR 31 read /data/sub",
      "readFile /data/a.txt/x error ENOTDIR 54 open /data/a.txt/x",
      "readFile /data/a.txt/ error ENOTDIR 54 open /data/a.txt/",
      // Out of the granted directory, by `..` or a link: the host's sandbox refuses (EPERM, as wasmtime says).
      "readFile /data/../outside.txt error EPERM 63 open /data/../outside.txt",
      "readFile /data/leak error EPERM 63 open /data/leak",
      "readFile /elsewhere/a.txt error ENOTCAPABLE 76 open /elsewhere/a.txt",
      // The longest granted prefix wins: /data/sub is a grant of its own, holding another b.txt.
      "readFile /data/sub/grant/b.txt 13 [nested grant\\n]",
      `stat /data/a.txt file=true dir=false link=false size=6 mtimeMs=${ms("a.txt")}`,
      `stat /data/in-link file=true dir=false link=false size=6 mtimeMs=${ms("a.txt")}`,
      `lstat /data/in-link file=false dir=false link=true size=5 mtimeMs=${ms("in-link", true)}`,
      "stat /data/missing error ENOENT 44 stat /data/missing",
      "readdir /data 7 a.txt,big.bin,empty.txt,in-link,leak,many,sub",
      `readFile /data/big.bin ${bigSize} fnv1a=${bigHash}`,
      `readdir /data/many ${MANY} distinct=${MANY} fnv1a=${fnv1a(Buffer.from(Array.from({ length: MANY }, (_, i) => manyName(i)).join("/")))}`,
      "readdir /data/sub 1 b.txt",
      "readdir /data/a.txt error ENOTDIR 54 scandir /data/a.txt",
      "readdir /data/missing error ENOENT 44 scandir /data/missing",
      "script done",
    ];
  }

  const grants = () => [[data, "/data"], [nested, "/data/sub/grant"]];

  for (const engine of ENGINES) {
    describe(`under ${engine}`, () => {
      it("reads, stats and lists as Node's fs does, with Node's error codes and WASI's errno", async () => {
        const lines = await probe(engine, grants(), ["read"]);
        assert.deepEqual([...lines].sort(), expectedReads().sort());
        // Callbacks come after the script, never during the call: only the four sync calls print before it ends.
        assert.equal(lines.indexOf("script done"), 4);
      });

      it("streams a file in chunks of at most 64 KiB, and a byte range of it", async () => {
        assert.deepEqual(await probe(engine, grants(), ["stream", "/data/big.bin"]),
          ["open", "first 0123456789abcdef", `end chunks=${Math.ceil(bigSize / 65536)} bytes=${bigSize} largest=65536`, "close"]);
        assert.deepEqual(await probe(engine, grants(), ["stream", "/data/big.bin", "2", "11"]),
          ["open", "first 23456789ab", "end chunks=1 bytes=10 largest=10", "close"]);
        assert.deepEqual(await probe(engine, grants(), ["stream", "/data/big.bin", String(bigSize - 70000)]),
          ["open", "first tail starts here", "end chunks=2 bytes=70000 largest=65536", "close"]);
      });

      it("reports a stream that can't open as 'error' then 'close', and a bad range as ERR_OUT_OF_RANGE", async () => {
        assert.deepEqual(await probe(engine, grants(), ["stream", "/data/missing"]),
          ["stream error ENOENT 44 open /data/missing", "close"]);
        assert.deepEqual(await probe(engine, grants(), ["stream", "/data/a.txt", "5", "2"]),
          ["stream error ERR_OUT_OF_RANGE 0 open /data/a.txt", "close"]);
      });
    });
  }
});
