// Which process serves an app started through `eventide run`, and what it holds open, for tests that bound what
// a server keeps (memory, file descriptors).
import { readFileSync, readdirSync } from "node:fs";

/**
 * The process running the guest of an app started with `startApp(…, { cli: true })`: the CLI's wasmtime child
 * under a wasmtime engine (started once the CLI holds the port, so waited for, up to 5 s), the CLI under node.
 */
export async function servingPid(app, engine) {
  const pid = app.child.pid;
  if (!engine.startsWith("wasmtime")) return pid;
  for (let i = 0; i < 100; i++) {
    const child = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ")[0];
    if (child) return Number(child);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the CLI started no wasmtime within 5 s");
}

/** How many file descriptors a process we started has open, from /proc. */
export const openFdCount = (pid) => readdirSync(`/proc/${pid}/fd`).length;
