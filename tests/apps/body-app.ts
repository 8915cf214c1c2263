// Test app for request bodies: readBody with a 64 KiB limit, req.pipe(res), and req.pipe(socket).
import * as http from "eventide/http";
import { Buffer } from "eventide/buffer";
import { setTimeout } from "eventide/timers";

const LIMIT = 64 * 1024;

/** Length and a byte sum of what was collected: enough for the test to tell a body from another. */
function summary(body: Buffer, req: http.IncomingMessage): void {
  let sum: u32 = 0;
  for (let i = 0; i < body.length; i++) sum = sum * 31 + <u32>body[i];
  req.res!.end(body.length.toString() + " " + sum.toString());
}

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  const url = req.url;
  if (url == "/collect") {
    http.readBody(req, LIMIT, summary);
  } else if (url == "/echo") {
    res.setHeader("Content-Type", "application/octet-stream");
    req.pipe(res);
  } else if (url == "/late-echo") {
    // Piped only after the (empty) body ended: the response must still end.
    setTimeout((req: http.IncomingMessage) => { req.pipe(req.res!); }, 50, req);
  } else if (url == "/raw") {
    // The body straight onto the connection, without HTTP framing, then the connection's end.
    req.pipe(req.socket);
  } else {
    res.statusCode = 404;
    res.end();
  }
}).listen(0);
