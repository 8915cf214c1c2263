// Test app for workers (tests/cluster): every response names its worker (X-Worker). GET /trap traps the worker
// (unreachable), GET /slow answers after 1 s, GET /spin never returns (the watchdog's case); anything else is
// answered "ok" at once. Every message from the primary is sent back as it came (text as text, bytes as bytes).
import * as http from "eventide/http";
import * as cluster from "eventide/cluster";
import { setTimeout } from "eventide/timers";

cluster.on("message", (message: cluster.Message) => {
  if (message.isText) cluster.send(message.text);
  else cluster.send(message.bytes);
});

function answer(res: http.ServerResponse, body: string): void {
  res.writeHead(200, ["X-Worker", cluster.workerId.toString(), "Content-Type", "text/plain"]);
  res.end(body);
}

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url == "/trap") unreachable();
  if (req.url == "/spin") {
    while (true) { /* never returns: only the watchdog can end this worker */ }
  }
  if (req.url == "/slow") setTimeout((r: http.ServerResponse) => { answer(r, "slow\n"); }, 1000, res);
  else answer(res, "ok\n");
}).listen(8080);
