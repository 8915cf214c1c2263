// A small JSON service, as a Node user would write it: routes, a query, a JSON body with a size limit, a static
// page and a log line per request. json-as (a transform: examples/package.json names it) writes and reads JSON.
//   eventide run dist/examples/json-api.wasm --listen 127.0.0.1:8080 --dir examples/public:/public
import * as http from "eventide/http";
import { Router, Params } from "eventide/router";
import { URL } from "eventide/url";
import { Buffer } from "eventide/buffer";
import { JSON } from "json-as";
import { validateJSON } from "json-as/assembly/util/validateJson";

const MAX_BODY = 4096; // bytes; more is answered 413
const MAX_LIMIT = 100; // items in one GET /items

@json
class Item {
  id: i32 = 0;
  name: string = "";
  price: f64 = 0;
}

const items: Item[] = [];
const files = http.serveStatic("/public");
const router = new Router();

function send(res: http.ServerResponse, status: i32, json: string): void {
  res.writeHead(status, ["Content-Type", "application/json"]);
  res.end(json + "\n");
}

function fail(res: http.ServerResponse, status: i32, message: string): void {
  send(res, status, '{"error":' + JSON.stringify(message) + "}");
}

/** `text` as a whole number written plainly ("7", not "07", "+7" or "7x"), or -1. */
function wholeNumber(text: string): i32 {
  const n = I32.parseInt(text);
  return n >= 0 && n.toString() == text ? n : -1;
}

// The Item a client sent as {"name": string, "price": number}, or null (answer 400). json-as aborts on malformed
// JSON, so the text is validated first, and the shape checked through JSON.Value (docs/apps.md).
function itemOf(text: string): Item | null {
  if (!validateJSON(text)) return null;
  const value = JSON.parse<JSON.Value>(text);
  if (value.type != JSON.Types.Object) return null;
  const name = value.get<JSON.Obj>().get("name");
  const price = value.get<JSON.Obj>().get("price");
  if (name == null || name.type != JSON.Types.String || price == null || price.type != JSON.Types.F64) return null;
  const item = new Item();
  item.name = name.get<string>();
  item.price = price.get<f64>();
  return item;
}

router.get("/items", (req: http.IncomingMessage, res: http.ServerResponse) => {
  const url = URL.parse(req.url, "http://localhost"); // not null: the router answers 400 for such a target
  const text = url != null ? url.searchParams.get("limit") : null;
  const limit = text != null ? wholeNumber(text) : MAX_LIMIT;
  if (limit < 0 || limit > MAX_LIMIT) fail(res, 400, "limit is a whole number from 0 to " + MAX_LIMIT.toString());
  else send(res, 200, JSON.stringify(items.slice(0, limit)));
});

router.get("/items/:id", (req: http.IncomingMessage, res: http.ServerResponse, params: Params) => {
  const id = wholeNumber(params.get("id")!);
  if (id < 1 || id > items.length) fail(res, 404, "no item " + params.get("id")!);
  else send(res, 200, JSON.stringify(items[id - 1]));
});

router.post("/items", (req: http.IncomingMessage) => {
  http.readBody(req, MAX_BODY, (body: Buffer, req: http.IncomingMessage) => {
    const item = itemOf(body.toString());
    if (item == null) return fail(req.res!, 400, 'the body is not {"name": string, "price": number}');
    item.id = items.length + 1;
    items.push(item);
    send(req.res!, 201, JSON.stringify(item));
  });
});

// What no route takes: a file from /public (GET / is its index.html), else 404.
router.notFound((req: http.IncomingMessage, res: http.ServerResponse) => {
  if (!files.handle(req, res)) fail(res, 404, "nothing at " + req.url);
});

function logRequest(res: http.ServerResponse): void {
  const agent = res.req.headers.get("user-agent");
  console.log(res.req.method + " " + res.req.url + " " + res.statusCode.toString() + " " + (agent != null ? agent : "-"));
}

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  res.on("finish", logRequest);
  router.handle(req, res);
}).listen(8080);
