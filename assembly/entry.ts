// Compiled as the second entry of every app (scripts/build.mjs): the app's script is `_initialize`,
// and these exports drive the loop — `_start` blocking under wasmtime, `eventide_tick` from an embedding host.
// Imported by package path, as apps do, so both name the same modules (see scripts/build.mjs).
import { run, tick } from "eventide/loop";
import { drain, startControlChannel } from "eventide/cluster";
import { exit, settle } from "eventide/sys";
import "eventide/globals"; // the global console and abort (scripts/node-globals.mjs)

export { cabi_realloc } from "eventide/sys";

// How long an ending process waits for the last bytes of connections it closed (WASI 0.2 only).
const SETTLE_MS: i32 = 2000;

// After the app's script (this entry's top level runs after the app's): its servers have claimed their
// listeners, so the control listener the host granted can't be mistaken for one of them.
startControlChannel();

export function _start(): void {
  run();
  settle(SETTLE_MS);
  if (process.exitCode != 0) exit(process.exitCode);
}

export function eventide_tick(): i64 {
  return tick();
}

export function eventide_exit_code(): i32 {
  return process.exitCode;
}

export function eventide_stop(): void {
  drain();
}
