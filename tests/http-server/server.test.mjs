// The HTTP server under real engines, with real clients: curl, Node's http agent, raw sockets.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import http from "node:http";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ENGINES, startApp, rssKiB, cpuSeconds } from "../helpers/engines.mjs";
import { get } from "../helpers/http.mjs";
import { raw } from "../helpers/raw.mjs";

const run = promisify(execFile);

/** Splits a byte stream of Content-Length-framed responses into { status, body } records. */
function responses(text) {
  const out = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", at);
    if (headEnd < 0) break;
    const head = text.slice(at, headEnd);
    const length = Number((/\r\nContent-Length: (\d+)/i.exec(head) ?? [0, 0])[1]);
    out.push({ status: Number(head.slice(9, 12)), body: text.slice(headEnd + 4, headEnd + 4 + length) });
    at = headEnd + 4 + length;
  }
  return out;
}

/** POSTs `total` bytes to /echo while reading the echo, and checks it came back whole and in order. */
async function echoUpload(port, total) {
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31) & 0xff;
  const sent = createHash("sha256");
  const received = createHash("sha256");
  let receivedBytes = 0;
  await new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/echo" }, (res) => {
      res.on("data", (d) => { received.update(d); receivedBytes += d.length; });
      res.on("end", resolve);
    });
    req.on("error", reject);
    let written = 0;
    const pump = () => {
      while (written < total) {
        sent.update(block);
        written += block.length;
        if (!req.write(block)) return req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
  assert.equal(receivedBytes, total);
  assert.equal(received.digest("hex"), sent.digest("hex"));
}

for (const engine of ENGINES) {
  describe(`http hello world under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp("dist/examples/hello-http.wasm", { engine }); });
    after(async () => { await app.kill(); });

    it("prints the seed's banner and answers curl with Hello World", async () => {
      for (let i = 0; i < 100 && !app.stdout.includes("Server running"); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(app.stdout, /Server running at http:\/\/127\.0\.0\.1:1337\//);
      const { stdout, stderr } = await run("curl", ["-sv", `http://127.0.0.1:${app.port}/`]);
      assert.equal(stdout, "Hello World\n");
      assert.match(stderr, /< HTTP\/1\.1 200 OK/);
      assert.match(stderr, /< Content-Type: text\/plain/);
      assert.match(stderr, /< Content-Length: 12/);
      assert.match(stderr, /< Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT/);
    });

    it("keeps one connection alive for Node's keep-alive agent", async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const results = [];
      for (let i = 0; i < 50; i++) results.push(await get(app.port, `/${i}`, agent));
      agent.destroy();
      assert.ok(results.every((r) => r.status === 200 && r.body === "Hello World\n"));
      assert.equal(results.filter((r) => r.reused).length, 49);
      assert.equal(results[0].headers.connection, "keep-alive");
    });
  });

  describe(`many idle connections under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp("dist/tests/apps/hello-long-keepalive.wasm", { engine }); });
    after(async () => { await app.kill(); });

    it("serves 400 keep-alive connections that went quiet (cold) and speak again, while others stay busy", async () => {
      const request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
      const open = () => new Promise((resolve, reject) => {
        const s = connect(app.port, "127.0.0.1", () => s.write(request));
        s.once("data", () => resolve(s));
        s.on("error", reject);
      });
      const idle = [];
      for (let batch = 0; batch < 4; batch++) idle.push(...await Promise.all(Array.from({ length: 100 }, open)));
      await new Promise((r) => setTimeout(r, 300)); // long enough for every one to turn cold
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      const busy = Promise.all(Array.from({ length: 200 }, () => get(app.port, "/", agent)));
      const started = Date.now();
      const second = await Promise.all(idle.map((s) => new Promise((resolve) => {
        s.once("data", (d) => resolve(d.toString()));
        s.write(request);
      })));
      const elapsed = Date.now() - started;
      assert.ok(second.every((text) => text.endsWith("Hello World\n")), "a woken connection got no answer");
      assert.ok(elapsed < 3000, `woken connections took ${elapsed} ms`);
      assert.ok((await busy).every((r) => r.body === "Hello World\n"));
      agent.destroy();
      idle.forEach((s) => s.destroy());
    });
  });

  describe(`http semantics under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp("dist/tests/apps/http-probe.wasm", { engine }); });
    after(async () => { await app.kill(); });

    it("answers 100 pipelined requests from one write, in order", async () => {
      let payload = "";
      for (let i = 0; i < 100; i++) payload += `GET /${i % 7 === 3 ? "slow" : "r" + i} HTTP/1.1\r\nHost: x\r\n${i === 99 ? "Connection: close\r\n" : ""}\r\n`;
      const { text } = await raw(app.port, payload);
      const bodies = responses(text).map((r) => r.body);
      const expected = Array.from({ length: 100 }, (_, i) => `GET /${i % 7 === 3 ? "slow" : "r" + i}`);
      assert.deepEqual(bodies, expected);
    });

    it("lets the app rewrite req.url", async () => {
      assert.equal((await get(app.port, "/rewrite")).body, "GET /rewritten");
    });

    it("refuses invalid header names and values from the app with ERR_INVALID_CHAR, and accepts every tchar", async () => {
      for (let i = 0; i < 8; i++) {
        const r = await get(app.port, `/bad-header/${i}`);
        assert.equal(r.body, "ERR_INVALID_CHAR", `bad header ${i}`);
      }
      const ok = await get(app.port, "/good-header");
      assert.equal(ok.body, "accepted");
      assert.equal(Buffer.from(ok.headers["x-all_tchar!#$%&'*+-.^`|~09az"], "latin1").toString("utf8"), "tab\tand spaces, \u00e9 and \u2713");
    });

    it("sends writeHead's header list as given, repeats included, and leaves the app's array alone", async () => {
      for (let i = 0; i < 2; i++) {
        const r = await get(app.port, "/shared-headers");
        assert.equal(r.headers["x-twice"], "a, b");
        assert.equal(r.headers["x-shared"], "changed");
        assert.equal(r.body, "as given");
      }
    });

    it("sends a non-ASCII body as UTF-8 with its byte length", async () => {
      const r = await get(app.port, "/unicode");
      const expected = "ascii first, then h\u00e9llo w\u00f6rld \u2713 \u{1F389}";
      assert.equal(r.body, expected);
      assert.equal(Number(r.headers["content-length"]), Buffer.byteLength(expected));
    });

    it("gives the request's headers as sent, looked up case-insensitively, repeats joined", async () => {
      const head = "GET /headers HTTP/1.1\r\nHost: x\r\nX-Twice: one\r\nx-long: " + "v".repeat(40) +
        "\r\nx-twice:  two \r\nConnection: close\r\n\r\n";
      const { text } = await raw(app.port, head);
      const [r] = responses(text);
      assert.equal(r.body, [
        `Host|x|X-Twice|one|x-long|${"v".repeat(40)}|x-twice|two|Connection|close`,
        "one, two", "null", "one, two", "4",
      ].join("\n"));
    });

    const malformed = [
      ["whitespace before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400],
      ["obs-fold", "GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n", 400],
      ["bare LF", "GET / HTTP/1.1\nHost: x\n\n", 400],
      ["invalid method token", "G(T / HTTP/1.1\r\n\r\n", 400],
      ["Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
      ["differing Content-Lengths", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400],
      ["bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
      ["chunk size overflow", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400],
      ["URI too long", `GET /${"a".repeat(9000)} HTTP/1.1\r\n\r\n`, 414],
      ["header section too large", `GET / HTTP/1.1\r\nX-Big: ${"b".repeat(17000)}\r\n\r\n`, 431],
      ["too many headers", "GET / HTTP/1.1\r\n" + "X-H: 1\r\n".repeat(101) + "\r\n", 431],
      ["HTTP/2.0 in a request line", "GET / HTTP/2.0\r\n\r\n", 505],
      ["a final transfer coding other than chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400],
      ["an unknown transfer coding", "POST / HTTP/1.1\r\nTransfer-Encoding: frobnicate, chunked\r\n\r\n", 501],
    ];
    for (const [name, payload, status] of malformed) {
      it(`rejects ${name} with ${status} and Connection: close`, async () => {
        const { text } = await raw(app.port, payload);
        assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `));
        assert.match(text, /\r\nConnection: close\r\n/);
      });
    }

    it("keeps serving others after malformed input", async () => {
      await Promise.all(malformed.map(([, payload]) => raw(app.port, payload)));
      const r = await get(app.port, "/after");
      assert.equal(r.body, "GET /after");
    });

    it("times out a trickling (slowloris) client with 408 while serving others", async () => {
      const slow = raw(app.port, "GET / HTTP/1.1\r\nHost: example\r\nX-Slow: " + "z".repeat(100), { trickle: 20, ms: 5000 });
      const fast = await get(app.port, "/fast");
      assert.equal(fast.body, "GET /fast");
      const { text, elapsed } = await slow;
      assert.match(text, /^HTTP\/1\.1 408 Request Timeout/);
      assert.ok(elapsed >= 350 && elapsed < 3000, `closed after ${elapsed} ms`);
    });

    it("closes idle keep-alive connections after keepAliveTimeout", async () => {
      const { text, elapsed } = await raw(app.port, "GET /idle HTTP/1.1\r\nHost: x\r\n\r\n", { ms: 5000 });
      assert.deepEqual(responses(text).map((r) => r.body), ["GET /idle"]);
      assert.ok(elapsed >= 900 && elapsed < 4000, `closed after ${elapsed} ms`);
    });

    it("HEAD gets headers with the body's length but no body", async () => {
      const { text } = await raw(app.port, "HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.match(text, /Content-Length: 7\r\n/);
      assert.ok(text.endsWith("\r\n\r\n"), JSON.stringify(text));
    });

    it("accepts chunked uploads with extensions and trailers, split at every byte", async () => {
      const { text } = await raw(app.port,
        "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        { trickle: 1 });
      assert.deepEqual(responses(text).map((r) => r.body), ["POST /c 3", "GET /next"]);
    });

    it("hands Upgrade requests to the 'upgrade' handler with the bytes after the head", async () => {
      const { text } = await raw(app.port, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nping", { ms: 500 });
      assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.ok(text.endsWith("\r\n\r\nping"), JSON.stringify(text));
    });
  });

  describe(`http streaming under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp("dist/examples/stream-http.wasm", { engine }); });
    after(async () => { await app.kill(); });

    it("streams a 16 MiB chunked response to curl", async () => {
      const { stdout } = await run("curl", ["-s", "-D", "-", "-o", "/dev/null", "-w", "%{size_download}", `http://127.0.0.1:${app.port}/stream`]);
      assert.match(stdout, /Transfer-Encoding: chunked/i);
      assert.ok(stdout.endsWith(String(16 * 1024 * 1024)), stdout);
    });

    it("waits without spinning while a client that stopped reading holds up a response", async () => {
      const s = connect(app.port, "127.0.0.1", () => s.write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
      s.pause(); // read nothing: the kernel buffers fill and the server's writes would block
      s.on("error", () => {});
      await new Promise((r) => setTimeout(r, 500));
      const before = cpuSeconds(app.child.pid);
      await new Promise((r) => setTimeout(r, 1000));
      const used = cpuSeconds(app.child.pid) - before;
      s.destroy();
      assert.ok(used < 0.2, `the server used ${used.toFixed(2)} s of CPU in 1 s of waiting`);
    });

    it("serves other clients without spinning while one that stopped reading holds up a response", async () => {
      // A poll that called the blocked socket writable would make the loop retry it at a full core while the
      // other traffic keeps the loop turning; the other requests themselves cost a few ms of CPU.
      const s = connect(app.port, "127.0.0.1", () => s.write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
      s.pause();
      s.on("error", () => {});
      await new Promise((r) => setTimeout(r, 500));
      const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
      const before = cpuSeconds(app.child.pid);
      const started = Date.now();
      let served = 0;
      while (Date.now() - started < 1000 && served < 200) {
        const r = await get(app.port, "/other", agent);
        assert.equal(r.status, 404);
        served++;
        await new Promise((r) => setTimeout(r, 5));
      }
      const used = cpuSeconds(app.child.pid) - before;
      const elapsed = (Date.now() - started) / 1000;
      agent.destroy();
      s.destroy();
      assert.ok(served >= 20, `only ${served} requests served beside the blocked client`);
      assert.ok(used < 0.3 * elapsed, `the server used ${used.toFixed(2)} s of CPU in ${elapsed.toFixed(2)} s serving ${served} requests`);
    });

    it("echoes a 100 MB upload back as it streams, with bounded memory", async () => {
      // A first upload lets the server's heap reach its working size (the Node engine's V8 heap grows
      // lazily); growth during the second, measured one would be ~100 MiB if anything buffered it all.
      await echoUpload(app.port, 100 * 1024 * 1024);
      const rssBefore = rssKiB(app.child.pid);
      await echoUpload(app.port, 100 * 1024 * 1024);
      const grownKiB = rssKiB(app.child.pid) - rssBefore;
      assert.ok(grownKiB < 16 * 1024, `server RSS grew ${grownKiB} KiB during a 100 MB upload`);
    });
  });
}
