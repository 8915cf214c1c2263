// Every way a message can be rejected, with the reason and the status the server answers with
// (llhttp's ERROR table in spirit). Strict by default: nothing here is tolerated leniently.

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
}

export function errorReason(code: ParseError): string {
  switch (code) {
    case ParseError.NONE: return "no error";
    case ParseError.INVALID_METHOD: return "invalid method";
    case ParseError.INVALID_TARGET: return "invalid request-target";
    case ParseError.TARGET_TOO_LONG: return "request-target too long";
    case ParseError.INVALID_VERSION: return "invalid HTTP version";
    case ParseError.UNSUPPORTED_VERSION: return "unsupported HTTP version";
    case ParseError.INVALID_STATUS: return "invalid status line";
    case ParseError.INVALID_HEADER_NAME: return "invalid header field name";
    case ParseError.WHITESPACE_BEFORE_COLON: return "whitespace between header name and colon";
    case ParseError.MISSING_COLON: return "header line without a colon";
    case ParseError.INVALID_HEADER_VALUE: return "invalid character in header field value";
    case ParseError.OBS_FOLD: return "obsolete line folding";
    case ParseError.BARE_CR: return "line not terminated by CRLF";
    case ParseError.HEADERS_TOO_LARGE: return "header section too large";
    case ParseError.TOO_MANY_HEADERS: return "too many header fields";
    case ParseError.INVALID_CONTENT_LENGTH: return "invalid Content-Length";
    case ParseError.DUPLICATE_CONTENT_LENGTH: return "conflicting Content-Length values";
    case ParseError.CONTENT_LENGTH_AND_TRANSFER_ENCODING: return "both Content-Length and Transfer-Encoding";
    case ParseError.INVALID_TRANSFER_ENCODING: return "chunked is not the final transfer coding";
    case ParseError.UNKNOWN_TRANSFER_CODING: return "unknown transfer coding";
    case ParseError.INVALID_CHUNK_EXTENSION: return "invalid chunk extension";
    case ParseError.INVALID_CHUNK_SIZE: return "invalid chunk size";
    case ParseError.CHUNK_SIZE_OVERFLOW: return "chunk size too large";
    case ParseError.INVALID_CHUNK_DATA: return "chunk data not followed by CRLF";
    case ParseError.INVALID_TRAILER: return "invalid trailer section";
    case ParseError.BODY_TOO_LARGE: return "body too large";
    default: return "unknown error";
  }
}

/** The status a server answers a rejected request with. */
export function statusForError(code: ParseError): i32 {
  switch (code) {
    case ParseError.TARGET_TOO_LONG: return 414;
    case ParseError.HEADERS_TOO_LARGE:
    case ParseError.TOO_MANY_HEADERS: return 431;
    case ParseError.UNSUPPORTED_VERSION: return 505;
    case ParseError.UNKNOWN_TRANSFER_CODING: return 501;
    case ParseError.BODY_TOO_LARGE: return 413;
    default: return 400;
  }
}
