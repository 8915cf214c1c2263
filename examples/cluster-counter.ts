// Multi-core: run with `eventide run dist/examples/cluster-counter.wasm --listen 127.0.0.1:8080 --workers 2`.
// Every response names the worker that served it and a cluster-wide request count: each worker tells the
// primary of each request it serves, and the primary relays every worker's messages to the others.
import * as http from "eventide/http";
import * as cluster from "eventide/cluster";

let total: i64 = 0; // requests served by every worker, as far as this one has heard

cluster.on("message", (message: cluster.Message) => {
  if (message.text == "+1") total++;
});

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  total++;
  cluster.send("+1");
  res.setHeader("Content-Type", "text/plain");
  res.setHeader("X-Worker", cluster.workerId.toString());
  res.end("worker " + cluster.workerId.toString() + " served request " + total.toString() + " of the cluster\n");
}).listen(8080, "127.0.0.1");

if (cluster.isWorker) console.log("worker " + cluster.workerId.toString() + " listening");
else console.log("one process (start it with --workers 2 for a cluster)");
