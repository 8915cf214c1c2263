// Test app for eventide/fs (tests/fs/fs.test.mjs): runs each call on the tree the test grants as /data and
// prints one line per result. argv[1] picks the cases: "read" (readFile, stat, lstat, readdir, existsSync,
// statSync, errors) or "stream <path> [start] [end]" (createReadStream: a line per chunk size, then the total).
import * as fs from "eventide/fs";
import { Buffer } from "eventide/buffer";

function errorLine(name: string, err: fs.FsError): void {
  console.log(name + " error " + err.code + " " + err.errno.toString() + " " + err.syscall + " " + err.path);
}

function readFileCase(path: string): void {
  fs.readFile<string>(path, (err: fs.FsError | null, data: Buffer | null, path: string) => {
    if (err != null) errorLine("readFile " + path, err);
    else console.log("readFile " + path + " " + data!.length.toString() + " " + JSON_quote(data!.toString()));
  }, path);
}

/** FNV-1a (32-bit) of the bytes, for comparing a large file's contents in one line. */
function fnv1a(data: Uint8Array): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = (h ^ <u32>unchecked(data[i])) * 0x01000193;
  return h;
}

function readFileHashCase(path: string): void {
  fs.readFile<string>(path, (err: fs.FsError | null, data: Buffer | null, path: string) => {
    if (err != null) errorLine("readFile " + path, err);
    else console.log("readFile " + path + " " + data!.length.toString() + " fnv1a=" + fnv1a(data!).toString(16));
  }, path);
}

function JSON_quote(text: string): string {
  return "[" + text.replaceAll("\n", "\\n") + "]";
}

function statCase(path: string, link: bool): void {
  const cb = (err: fs.FsError | null, stats: fs.Stats | null, name: string): void => {
    if (err != null) {
      errorLine(name, err);
      return;
    }
    const s = stats!;
    console.log(name + " file=" + s.isFile().toString() + " dir=" + s.isDirectory().toString() + " link=" +
      s.isSymbolicLink().toString() + " size=" + s.size.toString() + " mtimeMs=" + (<i64>s.mtimeMs).toString());
  };
  if (link) fs.lstat<string>(path, cb, "lstat " + path);
  else fs.stat<string>(path, cb, "stat " + path);
}

function readdirCase(path: string): void {
  fs.readdir<string>(path, (err: fs.FsError | null, names: Array<string> | null, path: string) => {
    if (err != null) {
      errorLine("readdir " + path, err);
      return;
    }
    const sorted = names!.slice(0);
    sorted.sort();
    console.log("readdir " + path + " " + sorted.length.toString() + " " + sorted.join(","));
  }, path);
}

let chunks = 0;
let total: i64 = 0;
let largest = 0;

function stream(path: string, start: i64, end: i64): void {
  const options = new fs.ReadStreamOptions();
  options.start = start;
  options.end = end;
  const s = fs.createReadStream(path, options);
  s.on("open", (fd: i32) => { console.log("open"); });
  s.on("data", (chunk: Buffer) => {
    chunks++;
    total += chunk.length;
    if (chunk.length > largest) largest = chunk.length;
    if (chunks == 1) console.log("first " + String.UTF8.decodeUnsafe(chunk.dataStart, min(16, chunk.length)));
  });
  s.on("end", () => { console.log("end chunks=" + chunks.toString() + " bytes=" + total.toString() + " largest=" + largest.toString()); });
  s.on("error", (err: fs.FsError) => { errorLine("stream", err); });
  s.on("close", () => { console.log("close"); });
}

const mode = process.argv.length > 1 ? process.argv[1] : "";
if (mode == "read") {
  console.log("exists /data/a.txt " + fs.existsSync("/data/a.txt").toString());
  console.log("exists /data/missing " + fs.existsSync("/data/missing").toString());
  console.log("exists /elsewhere " + fs.existsSync("/elsewhere").toString());
  const s = fs.statSync("/data/sub");
  console.log("statSync /data/sub " + (s != null && s.isDirectory()).toString());
  readFileCase("/data/a.txt");
  readFileCase("data/sub/b.txt");
  readFileCase("/data/sub/../a.txt");
  readFileCase("/data/empty.txt");
  readFileCase("/data/missing.txt");
  readFileCase("/data/sub");
  readFileCase("/data/a.txt/x");
  readFileCase("/data/a.txt/");
  readFileCase("/data/sub/grant/b.txt");
  readFileCase("/data/../outside.txt");
  readFileCase("/data/leak");
  readFileCase("/elsewhere/a.txt");
  statCase("/data/a.txt", false);
  statCase("/data/in-link", false);
  statCase("/data/in-link", true);
  statCase("/data/missing", false);
  readdirCase("/data");
  readdirCase("/data/sub");
  readdirCase("/data/a.txt");
  readdirCase("/data/missing");
  readFileHashCase("/data/big.bin");
  // Listed over several fd_readdir calls: every name once, none cut off where one call's buffer ended.
  fs.readdir("/data/many", (err: fs.FsError | null, names: Array<string> | null) => {
    const distinct = new Set<string>();
    for (let i = 0; i < names!.length; i++) distinct.add(names![i]);
    const sorted = names!.slice(0);
    sorted.sort();
    console.log("readdir /data/many " + names!.length.toString() + " distinct=" + distinct.size.toString() +
      " fnv1a=" + fnv1a(Buffer.from(sorted.join("/"))).toString(16));
  });
  console.log("script done");
} else if (mode == "stream") {
  stream(process.argv[2], process.argv.length > 3 ? I64.parseInt(process.argv[3]) : 0, process.argv.length > 4 ? I64.parseInt(process.argv[4]) : -1);
} else {
  console.log("usage: fs-probe read | stream PATH [START] [END]");
}
