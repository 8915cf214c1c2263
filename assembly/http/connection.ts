// One HTTP/1.1 connection (Node's _http_server.js connectionListener and its socketOn* handlers): drives the
// parser over borrowed read buffers, keeps at most one request in flight (pipelined requests wait, unparsed,
// while the socket is paused), parses no further request while the client leaves earlier responses unread,
// and answers malformed input with a prebuilt error response before closing.
import { Socket, SocketReader } from "../net";
import { Buffer } from "../buffer";
import { Deadline } from "../timers";
import { now } from "../tasks";
import * as out from "./writer";
import { Parser, HeadResult, Method, methodName, skipEmptyLines, ParseError, MAX_EMPTY_LINES, statusForError } from "./parser";
import { IncomingMessage } from "./incoming";
import { Server, ServerResponse, HttpParseError } from "./server";
import { emitSoon } from "../events";

/**
 * Where a connection is; every change goes through Connection.enter, which also sets the phase's deadline.
 * IDLE: between requests (nothing of the next one yet but empty lines); HEAD: part of a head received;
 * BODY: reading a request's body; RESPONDING: the whole request is in, the response is not finished;
 * LINGER: an error response was sent and our side closed, what the client still sends is read and dropped.
 */
enum Phase { IDLE, HEAD, BODY, RESPONDING, UPGRADED, LINGER, CLOSED }

/**
 * How long a connection closed after an error response keeps reading (and dropping) what the client still
 * sends: closing with unread input makes the kernel reset the connection, which can destroy the response
 * before the client reads it (nginx's lingering_close does the same, with 5 s).
 */
const LINGER_MS: i32 = 2000;

/**
 * When the server closes, a keep-alive connection idle for less than this may have its next request already on
 * the wire: it gets until then to send it (answered with Connection: close) before it is closed. One idle
 * longer is closed at once — the same race any keep-alive timeout has.
 */
const DRAIN_IDLE_MS: i64 = 1000;

/** Parsers are pooled: a connection holds one only while a request is in progress (Node's FreeList). */
const parserPool = new Array<Parser>();
const MAX_POOLED_PARSERS = 1000;

function takeParser(server: Server): Parser {
  const p = parserPool.length > 0 ? parserPool.pop() : new Parser();
  p.reset();
  p.maxHeaderSize = server.maxHeaderSize;
  return p;
}

function releaseParser(p: Parser): void {
  if (parserPool.length < MAX_POOLED_PARSERS) parserPool.push(p);
}

/** Per-socket state; the socket's bytes come here (SocketReader) instead of 'data' events. */
export class Connection extends SocketReader {
  socket: Socket;
  server: Server;
  private phase: Phase = Phase.IDLE;
  private parser: Parser | null = null;
  // Bytes received but not yet parsed: a partial head, or pipelined requests waiting their turn.
  private pending: Uint8Array | null = null;
  private pendingLength: i32 = 0;
  private req: IncomingMessage | null = null;
  private res: ServerResponse | null = null;
  private requestDone: bool = false;     // the whole request (head and body) arrived
  private bodyPaused: bool = false;
  private busy: bool = false;            // inside process(): nested calls only flag work
  private peerEnded: bool = false;
  private awaitingDrain: bool = false;   // no request is parsed until the client reads what was sent
  private emptyLines: i32 = 0;           // before the request-line being awaited
  private served: i32 = 0;
  private idleSince: i64 = 0;
  private timer!: ConnectionTimer;

  constructor(server: Server, socket: Socket) {
    super();
    this.server = server;
    this.socket = socket;
    this.timer = new ConnectionTimer(this);
    this.timer.unref();
    socket.setAllowHalfOpen(true); // a client may half-close after its request and still read the response
    this.enter(Phase.IDLE);
    socket.setReader(this);
  }

  /**
   * The one place the phase changes, with its deadline: the first head must arrive within headersTimeout,
   * a head once begun too, a body within requestTimeout, and an idle kept-alive connection closes after
   * keepAliveTimeout. Leaving HTTP (upgrade, close) drops the timer, the parser and buffered bytes.
   */
  private enter(phase: Phase): void {
    this.phase = phase;
    const server = this.server;
    switch (phase) {
      case Phase.IDLE: {
        this.idleSince = now();
        if (server.closing) this.setDeadline(<i32>DRAIN_IDLE_MS);
        else this.setDeadline(this.served == 0 ? server.headersTimeout : server.keepAliveTimeout);
        break;
      }
      case Phase.HEAD: {
        this.setDeadline(server.headersTimeout);
        break;
      }
      case Phase.BODY: {
        this.setDeadline(server.requestTimeout);
        break;
      }
      case Phase.RESPONDING: {
        this.timer.clearDeadline();
        this.dropParser();
        break;
      }
      case Phase.LINGER: {
        this.setDeadline(LINGER_MS);
        this.dropParser();
        this.pending = null;
        this.pendingLength = 0;
        break;
      }
      default: {
        this.timer.disarm();
        this.dropParser();
        this.pending = null;
        this.pendingLength = 0;
      }
    }
  }

  // ---- bytes in ----

  onData(socket: Socket, ptr: usize, len: i32): void {
    if (this.phase == Phase.LINGER) return; // dropped: the request was refused
    if (this.pendingLength > 0 || this.mustWait()) {
      this.keep(ptr, len);
      if (this.mustWait()) {
        socket.pause(); // one request at a time: the next waits, unparsed, with the socket paused
        return;
      }
      this.processPending();
      return;
    }
    const used = this.process(ptr, len);
    if (used < len && this.phase != Phase.CLOSED && this.phase != Phase.UPGRADED) this.keep(ptr + used, len - used);
  }

  /** Whether received bytes must wait: a response is in progress, the app paused the body, or output is stuck. */
  private mustWait(): bool {
    return this.phase == Phase.RESPONDING || this.bodyPaused || this.awaitingDrain;
  }

  /**
   * The client ended its side. Pipelined requests already received are still answered; a head or body cut
   * short gets 400 (as Node answers HPE_INVALID_EOF_STATE) before the close.
   */
  onEnd(socket: Socket): void {
    this.peerEnded = true;
    if (this.phase == Phase.BODY) {
      this.reject(ParseError.INCOMPLETE_MESSAGE);
    } else if ((this.phase == Phase.IDLE || this.phase == Phase.HEAD) && !this.busy) {
      this.processPending();
    }
    // RESPONDING: the response still goes out; then the requests behind it, then the close.
  }

  onDrain(socket: Socket): void {
    if (this.awaitingDrain) {
      this.awaitingDrain = false;
      socket.resume();
      this.processPending();
    }
    const res = this.res;
    if (res != null) res.emit("drain");
  }

  onClose(socket: Socket): void {
    this.enter(Phase.CLOSED);
    const req = this.req;
    if (req != null && !this.requestDone) req.emit("aborted");
    const res = this.res;
    if (res != null && !res.writableFinished) res.emit("close");
    this.req = null;
    this.res = null;
  }

  /** Appends bytes to `pending`, growing it by doubling; what waits here is bounded by the socket being paused. */
  private keep(ptr: usize, len: i32): void {
    const needed = this.pendingLength + len;
    let buf = this.pending;
    if (buf == null || buf.length < needed) {
      let size = buf == null ? 1024 : buf.length * 2;
      while (size < needed) size *= 2;
      const grown = new Uint8Array(size);
      if (buf != null) memory.copy(grown.dataStart, buf.dataStart, this.pendingLength);
      this.pending = buf = grown;
    }
    memory.copy(buf.dataStart + this.pendingLength, ptr, len);
    this.pendingLength = needed;
  }

  /** Parses what `pending` holds, drops the consumed prefix, and ends the input if the client has. */
  private processPending(): void {
    if (this.busy) return;
    const buf = this.pending;
    if (buf != null) {
      const used = this.process(buf.dataStart, this.pendingLength);
      if (this.pending === buf) {
        const rest = this.pendingLength - used;
        if (rest == 0) {
          this.pending = null; // an idle connection holds no buffer
        } else if (used > 0) {
          memory.copy(buf.dataStart, buf.dataStart + used, rest);
        }
        this.pendingLength = rest;
      }
    }
    if (this.peerEnded && (this.phase == Phase.IDLE || this.phase == Phase.HEAD) && !this.awaitingDrain) this.endOfInput();
  }

  /** Nothing more will arrive and no request is in progress: close, with 400 if a head was cut short. */
  private endOfInput(): void {
    if (this.phase == Phase.HEAD) this.reject(ParseError.INCOMPLETE_MESSAGE);
    else this.close();
  }

  /** Consumes requests from [ptr, ptr+len) until it needs more bytes or must wait; returns bytes used. */
  private process(ptr: usize, len: i32): i32 {
    this.busy = true;
    let used = 0;
    while (used < len) {
      const phase = this.phase;
      if (phase == Phase.IDLE || phase == Phase.HEAD) {
        // A client that sends requests but doesn't read the responses must not make the server queue them
        // without bound: the next request waits until what was sent drains (Node stops parsing likewise).
        if (phase == Phase.IDLE && this.outputBlocked()) {
          this.awaitingDrain = true;
          break;
        }
        const n = this.parseHead(ptr + used, len - used);
        if (n <= 0) break;
        used += n;
      } else if (phase == Phase.BODY) {
        if (this.bodyPaused) break;
        const n = this.readBody(ptr + used, len - used);
        if (n < 0) break;
        used += n;
        if (n == 0 && this.phase == Phase.BODY) break;
      } else {
        break; // RESPONDING, UPGRADED or CLOSED: later bytes wait (or are dropped)
      }
    }
    this.busy = false;
    if (used < len && this.mustWait()) this.socket.pause();
    return used;
  }

  private outputBlocked(): bool {
    const socket = this.socket;
    return socket.writableLength >= socket.writableHighWaterMark;
  }

  /** Returns bytes consumed by a complete head (or empty lines), 0 when more are needed, -1 when it ended. */
  private parseHead(ptr: usize, len: i32): i32 {
    let parser = this.parser;
    if (parser == null) {
      const blank = skipEmptyLines(ptr, len);
      if (blank != 0) {
        if (blank < 0) return 0; // a lone CR, kept for the next read
        this.emptyLines += blank >> 1;
        if (this.emptyLines > MAX_EMPTY_LINES) {
          this.reject(ParseError.TOO_MANY_EMPTY_LINES);
          return -1;
        }
        return blank;
      }
      this.parser = parser = takeParser(this.server);
      this.enter(Phase.HEAD);
    }
    const n = parser.parseHead(ptr, len);
    if (n == HeadResult.NEED_MORE) return 0;
    if (n == HeadResult.ERROR) {
      this.reject(parser.error);
      return -1;
    }
    const hostError = this.checkHost(parser);
    if (hostError != ParseError.NONE) {
      this.reject(hostError);
      return -1;
    }
    this.startRequest(parser, ptr, n, len);
    return this.phase == Phase.UPGRADED || this.phase == Phase.CLOSED ? -1 : n;
  }

  /**
   * RFC 9112 §3.2: 400 for an HTTP/1.1 request without a Host field (unless the server's requireHostHeader is
   * off, as Node allows), and for any request with more than one Host field or an invalid one.
   */
  private checkHost(parser: Parser): ParseError {
    if (parser.hostCount > 1 || !parser.hostValid) return ParseError.INVALID_HOST;
    if (parser.hostCount == 0 && parser.versionMinor == 1 && this.server.requireHostHeader) return ParseError.MISSING_HOST;
    return ParseError.NONE;
  }

  private startRequest(parser: Parser, ptr: usize, headLength: i32, available: i32): void {
    const req = new IncomingMessage(this);
    const m = parser.method;
    req.method = m == Method.OTHER ? String.UTF8.decodeUnsafe(ptr, parser.methodLength) : methodName(m);
    req.httpVersionMajor = parser.versionMajor;
    req.httpVersionMinor = parser.versionMinor;
    req.httpVersion = parser.versionMinor == 1 ? "1.1" : "1.0";
    req.keepHead(ptr, headLength, parser);
    this.emptyLines = 0;
    const server = this.server;
    if (parser.upgrade) {
      const event = m == Method.CONNECT ? "connect" : "upgrade";
      if (server.listenerCount(event) > 0) {
        this.handOver(req, event, ptr + headLength, available - headLength);
        return;
      }
      if (m == Method.CONNECT) {
        this.reject(ParseError.INVALID_METHOD); // nobody handles CONNECT: refuse rather than misframe the tunnel
        return;
      }
    }
    const res = new ServerResponse(this, req, parser.keepAlive && !server.closing && !this.socket.shedForBalance());
    req.res = res;
    this.req = req;
    this.res = res;
    this.requestDone = !parser.hasBody;
    req.complete = this.requestDone;
    const expectContinue = parser.expectContinue && parser.versionMinor == 1;
    this.enter(this.requestDone ? Phase.RESPONDING : Phase.BODY);
    if (expectContinue) {
      if (server.listenerCount("checkContinue") > 0) {
        server.emitPair<IncomingMessage, ServerResponse>("checkContinue", req, res);
        this.afterRequestEmitted(req);
        return;
      }
      res.writeContinue();
    }
    server.emitPair<IncomingMessage, ServerResponse>("request", req, res);
    this.afterRequestEmitted(req);
  }

  /** A body-less request ends right after 'request', so listeners added in the handler see 'end'. */
  private afterRequestEmitted(req: IncomingMessage): void {
    if (this.requestDone && this.req === req) emitSoon(req, "end");
  }

  /** Upgrade/CONNECT: the socket and the bytes after the head go to the app's handler. */
  private handOver(req: IncomingMessage, event: string, rest: usize, restLength: i32): void {
    req.head = Buffer.copyOf(rest, restLength); // everything after the head, pipelined bytes included
    this.enter(Phase.UPGRADED);
    const socket = this.socket;
    socket.setReader(null);
    socket.pause();
    socket.setAllowHalfOpen(false);
    this.server.emitPair<IncomingMessage, Socket>(event, req, socket);
  }

  /** Returns bytes consumed, or -1 after an error closed the connection. */
  private readBody(ptr: usize, len: i32): i32 {
    const parser = changetype<Parser>(this.parser);
    const n = parser.decodeBody(ptr, len);
    if (n < 0) {
      this.reject(parser.error);
      return -1;
    }
    const req = changetype<IncomingMessage>(this.req);
    if (parser.dataLength > 0 && req.listenerCount("data") > 0) {
      req.emitWith<Buffer>("data", Buffer.copyOf(ptr + parser.dataOffset, parser.dataLength));
    }
    if (parser.bodyDone && this.phase == Phase.BODY) {
      this.requestDone = true;
      req.complete = true;
      const res = this.res;
      const answered = res != null && res.writableFinished; // else the app's end() goes on from responseDone
      this.enter(Phase.RESPONDING);
      req.emit("end");
      if (answered) this.nextRequest(changetype<ServerResponse>(res));
    }
    return n;
  }

  pauseBody(): void {
    if (this.phase != Phase.BODY || this.bodyPaused) return;
    this.bodyPaused = true;
    this.socket.pause();
  }

  resumeBody(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    this.socket.resume();
    this.processPending();
  }

  // ---- bytes out ----

  send(ptr: usize, len: i32): bool {
    if (this.phase == Phase.CLOSED || this.socket.destroyed) return false;
    return this.socket.writeBytes(ptr, len);
  }

  /** res.end() was called: go on to the next request or close. */
  responseDone(res: ServerResponse): void {
    this.served++;
    if (this.phase == Phase.BODY) {
      // Answered before the body arrived: keep reading (and discarding) it, then continue — or, when the
      // response closes the connection (a 413), close it lingering: closing on unread input resets it, and
      // the reset can destroy the response before the client reads it.
      if (!res.shouldKeepAlive) this.closeLingering();
      return;
    }
    this.nextRequest(res);
  }

  private nextRequest(res: ServerResponse): void {
    if (this.phase == Phase.CLOSED) return;
    this.req = null;
    this.res = null;
    if (!res.shouldKeepAlive) {
      this.close();
      return;
    }
    this.requestDone = false;
    this.enter(Phase.IDLE);
    if (this.busy) return; // process() goes on with the bytes behind this request
    if (this.outputBlocked()) {
      this.awaitingDrain = true;
      return;
    }
    this.socket.resume();
    this.processPending();
  }

  /** Answers a malformed request with its 4xx/5xx (if nothing was sent yet) and closes. */
  private reject(code: ParseError): void {
    const server = this.server;
    if (server.listenerCount("clientError") > 0) {
      this.enter(Phase.CLOSED); // the listener answers and closes the socket (Node's contract)
      server.emitPair<HttpParseError, Socket>("clientError", new HttpParseError(code), this.socket);
      return;
    }
    const res = this.res;
    if (res == null || !res.headersSent) this.sendClosing(statusForError(code));
    this.closeLingering();
  }

  private sendClosing(status: i32): void {
    const response = out.closingResponse(status);
    this.send(response.dataStart, response.length);
  }

  /** The phase's deadline passed: idle connections close quietly; a slow request gets 408. */
  onTimeout(): void {
    if (this.phase == Phase.IDLE) {
      this.socket.destroy();
      return;
    }
    if (this.phase == Phase.HEAD || this.phase == Phase.BODY) {
      const res = this.res;
      if (res == null || !res.headersSent) this.sendClosing(408);
      this.closeLingering();
    } else if (this.phase == Phase.LINGER) {
      this.socket.destroy();
    }
  }

  /**
   * Closes after queued output: FIN now if the queue is empty (and the fd at once), else once it drains
   * (then the fd once the client has closed too).
   */
  close(): void {
    if (this.phase == Phase.CLOSED || this.phase == Phase.LINGER) return;
    this.enter(Phase.CLOSED);
    const socket = this.socket;
    socket.end();
    if (socket.writableLength == 0) socket.destroy();
  }

  /** After an error response: FIN once it is sent, then read and drop input until the client closes or LINGER_MS. */
  private closeLingering(): void {
    if (this.phase == Phase.CLOSED || this.phase == Phase.LINGER) return;
    this.enter(Phase.LINGER);
    const socket = this.socket;
    socket.end(); // with the client's FIN already in, the socket closes itself once the response is out
    if (!this.peerEnded) socket.resume();
  }

  /** Idle means between requests with nothing buffered: safe to close on server.close(). */
  get idle(): bool {
    return this.phase == Phase.IDLE && this.pendingLength == 0;
  }

  /** server.close(): an idle connection closes now, or once it has been idle DRAIN_IDLE_MS (see there). */
  drain(): void {
    if (!this.idle) return; // its response will say Connection: close
    const idleFor = now() - this.idleSince;
    if (idleFor >= DRAIN_IDLE_MS) this.close();
    else this.setDeadline(<i32>(DRAIN_IDLE_MS - idleFor));
  }

  private dropParser(): void {
    const p = this.parser;
    if (p != null) {
      releaseParser(p);
      this.parser = null;
    }
  }

  private setDeadline(ms: i32): void {
    if (ms > 0) this.timer.setDeadline(ms);
    else this.timer.clearDeadline();
  }
}

/** The connection's one deadline (headers, request or keep-alive), moved per phase. */
class ConnectionTimer extends Deadline {
  constructor(private conn: Connection) {
    super();
  }
  expire(): void {
    this.conn.onTimeout();
  }
}
