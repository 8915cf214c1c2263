// Streaming both ways: GET /stream sends a large chunked response written as the socket drains;
// POST /echo streams the upload back as it arrives, pausing the upload while the client is slow to read.
import * as http from "eventide/http";
import { Buffer } from "eventide/buffer";

const CHUNK = Buffer.from("x".repeat(16 * 1024 - 1) + "\n");
const STREAM_CHUNKS = 1024; // 16 MiB

/** Streaming state lives on the response; AssemblyScript callbacks can't close over locals. */
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

function echoChunk(chunk: Buffer, req: http.IncomingMessage): void {
  const res = responses.get(req);
  if (!res.write(chunk)) {
    req.pause();
    paused.set(res, req);
  }
}

const responses = new Map<http.IncomingMessage, http.ServerResponse>();
const paused = new Map<http.ServerResponse, http.IncomingMessage>();

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.method == "GET" && req.url == "/stream") {
    res.setHeader("Content-Type", "text/plain");
    sent.set(res, 0);
    res.on("drain", pump);
    pump(res);
  } else if (req.method == "POST" && req.url == "/echo") {
    res.setHeader("Content-Type", "application/octet-stream");
    responses.set(req, res);
    res.on("drain", (r: http.ServerResponse) => {
      if (paused.has(r)) {
        const q = paused.get(r);
        paused.delete(r);
        q.resume();
      }
    });
    req.on("data", echoChunk);
    req.on("end", (q: http.IncomingMessage) => {
      const r = responses.get(q);
      responses.delete(q);
      r.end();
    });
  } else {
    res.statusCode = 404;
    res.end("not found\n");
  }
}).listen(1337, "127.0.0.1");
