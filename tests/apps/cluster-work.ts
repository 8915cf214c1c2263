// Test and bench app for workers: every response names its worker (X-Worker) and counts the requests this
// worker served (X-Served); GET /work first does ~0.5 ms of CPU work (a CPU-bound handler, so that two workers
// can be compared with one without the load generator being the limit).
import * as http from "eventide/http";
import * as cluster from "eventide/cluster";

const WORK_ROUNDS: i32 = 60; // ~0.5 ms under wasmtime 36 on this project's 2-core machine (see BENCHMARKS.md)
const block = new Uint8Array(8192);
for (let i = 0; i < block.length; i++) block[i] = <u8>(i * 31);

/** FNV-1a over the block, WORK_ROUNDS times: work the optimizer can't drop. */
function work(): u32 {
  let h: u32 = 2166136261;
  for (let r = 0; r < WORK_ROUNDS; r++) {
    for (let i = 0; i < block.length; i++) h = (h ^ <u32>unchecked(block[i])) * 16777619;
  }
  return h;
}

let served: i64 = 0;

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  served++;
  const body = req.url == "/work" ? work().toString(16) + "\n" : "ok\n";
  res.writeHead(200, ["X-Worker", cluster.workerId.toString(), "X-Served", served.toString(), "Content-Type", "text/plain"]);
  res.end(body);
}).listen(8080);
