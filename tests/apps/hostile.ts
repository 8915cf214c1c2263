// Test app for tests/hostile (its limits come from eventide run's flags): GET /big sends BIG_BYTES (default
// 16 MiB) written as the socket drains; POST /consume reads the whole body before it answers "read"; every
// other request is answered "ok" at once, its body left unread (the server discards it).
import * as http from "eventide/http";
import { Buffer } from "eventide/buffer";

const CHUNK = Buffer.from("x".repeat(64 * 1024));
const BIG_BYTES: i32 = process.env.has("BIG_BYTES") ? I32.parseInt(process.env.get("BIG_BYTES")) : 16 << 20;

/** Bytes of /big still to send, per response; AssemblyScript callbacks can't close over locals. */
const left = new Map<http.ServerResponse, i32>();

function pump(res: http.ServerResponse): void {
  let n = left.get(res);
  while (n > 0) {
    n -= CHUNK.length;
    if (!res.write(CHUNK)) break; // the rest on 'drain'
  }
  left.set(res, n);
  if (n <= 0) {
    left.delete(res);
    res.end();
  }
}

function forget(res: http.ServerResponse): void {
  left.delete(res); // a client that went away mid-response
}

function ignore(chunk: Buffer, req: http.IncomingMessage): void {}

function answerRead(req: http.IncomingMessage): void {
  req.res!.end("read");
}

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.method == "GET" && req.url == "/big") {
    res.setHeader("Content-Length", BIG_BYTES.toString());
    left.set(res, BIG_BYTES);
    res.on("drain", pump);
    res.on("close", forget);
    pump(res);
    return;
  }
  if (req.method == "POST" && req.url == "/consume") {
    req.on("data", ignore);
    req.on("end", answerRead);
    return;
  }
  res.end("ok");
}).listen(8080);
