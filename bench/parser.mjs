// Parser throughput, all in this process: Eventide's parser (wasm), llhttp compiled to wasm as the undici
// package ships and drives it (JS callbacks per span, no-ops here), and Node's native llhttp binding.
import { createRequire } from "node:module";
import { loadEventideParser } from "../tests/parser/harness.mjs";

const require = createRequire(import.meta.url);
const { HTTPParser } = require("_http_common");

function browserGet(i) {
  return `GET /articles/${i}/comments?page=2&sort=new HTTP/1.1\r\nHost: www.example.com\r\n` +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n" +
    "Accept-Encoding: gzip, deflate, br, zstd\r\nReferer: https://www.example.com/articles\r\nConnection: keep-alive\r\n" +
    "Cookie: session=9f8e7d6c5b4a3928; theme=dark\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n\r\n";
}

function apiPost(i) {
  const body = JSON.stringify({ id: i, name: "widget", tags: ["a", "b", "c"], price: 12.5, stock: 40, note: "restock next week" });
  return `POST /api/v2/items HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\n` +
    `Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

function largeHeaders(i) {
  return `GET /dashboard HTTP/1.1\r\nHost: app.example.com\r\nCookie: ${"c".repeat(2000)}=${i}; prefs=${"p".repeat(1500)}\r\n` +
    `X-Trace: ${"t".repeat(300)}\r\nAuthorization: Bearer ${"a".repeat(400)}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n`;
}

function stream(make, bytes) {
  const parts = [];
  let size = 0;
  let count = 0;
  while (size < bytes) {
    const msg = make(count);
    parts.push(msg);
    size += msg.length;
    count++;
  }
  return { buf: Buffer.from(parts.join(""), "latin1"), messages: count };
}

/** Runs `round` until `seconds` pass; returns MB/s and messages/s. */
function measure(buf, messages, seconds, round) {
  round(); // warm-up
  let rounds = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    round();
    rounds++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  return { mb_per_s: (buf.length * rounds) / elapsed / 1e6, messages_per_s: (messages * rounds) / elapsed };
}

function eventideRunner({ buf, messages }) {
  const { exports: x } = loadEventideParser();
  const ptr = x.prepare(buf.length);
  new Uint8Array(x.memory.buffer).set(buf, ptr);
  return () => {
    if (x.parseStream(buf.length, 0, 1) !== messages) throw new Error("eventide parser disagreed on the corpus");
  };
}

function llhttpWasmRunner({ buf }) {
  let bytes;
  try {
    bytes = require("undici/lib/llhttp/llhttp_simd-wasm.js");
    new WebAssembly.Module(bytes);
  } catch {
    bytes = require("undici/lib/llhttp/llhttp-wasm.js");
  }
  const noop = () => 0;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: {
      wasm_on_url: noop, wasm_on_status: noop, wasm_on_message_begin: noop, wasm_on_header_field: noop,
      wasm_on_header_value: noop, wasm_on_headers_complete: noop, wasm_on_body: noop, wasm_on_message_complete: noop,
    },
  });
  const x = instance.exports;
  x._initialize?.();
  const parser = x.llhttp_alloc(1); // TYPE.REQUEST
  const ptr = x.malloc(buf.length);
  new Uint8Array(x.memory.buffer).set(buf, ptr);
  return () => {
    const ret = x.llhttp_execute(parser, ptr, buf.length);
    if (ret !== 0) throw new Error(`llhttp-wasm error ${ret}`);
  };
}

function nativeRunner({ buf }) {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 0);
  parser[HTTPParser.kOnHeadersComplete] = () => 0;
  parser[HTTPParser.kOnHeaders] = () => {};
  parser[HTTPParser.kOnBody] = () => {};
  parser[HTTPParser.kOnMessageComplete] = () => {};
  parser[HTTPParser.kOnExecute] = () => {};
  return () => {
    const ret = parser.execute(buf);
    if (ret instanceof Error) throw ret;
  };
}

export async function parserBench({ seconds = 2 } = {}) {
  const corpora = {
    realistic: stream((i) => (i % 3 === 2 ? apiPost(i) : browserGet(i)), 256 * 1024),
    large_headers: stream(largeHeaders, 256 * 1024),
  };
  const out = {};
  for (const [name, corpus] of Object.entries(corpora)) {
    out[name] = { bytes: corpus.buf.length, messages: corpus.messages };
    for (const [parser, make] of [["eventide", eventideRunner], ["llhttp-wasm (undici)", llhttpWasmRunner], ["llhttp native (node)", nativeRunner]]) {
      out[name][parser] = measure(corpus.buf, corpus.messages, seconds, make(corpus));
    }
    out[name].eventide_vs_llhttp_wasm = out[name].eventide.mb_per_s / out[name]["llhttp-wasm (undici)"].mb_per_s;
    out[name].eventide_vs_llhttp_native = out[name].eventide.mb_per_s / out[name]["llhttp native (node)"].mb_per_s;
  }
  return out;
}

if (process.argv[1] === new URL(import.meta.url).pathname) console.log(JSON.stringify(await parserBench({ seconds: 1 }), null, 2));
