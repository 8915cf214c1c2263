// Drives the HTTP parser the way the server does, over input placed at the end of linear memory (so an
// over-read traps), feeding it `chunk` bytes at a time. Results go to a fixed record for the JS side.
import { Parser, Kind, HeadResult, skipEmptyLines, methodName, Method } from "eventide/http/parser";

const parsers = [new Parser(Kind.REQUEST), new Parser(Kind.RESPONSE)];
const RESULT_WORDS = 16;
const result = memory.data(RESULT_WORDS * 4, 8);
const MAX_HEADERS = 128;
const headerSpans = memory.data(MAX_HEADERS * 16, 8);
let body: usize = heap.alloc(64 * 1024);
let bodyCapacity: i32 = 64 * 1024;
let input: usize = 0;
// Pages grown for inputs, outside the allocator's pool; kept at the end of memory whenever possible.
let regionStart: usize = 0;
let regionEnd: usize = 0;

/** Where to write the next input of `len` bytes: flush against the end of linear memory. */
export function prepare(len: i32): usize {
  const end = <usize>memory.size() << 16;
  if (regionEnd != end || <usize>len > regionEnd - regionStart) {
    const pages = <i32>((<usize>len + 0xffff) >> 16);
    if (memory.grow(pages) < 0) unreachable();
    regionStart = end;
    regionEnd = <usize>memory.size() << 16;
  }
  input = regionEnd - <usize>len;
  return input;
}

export function resultPtr(): usize { return result; }
export function headersPtr(): usize { return headerSpans; }
export function bodyPtr(): usize { return body; }

function appendBody(src: usize, len: i32, at: i32): i32 {
  if (at + len > bodyCapacity) {
    while (at + len > bodyCapacity) bodyCapacity *= 2;
    body = heap.realloc(body, bodyCapacity);
  }
  memory.copy(body + at, src, len);
  return at + len;
}

/**
 * Parses one message from the `len` bytes at the prepared input, offered `chunk` bytes at a time.
 * result[0]: 0 complete, 1 incomplete, 2 error; [1] error code; [2] bytes consumed; [3] method enum;
 * [4,5] method span; [6,7] target span; [8] major; [9] minor; [10] header count; [11] body length;
 * [12] keep-alive; [13] upgrade; [14] status (responses); [15] head length.
 */
export function parse(len: i32, kind: i32, chunk: i32, maxHeaderSize: i32): void {
  const p = parsers[kind];
  p.reset();
  p.maxHeaderSize = maxHeaderSize;
  memory.fill(result, 0, RESULT_WORDS * 4);
  store<i32>(result, 1);
  const ptr = input;
  let start = 0;
  let available = min(chunk, len);
  let headEnd = -1;
  let started = false; // a byte of the start-line was seen: no more empty lines to skip
  while (true) {
    if (!started) {
      const blank = skipEmptyLines(ptr + start, available - start);
      if (blank > 0) start += blank;
      started = blank >= 0 && start < available;
    }
    const n = started ? p.parseHead(ptr + start, available - start) : <i32>HeadResult.NEED_MORE;
    if (n == HeadResult.ERROR) return fail(p, start);
    if (n > 0) {
      headEnd = start + n;
      break;
    }
    if (available == len) {
      store<i32>(result, start, 8);
      return; // incomplete
    }
    available = min(available + chunk, len);
  }
  const m = p.method;
  store<i32>(result, <i32>m, 12);
  store<i32>(result, start, 16);
  store<i32>(result, p.methodLength, 20);
  store<i32>(result, start + p.targetStart, 24);
  store<i32>(result, p.targetLength, 28);
  store<i32>(result, p.versionMajor, 32);
  store<i32>(result, p.versionMinor, 36);
  const count = min(p.headerCount, MAX_HEADERS);
  store<i32>(result, count, 40);
  for (let i = 0; i < count; i++) {
    store<i32>(headerSpans + <usize>i * 16, start + p.nameStart(i));
    store<i32>(headerSpans + <usize>i * 16, p.nameLength(i), 4);
    store<i32>(headerSpans + <usize>i * 16, start + p.valueStart(i), 8);
    store<i32>(headerSpans + <usize>i * 16, p.valueLength(i), 12);
  }
  store<i32>(result, p.keepAlive ? 1 : 0, 48);
  store<i32>(result, p.upgrade ? 1 : 0, 52);
  store<i32>(result, p.status, 56);
  store<i32>(result, headEnd - start, 60);
  let at = headEnd;
  let bodyLength = 0;
  if (!p.upgrade) {
    while (p.hasBody && at < len) {
      const limit = min(len, max(available, at + 1));
      const n = p.decodeBody(ptr + at, limit - at);
      if (n < 0) return fail(p, at);
      if (p.dataLength > 0) bodyLength = appendBody(ptr + at + p.dataOffset, p.dataLength, bodyLength);
      at += n;
      if (n == 0 || at >= available) available = min(available + chunk, len);
    }
  }
  store<i32>(result, bodyLength, 44);
  store<i32>(result, at, 8);
  store<i32>(result, p.upgrade || !p.hasBody ? 0 : 1);
}

function fail(p: Parser, at: i32): void {
  store<i32>(result, 2);
  store<i32>(result, <i32>p.error, 4);
  store<i32>(result, at, 8);
}

export function methodNameOf(m: i32): string {
  return methodName(<Method>m);
}

/**
 * Benchmark entry: parses a stream of back-to-back messages at the prepared input, `rounds` times; returns
 * the number of messages per round, or -1 on an error.
 */
export function parseStream(len: i32, kind: i32, rounds: i32): i32 {
  const p = parsers[kind];
  let messages = 0;
  for (let r = 0; r < rounds; r++) {
    messages = 0;
    let at = 0;
    while (at < len) {
      p.reset();
      const n = p.parseHead(input + at, len - at);
      if (n <= 0) return -1;
      at += n;
      while (p.hasBody) {
        const used = p.decodeBody(input + at, len - at);
        if (used <= 0) return -1;
        at += used;
      }
      messages++;
    }
  }
  return messages;
}
