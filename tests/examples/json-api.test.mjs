// examples/json-api.ts, the small JSON service of issue 13, on every engine: its routes, `?limit=`, a JSON POST
// body (400 when malformed or mis-shaped, 413 past the limit, the app serving on after each), 404, 405 with
// Allow, the static page from the granted directory, and one log line per request.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT, ENGINES, startApp, endApps } from "../helpers/engines.mjs";

const PUBLIC = join(ROOT, "examples/public");
const MAX_BODY = 4096; // examples/json-api.ts

after(endApps);

/** One request with Node's http client: { status, headers, body } (body as text), or a rejection within 10 s. */
function request(port, method, path, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no response in 10 s`)));
    req.end(body);
  });
}

const json = (r) => ({ status: r.status, type: r.headers["content-type"], value: JSON.parse(r.body) });

for (const engine of ENGINES) {
  describe(`examples/json-api under ${engine}`, () => {
    let app;
    let port;
    let sent = 0;
    const send = (method, path, options) => { sent++; return request(port, method, path, options); };
    before(async () => {
      app = await startApp("dist/examples/json-api.wasm", { engine, cli: true, cliFlags: ["--dir", `${PUBLIC}:/public`] });
      port = app.port;
    });
    after(() => app?.kill());

    it("lists no items at first, then takes two JSON POSTs and serves them by id and with ?limit", async () => {
      assert.deepEqual(json(await send("GET", "/items?limit=10")), { status: 200, type: "application/json", value: [] });
      const tea = await send("POST", "/items", { body: '{"name": "tea", "price": 3.5}' });
      assert.deepEqual(json(tea), { status: 201, type: "application/json", value: { id: 1, name: "tea", price: 3.5 } });
      const cake = await send("POST", "/items", { body: '{"price": 2, "name": "cake \\u00e9"}' });
      assert.deepEqual(json(cake).value, { id: 2, name: "cake é", price: 2 });
      assert.deepEqual(json(await send("GET", "/items?limit=1")).value, [{ id: 1, name: "tea", price: 3.5 }]);
      assert.deepEqual(json(await send("GET", "/items?limit=0")).value, []);
      assert.equal(json(await send("GET", "/items")).value.length, 2);
      assert.deepEqual(json(await send("GET", "/items/2")), { status: 200, type: "application/json", value: { id: 2, name: "cake é", price: 2 } });
    });

    it("answers 400 for a malformed or mis-shaped body and a bad limit, and serves on", async () => {
      for (const body of ['{"name": "tea", "price": ', '{"name": "tea" "price": 1}', "[1, 2]", '{"name": 5, "price": 1}',
        '{"name": "tea"}', '{"name": "tea", "price": "1"}', "\xff\xfe", "", "[".repeat(3000)]) {
        const r = await send("POST", "/items", { body });
        assert.equal(r.status, 400, `POST ${JSON.stringify(body.slice(0, 40))}: ${r.body}`);
        assert.match(json(r).value.error, /the body is not/);
      }
      for (const limit of ["abc", "-1", "101", "1x", "01", ""]) {
        const r = await send("GET", `/items?limit=${limit}`);
        assert.deepEqual(json(r), { status: 400, type: "application/json", value: { error: "limit is a whole number from 0 to 100" } });
      }
      assert.equal(json(await send("GET", "/items")).value.length, 2, "nothing was added");
    });

    it("answers 413 for a body over the limit, adding nothing, and serves on", async () => {
      const body = JSON.stringify({ name: "x".repeat(MAX_BODY), price: 1 });
      const r = await send("POST", "/items", { body });
      assert.equal(r.status, 413);
      assert.equal(r.headers.connection, "close");
      assert.equal(json(await send("GET", "/items")).value.length, 2);
    });

    it("answers 404 for an unknown item or path, and 405 with Allow for a method the path has no route for", async () => {
      for (const path of ["/items/3", "/items/0", "/items/1x", "/items/01"]) {
        assert.deepEqual(json(await send("GET", path)), { status: 404, type: "application/json", value: { error: `no item ${path.slice(7)}` } });
      }
      assert.deepEqual(json(await send("GET", "/nothing/here")).value, { error: "nothing at /nothing/here" });
      const put = await send("PUT", "/items");
      assert.equal(put.status, 405);
      assert.equal(put.headers.allow, "GET, HEAD, POST");
      assert.equal((await send("DELETE", "/items/1")).headers.allow, "GET, HEAD");
    });

    it("serves the static page from the granted directory at / and by name, and nothing outside it", async () => {
      const page = readFileSync(join(PUBLIC, "index.html"), "utf8");
      for (const path of ["/", "/index.html"]) {
        const r = await send("GET", path);
        assert.equal(r.status, 200, path);
        assert.match(r.headers["content-type"], /^text\/html/);
        assert.equal(r.body, page);
      }
      assert.equal((await send("GET", "/%2e%2e/json-api.ts")).status, 404);
    });

    it("logs one line per request: method, target, status and User-Agent (- without one)", async () => {
      await send("GET", "/items/1", { headers: { "User-Agent": "json-api-test/1.0" } });
      await send("PATCH", "/items/1");
      // A line is written once its response has gone out: the last may still be on its way.
      for (let waited = 0; !app.stdout.includes("PATCH /items/1 405 -\n") && waited < 5000; waited += 50) await sleep(50);
      const lines = app.stdout.split("\n").filter(Boolean);
      assert.ok(lines.includes("GET /items/1 200 json-api-test/1.0"), app.stdout);
      assert.ok(lines.includes("PATCH /items/1 405 -"), app.stdout);
      assert.ok(lines.includes("POST /items 413 -"), app.stdout);
      assert.equal(lines.filter((l) => l.startsWith("POST /items 201 ")).length, 2);
      assert.equal(lines.length, sent, "one line per request the suite sent");
    });
  });
}
