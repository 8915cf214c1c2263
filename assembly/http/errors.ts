// Every way a message can be rejected: one table gives each its code (llhttp's HPE_* name where llhttp has
// the same error, as Node reports in `err.code`), its reason and the status a server answers with. Strict by
// default: nothing here is tolerated leniently.

export enum ParseError {
  NONE = 0,
  INVALID_METHOD,            // not a token, or not a method we serve
  INVALID_TARGET,            // empty, or characters outside the request-target grammar
  TARGET_TOO_LONG,
  INVALID_VERSION,           // not HTTP/<digit>.<digit>
  UNSUPPORTED_VERSION,       // well-formed but not HTTP/1.0 or HTTP/1.1
  INVALID_STATUS,            // response status-line
  INVALID_HEADER_NAME,       // empty or non-token name
  WHITESPACE_BEFORE_COLON,
  MISSING_COLON,
  INVALID_HEADER_VALUE,      // control characters in a field value
  OBS_FOLD,                  // a line starting with whitespace (obsolete line folding)
  BARE_CR,                   // CR not followed by LF, or a bare LF line ending
  HEADERS_TOO_LARGE,
  TOO_MANY_HEADERS,
  INVALID_CONTENT_LENGTH,
  DUPLICATE_CONTENT_LENGTH,  // differing values
  CONTENT_LENGTH_AND_TRANSFER_ENCODING,
  INVALID_TRANSFER_ENCODING, // chunked not last (or twice) in a request, or in an HTTP/1.0 request
  UNKNOWN_TRANSFER_CODING,   // a coding we don't know (RFC 9112 §6.1: 501)
  INVALID_CHUNK_SIZE,
  CHUNK_SIZE_OVERFLOW,
  INVALID_CHUNK_EXTENSION,   // not ( ";" token [ "=" ( token / quoted-string ) ] )*
  INVALID_CHUNK_DATA,        // no CRLF after chunk data
  INVALID_TRAILER,
  BODY_TOO_LARGE,
  CHUNK_EXTENSIONS_TOO_LARGE, // over MAX_CHUNK_EXTENSIONS_SIZE in one message (Node: 16 KiB, CVE-2024-22019)
  MISSING_HOST,              // an HTTP/1.1 request without a Host field (RFC 9112 §3.2)
  INVALID_HOST,              // more than one Host field, or one that is not uri-host [ ":" port ]
  TOO_MANY_EMPTY_LINES,      // more empty lines before a request-line than RFC 9112 §2.2's robustness needs
  INCOMPLETE_MESSAGE,        // the client ended its side in the middle of a head or a body
}

@final class Row {
  constructor(readonly error: ParseError, readonly code: string, readonly reason: string, readonly status: i32) {}
}

// One row per ParseError, in its order: tests/as/errors.spec.ts checks that row i names error i.
const TABLE: StaticArray<Row> = [
  new Row(ParseError.NONE, "HPE_OK", "no error", 200),
  new Row(ParseError.INVALID_METHOD, "HPE_INVALID_METHOD", "invalid method", 400),
  new Row(ParseError.INVALID_TARGET, "HPE_INVALID_URL", "invalid request-target", 400),
  new Row(ParseError.TARGET_TOO_LONG, "HPE_URI_TOO_LONG", "request-target too long", 414),
  new Row(ParseError.INVALID_VERSION, "HPE_INVALID_VERSION", "invalid HTTP version", 400),
  new Row(ParseError.UNSUPPORTED_VERSION, "HPE_UNSUPPORTED_VERSION", "unsupported HTTP version", 505),
  new Row(ParseError.INVALID_STATUS, "HPE_INVALID_STATUS", "invalid status line", 400),
  new Row(ParseError.INVALID_HEADER_NAME, "HPE_INVALID_HEADER_TOKEN", "invalid header field name", 400),
  new Row(ParseError.WHITESPACE_BEFORE_COLON, "HPE_WHITESPACE_BEFORE_COLON", "whitespace between header name and colon", 400),
  new Row(ParseError.MISSING_COLON, "HPE_MISSING_COLON", "header line without a colon", 400),
  new Row(ParseError.INVALID_HEADER_VALUE, "HPE_INVALID_HEADER_VALUE", "invalid character in header field value", 400),
  new Row(ParseError.OBS_FOLD, "HPE_OBS_FOLD", "obsolete line folding", 400),
  new Row(ParseError.BARE_CR, "HPE_CR_EXPECTED", "line not terminated by CRLF", 400),
  new Row(ParseError.HEADERS_TOO_LARGE, "HPE_HEADER_OVERFLOW", "header section too large", 431),
  new Row(ParseError.TOO_MANY_HEADERS, "HPE_TOO_MANY_HEADERS", "too many header fields", 431),
  new Row(ParseError.INVALID_CONTENT_LENGTH, "HPE_INVALID_CONTENT_LENGTH", "invalid Content-Length", 400),
  new Row(ParseError.DUPLICATE_CONTENT_LENGTH, "HPE_DUPLICATE_CONTENT_LENGTH", "conflicting Content-Length values", 400),
  new Row(ParseError.CONTENT_LENGTH_AND_TRANSFER_ENCODING, "HPE_UNEXPECTED_CONTENT_LENGTH", "both Content-Length and Transfer-Encoding", 400),
  new Row(ParseError.INVALID_TRANSFER_ENCODING, "HPE_INVALID_TRANSFER_ENCODING", "chunked is not the final transfer coding", 400),
  new Row(ParseError.UNKNOWN_TRANSFER_CODING, "HPE_UNKNOWN_TRANSFER_CODING", "unknown transfer coding", 501),
  new Row(ParseError.INVALID_CHUNK_SIZE, "HPE_INVALID_CHUNK_SIZE", "invalid chunk size", 400),
  new Row(ParseError.CHUNK_SIZE_OVERFLOW, "HPE_CHUNK_SIZE_OVERFLOW", "chunk size too large", 400),
  new Row(ParseError.INVALID_CHUNK_EXTENSION, "HPE_INVALID_CHUNK_EXTENSION", "invalid chunk extension", 400),
  new Row(ParseError.INVALID_CHUNK_DATA, "HPE_INVALID_CHUNK_DATA", "chunk data not followed by CRLF", 400),
  new Row(ParseError.INVALID_TRAILER, "HPE_INVALID_TRAILER", "invalid trailer section", 400),
  new Row(ParseError.BODY_TOO_LARGE, "HPE_BODY_TOO_LARGE", "body too large", 413),
  new Row(ParseError.CHUNK_EXTENSIONS_TOO_LARGE, "HPE_CHUNK_EXTENSIONS_OVERFLOW", "chunk extensions too large", 413),
  new Row(ParseError.MISSING_HOST, "HPE_MISSING_HOST", "missing Host header", 400),
  new Row(ParseError.INVALID_HOST, "HPE_INVALID_HOST", "invalid or repeated Host header", 400),
  new Row(ParseError.TOO_MANY_EMPTY_LINES, "HPE_TOO_MANY_EMPTY_LINES", "too many empty lines before the request-line", 400),
  new Row(ParseError.INCOMPLETE_MESSAGE, "HPE_INVALID_EOF_STATE", "connection ended in the middle of a request", 400),
];

@inline function row(error: ParseError): Row {
  const i = <i32>error;
  return i >= 0 && i < TABLE.length ? unchecked(TABLE[i]) : unchecked(TABLE[0]);
}

/** The number of ParseError values (the table's rows). */
export const PARSE_ERROR_COUNT: i32 = TABLE.length;

/** The error's code, e.g. "HPE_INVALID_METHOD" (llhttp's name where llhttp has the error). */
export function errorCode(error: ParseError): string {
  return row(error).code;
}

/** A short human reason, e.g. "invalid method". */
export function errorReason(error: ParseError): string {
  return row(error).reason;
}

/** The status a server answers a rejected request with (400 unless the table says 413, 414, 431, 501, 505). */
export function statusForError(error: ParseError): i32 {
  return row(error).status;
}

/** Row i's error, for the test that the table lines up with the enum. */
export function errorAt(i: i32): ParseError {
  return unchecked(TABLE[i]).error;
}

/** Chunk-extension bytes allowed in one message (Node's kMaxChunkExtensionsSize, after CVE-2024-22019). */
export const MAX_CHUNK_EXTENSIONS_SIZE: i32 = 16 * 1024;
