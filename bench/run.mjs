// `npm run bench`: Eventide (under wasmtime and inside Node) against Node's http and nginx, on this machine,
// in one run: hello-world throughput and latency, memory per idle connection, throughput beside 10k idle
// connections, parser throughput, cold start. Writes bench/results.json, BENCHMARKS.md and bench/chart.svg.
import { spawn, execFileSync, spawnSync } from "node:child_process";
import { writeFileSync, existsSync, mkdtempSync } from "node:fs";
import { cpus, totalmem, tmpdir, release } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "node:net";
import { parserBench } from "./parser.mjs";
import { instructionsPerRequest } from "./instructions.mjs";
import { renderReport } from "./report.mjs";
import { clusterBench } from "./cluster.mjs";
import { freePort, rssKiB } from "../tests/helpers/engines.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const QUICK = process.env.EVENTIDE_BENCH_QUICK === "1"; // a smoke run: shorter and fewer
const DURATION = QUICK ? 2 : 5;
const RUNS = QUICK ? 1 : 7;
const WARM_UP = QUICK ? 1 : 2;
const IDLE = QUICK ? 2000 : 10_000;
const HELLO = join(ROOT, "dist/tests/apps/hello-long-keepalive.wasm");
const started = Date.now();

const have = (cmd) => spawnSync("bash", ["-c", `command -v ${cmd}`]).status === 0;
const sh = (cmd) => execFileSync("bash", ["-c", cmd], { encoding: "utf8" }).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(0)}s]`, ...a);

function ensureTools() {
  const missing = ["wrk", "nginx", "taskset"].filter((t) => !have(t));
  if (missing.length && process.getuid?.() === 0 && have("apt-get")) {
    log(`installing ${missing.join(", ")}`);
    spawnSync("bash", ["-c", `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.map((t) => (t === "taskset" ? "util-linux" : t)).join(" ")}`], { stdio: "ignore" });
  }
  if (!existsSync(HELLO)) execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
}

const canPin = () => have("taskset") && cpus().length >= 2;
const pinned = (core, argv) => (canPin() ? ["taskset", "-c", String(core), ...argv] : argv);

async function waitForHttp(port, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"));
      s.once("data", (d) => { s.destroy(); resolve(d.toString().startsWith("HTTP/1.1 200")); });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(10);
  }
  throw new Error(`server on ${port} never answered`);
}

/** The servers under test; each start() returns { port, pid (the process serving), stop() }. */
function servers() {
  const ensure = (line) => { try { return sh(`bash ${join(ROOT, "scripts/ensure-wasmtime.sh")} ${line}`); } catch { return null; } };
  const wasmtime = ensure("lts");
  const current = ensure("current");
  const host = ensure("host");
  const underWasmtime = (bin) => ({
    argv: (port) => [process.execPath, join(ROOT, "dist/host/cli.js"), "run", HELLO, "--engine", "wasmtime", "--listen", `127.0.0.1:${port}`],
    env: bin ? { EVENTIDE_WASMTIME: bin } : {}, childServes: true,
  });
  const list = [
    { name: "eventide-wasmtime", label: "Eventide (wasmtime 36, preview1)", missing: wasmtime ? null : "no wasmtime 36–46", ...underWasmtime(wasmtime) },
    { name: "eventide-wasmtime-current", label: "Eventide (wasmtime 48, WASI 0.2 component)",
      missing: current ? null : "no wasmtime 47 or newer", ...underWasmtime(current) },
    { name: "eventide-wasmtime-host", label: "Eventide (eventide-wasmtime: the wasmtime 48 crate, WASI 0.2 component)",
      missing: host ? null : "eventide-wasmtime not built", ...underWasmtime(host) },
    { name: "eventide-node", label: "Eventide (inside Node)", missing: null,
      argv: () => [process.execPath, join(ROOT, "bench/servers/eventide-node.mjs"), HELLO] },
    { name: "node-http", label: "Node http", missing: null, argv: () => [process.execPath, join(ROOT, "bench/servers/node-http.mjs")] },
    { name: "nginx", label: "nginx (1 worker)", missing: have("nginx") ? null : "nginx not installed", argv: (port) => {
      const dir = mkdtempSync(join(tmpdir(), "eventide-nginx-"));
      writeFileSync(join(dir, "nginx.conf"), `worker_processes 1; master_process off; daemon off; pid ${dir}/nginx.pid;
error_log ${dir}/error.log; worker_rlimit_nofile 20000; events { worker_connections 19000; }
http { access_log off; keepalive_timeout 120s; keepalive_requests 100000000;
  server { listen 127.0.0.1:${port}; location / { default_type text/plain; return 200 "Hello World\\n"; } } }\n`);
      return [sh("command -v nginx"), "-p", dir, "-c", join(dir, "nginx.conf")];
    } },
  ];
  for (const s of list) {
    s.start = async () => {
      const port = await freePort();
      const child = spawn("bash", ["-c", 'ulimit -n 20000 2>/dev/null; exec "$@"', "bash", ...pinned(0, s.argv(port))], {
        env: { ...process.env, ...s.env, PORT: String(port), RUST_BACKTRACE: "0" }, stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      await waitForHttp(port);
      let pid = child.pid;
      if (s.childServes) pid = Number(sh(`pgrep -P ${child.pid} | head -1`)) || pid; // wasmtime, under our CLI
      return {
        port, pid, child,
        stderr: () => stderr,
        stop: async () => { child.kill("SIGTERM"); await Promise.race([new Promise((r) => child.on("exit", r)), sleep(2000)]); if (child.exitCode === null) child.kill("SIGKILL"); },
      };
    };
  }
  return list;
}

/** Drives `connections` keep-alive connections for `seconds` with LOAD_GENERATOR. */
function load(port, connections, seconds) {
  return LOAD_GENERATOR === "wrk" ? wrk(port, connections, seconds) : autocannon(port, connections, seconds);
}

function wrk(port, connections, seconds) {
  const out = execFileSync(pinned(1, ["wrk"])[0], [...pinned(1, ["wrk"]).slice(1), "-t1", `-c${connections}`, `-d${seconds}s`, "--latency", `http://127.0.0.1:${port}/`],
    { encoding: "utf8", timeout: (seconds + 20) * 1000 });
  const ms = (label) => {
    const m = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : null;
  };
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]), p50: ms("50%"), p99: ms("99%"), errors: errors ? errors[0] : null };
}

function autocannon(port, connections, seconds) {
  const bin = join(ROOT, "node_modules/.bin/autocannon");
  const out = execFileSync(pinned(1, [bin])[0], [...pinned(1, [bin]).slice(1), "-j", "-c", String(connections), "-d", String(seconds), `http://127.0.0.1:${port}/`],
    { encoding: "utf8", timeout: (seconds + 20) * 1000, stdio: ["ignore", "pipe", "ignore"] });
  const r = JSON.parse(out);
  const failed = r.errors + r.timeouts + r.non2xx;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: failed ? `errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}` : null };
}

/**
 * Every available server runs at once (idle ones cost nothing) and the runs go round-robin, so a slow spell
 * of a shared machine falls on all of them alike instead of on whichever server was being measured.
 */
async function throughput(list, connections) {
  const rows = {};
  const running = [];
  try {
    for (const s of list) {
      if (s.missing) rows[s.name] = { unavailable: s.missing };
      else running.push({ s, server: await s.start(), runs: [] });
    }
    for (const r of running) load(r.server.port, connections, WARM_UP); // JIT tiers (V8 for the Node-hosted ones) settle first
    for (let i = 0; i < RUNS; i++) {
      for (const r of running) r.runs.push(load(r.server.port, connections, DURATION));
    }
  } finally {
    for (const r of running) await r.server.stop();
  }
  for (const { s, runs } of running) {
    rows[s.name] = { rps: median(runs.map((r) => r.rps)), p50_ms: median(runs.map((r) => r.p50)), p99_ms: median(runs.map((r) => r.p99)), runs };
    log(`${s.name} c${connections}: ${rows[s.name].rps.toFixed(0)} req/s, p99 ${rows[s.name].p99_ms} ms`);
  }
  return rows;
}

async function holdIdle(port, count) {
  const client = spawn("bash", ["-c", 'ulimit -n 20000 2>/dev/null; exec "$@"', "bash", ...pinned(1, [process.execPath, join(ROOT, "bench/idle-client.mjs"), String(port), String(count), "120"])],
    { stdio: ["pipe", "pipe", "inherit"] });
  const opened = await new Promise((resolve, reject) => {
    let out = "";
    client.stdout.on("data", (d) => { out += d; const m = /open (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
    client.on("exit", () => reject(new Error("idle client exited early")));
    setTimeout(() => reject(new Error("idle client took too long")), 90_000);
  });
  return { opened, release: () => new Promise((r) => { client.on("exit", r); client.stdin.end(); }) };
}

async function linearMemory(server) {
  const before = server.stderr().length;
  server.child.kill("SIGUSR2");
  for (let i = 0; i < 50; i++) {
    const m = /linear-memory (\d+)/.exec(server.stderr().slice(before));
    if (m) return Number(m[1]);
    await sleep(20);
  }
  return null;
}

async function idleConnections(list) {
  const rows = {};
  for (const s of list) {
    if (s.missing) { rows[s.name] = { unavailable: s.missing }; continue; }
    const server = await s.start();
    try {
      await sleep(300);
      const rssBefore = rssKiB(server.pid);
      const memBefore = s.name === "eventide-node" ? await linearMemory(server) : null;
      const idle = await holdIdle(server.port, IDLE);
      await sleep(500);
      const rssAfter = rssKiB(server.pid);
      const memAfter = s.name === "eventide-node" ? await linearMemory(server) : null;
      const busy = load(server.port, 50, DURATION);
      await idle.release();
      rows[s.name] = {
        idle: idle.opened,
        rss_bytes_per_connection: Math.round(((rssAfter - rssBefore) * 1024) / idle.opened),
        linear_memory_bytes_per_connection: memAfter !== null && memBefore !== null ? Math.round((memAfter - memBefore) / idle.opened) : undefined,
        rps_with_idle: busy.rps, p99_ms_with_idle: busy.p99,
      };
      log(`${s.name}: ${idle.opened} idle, ${rows[s.name].rss_bytes_per_connection} B/conn RSS, ${busy.rps.toFixed(0)} req/s beside them`);
    } finally {
      await server.stop();
    }
  }
  return rows;
}

async function coldStart(list) {
  const rows = {};
  const wasmtime = list.find((s) => s.name === "eventide-wasmtime");
  const timeToFirstResponse = async (argv, env = {}) => {
    const samples = [];
    for (let i = 0; i < (QUICK ? 2 : 5); i++) {
      const port = await freePort();
      const t0 = process.hrtime.bigint();
      const child = spawn(argv[0], argv.slice(1).map((a) => a.replace("PORT", String(port))), { env: { ...process.env, ...env, PORT: String(port), RUST_BACKTRACE: "0" }, stdio: "ignore" });
      await waitForHttp(port);
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      child.kill("SIGKILL");
      await new Promise((r) => child.on("exit", r));
    }
    return { ms: median(samples), samples };
  };
  if (!wasmtime.missing) {
    const bin = wasmtime.env.EVENTIDE_WASMTIME;
    const cwasm = join(mkdtempSync(join(tmpdir(), "eventide-cwasm-")), "hello.cwasm");
    execFileSync(bin, ["compile", HELLO, "-o", cwasm]);
    const serve = ["-S", "preview2=n", "-S", "tcplisten=127.0.0.1:PORT"];
    rows["eventide-wasmtime (compiles at every start)"] = await timeToFirstResponse([bin, "run", "-C", "cache=n", ...serve, HELLO]);
    rows["eventide-wasmtime (compilation cache, the default)"] = await timeToFirstResponse([bin, "run", ...serve, HELLO]);
    rows["eventide-wasmtime (precompiled .cwasm)"] = await timeToFirstResponse([bin, "run", "--allow-precompiled", ...serve, cwasm]);
  }
  rows["eventide-node (eventide run)"] = await timeToFirstResponse([process.execPath, join(ROOT, "dist/host/cli.js"), "run", HELLO, "--listen", "127.0.0.1:PORT"]);
  rows["node-http"] = await timeToFirstResponse([process.execPath, join(ROOT, "bench/servers/node-http.mjs")]);
  for (const [k, v] of Object.entries(rows)) log(`cold start ${k}: ${v.ms.toFixed(1)} ms`);
  return rows;
}

function machine() {
  const version = (cmd) => { try { return sh(cmd).split("\n")[0]; } catch { return null; } };
  return {
    date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, memory_bytes: totalmem(), kernel: release(),
    node: process.version, wasmtime: version(`"$(bash ${join(ROOT, "scripts/ensure-wasmtime.sh")})" --version`),
    nginx: version("nginx -v 2>&1"), wrk: version("wrk -v 2>&1 | head -1"),
    load_generator: LOAD_GENERATOR === "wrk" ? "wrk" : version(`${join(ROOT, "node_modules/.bin/autocannon")} --version`), pinned: canPin() ? "server on core 0, load on core 1" : "not pinned",
  };
}

ensureTools();
// wrk unless it is missing (or EVENTIDE_BENCH_LOAD=autocannon): autocannon is JavaScript, and slower than the servers.
const LOAD_GENERATOR = process.env.EVENTIDE_BENCH_LOAD ?? (have("wrk") ? "wrk" : "autocannon");
if (LOAD_GENERATOR !== "wrk") log("driving the servers with autocannon (apt-get install wrk for the figures we publish)");
const list = servers();
const results = { machine: machine(), settings: { duration_s: DURATION, runs: RUNS, warm_up_s: WARM_UP, idle_connections: IDLE, quick: QUICK } };
log("hello world, 50 connections");
results.hello_c50 = await throughput(list, 50);
log("hello world, 1000 connections");
results.hello_c1000 = await throughput(list, 1000);
log(`${IDLE} idle connections`);
results.idle = await idleConnections(list);
log("parsers");
results.parsers = await parserBench({ seconds: QUICK ? 0.5 : 2 });
log("cold start");
results.cold_start = await coldStart(list);
log("wasm instructions per request");
const underWasmtime = list.find((s) => s.name === "eventide-wasmtime");
results.wasm_instructions = underWasmtime.missing ? { unavailable: underWasmtime.missing } : await instructionsPerRequest(HELLO);
const ratio = (table, name) => (table[name]?.rps && table["node-http"]?.rps ? table[name].rps / table["node-http"].rps : null);
// Paired by round: each round measures every server within seconds, so a slow spell of the machine (which comes
// and goes here) falls on both sides of a round's ratio; the median over rounds resists it better.
const pairedRatio = (table, name) => {
  const mine = table[name]?.runs, node = table["node-http"]?.runs;
  return mine && node ? median(mine.map((run, i) => run.rps / node[i].rps)) : null;
};
// The component under current wasmtime against the preview1 module under wasmtime 36, paired by round too.
const pairedWith = (table, name, base) => {
  const mine = table[name]?.runs, other = table[base]?.runs;
  return mine && other ? median(mine.map((run, i) => run.rps / other[i].rps)) : null;
};
results.component_vs_preview1 = {
  c50: pairedWith(results.hello_c50, "eventide-wasmtime-current", "eventide-wasmtime"),
  c1000: pairedWith(results.hello_c1000, "eventide-wasmtime-current", "eventide-wasmtime"),
};
results.host_component_vs_preview1 = {
  c50: pairedWith(results.hello_c50, "eventide-wasmtime-host", "eventide-wasmtime"),
  c1000: pairedWith(results.hello_c1000, "eventide-wasmtime-host", "eventide-wasmtime"),
};
results.ratios_vs_node_http = {};
for (const name of ["eventide-wasmtime", "eventide-wasmtime-current", "eventide-wasmtime-host", "eventide-node", "nginx"]) {
  results.ratios_vs_node_http[name] = {
    c50: ratio(results.hello_c50, name), c1000: ratio(results.hello_c1000, name),
    c50_paired_by_round: pairedRatio(results.hello_c50, name), c1000_paired_by_round: pairedRatio(results.hello_c1000, name),
    with_idle: results.idle[name]?.rps_with_idle && results.idle["node-http"]?.rps_with_idle ? results.idle[name].rps_with_idle / results.idle["node-http"].rps_with_idle : null };
}
log("workers: balance and scaling");
results.cluster = await clusterBench({ seconds: QUICK ? 2 : 5, engines: underWasmtime.missing ? ["node"] : ["wasmtime", "node"], log });
results.total_seconds = Math.round((Date.now() - started) / 1000);
writeFileSync(join(ROOT, "bench/results.json"), JSON.stringify(results, null, 2) + "\n");
renderReport(results, ROOT);
log(`wrote bench/results.json, BENCHMARKS.md, bench/chart.svg (${results.total_seconds} s)`);
