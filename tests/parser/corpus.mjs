// The differential and fuzz corpus: hand-written requests (valid and invalid) and seeded mutations of them.

export const VALID = [
  "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
  "GET /search?q=eventide&lang=en HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nCookie: session=abc123; theme=dark\r\nUpgrade-Insecure-Requests: 1\r\nCache-Control: max-age=0\r\n\r\n",
  "POST /api/items HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"name\":\"widget\",\"qty\":12}\n",
  "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;name=value\r\n world\r\n3;a=\"quoted;\\\"x\"\r\n!!!\r\n0\r\nX-Checksum: 42\r\n\r\n",
  "PUT /files/report.txt HTTP/1.1\r\nHost: files\r\nContent-Length: 0\r\n\r\n",
  "DELETE /items/7 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token\r\n\r\n",
  "HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
  "PATCH /items/7 HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world",
  "GET http://example.com/absolute?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
  "GET / HTTP/1.0\r\n\r\n",
  "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
  "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
  "POST /form HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nabcde",
  "GET / HTTP/1.1\r\nX-Empty:\r\nX-Spaces:    padded value   \r\nX-Tab:\tvalue\r\n\r\n",
  "GET / HTTP/1.1\r\nX-Dup: one\r\nx-dup: two\r\nContent-Length: 3\r\n\r\nabc",
  "GET /caf%C3%A9 HTTP/1.1\r\nX-Latin: caf\xe9\r\n\r\n",
  "\r\nGET /after-empty-line HTTP/1.1\r\nHost: x\r\n\r\n",
  "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
  "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
];

export const INVALID = [
  "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
  "GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n",
  "GET / HTTP/1.1\nHost: x\n\n",
  "GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n",
  "G(T / HTTP/1.1\r\n\r\n",
  "GET  / HTTP/1.1\r\n\r\n",
  "GET / HTTP/1.1 \r\n\r\n",
  "GET /\x7f HTTP/1.1\r\n\r\n",
  "GET / HTTP/2.0\r\n\r\n",
  "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
  "GET / HTTP/1.1\r\n: novalue\r\n\r\n",
  "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
  "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
  "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
  "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
  "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
  "POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a b\r\nhello\r\n0\r\n\r\n",
  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
  "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
];

/** mulberry32: small, fast, seedable. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x22, 0x2c, 0x3d, 0x5c, 0x00, 0x7f, 0x80, 0xff, 0x30, 0x31, 0x39, 0x61, 0x46, 0x2f];
const LINES = [
  "Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n", "Content-Length: 0\r\n", "Connection: close\r\n",
  "Connection: keep-alive, Upgrade\r\n", "Upgrade: h2c\r\n", "Expect: 100-continue\r\n", "Transfer-Encoding: gzip\r\n",
  " folded\r\n", "X:\r\n", "\r\n",
];

/** One random edit of `input` (bytes). */
export function mutate(input, rnd) {
  const buf = Array.from(input);
  const edits = 1 + Math.floor(rnd() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * (buf.length + 1));
    switch (Math.floor(rnd() * 8)) {
      case 0: if (buf.length) buf[Math.min(at, buf.length - 1)] = Math.floor(rnd() * 256); break;
      case 1: buf.splice(at, 0, INTERESTING[Math.floor(rnd() * INTERESTING.length)]); break;
      case 2: buf.splice(at, 1 + Math.floor(rnd() * 3)); break;
      case 3: buf.length = Math.floor(rnd() * buf.length); break;
      case 4: {
        const lineStart = buf.lastIndexOf(0x0a, at) + 1;
        buf.splice(lineStart, 0, ...Buffer.from(LINES[Math.floor(rnd() * LINES.length)], "latin1"));
        break;
      }
      case 5: if (buf.length) { const i = Math.min(at, buf.length - 1); buf[i] ^= 0x20; } break;
      case 6: if (buf.length) { const i = Math.min(at, buf.length - 1); buf.splice(i, 0, buf[i]); } break;
      default: buf.splice(at, 0, ...Buffer.from(String(Math.floor(rnd() * 100000)), "latin1"));
    }
  }
  return Buffer.from(buf);
}

export function* corpus(count, seed) {
  const seeds = [...VALID, ...INVALID].map((s) => Buffer.from(s, "latin1"));
  for (const s of seeds) yield s;
  const rnd = prng(seed);
  for (let i = 0; i < count; i++) yield mutate(seeds[Math.floor(rnd() * seeds.length)], rnd);
}
