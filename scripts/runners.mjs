// What the test runners (scripts/test.mjs, scripts/mutations.mjs) share: how as-pect is started, and finding
// the processes a run left behind. Every process a run starts carries EVENTIDE_TEST_RUN=<marker> in its
// environment (children inherit it), so what still carries it once the runner has returned outlived it.
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

/**
 * Node arguments that run as-pect (tests/as) in one process, from the project's root. Its bin/asp.js would
 * start this as a child of its own, which a time limit on the runner would leave running.
 */
export const ASPECT_ARGS = ["--enable-source-maps", "--experimental-wasi-unstable-preview1",
  "node_modules/@as-pect/cli/lib/test.js", "--config", "as-pect.config.cjs", "--no-logo"];

/** A marker no other run shares: this process's PID and a random UUID. */
export function runMarker() {
  return `${process.pid}-${randomUUID()}`;
}

/**
 * Ends (SIGKILL, by PID) every process whose environment holds EVENTIDE_TEST_RUN=`marker`, printing a FAIL line
 * naming `runner` for each; returns how many there were.
 */
export function endLeftovers(marker, runner) {
  let found = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number)) {
    let environ;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "latin1");
    } catch {
      continue; // gone, or not ours to read
    }
    if (!environ.split("\0").includes(`EVENTIDE_TEST_RUN=${marker}`)) continue;
    let command = "?";
    try { command = readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trim(); } catch { /* gone */ }
    try {
      process.kill(pid, "SIGKILL");
      found++;
      console.error(`FAIL: ${runner} left process ${pid} running (${command}); ended it`);
    } catch { /* exited meanwhile */ }
  }
  return found;
}
