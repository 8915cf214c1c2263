// eventide/url against Node's own URL and URLSearchParams (WHATWG URL Standard): tests/apps/codec-harness parses
// each (input, base) pair of the corpus and prints the parts, the query's pairs, and the URL after changes made
// through searchParams; Node computes the same here. Inputs Node refuses must be refused (null from URL.parse).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ENGINES } from "../helpers/engines.mjs";
import { unescapeBuffer } from "node:querystring";
import { harness, escaped } from "./harness.mjs";

const APP = "dist/tests/apps/codec-harness.wasm";

const BASE = "http://localhost";
// [input, base] ("-": no base). Origin-form targets as a server receives them, then absolute and odd forms.
const CORPUS = [
  ["/", BASE], ["/a/b?x=1#f", BASE], ["/search?q=hello+world&limit=10", BASE], ["/?a=1&a=2&b=", BASE],
  ["/p?a=%zz&b=%4&c=%41%42&d=%", BASE], ["/p?%E2%9C%93=%F0%9F%8E%89", BASE], ["/p?bad=%FF%FE&x=%C3", BASE],
  ["/p?=v&k=&&k2&==&k3=a=b", BASE], ["/p?q=a+b%2Bc", BASE], ["/a/b/../c/./d", BASE], ["/a/%2e%2E/b/.%2e/c/%2E", BASE], ["/a/b/%2E./c", BASE],
  ["/a/..", BASE], ["/a/.", BASE], ["/..", BASE], ["/a b<>\"^`{}|", BASE], ["/h\u00e9llo/\u2713?\u00e9=\u00e9#\u00e9", BASE],
  ["/p?q='\"<>` x#h <>\"`'", BASE], ["/%7e%41/%2F", BASE], ["//other.host/x", BASE], ["///triple/x", BASE],
  ["\\\\back\\slash\\path", BASE], ["/back\\slash", BASE], ["  /trim\t\n me  ", BASE], ["?only=query", "http://h/a/b"],
  ["#only-hash", "http://h/a/b?q=1"], ["", "http://h/a/b?q=1#f"], ["rel/x", "http://h/a/b"], ["../up", "http://h/a/b/c"],
  ["http:rel", "http://h/a/b"], ["http://EXAMPLE.com:80/%7e?^`{}|", "-"], ["https://example.com:443/", "-"],
  ["https://example.com:0443/", "-"], ["http://h:8080/", "-"], ["http://h:/", "-"], ["http://h:65536/", "-"],
  ["http://h:8x/", "-"], ["ws://h:80/", "-"], ["wss://h/", "-"], ["ftp://h:21/f", "-"],
  ["http://u:p@h/", "-"], ["http://a@b@c/", "-"], ["http://u:p:q@h/", "-"], ["http://:p@h/", "-"], ["http://u@/", "-"],
  ["http://0x7f.1/", "-"], ["http://127.0.0.1/", "-"], ["http://2130706433/", "-"], ["http://0177.0.0.01/", "-"],
  ["http://1.2.3.4.5/", "-"], ["http://1.2.3.256/", "-"], ["http://256.1.1.1/", "-"], ["http://1.2.3.4./", "-"],
  ["http://a.1/", "-"], ["http://1.0x/", "-"], ["http://09/", "-"], ["http://0x100000000/", "-"], ["http://4294967295/", "-"],
  ["http://[::1]:8080/", "-"], ["http://[::]/", "-"], ["http://[1:0:0:0:0:0:0:1]/", "-"], ["http://[1:0:0:2:0:0:0:3]/", "-"],
  ["http://[1:2:3:4:5:6:7:8]/", "-"], ["http://[::ffff:192.168.0.1]/", "-"], ["http://[::1:2::3]/", "-"],
  ["http://[1:2:3:4:5:6:7:8:9]/", "-"], ["http://[::1.2.3]/", "-"], ["http://[g::1]/", "-"], ["http://[::1]x/", "-"],
  ["http://[0:0:1:0:0:1:0:0]/", "-"], ["http://h%41st/", "-"], ["http://h%zzst/", "-"], ["http://h st/", "-"],
  ["http://h<st/", "-"], ["http://h^st/", "-"], ["http://h|st/", "-"], ["http:///", "-"], ["http://", "-"],
  ["/relative-without-base", "-"], ["not a url", "-"], ["", "-"], ["HTTP://H/", "-"], ["h\tt\ntp://h/", "-"],
  ["/x", "not a base"], ["http://h/p?a=1;b=2", "-"], ["/p?a=%2520", BASE], ["http://h/%zz%", "-"], ["/p#frag#two", BASE],
  ["http://[::1]", "-"], ["http://[::127.0.0.1]/", "-"], ["http://[1::]/", "-"], ["http://[1:0::0:1]/", "-"],
  ["http://h:0/", "-"], ["http://h:00080/", "-"], ["/p/?", BASE], ["/p?#", BASE], ["http://user@h:99/", "-"],
  ["/%C3%A9t%C3%A9/%E2%9C/%ZZ", BASE], ["/p?a=%C3%A9+%E2%9C%93&b=%E2%9C", BASE], ["http://h/p?a=1&b=2#frag?x", "-"], ["http://h?q", "-"], ["http://h#f", "-"],
];

// Where eventide/url refuses what Node accepts (docs/api.md): international domain names (IDNA, which a
// server's Host never needs) and schemes other than http, https, ws, wss and ftp.
const REFUSED = [["http://ex\u00e4mple.com/", "-"], ["http://\u2713.com/", "-"], ["file:///etc/passwd", "-"],
  ["mailto:x@y", "-"], ["blob:http://h/x", "-"], ["javascript:alert(1)", "-"]];

function nodeCase(input, base) {
  let url;
  try { url = new URL(input, base === "-" ? undefined : base); } catch { return "invalid"; }
  const parts = [url.href, url.protocol, url.username, url.password, url.host, url.hostname, url.port,
    url.pathname, url.search, url.hash, url.origin].map(escaped);
  // percentDecode is Node's lenient unescape: bad escapes stay, bytes read as UTF-8 with U+FFFD.
  parts.push(escaped(unescapeBuffer(url.pathname).toString()) + " " + escaped(unescapeBuffer(url.search, true).toString()));
  const params = url.searchParams;
  const pairs = [...params].map(([k, v]) => escaped(k) + "=" + escaped(v));
  parts.push(pairs.join("&") + " " + params.size + " " + escaped(params.toString()));
  const first = [...params.keys()][0] ?? "none";
  const got = params.get(first);
  parts.push(escaped(got ?? "null") + " " + params.getAll(first).length + " " + (params.has(first) ? "has" : "lacks") +
    " " + (params.get("surely-absent") === null ? "null" : "?"));
  params.append("added", "a b&c=d/\u00e9");
  params.delete(first);
  params.sort();
  parts.push(escaped(url.href));
  return parts.join(" ");
}

/** A seeded generator (mulberry32), so a failing input can be found again. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random inputs built from the characters URL parsing turns on: hosts (IPv4, IPv6), paths, queries. */
function fuzzCorpus(count, seed) {
  const next = random(seed);
  const pick = (s) => s[Math.floor(next() * s.length)];
  const shapes = [
    () => "http://[" + Array.from({ length: 1 + Math.floor(next() * 12) }, () => pick("0123456789abcdefABCDEF:::..")).join("") + "]/",
    () => { // IPv6 groups, one "::" maybe, an IPv4 tail maybe: mostly valid addresses, some one step off
      const groups = Array.from({ length: 1 + Math.floor(next() * 8) }, () =>
        Array.from({ length: Math.floor(next() * 5) }, () => pick("0000123abcF")).join(""));
      if (next() < 0.5) groups.splice(Math.floor(next() * groups.length), 0, "");
      if (next() < 0.2) groups.push([1, 2, 3, 4].map(() => Math.floor(next() * 300)).join("."));
      return "http://[" + groups.join(":") + "]/";
    },
    () => "http://" + Array.from({ length: 1 + Math.floor(next() * 14) }, () => pick("0123456789xX.a.%2e")).join("") + "/",
    () => Array.from({ length: Math.floor(next() * 20) }, () => pick("/\\.%2e%2Eab?#&=+ \u00e9:@")).join(""),
    () => "http://" + Array.from({ length: Math.floor(next() * 16) }, () => pick("ab@:/\\[]%41?#.1")).join(""),
  ];
  return Array.from({ length: count }, () => [pick(shapes)(), "http://h/a/b?c#d"]);
}

/** nodeCase, but "invalid" where eventide/url refuses by design what Node parses (see REFUSED). */
function expectedCase(input, base) {
  let url;
  try { url = new URL(input, base === "-" ? undefined : base); } catch { return "invalid"; }
  if (!["http:", "https:", "ws:", "wss:", "ftp:"].includes(url.protocol)) return "invalid";
  if (url.hostname.includes("xn--") && !input.includes("xn--")) return "invalid";
  return nodeCase(input, base);
}

for (const engine of ENGINES) {
  describe(`URL and URLSearchParams under ${engine}`, () => {
    it("parse, resolve, percent-encode and decode as Node's URL does, refusing what it refuses", async () => {
      const lines = await harness(APP, engine, "url", [...CORPUS, ...REFUSED].flat(), { perCase: 2 });
      assert.deepEqual(lines.slice(CORPUS.length), REFUSED.map(() => "invalid"));
      assert.equal(lines.length, CORPUS.length + REFUSED.length);
      CORPUS.forEach(([input, base], i) =>
        assert.equal(lines[i], nodeCase(input, base), `input ${JSON.stringify(input)} base ${JSON.stringify(base)}`));
    });

    it("agrees with Node on 1500 random inputs (seeded), and never aborts", async () => {
      const corpus = fuzzCorpus(1500, 1313);
      const lines = await harness(APP, engine, "url", corpus.flat(), { perCase: 2 });
      assert.equal(lines.length, corpus.length);
      corpus.forEach(([input, base], i) =>
        assert.equal(lines[i], expectedCase(input, base), `input ${JSON.stringify(input)} base ${JSON.stringify(base)}`));
    });
  });
}
