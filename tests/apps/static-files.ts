// Test app for serveStatic (tests/http-server/static.test.mjs): the files beneath /site/public (the test grants
// its tree as /site, so /site/secret.txt is granted but outside the root), one route of the app's own, and
// serve() answering what neither takes. GET /memory says how large linear memory is, in bytes;
// GET /stream-missing pipes a file that isn't there into the response, listening for no 'error'.
import * as http from "eventide/http";
import * as fs from "eventide/fs";

const files = http.serveStatic("/site/public");

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url == "/hello") {
    res.end("hello from the app\n");
    return;
  }
  if (req.url == "/stream-missing") { // a stream that can't open, piped with no 'error' listener
    fs.createReadStream("/site/public/no-such-file").pipe(res);
    return;
  }
  if (req.url == "/memory") {
    res.end((<i64>memory.size() << 16).toString());
    return;
  }
  files.serve(req, res);
}).listen(8080);
