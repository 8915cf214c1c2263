// Request smuggling: framing that two parsers could read two ways. Each vector carries a second request behind
// the ambiguous one; the server must refuse the first (one error response, Connection: close), close the
// connection, and never answer the request smuggled behind it. Bodies go to POST /consume, which reads its body
// before answering, so a body the parser misframed shows as a second response instead of being discarded.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { ENGINES } from "../helpers/engines.mjs";
import { raw } from "../helpers/raw.mjs";
import { startHostile, assertRecovered } from "./helpers.mjs";

const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
const POST = "POST /consume HTTP/1.1\r\nHost: x\r\n";
const CHUNKED = POST + "Transfer-Encoding: chunked\r\n\r\n";

/** [name, bytes, status]: RFC 9112 §6.1 and §6.3 (framing), §5.2 (obs-fold), §2.2 (bare CR), §7.1 (chunks). */
const VECTORS = [
  // Content-Length and Transfer-Encoding together (§6.1: MAY be treated as an error; we always do)
  ["CL.TE", POST + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["TE.CL", POST + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n" + SMUGGLED + "\r\n0\r\n\r\n", 400],
  // TE.TE: a Transfer-Encoding one parser would take as chunked and another would not
  ["TE: xchunked", POST + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 501],
  ["TE: chunked, then TE: x", POST + "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n" + SMUGGLED, 501],
  ["TE: chunked, identity", POST + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + SMUGGLED, 501],
  ["TE: chunked, chunked", POST + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["TE with space before the colon", POST + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["TE after a vertical tab", POST + "Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["TE with a NUL inside", POST + "Transfer-Encoding: chu\0nked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["TE quoted", POST + 'Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n' + SMUGGLED, 400],
  ["TE line starting with a space", POST + " Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["TE folded onto the next line", POST + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["TE in HTTP/1.0", "POST /consume HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400],
  // Content-Length that is not exactly one decimal number
  ["duplicate Content-Length", POST + "Content-Length: 0\r\nContent-Length: 37\r\n\r\n" + SMUGGLED, 400],
  ["duplicate equal Content-Length", POST + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n" + SMUGGLED, 400],
  ["Content-Length list", POST + "Content-Length: 0, 37\r\n\r\n" + SMUGGLED, 400],
  ["Content-Length +0", POST + "Content-Length: +0\r\n\r\n" + SMUGGLED, 400],
  ["Content-Length 0x0", POST + "Content-Length: 0x0\r\n\r\n" + SMUGGLED, 400],
  ["Content-Length -1", POST + "Content-Length: -1\r\n\r\n" + SMUGGLED, 400],
  ["Content-Length 1 0", POST + "Content-Length: 1 0\r\n\r\n" + SMUGGLED, 400],
  ["Content-Length past 2^64", POST + "Content-Length: 18446744073709551617\r\n\r\n" + SMUGGLED, 400],
  // chunk sizes
  ["chunk size past 2^64", CHUNKED + "FFFFFFFFFFFFFFFF1\r\n" + SMUGGLED, 400],
  ["chunk size 2^64", CHUNKED + "10000000000000000\r\nabc\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["chunk size -1", CHUNKED + "-1\r\n" + SMUGGLED, 400],
  ["chunk size 0x5", CHUNKED + "0x5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["chunk size after a space", CHUNKED + " 5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["chunk size line ended by a bare LF", CHUNKED + "5\nhello\r\n0\r\n\r\n" + SMUGGLED, 400],
  ["chunk data longer than its size", CHUNKED + "5\r\nhelloXX0\r\n\r\n" + SMUGGLED, 400],
  // line endings and folding
  ["bare CR in the request line", "GET / HTTP/1.1\rHost: x\r\n\r\n" + SMUGGLED, 400],
  ["bare CR in a field value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n" + SMUGGLED, 400],
  ["bare LF line endings", "GET / HTTP/1.1\nHost: x\n\n" + SMUGGLED, 400],
  ["head ended by a bare LF", "GET / HTTP/1.1\r\nHost: x\r\n\n" + SMUGGLED, 400],
  ["obs-fold (space)", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n" + SMUGGLED, 400],
  ["obs-fold (tab)", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n" + SMUGGLED, 400],
];

for (const engine of ENGINES) {
  describe(`request smuggling, under ${engine}`, () => {
    let app;
    let baseline;
    before(async () => ({ app, baseline } = await startHostile({ engine })));
    after(async () => { await app.kill(); });

    it(`${VECTORS.length} vectors: each refused with one error response, the connection closed, the smuggled request never served`, async () => {
      for (const [name, payload, status] of VECTORS) {
        const r = await raw(app.port, payload, { ms: 3000 });
        assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${status} `), `${name}: ${JSON.stringify(r.text.slice(0, 200))}`);
        assert.equal(r.text.match(/HTTP\/1\.1 \d{3} /g).length, 1, `${name}: more than one response`);
        assert.match(r.text, /\r\nConnection: close\r\n/, name);
        assert.ok(r.closed, `${name}: still open 3 s after the refusal`);
      }
      await assertRecovered(app, baseline);
    });
  });
}
