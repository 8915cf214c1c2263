// Listening sockets are bound by the host and granted to the guest (docs/architecture.md): this parses
// --listen addresses, binds them in Node, and names them for EVENTIDE_LISTEN.
import { createServer, type Server } from "node:net";
import { EventideError } from "./errors.js";

export interface ListenAddress {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port` or a bare `port` (127.0.0.1). */
export function parseListen(spec: string): ListenAddress {
  const bare = /^\d+$/.exec(spec);
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(spec);
  const v4 = /^([^:\[\]]+):(\d+)$/.exec(spec);
  const [host, port] = bare ? ["127.0.0.1", spec] : v6 ? [v6[1], v6[2]] : v4 ? [v4[1], v4[2]] : ["", ""];
  const n = Number(port);
  if (!host || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new EventideError("EVENTIDE_E_BAD_FLAG", `--listen ${spec} is not an address`,
      "use --listen HOST:PORT, --listen [IPv6]:PORT or --listen PORT, e.g. --listen 127.0.0.1:1337");
  }
  return { host, port: n };
}

export function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * What to listen on: an address to bind, or a listening socket this process already holds as file descriptor
 * `fd` (inherited from a parent that bound it, as `net.Server.listen({ fd })` takes one; Node's net docs).
 */
export type ListenTarget = ListenAddress | { fd: number };

/** The first fd a service manager passes (SD_LISTEN_FDS_START in sd_listen_fds(3)). */
const LISTEN_FDS_START = 3;

/**
 * The listening sockets a service manager handed this process (socket activation: systemd, or
 * systemd-socket-activate; sd_listen_fds(3)): fds 3 … 3 + LISTEN_FDS − 1 when LISTEN_PID is this process's pid,
 * none otherwise. Like sd_listen_fds(unset_environment = 1) it then removes LISTEN_PID, LISTEN_FDS and
 * LISTEN_FDNAMES from `env`, so a child (wasmtime, which reads LISTEN_FDS itself) never takes them for its own.
 * Throws EventideError EVENTIDE_E_LISTEN when LISTEN_FDS is not a number of fds.
 */
export function inheritedListeners(env: NodeJS.ProcessEnv = process.env, pid = process.pid): Array<{ fd: number }> {
  const { LISTEN_PID: forPid, LISTEN_FDS: count } = env;
  if (forPid === undefined || Number(forPid) !== pid) return [];
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (!/^\d+$/.test(count ?? "")) {
    throw new EventideError("EVENTIDE_E_LISTEN", `LISTEN_FDS=${count} is not a number of listening sockets`,
      "start eventide from a socket unit (systemd) or systemd-socket-activate, which set LISTEN_FDS and LISTEN_PID");
  }
  return Array.from({ length: Number(count) }, (_, i) => ({ fd: LISTEN_FDS_START + i }));
}

export interface BoundListener {
  server: Server;
  address: ListenAddress; // the port actually bound (for port 0)
}

// Node's default is 511. Connections that arrive while a long guest tick holds Node's loop wait in the kernel's
// accept queue; past its end they are dropped and the client retries after a second (wrk at 1,000 connections
// saw hundreds of such drops and a 1 s p99). The kernel caps this at net.core.somaxconn.
const LISTEN_BACKLOG = 4096;

/**
 * Listens on every target; connections queue, unaccepted, until the guest takes them. Throws EventideError
 * EVENTIDE_E_ADDR_IN_USE, or EVENTIDE_E_LISTEN (an address that is not local, an fd that is not a listening TCP
 * socket), having closed whatever it bound before the failing target.
 */
export async function bindListeners(targets: ListenTarget[]): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  try {
    for (const target of targets) bound.push(await bind(target));
  } catch (err) {
    for (const b of bound) b.server.close();
    throw err;
  }
  return bound;
}

async function bind(target: ListenTarget): Promise<BoundListener> {
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ ...target, backlog: LISTEN_BACKLOG }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const actual = server.address();
    if (typeof actual !== "object" || !actual) throw Object.assign(new Error("not a TCP socket"), { code: "ENOTSOCK" });
    return { server, address: { host: "fd" in target ? actual.address : target.host, port: actual.port } };
  } catch (err) {
    server.close();
    const e = err as NodeJS.ErrnoException;
    const where = "fd" in target ? `fd ${target.fd}` : formatAddress(target);
    if (e.code === "EADDRINUSE") {
      throw new EventideError("EVENTIDE_E_ADDR_IN_USE", `${where} is already in use`,
        "stop the process using it, or choose another port with --listen");
    }
    throw new EventideError("EVENTIDE_E_LISTEN", `cannot listen on ${where}: ${e.message}`,
      "fd" in target ? "pass the fd of a listening TCP socket this process inherited"
        : "check the address: it must be a local interface address");
  }
}

/** The EVENTIDE_LISTEN value naming `fds[i]` as `listeners[i]`. */
export function listenEnv(listeners: BoundListener[], fds: number[]): string {
  return listeners.map((l, i) => `${fds[i]}=${formatAddress(l.address)}`).join(",");
}
