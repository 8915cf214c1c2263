// A request router: method + path patterns with `:name` parameters and a trailing `*`, first match wins, as
// Express's app.METHOD(path, handler) (https://expressjs.com/en/guide/routing.html); answers what no route
// takes as RFC 9110 asks: 404, 405 with Allow (§15.5.6), HEAD by the GET route (§9.3.2), OPTIONS with Allow
// (§9.3.7). No maintained AssemblyScript router exists, and routing is part of serving HTTP.
import { IncomingMessage } from "./http/incoming";
import { ServerResponse } from "./http/server";
import { URL, percentDecode } from "./url";

/** The values a route's `:name` segments (and `*`) took, percent-decoded. */
export class Params {
  // [name, value, …]
  private list: Array<string> = new Array<string>();

  /** The value of `:name` (or "*" for the rest of the path), or null when the route has no such parameter. */
  get(name: string): string | null {
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) {
      if (unchecked(list[i]) == name) return unchecked(list[i + 1]);
    }
    return null;
  }

  has(name: string): bool {
    return this.get(name) != null;
  }

  /** The parameter names in the pattern's order. */
  names(): Array<string> {
    const names = new Array<string>();
    for (let i = 0; i < this.list.length; i += 2) names.push(unchecked(this.list[i]));
    return names;
  }

  add(name: string, value: string): void {
    this.list.push(name);
    this.list.push(value);
  }
}

enum Part { LITERAL, PARAM, REST }

class Route {
  parts: Array<Part> = new Array<Part>();
  texts: Array<string> = new Array<string>(); // the literal, or the parameter's name
  constructor(public method: string, public pattern: string, public handler: usize, public arity: i32) {}
}

/** A path's segments, percent-decoded one by one (so "%2F" stays inside its segment). */
function segmentsOf(pathname: string): Array<string> {
  const raw = pathname.split("/");
  raw.shift(); // before the leading "/"
  if (raw.length > 1 && raw[raw.length - 1].length == 0) raw.pop(); // "/users/" is "/users"
  for (let i = 0; i < raw.length; i++) unchecked(raw[i] = percentDecode(unchecked(raw[i])));
  return raw;
}

export class Router {
  private routes: Array<Route> = new Array<Route>();
  private fallback: usize = 0;
  private fallbackArity: i32 = 0;

  /**
   * Adds a route: `method` (e.g. "GET", compared exactly; "*" for any) and a `pattern` of "/"-separated
   * segments — literals, `:name` parameters (one whole segment each) and a last `*` for the rest of the path.
   * `handler` is `(req, res, params: Params) => void`, cut to the parameters it declares. A pattern that
   * doesn't start with "/" or has `*` before its end aborts: it is the app's constant, not input.
   */
  route<F>(method: string, pattern: string, handler: F): this {
    const arity = lengthof<F>();
    if (arity > 3) abort("a route handler takes at most (req, res, params)");
    if (!pattern.startsWith("/")) abort("a route pattern starts with \"/\": " + pattern);
    const route = new Route(method, pattern, changetype<usize>(handler), arity);
    const segments = pattern.split("/");
    segments.shift();
    if (segments.length > 1 && segments[segments.length - 1].length == 0) segments.pop();
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      if (s == "*") {
        if (i != segments.length - 1) abort("\"*\" ends a route pattern: " + pattern);
        route.parts.push(Part.REST);
        route.texts.push("*");
      } else if (s.startsWith(":") && s.length > 1) {
        route.parts.push(Part.PARAM);
        route.texts.push(s.substring(1));
      } else {
        route.parts.push(Part.LITERAL);
        route.texts.push(s);
      }
    }
    this.routes.push(route);
    return this;
  }

  get<F>(pattern: string, handler: F): this { return this.route<F>("GET", pattern, handler); }
  post<F>(pattern: string, handler: F): this { return this.route<F>("POST", pattern, handler); }
  put<F>(pattern: string, handler: F): this { return this.route<F>("PUT", pattern, handler); }
  patch<F>(pattern: string, handler: F): this { return this.route<F>("PATCH", pattern, handler); }
  delete<F>(pattern: string, handler: F): this { return this.route<F>("DELETE", pattern, handler); }
  options<F>(pattern: string, handler: F): this { return this.route<F>("OPTIONS", pattern, handler); }
  /** Any method (Express's app.all). */
  all<F>(pattern: string, handler: F): this { return this.route<F>("*", pattern, handler); }

  /** What answers a path no route has, instead of the plain 404: `(req, res) => void`. */
  notFound<F>(handler: F): this {
    this.fallbackArity = lengthof<F>();
    if (this.fallbackArity > 2) abort("a notFound handler takes at most (req, res)");
    this.fallback = changetype<usize>(handler);
    return this;
  }

  /**
   * Routes one request: the first route whose method and pattern match gets it (HEAD also takes GET routes).
   * Otherwise, if some route's pattern matches the path: OPTIONS gets 204 and the others 405, both with Allow
   * listing the methods that would match; if none does: the notFound handler, or 404. A target that isn't a
   * URL gets 400. Returns whether a route of the app's took the request.
   */
  handle(req: IncomingMessage, res: ServerResponse): bool {
    const url = URL.parse(req.url, "http://localhost");
    if (url == null) {
      answer(res, 400, "Bad Request\n");
      return false;
    }
    const segments = segmentsOf(url.pathname);
    const method = req.method;
    const routes = this.routes;
    let allowed: Array<string> | null = null;
    for (let i = 0; i < routes.length; i++) {
      const route = unchecked(routes[i]);
      const params = match(route, segments);
      if (params == null) continue;
      const m = route.method;
      if (m == "*" || m == method || (method == "HEAD" && m == "GET")) {
        call(route, req, res, params);
        return true;
      }
      if (allowed == null) allowed = new Array<string>();
      if (!allowed.includes(m)) allowed.push(m);
      if (m == "GET" && !allowed.includes("HEAD")) allowed.push("HEAD");
    }
    if (allowed != null) {
      if (method == "OPTIONS") {
        allowed.push("OPTIONS");
        res.setHeader("Allow", allowed.join(", "));
        res.statusCode = 204;
        res.end();
      } else {
        res.setHeader("Allow", allowed.join(", "));
        answer(res, 405, "Method Not Allowed\n");
      }
      return false;
    }
    const fallback = this.fallback;
    if (fallback == 0) {
      answer(res, 404, "Not Found\n");
    } else if (this.fallbackArity == 2) {
      changetype<(req: IncomingMessage, res: ServerResponse) => void>(fallback)(req, res);
    } else if (this.fallbackArity == 1) {
      changetype<(req: IncomingMessage) => void>(fallback)(req);
    } else {
      changetype<() => void>(fallback)();
    }
    return false;
  }
}

/** The parameters when `route`'s pattern matches the path's segments, else null. */
function match(route: Route, segments: Array<string>): Params | null {
  const parts = route.parts;
  const n = parts.length;
  const rest = n > 0 && unchecked(parts[n - 1]) == Part.REST;
  if (rest ? segments.length < n - 1 : segments.length != n) return null;
  let params: Params | null = null;
  for (let i = 0; i < n; i++) {
    const part = unchecked(parts[i]);
    const text = unchecked(route.texts[i]);
    if (part == Part.LITERAL) {
      if (unchecked(segments[i]) != text) return null;
      continue;
    }
    if (params == null) params = new Params();
    if (part == Part.PARAM) {
      const value = unchecked(segments[i]);
      if (value.length == 0) return null; // ":id" takes a non-empty segment
      params.add(text, value);
    } else {
      const tail = segments.slice(i);
      if (!isPlainPath(tail)) return null;
      params.add(text, tail.join("/"));
    }
  }
  return params != null ? params : new Params();
}

/**
 * Whether decoded segments join into a path that means what it says: none is "." or "..", nor holds "/", "\\"
 * or NUL (the client's "%2F", "%5C", "%00", "..%2F.."). URL.parse already resolved the dot segments it could
 * see; these only appear once decoded, and a `*` value is often handed to the file system.
 */
function isPlainPath(segments: Array<string>): bool {
  for (let i = 0; i < segments.length; i++) {
    const s = unchecked(segments[i]);
    if (s == "." || s == ".." || s.includes("/") || s.includes("\\") || s.includes("\0")) return false;
  }
  return true;
}

function call(route: Route, req: IncomingMessage, res: ServerResponse, params: Params): void {
  const fn = route.handler;
  switch (route.arity) {
    case 3: { changetype<(req: IncomingMessage, res: ServerResponse, params: Params) => void>(fn)(req, res, params); break; }
    case 2: { changetype<(req: IncomingMessage, res: ServerResponse) => void>(fn)(req, res); break; }
    case 1: { changetype<(req: IncomingMessage) => void>(fn)(req); break; }
    default: changetype<() => void>(fn)();
  }
}

function answer(res: ServerResponse, status: i32, text: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end(text);
}
