// Node's own HTTP client as the tests' real client.
import http from "node:http";

/** GETs `path` from 127.0.0.1:port; rejects on a response cut short or none within 10 s. */
export function get(port, path, agent) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body, reused: req.reusedSocket }));
      res.on("close", () => { if (!res.complete) reject(new Error(`GET ${path}: the response ended early`)); });
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no complete response in 10 s`)));
  });
}
