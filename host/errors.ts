// Coded errors (undici's UND_ERR_* habit): every failure the host reports has a stable code and says how to fix it.

export type EventideErrorCode =
  | "EVENTIDE_E_NOT_FOUND"
  | "EVENTIDE_E_NOT_EVENTIDE_MODULE"
  | "EVENTIDE_E_ADDR_IN_USE"
  | "EVENTIDE_E_LISTEN"
  | "EVENTIDE_E_WASMTIME_MISSING"
  | "EVENTIDE_E_GUEST_TRAP"
  | "EVENTIDE_E_MEMORY_LIMIT"
  | "EVENTIDE_E_BAD_FLAG"
  | "EVENTIDE_E_BUILD"
  | "EVENTIDE_E_EXISTS"
  | "EVENTIDE_E_BAD_FILE"
  | "EVENTIDE_E_MESSAGE_TOO_LARGE";

export class EventideError extends Error {
  readonly code: EventideErrorCode;
  /** What the user can do about it. */
  readonly fix: string;

  constructor(code: EventideErrorCode, message: string, fix: string) {
    super(fix ? `${message}\n  fix: ${fix}` : message);
    this.name = "EventideError";
    this.code = code;
    this.fix = fix;
  }
}

export const WASMTIME_HELP =
  "install a current wasmtime (47 or newer runs the app's WASI 0.2 component): curl https://wasmtime.dev/install.sh " +
  "-sSf | bash — or wasmtime 36 LTS (36–46 run its WASI preview1 module): add -s -- --version v36.0.20; " +
  "or point EVENTIDE_WASMTIME at one, or run with --engine node";
