// Runs one message through Eventide's parser (compiled to wasm) or through Node's own llhttp, and returns
// the same shape from both, so tests can compare them.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ROOT } from "../helpers/engines.mjs";

const require = createRequire(import.meta.url);
const { HTTPParser, methods } = require("_http_common");

export const ERRORS = [
  "NONE", "INVALID_METHOD", "INVALID_TARGET", "TARGET_TOO_LONG", "INVALID_VERSION", "UNSUPPORTED_VERSION",
  "INVALID_STATUS", "INVALID_HEADER_NAME", "WHITESPACE_BEFORE_COLON", "MISSING_COLON", "INVALID_HEADER_VALUE",
  "OBS_FOLD", "BARE_CR", "HEADERS_TOO_LARGE", "TOO_MANY_HEADERS", "INVALID_CONTENT_LENGTH",
  "DUPLICATE_CONTENT_LENGTH", "CONTENT_LENGTH_AND_TRANSFER_ENCODING", "INVALID_TRANSFER_ENCODING",
  "UNKNOWN_TRANSFER_CODING", "INVALID_CHUNK_SIZE", "CHUNK_SIZE_OVERFLOW", "INVALID_CHUNK_EXTENSION",
  "INVALID_CHUNK_DATA", "INVALID_TRAILER", "BODY_TOO_LARGE",
];

export function loadEventideParser(path = join(ROOT, "dist/tests/parser-harness.wasm")) {
  const module = new WebAssembly.Module(readFileSync(path));
  const instance = new WebAssembly.Instance(module, {
    env: { abort: () => { throw new Error("parser aborted"); } },
  });
  const x = instance.exports;
  const names = new Map();
  const methodName = (m) => {
    if (!names.has(m)) {
      const ptr = x.methodNameOf(m);
      const mem = new Uint8Array(x.memory.buffer);
      const len = new Uint32Array(x.memory.buffer, ptr - 4, 1)[0];
      names.set(m, Buffer.from(mem.subarray(ptr, ptr + len)).toString("utf16le"));
    }
    return names.get(m);
  };
  return {
    exports: x,
    /**
     * @returns {{state: "complete"|"incomplete"|"error", error?: string, method?, url?, versionMajor?, versionMinor?,
     *   headers?: string[], body?: Buffer, keepAlive?: boolean, upgrade?: boolean, status?: number, consumed: number}}
     */
    parse(buf, { kind = "request", chunk = buf.length || 1, maxHeaderSize = 16 * 1024 } = {}) {
      const ptr = x.prepare(buf.length);
      new Uint8Array(x.memory.buffer).set(buf, ptr);
      x.parse(buf.length, kind === "request" ? 0 : 1, Math.max(1, chunk), maxHeaderSize);
      const r = new Int32Array(x.memory.buffer, x.resultPtr(), 16);
      const state = ["complete", "incomplete", "error"][r[0]];
      if (state === "error") return { state, error: ERRORS[r[1]], consumed: r[2] };
      if (r[15] === 0) return { state, consumed: r[2] }; // no complete head
      const latin1 = (start, len) => buf.subarray(start, start + len).toString("latin1");
      const spans = new Int32Array(x.memory.buffer, x.headersPtr(), r[10] * 4);
      const headers = [];
      for (let i = 0; i < r[10]; i++) headers.push(latin1(spans[i * 4], spans[i * 4 + 1]), latin1(spans[i * 4 + 2], spans[i * 4 + 3]));
      const method = kind === "request" ? (r[3] === 0 ? latin1(r[4], r[5]) : methodName(r[3])) : undefined;
      return {
        state, method, url: kind === "request" ? latin1(r[6], r[7]) : undefined,
        versionMajor: r[8], versionMinor: r[9], headers,
        body: Buffer.from(new Uint8Array(x.memory.buffer, x.bodyPtr(), r[11])),
        keepAlive: r[12] === 1, upgrade: r[13] === 1, status: kind === "response" ? r[14] : undefined, consumed: r[2],
      };
    },
  };
}

/** The same record from Node's llhttp (strict, as Node's server uses it), for the first message in `buf`. */
export function parseWithLlhttp(buf, { kind = "request" } = {}) {
  const p = new HTTPParser();
  p.initialize(kind === "request" ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {});
  let head = null;
  let headers = [];
  const body = [];
  let complete = false;
  p[HTTPParser.kOnHeaders] = (h) => { if (!head) headers = headers.concat(h); }; // after the head: trailers
  p[HTTPParser.kOnHeadersComplete] = (versionMajor, versionMinor, h, method, url, status, _statusMessage, upgrade, keepAlive) => {
    head = { versionMajor, versionMinor, method: kind === "request" ? methods[method] : undefined, url: kind === "request" ? url : undefined,
      status: kind === "response" ? status : undefined, upgrade, keepAlive };
    if (h) headers = headers.concat(h);
    return 0;
  };
  // As Node's server does, an upgrade hands everything after the head to the new protocol: no body.
  p[HTTPParser.kOnBody] = (b) => { if (!complete && !head?.upgrade) body.push(Buffer.from(b)); };
  p[HTTPParser.kOnMessageComplete] = () => { complete = true; };
  p[HTTPParser.kOnExecute] = () => {};
  let ret;
  try {
    ret = p.execute(buf);
  } catch (err) {
    ret = err;
  }
  p.close?.();
  if (complete || (head && head.upgrade)) {
    return { state: "complete", ...head, headers, body: Buffer.concat(body) };
  }
  if (ret instanceof Error) return { state: "error", error: ret.code };
  return { state: "incomplete" };
}
