// What every hostile case shares: the app it attacks (tests/apps/hostile.ts) started with a baseline of the
// server process's fds and RSS, and the check each case ends with — a normal request is still served, and the
// fds and memory came back down.
import assert from "node:assert/strict";
import http from "node:http";
import { startApp, rssKiB } from "../helpers/engines.mjs";
import { childPids, describeFds, openFdCount } from "../helpers/serving.mjs";
import { get } from "../helpers/http.mjs";

export const HOSTILE = "dist/tests/apps/hostile.wasm";
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The process that serves: the one started, or the wasmtime that `eventide run --engine wasmtime` started
 * (its only child; the Node engine starts none).
 */
function serverPid(child) {
  return childPids(child.pid)[0] ?? child.pid;
}

/**
 * Starts the hostile app (startApp's options) and serves it one normal request, so the baseline holds what
 * a served request leaves (a pooled parser, the engine's warm state). Resolves with the app and `baseline` =
 * { pid, fds, rssKiB } of the serving process (wasmtime, or the Node engine's `eventide`).
 */
export async function startHostile(options) {
  const app = await startApp(HOSTILE, options);
  assert.equal((await get(app.port, "/warm")).body, "ok");
  const pid = serverPid(app.child);
  return { app, baseline: { pid, fds: await steadyFdCount(pid), rssKiB: rssKiB(pid) } };
}

/**
 * The fd count once it holds still for 300 ms (at most 3 s): a wasmtime that has just compiled the module
 * writes it to its cache in the background, holding a few fds for a moment after it started serving.
 */
async function steadyFdCount(pid) {
  const deadline = Date.now() + 3000;
  let last = openFdCount(pid);
  let same = 0;
  while (same < 3 && Date.now() < deadline) {
    await sleep(100);
    const now = openFdCount(pid);
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

/** RSS growth of the server since the baseline, in MiB. */
export function grownMiB(baseline) {
  return (rssKiB(baseline.pid) - baseline.rssKiB) / 1024;
}

/**
 * The end of every hostile case: the server is alive and answers a normal request, its fds are back to the
 * baseline within `ms` (the client's sockets were closed; the server must close its ends), and its RSS is
 * within `rssMiB` of the baseline. Linear memory and the allocators' arenas are not given back to the system,
 * so "back down" is a bound on what the attack left behind, not a return to the exact figure.
 */
export async function assertRecovered(app, baseline, { rssMiB = 32, ms = 5000 } = {}) {
  assert.equal(app.child.exitCode, null, `the server exited: ${app.stderr}`);
  assert.equal((await get(app.port, "/after")).body, "ok", "a normal request after the attack");
  const deadline = Date.now() + ms;
  let fds = openFdCount(baseline.pid);
  while (fds > baseline.fds && Date.now() < deadline) {
    await sleep(100);
    fds = openFdCount(baseline.pid);
  }
  assert.ok(fds <= baseline.fds, `the server holds ${fds} fds ${ms} ms after the attack ended (${baseline.fds} before it): ${describeFds(baseline.pid)}`);
  const grown = grownMiB(baseline);
  assert.ok(grown < rssMiB, `the server's RSS stayed ${grown.toFixed(1)} MiB above where it started (bound ${rssMiB} MiB)`);
}

/**
 * A normal client for `ms`: GET / one after another on one keep-alive connection, `pauseMs` apart (bounded by
 * time, and by `max` requests). Resolves with the latencies in ms, sorted.
 */
export async function normalClient(port, { ms = 3000, pauseMs = 5, max = 2000 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  const until = Date.now() + ms;
  try {
    while (Date.now() < until && latencies.length < max) {
      const started = process.hrtime.bigint();
      const { body } = await get(port, "/normal", agent);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      assert.equal(body, "ok");
      await sleep(pauseMs);
    }
  } finally {
    agent.destroy();
  }
  return latencies.sort((a, b) => a - b);
}

/** The `p`-th percentile (0–100) of sorted numbers (nearest rank). */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
