// Test app for serveStatic (tests/http-server/static.test.mjs): the files beneath /site/public (the test grants
// its tree as /site, so /site/secret.txt is granted but outside the root), one route of the app's own, and
// serve() answering what neither takes. GET /memory says how large linear memory is, in bytes.
import * as http from "eventide/http";

const files = http.serveStatic("/site/public");

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url == "/hello") {
    res.end("hello from the app\n");
    return;
  }
  if (req.url == "/memory") {
    res.end((<i64>memory.size() << 16).toString());
    return;
  }
  files.serve(req, res);
}).listen(8080);
