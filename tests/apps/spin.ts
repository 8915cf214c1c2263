// Test app: GET /spin never returns from its handler (it says "spinning" on stdout first); every other path is
// answered "ok". A host that runs the guest where it can still act must be able to stop it.
import * as http from "eventide/http";

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url == "/spin") {
    console.log("spinning");
    while (true) { /* never returns */ }
  }
  res.end("ok");
}).listen(8080);
