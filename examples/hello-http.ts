// The seed's hello world, as an Eventide app.
import * as http from "eventide/http";

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  res.writeHead(200, ["Content-Type", "text/plain"]);
  res.end("Hello World\n");
}).listen(1337, "127.0.0.1");

console.log("Server running at http://127.0.0.1:1337/");
