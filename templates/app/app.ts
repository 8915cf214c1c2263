// An Eventide app: an HTTP server on the address `eventide run --listen` grants.
//   npm run build && npm start      then: curl http://127.0.0.1:8080/
import * as http from "eventide/http";

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  res.writeHead(200, ["Content-Type", "text/plain"]);
  res.end("Hello from Eventide: " + req.method + " " + req.url + "\n");
}).listen(8080);

console.log("listening on 8080");
