// Starting `eventide run --workers N` for the cluster suites, and clients that say which worker answered.
import http from "node:http";
import { after } from "node:test";
import { ROOT, startApp } from "../helpers/engines.mjs";
import { join } from "node:path";

export const CLUSTER_APP = join(ROOT, "dist/tests/apps/cluster-app.wasm");

// Workers lead process groups of their own (a terminal's Ctrl-C must reach only the primary), so ending a
// primary's group does not end them. The pids come from the primary's "started" lines; these are ours to end.
const workerPids = new Set();
after(() => {
  for (const pid of workerPids) {
    try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ }
  }
});

/**
 * `eventide run <wasm> --workers 2 --engine <engine>` on a free port (startApp's handle), resolved once every
 * worker has said it is ready. `app.lines(re)` lists the primary's stderr lines matching re; `app.waitFor(re,
 * count, ms)` waits until `count` lines match; `app.pids()` maps worker id → pid of its latest process.
 */
export async function startCluster(engine, { wasm = CLUSTER_APP, workers = 2, flags = [], ready = workers } = {}) {
  const app = await startApp(wasm, { engine, cli: true, cliFlags: ["--workers", String(workers), ...flags] });
  app.lines = (re) => app.stderr.split("\n").filter((l) => re.test(l));
  app.waitFor = async (re, count = 1, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (app.lines(re).length < count) {
      if (Date.now() > deadline) throw new Error(`no ${count}× ${re} in ${ms} ms; stderr:\n${app.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return app.lines(re);
  };
  app.pids = () => {
    const pids = new Map();
    for (const line of app.lines(/ started$/)) {
      const [, id, pid] = /worker (\d+) \(pid (\d+)/.exec(line);
      pids.set(Number(id), Number(pid));
      workerPids.add(Number(pid));
    }
    return pids;
  };
  app.child.stderr.on("data", () => app.pids());
  if (ready) await app.waitFor(/\) ready$/, ready);
  return app;
}

/**
 * GET `path`; resolves { status, body, worker (X-Worker as a number) }, rejects on an error or an incomplete
 * response within 10 s. `agent` false: a new connection for this request.
 */
export function request(port, path = "/", agent = false) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body, worker: Number(res.headers["x-worker"]) }));
      res.on("close", () => { if (!res.complete) reject(new Error(`GET ${path}: the response ended early`)); });
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no complete response in 10 s`)));
  });
}

/**
 * A keep-alive connection (an agent with one socket) that landed on worker `id`: new agents are tried until one
 * does (at most 100). Destroy it with `agent.destroy()`.
 */
export async function connectionTo(port, id) {
  for (let i = 0; i < 100; i++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    if ((await request(port, "/", agent)).worker === id) return agent;
    agent.destroy();
  }
  throw new Error(`no connection reached worker ${id} in 100 tries`);
}

/**
 * Load for `ms`: `clients` loops of GETs, each over its own keep-alive connection (`keepAlive`) or a new
 * connection per request, at most `max` requests in all. Resolves { ok, failed, errors, byWorker }.
 */
export async function load(port, { ms, clients = 4, keepAlive = true, max = 20_000, path = "/" }) {
  const result = { ok: 0, failed: 0, errors: [], byWorker: new Map() };
  const deadline = Date.now() + ms;
  let sent = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
    while (Date.now() < deadline && sent++ < max) {
      try {
        const { status, worker } = await request(port, path, agent);
        if (status !== 200) throw new Error(`status ${status}`);
        result.ok++;
        result.byWorker.set(worker, (result.byWorker.get(worker) ?? 0) + 1);
      } catch (err) {
        result.failed++;
        if (result.errors.length < 5) result.errors.push(err.message);
      }
    }
    if (agent) agent.destroy();
  }));
  return result;
}
