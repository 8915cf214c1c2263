// Turns bench/results.json into BENCHMARKS.md and bench/chart.svg (requests/s per server, generated here).
import { writeFileSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const NAMES = {
  "eventide-wasmtime": "Eventide (wasmtime 36, preview1)", "eventide-wasmtime-current": "Eventide (wasmtime 48, WASI 0.2)",
  "eventide-wasmtime-host": "Eventide (eventide-wasmtime 48, WASI 0.2)",
  "eventide-node": "Eventide (inside Node)", "node-http": "Node http", nginx: "nginx (1 worker)",
};
const fmt = (n, digits = 0) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ratio = (n) => (n ? `${n.toFixed(2)}×` : "—");

/** "wrk", or "autocannon" when the run had no wrk. */
const loadName = (results) => (results.machine.load_generator ?? "wrk").split(" ")[0];

function chart(results) {
  const groups = [["50 connections", results.hello_c50], ["1,000 connections", results.hello_c1000], ["50 conn. + idle", Object.fromEntries(Object.entries(results.idle).map(([k, v]) => [k, { rps: v.rps_with_idle }]))]];
  const colors = { "eventide-wasmtime": "#1f77b4", "eventide-wasmtime-current": "#9467bd", "eventide-wasmtime-host": "#c5b0d5", "eventide-node": "#6baed6", "node-http": "#2ca02c", nginx: "#999999" };
  const names = Object.keys(NAMES);
  const max = Math.max(...groups.flatMap(([, t]) => names.map((n) => t[n]?.rps ?? 0)));
  const W = 760, H = 360, left = 70, bottom = 300, top = 40, groupW = (W - left - 20) / groups.length, barW = groupW / (names.length + 1.5);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
  svg += `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">Hello world, requests/s (${loadName(results)}, keep-alive; higher is better)</text>\n`;
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4, y = bottom - ((bottom - top) * i) / 4;
    svg += `<line x1="${left}" x2="${W - 20}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${left - 6}" y="${y + 4}" text-anchor="end">${fmt(v / 1000)}k</text>\n`;
  }
  groups.forEach(([label, table], g) => {
    const x0 = left + g * groupW + barW * 0.75;
    names.forEach((n, i) => {
      const v = table[n]?.rps ?? 0;
      const h = max ? ((bottom - top) * v) / max : 0;
      svg += `<rect x="${x0 + i * barW}" y="${bottom - h}" width="${barW - 4}" height="${h}" fill="${colors[n]}"><title>${NAMES[n]}: ${fmt(v)}</title></rect>\n`;
      if (v) svg += `<text x="${x0 + i * barW + (barW - 4) / 2}" y="${bottom - h - 4}" text-anchor="middle" font-size="10">${fmt(v / 1000, 0)}k</text>\n`;
    });
    svg += `<text x="${left + g * groupW + groupW / 2}" y="${bottom + 18}" text-anchor="middle">${label}</text>\n`;
  });
  names.forEach((n, i) => {
    svg += `<rect x="${left + i * 170}" y="${H - 30}" width="12" height="12" fill="${colors[n]}"/><text x="${left + i * 170 + 18}" y="${H - 20}">${NAMES[n]}</text>\n`;
  });
  return svg + "</svg>\n";
}

function throughputTable(table, ratios, key) {
  let md = "| server | requests/s | p50 | p99 | vs Node http | paired by round | each run, k req/s |\n|---|---:|---:|---:|---:|---:|---|\n";
  for (const [name, label] of Object.entries(NAMES)) {
    const r = table[name];
    if (!r || r.unavailable) { md += `| ${label} | unavailable: ${r?.unavailable ?? "not run"} | | | | | |\n`; continue; }
    const runs = (r.runs ?? []).map((x) => fmt(x.rps / 1000)).join(", ");
    const paired = name === "node-http" ? 1 : ratios[name]?.[`${key}_paired_by_round`];
    md += `| ${label} | ${fmt(r.rps)} | ${fmt(r.p50_ms, 2)} ms | ${fmt(r.p99_ms, 2)} ms | ${ratio(table["node-http"]?.rps ? r.rps / table["node-http"].rps : null)} | ${ratio(paired)} | ${runs} |\n`;
  }
  return md;
}

/** The README's headline figures, between its bench markers. */
function headline(results) {
  const r = results.ratios_vs_node_http, c50 = results.hello_c50, idle = results.idle, p = results.parsers;
  const k = (n) => `${fmt(n / 1000)}k`;
  return `From one \`npm run bench\` run on a ${results.machine.cores}-core machine (${results.machine.date.slice(0, 10)}; figures and method in
[BENCHMARKS.md](BENCHMARKS.md); rerun it on yours — results vary by ±15% between runs here):

- hello world, 50 keep-alive connections: Eventide under wasmtime **${k(c50["eventide-wasmtime"].rps)} req/s (${ratio(r["eventide-wasmtime"].c50)} Node's http;
  ${ratio(r["eventide-wasmtime"].c50_paired_by_round)} paired by round)**,
  p99 ${fmt(c50["eventide-wasmtime"].p99_ms, 2)} ms vs ${fmt(c50["node-http"].p99_ms, 2)} ms; inside Node ${k(c50["eventide-node"].rps)} (${ratio(r["eventide-node"].c50)}); nginx ${k(c50.nginx?.rps)} (${ratio(r.nginx?.c50)}).
- 1,000 connections: wasmtime ${ratio(r["eventide-wasmtime"].c1000)}, inside Node ${ratio(r["eventide-node"].c1000)} Node's http.
- Current wasmtime (48, the WASI 0.2 component): ${k(c50["eventide-wasmtime-current"]?.rps)} req/s at 50 connections,
  ${ratio(results.component_vs_preview1?.c50)} the preview1 module under wasmtime 36 (paired by round; ${ratio(results.component_vs_preview1?.c1000)} at 1,000); under
  eventide-wasmtime (the wasmtime 48 crate, the guest polling in its own thread) ${k(c50["eventide-wasmtime-host"]?.rps)} req/s, ${ratio(results.host_component_vs_preview1?.c50)}
  (${ratio(results.host_component_vs_preview1?.c1000)} at 1,000).
- ${fmt(results.settings.idle_connections)} idle connections: **${fmt(idle["eventide-node"].linear_memory_bytes_per_connection)} bytes of linear memory per connection**; beside them
  wasmtime still serves ${k(idle["eventide-wasmtime"].rps_with_idle)} req/s (${ratio(r["eventide-wasmtime"].with_idle)} Node's http).
- The HTTP parser: ${ratio(p.realistic.eventide_vs_llhttp_wasm)} (realistic requests) and ${ratio(p.large_headers.eventide_vs_llhttp_wasm)} (large headers) the
  throughput of llhttp compiled to wasm (undici's build); ${ratio(p.realistic.eventide_vs_llhttp_native)} Node's native binding.
`;
}

/** The deterministic figure: wasm instructions per hello-world request, counted with wasmtime's fuel. */
function workPerRequest(results) {
  const w = results.wasm_instructions;
  if (!w || w.unavailable) return "";
  return `
Work per request: Eventide's hello world runs **${fmt(w.instructions)} wasm instructions** per request (${w.connections}
keep-alive connections; counted with wasmtime's fuel by bench/instructions.mjs, which serves until the fuel runs
out). Unlike the timings it moves by about 1% between runs (requests batch into loop iterations a little
differently), so it shows a change of a few percent in our own code that timings here cannot.
`;
}

/** `eventide run --workers`: how evenly two workers share the load, and what the second one adds (bench/cluster.mjs). */
function workersSection(cluster) {
  if (!cluster) return "";
  const counts = (c) => Object.keys(c).sort().map((id) => fmt(c[id])).join(" / ");
  let md = `
## Workers (\`--workers 2\`): balance and scaling
\`eventide run --workers\` (bench/cluster.mjs) with tests/apps/cluster-work.ts, whose responses name their worker
(\`X-Worker\`): the counts come from the client's side. For ${cluster.seconds} s each, Node's http client with 50
keep-alive connections (one agent of one socket per loop), then 8 loops that open a new connection per request.
A request counts for the worker that answered it. Connections: for keep-alive clients, the worker each client's
connection is on at the end (a worker over its share, BALANCE, closes keep-alive connections to hand them over:
"reconnections" counts the connections the clients had to open again); for a new connection per request, every
request is one. Goal: max/min ≤ 1.3 (Node's cluster docs report OS-balanced workers putting over 70% of connections on
2 of 8 processes). Load generator and workers share the machine's ${cluster.cores} cores, so absolute requests/s
are low; measured ${cluster.date.slice(0, 10)}, with a 1-minute load average of ${fmt(cluster.load_average_before, 1)} before and
${fmt(cluster.load_average_after, 1)} after (others' work included: the machine is shared).

| engine | clients | requests per worker | max/min | connections per worker | max/min | reconnections | requests/s |
|---|---|---:|---:|---:|---:|---:|---:|
`;
  for (const r of cluster.balance) {
    md += `| ${r.engine} | ${r.kind} | ${counts(r.requests)} | ${ratio(r.requestRatio)} | ${counts(r.connections)} | ${ratio(r.connectionRatio)} | ${r.reconnections === undefined ? "—" : fmt(r.reconnections)} | ${fmt(r.rps)} |\n`;
  }
  md += `
A CPU-bound handler (GET /work: ~0.5 ms of hashing per request), 16 keep-alive connections, 1 worker against 2:

| engine | 1 worker, requests/s | 2 workers, requests/s | 2 ÷ 1 |
|---|---:|---:|---:|
`;
  for (const r of cluster.scaling) md += `| ${r.engine} | ${fmt(r.oneWorker)} | ${fmt(r.twoWorkers)} | ${ratio(r.speedup)} |\n`;
  md += `
With ${cluster.cores} cores, the second worker competes for CPU with the load generator (Node's http client, which
spends a good part of a core at these rates) and with whatever else the machine runs, so 2 ÷ 1 here is a lower
bound on what a second core gives, and it moves with the machine's load from run to run (1.24× to 1.76× under
wasmtime in four runs on 2026-11-30).

Levers tried for balance (2026-11-30, 3 runs of 4 s each, new connection per request, Node workers, the
machine's load average 3–4): \`UV_TCP_SINGLE_ACCEPT=1\` (libuv accepts one connection per wake-up) gave max/min
1.23, 1.41, 1.24; without it 1.29, 1.17, 1.36 — no difference above the noise. It is kept: it is libuv's knob
for spreading accepts over processes that share a socket, and it costs nothing measurable here. A Node worker accepts in libuv as soon as it wakes, whatever its
guest holds, so BALANCE (which makes a wasmtime worker leave a readiness to its siblings) does not reach the
Node engine's accepts; that is where the Node engine misses the 1.3 goal for new connections.
`;
  return md;
}

export function renderReport(results, root) {
  const readme = join(root, "README.md");
  const text = readFileSync(readme, "utf8");
  const [start, end] = ["<!-- bench:start -->", "<!-- bench:end -->"];
  if (text.includes(start) && text.includes(end)) {
    writeFileSync(readme, text.slice(0, text.indexOf(start) + start.length) + "\n" + headline(results) + text.slice(text.indexOf(end)));
  }
  writeFileSync(join(root, "bench/chart.svg"), chart(results));
  const m = results.machine;
  let md = `# Benchmarks

Measured by \`npm run bench\` (bench/run.mjs) on ${m.date.slice(0, 10)}: every figure below comes from
[bench/results.json](bench/results.json), written by the same run. Rerun it on your machine: the numbers are only
meaningful side by side, on one machine.

Machine: ${m.cpu}, ${m.cores} cores, ${fmt(m.memory_bytes / 2 ** 30, 1)} GiB, Linux ${m.kernel}; Node ${m.node}; ${m.wasmtime ?? "no wasmtime"};
${m.nginx ?? "no nginx"}; ${m.wrk ?? "no wrk"}. ${m.pinned === "not pinned" ? "Server and load generator not pinned." : `Server pinned to core 0, ${loadName(results)} to core 1 (taskset).`}
Each throughput figure is the median of ${results.settings.runs} ${loadName(results)} runs of ${results.settings.duration_s} s (${loadName(results) === "wrk" ? "\`wrk -t1 --latency\`" : "\`autocannon -j\`"},
keep-alive), after a ${results.settings.warm_up_s ?? 1} s warm-up; the servers run side by side and are measured in turn, round after
round, so a slow spell of the machine falls on all of them. "vs Node http" divides the medians; "paired by round"
is the median of each round's own ratio, which a spell that comes and goes between rounds disturbs less (this
machine switches between a slow and a fast mode every few tens of seconds). Without wrk the servers are driven by autocannon
(\`EVENTIDE_BENCH_LOAD=autocannon\` forces it), which is slower than the fastest servers here. All four servers answer \`Hello World\\n\` as text/plain with a 120 s keep-alive timeout.

![requests per second](bench/chart.svg)

## Hello world, 50 connections
${throughputTable(results.hello_c50, results.ratios_vs_node_http, "c50")}${workPerRequest(results)}
## Hello world, 1,000 connections
${throughputTable(results.hello_c1000, results.ratios_vs_node_http, "c1000")}
At 1,000 connections the two servers on Node's event loop (Node http, and Eventide inside Node) have runs with a
p99 of hundreds of milliseconds up to ~1 s, while the median stays near 10 ms. Each wrk run opens its 1,000
connections at once, and libuv accepts one connection per loop iteration (libuv pull request #3696, merged in 2022;
Node 20 here): once the first few hundred connections keep the server busy, an iteration takes milliseconds and the rest
wait in the kernel's accept queue before their first request is read — \`strace\` shows one \`accept4\` per
\`epoll_wait\`, and a client that times each request sees only first requests delayed. Eventide inside Node
serves more requests per iteration than Node http, so it shows this more often. Node's default listen backlog
(511) also overflowed in these bursts (\`nstat\`: TcpExtListenOverflows), and a dropped connection waits 1 s for
its SYN to be retried; Eventide's Node engine listens with a backlog of 4,096. Under wasmtime, Eventide accepts
up to 128 connections per loop iteration. The per-run figures are in results.json.

## ${fmt(results.settings.idle_connections)} idle keep-alive connections
Each connection completed one request and then stays open. Bytes per connection are the server's RSS growth
divided by the connections (and, for Eventide inside Node, the growth of the app's linear memory, read through the
embedding API). "With idle" is ${loadName(results)} with 50 connections against the same server while the idle connections stay open.

| server | idle connections | RSS per connection | linear memory per connection | requests/s with idle | p99 with idle |
|---|---:|---:|---:|---:|---:|
`;
  for (const [name, label] of Object.entries(NAMES)) {
    const r = results.idle[name];
    if (!r || r.unavailable) { md += `| ${label} | unavailable: ${r?.unavailable ?? "not run"} | | | | |\n`; continue; }
    md += `| ${label} | ${fmt(r.idle)} | ${fmt(r.rss_bytes_per_connection)} B | ${r.linear_memory_bytes_per_connection !== undefined ? fmt(r.linear_memory_bytes_per_connection) + " B" : "—"} | ${fmt(r.rps_with_idle)} | ${fmt(r.p99_ms_with_idle, 2)} ms |\n`;
  }
  md += `
## Parser throughput
The same in-memory stream of back-to-back requests through each parser, in one Node process: Eventide's parser
compiled to wasm (spans recorded in wasm, no call out per header), llhttp compiled to wasm as the undici package
ships it (driven as undici drives it: a JS callback per span, no-ops here), and Node's native llhttp binding.

| corpus | parser | MB/s | messages/s |
|---|---|---:|---:|
`;
  for (const [corpus, r] of Object.entries(results.parsers)) {
    for (const parser of ["eventide", "llhttp-wasm (undici)", "llhttp native (node)"]) {
      md += `| ${corpus.replace("_", " ")} (${fmt(r.messages)} messages, ${fmt(r.bytes / 1024)} KiB) | ${parser} | ${fmt(r[parser].mb_per_s)} | ${fmt(r[parser].messages_per_s)} |\n`;
    }
    md += `| | **Eventide vs llhttp-wasm** | **${ratio(r.eventide_vs_llhttp_wasm)}** | vs native: ${ratio(r.eventide_vs_llhttp_native)} |\n`;
  }
  md += `
## Cold start
Process start to the first successful response, median of ${results.settings.quick ? 2 : 5}. Under wasmtime three ways: with its
compilation cache off (\`-C cache=n\`: Cranelift compiles the .wasm at every start); with the cache, which wasmtime 36
enables by default (every start after the first loads the compiled code from ~/.cache/wasmtime); and from a
\`wasmtime compile\` artifact (\`--allow-precompiled\`), the fair comparison for a deployment. Eventide inside Node
compiles the module with V8 (its baseline tier) at every start.

| server | ms |
|---|---:|
`;
  for (const [name, r] of Object.entries(results.cold_start)) md += `| ${name} | ${fmt(r.ms, 1)} |\n`;
  md += workersSection(results.cluster);
  const whatWeTried = join(root, "bench/what-we-tried.md");
  md += `\n${existsSync(whatWeTried) ? readFileSync(whatWeTried, "utf8") : ""}`;
  writeFileSync(join(root, "BENCHMARKS.md"), md);
}

// `node bench/report.mjs` re-renders the reports from bench/results.json without measuring again.
if (process.argv[1] === new URL(import.meta.url).pathname) {
  const root = join(new URL(".", import.meta.url).pathname, "..");
  renderReport(JSON.parse(readFileSync(join(root, "bench/results.json"), "utf8")), root);
}
