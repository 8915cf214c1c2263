// Differential harness for eventide/buffer and eventide/url: `codec-harness <mode> <input>…` prints one line per
// input, with every non-printable or non-ASCII character as \uXXXX, for tests/codecs to compare with Node's own
// Buffer and URL. Modes: "buffer" (each input through every encoding both ways).
import { Buffer } from "eventide/buffer";

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

const args = process.argv;
const mode = args.length > 1 ? args[1] : "";
for (let i = 2; i < args.length; i++) {
  if (mode == "buffer") console.log(bufferCase(args[i]));
}
