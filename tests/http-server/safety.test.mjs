// Client-controlled input into documented APIs never ends the instance (issue 13, item 1): each case is a request
// that used to (or could) make an app abort, then a second request on a new connection shows the app is alive.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { ENGINES, startApp } from "../helpers/engines.mjs";
import { raw } from "../helpers/raw.mjs";

/** The body of a raw reply (latin1 as received) read as UTF-8. */
function body(text) {
  return Buffer.from(text.slice(text.indexOf("\r\n\r\n") + 4), "latin1").toString();
}

for (const engine of ENGINES) {
  describe(`client input into runtime APIs under ${engine}`, () => {
    let app;
    before(async () => { app = await startApp("dist/tests/apps/safety-probe.wasm", { engine }); });
    after(() => app.kill());

    async function get(target, headers = "") {
      const { text } = await raw(app.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`);
      return text;
    }

    it("req.headers.get() of a header the client left out is null, and the app goes on", async () => {
      assert.equal(body(await get("/user-agent")), "no user-agent");
      assert.equal(body(await get("/user-agent", "User-Agent: curl/8\r\n")), "user-agent: curl/8");
    });

    it("req.headers iterates lower-cased, sorted, repeats combined (WHATWG Headers)", async () => {
      assert.equal(body(await get("/headers", "X-B: 2\r\nx-a: 1\r\nX-B: 3\r\n")),
        "connection: close\nhost: x\nx-a: 1\nx-b: 2, 3");
    });

    it("a query with bad percent escapes, a missing or non-numeric parameter, or an unparsable URL", async () => {
      assert.equal(body(await get("/query?q=%zz&q=a+b%41&q=%E2%9C&limit=abc")), "q=%zz|a bA|\ufffd limit=0");
      assert.equal(body(await get("/query")), "q= limit=none");
      assert.equal(body(await get("/query?limit=10&&=&q")), "q= limit=10");
      const refused = await get("http://h:99999/query");
      assert.match(refused, /^HTTP\/1\.1 400 /);
      assert.equal(body(refused), "unparsable URL");
    });

    it("a header value the client put CR/LF into is refused, reported on stderr, and the response goes on", async () => {
      const ok = await get("/download?name=report.txt");
      assert.match(ok, /\r\nContent-Disposition: attachment; filename="report.txt"\r\n/);
      const injected = await get("/download?name=x%0D%0ASet-Cookie:%20session=stolen");
      assert.match(injected, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(injected, /Set-Cookie|Content-Disposition/i);
      assert.equal(body(injected), "file body");
      await new Promise((r) => setTimeout(r, 100)); // the report is made on the next tick
      assert.match(app.stderr, /unhandled 'error' on a response, which went on without it: ERR_INVALID_CHAR/);
    });

    it("malformed base64 and invalid UTF-8 from the client decode as Node's Buffer would", async () => {
      for (const input of ["***", "%zz", "____", "7-_", "-", "wg", "7aCA", "9JCAgA"]) {
        const expected = Buffer.from(input, "base64url").toString();
        assert.equal(body(await get("/base64/" + input)), expected, input);
      }
      assert.equal(app.child.exitCode, null);
    });
  });
}
