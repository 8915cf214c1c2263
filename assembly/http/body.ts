// Request bodies as wholes or as streams: readBody collects a body up to a byte limit, answering 413 past it
// (Express's body-parser `limit`, RFC 9110 §15.5.14); pipe sends one on to a response or a socket with
// backpressure (Node's readable.pipe). Both keep their state on the request, as closure-free listeners must.
import { Buffer } from "../buffer";
import { EventEmitter } from "../events";
import { Socket } from "../net";
import { IncomingMessage } from "./incoming";
import { OutgoingMessage } from "./outgoing";
import { parseContentLength } from "./fields";

/** A body being collected: its chunks so far and where it goes. */
export class BodyReader {
  chunks: Array<Buffer> = new Array<Buffer>();
  size: i32 = 0;
  constructor(public limit: i32, public callback: usize, public arity: i32) {}
}

/**
 * Collects `req`'s whole body, then calls `callback(body: Buffer, req: IncomingMessage)` (cut to the parameters
 * it declares; the response is `req.res`). A body of more than `limit` bytes is refused: the response is a 413
 * with `Connection: close` (at once when Content-Length declares more, else as soon as the bytes pass the
 * limit), what was collected is dropped, the callback is never called, and the connection reads and drops the
 * rest for at most 2 s before it closes (closing on unread input would reset it and could lose the 413).
 */
export function readBody<F>(req: IncomingMessage, limit: i32, callback: F): void {
  const arity = lengthof<F>();
  if (arity > 2) abort("a readBody callback takes at most (body, req)");
  const declared = req.getHeader("content-length");
  if (declared != null && parseContentLength(declared) > <i64>limit) {
    refuse(req);
    return;
  }
  req.bodyReader = new BodyReader(limit, changetype<usize>(callback), arity);
  req.on("data", collect);
  req.on("end", deliver);
}

function collect(chunk: Buffer, req: IncomingMessage): void {
  const reader = req.bodyReader;
  if (reader == null) return; // refused: the rest is dropped
  reader.size += chunk.length;
  if (reader.size > reader.limit) {
    req.bodyReader = null;
    refuse(req);
    return;
  }
  reader.chunks.push(chunk);
}

function deliver(req: IncomingMessage): void {
  const reader = req.bodyReader;
  if (reader == null) return;
  req.bodyReader = null;
  const body = Buffer.concat(changetype<Array<Uint8Array>>(reader.chunks));
  const fn = reader.callback;
  if (reader.arity == 2) changetype<(body: Buffer, req: IncomingMessage) => void>(fn)(body, req);
  else if (reader.arity == 1) changetype<(body: Buffer) => void>(fn)(body);
  else changetype<() => void>(fn)();
}

/** 413 and a close; if the response has begun already, only the close. */
function refuse(req: IncomingMessage): void {
  const res = req.res;
  if (res == null || res.headersSent) {
    req.socket.destroy();
    return;
  }
  res.statusCode = 413;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Connection", "close");
  res.end("Payload Too Large\n");
}

// ---- pipe ----

// Requests piping now; a destination's 'drain' resumes the ones that wait on it.
const piping = new Array<IncomingMessage>();

/** Starts `req.pipe(dest)` once req.pipeResponse or req.pipeSocket is set to `dest`. */
export function startPipe(req: IncomingMessage, dest: EventEmitter): void {
  if (req.readableEnded) { // nothing more will come: Node ends the destination too
    pipeEnd(req);
    return;
  }
  if (!piping.includes(req)) {
    piping.push(req);
    req.on("data", pipeData);
    req.on("end", pipeEnd);
    req.on("aborted", stopPipe);
  }
  dest.on("drain", resumeSources);
}

function pipeData(chunk: Buffer, req: IncomingMessage): void {
  const res = req.pipeResponse;
  if (res != null) {
    if (res.writableEnded) stopPipe(req); // ended by someone else: the rest of the body is dropped
    else if (!res.write(chunk)) req.pause();
    return;
  }
  const socket = req.pipeSocket;
  if (socket != null) {
    if (socket.destroyed || socket.writableEnded) stopPipe(req);
    else if (!socket.write(chunk)) req.pause();
  }
}

function pipeEnd(req: IncomingMessage): void {
  const res = req.pipeResponse;
  if (res != null) res.end();
  const socket = req.pipeSocket;
  if (socket != null) socket.end();
  stopPipe(req);
}

/** Unpipes `req` (Node's readable.unpipe()): nothing more goes to its destination. */
export function stopPipe(req: IncomingMessage): void {
  req.pipeResponse = null;
  req.pipeSocket = null;
  const i = piping.indexOf(req);
  if (i >= 0) piping.splice(i, 1);
}

function resumeSources(dest: EventEmitter): void {
  for (let i = 0; i < piping.length; i++) {
    const req = unchecked(piping[i]);
    const target = changetype<usize>(dest);
    if (changetype<usize>(req.pipeResponse) == target || changetype<usize>(req.pipeSocket) == target) req.resume();
  }
}
