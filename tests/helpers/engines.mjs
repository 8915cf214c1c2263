// Runs an app under an engine as a child process, on a free loopback port, for the integration suites.
import { spawn, execFileSync } from "node:child_process";
import { createServer, connect } from "node:net";
import { join, dirname } from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ENGINES = (process.env.EVENTIDE_TEST_ENGINES ?? "wasmtime,node").split(",");

let wasmtimePath;
export function wasmtime() {
  wasmtimePath ??= process.env.EVENTIDE_WASMTIME ||
    execFileSync("bash", [join(ROOT, "scripts/ensure-wasmtime.sh")], { encoding: "utf8" }).trim();
  return wasmtimePath;
}

/** Resident set size of a process we started, from /proc. */
export function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
}

/** CPU time (user + system) a process we started has used, in seconds, from /proc. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

export async function freePort(host = "127.0.0.1") {
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, host, resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Resolves once something accepts on host:port, polling for at most `ms`. */
export async function waitForPort(port, host = "127.0.0.1", ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, host, () => { s.destroy(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${host}:${port} after ${ms} ms`);
}

/**
 * Starts `wasm` under `engine` with one loopback listener. Returns the port, the output so far,
 * a promise of the exit, and stop()/kill() that end only this process.
 */
export async function startApp(wasm, { engine = "wasmtime", env = {}, listen = true, args = [] } = {}) {
  const port = listen ? await freePort() : 0;
  const wasmPath = wasm.startsWith("/") ? wasm : join(ROOT, wasm);
  let child;
  if (engine === "wasmtime") {
    const flags = ["run", "-S", "preview2=n"];
    if (listen) flags.push("-S", `tcplisten=127.0.0.1:${port}`, "--env", `EVENTIDE_LISTEN=3=127.0.0.1:${port}`);
    for (const [k, v] of Object.entries(env)) flags.push("--env", `${k}=${v}`);
    child = spawn(wasmtime(), [...flags, wasmPath, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_BACKTRACE: "0" } });
  } else if (engine === "node") {
    const flags = ["run", wasmPath, "--engine", "node"];
    if (listen) flags.push("--listen", `127.0.0.1:${port}`);
    for (const [k, v] of Object.entries(env)) flags.push("--env", `${k}=${v}`);
    child = spawn(process.execPath, [join(ROOT, "dist/host/cli.js"), ...flags], { stdio: ["ignore", "pipe", "pipe"] });
  } else {
    throw new Error(`unknown engine ${engine}`);
  }
  const app = {
    port, child, stdout: "", stderr: "",
    exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
    kill() { if (child.exitCode === null) child.kill("SIGKILL"); return app.exited; },
    stop() { if (child.exitCode === null) child.kill("SIGTERM"); return app.exited; },
  };
  child.stdout.on("data", (d) => (app.stdout += d));
  child.stderr.on("data", (d) => (app.stderr += d));
  if (listen) {
    await Promise.race([
      waitForPort(port),
      app.exited.then(({ code }) => { throw new Error(`app exited with ${code} before listening: ${app.stderr}`); }),
    ]);
  }
  return app;
}
