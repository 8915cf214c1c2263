// Wasm instructions per request, counted by wasmtime's fuel (one unit per wasm operator): the app serves
// keep-alive hello-world requests until its fuel runs out. Steady (about 1% between runs) where timings on a
// shared machine are not, so it tells whether a change to the request path did less work.
// `npm run bench` records it for hello world; alone: node bench/instructions.mjs [app.wasm] [connections]
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { ROOT, wasmtime, freePort, waitForPort } from "../tests/helpers/engines.mjs";

// Two budgets: the difference cancels start-up and listening, leaving the cost of the extra requests.
const BUDGETS = [50_000_000, 450_000_000];
const TIME_LIMIT_MS = 60_000;

/** Serves with `fuel` until the trap; resolves with the number of complete responses received. */
async function servedWith(wasm, connections, fuel) {
  const port = await freePort();
  const child = spawn(wasmtime(), ["run", "-W", `fuel=${fuel}`, "-S", "preview2=n", "-S", `tcplisten=127.0.0.1:${port}`,
    "--env", `EVENTIDE_LISTEN=3=127.0.0.1:${port}`, wasm], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_BACKTRACE: "0" } });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  await waitForPort(port);
  let responses = 0;
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  const clients = Array.from({ length: connections }, () => new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let tail = "";
    socket.on("data", (d) => {
      const text = tail + d.toString("latin1");
      const parts = text.split("Hello World\n"); // every response ends with the body
      responses += parts.length - 1;
      tail = parts[parts.length - 1];
      for (let i = 1; i < parts.length; i++) socket.write(request);
    });
    socket.on("error", () => {});
    socket.on("close", resolve);
  }));
  const timer = setTimeout(() => child.kill("SIGKILL"), TIME_LIMIT_MS);
  await exited;
  clearTimeout(timer);
  await Promise.all(clients);
  if (!/fuel/i.test(stderr)) throw new Error(`the server did not stop for lack of fuel: ${stderr.trim() || "no output"}`);
  return responses;
}

/** Instructions per request of a hello-world app (it must answer "Hello World\n" to GET /). */
export async function instructionsPerRequest(wasm, connections = 50) {
  const served = [];
  for (const fuel of BUDGETS) served.push(await servedWith(wasm, connections, fuel));
  return { instructions: Math.round((BUDGETS[1] - BUDGETS[0]) / (served[1] - served[0])), served, budgets: BUDGETS, connections };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const wasm = process.argv[2] ?? join(ROOT, "dist/tests/apps/hello-long-keepalive.wasm");
  const r = await instructionsPerRequest(wasm, Number(process.argv[3] ?? 50));
  console.log(`${wasm.replace(ROOT + "/", "")}: ${r.served.join(" / ")} responses for ${r.budgets.map((b) => b / 1e6 + "M").join(" / ")} fuel`);
  console.log(`${r.instructions} wasm instructions per request (${r.connections} keep-alive connections)`);
}
