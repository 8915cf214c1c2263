// Test app for eventide/router: a few routes of each kind; paths under /custom go to a second router with its
// own notFound handler.
import * as http from "eventide/http";
import { Router, Params } from "eventide/router";

const router = new Router();
router.get("/", (req: http.IncomingMessage, res: http.ServerResponse) => { res.end("home"); });
router.get("/users/:id", (req: http.IncomingMessage, res: http.ServerResponse, params: Params) => {
  res.end("user " + params.get("id")!);
});
router.post("/users", (req: http.IncomingMessage, res: http.ServerResponse) => {
  res.statusCode = 201;
  res.end("created");
});
router.delete("/users/:id", (req: http.IncomingMessage, res: http.ServerResponse, params: Params) => {
  res.end("deleted " + params.get("id")!);
});
router.get("/a/:x/b/:y", (req: http.IncomingMessage, res: http.ServerResponse, params: Params) => {
  res.end(params.names().join(",") + " " + params.get("x")! + " " + params.get("y")!);
});
router.get("/files/*", (req: http.IncomingMessage, res: http.ServerResponse, params: Params) => {
  res.end("file " + params.get("*")!);
});
router.all("/any", (req: http.IncomingMessage, res: http.ServerResponse) => { res.end("any " + req.method); });

const custom = new Router();
custom.get("/custom/here", (req: http.IncomingMessage, res: http.ServerResponse) => { res.end("here"); });
custom.notFound((req: http.IncomingMessage, res: http.ServerResponse) => {
  res.statusCode = 404;
  res.end("custom: nothing at " + req.url);
});

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url.startsWith("/custom")) custom.handle(req, res);
  else router.handle(req, res);
}).listen(0);
