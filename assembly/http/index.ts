// `http`: Node's HTTP/1.1 server API over Eventide's net and the strict parser.
export { createServer, Server, IncomingMessage, ServerResponse, HttpParseError } from "./server";
export { ParseError, errorReason, statusForError } from "./errors";
export { statusText as STATUS_CODE_TEXT } from "./status";
