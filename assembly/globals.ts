// The app's global `console` and `abort`, as Node's console and uncaught errors behave: console.log, info and
// debug write to stdout, console.error, warn, trace and a failed console.assert to stderr, each line as given
// (the WASI shim's console prefixes "Error: " and writes everything to stdout). An abort — a failed assert, an
// index out of range, `throw` — prints where it happened to stderr and exits with status 1, as Node does for an
// uncaught error (the shim's exits 255, which wasmtime reports as an invalid exit status with a backtrace).
// scripts/node-globals.mjs points the global names at these, over the shim's.

// abort must allocate nothing (it may be called from inside the allocator, or with the heap exhausted), so it
// writes from static memory through its own imports rather than through sys's printError.
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, writtenOut: usize): u16;
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

const STDERR: u32 = 2;
/** Room for the report: a longer message is cut (at a character boundary) to fit. */
const REPORT_BYTES: i32 = 1024;
const REPORT = memory.data(REPORT_BYTES);
const IOV = memory.data(16); // iovec { buf, len }, then the written count

/**
 * Ends the app as an uncaught error ends a Node process: writes
 *   Uncaught Error: <message>
 *       at <file>:<line>:<column>
 * to stderr and exits with status 1. The compiler passes the source position of the failed check (for a library
 * check such as an index out of range, the position inside the library: ~lib/…). The app's own files are named
 * from / (scripts/build.mjs compiles with --baseDir /), so the slash is put back.
 */
// @ts-ignore: decorator
@global export function eventide_abort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {
  let at = REPORT;
  const end = REPORT + <usize>REPORT_BYTES;
  at = put(at, end, "Uncaught Error: ");
  at = put(at, end, message != null ? message : "abort() called");
  if (fileName != null) {
    at = put(at, end, fileName.startsWith("~lib/") ? "\n    at " : "\n    at /");
    at = put(at, end, fileName);
    if (line > 0) at = putDecimal(put(at, end, ":"), end, line);
    if (column > 0) at = putDecimal(put(at, end, ":"), end, column);
  }
  at = put(at, end, "\n");
  store<u32>(IOV, <u32>REPORT);
  store<u32>(IOV, <u32>(at - REPORT), 4);
  fd_write(STDERR, IOV, 1, IOV + 8);
  proc_exit(1);
}

/** Writes `text` as UTF-8 at `at`, the whole characters that fit before `end` less one byte (the newline's). */
function put(at: usize, end: usize, text: string): usize {
  const room = <i32>(end - at) - 1;
  let bytes = 0;
  let units = 0;
  while (units < text.length) {
    const c = text.charCodeAt(units);
    const pair = c >= 0xd800 && c < 0xdc00 && units + 1 < text.length && (text.charCodeAt(units + 1) & 0xfc00) == 0xdc00;
    const width = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + width > room) break;
    bytes += width;
    units += pair ? 2 : 1;
  }
  return at + String.UTF8.encodeUnsafe(changetype<usize>(text), units, at);
}

/** Writes `n` in decimal at `at` if it fits before `end`; the new position. */
function putDecimal(at: usize, end: usize, n: u32): usize {
  let digits: usize = 1;
  for (let rest = n; rest >= 10; rest /= 10) digits++;
  if (at + digits >= end) return at;
  for (let i = digits; i > 0; i--) {
    store<u8>(at + i - 1, <u8>(0x30 + n % 10));
    n /= 10;
  }
  return at + digits;
}

let timers: Map<string, u64> | null = null;

/** Node's console (https://nodejs.org/api/console.html) over stdout and stderr; messages are strings. */
// @ts-ignore: decorator
@global export namespace eventide_console {
  /** Writes `message` and a newline to stdout. */
  export function log(message: string = ""): void {
    process.stdout.write(message + "\n");
  }
  /** console.log. */
  export function info(message: string = ""): void {
    log(message);
  }
  /** console.log. */
  export function debug(message: string = ""): void {
    log(message);
  }
  /** Writes `message` and a newline to stderr. */
  export function error(message: string = ""): void {
    process.stderr.write(message + "\n");
  }
  /** console.error. */
  export function warn(message: string = ""): void {
    error(message);
  }
  /** Writes "Trace: <message>" to stderr (without Node's JavaScript stack: a wasm stack is not readable here). */
  export function trace(message: string = ""): void {
    error("Trace: " + message);
  }
  /** When `condition` is falsy, writes "Assertion failed" (": message" if given) to stderr; never aborts. */
  export function assert<T>(condition: T, message: string = ""): void {
    if (!condition) error(message.length > 0 ? "Assertion failed: " + message : "Assertion failed");
  }
  /** Starts a timer named `label`; a label already running keeps its start, with a warning to stderr. */
  export function time(label: string = "default"): void {
    if (timers == null) timers = new Map<string, u64>();
    const all = timers!;
    if (all.has(label)) error("Warning: Label '" + label + "' already exists for console.time()");
    else all.set(label, process.hrtime());
  }
  /** Writes "<label>: <elapsed>ms" (three decimals) to stdout; an unknown label warns to stderr. */
  export function timeLog(label: string = "default"): void {
    if (started(label, "timeLog")) log(label + ": " + elapsed(label));
  }
  /** timeLog, then forgets the timer. */
  export function timeEnd(label: string = "default"): void {
    if (!started(label, "timeEnd")) return;
    log(label + ": " + elapsed(label));
    timers!.delete(label);
  }
}

function started(label: string, method: string): bool {
  const all = timers;
  if (all != null && all.has(label)) return true;
  eventide_console.error("Warning: No such label '" + label + "' for console." + method + "()");
  return false;
}

/** Milliseconds since console.time(label), as Node prints them: "12.345ms". */
function elapsed(label: string): string {
  const micros = (process.hrtime() - timers!.get(label)) / 1000;
  const fraction = (micros % 1000).toString();
  return (micros / 1000).toString() + "." + "000".substring(fraction.length) + fraction + "ms";
}
