// What a hostile or careless client — or app — must not be able to do to the server, each fault as a kind:
// framing bytes read without limit, requests without a valid Host, response framing taken from the app,
// response splitting, a pipelining client that never reads, running out of fds, half-closes mid-message,
// and error codes by name. Every case runs under every engine, with real sockets and Node's own client.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { connect } from "node:net";
import { execFileSync } from "node:child_process";
import { ENGINES, startApp, rssKiB, cpuSeconds } from "../helpers/engines.mjs";
import { raw } from "../helpers/raw.mjs";
import { get } from "../helpers/http.mjs";

const FRAMING = "dist/tests/apps/http-framing.wasm";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Splits a byte stream into responses: { status, head, body }, the body delimited as HTTP/1.1 says —
 * none for HEAD (methods[i]), 1xx, 204 and 304; Transfer-Encoding chunked; Content-Length; else the rest.
 */
function parseResponses(text, methods = []) {
  const out = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", at);
    if (headEnd < 0) break;
    const head = text.slice(at, headEnd + 4);
    const status = Number(head.slice(9, 12));
    at = headEnd + 4;
    const bodiless = status < 200 || status === 204 || status === 304 || methods[out.filter((r) => r.status >= 200).length] === "HEAD";
    let body = "";
    if (bodiless) {
      // nothing
    } else if (/\r\ntransfer-encoding:[^\r]*chunked\r\n/i.test(head)) {
      for (;;) {
        const lineEnd = text.indexOf("\r\n", at);
        const size = parseInt(text.slice(at, lineEnd), 16);
        at = lineEnd + 2;
        if (!(size > 0)) {
          at = text.indexOf("\r\n", at) + 2; // the empty trailer section
          break;
        }
        body += text.slice(at, at + size);
        at += size + 2;
      }
    } else if (/\r\ncontent-length: *(\d+)/i.test(head)) {
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)[1]);
      body = text.slice(at, at + length);
      at += length;
    } else {
      body = text.slice(at);
      at = text.length;
    }
    out.push({ status, head, body });
  }
  return out;
}

/** The error codes the framing app recorded on its responses since the last ask. */
async function lastErrors(port) {
  return (await get(port, "/last-error")).body;
}

function request(port, { method = "GET", path = "/", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const informational = [];
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("latin1");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: text, informational }));
    });
    req.on("information", (info) => informational.push({ status: info.statusCode, headers: info.headers }));
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no response in 10 s`)));
    req.end(body);
  });
}

for (const engine of ENGINES) {
  describe(`response framing is decided by the server, under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp(FRAMING, { engine }); });
    after(async () => { await app.kill(); });

    it("HEAD to a handler that sets Transfer-Encoding sends no body bytes: the next response reads cleanly", async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (const path of ["/te/chunked", "/te/gzip", "/length/10/4", "/status/204", "/length-and-te"]) {
        const head = await new Promise((resolve, reject) => {
          http.request({ host: "127.0.0.1", port: app.port, method: "HEAD", path, agent }, (res) => {
            res.resume();
            res.on("end", () => resolve(res));
          }).on("error", reject).end();
        });
        assert.ok(head.statusCode === 200 || head.statusCode === 204, `HEAD ${path}: ${head.statusCode}`);
        const next = await get(app.port, "/after", agent);
        assert.equal(next.body, "GET /after", `the response after HEAD ${path}`);
      }
      agent.destroy();
      const { text } = await raw(app.port, "HEAD /te/chunked HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      const [first, second] = parseResponses(text, ["HEAD", "GET"]);
      assert.match(first.head, /\r\nTransfer-Encoding: chunked\r\n/);
      assert.equal(second.body, "GET /after", JSON.stringify(text));
    });

    it("204 and 1xx carry no Content-Length, Transfer-Encoding or body; 304 no body; the connection goes on", async () => {
      const { text } = await raw(app.port, "GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\nGET /status/304 HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      const [noContent, notModified, after] = parseResponses(text);
      assert.equal(noContent.status, 204);
      assert.doesNotMatch(noContent.head, /content-length|transfer-encoding/i);
      assert.equal(notModified.status, 304);
      assert.doesNotMatch(notModified.head, /transfer-encoding/i);
      assert.equal(after.body, "GET /after", JSON.stringify(text));
    });

    it("a 1xx status made final by the app carries no framing and closes the connection", async () => {
      const r = await raw(app.port, "GET /status/103 HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n", { ms: 3000 });
      assert.match(r.text, /^HTTP\/1\.1 103 /);
      assert.doesNotMatch(r.text, /content-length|transfer-encoding|GET \/after/i);
      assert.ok(r.closed, "the connection stayed open after a final 1xx");
    });

    it("a Transfer-Encoding that does not end in chunked is delimited by closing the connection", async () => {
      const r = await raw(app.port, "GET /te/gzip HTTP/1.1\r\nHost: x\r\n\r\n", { ms: 3000 });
      const [res] = parseResponses(r.text);
      assert.match(res.head, /\r\nTransfer-Encoding: gzip\r\n/);
      assert.match(res.head, /\r\nConnection: close\r\n/);
      assert.doesNotMatch(res.head, /content-length/i);
      assert.equal(res.body, "hello");
      assert.ok(r.closed);
    });

    it("an HTTP/1.0 client gets no Transfer-Encoding: the body is delimited by the close", async () => {
      const r = await raw(app.port, "GET /te/chunked HTTP/1.0\r\n\r\n", { ms: 3000 });
      const [res] = parseResponses(r.text);
      assert.doesNotMatch(res.head, /transfer-encoding/i);
      assert.equal(res.body, "hello");
      assert.ok(r.closed);
    });

    it("with both Content-Length and Transfer-Encoding set, only Transfer-Encoding is sent", async () => {
      const r = await request(app.port, { path: "/length-and-te" });
      assert.equal(r.headers["content-length"], undefined);
      assert.equal(r.headers["transfer-encoding"], "chunked");
      assert.equal(r.body, "hello");
    });

    it("a body longer than its Content-Length is cut there and the connection closes; a shorter one closes", async () => {
      const long = await raw(app.port, "GET /length/4/10 HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n", { ms: 3000 });
      assert.ok(long.closed, "kept open after sending more than its Content-Length");
      const [res, ...rest] = parseResponses(long.text);
      assert.equal(res.body, "xxxx");
      assert.equal(rest.length, 0, JSON.stringify(long.text)); // no stray bytes read as a response
      assert.ok(long.text.endsWith("\r\n\r\nxxxx"), JSON.stringify(long.text));
      const short = await raw(app.port, "GET /length/10/4 HTTP/1.1\r\nHost: x\r\n\r\n", { ms: 3000 });
      assert.ok(short.closed, "kept open after sending less than its Content-Length");
      assert.ok(short.text.endsWith("\r\n\r\nxxyy"), JSON.stringify(short.text));
    });

    it("a status outside 100–999 is refused: writeHead keeps the old status, a status set directly gets 500 and a close", async () => {
      await lastErrors(app.port);
      for (const status of [42, 1000, -1]) {
        const r = await request(app.port, { path: `/status/${status}` });
        assert.equal(r.status, 200);
        assert.equal(await lastErrors(app.port), "ERR_HTTP_INVALID_STATUS_CODE");
      }
      const direct = await raw(app.port, "GET /status-field/42 HTTP/1.1\r\nHost: x\r\n\r\n", { ms: 3000 });
      assert.match(direct.text, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
      assert.ok(direct.closed);
      assert.equal(await lastErrors(app.port), "ERR_HTTP_INVALID_STATUS_CODE");
    });

    it("no API lets a string split the head: status message, names, values, lists, appended values, early hints", async () => {
      await lastErrors(app.port);
      for (const arg of ["split", "nul"]) {
        const r = await raw(app.port, `GET /reason/${arg} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
        assert.doesNotMatch(r.text, /Set-Cookie|\0/);
        assert.equal(await lastErrors(app.port), "ERR_INVALID_CHAR");
      }
      const fine = await raw(app.port, "GET /reason/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.match(fine.text, /^HTTP\/1\.1 200 Fine Thanks\r\n/);
      for (const arg of ["name", "value", "list", "append", "hints"]) {
        const r = await raw(app.port, `GET /split-header/${arg} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.doesNotMatch(r.text, /Set-Cookie/, arg);
        assert.equal(parseResponses(r.text).at(-1).body, "ok", arg);
        assert.equal(await lastErrors(app.port), "ERR_INVALID_CHAR", arg);
      }
      const twice = await raw(app.port, "GET /append-length HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.equal(twice.text.match(/content-length/gi).length, 1);
      assert.equal(await lastErrors(app.port), "ERR_HTTP_INVALID_HEADER_VALUE");
    });

    it("an app's Connection: keep-alive doesn't keep open a connection the client asked to close", async () => {
      for (const payload of ["GET /connection/keep-alive HTTP/1.0\r\n\r\n",
        "GET /connection/keep-alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]) {
        const r = await raw(app.port, payload, { ms: 3000 });
        assert.match(r.text, /\r\nConnection: close\r\n/);
        assert.doesNotMatch(r.text, /keep-alive/i);
        assert.ok(r.closed);
      }
    });

    it("sends 100 Continue to Expect: 100-continue before the client sends the body", async () => {
      const reply = await new Promise((resolve, reject) => {
        let text = "";
        const s = connect(app.port, "127.0.0.1", () => s.write("POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"));
        const timer = setTimeout(() => { s.destroy(); reject(new Error(`no 100 Continue in 3 s: ${JSON.stringify(text)}`)); }, 3000);
        s.on("data", (d) => {
          text += d.toString("latin1");
          if (text === "HTTP/1.1 100 Continue\r\n\r\n") s.write("abcde"); // only now: the server asked for it
        });
        s.on("close", () => { clearTimeout(timer); resolve(text); });
        s.on("error", reject);
      });
      assert.ok(reply.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), JSON.stringify(reply));
      assert.equal(parseResponses(reply).at(-1).body, "got 5");
      const viaNode = await new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: app.port, method: "POST", path: "/upload", agent: false,
          headers: { Expect: "100-continue", "Content-Length": 3 } }, (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(text));
        });
        req.on("continue", () => req.end("abc"));
        req.on("error", reject);
        req.setTimeout(5000, () => req.destroy(new Error("no 100 Continue")));
      });
      assert.equal(viaNode, "got 3");
    });

    it("sends 102 Processing and 103 Early Hints as interim responses before the final one", async () => {
      const processing = await request(app.port, { path: "/processing" });
      assert.deepEqual(processing.informational.map((i) => i.status), [102]);
      assert.equal(processing.body, "late");
      const hints = await request(app.port, { path: "/hints" });
      assert.deepEqual(hints.informational.map((i) => i.status), [103]);
      assert.equal(hints.informational[0].headers.link, "</style.css>; rel=preload; as=style");
      assert.equal(hints.body, "ok");
    });
  });

  describe(`requests the server refuses, and closes after, under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp(FRAMING, { engine }); });
    after(async () => { await app.kill(); });

    /** Sends `payload`; the reply must be exactly one `status` response, and the server must then close. */
    async function refused(payload, status) {
      const r = await raw(app.port, payload, { ms: 3000 });
      assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${status} `), JSON.stringify(payload.slice(0, 80)));
      assert.match(r.text, /\r\nConnection: close\r\n/);
      assert.ok(r.closed, `still open 3 s after a ${status}`);
      return r;
    }

    it("answers 400 to an HTTP/1.1 request without exactly one valid Host (RFC 9112 §3.2)", async () => {
      await refused("GET / HTTP/1.1\r\n\r\n", 400);
      await refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
      await refused("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
      for (const host of ["a b", "x/y", "h:1:2", "[::1", "[::1]x", "h:12a", "u@h", "h?q", ":80", "\"h\""]) {
        await refused(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400);
      }
      for (const host of ["example.com", "example.com:8080", "127.0.0.1:1", "[::1]:80", "[::1]", "xn--bcher-kva.example", ""]) {
        const r = await raw(app.port, `GET /h HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        assert.equal(parseResponses(r.text)[0]?.body, "GET /h", `Host: ${host}`);
      }
      const old = await raw(app.port, "GET /h HTTP/1.0\r\n\r\n");
      assert.equal(parseResponses(old.text)[0].body, "GET /h");
    });

    it("bounds what the body framing holds that is not body: extensions, trailers, size digits, empty lines", async () => {
      const head = "POST /p HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n";
      const huge = await refused(head + "1;a=" + "a".repeat(1 << 20) + "\r\nx\r\n0\r\n\r\n", 413);
      assert.ok(huge.elapsed < 2500, `413 after ${huge.elapsed} ms`);
      await refused(head + Array.from({ length: 10 }, () => "1;e=" + "b".repeat(4000) + "\r\nx\r\n").join("") + "0\r\n\r\n", 413);
      const within = await raw(app.port, head.replace("/p", "/ok").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n") + "1;e=" + "c".repeat(15000) + "\r\nx\r\n0\r\n\r\n");
      assert.equal(parseResponses(within.text)[0]?.body, "got 1", "16 KiB of extensions are allowed");
      await refused(head + "1\r\nx\r\n0\r\nX-T: " + "t".repeat(20000) + "\r\n\r\n", 431);
      await refused(head + "0".repeat(20) + "1\r\nx\r\n0\r\n\r\n", 400);
      await refused("\r\n".repeat(9) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
      const two = await raw(app.port, "\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.equal(parseResponses(two.text)[0]?.body, "GET /two");
    });

    it("answers 400 when the client half-closes inside a head or a body, and still answers complete requests", async () => {
      const halfClosed = (payload) => new Promise((resolve) => {
        let text = "";
        const s = connect(app.port, "127.0.0.1", () => s.end(payload));
        s.on("data", (d) => (text += d.toString("latin1")));
        s.on("close", () => resolve(text));
        s.on("error", () => {});
        setTimeout(() => s.destroy(), 3000);
      });
      assert.match(await halfClosed("GET / HTTP/1.1\r\nHost: x\r\nX-Half"), /^HTTP\/1\.1 400 /);
      assert.match(await halfClosed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"), /^HTTP\/1\.1 400 /);
      assert.match(await halfClosed("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"), /^HTTP\/1\.1 400 /);
      assert.equal(await halfClosed("\r\n"), "");
      const both = parseResponses(await halfClosed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"));
      assert.deepEqual(both.map((r) => r.body), ["GET /1", "GET /2"]);
    });

    it("closes the connection after every 4xx it sends, after Connection: close, and after HTTP/1.0 without keep-alive", async () => {
      const malformed = [
        ["GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400], ["GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400],
        ["GET / HTTP/1.1\nHost: x\n\n", 400], ["G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400],
        ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
        ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400],
        ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
        [`GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
        [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(17000)}\r\n\r\n`, 431],
        ["GET / HTTP/1.1\r\nHost: x\r\n" + "X-H: 1\r\n".repeat(101) + "\r\n", 431],
        ["GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505], ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400],
        ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: frobnicate, chunked\r\n\r\n", 501],
        ["GET / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE / HTTP/1.1\r\n\r\n", 200], // a good request, then a bad one
      ];
      for (const [payload, status] of malformed) {
        const r = await raw(app.port, payload, { ms: 3000 });
        assert.ok(r.closed, `still open 3 s after ${JSON.stringify(payload.slice(0, 40))}`);
        assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${status} `));
        assert.match(parseResponses(r.text).at(-1).head, /\r\nConnection: close\r\n/);
      }
      for (const payload of ["GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET /c HTTP/1.0\r\n\r\n",
        "GET /c HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n"]) {
        const r = await raw(app.port, payload, { ms: 3000 });
        assert.ok(r.closed, `still open 3 s after ${JSON.stringify(payload)}`);
        assert.equal(parseResponses(r.text)[0].body, "GET /c");
      }
      const kept = await raw(app.port, "GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", { ms: 1000 });
      assert.ok(kept.timedOut, "HTTP/1.0 with keep-alive was closed");
      assert.match(kept.text, /\r\nConnection: keep-alive\r\n/);
    });
  });

  describe(`closing the server, under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp(FRAMING, { engine }); });
    after(async () => { await app.kill(); });

    // Under the Node engine a connection waits in the host's queue (served the same way: the cluster drain test
    // covers it) or in the kernel's, which resets it when the host closes the listener, as Node's own
    // server.close() does; a guest busy in a handler leaves them in the kernel's.
    const kernelResets = engine === "node" && "the kernel resets connections queued on a listener the Node host closes";
    it("serves the connections still waiting to be accepted when it stops accepting, instead of resetting them", { skip: kernelResets }, async () => {
      const closing = get(app.port, "/busy-then-close");
      await sleep(100); // the app is busy for 300 ms: these connect and wait to be accepted
      const waiting = await Promise.all(Array.from({ length: 5 }, (_, i) =>
        raw(app.port, `GET /w${i} HTTP/1.1\r\nHost: x\r\n\r\n`, { ms: 4000 })));
      assert.equal((await closing).body, "closing");
      for (const [i, r] of waiting.entries()) {
        assert.equal(parseResponses(r.text)[0]?.body, `GET /w${i}`, `connection ${i}: ${JSON.stringify(r.text)}`);
        assert.match(r.text, /\r\nConnection: close\r\n/);
        assert.ok(r.closed && !r.reset, `connection ${i} was not closed cleanly`);
      }
    });
  });

  describe(`clientError under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp(FRAMING, { engine, env: { REPORT_CLIENT_ERRORS: "1" } }); });
    after(async () => { await app.kill(); });

    it("gives the listener llhttp's error codes by name, with the status the server would send", async () => {
      const cases = [
        ["G(T / HTTP/1.1\r\nHost: x\r\n\r\n", "HPE_INVALID_METHOD", 400],
        ["GET / HTTP/1.1\r\n\r\n", "HPE_MISSING_HOST", 400],
        ["GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "HPE_INVALID_HOST", 400],
        ["GET / HTTP/1.1\r\nHost: x\r\nX: 1\r\n folded\r\n\r\n", "HPE_OBS_FOLD", 400],
        [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(17000)}\r\n\r\n`, "HPE_HEADER_OVERFLOW", 431],
        ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;a=" + "a".repeat(20000) + "\r\n", "HPE_CHUNK_EXTENSIONS_OVERFLOW", 413],
        ["GET / HTTP/9.9\r\nHost: x\r\n\r\n", "HPE_UNSUPPORTED_VERSION", 505],
      ];
      for (const [payload, code, status] of cases) {
        const r = await raw(app.port, payload, { ms: 3000 });
        assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${status} Refused\\r\\nX-Error-Code: ${code}\\r\\n`), JSON.stringify(r.text));
        assert.ok(r.closed);
      }
    });
  });

  describe(`a client that pipelines requests and never reads, under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp("dist/examples/hello-http.wasm", { engine }); });
    after(async () => { await app.kill(); });

    it("makes the server stop parsing, not queue responses without bound", async () => {
      await get(app.port, "/warm");
      const rssBefore = rssKiB(app.child.pid);
      const request = Buffer.from("GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n".repeat(1000));
      let written = 0;
      const s = connect(app.port, "127.0.0.1");
      s.pause(); // never read
      s.on("error", () => {});
      await new Promise((resolve) => {
        const deadline = Date.now() + 4000;
        const pump = () => {
          while (Date.now() < deadline && written < 256 * 1024 * 1024) {
            written += request.length;
            if (!s.write(request)) return s.once("drain", pump);
          }
          resolve();
        };
        s.once("connect", pump);
        setTimeout(resolve, 4500); // the server stopped reading: 'drain' never comes
      });
      const grownMiB = (rssKiB(app.child.pid) - rssBefore) / 1024;
      assert.ok(grownMiB < 48, `server RSS grew ${grownMiB.toFixed(0)} MiB while ${(written / 2 ** 20).toFixed(0)} MiB of requests went unread`);
      assert.equal((await get(app.port, "/other")).body, "Hello World\n", "others are still served");
      s.destroy();
    });
  });

  describe(`running out of file descriptors, under ${engine}`, () => {
    let app;
    before(async () => {
      app = await startApp("dist/examples/hello-http.wasm", { engine });
      execFileSync("prlimit", ["--pid", String(app.child.pid), "--nofile=128:128"]);
    });
    after(async () => { await app.kill(); });

    it("neither ends nor spins the server, which serves what it has and recovers when fds come back", async () => {
      const sockets = [];
      let answered = 0;
      for (let i = 0; i < 400; i++) {
        const s = connect(app.port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        s.on("data", () => answered++);
        s.on("error", () => {});
        sockets.push(s);
      }
      await sleep(1000);
      const before = cpuSeconds(app.child.pid);
      await sleep(1000);
      const used = cpuSeconds(app.child.pid) - before;
      assert.equal(app.child.exitCode, null, `the server exited: ${app.stderr}`);
      assert.ok(used < 0.5, `the server used ${used.toFixed(2)} s of CPU in 1 s with its fds exhausted`);
      assert.ok(answered >= 50, `only ${answered} connections were served while fds ran out`);
      if (engine === "wasmtime") {
        assert.match(app.stderr, /accept EMFILE; not accepting for \d+ ms/);
        assert.doesNotMatch(app.stderr, /WASI_ERRNO/);
        assert.ok(app.stderr.split("\n").filter((l) => l.includes("EMFILE")).length < 20, "one report per burst");
      }
      for (const s of sockets) s.destroy();
      await sleep(1500); // back-off is at most 1 s
      const after = await get(app.port, "/after");
      assert.equal(after.body, "Hello World\n");
    });
  });
}
