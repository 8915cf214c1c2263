// Directory grants (`--dir HOST:GUEST[:ro|:rw]`, run()'s `dirs`): read-only unless marked writable. Both engines
// enforce a read-only grant as a read-only bind mount does (see mountPlan): wasmtime through one (a Linux mount
// namespace, host/engines/wasmtime-mounts.ts), the Node engine's filesystem sandbox by the same rules
// (host/engines/node/fs-sandbox.ts).
import { realpathSync, statSync } from "node:fs";
import type { DirGrant } from "./engines/engine.js";
import { EventideError } from "./errors.js";

const DIR_SYNTAX = "use --dir ./public:/public (read-only) or --dir ./data:/data:rw (writable)";

/** "host:guest" (read-only), "host:guest:ro" or "host:guest:rw"; an object as given. Throws EVENTIDE_E_BAD_FLAG. */
export function parseDir(d: DirGrant | string): DirGrant {
  if (typeof d !== "string") return d;
  const parts = d.split(":");
  const mode = parts.length === 3 ? parts[2] : "ro";
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1] || (mode !== "ro" && mode !== "rw")) {
    throw new EventideError("EVENTIDE_E_BAD_FLAG", `--dir ${d} is not HOST:GUEST[:ro|:rw]`, DIR_SYNTAX);
  }
  return { host: parts[0], guest: parts[1], writable: mode === "rw" };
}

/**
 * The grants with each host directory as its real path (no link in it), which the mounts and the sandbox
 * compare. Throws EVENTIDE_E_NOT_FOUND for a host path that is not a directory, EVENTIDE_E_BAD_FLAG for one
 * directory granted both read-only and writable.
 */
export function resolveDirs(grants: DirGrant[]): DirGrant[] {
  const resolved = grants.map((g) => {
    let host: string;
    try {
      host = realpathSync(g.host);
      if (!statSync(host).isDirectory()) throw new Error("not a directory");
    } catch {
      throw new EventideError("EVENTIDE_E_NOT_FOUND", `--dir ${g.host}: no such directory`, "name a directory that exists on this machine");
    }
    return { host, guest: g.guest, writable: g.writable === true };
  });
  for (const g of resolved) {
    if (resolved.some((o) => o.host === g.host && o.writable !== g.writable)) {
      throw new EventideError("EVENTIDE_E_BAD_FLAG", `--dir ${g.host} is granted both read-only and writable`,
        "grant it once, with :rw if the app may write to it");
    }
  }
  return resolved;
}

/** A directory (a real path) mounted onto itself, read-only or writable again. */
export interface Mount {
  path: string;
  writable: boolean;
}

/**
 * The bind mounts that make the read-only grants read-only, in the order they are made (parents first): each
 * read-only grant, and each writable grant beneath a read-only one (mounted writable again, so the operator's
 * `:rw` holds through either name). Empty when every grant is writable. `grants` as resolveDirs returns them.
 */
export function mountPlan(grants: DirGrant[]): Mount[] {
  const readOnly = grants.filter((g) => !g.writable).map((g) => g.host);
  const plan = grants.filter((g) => !g.writable || readOnly.some((ro) => beneath(g.host, ro)))
    .map((g) => ({ path: g.host, writable: g.writable === true }));
  const unique = plan.filter((m, i) => plan.findIndex((o) => o.path === m.path) === i);
  return unique.sort((a, b) => a.path.split("/").length - b.path.split("/").length);
}

/** The mount `path` (a real path) lies in: the deepest of `plan` at or above it; undefined: none of them. */
export function mountOf(plan: Mount[], path: string): Mount | undefined {
  let found: Mount | undefined;
  for (const m of plan) if ((path === m.path || beneath(path, m.path)) && (!found || m.path.length > found.path.length)) found = m;
  return found;
}

/** Whether `path` lies strictly beneath directory `dir` (both real paths). */
function beneath(path: string, dir: string): boolean {
  return path !== dir && path.startsWith(dir === "/" ? "/" : dir + "/");
}
