// No orphans (issue 14, item 3): when `eventide` itself dies — SIGKILL included, when nothing of it runs to
// clean up — the processes it started end too, and the port is free. They notice through their control channel
// (its end is a STOP) and drain; a drain that can't finish (a TCP client that stays connected) ends after the
// grace period (`--grace`, handed to the app as EVENTIDE_GRACE), since nobody is left to end it.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ENGINES, ROOT, freePort, isComponent, isWasmtime, skipOnComponent, spawnTracked, startApp, wasmtime, wasmtimeArgs, within }
  from "../helpers/engines.mjs";

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
  for (const engine of ENGINES.filter((e) => !isComponent(e))) {
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

/** A loopback listener of this process, whose fd a child can inherit (as the host hands them over). */
async function inheritableListener() {
  const server = createServer();
  server.maxConnections = 0; // ours drops what reaches it before it is closed; the child's copy accepts
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: server.address().port, fd: server._handle.fd };
}

/**
 * Starts the echo app as a worker whose host died between starting it and saying HELLO (the window in which a
 * SIGKILL of eventide once left a worker serving for good): its control listener is inherited, nobody speaks on
 * it; `knock` connects to it and hangs up without a word first. Under the component, which connects out, the
 * host's listener is already gone. Resolves once the app serves a held client, with its exit and stderr.
 */
async function unsupervisedWorker(engine, knock) {
  const env = { EVENTIDE_WORKER_ID: "1", EVENTIDE_GRACE: String(GRACE_MS), EVENTIDE_CONTROL_TOKEN: randomBytes(16).toString("hex") };
  const app = await inheritableListener();
  const control = await inheritableListener();
  let child;
  if (isComponent(engine)) {
    control.server.close();
    const args = wasmtimeArgs(engine, ECHO, { port: await freePort(), env: { ...env, EVENTIDE_CONTROL: `127.0.0.1:${control.port}` } });
    child = spawnTracked(wasmtime(engine), args, { stdio: ["ignore", "pipe", "pipe"] });
  } else if (engine === "wasmtime") {
    const args = ["run", "-S", "preview2=n", "-S", "listenfd"];
    for (const [k, v] of Object.entries({ ...env, EVENTIDE_LISTEN: `3=127.0.0.1:${app.port}`, EVENTIDE_CONTROL: "4" })) {
      args.push("--env", `${k}=${v}`);
    }
    child = spawnTracked(wasmtime(engine), [...args, ECHO], { stdio: ["ignore", "pipe", "pipe", app.fd, control.fd],
      env: { ...process.env, LISTEN_FDS: "2" } });
  } else {
    const setup = { wasmPath: ECHO, args: [], dirs: [], env, listeners: 1 };
    child = spawnTracked(process.execPath, [join(ROOT, "dist/host/cluster/node-worker.js"), JSON.stringify(setup)],
      { stdio: ["ignore", "pipe", "pipe", app.fd, control.fd] });
  }
  strays.push(child.pid);
  app.server.close();
  control.server.close();
  if (knock) await new Promise((resolve) => connect(control.port, "127.0.0.1", function () { this.destroy(); resolve(); }));
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr })));
  return { child, exited, port: app.port };
}

describe("a worker whose host never said HELLO (eventide killed between starting it and connecting)", () => {
  for (const engine of ENGINES) {
    const cases = isComponent(engine) ? [false] : [false, true];
    for (const knock of cases) {
      const what = isComponent(engine) ? "finds nobody to connect to" : knock ? "is connected to and hung up on" : "is never connected to";
      it(`${what}: it drains and ends (${engine})`, async () => {
        const started = Date.now();
        const worker = await unsupervisedWorker(engine, knock);
        let held;
        try {
          if (isComponent(engine)) {
            // It can't reach its host when it starts: it drains at once, and with nothing open its loop ends.
            const { code, stderr } = await within(worker.exited, SLACK_MS, "the exit");
            assert.equal(code, 0, stderr);
            assert.match(stderr, /control channel: connect 127\.0\.0\.1:\d+: ECONNREFUSED/);
            return;
          }
          held = await heldClient(worker.port);
          const { code, stderr } = await within(worker.exited, 3000 + GRACE_MS + SLACK_MS, "the exit");
          assert.ok(Date.now() - started >= 3000, "it waited out the silence");
          assert.equal(code, 124, stderr); // the held client outlasted the drain's grace
          assert.match(stderr, /did not connect to the control channel within 3000 ms/);
          assert.match(stderr, /the drain was not done after 500 ms/);
        } finally {
          held?.destroy();
          worker.child.kill("SIGKILL"); // a no-op once it has ended, as it should have
        }
      });
    }
  }
});
