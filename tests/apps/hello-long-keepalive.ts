// The hello world server with a 120 s keep-alive timeout, for holding many idle connections (tests, bench).
import * as http from "eventide/http";

const server = http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  res.writeHead(200, ["Content-Type", "text/plain"]);
  res.end("Hello World\n");
});
server.keepAliveTimeout = 120_000;
server.listen(1337, "127.0.0.1");
