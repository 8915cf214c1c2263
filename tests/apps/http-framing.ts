// Test app for what the server decides about a response whatever the app sets (framing, status, reason,
// interim responses) and what it refuses. Routes are "/<case>/<arg>"; every 'error' the response emits is
// recorded, and GET /last-error answers with the codes recorded since the last time it was asked. With
// REPORT_CLIENT_ERRORS set, a 'clientError' listener answers malformed requests itself, naming err.code.
import * as http from "eventide/http";
import { NetError, Socket } from "eventide/net";
import { Buffer } from "eventide/buffer";
import { setTimeout } from "eventide/timers";

let errors = "";

function record(err: NetError): void {
  errors += (errors.length > 0 ? "," : "") + err.code;
}

function finish(res: http.ServerResponse): void {
  res.end("late");
}

const bodyBytes = new Map<http.IncomingMessage, i32>();

function countBody(chunk: Buffer, req: http.IncomingMessage): void {
  bodyBytes.set(req, bodyBytes.get(req) + chunk.length);
}

function answerBody(req: http.IncomingMessage): void {
  const n = bodyBytes.get(req);
  bodyBytes.delete(req);
  req.res!.end("got " + n.toString());
}

const server = http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  res.on("error", record);
  const url = req.url;
  const slash = url.indexOf("/", 1);
  const route = slash > 0 ? url.substring(0, slash) : url;
  const arg = slash > 0 ? url.substring(slash + 1) : "";
  if (req.method == "POST") {
    bodyBytes.set(req, 0);
    req.on("data", countBody);
    req.on("end", answerBody);
  } else if (route == "/last-error") {
    res.end(errors.length > 0 ? errors : "none");
    errors = "";
  } else if (route == "/te") {
    res.setHeader("Transfer-Encoding", arg);
    res.write("hel");
    res.end("lo");
  } else if (route == "/status") {
    res.writeHead(I32.parseInt(arg));
    res.end("body");
  } else if (route == "/status-field") {
    res.statusCode = I32.parseInt(arg);
    res.end("body");
  } else if (route == "/reason") {
    res.statusMessage = arg == "split" ? "OK\r\nSet-Cookie: a=1" : arg == "nul" ? "O\0K" : "Fine Thanks";
    res.end("ok");
  } else if (route == "/length") {
    // "/length/<declared>/<actual>": a Content-Length that may not match the body written
    const parts = arg.split("/");
    res.setHeader("Content-Length", parts[0]);
    const actual = I32.parseInt(parts[1]);
    res.write("x".repeat(actual / 2));
    res.end("y".repeat(actual - actual / 2));
  } else if (route == "/length-and-te") {
    res.setHeader("Content-Length", "5");
    res.setHeader("Transfer-Encoding", "chunked");
    res.end("hello");
  } else if (route == "/append-length") {
    res.setHeader("Content-Length", "2");
    res.appendHeader("Content-Length", "2");
    res.end("ok");
  } else if (route == "/connection") {
    res.setHeader("Connection", arg);
    res.end("ok");
  } else if (route == "/split-header") {
    // every API that puts a string into the head refuses CR/LF: name, value, list form, appended value
    if (arg == "name") res.setHeader("X-A\r\nSet-Cookie", "1");
    else if (arg == "value") res.setHeader("X-A", "1\r\nSet-Cookie: b=2");
    else if (arg == "list") res.writeHead(200, ["X-A", "1\r\nSet-Cookie: b=2"]);
    else if (arg == "append") res.appendHeader("X-A", "1\nSet-Cookie: b=2");
    else if (arg == "hints") res.writeEarlyHints(["Link", "</a>\r\nSet-Cookie: b=2"]);
    res.end("ok");
  } else if (route == "/hints") {
    res.writeEarlyHints(["Link", "</style.css>; rel=preload; as=style"]);
    res.end("ok");
  } else if (route == "/busy-then-close") {
    // Holds the loop for 300 ms (clients that connect meanwhile wait to be accepted), then stops accepting.
    const until = Date.now() + 300;
    while (Date.now() < until) { /* busy */ }
    req.socket.server!.close();
    res.end("closing");
  } else if (route == "/processing") {
    res.writeProcessing();
    setTimeout(finish, 20, res);
  } else {
    res.end(req.method + " " + url);
  }
});
if (process.env.has("REPORT_CLIENT_ERRORS")) {
  server.on("clientError", (err: http.HttpParseError, socket: Socket) => {
    socket.end("HTTP/1.1 " + err.statusCode.toString() + " Refused\r\nX-Error-Code: " + err.code +
      "\r\nX-Error-Reason: " + err.message + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
}
server.listen(0);
