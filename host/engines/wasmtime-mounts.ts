// Read-only directories under wasmtime. The wasmtime CLI (36 and 48 alike) grants every preopen all permissions,
// so the operating system enforces a read-only grant instead: wasmtime runs in a Linux mount namespace of its own
// (made by util-linux's unshare, in a user namespace, so no privilege is needed where user namespaces are
// enabled) in which each read-only directory is bind-mounted onto itself read-only. A write beneath it fails in
// the kernel with EROFS, whatever the guest asks for; no other process sees the mounts. A shell step makes the
// mounts and then execs wasmtime, so the pid eventide spawned, its inherited fds and its control channel are
// wasmtime's own.
import { execFileSync } from "node:child_process";
import type { DirGrant } from "./engine.js";
import { mountPlan } from "../dirs.js";
import { EventideError } from "../errors.js";

const UNSHARE = ["unshare", "--user", "--map-root-user", "--mount"];

let namespaceError: string | null | undefined;

/** Why a mount namespace can't be made here (the first line unshare printed), or null when it can. Cached. */
function whyNoNamespace(): string | null {
  if (namespaceError === undefined) {
    try {
      execFileSync(UNSHARE[0], [...UNSHARE.slice(1), "true"], { stdio: ["ignore", "ignore", "pipe"] });
      namespaceError = null;
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      namespaceError = e.code === "ENOENT" ? "unshare (util-linux) is not installed" : (e.stderr?.toString().trim().split("\n")[0] || e.message);
    }
  }
  return namespaceError;
}

/**
 * Throws EVENTIDE_E_BAD_FLAG, naming the fixes, when `dirs` holds a read-only grant and no mount namespace can be
 * made here (no unshare, user namespaces disabled, not Linux).
 */
export function requireMountNamespace(dirs: DirGrant[]): void {
  if (dirs.every((d) => d.writable)) return;
  const why = process.platform === "linux" ? whyNoNamespace() : `this is ${process.platform}, not Linux`;
  if (why === null) return;
  const ro = dirs.find((d) => !d.writable)!;
  throw new EventideError("EVENTIDE_E_BAD_FLAG",
    `--dir ${ro.host}:${ro.guest} is read-only, which wasmtime enforces only in a Linux mount namespace, and none can be made here (${why})`,
    `grant it writable (--dir ${ro.host}:${ro.guest}:rw), or use --engine node, or enable unprivileged user namespaces ` +
    "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)");
}

/**
 * The command that runs `wasmtime args…` with `dirs` (as resolveDirs returns them) mounted as mountPlan says:
 * [wasmtime, args] when every grant is writable, else unshare and a shell step that execs wasmtime. Throws as
 * requireMountNamespace does.
 */
export function withMounts(wasmtime: string, args: string[], dirs: DirGrant[]): [string, string[]] {
  const plan = mountPlan(dirs);
  if (plan.length === 0) return [wasmtime, args];
  requireMountNamespace(dirs);
  // The paths are the shell's positional parameters, never part of the script's text.
  const steps = plan.map((m, i) =>
    `mount --bind -- "\${${i + 1}}" "\${${i + 1}}" && mount -o remount,bind,${m.writable ? "rw" : "ro"} -- "\${${i + 1}}"`);
  const script = `${steps.join(" && ")} && shift ${plan.length} && exec "$@"`;
  return [UNSHARE[0], [...UNSHARE.slice(1), "sh", "-c", script, "sh", ...plan.map((m) => m.path), wasmtime, ...args]];
}
