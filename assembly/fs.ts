// eventide/fs: Node's fs (lib/fs.js, lib/internal/fs/streams.js) over the directories the host grants
// (`--dir HOST:GUEST`), closure-free. Paths are guest paths ("/public/a.txt"); the granted directory whose guest
// path is the longest prefix serves it, and the host resolves the rest beneath that directory only (links and
// `..` cannot leave it). WASI preview1 file calls block, so every operation runs from the loop's check phase
// (setImmediate) a bounded piece at a time — one read of at most highWaterMark bytes (64 KiB) per turn — and
// callbacks come later, never during the call, as Node's do.
import * as sys from "./sys";
import { EventEmitter, emitSoon } from "./events";
import { Buffer } from "./buffer";
import { Socket } from "./net";
import { setImmediate } from "./timers";
import { nextTick } from "./tasks";

// WASI errno numbers this module answers itself (assembly/sys/errno.ts names them all).
const ENOTCAPABLE: i32 = 76;
const EISDIR: i32 = 31;
const ENAMETOOLONG: i32 = 37;

/** Bytes read per loop turn unless a stream asks for another highWaterMark (Node's fs streams: 64 KiB). */
const CHUNK_SIZE: i32 = 64 * 1024;
/** The largest file readFile takes whole (Node refuses past 2 GiB; a wasm32 heap ends at 4 GiB). */
export const MAX_READ_FILE: i64 = 1 << 30;

/**
 * A failed file operation, as Node's (err.code, err.syscall, err.path): `code` is the errno name (ENOENT,
 * EACCES, ENOTDIR, EISDIR, EPERM for a path the host's sandbox refuses, ENOTCAPABLE for one outside every granted
 * directory, …) or an ERR_* code; `errno` is the WASI errno (positive, unlike Node's negated libuv numbers), 0
 * for ERR_* codes.
 */
export class FsError extends Error {
  constructor(public code: string, public syscall: string, public path: string, public errno: i32 = 0) {
    super(code + ": " + syscall + " '" + path + "'" + (errno == ENOTCAPABLE ? " (no granted directory holds it; grant one with --dir HOST:GUEST)" : ""));
    this.name = "FsError";
  }
}

function systemError(errno: i32, syscall: string, path: string): FsError {
  return new FsError(sys.errnoName(<u16>errno), syscall, path, errno);
}

/** What stat tells about a file (Node's fs.Stats). Times are since the Unix epoch; sizes in bytes. */
export class Stats {
  dev: u64 = 0;
  ino: u64 = 0;
  nlink: u64 = 0;
  size: i64 = 0;
  /** Times in nanoseconds (Node's bigint stats' *Ns); the *Ms getters below are Node's numbers. */
  atimeNs: u64 = 0;
  mtimeNs: u64 = 0;
  ctimeNs: u64 = 0;
  /** WASI's filetype (sys.FileType); the is*() methods read it. */
  filetype: u8 = 0;

  static read(stat: usize): Stats {
    const s = new Stats();
    s.dev = load<u64>(stat + sys.Filestat.DEV);
    s.ino = load<u64>(stat + sys.Filestat.INO);
    s.filetype = load<u8>(stat + sys.Filestat.FILETYPE);
    s.nlink = load<u64>(stat + sys.Filestat.NLINK);
    s.size = <i64>load<u64>(stat + sys.Filestat.SIZE);
    s.atimeNs = load<u64>(stat + sys.Filestat.ATIM);
    s.mtimeNs = load<u64>(stat + sys.Filestat.MTIM);
    s.ctimeNs = load<u64>(stat + sys.Filestat.CTIM);
    return s;
  }

  get atimeMs(): f64 { return <f64>this.atimeNs / 1e6; }
  get mtimeMs(): f64 { return <f64>this.mtimeNs / 1e6; }
  get ctimeMs(): f64 { return <f64>this.ctimeNs / 1e6; }
  get mtime(): Date { return new Date(<i64>(this.mtimeNs / 1_000_000)); }
  isFile(): bool { return this.filetype == sys.FileType.REGULAR_FILE; }
  isDirectory(): bool { return this.filetype == sys.FileType.DIRECTORY; }
  isSymbolicLink(): bool { return this.filetype == sys.FileType.SYMBOLIC_LINK; }
  isSocket(): bool { return this.filetype == sys.FileType.SOCKET_STREAM || this.filetype == sys.FileType.SOCKET_DGRAM; }
  isBlockDevice(): bool { return this.filetype == sys.FileType.BLOCK_DEVICE; }
  isCharacterDevice(): bool { return this.filetype == sys.FileType.CHARACTER_DEVICE; }
  /** WASI has no FIFOs. */
  isFIFO(): bool { return false; }
}

const statBuffer = memory.data(sys.FILESTAT_SIZE, 8);
// One read buffer for every stream: a chunk is handed on (and copied by whoever keeps it) before the next read.
let scratch = new Buffer(CHUNK_SIZE);

function scratchOf(size: i32): Buffer {
  if (scratch.length < size) scratch = new Buffer(size);
  return scratch;
}

// ---- paths ----

let relative: string = "";

/** A path's components, without empty ones and "." ("/a//./b/" → ["a", "b"]); ".." stays for the host to judge. */
function components(path: string): Array<string> {
  const parts = path.split("/");
  const out = new Array<string>();
  for (let i = 0; i < parts.length; i++) {
    const part = unchecked(parts[i]);
    if (part.length > 0 && part != ".") out.push(part);
  }
  return out;
}

// The granted directories, found when the module starts — before the app's script runs and before the runtime
// closes any fd (the control channel's listener, once it has its connection), since finding them stops at the
// first fd that is not open.
const granted = sys.preopens();
const grantedParts = new Array<Array<string>>();
for (let i = 0; i < granted.length; i++) grantedParts.push(components(unchecked(granted[i]).path));

/**
 * The granted directory holding `path`: its fd, with the path beneath it in `relative` ("." for the directory
 * itself); or -ENOTCAPABLE. Relative paths are taken from "/" (WASI has no working directory); a directory
 * granted as "." or "/" holds every path no other one does.
 */
function locate(path: string): i32 {
  const dirs = granted;
  const dirParts = grantedParts;
  const parts = components(path);
  let best = -1;
  let bestLength = -1;
  for (let i = 0; i < dirs.length; i++) {
    const prefix = unchecked(dirParts[i]);
    if (prefix.length <= bestLength || prefix.length > parts.length) continue;
    let matches = true;
    for (let j = 0; j < prefix.length && matches; j++) matches = unchecked(prefix[j]) == unchecked(parts[j]);
    if (!matches) continue;
    best = i;
    bestLength = prefix.length;
  }
  if (best < 0) return -ENOTCAPABLE;
  relative = bestLength == parts.length ? "." : parts.slice(bestLength).join("/");
  if (path.endsWith("/") && relative != ".") relative += "/"; // "file/" must fail as ENOTDIR, as in Node
  return unchecked(dirs[best]).fd;
}

/** Opens `path` for reading: the fd, or -errno. `directory`: it must be one. */
function openPath(path: string, directory: bool): i32 {
  const dir = locate(path);
  return dir < 0 ? dir : sys.openAt(dir, relative, directory);
}

/**
 * Opens `path` beneath directory fd `dirFd` for reading: the fd, or -errno (e.g. -EPERM for a path that leads
 * out of `dirFd`, by `..` or a link). For eventide/http's serveStatic, which keeps its root open so that
 * nothing beneath it can lead out of it.
 */
export function openAt(dirFd: i32, path: string, directory: bool = false): i32 {
  return sys.openAt(dirFd, path, directory);
}

/** Opens the directory at `path` (see openAt): its fd, or -errno. */
export function openDirectory(path: string): i32 {
  return openPath(path, true);
}

/** What an open fd is; null if the host can't say (a closed fd). */
export function fstatSync(fd: i32): Stats | null {
  return sys.fileStat(fd, statBuffer) == sys.Errno.SUCCESS ? Stats.read(statBuffer) : null;
}

/** Closes an fd from openAt/openDirectory (Node's fs.closeSync). */
export function closeSync(fd: i32): void {
  sys.closeFile(fd);
}

/** Whether something is at `path` (following links), as Node's fs.existsSync: false for any error. */
export function existsSync(path: string): bool {
  return statSync(path) != null;
}

/**
 * stat(2) at `path`, following links, blocking for the one call; null when there is nothing there or it can't
 * be reached (Node's statSync with throwIfNoEntry false; stat() tells why).
 */
export function statSync(path: string): Stats | null {
  const dir = locate(path);
  if (dir < 0 || sys.pathStat(dir, relative, true, statBuffer) != sys.Errno.SUCCESS) return null;
  return Stats.read(statBuffer);
}

// ---- requests: one bounded step per loop turn, in the check phase ----

abstract class Request {
  /** Does a bounded piece of the work; true once the callback has run. */
  abstract step(): bool;
}

function runRequest(request: Request): void {
  if (!request.step()) setImmediate<Request>(runRequest, request);
}

class StatRequest<T> extends Request {
  constructor(private path: string, private follow: bool,
              private callback: (err: FsError | null, stats: Stats | null, arg: T) => void, private arg: T) {
    super();
  }

  step(): bool {
    const dir = locate(this.path);
    const errno = dir < 0 ? -dir : <i32>sys.pathStat(dir, relative, this.follow, statBuffer);
    if (errno != 0) this.callback(systemError(errno, this.follow ? "stat" : "lstat", this.path), null, this.arg);
    else this.callback(null, Stats.read(statBuffer), this.arg);
    return true;
  }
}

/** `callback(err, stats, arg)` with what is at `path`, following links (Node's fs.stat). */
export function stat<T = i32>(path: string, callback: (err: FsError | null, stats: Stats | null, arg: T) => void,
                              arg: T = changetype<T>(0)): void {
  runRequestSoon(new StatRequest<T>(path, true, callback, arg));
}

/** As stat, but a link at the end of `path` is described itself (Node's fs.lstat). */
export function lstat<T = i32>(path: string, callback: (err: FsError | null, stats: Stats | null, arg: T) => void,
                               arg: T = changetype<T>(0)): void {
  runRequestSoon(new StatRequest<T>(path, false, callback, arg));
}

function runRequestSoon(request: Request): void {
  setImmediate<Request>(runRequest, request);
}

const DIRENT_SIZE: i32 = 24;

class ReaddirRequest<T> extends Request {
  private fd: i32;
  private cookie: u64 = 0;
  private names: Array<string> = new Array<string>();

  constructor(private path: string, private callback: (err: FsError | null, names: Array<string> | null, arg: T) => void,
              private arg: T) {
    super();
    this.fd = openPath(path, true);
  }

  /** One fd_readdir of at most CHUNK_SIZE bytes; entries cut off at its end are asked for again next turn. */
  step(): bool {
    if (this.fd < 0) return this.fail(-this.fd, "scandir");
    const buf = scratchOf(CHUNK_SIZE).dataStart;
    const used = sys.readDir(this.fd, buf, CHUNK_SIZE, this.cookie);
    if (used < 0) return this.fail(-used, "scandir");
    let at = 0;
    while (at + DIRENT_SIZE <= used) {
      const nameLength = <i32>load<u32>(buf + <usize>at, 16);
      if (at + DIRENT_SIZE + nameLength > used) break;
      const name = String.UTF8.decodeUnsafe(buf + <usize>(at + DIRENT_SIZE), nameLength);
      if (name != "." && name != "..") this.names.push(name);
      this.cookie = load<u64>(buf + <usize>at);
      at += DIRENT_SIZE + nameLength;
    }
    if (used == CHUNK_SIZE) {
      return at == 0 ? this.fail(ENAMETOOLONG, "scandir") : false;
    }
    sys.closeFile(this.fd);
    this.callback(null, this.names, this.arg);
    return true;
  }

  private fail(errno: i32, syscall: string): bool {
    if (this.fd >= 0) sys.closeFile(this.fd);
    this.callback(systemError(errno, syscall, this.path), null, this.arg);
    return true;
  }
}

/** `callback(err, names, arg)` with the names in the directory at `path`, but "." and "..", in the host's order (Node's fs.readdir). */
export function readdir<T = i32>(path: string, callback: (err: FsError | null, names: Array<string> | null, arg: T) => void,
                                 arg: T = changetype<T>(0)): void {
  runRequestSoon(new ReaddirRequest<T>(path, callback, arg));
}

// ---- reading files: a chunk per loop turn ----

/** Reads an open file a chunk per loop turn while flowing, from `position` to `limit` or the end of the file. */
abstract class FileReader extends EventEmitter {
  /** The open file, or -1. */
  fd: i32 = -1;
  bytesRead: i64 = 0;
  path: string = "";
  protected position: i64 = 0;
  /** Where reading stops (exclusive), or -1: at the end of the file. */
  protected limit: i64 = -1;
  protected chunkSize: i32 = CHUNK_SIZE;
  protected flowing: bool = false;
  /** Ended, failed or destroyed: no more reads, no more events but 'close'. */
  protected done: bool = false;
  private scheduled: bool = false;

  /** `length` bytes at `ptr` were read (valid only during the call). */
  protected abstract received(ptr: usize, length: i32): void;
  protected abstract reachedEnd(): void;
  /** Internal: reading failed (the file is closed). */
  abstract failed(err: FsError): void;

  /**
   * Opens `path` (a regular file: a directory is EISDIR, as Node's read of one); an error goes to failed()
   * at the next turn.
   */
  protected open(path: string): void {
    this.path = path;
    const fd = openPath(path, false);
    if (fd < 0) return this.failSoon(systemError(-fd, "open", path));
    if (sys.fileStat(fd, statBuffer) == sys.Errno.SUCCESS && load<u8>(statBuffer + sys.Filestat.FILETYPE) == sys.FileType.DIRECTORY) {
      sys.closeFile(fd);
      return this.failSoon(systemError(EISDIR, "read", path));
    }
    this.fd = fd;
  }

  protected failSoon(err: FsError): void {
    this.done = true;
    nextTick<FsErrorFor>(reportFailure, new FsErrorFor(this, err));
  }

  protected schedule(): void {
    if (this.scheduled || this.done || !this.flowing) return;
    this.scheduled = true;
    setImmediate<FileReader>(readStep, this);
  }

  /** One read of at most chunkSize bytes. */
  step(): void {
    this.scheduled = false;
    if (this.done || !this.flowing) return;
    let want = this.chunkSize;
    if (this.limit >= 0) want = <i32>min<i64>(<i64>want, this.limit - this.position);
    const buf = scratchOf(this.chunkSize).dataStart;
    const n = want > 0 ? sys.readAt(this.fd, buf, want, <u64>this.position) : 0;
    if (n < 0) {
      this.done = true;
      this.closeFd();
      this.failed(systemError(-n, "read", this.path));
      return;
    }
    if (n == 0) {
      this.done = true;
      this.closeFd();
      this.reachedEnd();
      return;
    }
    this.position += n;
    this.bytesRead += n;
    this.received(buf, n);
    this.schedule();
  }

  protected closeFd(): void {
    if (this.fd < 0) return;
    sys.closeFile(this.fd);
    this.fd = -1;
  }
}

function readStep(reader: FileReader): void {
  reader.step();
}

class FsErrorFor {
  constructor(public reader: FileReader, public err: FsError) {}
}

function reportFailure(f: FsErrorFor): void {
  f.reader.failed(f.err);
}

class ReadFileRequest<T> extends FileReader {
  private data: Buffer = new Buffer(0);
  private length: i32 = 0;

  constructor(path: string, private callback: (err: FsError | null, data: Buffer | null, arg: T) => void, private arg: T) {
    super();
    this.open(path);
    if (!this.done) this.begin();
  }

  private begin(): void {
    const stats = fstatSync(this.fd);
    const size = stats != null ? stats.size : 0;
    if (size > MAX_READ_FILE) {
      this.closeFd();
      this.failSoon(new FsError("ERR_FS_FILE_TOO_LARGE", "read", this.path));
      return;
    }
    this.data = new Buffer(<i32>size);
    this.limit = size; // what fstat said, as Node reads a regular file
    this.flowing = true;
    this.schedule();
  }

  protected received(ptr: usize, length: i32): void {
    memory.copy(this.data.dataStart + <usize>this.length, ptr, length);
    this.length += length;
  }

  protected reachedEnd(): void {
    let data = this.data;
    if (this.length < data.length) data = Buffer.copyOf(data.dataStart, this.length); // it shrank meanwhile
    this.callback(null, data, this.arg);
  }

  failed(err: FsError): void {
    this.closeFd();
    this.callback(err, null, this.arg);
  }
}

/**
 * `callback(err, data, arg)` with the whole file at `path` (Node's fs.readFile without an encoding; call
 * data.toString() for UTF-8). Read a chunk per loop turn into one Buffer of the size stat gives; files over
 * MAX_READ_FILE (1 GiB) fail with ERR_FS_FILE_TOO_LARGE — stream those (createReadStream).
 */
export function readFile<T = i32>(path: string, callback: (err: FsError | null, data: Buffer | null, arg: T) => void,
                                  arg: T = changetype<T>(0)): void {
  new ReadFileRequest<T>(path, callback, arg);
}

// ---- streams ----

/** createReadStream's options (Node's): `start`/`end` are byte offsets, `end` inclusive (-1: to the end of the file). */
export class ReadStreamOptions {
  /** An fd already open for reading (from openAt): `path` only names it; the stream closes it. -1: open `path`. */
  fd: i32 = -1;
  start: i64 = 0;
  end: i64 = -1;
  /** Bytes per read, and per loop turn (1 … 16 MiB). */
  highWaterMark: i32 = CHUNK_SIZE;
}

/** Where a stream's chunks go when piped: the destination's write() and end(), whatever its class. */
abstract class PipeTarget {
  abstract write(chunk: Uint8Array): bool;
  abstract end(): void;
  /** The source failed: the destination can't be completed. */
  abstract abort(): void;
  abstract release(): void;
}

class PipeTo<W> extends PipeTarget {
  constructor(public dest: W) {
    super();
  }
  write(chunk: Uint8Array): bool {
    return this.dest.write<Uint8Array>(chunk);
  }
  end(): void {
    this.dest.end();
  }
  /**
   * A socket is destroyed. A response (anything with `req` and `headersSent`) that has sent nothing yet is
   * answered 500; one that has begun can't be completed, so its connection is destroyed.
   */
  abort(): void {
    const dest = this.dest;
    if (dest instanceof Socket) {
      dest.destroy();
    } else if (isDefined(dest.req) && isDefined(dest.headersSent)) {
      if (dest.headersSent) {
        dest.req.socket.destroy();
      } else {
        dest.statusCode = 500;
        dest.end();
      }
    }
  }
  release(): void {
    const dest = changetype<EventEmitter>(this.dest);
    piped.delete(dest);
    dest.off("drain", destinationDrained);
    if (this.dest instanceof Socket) dest.off("close", socketClosed);
    else dest.off("close", destinationClosed);
  }
}

// Each destination's source, for its 'drain' and 'close' listeners (which receive only the destination).
const piped = new Map<EventEmitter, ReadStream>();

function destinationDrained(dest: EventEmitter): void {
  if (piped.has(dest)) piped.get(dest).drained();
}

function destinationClosed(dest: EventEmitter): void {
  if (piped.has(dest)) piped.get(dest).destroy();
}

function socketClosed(hadError: bool, socket: Socket): void {
  destinationClosed(socket);
}

/**
 * A file read as a stream (Node's fs.ReadStream): 'data' (Buffer) a chunk per loop turn while flowing, then
 * 'end' and 'close'; 'error' (FsError) then 'close' on failure. It starts flowing, as Node's, when a 'data'
 * listener is added, resume() or pipe() is called. `pipe(dest)` writes each chunk to `dest` (a ServerResponse,
 * a Socket: anything with write(chunk): bool, end() and 'drain'), stops reading while `dest.write` returns false
 * and goes on at its 'drain', ends `dest` at the end of the file, and is destroyed (its file closed) if `dest`
 * closes first. Memory stays one chunk plus what `dest` queues, whatever the file's size.
 */
export class ReadStream extends FileReader {
  /** Not yet opened (Node's): false once the 'open' and 'ready' events are queued. */
  pending: bool = true;
  destroyed: bool = false;
  readableEnded: bool = false;
  start: i64 = 0;
  end: i64 = -1;
  private target: PipeTarget | null = null;
  private awaitingDrain: bool = false;
  /** Internal: the error the next tick reports. */
  pendingError: FsError | null = null;

  constructor(path: string, options: ReadStreamOptions | null = null) {
    super();
    this.path = path;
    this.begin(options != null ? options : new ReadStreamOptions());
  }

  private begin(o: ReadStreamOptions): void {
    this.start = o.start;
    this.end = o.end;
    if (o.start < 0 || (o.end >= 0 && o.end < o.start) || o.end < -1 || o.highWaterMark < 1 || o.highWaterMark > 16 << 20) {
      this.failSoon(new FsError("ERR_OUT_OF_RANGE", "open", this.path));
      return;
    }
    this.chunkSize = o.highWaterMark;
    this.position = o.start;
    if (o.end >= 0) this.limit = o.end + 1;
    if (o.fd >= 0) this.fd = o.fd;
    else this.open(this.path);
    if (this.done) return;
    this.pending = false;
    nextTick<ReadStream>(announceOpen, this);
  }

  on<F>(event: string, listener: F): this {
    super.on<F>(event, listener);
    if (event == "data") this.resume();
    return this;
  }

  pause(): this {
    this.flowing = false;
    return this;
  }

  resume(): this {
    this.flowing = true;
    this.schedule();
    return this;
  }

  isPaused(): bool {
    return !this.flowing;
  }

  /** Sends every chunk to `dest` with backpressure (see the class); returns `dest`. */
  pipe<W>(dest: W): W {
    this.unpipe();
    const emitter = changetype<EventEmitter>(dest);
    this.target = new PipeTo<W>(dest);
    piped.set(emitter, this);
    emitter.on("drain", destinationDrained);
    if (dest instanceof Socket) emitter.on("close", socketClosed);
    else emitter.on("close", destinationClosed);
    this.resume();
    return dest;
  }

  unpipe(): this {
    const target = this.target;
    if (target != null) {
      target.release();
      this.target = null;
    }
    this.awaitingDrain = false;
    return this;
  }

  /** Closes the file at once: no more 'data'; 'error' (if `err`) and 'close' follow. */
  destroy(err: FsError | null = null): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.done = true;
    const target = this.target;
    if (err != null && target != null) target.abort();
    this.unpipe();
    this.closeFd();
    if (err != null) {
      this.pendingError = err;
      nextTick<ReadStream>(reportError, this);
    }
    emitSoon(this, "close");
    return this;
  }

  close(): void {
    this.destroy();
  }

  /** The pipe's destination drained: read on. */
  drained(): void {
    if (!this.awaitingDrain) return;
    this.awaitingDrain = false;
    this.resume();
  }

  protected received(ptr: usize, length: i32): void {
    let chunk: Uint8Array | null = null;
    if (this.listenerCount("data") > 0) {
      const copy = Buffer.copyOf(ptr, length);
      this.emitWith<Buffer>("data", copy);
      if (this.done) return; // a listener destroyed the stream
      chunk = copy;
    }
    const target = this.target;
    if (target == null) return;
    if (chunk == null) chunk = scratch.subarray(0, length);
    if (!target.write(chunk)) {
      this.flowing = false;
      this.awaitingDrain = true;
    }
  }

  protected reachedEnd(): void {
    this.readableEnded = true;
    this.emit("end");
    const target = this.target;
    if (target != null) {
      target.end();
      this.unpipe();
    }
    this.destroy();
  }

  failed(err: FsError): void {
    this.destroy(err);
  }
}

/**
 * A stream's 'error', or with nobody listening a line on stderr: unlike other emitters' (and as a response's),
 * it doesn't end the app, since the path that failed often comes from a client (see docs/api.md).
 */
function reportError(stream: ReadStream): void {
  const err = stream.pendingError;
  if (err == null) return;
  stream.pendingError = null;
  if (stream.listenerCount("error") > 0) stream.emitWith<FsError>("error", err);
  else sys.printError("eventide: unhandled 'error' on a file stream, which was closed: " + err.message);
}

function announceOpen(stream: ReadStream): void {
  if (stream.destroyed) return;
  stream.emitWith<i32>("open", stream.fd);
  stream.emit("ready");
}

/** A stream of the file at `path` (Node's fs.createReadStream); see ReadStream and ReadStreamOptions. */
export function createReadStream(path: string, options: ReadStreamOptions | null = null): ReadStream {
  return new ReadStream(path, options);
}
