// Test app for the limits the host sets (tests/limits/limits.test.mjs): an HTTP server left at every default,
// so what `eventide run --max-connections`, `--max-header-size`, `--headers-timeout` and `--request-timeout`
// set is what it runs with. Answers "<METHOD> <url>" once a request's body has ended.
import * as http from "eventide/http";
import { Buffer } from "eventide/buffer";

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  req.on("data", (chunk: Buffer) => {});
  req.on("end", (r: http.IncomingMessage) => { r.res!.end(r.method + " " + r.url); });
}).listen(8080);
