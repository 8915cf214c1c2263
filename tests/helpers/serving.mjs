// Which process serves an app started through `eventide run`, and what it holds open, for tests that bound what
// a server keeps (memory, file descriptors).
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** The pids of a process's children, from /proc ([] when it has none or is gone). */
export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * The process running the guest of an app started with `startApp(…, { cli: true })`: the CLI's wasmtime child
 * under a wasmtime engine (started once the CLI holds the port, so waited for, up to 5 s), the CLI under node.
 */
export async function servingPid(app, engine) {
  const pid = app.child.pid;
  if (!engine.startsWith("wasmtime")) return pid;
  for (let i = 0; i < 100; i++) {
    const [child] = childPids(pid);
    if (child) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the CLI started no wasmtime within 5 s");
}

/** How many file descriptors a process we started has open, from /proc. */
export const openFdCount = (pid) => readdirSync(`/proc/${pid}/fd`).length;

const TCP_STATES = ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"];

/**
 * What a process's fds are, for a failure message: "7 socket ESTABLISHED, 2 socket CLOSE_WAIT, 3 pipe, ..."
 * (a socket's TCP state from /proc/net/tcp{,6}; CLOSE_WAIT means the peer ended and the process did not close).
 */
export function describeFds(pid) {
  const states = new Map();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9) states.set(f[9], TCP_STATES[parseInt(f[3], 16)] ?? f[3]);
    }
  }
  const kinds = new Map();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link;
    try { link = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    const socket = /^socket:\[(\d+)\]$/.exec(link);
    const kind = socket ? `socket ${states.get(socket[1]) ?? "(not TCP)"}` : link.replace(/:\[\d+\]$/, "").replace(/^\/.*/, "file");
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([kind, n]) => `${n} ${kind}`).join(", ");
}
