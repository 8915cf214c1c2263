// Compiled as the second entry of every app (scripts/build.mjs): the app's script is `_initialize`,
// and these exports drive the loop — `_start` blocking under wasmtime, `eventide_tick` from an embedding host.
import { run, tick } from "./loop";
import { closeAllServers } from "./net";

export function _start(): void {
  run();
  if (process.exitCode != 0) process.exit(process.exitCode);
}

export function eventide_tick(): i64 {
  return tick();
}

export function eventide_exit_code(): i32 {
  return process.exitCode;
}

export function eventide_stop(): void {
  closeAllServers();
}
