// `http`: Node's HTTP/1.1 server API over Eventide's net and the strict parser.
export { createServer, Server, ServerResponse, HttpParseError } from "./server";
export { IncomingMessage } from "./incoming";
export { readBody } from "./body";
export { Headers } from "./headers";
export { OutgoingMessage } from "./outgoing";
export { serveStatic, StaticFiles, contentType } from "./static";
export { ParseError, errorCode, errorReason, statusForError } from "./errors";
export { statusText as STATUS_CODE_TEXT } from "./status";
