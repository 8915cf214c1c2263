// What both engines share: the options they run an app with and the handle they return.
import type { Writable } from "node:stream";
import type { BoundListener } from "../listeners.js";

/** A directory granted to the app: `host` seen as `guest`, read-only unless `writable` (host/dirs.ts). */
export interface DirGrant {
  host: string;
  guest: string;
  writable?: boolean;
}

export interface EngineOptions {
  wasmPath: string;
  listeners: BoundListener[];
  env: Record<string, string>;
  args: string[];
  dirs: DirGrant[];
  /** Largest linear memory the app may grow to, in bytes. */
  memoryLimit?: number;
  stdout?: Writable;
  stderr?: Writable;
}

/** What an app is run with, whatever runs it (an engine, or each worker process of a cluster). */
export type AppOptions = Pick<EngineOptions, "wasmPath" | "env" | "args" | "dirs" | "memoryLimit">;

/**
 * How a stop ended. "graceful": the app's work in flight finished and it ended by itself within the grace
 * period. "forced": it was ended with work possibly still in flight — the grace period ran out, or the engine
 * cannot drain (wasmtime: WASI preview1 delivers no signal, so a stop ends the process at once).
 */
export type StopOutcome = "graceful" | "forced";

/** The exit code a forced stop reports, whatever the app's own: 124, as timeout(1) reports a time limit hit. */
export const FORCED_STOP_EXIT_CODE = 124;

export interface RunningEngine {
  /** Resolves with the exit code once the app has ended. */
  readonly exited: Promise<number>;
  /**
   * Graceful stop: servers stop accepting, work in flight finishes; forced after `graceMs`. Resolves once the
   * app has ended, with how.
   */
  stop(graceMs: number): Promise<StopOutcome>;
  /** Linear memory in bytes, where the engine can see it. */
  memoryBytes(): number | undefined;
}

/** Exit statuses outside 0–125 (process.exit(255), say) become 1, as wasmtime reports them. */
export function normalizeExitCode(code: number): number {
  return code >= 0 && code < 126 ? code : 1;
}
