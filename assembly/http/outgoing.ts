// An outgoing message (Node's lib/_http_outgoing.js): the headers the app sets, checked on the way in; the head
// serialised once; the body framed as that head declared. How a body is delimited and whether the connection
// stays open are decided here, from the message's kind and the headers, never taken on trust from the app:
// a response that says one length and sends another would let its bytes be read as the next response.
import { EventEmitter } from "../events";
import { Task, queueTick } from "../tasks";
import { printError } from "../sys";
import { NetError } from "../net";
import { httpDate } from "./date";
import { indexOfField } from "./headers";
import * as out from "./writer";
import { isToken, isFieldValue, equalsIgnoreCase, listHasToken, lastTokenIs, parseContentLength } from "./fields";

const NO_HEADERS = new Array<string>(0);

/** How the body goes on the wire (RFC 9112 §6.3), decided with the head. */
export enum Framing {
  NONE,    // no body bytes at all: HEAD, 1xx, 204, 304
  LENGTH,  // exactly Content-Length bytes
  CHUNKED, // chunked transfer coding
  CLOSE,   // until the connection closes (HTTP/1.0 peers, or a transfer coding that is not chunked)
}

/** What the subclass knows about the message when its head is written. */
export class HeadPlan {
  /** The message may carry body bytes (not HEAD, 1xx, 204, 304). */
  hasBody: bool = true;
  /** 1xx and 204: neither Content-Length nor Transfer-Encoding may be sent (RFC 9110 §8.6, RFC 9112 §6.1). */
  noFramingFields: bool = false;
  /** A response to HEAD states the length the body would have had, when end() knows it. */
  declareLengthWithoutBody: bool = false;
  /** The peer speaks HTTP/1.1, so chunked coding (and any Transfer-Encoding) may be used. */
  chunkedAllowed: bool = true;
  /** The connection closes after this message whatever the headers say (e.g. the server is closing). */
  mustClose: bool = false;
  /** Seconds announced in Keep-Alive: timeout=…, or -1 for none. */
  keepAliveSeconds: i32 = -1;
}

export abstract class OutgoingMessage extends EventEmitter {
  headersSent: bool = false;
  writableEnded: bool = false;
  writableFinished: bool = false;
  /** Adds a Date header unless the app set one (RFC 9110 §6.6.1). */
  sendDate: bool = true;
  /** Whether the connection stays open after this message; settled when the head is written. */
  shouldKeepAlive: bool = true;
  // Shared until changed: the empty list, or the array given to writeHead (Node, too, uses that array as
  // given when no setHeader came first). Copied on the first change, so most messages allocate no list.
  protected headerList: Array<string> = NO_HEADERS;
  protected headerListShared: bool = true;
  protected framing: Framing = Framing.NONE;
  private declaredLength: i64 = -1;
  private bodyBytes: i64 = 0;

  /**
   * Sets a header, replacing any of that name (case-insensitive). An invalid name or value — which could
   * split the head — is refused with an 'error' (ERR_INVALID_CHAR, ERR_HTTP_INVALID_HEADER_VALUE), as is any
   * change after the head was sent (ERR_HTTP_HEADERS_SENT); the message goes on without it.
   */
  setHeader(name: string, value: string): this {
    if (!this.acceptHeader(name, value)) return this;
    const i = this.indexOfHeader(name, 0);
    if (i >= 0) {
      this.writableHeaders()[i + 1] = value;
      // A repeat of the name later in a list given to writeHead goes too: set means one line.
      for (let j = this.indexOfHeader(name, i + 2); j >= 0; j = this.indexOfHeader(name, j)) this.writableHeaders().splice(j, 2);
    } else {
      this.addHeaderLine(name, value);
    }
    return this;
  }

  /** Adds a header line even if one with that name exists (e.g. several Set-Cookie); errors as setHeader. */
  appendHeader(name: string, value: string): this {
    if (!this.acceptHeader(name, value)) return this;
    if (equalsIgnoreCase(name, "content-length") && this.indexOfHeader(name, 0) >= 0) {
      this.failSoon("ERR_HTTP_INVALID_HEADER_VALUE", "a message has at most one Content-Length");
      return this;
    }
    this.addHeaderLine(name, value);
    return this;
  }

  getHeader(name: string): string | null {
    const i = this.indexOfHeader(name, 0);
    return i >= 0 ? unchecked(this.headerList[i + 1]) : null;
  }

  hasHeader(name: string): bool {
    return this.indexOfHeader(name, 0) >= 0;
  }

  removeHeader(name: string): this {
    if (this.headersSent) {
      this.failSoon("ERR_HTTP_HEADERS_SENT", "cannot remove headers after they are sent");
      return this;
    }
    for (let i = this.indexOfHeader(name, 0); i >= 0; i = this.indexOfHeader(name, i)) this.writableHeaders().splice(i, 2);
    return this;
  }

  /** The names of the headers set, lower-cased (Node's getHeaderNames). */
  getHeaderNames(): Array<string> {
    const names = new Array<string>();
    for (let i = 0; i < this.headerList.length; i += 2) names.push(this.headerList[i].toLowerCase());
    return names;
  }

  /** Streams a body chunk. False under backpressure (wait for 'drain'). */
  write<T>(data: T): bool {
    if (this.writableEnded) {
      this.failSoon("ERR_STREAM_WRITE_AFTER_END", "write after end");
      return false;
    }
    out.reset();
    if (!this.headersSent) this.writeHead_(-1);
    this.frame<T>(data, bodyLength<T>(data));
    return this.transmit(out.ptr(), out.size());
  }

  /** Finishes the message; when nothing was sent yet the body's length becomes its Content-Length. */
  end<T = string | null>(data: T = changetype<T>(0)): this {
    if (this.writableEnded) return this;
    this.writableEnded = true;
    const length = bodyLength<T>(data);
    out.reset();
    if (!this.headersSent) this.writeHead_(length);
    this.frame<T>(data, length);
    if (this.framing == Framing.CHUNKED) out.text("0\r\n\r\n");
    // A body shorter than its Content-Length leaves the peer waiting for the rest: only a close ends that.
    if (this.framing == Framing.LENGTH && this.bodyBytes != this.declaredLength) this.shouldKeepAlive = false;
    if (out.size() > 0) this.transmit(out.ptr(), out.size());
    this.writableFinished = true;
    this.finished();
    return this;
  }

  /** Sends the head now, without body bytes. */
  flushHeaders(): void {
    if (this.headersSent) return;
    out.reset();
    this.writeHead_(-1);
    this.transmit(out.ptr(), out.size());
  }

  /** Serialises the head into the writer (start line, then storeHead); `knownLength` ≥ 0 when end() has the body. */
  protected abstract writeHead_(knownLength: i64): void;
  /** Sends `len` bytes at `ptr`; false under backpressure. */
  protected abstract transmit(ptr: usize, len: i32): bool;
  /** end() is done: the message is complete. */
  protected abstract finished(): void;

  /**
   * Writes the header lines and decides the framing (RFC 9112 §6.1–6.3): with no body allowed, no body bytes
   * and, for 1xx/204, no Content-Length or Transfer-Encoding; a Transfer-Encoding the app set wins over its
   * Content-Length (which is then not sent), and one that does not end in chunked is delimited by closing;
   * HTTP/1.0 peers get no Transfer-Encoding; otherwise the length end() knows, else chunked, else close.
   * The connection stays open only if the framing allows it, the app's Connection field doesn't say close
   * and the plan doesn't require closing; a close the app didn't ask for is announced with Connection: close.
   */
  protected storeHead(knownLength: i64, plan: HeadPlan): void {
    this.headersSent = true;
    const list = this.headerList;
    let length = -1;
    let lengthRepeated = false;
    let encoding = -1;
    let connection = -1;
    let hasDate = false;
    for (let i = 0; i < list.length; i += 2) {
      const name = unchecked(list[i]);
      switch (name.length) {
        case 14: {
          if (!equalsIgnoreCase(name, "content-length")) break;
          if (length < 0) length = i;
          else lengthRepeated = true;
          break;
        }
        case 17: { if (equalsIgnoreCase(name, "transfer-encoding")) encoding = i; break; }
        case 10: { if (equalsIgnoreCase(name, "connection")) connection = i; break; }
        case 4: { if (equalsIgnoreCase(name, "date")) hasDate = true; break; }
      }
    }
    const keepEncoding = encoding >= 0 && !plan.noFramingFields && plan.chunkedAllowed;
    const keepLength = length >= 0 && !plan.noFramingFields && !keepEncoding;
    let addLength: i64 = -1;
    let addChunked = false;
    if (!plan.hasBody) {
      this.framing = Framing.NONE;
      if (!keepEncoding && !keepLength && plan.declareLengthWithoutBody && knownLength >= 0) addLength = knownLength;
    } else if (keepEncoding) {
      this.framing = lastTokenIs(unchecked(list[encoding + 1]), "chunked") ? Framing.CHUNKED : Framing.CLOSE;
    } else if (keepLength) {
      this.framing = Framing.LENGTH;
      this.declaredLength = parseContentLength(unchecked(list[length + 1]));
    } else if (knownLength >= 0) {
      this.framing = Framing.LENGTH;
      this.declaredLength = addLength = knownLength;
    } else if (plan.chunkedAllowed) {
      this.framing = Framing.CHUNKED;
      addChunked = true;
    } else {
      this.framing = Framing.CLOSE;
    }
    const appSaysClose = connection >= 0 && listHasToken(unchecked(list[connection + 1]), "close");
    const keepAlive = this.shouldKeepAlive && !plan.mustClose && !appSaysClose && this.framing != Framing.CLOSE;
    this.shouldKeepAlive = keepAlive;
    // Most heads drop nothing; otherwise every Content-Length or Transfer-Encoding line not kept goes, and
    // a Connection line that would contradict the close (replaced by Connection: close below).
    const dropLength = length >= 0 && (!keepLength || lengthRepeated);
    const dropEncoding = encoding >= 0 && !keepEncoding;
    const dropConnection = connection >= 0 && !keepAlive && !appSaysClose;
    const dropSome = dropLength || dropEncoding || dropConnection;
    for (let i = 0; i < list.length; i += 2) {
      if (dropSome) {
        const name = unchecked(list[i]);
        if (dropLength && equalsIgnoreCase(name, "content-length") && (i != length || !keepLength)) continue;
        if (dropEncoding && equalsIgnoreCase(name, "transfer-encoding")) continue;
        if (dropConnection && i == connection) continue;
      }
      out.text(unchecked(list[i]));
      out.text(": ");
      out.text(unchecked(list[i + 1]));
      out.crlf();
    }
    if (this.sendDate && !hasDate) {
      out.text("Date: ");
      out.text(httpDate());
      out.crlf();
    }
    if (addLength >= 0) {
      out.text("Content-Length: ");
      out.decimal(addLength);
      out.crlf();
    } else if (addChunked) {
      out.text("Transfer-Encoding: chunked\r\n");
    }
    if (keepAlive) {
      if (connection < 0) {
        out.text("Connection: keep-alive\r\n");
        if (plan.keepAliveSeconds >= 0) {
          out.text("Keep-Alive: timeout=");
          out.decimal(plan.keepAliveSeconds);
          out.crlf();
        }
      }
    } else if (!appSaysClose) {
      out.text("Connection: close\r\n");
    }
    out.crlf();
  }

  /**
   * Appends `data` (`length` bytes) to the output as the framing says: nothing for bodiless messages, chunk
   * framing for chunked ones, and never past a declared Content-Length (what goes past it is dropped and the
   * connection closes after the message instead of desynchronising).
   */
  private frame<T>(data: T, length: i32): void {
    if (length == 0) return;
    switch (this.framing) {
      case Framing.NONE: return;
      case Framing.LENGTH: {
        appendBody<T>(data);
        const room = this.declaredLength - this.bodyBytes;
        if (<i64>length > room) {
          if (room > 0) out.unwrite(length - <i32>room);
          else out.unwrite(length);
          this.shouldKeepAlive = false;
          this.bodyBytes = this.declaredLength + 1; // nothing more fits, and end() sees the mismatch
          return;
        }
        this.bodyBytes += length;
        return;
      }
      case Framing.CHUNKED: {
        out.hex(length);
        out.crlf();
        appendBody<T>(data);
        out.crlf();
        return;
      }
      default:
        appendBody<T>(data);
    }
  }

  /** Every header from every API passes here: the one place that keeps a head from being split. */
  private acceptHeader(name: string, value: string): bool {
    if (this.headersSent) {
      this.failSoon("ERR_HTTP_HEADERS_SENT", "cannot set headers after they are sent");
      return false;
    }
    const problem = headerProblem(name, value);
    if (problem != null) {
      this.failSoon(problem, "invalid header " + (isToken(name) ? name : "name"));
      return false;
    }
    return true;
  }

  private addHeaderLine(name: string, value: string): void {
    const list = this.writableHeaders();
    list.push(name);
    list.push(value);
  }

  /** Index of the first header named `name` (case-insensitive) at or after `from`, or -1. */
  private indexOfHeader(name: string, from: i32): i32 {
    return indexOfField(this.headerList, name, from);
  }

  private writableHeaders(): Array<string> {
    if (this.headerListShared) {
      this.headerList = this.headerList.slice(0);
      this.headerListShared = false;
    }
    return this.headerList;
  }

  /**
   * writeHead's [name, value, …] list: used as given while it is valid and nothing was set before. Otherwise,
   * as Node does with the array form, its names replace headers set before and its repeats stay repeated;
   * a list of odd length is refused whole (ERR_INVALID_ARG_VALUE).
   */
  protected takeHeaderList(headers: Array<string>): void {
    if ((headers.length & 1) != 0) {
      this.failSoon("ERR_INVALID_ARG_VALUE", "a header list is [name, value, …] pairs");
      return;
    }
    if (this.headerList.length == 0 && !this.headersSent && isHeaderList(headers)) {
      this.headerList = headers;
      this.headerListShared = true;
      return;
    }
    for (let i = 0; i < headers.length; i += 2) this.removeHeader(unchecked(headers[i]));
    for (let i = 0; i < headers.length; i += 2) this.appendHeader(unchecked(headers[i]), unchecked(headers[i + 1]));
  }

  /**
   * Reports a refused call as 'error' on the next tick. Unlike other emitters, a message's 'error' nobody listens
   * to doesn't end the app: it is written to stderr and the message goes on without what was refused. What is
   * refused often comes from a client (a header value decoded from the URL), and one request must not end the
   * instance and every other connection with it (AssemblyScript has no exceptions to catch it).
   */
  protected failSoon(code: string, message: string): void {
    queueTick(new MessageError(this, new NetError(code, message)));
  }
}

class MessageError extends Task {
  constructor(private target: OutgoingMessage, private error: NetError) {
    super();
  }
  run(): void {
    const error = this.error;
    if (this.target.listenerCount("error") > 0) this.target.emitWith<NetError>("error", error);
    else printError("eventide: unhandled 'error' on a response, which went on without it: " + error.code + ": " + error.message);
  }
}

/** Why a header can't be sent (an error code), or null: name a token, value free of CR/LF/controls (RFC 9110 §5). */
export function headerProblem(name: string, value: string): string | null {
  if (!isToken(name) || !isFieldValue(value)) return "ERR_INVALID_CHAR";
  if (equalsIgnoreCase(name, "content-length") && parseContentLength(value) < 0) return "ERR_HTTP_INVALID_HEADER_VALUE";
  return null;
}

/** Whether the [name, value, …] pairs of `list` can all be sent as given (at most one Content-Length). */
function isHeaderList(list: Array<string>): bool {
  let lengths = 0;
  for (let i = 0; i < list.length; i += 2) {
    const name = unchecked(list[i]);
    if (headerProblem(name, unchecked(list[i + 1])) != null) return false;
    if (name.length == 14 && equalsIgnoreCase(name, "content-length") && ++lengths > 1) return false;
  }
  return true;
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
  ERROR("a message body is a string, a Uint8Array (Buffer) or an ArrayBuffer");
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
