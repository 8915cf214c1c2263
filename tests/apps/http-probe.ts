// Test app: answers "<METHOD> <url>" (after 50 ms for /slow; POST adds the body's size once it ends; /headers
// reports the request's headers), with short timeouts so tests can observe them,
// and turns an Upgrade: echo request into a raw echo socket.
import * as http from "eventide/http";
import { Socket, NetError } from "eventide/net";
import { Buffer } from "eventide/buffer";
import { setTimeout } from "eventide/timers";

function answer(res: http.ServerResponse): void {
  res.end(res.req.method + " " + res.req.url);
}

const bodyBytes = new Map<http.IncomingMessage, i32>();

const BAD_HEADERS = ["Bad Name", "v", "X-Ok", "line\r\nbreak", "", "v", "X-Ok", "del\x7f", "Na\u0141me", "v",
  "X-Ok", "nul\0", "X(paren)", "v", "X-Ok", "bell\x07"];
const SHARED_HEADERS = ["Content-Type", "text/plain", "X-Twice", "a", "X-Twice", "b", "X-Shared", "as given"];

const server = http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url == "/shared-headers") {
    // writeHead uses the app's array as given; a later change must copy it, not alter the app's array.
    res.writeHead(200, SHARED_HEADERS);
    res.setHeader("X-Shared", "changed");
    res.end(SHARED_HEADERS[7]);
    return;
  }
  res.setHeader("Content-Type", "text/plain");
  if (req.method == "POST") {
    // Answer once the whole body is in, with its size: "<METHOD> <url> <bytes>".
    bodyBytes.set(req, 0);
    req.on("data", (chunk: Buffer, r: http.IncomingMessage) => { bodyBytes.set(r, bodyBytes.get(r) + chunk.length); });
    req.on("end", (r: http.IncomingMessage) => {
      const n = bodyBytes.get(r);
      bodyBytes.delete(r);
      r.res!.end(r.method + " " + r.url + " " + n.toString());
    });
  } else if (req.url.startsWith("/bad-header/")) {
    // setHeader refuses an invalid name or value with an 'error' (ERR_INVALID_CHAR); the response goes on.
    const i = I32.parseInt(req.url.substring(12)) * 2;
    res.on("error", (err: NetError, r: http.ServerResponse) => { r.end(err.code); });
    res.setHeader(BAD_HEADERS[i], BAD_HEADERS[i + 1]);
  } else if (req.url == "/good-header") {
    res.setHeader("X-All_tchar!#$%&'*+-.^`|~09az", "tab\tand spaces, \u00e9 and \u2713");
    res.end("accepted");
  } else if (req.url == "/rewrite") {
    req.url = "/rewritten"; // as routers do
    answer(res);
  } else if (req.url == "/unicode") {
    res.end("ascii first, then h\u00e9llo w\u00f6rld \u2713 \ud83c\udf89"); // 2-, 3- and 4-byte UTF-8
  } else if (req.url == "/headers") {
    // rawHeaders as sent, then lookups: case-insensitive, repeated fields joined with ", ", absent → null.
    const twice = req.getHeader("X-TWICE");
    const missing = req.getHeader("x-missing");
    const map = req.headers;
    res.end(req.rawHeaders.join("|") + "\n" + (twice == null ? "null" : twice) + "\n" +
      (missing == null ? "null" : missing) + "\n" + (map.has("x-twice") ? map.get("x-twice")! : "absent") + "\n" +
      map.keys().length.toString());
  } else if (req.url == "/slow") {
    setTimeout(answer, 50, res);
  } else {
    answer(res);
  }
});
server.headersTimeout = 400;
server.requestTimeout = 3000;
server.keepAliveTimeout = 1000;
server.on("upgrade", (req: http.IncomingMessage, socket: Socket) => {
  socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
  const head = req.head;
  if (head != null && head.length > 0) socket.write(head);
  socket.pipe(socket);
});
server.listen(0);
