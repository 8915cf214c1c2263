// eventide/router under both engines, with Node's HTTP client: parameters, the rest of a path, first match wins,
// and what no route takes — 404, 405 with Allow, HEAD by GET, OPTIONS with Allow, a notFound handler.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { ENGINES, startApp } from "../helpers/engines.mjs";

/** One request with Node's client; resolves with { status, headers, body }. */
function request(port, method, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no response in 10 s`)));
    req.end();
  });
}

for (const engine of ENGINES) {
  describe(`router under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp("dist/tests/apps/router-app.wasm", { engine }); });
    after(() => app.kill());

    const cases = [
      ["GET", "/", 200, "home"],
      ["GET", "/users/42", 200, "user 42"],
      ["GET", "/users/42?x=1#f", 200, "user 42"],
      ["GET", "/users/J%C3%B6rg", 200, "user J\u00f6rg"],
      ["GET", "/users/a%2Fb", 200, "user a/b"],
      ["GET", "/x/../users/7", 200, "user 7"],
      ["DELETE", "/users/42", 200, "deleted 42"],
      ["POST", "/users", 201, "created"],
      ["POST", "/users/", 201, "created"],
      ["GET", "/a/1/b/2", 200, "x,y 1 2"],
      ["GET", "/files/a/b%20c.txt", 200, "file a/b c.txt"],
      ["GET", "/files/", 200, "file "],
      ["PATCH", "/any", 200, "any PATCH"],
      ["GET", "/custom/here", 200, "here"],
      ["GET", "/custom/elsewhere", 404, "custom: nothing at /custom/elsewhere"],
      ["GET", "/nope", 404, "Not Found\n"],
      ["GET", "/users/42/extra", 404, "Not Found\n"],
      ["GET", "/users//", 404, "Not Found\n"],
      // A `*` rest that only decodes into "..", a separator or NUL matches nothing.
      ["GET", "/files/..%2Fsecret", 404, "Not Found\n"],
      ["GET", "/files/a/%2e%2e%2f..%2fetc", 404, "Not Found\n"],
      ["GET", "/files/a%5Cb", 404, "Not Found\n"],
      ["GET", "/files/a%00", 404, "Not Found\n"],
    ];
    for (const [method, path, status, body] of cases) {
      it(`${method} ${path} → ${status}`, async () => {
        const r = await request(app.port, method, path);
        assert.equal(r.status, status);
        assert.equal(r.body, body);
      });
    }

    it("answers 405 with Allow listing the methods the path has (GET brings HEAD)", async () => {
      const r = await request(app.port, "PUT", "/users/42");
      assert.equal(r.status, 405);
      assert.equal(r.headers.allow, "GET, HEAD, DELETE");
      assert.equal(r.body, "Method Not Allowed\n");
      assert.equal((await request(app.port, "GET", "/users")).headers.allow, "POST");
    });

    it("serves HEAD with the GET route: its headers and length, no body", async () => {
      const r = await request(app.port, "HEAD", "/users/42");
      assert.equal(r.status, 200);
      assert.equal(r.headers["content-length"], "7");
      assert.equal(r.body, "");
    });

    it("answers OPTIONS with 204 and Allow when no route takes it", async () => {
      const r = await request(app.port, "OPTIONS", "/users/42");
      assert.equal(r.status, 204);
      assert.equal(r.headers.allow, "GET, HEAD, DELETE, OPTIONS");
    });

    it("is still serving after all of that", async () => {
      assert.equal((await request(app.port, "GET", "/")).body, "home");
      assert.equal(app.child.exitCode, null);
    });
  });
}
