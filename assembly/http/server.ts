// http.createServer and the response (Node's lib/_http_server.js): the server takes each accepted socket
// into a Connection (./connection.ts); a ServerResponse is an OutgoingMessage whose head the server frames
// from the request's method and version and the response's status (./outgoing.ts).
import * as net from "../net";
import { Socket } from "../net";
import * as out from "./writer";
import { IncomingMessage } from "./incoming";
import { OutgoingMessage, HeadPlan, headerProblem } from "./outgoing";
import { Connection } from "./connection";
import { isFieldValue } from "./fields";
import { ParseError, errorCode, errorReason, statusForError } from "./errors";
import { emitSoon } from "../events";


// One plan reused for every head: the runtime is single-threaded and a head is written in one go.
const plan = new HeadPlan();

export class ServerResponse extends OutgoingMessage {
  /** The status sent with the head: 100–999 (Node's range); writeHead refuses others. */
  statusCode: i32 = 200;
  /** The reason phrase; empty means the standard one. Checked like a field value when the head is sent. */
  statusMessage: string = "";
  req: IncomingMessage;
  private conn: Connection;

  constructor(conn: Connection, req: IncomingMessage, keepAlive: bool) {
    super();
    this.conn = conn;
    this.req = req;
    this.shouldKeepAlive = keepAlive;
  }

  /**
   * Sets the status and, optionally, headers as a flat [name, value, …] list (Node accepts this form too).
   * With no header set before, the list is used as given, repeated names included, until the head is sent.
   * A status outside 100–999 is refused with an 'error' (ERR_HTTP_INVALID_STATUS_CODE, Node's RangeError).
   */
  writeHead(statusCode: i32, headers: Array<string> | null = null): this {
    if (this.headersSent) {
      this.failSoon("ERR_HTTP_HEADERS_SENT", "cannot write the head twice");
      return this;
    }
    if (!isValidStatus(statusCode)) {
      this.failSoon("ERR_HTTP_INVALID_STATUS_CODE", "invalid status code: " + statusCode.toString());
      return this;
    }
    this.statusCode = statusCode;
    if (headers != null) this.takeHeaderList(headers);
    return this;
  }

  /** Sends an interim `100 Continue` (RFC 9110 §15.2.1), as Node's res.writeContinue(). */
  writeContinue(): void {
    this.writeInterim(100, null);
  }

  /** Sends an interim `102 Processing`, as Node's res.writeProcessing(). */
  writeProcessing(): void {
    this.writeInterim(102, null);
  }

  /** Sends an interim `103 Early Hints` with [name, value, …] fields, e.g. Link (RFC 8297); invalid ones are refused. */
  writeEarlyHints(hints: Array<string>): void {
    this.writeInterim(103, hints);
  }

  private writeInterim(status: i32, fields: Array<string> | null): void {
    if (this.headersSent) return; // the final head went out: an interim response can no longer precede it
    out.reset();
    out.statusLine(status);
    if (fields != null) {
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const name = unchecked(fields[i]);
        const value = unchecked(fields[i + 1]);
        const problem = headerProblem(name, value);
        if (problem != null) {
          this.failSoon(problem, "invalid early hint");
          return;
        }
        out.text(name);
        out.text(": ");
        out.text(value);
        out.crlf();
      }
    }
    out.crlf();
    this.transmit(out.ptr(), out.size());
  }

  /**
   * The status line, then what the server decides (OutgoingMessage.storeHead): no body for HEAD, 1xx, 204 and
   * 304, no framing fields for 1xx and 204, chunked only for HTTP/1.1 clients, and a close after a 1xx that
   * the app made final (nothing else can follow it) or while the server is closing. An invalid status or
   * reason phrase set directly on the object is refused here: 500 and a close, or the standard reason.
   */
  protected writeHead_(knownLength: i64): void {
    let status = this.statusCode;
    let mustClose = this.conn.server.closing;
    if (!isValidStatus(status)) {
      this.failSoon("ERR_HTTP_INVALID_STATUS_CODE", "invalid status code: " + status.toString());
      this.statusCode = status = 500;
      mustClose = true;
    }
    let reason = this.statusMessage;
    if (!isFieldValue(reason)) {
      this.failSoon("ERR_INVALID_CHAR", "invalid character in statusMessage");
      this.statusMessage = reason = "";
    }
    out.statusLine(status, reason);
    const isHead = this.req.method == "HEAD";
    const bodiless = status < 200 || status == 204 || status == 304;
    plan.hasBody = !isHead && !bodiless;
    plan.noFramingFields = status < 200 || status == 204;
    plan.declareLengthWithoutBody = isHead && !bodiless;
    plan.chunkedAllowed = this.req.httpVersionMinor >= 1;
    plan.mustClose = mustClose || status < 200;
    plan.keepAliveSeconds = this.conn.server.keepAliveTimeout / 1000;
    this.storeHead(knownLength, plan);
  }

  protected transmit(ptr: usize, len: i32): bool {
    return this.conn.send(ptr, len);
  }

  protected finished(): void {
    emitSoon(this, "finish");
    this.conn.responseDone(this);
  }
}

function isValidStatus(status: i32): bool {
  return status >= 100 && status <= 999;
}

/** What 'clientError' receives: the parser's reason, its code (e.g. HPE_INVALID_METHOD) and the status answered. */
export class HttpParseError extends Error {
  code: string;
  statusCode: i32;
  constructor(public reason: ParseError) {
    super(errorReason(reason));
    this.name = "HttpParseError";
    this.code = errorCode(reason);
    this.statusCode = statusForError(reason);
  }
}

// ---- the server ----

export class Server extends net.Server {
  /** Idle keep-alive connections close after this many ms (Node: 5000). */
  keepAliveTimeout: i32 = 5000;
  /** Time allowed to receive a request's head, in ms (Node: 60000; the host's EVENTIDE_HEADERS_TIMEOUT). */
  headersTimeout: i32 = net.hostLimit("EVENTIDE_HEADERS_TIMEOUT", 60000);
  /** Time allowed to receive a whole request, in ms (Node: 300000; the host's EVENTIDE_REQUEST_TIMEOUT). */
  requestTimeout: i32 = net.hostLimit("EVENTIDE_REQUEST_TIMEOUT", 300000);
  /** Largest request head, in bytes (Node: 16 KiB; the host's EVENTIDE_MAX_HEADER_SIZE); larger ones get 431. */
  maxHeaderSize: i32 = net.hostLimit("EVENTIDE_MAX_HEADER_SIZE", 16 * 1024);
  /** Answer 400 to an HTTP/1.1 request without a Host field (Node's requireHostHeader, default true). */
  requireHostHeader: bool = true;

  protected onConnection(socket: Socket): void {
    new Connection(this, socket);
    this.emitWith<Socket>("connection", socket);
  }

  /**
   * Stops accepting; requests in flight finish and their responses say Connection: close. Idle keep-alive
   * connections close — at once if idle for a second or more, else once they have been (a request already on
   * its way is still answered, so a drain under load fails none). 'close' follows when the last one ends.
   */
  close(callback: ((server: net.Server) => void) | null = null): this {
    super.close(callback);
    this.closeIdle(true);
    return this;
  }

  /** Closes every idle keep-alive connection now (Node's server.closeIdleConnections). */
  closeIdleConnections(): void {
    this.closeIdle(false);
  }

  private closeIdle(gently: bool): void {
    const handles = net.connectionsOf(this);
    for (let i = 0; i < handles.length; i++) {
      const reader = handles[i].currentReader;
      if (!(reader instanceof Connection)) continue;
      const conn = changetype<Connection>(reader);
      if (gently) conn.drain();
      else if (conn.idle) conn.close();
    }
  }
}

/** http.createServer((req, res) => …) */
export function createServer<F>(requestListener: F): Server {
  const server = new Server();
  server.on<F>("request", requestListener);
  return server;
}
