// Static files (Express's serve-static and its `send`, closure-free): a directory served over GET and HEAD with
// the validators and ranges of RFC 9110 — ETag and If-None-Match (§8.8.3, §13.1.2), Last-Modified and
// If-Modified-Since (§8.8.2, §13.1.3), Range, If-Range and 206/416 (§14) — and the body streamed from the file a
// chunk per loop turn, paced by the connection (eventide/fs's ReadStream piped into the response).
//
// Every path is looked up beneath the root's own directory fd, so the host's sandbox keeps `..` and links from
// leading out of the root (not only out of the granted directory); a request-target that could name something
// else than a file beneath the root (`..`, `%2e%2e`, a NUL, a backslash, an absolute path) is refused with 404
// before anything is looked up.
import * as fs from "../fs";
import { Errno, errnoName, printError } from "../sys";
import { IncomingMessage } from "./incoming";
import { ServerResponse } from "./server";
import { formatHttpDate, parseHttpDate } from "./date";
import { percentDecode } from "../url";

// WASI errnos that mean "no such file here" (the sandbox answers EPERM for a way out, ELOOP for a link it won't
// follow); any other failure is the server's (500).
const NOT_FOUND_ERRNOS: StaticArray<i32> = [44 /* ENOENT */, 54 /* ENOTDIR */, 63 /* EPERM */, 32 /* ELOOP */,
  2 /* EACCES */, 37 /* ENAMETOOLONG */, 76 /* ENOTCAPABLE */, 31 /* EISDIR */];
const DIRECTORY_INDEX = "index.html";

/**
 * Serves the files beneath `root` (a guest path inside a directory granted with `--dir`). The root is opened
 * once, here; if it can't be, a line on stderr says why and every request is left to the app (handle() returns
 * false).
 */
export function serveStatic(root: string): StaticFiles {
  return new StaticFiles(root);
}

export class StaticFiles {
  /** The root's directory fd, or -errno when it could not be opened. */
  readonly rootFd: i32;

  constructor(public root: string) {
    this.rootFd = fs.openDirectory(root);
    if (this.rootFd < 0) {
      const err = new fs.FsError(errnoName(<u16>-this.rootFd), "open", root, -this.rootFd);
      printError("serveStatic: " + err.message);
    }
  }

  /**
   * Answers `req` from the files if it is theirs: a GET or HEAD whose path names a file (or a directory with an
   * index.html) beneath the root, or a path refused as unsafe (404). Returns false, having sent nothing, for
   * any other request, so the app can answer it (e.g. with its routes, or 404).
   *
   * Answers: 200 with Content-Type (by extension), Content-Length, ETag (`"<mtime ms hex>-<size hex>"`, strong),
   * Last-Modified and Accept-Ranges; 304 when If-None-Match matches the ETag (weak comparison) or, without
   * If-None-Match, the file is not newer than If-Modified-Since; 206 with Content-Range for one satisfiable range
   * of a GET (`bytes=a-b`, `a-`, `-n`; If-Range must match, else the whole file); 416 with `Content-Range: bytes
   * *\/size` for an unsatisfiable one; several ranges or a malformed Range are ignored (the whole file, as RFC
   * 9110 §14.2 allows); HEAD gets the GET's head, no body and nothing read; 301 to the path with "/" for a
   * directory named without one; 500 when the file can't be read for another reason than its absence.
   */
  handle(req: IncomingMessage, res: ServerResponse): bool {
    const method = req.method;
    if ((method != "GET" && method != "HEAD") || this.rootFd < 0) return false;
    const target = req.url;
    if (!target.startsWith("/")) return false; // absolute-form and "*": not a path beneath the root
    const query = target.indexOf("?");
    const rawPath = query < 0 ? target : target.substring(0, query);
    const path = safePath(rawPath);
    if (path == null) {
      notFound(res);
      return true;
    }
    const rel = path.substring(1) + (path.endsWith("/") ? DIRECTORY_INDEX : "");
    const fd = fs.openAt(this.rootFd, rel);
    if (fd < 0) return this.failed(-fd, res);
    const stats = fs.fstatSync(fd);
    if (stats != null && stats.isDirectory()) {
      fs.closeSync(fd);
      res.statusCode = 301;
      res.setHeader("Location", rawPath + "/" + (query < 0 ? "" : target.substring(query)));
      res.end();
      return true;
    }
    if (stats == null || !stats.isFile()) {
      fs.closeSync(fd);
      return stats == null ? this.failed(<i32>Errno.IO, res) : false;
    }
    sendFile(req, res, fd, stats, rel);
    return true;
  }

  /** handle(), answering what it leaves with 405 (other methods, with Allow) or 404: a whole request listener. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    if (this.handle(req, res)) return;
    if (req.method != "GET" && req.method != "HEAD") {
      res.statusCode = 405;
      res.setHeader("Allow", "GET, HEAD");
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      res.end("Method Not Allowed\n");
      return;
    }
    notFound(res);
  }

  /** A lookup failed with `errno`: nothing there (false: the app's to answer), or a 500. */
  private failed(errno: i32, res: ServerResponse): bool {
    for (let i = 0; i < NOT_FOUND_ERRNOS.length; i++) {
      if (unchecked(NOT_FOUND_ERRNOS[i]) == errno) return false;
    }
    res.statusCode = 500;
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.end("Internal Server Error\n");
    return true;
  }
}

function notFound(res: ServerResponse): void {
  res.statusCode = 404;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end("Not Found\n");
}

/**
 * The percent-decoded path of a request-target (`raw` begins with "/"; eventide/url's percentDecode: invalid
 * escapes stay as they are), or null when it must be refused: a ".." segment (as sent or encoded), a NUL or a
 * backslash (as sent or encoded), or a path that decodes to one beginning "//" (an absolute path beneath the
 * root's "/").
 */
function safePath(raw: string): string | null {
  const path = percentDecode(raw);
  if (path.includes("\0") || path.includes("\\") || path.startsWith("//")) return null;
  const segments = path.split("/");
  for (let i = 0; i < segments.length; i++) {
    if (unchecked(segments[i]) == "..") return null;
  }
  return path;
}

/** The head and body for an open regular file `fd` (closed here or by its stream); see StaticFiles.handle. */
function sendFile(req: IncomingMessage, res: ServerResponse, fd: i32, stats: fs.Stats, rel: string): void {
  const size = stats.size;
  const mtimeSeconds = <i64>(stats.mtimeNs / 1_000_000_000);
  const etag = "\"" + (<i64>(stats.mtimeNs / 1_000_000)).toString(16) + "-" + size.toString(16) + "\"";
  const lastModified = formatHttpDate(mtimeSeconds);
  res.setHeader("ETag", etag);
  res.setHeader("Last-Modified", lastModified);
  if (notModified(req, etag, mtimeSeconds)) {
    fs.closeSync(fd);
    res.statusCode = 304;
    res.end();
    return;
  }
  res.setHeader("Content-Type", contentType(rel));
  res.setHeader("Accept-Ranges", "bytes");
  let start: i64 = 0;
  let end: i64 = size - 1;
  const range = req.method == "GET" ? req.getHeader("range") : null;
  if (range != null && ifRangeHolds(req, etag, lastModified)) {
    const outcome = parseRange(range, size);
    if (outcome == RANGE_UNSATISFIABLE) {
      fs.closeSync(fd);
      res.statusCode = 416;
      res.setHeader("Content-Range", "bytes */" + size.toString());
      res.end();
      return;
    }
    if (outcome == RANGE_OK) {
      start = rangeStart;
      end = rangeEnd;
      res.statusCode = 206;
      res.setHeader("Content-Range", "bytes " + start.toString() + "-" + end.toString() + "/" + size.toString());
    }
  }
  res.setHeader("Content-Length", (end - start + 1).toString());
  if (req.method == "HEAD" || end < start) {
    fs.closeSync(fd);
    res.end();
    return;
  }
  const options = new fs.ReadStreamOptions();
  options.fd = fd;
  options.start = start;
  options.end = end;
  // A read that fails ends the response as the pipe does (a 500, or the connection destroyed once it began);
  // the failure itself goes to stderr.
  fs.createReadStream(rel, options).pipe<ServerResponse>(res);
}

/**
 * Whether the conditional GET/HEAD fails as "not modified" (RFC 9110 §13.2.2): If-None-Match, when present,
 * decides alone (weak comparison; "*" matches any); otherwise If-Modified-Since, when a valid date not before
 * the file's modification time.
 */
function notModified(req: IncomingMessage, etag: string, mtimeSeconds: i64): bool {
  const ifNoneMatch = req.getHeader("if-none-match");
  if (ifNoneMatch != null) {
    const tags = ifNoneMatch.split(",");
    for (let i = 0; i < tags.length; i++) {
      let tag = unchecked(tags[i]).trim();
      if (tag == "*") return true;
      if (tag.startsWith("W/")) tag = tag.substring(2);
      if (tag == etag) return true;
    }
    return false;
  }
  const ifModifiedSince = req.getHeader("if-modified-since");
  if (ifModifiedSince == null) return false;
  const since = parseHttpDate(ifModifiedSince);
  return since >= 0 && mtimeSeconds <= since;
}

/**
 * If-Range (RFC 9110 §13.1.5): absent, or naming this representation — the same strong ETag, or exactly its
 * Last-Modified date. Otherwise the Range is ignored and the whole file sent.
 */
function ifRangeHolds(req: IncomingMessage, etag: string, lastModified: string): bool {
  const ifRange = req.getHeader("if-range");
  if (ifRange == null) return true;
  const value = ifRange.trim();
  if (value.startsWith("\"")) return value == etag;
  if (value.startsWith("W/")) return false; // a weak tag never matches strongly
  return value == lastModified;
}

const RANGE_IGNORED = 0;
const RANGE_OK = 1;
const RANGE_UNSATISFIABLE = 2;
let rangeStart: i64 = 0;
let rangeEnd: i64 = 0;

/**
 * One byte range of a `size`-byte file (RFC 9110 §14.1.2): RANGE_OK with [rangeStart, rangeEnd] (inclusive,
 * clipped to the file), RANGE_UNSATISFIABLE (a first byte past the end, or a suffix of 0), or RANGE_IGNORED for
 * another unit, several ranges or malformed syntax.
 */
function parseRange(value: string, size: i64): i32 {
  const eq = value.indexOf("=");
  if (eq < 0 || value.substring(0, eq).trim().toLowerCase() != "bytes") return RANGE_IGNORED;
  const spec = value.substring(eq + 1).trim(); // several ranges ("0-1,4-5") fail as numbers below
  const dash = spec.indexOf("-");
  if (dash < 0) return RANGE_IGNORED;
  const first = decimal(spec.substring(0, dash));
  const last = decimal(spec.substring(dash + 1));
  if (dash == 0) { // suffix: the last `last` bytes
    if (last < 0) return RANGE_IGNORED;
    if (last == 0 || size == 0) return RANGE_UNSATISFIABLE;
    rangeStart = max<i64>(0, size - last);
    rangeEnd = size - 1;
    return RANGE_OK;
  }
  if (first < 0 || (dash + 1 < spec.length && (last < 0 || last < first))) return RANGE_IGNORED;
  if (first >= size) return RANGE_UNSATISFIABLE;
  rangeStart = first;
  rangeEnd = dash + 1 == spec.length ? size - 1 : min<i64>(last, size - 1);
  return RANGE_OK;
}

/** A run of 1–18 digits as a number, or -1. */
function decimal(text: string): i64 {
  if (text.length == 0 || text.length > 18) return -1;
  let value: i64 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

// Content-Type by extension, for what a site serves (the common part of the mime-db table); text types say UTF-8.
const TYPES: StaticArray<string> = [
  "html", "text/html; charset=utf-8", "htm", "text/html; charset=utf-8", "css", "text/css; charset=utf-8",
  "js", "text/javascript; charset=utf-8", "mjs", "text/javascript; charset=utf-8", "json", "application/json",
  "map", "application/json", "txt", "text/plain; charset=utf-8", "md", "text/markdown; charset=utf-8",
  "csv", "text/csv; charset=utf-8", "xml", "application/xml", "svg", "image/svg+xml", "png", "image/png",
  "jpg", "image/jpeg", "jpeg", "image/jpeg", "gif", "image/gif", "webp", "image/webp", "avif", "image/avif",
  "ico", "image/x-icon", "wasm", "application/wasm", "pdf", "application/pdf", "woff", "font/woff",
  "woff2", "font/woff2", "ttf", "font/ttf", "otf", "font/otf", "mp4", "video/mp4", "webm", "video/webm",
  "mp3", "audio/mpeg", "ogg", "audio/ogg", "wav", "audio/wav", "zip", "application/zip", "gz", "application/gzip",
  "webmanifest", "application/manifest+json",
];

/** The Content-Type for a file name's extension (case-insensitive); application/octet-stream for others. */
export function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  if (dot < 0 || dot < name.lastIndexOf("/")) return "application/octet-stream";
  const ext = name.substring(dot + 1).toLowerCase();
  for (let i = 0; i < TYPES.length; i += 2) {
    if (unchecked(TYPES[i]) == ext) return unchecked(TYPES[i + 1]);
  }
  return "application/octet-stream";
}
