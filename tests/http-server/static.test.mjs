// serveStatic (issue 13, item 3) under both engines, with real clients (Node's http, curl, raw sockets):
// tests/apps/static-files.ts serves /site/public out of a tree granted as /site, so /site/secret.txt is granted
// but outside the root — a refusal that failed would serve it, or serve a file the refused path also names.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import http from "node:http";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, statSync, readFileSync, rmSync, openSync, closeSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENGINES, startApp, rssKiB } from "../helpers/engines.mjs";
import { raw } from "../helpers/raw.mjs";
import { servingPid, openFdCount } from "../helpers/serving.mjs";

const run = promisify(execFile);
const BIG_MIB = 64;

/** One request with Node's http client: { status, headers, body (Buffer) }. */
function request(port, path, { method = "GET", headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no response in 10 s`)));
    req.end();
  });
}

/** The request-target exactly as given, on a raw connection: { status, body } of the one response. */
async function rawGet(port, target) {
  const { text } = await raw(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  return { status: Number(text.slice(9, 12)), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

const linearMemory = async (port) => Number((await request(port, "/memory")).body.toString());


/** The tree: site/public (the root) with pages, links in and out, and a 64 MiB file; site/secret.txt beside it. */
function layout(base) {
  const site = join(base, "site");
  const pub = join(site, "public");
  mkdirSync(join(pub, "sub"), { recursive: true });
  mkdirSync(join(pub, "empty-dir"));
  writeFileSync(join(site, "secret.txt"), "secret\n");
  writeFileSync(join(pub, "index.html"), "<h1>home</h1>\n");
  writeFileSync(join(pub, "sub", "index.html"), "sub index\n");
  writeFileSync(join(pub, "style.css"), "body{}\n");
  writeFileSync(join(pub, "app.js"), "1;\n");
  writeFileSync(join(pub, "data.json"), "{}\n");
  writeFileSync(join(pub, "logo.PNG"), "png");
  writeFileSync(join(pub, "notes"), "no extension\n");
  writeFileSync(join(pub, "empty.txt"), "");
  writeFileSync(join(pub, "digits.txt"), "0123456789");
  writeFileSync(join(pub, "back\\slash.txt"), "a file whose name has a backslash\n");
  symlinkSync("../secret.txt", join(pub, "leak"));
  symlinkSync("..", join(pub, "updir"));
  symlinkSync(join(site, "secret.txt"), join(pub, "abs-leak"));
  symlinkSync("index.html", join(pub, "in-link.html"));
  // 64 MiB written a MiB at a time, each MiB different, so a chunk sent twice or out of order shows in the hash.
  const hash = createHash("sha256");
  const fd = openSync(join(pub, "big.bin"), "w");
  for (let i = 0; i < BIG_MIB; i++) {
    const block = randomBytes(1 << 20);
    hash.update(block);
    writeSync(fd, block);
  }
  closeSync(fd);
  return { site, pub, bigSha: hash.digest("hex") };
}

for (const engine of ENGINES) {
  describe(`serveStatic under ${engine}`, () => {
    const base = mkdtempSync(join(tmpdir(), "eventide-static-"));
    let tree;
    let app;
    before(async () => {
      tree = layout(base);
      app = await startApp("dist/tests/apps/static-files.wasm", { engine, cli: true, cliFlags: ["--dir", `${tree.site}:/site`] });
    });
    after(async () => {
      await app?.kill();
      rmSync(base, { recursive: true, force: true });
    });

    it("serves a file with its type, length, validators and Accept-Ranges; / and sub/ serve index.html", async () => {
      const mtime = statSync(join(tree.pub, "index.html")).mtime;
      for (const path of ["/", "/index.html", "/index.html?x=1"]) {
        const res = await request(app.port, path);
        assert.equal(res.status, 200, path);
        assert.equal(res.body.toString(), "<h1>home</h1>\n");
        assert.equal(res.headers["content-type"], "text/html; charset=utf-8");
        assert.equal(res.headers["content-length"], "14");
        assert.equal(res.headers["accept-ranges"], "bytes");
        assert.equal(res.headers["last-modified"], mtime.toUTCString());
        assert.match(res.headers.etag, /^"[0-9a-f]+-e"$/);
      }
      assert.equal((await request(app.port, "/sub/")).body.toString(), "sub index\n");
      assert.equal((await request(app.port, "/in-link.html")).body.toString(), "<h1>home</h1>\n", "a link inside the root is followed");
      const empty = await request(app.port, "/empty.txt");
      assert.deepEqual([empty.status, empty.headers["content-length"], empty.body.length], [200, "0", 0]);
    });

    it("names the Content-Type by extension, case-insensitively, octet-stream when it can't tell", async () => {
      const types = { "/style.css": "text/css; charset=utf-8", "/app.js": "text/javascript; charset=utf-8",
        "/data.json": "application/json", "/logo.PNG": "image/png", "/notes": "application/octet-stream",
        "/big.bin": "application/octet-stream" };
      for (const [path, type] of Object.entries(types)) {
        assert.equal((await request(app.port, path, { method: "HEAD" })).headers["content-type"], type, path);
      }
    });

    it("redirects a directory named without its slash (query kept), and leaves one without index.html to the app", async () => {
      const res = await request(app.port, "/sub?a=b");
      assert.equal(res.status, 301);
      assert.equal(res.headers.location, "/sub/?a=b");
      const none = await request(app.port, "/empty-dir/");
      assert.deepEqual([none.status, none.body.toString()], [404, "Not Found\n"]);
      assert.equal((await request(app.port, "/missing.txt")).status, 404);
      assert.equal((await request(app.port, "/index.html/")).status, 404, "a file named as a directory");
      assert.equal((await request(app.port, "/hello")).body.toString(), "hello from the app\n", "the app's own route");
      const post = await request(app.port, "/index.html", { method: "POST" });
      assert.deepEqual([post.status, post.headers.allow], [405, "GET, HEAD"]);
    });

    it("answers 500 for a file stream that fails before the response began, and says so on stderr without ending", async () => {
      const res = await request(app.port, "/stream-missing");
      assert.equal(res.status, 500);
      for (let i = 0; i < 40 && !app.stderr.includes("file stream"); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(app.stderr, /unhandled 'error' on a file stream, which was closed: ENOENT: open '\/site\/public\/no-such-file'/);
      assert.equal((await request(app.port, "/digits.txt")).body.toString(), "0123456789", "the app goes on");
    });

    it("answers If-None-Match and If-Modified-Since with 304 (RFC 9110 §13.1.2, §13.1.3, §13.2.2)", async () => {
      const first = await request(app.port, "/style.css");
      const { etag } = first.headers;
      const lastModified = first.headers["last-modified"];
      const status = async (headers) => {
        const res = await request(app.port, "/style.css", { headers });
        if (res.status === 304) {
          assert.equal(res.body.length, 0);
          assert.equal(res.headers.etag, etag);
        }
        return res.status;
      };
      assert.equal(await status({ "If-None-Match": etag }), 304);
      assert.equal(await status({ "If-None-Match": `W/${etag}` }), 304, "weak comparison");
      assert.equal(await status({ "If-None-Match": `"other", ${etag}` }), 304);
      assert.equal(await status({ "If-None-Match": "*" }), 304);
      assert.equal(await status({ "If-None-Match": '"other"' }), 200);
      assert.equal(await status({ "If-Modified-Since": lastModified }), 304);
      const mtime = statSync(join(tree.pub, "style.css")).mtime;
      const later = new Date(mtime.getTime() + 86_400_000);
      assert.equal(await status({ "If-Modified-Since": later.toUTCString() }), 304);
      assert.equal(await status({ "If-Modified-Since": new Date(mtime.getTime() - 86_400_000).toUTCString() }), 200);
      // The obsolete forms a recipient must accept (RFC 9110 §5.6.7): RFC 850 and asctime.
      const [wd, dd, mon, yyyy, time] = later.toUTCString().split(" ");
      const weekday = { Sun: "Sunday", Mon: "Monday", Tue: "Tuesday", Wed: "Wednesday", Thu: "Thursday", Fri: "Friday", Sat: "Saturday" }[wd.slice(0, 3)];
      assert.equal(await status({ "If-Modified-Since": `${weekday}, ${dd}-${mon}-${yyyy.slice(2)} ${time} GMT` }), 304);
      assert.equal(await status({ "If-Modified-Since": `${wd.slice(0, 3)} ${mon} ${String(Number(dd)).padStart(2, " ")} ${time} ${yyyy}` }), 304);
      assert.equal(await status({ "If-Modified-Since": "yesterday" }), 200, "an invalid date is ignored");
      assert.equal(await status({ "If-None-Match": '"other"', "If-Modified-Since": later.toUTCString() }), 200,
        "If-None-Match decides alone when present");
    });

    it("serves one range with 206 and Content-Range, 416 for an unsatisfiable one, the whole file otherwise (RFC 9110 §14)", async () => {
      const range = async (value, extra = {}, method = "GET") => {
        const res = await request(app.port, "/digits.txt", { method, headers: { Range: value, ...extra } });
        return [res.status, res.headers["content-range"] ?? null, res.body.toString(), res.headers["content-length"]];
      };
      assert.deepEqual(await range("bytes=0-3"), [206, "bytes 0-3/10", "0123", "4"]);
      assert.deepEqual(await range("bytes=7-"), [206, "bytes 7-9/10", "789", "3"]);
      assert.deepEqual(await range("bytes=-4"), [206, "bytes 6-9/10", "6789", "4"]);
      assert.deepEqual(await range("bytes=-40"), [206, "bytes 0-9/10", "0123456789", "10"]);
      assert.deepEqual(await range("bytes=5-500"), [206, "bytes 5-9/10", "56789", "5"]);
      assert.deepEqual(await range("BYTES=2-2"), [206, "bytes 2-2/10", "2", "1"]);
      assert.deepEqual(await range("bytes=10-"), [416, "bytes */10", "", "0"]);
      assert.deepEqual(await range("bytes=-0"), [416, "bytes */10", "", "0"]);
      for (const ignored of ["bytes=0-1,4-5", "bytes=3-1", "bytes=x-", "items=0-1", "bytes=0-1a"]) {
        assert.deepEqual(await range(ignored), [200, null, "0123456789", "10"], ignored);
      }
      assert.deepEqual(await range("bytes=0-3", {}, "HEAD"), [200, null, "", "10"], "HEAD ignores Range");
      const { etag, "last-modified": lastModified } = (await request(app.port, "/digits.txt")).headers;
      assert.deepEqual(await range("bytes=0-3", { "If-Range": etag }), [206, "bytes 0-3/10", "0123", "4"]);
      assert.deepEqual(await range("bytes=0-3", { "If-Range": lastModified }), [206, "bytes 0-3/10", "0123", "4"]);
      assert.deepEqual(await range("bytes=0-3", { "If-Range": '"stale"' }), [200, null, "0123456789", "10"]);
      assert.deepEqual(await range("bytes=0-3", { "If-Range": `W/${etag}` }), [200, null, "0123456789", "10"], "If-Range compares strongly");
      // A range deep in the large file, read with curl.
      const { stdout } = await run("curl", ["-s", "-r", `${(BIG_MIB << 20) - 5}-`, `http://127.0.0.1:${app.port}/big.bin`], { encoding: "buffer" });
      const whole = readFileSync(join(tree.pub, "big.bin"));
      assert.ok(stdout.equals(whole.subarray(whole.length - 5)));
    });

    it("answers HEAD with the GET's head and no body bytes: the next response follows at once", async () => {
      const { text } = await raw(app.port, "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      const [head, second] = text.split("\r\n\r\n");
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head, new RegExp(`\r\nContent-Length: ${BIG_MIB << 20}\r\n`));
      assert.match(second, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(text.endsWith("\r\n\r\nbody{}\n"));
    });

    it("refuses .., %2e%2e, encoded NUL, backslashes and absolute paths with 404 before looking anything up", async () => {
      // Each names, once decoded or normalised, a file that exists: served, the refusal would have failed.
      const refused = ["/sub/../index.html", "/sub/%2e%2e/index.html", "/sub/%2E%2e/index.html", "/sub/.%2e/style.css",
        "/%2e%2e/secret.txt", "/index.html%00", "/index.html%00.txt", "/back%5Cslash.txt", "/back%5cslash.txt",
        "//index.html", "/%2Findex.html", "//style.css"];
      for (const target of refused) {
        assert.deepEqual(await rawGet(app.port, target), { status: 404, body: "Not Found\n" }, target);
      }
      const { stdout } = await run("curl", ["-s", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${app.port}/sub/../style.css`]);
      assert.equal(stdout, "404");
    });

    it("refuses links that lead out of the root, even to a file inside the granted directory", async () => {
      for (const target of ["/leak", "/abs-leak", "/updir/secret.txt", "/updir/public/index.html"]) {
        const res = await rawGet(app.port, target);
        assert.equal(res.status, 404, target);
        assert.doesNotMatch(res.body, /secret/);
      }
    });

    it(`streams ${BIG_MIB} MiB paced by a slow reader, with bounded memory, whole and in order`, async () => {
      const pid = await servingPid(app, engine);
      await request(app.port, "/style.css");
      const memoryBefore = await linearMemory(app.port);
      const rssBefore = rssKiB(pid);
      let peakKiB = rssBefore;
      const hash = createHash("sha256");
      let received = 0;
      await new Promise((resolve, reject) => {
        const s = connect(app.port, "127.0.0.1", () => s.write("GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        let head = Buffer.alloc(0);
        let pauses = 0;
        s.on("error", reject);
        s.on("data", (d) => {
          if (head !== null) {
            head = Buffer.concat([head, d]);
            const end = head.indexOf("\r\n\r\n");
            if (end < 0) return;
            d = head.subarray(end + 4);
            head = null;
          }
          hash.update(d);
          received += d.length;
          // Stop reading twice for a while: a server that ignored backpressure would queue the rest meanwhile.
          if ((pauses === 0 && received > (4 << 20)) || (pauses === 1 && received > (40 << 20))) {
            pauses++;
            s.pause();
            setTimeout(() => {
              peakKiB = Math.max(peakKiB, rssKiB(pid));
              s.resume();
            }, 1500);
          }
        });
        const timer = setTimeout(() => s.destroy(new Error(`only ${received} bytes in 60 s`)), 60_000);
        s.on("close", () => { clearTimeout(timer); resolve(); });
      });
      assert.equal(received, BIG_MIB << 20);
      assert.equal(hash.digest("hex"), tree.bigSha);
      // What the guest holds is in its linear memory, whatever the engine; under wasmtime that is also most of
      // the process (under node, V8's heap settles some 30 MiB higher after the first large transfer).
      const memoryGrownMiB = (await linearMemory(app.port) - memoryBefore) / 2 ** 20;
      assert.ok(memoryGrownMiB < 16, `linear memory grew ${memoryGrownMiB.toFixed(1)} MiB serving a ${BIG_MIB} MiB file`);
      if (engine.startsWith("wasmtime")) {
        const grownMiB = (Math.max(peakKiB, rssKiB(pid)) - rssBefore) / 1024;
        assert.ok(grownMiB < 16, `server RSS grew ${grownMiB.toFixed(1)} MiB serving a ${BIG_MIB} MiB file`);
      }
    });

    it("closes the file when a client leaves mid-download, and goes on serving", async () => {
      const pid = await servingPid(app, engine);
      await request(app.port, "/style.css");
      const fdsBefore = openFdCount(pid);
      for (let i = 0; i < 20; i++) {
        await new Promise((resolve) => {
          const s = connect(app.port, "127.0.0.1", () => s.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
          let got = 0;
          s.on("data", (d) => { got += d.length; if (got > 256 * 1024) s.destroy(); });
          s.on("close", resolve);
          s.on("error", () => {});
        });
      }
      // The server learns of each close at its next write; give it the moment that takes.
      let fds = openFdCount(pid);
      for (let i = 0; i < 50 && fds > fdsBefore + 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        fds = openFdCount(pid);
      }
      assert.ok(fds <= fdsBefore + 2, `${fds - fdsBefore} more fds open after 20 aborted downloads`);
      assert.equal((await request(app.port, "/digits.txt")).body.toString(), "0123456789");
    });
  });
}
