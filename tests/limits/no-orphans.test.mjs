// No orphans (issue 14, item 3): when `eventide` itself dies — SIGKILL included, when nothing of it runs to
// clean up — the processes it started end too, and the port is free. They notice through their control channel
// (its end is a STOP) and drain; a drain that can't finish (a TCP client that stays connected) ends after the
// grace period (`--grace`, handed to the app as EVENTIDE_GRACE), since nobody is left to end it.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ENGINES, ROOT, isWasmtime, skipOnComponent, startApp, within } from "../helpers/engines.mjs";

const ECHO = join(ROOT, "dist/examples/echo-tcp.wasm");
const GRACE_MS = 500;
/** How long after the grace period the processes may take to be gone (wasmtime's exit, the kernel's reaping). */
const SLACK_MS = 5000;

/** Pids whose parent is `pid`, from /proc. */
function childrenOf(pid) {
  const out = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(entry));
    } catch { /* ended while we looked */ }
  }
  return out;
}

/** Whether `pid` has ended: no such process, or a zombie (exited, not yet reaped by its new parent). */
function ended(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

async function waitEnded(pids, ms) {
  const deadline = Date.now() + ms;
  while (pids.some((p) => !ended(p))) {
    if (Date.now() > deadline) throw new Error(`still running after ${ms} ms: ${pids.filter((p) => !ended(p)).join(", ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP client of the echo app that stays connected (a drain can't close it); resolves once it is served. */
function heldClient(port) {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write("hold\n"));
    s.once("data", () => resolve(s));
    s.on("error", reject);
  });
}

/** Resolves true when nothing accepts on the port any more. */
function refused(port) {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => { s.destroy(); resolve(false); });
    s.on("error", () => resolve(true));
  });
}

const strays = [];
after(() => {
  for (const pid of strays) {
    try { process.kill(pid, "SIGKILL"); } catch { /* gone, as it should be */ }
  }
});

const CASES = [
  ...ENGINES.filter(isWasmtime).map((engine) => ({ engine, flags: [] })),
  ...ENGINES.map((engine) => ({ engine, flags: ["--workers", "2"] })),
];

describe("workers whose primary stops talking (SIGSTOP: no end of the channel, no frames)", () => {
  for (const engine of ENGINES.filter((e) => e !== "wasmtime-current")) {
    it(`end within 3 s of silence plus --grace (${engine}, --workers 2)`, async () => {
      const app = await startApp(ECHO, { engine, cli: true, cliFlags: ["--grace", String(GRACE_MS), "--workers", "2"] });
      const clients = await Promise.all(Array.from({ length: 2 }, () => heldClient(app.port)));
      const children = childrenOf(app.child.pid);
      assert.equal(children.length, 2, `eventide's children: ${children}`);
      strays.push(app.child.pid, ...children);
      process.kill(app.child.pid, "SIGSTOP");
      try {
        const stopped = Date.now();
        await waitEnded(children, 3000 + GRACE_MS + SLACK_MS);
        assert.ok(Date.now() - stopped >= 3000, "the workers waited out the silence");
      } finally {
        process.kill(app.child.pid, "SIGKILL");
        for (const c of clients) c.destroy();
      }
    });
  }
});

describe("no orphans when eventide is killed", () => {
  for (const { engine, flags } of CASES) {
    const skip = flags.length > 0 && skipOnComponent(engine, "a component can't be handed a listener, so --workers is refused");
    it(`SIGKILL of eventide (${engine}${flags.length ? ", " + flags.join(" ") : ""}) with clients connected: its children end within --grace, the port is free`, { skip }, async () => {
      const app = await startApp(ECHO, { engine, cli: true, cliFlags: ["--grace", String(GRACE_MS), ...flags] });
      const clients = await Promise.all(Array.from({ length: 4 }, () => heldClient(app.port)));
      const closed = clients.map((c) => new Promise((r) => c.on("close", r)));
      const children = childrenOf(app.child.pid);
      assert.equal(children.length, flags.length ? 2 : 1, `eventide's children: ${children}`);
      strays.push(...children);
      process.kill(app.child.pid, "SIGKILL");
      const killed = Date.now();
      await waitEnded(children, GRACE_MS + SLACK_MS);
      assert.ok(Date.now() - killed >= GRACE_MS - 50, "the drain was given its grace period");
      await within(Promise.all(closed), 1000, "the held clients' close");
      assert.ok(await refused(app.port), "the port is free");
    });
  }
});
