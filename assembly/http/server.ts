// http.createServer over net: one Connection per socket drives the parser over borrowed read buffers,
// keeps at most one request in flight (pipelined requests wait, unparsed, while the socket is paused), and
// answers malformed input with a prebuilt error response before closing (Node's _http_server.js).
import * as net from "../net";
import { Socket, SocketReader } from "../net";
import { EventEmitter } from "../events";
import { Buffer } from "../buffer";
import { Timer } from "../timers";
import { now, queueTick, Task } from "../tasks";
import { httpDate } from "./date";
import { statusText } from "./status";
import * as out from "./writer";
import { Parser, HeadResult, Method, methodName, skipEmptyLines, ParseError, statusForError, errorReason, HEADER_SPAN,
  isTokenUnit, isValueUnit } from "./parser";

export class IncomingMessage extends EventEmitter {
  method: string = "";
  httpVersion: string = "1.1";
  httpVersionMajor: i32 = 1;
  httpVersionMinor: i32 = 1;
  complete: bool = false;
  /** For 'upgrade' and 'connect': bytes that arrived after the head. */
  head: Buffer | null = null;
  /** The response to this request (as Express's req.res): body listeners get the request, not a closure. */
  res: ServerResponse | null = null;
  socket: Socket;
  private conn: Connection;
  // The head's bytes copied out of the read buffer, followed by the parser's header spans; header strings
  // are made only when the app asks (one allocation per request instead of two strings per header).
  private headCopy: StaticArray<u8> | null = null;
  private headLength: i32 = 0;
  private headerCount: i32 = 0;
  private decodedHeaders: Array<string> | null = null;
  private targetStart: i32 = 0;
  private targetLength: i32 = 0;
  private decodedUrl: string | null = null;

  constructor(conn: Connection) {
    super();
    this.conn = conn;
    this.socket = conn.socket;
  }

  /** Keeps the head at `ptr` and the parser's spans into it (they are only valid until the next read). */
  keepHead(ptr: usize, headLength: i32, parser: Parser): void {
    const count = parser.headerCount;
    const copy = changetype<StaticArray<u8>>(__new(<usize>headLength + <usize>count * HEADER_SPAN, idof<StaticArray<u8>>()));
    const base = changetype<usize>(copy);
    memory.copy(base, ptr, headLength);
    parser.copySpans(base + headLength);
    this.headCopy = copy;
    this.headLength = headLength;
    this.headerCount = count;
    this.targetStart = parser.targetStart;
    this.targetLength = parser.targetLength;
  }

  /** The request-target as sent (decoded on first use, like the headers); apps may rewrite it. */
  get url(): string {
    let url = this.decodedUrl;
    if (url == null) {
      url = String.UTF8.decodeUnsafe(changetype<usize>(this.headCopy) + <usize>this.targetStart, this.targetLength);
      this.decodedUrl = url;
    }
    return url;
  }

  set url(url: string) {
    this.decodedUrl = url;
  }

  /** Header names and values in the order received, names as sent: [name, value, name, value, …]. */
  get rawHeaders(): Array<string> {
    let raw = this.decodedHeaders;
    if (raw == null) {
      raw = new Array<string>(this.headerCount * 2);
      for (let i = 0; i < this.headerCount; i++) {
        unchecked(raw[2 * i] = this.decode(this.span(i)));
        unchecked(raw[2 * i + 1] = this.decode(this.span(i) + 8));
      }
      this.decodedHeaders = raw;
    }
    return raw;
  }

  /** The value of a header, case-insensitively; repeated headers are joined with ", " (Node's rule). */
  getHeader(name: string): string | null {
    let value: string | null = null;
    for (let i = 0; i < this.headerCount; i++) {
      if (!this.nameIs(this.span(i), name)) continue;
      const v = this.decode(this.span(i) + 8);
      value = value == null ? v : value + ", " + v;
    }
    return value;
  }

  /** Lower-cased names to values, as Node's `req.headers` (built on first use). */
  get headers(): Map<string, string> {
    const map = new Map<string, string>();
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const key = unchecked(raw[i]).toLowerCase();
      map.set(key, map.has(key) ? map.get(key) + ", " + unchecked(raw[i + 1]) : unchecked(raw[i + 1]));
    }
    return map;
  }

  /** Address of header i's span pair: [start, length] of the name, then of the value. */
  private span(i: i32): usize {
    return changetype<usize>(this.headCopy) + <usize>this.headLength + <usize>i * HEADER_SPAN;
  }

  private decode(pair: usize): string {
    return String.UTF8.decodeUnsafe(changetype<usize>(this.headCopy) + load<u32>(pair), load<u32>(pair, 4));
  }

  /** ASCII case-insensitive comparison of a header name's bytes with `name`, without decoding them. */
  private nameIs(pair: usize, name: string): bool {
    const n = <i32>load<u32>(pair, 4);
    if (n != name.length) return false;
    const p = changetype<usize>(this.headCopy) + load<u32>(pair);
    for (let k = 0; k < n; k++) {
      if (!equalFolded(<u32>load<u8>(p + k), unit(name, k))) return false;
    }
    return true;
  }

  /** Registers a listener; a 'data' listener starts the body flowing. */
  on<F>(event: string, listener: F): this {
    super.on<F>(event, listener);
    if (event == "data") this.resume();
    return this;
  }

  pause(): this {
    this.conn.pauseBody();
    return this;
  }

  resume(): this {
    this.conn.resumeBody();
    return this;
  }
}

const NO_HEADERS = new Array<string>(0);

/** Headers set by the app, kept in insertion order: [name, value, …]. */
export class ServerResponse extends EventEmitter {
  statusCode: i32 = 200;
  statusMessage: string = "";
  headersSent: bool = false;
  writableEnded: bool = false;
  writableFinished: bool = false;
  sendDate: bool = true;
  req: IncomingMessage;
  // Shared until changed: the empty list, or the array given to writeHead (Node, too, uses that array as
  // given when no setHeader came first). Copied on the first change, so most responses allocate no list.
  private headerList: Array<string> = NO_HEADERS;
  private headerListShared: bool = true;
  private conn: Connection;
  private chunked: bool = false;
  private bodyAllowed: bool = true;
  /** Whether the connection stays open after this response. */
  shouldKeepAlive: bool;

  constructor(conn: Connection, req: IncomingMessage, keepAlive: bool) {
    super();
    this.conn = conn;
    this.req = req;
    this.shouldKeepAlive = keepAlive;
  }

  setHeader(name: string, value: string): this {
    if (this.headersSent) {
      this.failSoon("ERR_HTTP_HEADERS_SENT", "cannot set headers after they are sent");
      return this;
    }
    if (!isToken(name) || !isFieldValue(value)) {
      this.failSoon("ERR_INVALID_CHAR", "invalid character in header " + name);
      return this;
    }
    const list = this.headerList;
    for (let i = 0; i < list.length; i += 2) {
      if (equalsIgnoreCase(unchecked(list[i]), name)) {
        this.writableHeaders()[i + 1] = value;
        return this;
      }
    }
    this.addHeaderLine(name, value);
    return this;
  }

  /** Adds a header line even if one with that name exists (e.g. several Set-Cookie). */
  appendHeader(name: string, value: string): this {
    if (!isToken(name) || !isFieldValue(value)) {
      this.failSoon("ERR_INVALID_CHAR", "invalid character in header " + name);
      return this;
    }
    this.addHeaderLine(name, value);
    return this;
  }

  private addHeaderLine(name: string, value: string): void {
    const list = this.writableHeaders();
    list.push(name);
    list.push(value);
  }

  private writableHeaders(): Array<string> {
    if (this.headerListShared) {
      this.headerList = this.headerList.slice(0);
      this.headerListShared = false;
    }
    return this.headerList;
  }

  getHeader(name: string): string | null {
    const list = this.headerList;
    for (let i = 0; i < list.length; i += 2) {
      if (equalsIgnoreCase(unchecked(list[i]), name)) return unchecked(list[i + 1]);
    }
    return null;
  }

  hasHeader(name: string): bool {
    return this.getHeader(name) != null;
  }

  removeHeader(name: string): this {
    const list = this.headerList;
    for (let i = list.length - 2; i >= 0; i -= 2) {
      if (equalsIgnoreCase(unchecked(list[i]), name)) this.writableHeaders().splice(i, 2);
    }
    return this;
  }

  getHeaderNames(): Array<string> {
    const names = new Array<string>();
    for (let i = 0; i < this.headerList.length; i += 2) names.push(this.headerList[i].toLowerCase());
    return names;
  }

  /**
   * Sets the status and, optionally, headers as a flat [name, value, …] list (Node accepts this form too).
   * With no header set before, the list is used as given, repeated names included, until the head is sent.
   */
  writeHead(statusCode: i32, headers: Array<string> | null = null): this {
    this.statusCode = statusCode;
    if (headers == null) return this;
    if (this.headerList.length == 0 && !this.headersSent && isHeaderList(headers)) {
      this.headerList = headers;
      this.headerListShared = true;
      return this;
    }
    for (let i = 0; i + 1 < headers.length; i += 2) this.setHeader(headers[i], headers[i + 1]);
    return this;
  }

  /** Sends the head now, without body bytes. */
  flushHeaders(): void {
    if (this.headersSent) return;
    out.reset();
    this.writeHeadTo(-1);
    this.conn.send(out.ptr(), out.size());
  }

  /** Streams a body chunk: chunked framing unless a Content-Length was set. False under backpressure. */
  write<T>(data: T): bool {
    if (this.writableEnded) {
      this.failSoon("ERR_STREAM_WRITE_AFTER_END", "write after end");
      return false;
    }
    out.reset();
    if (!this.headersSent) this.writeHeadTo(-1);
    this.frame<T>(data, bodyLength<T>(data));
    return this.conn.send(out.ptr(), out.size());
  }

  /** Finishes the response; when nothing was sent yet the body's length becomes Content-Length. */
  end<T = string | null>(data: T = changetype<T>(0)): this {
    if (this.writableEnded) return this;
    this.writableEnded = true;
    const length = bodyLength<T>(data);
    out.reset();
    if (!this.headersSent) this.writeHeadTo(length);
    this.frame<T>(data, length);
    if (this.chunked) out.text("0\r\n\r\n");
    if (out.size() > 0) this.conn.send(out.ptr(), out.size());
    this.writableFinished = true;
    this.conn.responseDone(this);
    return this;
  }

  /** Appends `data` (`length` bytes) to the output, chunk-framed when chunked; nothing for bodiless responses. */
  private frame<T>(data: T, length: i32): void {
    if (!this.bodyAllowed || length == 0) return;
    if (this.chunked) {
      out.hex(length);
      out.crlf();
    }
    appendBody<T>(data);
    if (this.chunked) out.crlf();
  }

  /** Serialises the head into the writer; `knownLength` ≥ 0 when end() has the whole body. */
  private writeHeadTo(knownLength: i32): void {
    this.headersSent = true;
    const status = this.statusCode;
    const isHead = this.req.method == "HEAD";
    this.bodyAllowed = !isHead && status != 204 && status != 304 && (status >= 200 || status < 100);
    out.text("HTTP/1.1 ");
    out.decimal(status);
    out.text(" ");
    out.text(this.statusMessage.length > 0 ? this.statusMessage : statusText(status));
    out.crlf();
    let hasDate = false;
    let hasLength = false;
    let hasEncoding = false;
    let hasConnection = false;
    const list = this.headerList;
    for (let i = 0; i < list.length; i += 2) {
      const name = unchecked(list[i]);
      const value = unchecked(list[i + 1]);
      if (equalsIgnoreCase(name, "content-length")) hasLength = true;
      else if (equalsIgnoreCase(name, "transfer-encoding")) {
        hasEncoding = true;
        if (value.toLowerCase().endsWith("chunked")) this.chunked = true;
      } else if (equalsIgnoreCase(name, "date")) hasDate = true;
      else if (equalsIgnoreCase(name, "connection")) {
        hasConnection = true;
        if (value.toLowerCase().includes("close")) this.shouldKeepAlive = false;
      }
      out.text(name);
      out.text(": ");
      out.text(value);
      out.crlf();
    }
    if (this.sendDate && !hasDate) {
      out.text("Date: ");
      out.text(httpDate());
      out.crlf();
    }
    // Framing: a length we know (for HEAD, the length the body would have had), else chunked (HTTP/1.1),
    // else the end of the connection delimits the body (HTTP/1.0).
    const noBodyStatus = status < 200 || status == 204 || status == 304;
    if (!hasLength && !hasEncoding && !noBodyStatus) {
      if (knownLength >= 0) {
        out.text("Content-Length: ");
        out.decimal(knownLength);
        out.crlf();
      } else if (isHead) {
        // nothing to frame
      } else if (this.req.httpVersionMinor >= 1) {
        out.text("Transfer-Encoding: chunked\r\n");
        this.chunked = true;
      } else {
        this.shouldKeepAlive = false;
      }
    }
    if (this.conn.server.closing) this.shouldKeepAlive = false;
    if (!hasConnection) {
      if (this.shouldKeepAlive) {
        out.text("Connection: keep-alive\r\nKeep-Alive: timeout=");
        out.decimal(this.conn.server.keepAliveTimeout / 1000);
        out.crlf();
      } else {
        out.text("Connection: close\r\n");
      }
    }
    out.crlf();
  }

  private failSoon(code: string, message: string): void {
    queueTick(new EmitHttpError(this, new net.NetError(code, message)));
  }
}

class EmitHttpError extends Task {
  constructor(private target: EventEmitter, private err: net.NetError) {
    super();
  }
  run(): void {
    this.target.emitWith<net.NetError>("error", this.err);
  }
}

/** Byte length of a body value: a string (as UTF-8), bytes, or null (0). */
function bodyLength<T>(data: T): i32 {
  if (isString<T>()) {
    return changetype<usize>(data) == 0 ? 0 : String.UTF8.byteLength(changetype<string>(data));
  }
  if (isReference<T>()) {
    if (data instanceof Uint8Array) return data.length;
    if (data instanceof ArrayBuffer) return data.byteLength;
    return 0; // null
  }
  ERROR("a response body is a string, a Uint8Array (Buffer) or an ArrayBuffer");
  return 0;
}

/** Copies a body value into the output buffer (strings encoded straight in, no intermediate Buffer). */
function appendBody<T>(data: T): void {
  if (isString<T>()) {
    out.text(changetype<string>(data));
  } else if (isReference<T>()) {
    if (data instanceof Uint8Array) out.bytes(data.dataStart, data.length);
    else if (data instanceof ArrayBuffer) out.bytes(changetype<usize>(data), data.byteLength);
  }
}

// Header strings are checked on every setHeader and compared on every response: their UTF-16 code units
// are read in place (no bounds-checked charCodeAt per character).

@inline function unit(s: string, i: i32): u32 {
  return <u32>load<u16>(changetype<usize>(s) + (<usize>i << 1));
}

/** Whether two characters are equal, or the same ASCII letter in either case. */
@inline function equalFolded(x: u32, y: u32): bool {
  if (x == y) return true;
  const lower = x | 0x20;
  return lower == (y | 0x20) && lower >= 0x61 && lower <= 0x7a;
}

export function equalsIgnoreCase(a: string, b: string): bool {
  const n = a.length;
  if (n != b.length) return false;
  for (let i = 0; i < n; i++) {
    if (!equalFolded(unit(a, i), unit(b, i))) return false;
  }
  return true;
}

function isToken(s: string): bool {
  const n = s.length;
  if (n == 0) return false;
  for (let i = 0; i < n; i++) {
    if (!isTokenUnit(unit(s, i))) return false;
  }
  return true;
}

/** Whether `list` is whole [name, value] pairs of valid names and values. */
function isHeaderList(list: Array<string>): bool {
  if ((list.length & 1) != 0) return false;
  for (let i = 0; i < list.length; i += 2) {
    if (!isToken(unchecked(list[i])) || !isFieldValue(unchecked(list[i + 1]))) return false;
  }
  return true;
}

function isFieldValue(s: string): bool {
  for (let i = 0, n = s.length; i < n; i++) {
    if (!isValueUnit(unit(s, i))) return false;
  }
  return true;
}

// ---- connections ----

enum Phase { HEAD, BODY, RESPONDING, UPGRADED, CLOSED }

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
  private phase: Phase = Phase.HEAD;
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
  private served: i32 = 0;
  private timer!: ConnectionTimer;

  constructor(server: Server, socket: Socket) {
    super();
    this.server = server;
    this.socket = socket;
    this.timer = new ConnectionTimer(this);
    this.timer.unref();
    socket.setAllowHalfOpen(true); // a client may half-close after its request and still read the response
    this.setDeadline(server.headersTimeout);
    socket.setReader(this);
  }

  // ---- bytes in ----

  onData(socket: Socket, ptr: usize, len: i32): void {
    if (this.pendingLength > 0 || this.phase == Phase.RESPONDING || this.bodyPaused) {
      this.keep(ptr, len);
      if (this.phase == Phase.RESPONDING || this.bodyPaused) {
        socket.pause(); // one request at a time: the next waits, unparsed, with the socket paused
        return;
      }
      this.processPending();
      return;
    }
    const used = this.process(ptr, len);
    if (used < len && this.phase != Phase.CLOSED && this.phase != Phase.UPGRADED) this.keep(ptr + used, len - used);
  }

  onEnd(socket: Socket): void {
    this.peerEnded = true;
    if (this.phase == Phase.HEAD && this.req == null) {
      // Between requests (or mid-head): nothing more can come; a partial head is simply dropped.
      this.close();
    } else if (this.phase == Phase.BODY) {
      const p = this.parser;
      if (p != null) p.finishAtEof();
      const req = this.req;
      if (req != null) req.emit("aborted");
      this.close();
    }
    // RESPONDING: the response still goes out; responseDone closes.
  }

  onDrain(socket: Socket): void {
    const res = this.res;
    if (res != null) res.emit("drain");
  }

  onClose(socket: Socket): void {
    this.release(Phase.CLOSED);
    const req = this.req;
    if (req != null && !this.requestDone) req.emit("aborted");
    const res = this.res;
    if (res != null && !res.writableFinished) res.emit("close");
    this.req = null;
    this.res = null;
  }

  /** Appends bytes to `pending`, growing it by doubling; a head over the limit is rejected here. */
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

  /** Parses what `pending` holds, then drops the consumed prefix. */
  private processPending(): void {
    const buf = this.pending;
    if (buf == null || this.busy) return;
    const used = this.process(buf.dataStart, this.pendingLength);
    if (this.pending !== buf) return; // closed meanwhile
    const rest = this.pendingLength - used;
    if (rest == 0) {
      this.pending = null; // an idle connection holds no buffer
    } else if (used > 0) {
      memory.copy(buf.dataStart, buf.dataStart + used, rest);
    }
    this.pendingLength = rest;
  }

  /** Consumes requests from [ptr, ptr+len) until it needs more bytes or must wait; returns bytes used. */
  private process(ptr: usize, len: i32): i32 {
    this.busy = true;
    let used = 0;
    while (used < len) {
      if (this.phase == Phase.HEAD) {
        const n = this.parseHead(ptr + used, len - used);
        if (n <= 0) break;
        used += n;
      } else if (this.phase == Phase.BODY) {
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
    if (this.phase == Phase.RESPONDING && used < len) this.socket.pause();
    return used;
  }

  /** Returns bytes consumed by a complete head, 0 when more are needed, -1 when the connection ended. */
  private parseHead(ptr: usize, len: i32): i32 {
    let parser = this.parser;
    if (parser == null) {
      const blank = skipEmptyLines(ptr, len);
      if (blank != 0) return max(blank, 0); // empty lines consumed, or a lone CR kept for the next read
      this.parser = parser = takeParser(this.server);
      this.setDeadline(this.server.headersTimeout);
    }
    const n = parser.parseHead(ptr, len);
    if (n == HeadResult.NEED_MORE) return 0;
    if (n == HeadResult.ERROR) {
      this.reject(parser.error);
      return -1;
    }
    this.startRequest(parser, ptr, n, len);
    return this.phase == Phase.UPGRADED ? -1 : n;
  }

  private startRequest(parser: Parser, ptr: usize, headLength: i32, available: i32): void {
    const req = new IncomingMessage(this);
    const m = parser.method;
    req.method = m == Method.OTHER ? String.UTF8.decodeUnsafe(ptr, parser.methodLength) : methodName(m);
    req.httpVersionMajor = parser.versionMajor;
    req.httpVersionMinor = parser.versionMinor;
    req.httpVersion = parser.versionMinor == 1 ? "1.1" : "1.0";
    req.keepHead(ptr, headLength, parser);
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
    const res = new ServerResponse(this, req, parser.keepAlive && !server.closing);
    req.res = res;
    this.req = req;
    this.res = res;
    this.requestDone = !parser.hasBody;
    req.complete = this.requestDone;
    this.phase = this.requestDone ? Phase.RESPONDING : Phase.BODY;
    if (this.requestDone) {
      this.dropParser();
      this.clearDeadline();
    } else {
      this.setDeadline(server.requestTimeout);
    }
    if (parser.expectContinue && parser.versionMinor == 1) {
      if (server.listenerCount("checkContinue") > 0) {
        server.emitPair<IncomingMessage, ServerResponse>("checkContinue", req, res);
        this.afterRequestEmitted(req);
        return;
      }
      out.reset();
      out.text("HTTP/1.1 100 Continue\r\n\r\n");
      this.send(out.ptr(), out.size());
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
    this.release(Phase.UPGRADED);
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
      this.dropParser();
      this.clearDeadline();
      const res = this.res;
      if (res != null && res.writableFinished) {
        req.emit("end");
        this.nextRequest(res);
      } else {
        this.phase = Phase.RESPONDING;
        req.emit("end");
      }
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

  /** res.end() was called: emit 'finish' soon, then go on to the next request or close. */
  responseDone(res: ServerResponse): void {
    emitSoon(res, "finish");
    this.served++;
    if (this.phase == Phase.BODY) {
      // Answered before the body arrived: keep reading (and discarding) it, then continue.
      if (!res.shouldKeepAlive) this.close();
      return;
    }
    this.nextRequest(res);
  }

  private nextRequest(res: ServerResponse): void {
    if (this.phase == Phase.CLOSED) return;
    this.req = null;
    this.res = null;
    if (!res.shouldKeepAlive || this.peerEnded) {
      this.close();
      return;
    }
    this.phase = Phase.HEAD;
    this.requestDone = false;
    this.setDeadline(this.server.keepAliveTimeout);
    this.socket.resume();
    if (!this.busy) this.processPending();
  }

  /** Answers a malformed request with its 4xx/5xx (if nothing was sent yet) and closes. */
  private reject(code: ParseError): void {
    const server = this.server;
    const status = statusForError(code);
    const err = new HttpParseError(code, status);
    if (server.listenerCount("clientError") > 0) {
      this.phase = Phase.CLOSED;
      this.dropParser();
      server.emitPair<HttpParseError, Socket>("clientError", err, this.socket);
      return;
    }
    const res = this.res;
    if (res == null || !res.headersSent) {
      out.reset();
      out.text("HTTP/1.1 ");
      out.decimal(status);
      out.text(" ");
      out.text(statusText(status));
      out.text("\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      this.send(out.ptr(), out.size());
    }
    this.close();
  }

  /** Timer expiry: idle keep-alive connections close quietly; a slow request gets 408. */
  onTimeout(): void {
    if (this.phase == Phase.HEAD && this.parser == null && this.pendingLength == 0) {
      this.socket.destroy();
      return;
    }
    if (this.phase == Phase.HEAD || this.phase == Phase.BODY) {
      const res = this.res;
      if (res == null || !res.headersSent) {
        out.reset();
        out.text("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        this.send(out.ptr(), out.size());
      }
      this.close();
    }
  }

  /** Closes after queued output: FIN now if the queue is empty, else once it drains. */
  close(): void {
    if (this.phase == Phase.CLOSED) return;
    this.release(Phase.CLOSED);
    const socket = this.socket;
    socket.end();
    if (this.peerEnded || socket.writableLength == 0) socket.destroy();
  }

  /** The connection is done with HTTP: no timer, parser or buffered bytes stay with it. */
  private release(phase: Phase): void {
    this.phase = phase;
    this.timer.disarm();
    this.dropParser();
    this.pending = null;
    this.pendingLength = 0;
  }

  /** Idle means between requests with nothing buffered: safe to close on server.close(). */
  get idle(): bool {
    return this.phase == Phase.HEAD && this.parser == null && this.pendingLength == 0;
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

  private clearDeadline(): void {
    this.timer.clearDeadline();
  }
}

/**
 * The connection's one deadline (headers, request or keep-alive). Moving it only stores the time; the heap
 * entry is re-armed when it fires early or the deadline moves earlier, so a busy keep-alive connection costs
 * no heap operation per request.
 */
class ConnectionTimer extends Timer {
  private deadline: i64 = 0; // loop time; 0 = none
  constructor(private conn: Connection) {
    super();
  }
  setDeadline(ms: i32): void {
    const at = now() + ms;
    const early = this.deadline == 0 || at < this.deadline;
    this.deadline = at;
    if (!this.isActive || (early && at < this.when)) this.arm(ms);
  }
  clearDeadline(): void {
    this.deadline = 0;
  }
  fire(): void {
    const deadline = this.deadline;
    if (deadline != 0 && deadline > now()) {
      this.arm(deadline - now());
      return;
    }
    this._deactivate();
    if (deadline != 0) {
      this.deadline = 0;
      this.conn.onTimeout();
    }
  }
}

/**
 * Emits an argument-less event from the nextTick queue ('end' after the handler, 'finish' after end()).
 * Two are queued per request, so spent ones are kept for reuse instead of becoming garbage.
 */
class EmitSoon extends Task {
  target: EventEmitter | null = null;
  event: string = "";
  run(): void {
    const target = changetype<EventEmitter>(this.target);
    const event = this.event;
    this.target = null;
    spareEmits.push(this);
    target.emit(event);
  }
}

const spareEmits = new Array<EmitSoon>();

function emitSoon(target: EventEmitter, event: string): void {
  const task = spareEmits.length > 0 ? spareEmits.pop() : new EmitSoon();
  task.target = target;
  task.event = event;
  queueTick(task);
}

/** What 'clientError' receives: the parser's reason and the status Eventide would have answered. */
export class HttpParseError extends Error {
  code: string;
  constructor(public reason: ParseError, public statusCode: i32) {
    super(errorReason(reason));
    this.name = "HttpParseError";
    this.code = "HPE_" + reason.toString();
  }
}

// ---- the server ----

export class Server extends net.Server {
  /** Idle keep-alive connections close after this many ms (Node: 5000). */
  keepAliveTimeout: i32 = 5000;
  /** Time allowed to receive a request's head (Node: 60000). */
  headersTimeout: i32 = 60000;
  /** Time allowed to receive a whole request (Node: 300000). */
  requestTimeout: i32 = 300000;
  maxHeaderSize: i32 = 16 * 1024;

  protected onConnection(socket: Socket): void {
    new Connection(this, socket);
    this.emitWith<Socket>("connection", socket);
  }

  /** Stops accepting, closes idle keep-alive connections; requests in flight finish, then close. */
  close(callback: ((server: net.Server) => void) | null = null): this {
    super.close(callback);
    this.closeIdleConnections();
    return this;
  }

  closeIdleConnections(): void {
    const handles = net.connectionsOf(this);
    for (let i = 0; i < handles.length; i++) {
      const reader = handles[i].currentReader;
      if (reader instanceof Connection && changetype<Connection>(reader).idle) changetype<Connection>(reader).close();
    }
  }
}

/** http.createServer((req, res) => …) */
export function createServer<F>(requestListener: F): Server {
  const server = new Server();
  server.on<F>("request", requestListener);
  return server;
}
