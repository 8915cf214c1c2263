// Node's own http server with the same handler as examples/hello-http.ts (the baseline).
import http from "node:http";

const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain" });
  res.end("Hello World\n");
});
server.keepAliveTimeout = 120_000; // as the Eventide and nginx servers in this benchmark
server.listen(Number(process.env.PORT), "127.0.0.1");
