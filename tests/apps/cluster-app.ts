// Test app for workers (tests/cluster): every response names its worker (X-Worker). GET /trap traps the worker
// (unreachable), GET /slow answers after 1 s, GET /spin never returns (the watchdog's case); anything else is
// answered "ok" at once. Every message from the primary is sent back as it came (text as text, bytes as bytes);
// "send too much" makes the worker try a message over the limit and report what happened.
import * as http from "eventide/http";
import * as cluster from "eventide/cluster";
import { setTimeout, setImmediate } from "eventide/timers";
import { NetError } from "eventide/net";

let refusal = "none";
cluster.on("error", (err: NetError) => { refusal = err.code; });

cluster.on("message", (message: cluster.Message) => {
  if (message.isText && message.text == "send too much") {
    // The guest's own limit: over MAX_MESSAGE_BYTES, send() returns false and 'error' names why.
    const sent = cluster.send(new Uint8Array(cluster.MAX_MESSAGE_BYTES + 1));
    // 'error' comes on the next tick: report after it.
    setImmediate((sent: bool) => { cluster.send("too much: " + (sent ? "sent" : "refused") + ", " + refusal); }, sent);
    return;
  }
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
