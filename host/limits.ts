// The limits an app runs under that the guest enforces itself (eventide run --max-connections, --max-header-size,
// --headers-timeout, --request-timeout, and the drain's grace period when its host is gone): handed over as
// environment variables, which the runtime reads as the default of every server the app creates
// (assembly/net.ts hostLimit), so they hold the same under both engines.
import { EventideError } from "./errors.js";

export interface Limits {
  /** Connections open at once per server; more are closed on arrival, counted and logged once per burst. */
  maxConnections?: number;
  /** Largest request head in bytes (Node's maxHeaderSize, default 16 KiB); larger ones are answered 431. */
  maxHeaderSize?: number;
  /** Time to receive a request's head, in ms (Node's headersTimeout, default 60000); then 408. */
  headersTimeout?: number;
  /** Time to receive a whole request, body included, in ms (Node's requestTimeout, default 300000); then 408. */
  requestTimeout?: number;
  /**
   * How long the app may drain, in ms, once its host is gone (eventide killed: the control channel ends) before
   * it exits 124 by itself (default 5000; `eventide run` passes its --grace).
   */
  grace?: number;
}

const VARIABLES: Record<keyof Limits, string> = {
  maxConnections: "EVENTIDE_MAX_CONNECTIONS",
  maxHeaderSize: "EVENTIDE_MAX_HEADER_SIZE",
  headersTimeout: "EVENTIDE_HEADERS_TIMEOUT",
  requestTimeout: "EVENTIDE_REQUEST_TIMEOUT",
  grace: "EVENTIDE_GRACE",
};

/** The guest's i32 limits: 0 for none (where the runtime allows it) up to 2^31 - 1. */
const MAX = 2 ** 31 - 1;

/**
 * The environment variables that carry `limits` to the app. Throws EventideError EVENTIDE_E_BAD_FLAG for a
 * value that is not a whole number from 0 to 2^31 - 1 (maxHeaderSize: from 1).
 */
export function limitEnv(limits: Limits): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, variable] of Object.entries(VARIABLES) as Array<[keyof Limits, string]>) {
    const value = limits[key];
    if (value === undefined) continue;
    const least = key === "maxHeaderSize" ? 1 : 0;
    if (!Number.isInteger(value) || value < least || value > MAX) {
      throw new EventideError("EVENTIDE_E_BAD_FLAG", `${key} ${value} is out of range`, `use a whole number from ${least} to ${MAX}`);
    }
    env[variable] = String(value);
  }
  return env;
}
