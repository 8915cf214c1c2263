// Test app for "no documented API aborts on input a client controls": each route feeds what the client sent to a
// runtime API the way an app would, and answers what came out.
import * as http from "eventide/http";
import { Buffer } from "eventide/buffer";
import { URL } from "eventide/url";

http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  const url = req.url;
  if (url == "/user-agent") {
    // The idiom that used to end the instance: a header the client may leave out.
    const ua = req.headers.get("user-agent");
    res.end(ua == null ? "no user-agent" : "user-agent: " + ua);
  } else if (url == "/headers") {
    const entries = req.headers.entries();
    const lines = new Array<string>();
    for (let i = 0; i < entries.length; i++) lines.push(entries[i][0] + ": " + entries[i][1]);
    res.end(lines.join("\n"));
  } else if (url.startsWith("/query") || url.startsWith("http:")) {
    // The query of whatever target the client sent, as an app reads `?limit=10`.
    const parsed = URL.parse(url, "http://localhost");
    if (parsed == null) {
      res.statusCode = 400;
      res.end("unparsable URL");
      return;
    }
    const params = parsed.searchParams;
    const limit = params.get("limit");
    res.end("q=" + params.getAll("q").join("|") + " limit=" + (limit == null ? "none" : I32.parseInt(limit).toString()));
  } else if (url.startsWith("/download?")) {
    // A header value decoded from the query: CR/LF in it is refused ('error', unheard) and the response goes on.
    let name: string | null = null;
    const parsed = URL.parse(url, "http://localhost");
    if (parsed != null) name = parsed.searchParams.get("name");
    res.setHeader("Content-Disposition", "attachment; filename=\"" + (name != null ? name : "file") + "\"");
    res.end("file body");
  } else if (url.startsWith("/base64/")) {
    // Client text decoded as base64, then its bytes as UTF-8 (malformed either way on purpose).
    res.end(Buffer.from(url.substring(8), "base64url").toString());
  } else {
    res.statusCode = 404;
    res.end();
  }
}).listen(0);
