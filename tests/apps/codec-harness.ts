// Differential harness for eventide/buffer and eventide/url: `codec-harness <mode> <input>…` prints one line per
// input, with every non-printable or non-ASCII character as \uXXXX, for tests/codecs to compare with Node's own
// Buffer and URL. Modes: "buffer" (each input through every encoding both ways); "url" (inputs in pairs: a URL
// and its base, "-" for none — the parts, the query's pairs, and the query after changes through searchParams).
import { Buffer } from "eventide/buffer";
import { URL, URLSearchParams, percentDecode } from "eventide/url";

const ENCODINGS = ["utf8", "hex", "base64", "base64url", "latin1", "ascii"];

/** `s` with every character outside printable ASCII (and "\\") written as \uXXXX: one line, comparable. */
function escaped(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c != 0x5c) out += String.fromCharCode(c);
    else out += "\\u" + c.toString(16).padStart(4, "0");
  }
  return out;
}

function bufferCase(input: string): string {
  // Decoding: the input as text in each encoding, shown as latin1 (one unit per byte).
  // Encoding: the input's latin1 bytes as text in each encoding.
  const parts = new Array<string>();
  const bytes = Buffer.from(input, "latin1");
  for (let i = 0; i < ENCODINGS.length; i++) {
    parts.push(escaped(Buffer.from(input, ENCODINGS[i]).toStringAs("latin1")));
    parts.push(escaped(bytes.toStringAs(ENCODINGS[i])));
  }
  parts.push(escaped(bytes.toStringAs("hex", 1, 3)));
  return parts.join(" ");
}

function paramsOf(params: URLSearchParams): string {
  const entries = params.entries();
  const pairs = new Array<string>();
  for (let i = 0; i < entries.length; i++) pairs.push(escaped(entries[i][0]) + "=" + escaped(entries[i][1]));
  return pairs.join("&") + " " + params.size.toString() + " " + escaped(params.toString());
}

function urlCase(input: string, base: string): string {
  const url = URL.parse(input, base == "-" ? null : base);
  if (url == null) return "invalid";
  const parts = [url.href, url.protocol, url.username, url.password, url.host, url.hostname, url.port,
    url.pathname, url.search, url.hash, url.origin];
  for (let i = 0; i < parts.length; i++) parts[i] = escaped(parts[i]);
  parts.push(escaped(percentDecode(url.pathname)) + " " + escaped(percentDecode(url.search, true)));
  const params = url.searchParams;
  parts.push(paramsOf(params));
  const first = params.keys().length > 0 ? params.keys()[0] : "none";
  const got = params.get(first);
  parts.push(escaped(got == null ? "null" : got) + " " + params.getAll(first).length.toString() + " " +
    (params.has(first) ? "has" : "lacks") + " " + (params.get("surely-absent") == null ? "null" : "?"));
  params.append("added", "a b&c=d/\u00e9");
  params.delete(first);
  params.sort();
  parts.push(escaped(url.href));
  return parts.join(" ");
}

const args = process.argv;
const mode = args.length > 1 ? args[1] : "";
for (let i = 2; i < args.length; i++) {
  if (mode == "buffer") console.log(bufferCase(args[i]));
  else if (mode == "url" && i + 1 < args.length) console.log(urlCase(args[i], args[++i]));
}
