// Streaming both ways: GET /stream sends a large chunked response written as the socket drains;
// POST /echo streams the upload back as it arrives with req.pipe(res), which pauses the upload while the client
// is slow to read the echo.
import * as http from "eventide/http";
import { Buffer } from "eventide/buffer";

const CHUNK = Buffer.from("x".repeat(16 * 1024 - 1) + "\n");
const STREAM_CHUNKS = 1024; // 16 MiB

/**
 * Chunks sent so far per response: AssemblyScript callbacks can't close over locals, and 'drain' hands the
 * listener only the response.
 */
const sent = new Map<http.ServerResponse, i32>();

function pump(res: http.ServerResponse): void {
  let n = sent.get(res);
  while (n < STREAM_CHUNKS) {
    n++;
    if (!res.write(CHUNK)) break; // wait for 'drain'
  }
  sent.set(res, n);
  if (n == STREAM_CHUNKS) {
    sent.delete(res);
    res.end();
  }
}

function forget(res: http.ServerResponse): void {
  sent.delete(res); // the client went away mid-stream
}

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.method == "GET" && req.url == "/stream") {
    res.setHeader("Content-Type", "text/plain");
    sent.set(res, 0);
    res.on("drain", pump);
    res.on("close", forget);
    pump(res);
  } else if (req.method == "POST" && req.url == "/echo") {
    res.setHeader("Content-Type", "application/octet-stream");
    req.pipe(res);
  } else {
    res.statusCode = 404;
    res.end("not found\n");
  }
}).listen(1337, "127.0.0.1");
