// A received request (Node's lib/_http_incoming.js): its head, kept as one copy of its bytes plus the
// parser's spans, with strings made only when the app asks; body bytes arrive as 'data' events.
import { EventEmitter } from "../events";
import { Buffer } from "../buffer";
import { Socket } from "../net";
import { Parser, HEADER_SPAN } from "./parser";
import { bytesEqualIgnoreCase } from "./fields";
import { Headers } from "./headers";
import { Connection } from "./connection";
import { ServerResponse } from "./server";
import { OutgoingMessage } from "./outgoing";
import { BodyReader, startPipe, stopPipe } from "./body";

export class IncomingMessage extends EventEmitter {
  method: string = "";
  httpVersion: string = "1.1";
  httpVersionMajor: i32 = 1;
  httpVersionMinor: i32 = 1;
  complete: bool = false;
  /** 'end' has been emitted (Node's readable.readableEnded). */
  readableEnded: bool = false;
  /** For 'upgrade' and 'connect': bytes that arrived after the head. */
  head: Buffer | null = null;
  /** The response to this request (as Express's req.res): body listeners get the request, not a closure. */
  res: ServerResponse | null = null;
  socket: Socket;
  /** Internal (./body.ts): a readBody in progress, and where pipe() sends the body. */
  bodyReader: BodyReader | null = null;
  pipeResponse: OutgoingMessage | null = null;
  pipeSocket: Socket | null = null;
  private conn: Connection;
  // The head's bytes copied out of the read buffer, followed by the parser's header spans; header strings
  // are made only when the app asks (one allocation per request instead of two strings per header).
  private headCopy: StaticArray<u8> | null = null;
  private headLength: i32 = 0;
  private headerCount: i32 = 0;
  private decodedHeaders: Array<string> | null = null;
  private headerObject: Headers | null = null;
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
      const pair = this.span(i);
      if (!bytesEqualIgnoreCase(changetype<usize>(this.headCopy) + load<u32>(pair), <i32>load<u32>(pair, 4), name)) continue;
      const v = this.decode(pair + 8);
      value = value == null ? v : value + ", " + v;
    }
    return value;
  }

  /**
   * The header fields as a WHATWG `Headers` (made on first use, over rawHeaders): `get(name)` is
   * case-insensitive and null when absent, repeated fields joined with ", ".
   */
  get headers(): Headers {
    let headers = this.headerObject;
    if (headers == null) this.headerObject = headers = new Headers(this.rawHeaders);
    return headers;
  }

  /** Address of header i's span pair: [start, length] of the name, then of the value. */
  private span(i: i32): usize {
    return changetype<usize>(this.headCopy) + <usize>this.headLength + <usize>i * HEADER_SPAN;
  }

  private decode(pair: usize): string {
    return String.UTF8.decodeUnsafe(changetype<usize>(this.headCopy) + load<u32>(pair), load<u32>(pair, 4));
  }

  emit(event: string): bool {
    if (event == "end") this.readableEnded = true;
    return super.emit(event);
  }

  /** Registers a listener; a 'data' listener starts the body flowing. */
  on<F>(event: string, listener: F): this {
    super.on<F>(event, listener);
    if (event == "data") this.resume();
    return this;
  }

  /**
   * Sends the body to `dest` — a ServerResponse (e.g. `req.pipe(req.res!)` echoes it) or a net Socket — as it
   * arrives, pausing the body while `dest.write()` returns false and resuming on its 'drain'; ends `dest` after
   * the body (Node's readable.pipe). If `dest` ends or closes meanwhile, the rest of the body is dropped.
   * Returns `dest`.
   */
  pipe<W>(dest: W): W {
    if (dest instanceof OutgoingMessage) this.pipeResponse = changetype<OutgoingMessage>(dest);
    else if (dest instanceof Socket) this.pipeSocket = changetype<Socket>(dest);
    else ERROR("IncomingMessage.pipe takes a ServerResponse or a Socket");
    startPipe(this, changetype<EventEmitter>(dest));
    return dest;
  }

  /** Stops a pipe(): later body bytes go nowhere (they are read and dropped unless paused). */
  unpipe(): this {
    stopPipe(this);
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
