// Workers (`eventide run --workers N`): how evenly connections and requests spread over the workers, and what a
// second worker adds on a CPU-bound handler. Node's cluster docs report OS-balanced workers putting over 70% of
// connections on 2 of 8 processes; the goal here is max/min ≤ 1.3 for both engines, for keep-alive clients and
// for a client that opens a new connection per request. Each response names its worker (X-Worker header of
// tests/apps/cluster-work.ts), so the counts come from the client side, not from the server's own report.
// `npm run bench` runs it; alone: node bench/cluster.mjs [seconds]
import { spawn } from "node:child_process";
import http from "node:http";
import { availableParallelism, loadavg } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitForPort, wasmtime } from "../tests/helpers/engines.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const APP = join(ROOT, "dist/tests/apps/cluster-work.wasm");
const CLI = join(ROOT, "dist/host/cli.js");

/** Starts `eventide run` with `workers` workers of `engine`; resolves once all of them answer. */
export async function startCluster(engine, workers) {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, "run", APP, "--listen", `127.0.0.1:${port}`, "--engine", engine, "--workers", String(workers)],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, EVENTIDE_WASMTIME: wasmtime() } });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  await waitForPort(port);
  // Every worker must be serving before measuring: new connections until each id has answered (bounded).
  const seen = new Set();
  for (let i = 0; i < 200 && seen.size < workers; i++) seen.add((await request(port, "/", false)).worker);
  if (seen.size < workers) throw new Error(`only workers ${[...seen]} answered: ${stderr}`);
  return {
    port,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function request(port, path, agent) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ worker: res.headers["x-worker"], newConnection: !req.reusedSocket }));
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("no response in 10 s")));
  });
}

/**
 * `clients` loops request `path` for `seconds`: each over its own keep-alive connection, or a new connection per
 * request. Counts requests per worker and connections per worker: for keep-alive clients, the worker each client's
 * connection is on at the end (a connection a worker closes to hand its surplus over, BALANCE, is replaced by a
 * new one: `reconnections` counts those); for a new connection per request, every request is one.
 */
export async function drive(port, { clients, seconds, keepAlive, path }) {
  const requests = new Map();
  const connections = new Map();
  const count = (map, worker) => map.set(worker, (map.get(worker) ?? 0) + 1);
  const deadline = Date.now() + seconds * 1000;
  let total = 0;
  let opened = 0;
  const loop = async () => {
    const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
    let last;
    while (Date.now() < deadline) {
      const { worker, newConnection } = await request(port, path, agent);
      count(requests, worker);
      if (!keepAlive) count(connections, worker);
      if (newConnection) opened++;
      last = worker;
      total++;
    }
    if (keepAlive && last) count(connections, last);
    if (agent) agent.destroy();
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: clients }, loop));
  return {
    requests: Object.fromEntries(requests), connections: Object.fromEntries(connections),
    reconnections: keepAlive ? opened - clients : undefined, rps: total / ((Date.now() - started) / 1000),
  };
}

const ratio = (counts, workers) => {
  const values = Array.from({ length: workers }, (_, i) => counts[String(i + 1)] ?? 0);
  return Math.min(...values) === 0 ? Infinity : Math.max(...values) / Math.min(...values);
};

/** Balance for both engines and both client kinds, then 2 workers ÷ 1 on the CPU-bound handler. */
export async function clusterBench({ seconds = 5, engines = ["wasmtime", "node"], log = console.log } = {}) {
  const results = { date: new Date().toISOString(), seconds, cores: availableParallelism(), balance: [], scaling: [],
    load_average_before: loadavg()[0] };
  for (const engine of engines) {
    const cluster = await startCluster(engine, 2);
    try {
      for (const [kind, options] of [["keep-alive, 50 connections", { clients: 50, keepAlive: true, path: "/" }],
        ["new connection per request, 8 clients", { clients: 8, keepAlive: false, path: "/" }]]) {
        const r = await drive(cluster.port, { ...options, seconds });
        const row = { engine, kind, ...r, requestRatio: ratio(r.requests, 2), connectionRatio: ratio(r.connections, 2) };
        results.balance.push(row);
        log(`cluster ${engine} ${kind}: requests ${JSON.stringify(r.requests)} (max/min ${row.requestRatio.toFixed(2)}), ` +
          `connections ${JSON.stringify(r.connections)} (max/min ${row.connectionRatio.toFixed(2)}), ${r.reconnections ?? 0} reconnections, ${r.rps.toFixed(0)} req/s`);
      }
    } finally {
      await cluster.stop();
    }
    const rps = {};
    for (const workers of [1, 2]) {
      const c = await startCluster(engine, workers);
      try {
        await drive(c.port, { clients: 16, keepAlive: true, path: "/work", seconds: 1 }); // warm-up
        rps[workers] = (await drive(c.port, { clients: 16, keepAlive: true, path: "/work", seconds })).rps;
      } finally {
        await c.stop();
      }
    }
    results.scaling.push({ engine, oneWorker: rps[1], twoWorkers: rps[2], speedup: rps[2] / rps[1] });
    log(`cluster ${engine} CPU-bound (~0.5 ms/request): 1 worker ${rps[1].toFixed(0)} req/s, 2 workers ${rps[2].toFixed(0)} req/s, ${(rps[2] / rps[1]).toFixed(2)}×`);
  }
  results.load_average_after = loadavg()[0];
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 5);
  console.log(JSON.stringify(await clusterBench({ seconds }), null, 2));
}
