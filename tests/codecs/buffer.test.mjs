// eventide/buffer's encodings against Node's own Buffer: tests/apps/codec-harness prints, for each input, the
// input decoded in every encoding and the input's bytes encoded in every encoding; Node computes the same here.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ENGINES } from "../helpers/engines.mjs";
import { harness, escaped } from "./harness.mjs";

const APP = "dist/tests/apps/codec-harness.wasm";

const ENCODINGS = ["utf8", "hex", "base64", "base64url", "latin1", "ascii"];

// Valid and malformed text in each encoding: Node decodes malformed input as far as it goes, and so must we.
const CORPUS = [
  "", "a", "ab", "abc", "abcd", "hello world", "h\u00e9llo w\u00f6rld \u2713 \ud83c\udf89",
  "YQ==", "YQ", "YQ=", "Y Q = =", "YWJj\nZGVm", "-_-_", "+/+/", "YQ==YQ==", "YQ=a", "Y", "====", "@@@@YWJj",
  "YW Jj ZA", "YWJjZA=", "YWJj=ZGVm", "Zg==Zg", "YQ===", "8J+Yg", "ZmFrZQ$$$", "AQL7_w", "AQL7/w==",
  "abzz", "0g12", "ABCDEF", "aBc", "1 2", "12 34", "deadBEEF", "00ff80", "f", "\u0101\u20ac\u0178",
  "\x01\x7f\x80\xff", "\u00ff\u00fe\u00fd\u0080", // argv carries UTF-8: no lone surrogates
  // as latin1 bytes, invalid UTF-8: surrogates, past U+10FFFF, overlong, truncated, stray continuations
  "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf", "\xc0\xaf", "\xc1\xbf", "\xf0\x9f\x98", "a\xe2\x82", "\x80\xbfx",
  "\xf5\x80", "\xff", "\xe2\x82\xac\xf0\x9f\x8e\x89", "\xef\xbb\xbfBOM",
];

function nodeCase(input) {
  const parts = [];
  const bytes = Buffer.from(input, "latin1");
  for (const enc of ENCODINGS) {
    parts.push(escaped(Buffer.from(input, enc).toString("latin1")));
    parts.push(escaped(bytes.toString(enc)));
  }
  parts.push(escaped(bytes.toString("hex", 1, 3)));
  return parts.join(" ");
}

for (const engine of ENGINES) {
  describe(`Buffer encodings under ${engine}`, () => {
    it("decode and encode utf8, hex, base64, base64url, latin1 and ascii as Node's Buffer does", async () => {
      const lines = await harness(APP, engine, "buffer", CORPUS);
      assert.equal(lines.length, CORPUS.length);
      CORPUS.forEach((input, i) => assert.equal(lines[i], nodeCase(input), `input ${JSON.stringify(input)}`));
    });
  });
}
