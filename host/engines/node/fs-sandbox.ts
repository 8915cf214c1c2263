// The filesystem sandbox of the Node engine. node:wasi is not one (its docs say so): it checks a guest path
// only as text and lets the operating system follow symlinks, so a link inside a granted directory
// (`link -> ..`, `link -> /etc`, or one the guest made itself in an earlier run) leads out of it. wasmtime
// (cap-std) resolves every path beneath the directory; this does the same for node:wasi.
//
// Every WASI call that takes a path is intercepted. The path is resolved here, component by component, the way
// cap-std does it: `..` never above the directory fd the call names, absolute paths and absolute link targets
// refused, a link followed at most 40 times (Linux's and cap-std's limit), a link in the middle of a path always
// followed and its target resolved the same way, the last component followed only when the call asks. What
// comes out is a path with no link and no `..` in it, beneath the directory fd the call names; node:wasi then
// runs the call on that path, with nothing left for it or the operating system to follow. A link left
// unfollowed at the end of a path is never opened: path_open refuses it with ELOOP, as O_NOFOLLOW does.
//
// node:wasi reads paths only from guest memory, so the resolved path is lent a spot of guest memory for the
// length of the call (one that overlaps none of the call's out-parameters) and the bytes there are put back
// after it; the guest is inside the call and sees nothing of it.
//
// Directories the guest opens are sandboxes of their own, as under wasmtime. node:wasi names a directory fd by
// its host path, not by an open handle, so each is recorded as its path from its preopen, and every call first
// checks that this path still leads there through directories only (ENOENT if the directory was renamed, or
// swapped for a link, since). A process other than the guest that swaps a directory for a link between that
// check and the call is outside what this guards: grant directories that only the guest writes to.
//
// A read-only grant is enforced here as wasmtime has it enforced, by a read-only bind mount (host/dirs.ts,
// mountPlan): what lies beneath it can't be created, removed, renamed, linked, written, truncated or touched
// (EROFS, checked after the errors Linux checks first), a rename or hard link between two mounts is EXDEV, and
// a mount point can't be removed or renamed (EBUSY). A file opened beneath one gets no write right, so
// node:wasi opens it read-only.
import { lstatSync, readlinkSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import type { DirGrant } from "../engine.js";
import { mountOf, mountPlan, type Mount } from "../../dirs.js";
import { Errno as E, errnoFromCode } from "../../abi.js";

/** What wasmtime answers for a path that leads out of its directory (cap-std's escape error, PermissionDenied). */
const E_ESCAPE = E.PERM;
/** The errors the lookups and link calls made here can meet that the guest is told by name; any other reads as EIO. */
const FS_ERROR_CODES = new Set(["EACCES", "EEXIST", "EINVAL", "EIO", "EISDIR", "ELOOP", "ENAMETOOLONG", "ENOENT", "ENOSPC",
  "ENOTDIR", "ENOTEMPTY", "EPERM", "EROFS", "EXDEV"]);
const LOOKUP_SYMLINK_FOLLOW = 1;
const OFLAGS_CREAT = 1;
const OFLAGS_EXCL = 4;
const OFLAGS_TRUNC = 8;
const RIGHTS_FD_WRITE = 64n;
/** Rights for which node:wasi opens a file for writing (uvwasi's path_open): FD_DATASYNC, FD_WRITE, FD_ALLOCATE, FD_FILESTAT_SET_SIZE. */
const RIGHTS_WRITING = 1n | 64n | 256n | 0x400000n;
const FILESTAT_SIZE = 64;
const MAX_SYMLINK_EXPANSIONS = 40;
const PATH_MAX = 4096;
/** node:wasi numbers preopens 3, 4, … in the order of its `preopens` object's keys. */
const FIRST_PREOPEN_FD = 3;
/** In a component list: the path ended in "/" (or "/."), so a directory must be found there. */
const SLASH = "/";
/** For entry(): a path naming the directory itself is the call's to work on. */
const ITSELF = -1;

/** A directory fd: its preopen's host path and its own path from there (directories only). */
interface Directory {
  host: string;
  path: string[];
}

/** A resolved path: the directory fd it lies beneath and its components from there. */
interface Resolved {
  dir: Directory;
  path: string[];
  slash: boolean;
  /** What is at its end now; null: nothing yet (a file or directory to create). */
  last: "link" | "dir" | "other" | null;
}

type Region = [ptr: number, len: number];
type WasiImports = Record<string, (...args: any[]) => any>;

export class FsSandbox {
  private readonly dirs = new Map<number, Directory>();
  /** Other fds node:wasi holds for the guest (stdio, files): a path call on one is ENOTDIR, not EBADF. */
  private readonly files = new Set<number>([0, 1, 2]);
  /** Those of `files` opened beneath a read-only mount. */
  private readonly readOnlyFiles = new Set<number>();
  /** The read-only grants as bind mounts (host/dirs.ts). */
  private readonly mounts: Mount[];
  private memory: WebAssembly.Memory | null = null;
  private bytes = new Uint8Array(0);
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  /** node:wasi's `preopens` option: guest path → host path. */
  readonly preopens: Record<string, string>;

  /** `grants` as resolveDirs (host/dirs.ts) returns them: real paths, which the read-only mounts are compared with. */
  constructor(grants: DirGrant[]) {
    this.mounts = mountPlan(grants);
    this.preopens = Object.fromEntries(grants.map((d) => [d.guest, resolve(d.host)]));
    Object.values(this.preopens).forEach((host, i) => this.dirs.set(FIRST_PREOPEN_FD + i, { host, path: [] }));
  }

  bindMemory(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  /** node:wasi's imports with every path-taking call resolved here first (see the top of this file). */
  imports(base: WasiImports): WasiImports {
    const self = this;
    return {
      ...base,
      path_open(fd: number, dirflags: number, ptr: number, len: number, oflags: number, rights: bigint, inheriting: bigint, fdflags: number, fdOut: number) {
        const r = self.path(fd, ptr, len, (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0);
        if (typeof r === "number") return r;
        // O_CREAT|O_EXCL never follows a link (EEXIST); any other open of one left unfollowed is O_NOFOLLOW's ELOOP.
        const exclusive = (oflags & (OFLAGS_CREAT | OFLAGS_EXCL)) === (OFLAGS_CREAT | OFLAGS_EXCL);
        if (r.last === "link" && !exclusive) return E.LOOP;
        const readOnly = self.readOnly(r);
        if (readOnly) {
          // As open(2) in a read-only mount: EROFS to create, truncate or write, after ENOENT and O_EXCL's EEXIST.
          const writes = (oflags & OFLAGS_TRUNC) !== 0 || (BigInt(rights) & RIGHTS_FD_WRITE) !== 0n;
          if (r.last === null ? (oflags & OFLAGS_CREAT) !== 0 : writes && !exclusive) return E.ROFS;
          rights = BigInt(rights) & ~RIGHTS_WRITING;
        }
        const errno = self.lend([r], [[fdOut, 4]], ([p]) => base.path_open(fd, 0, p[0], p[1], oflags, rights, inheriting, fdflags, fdOut));
        if (errno === E.SUCCESS) self.opened(new DataView(self.memory!.buffer).getUint32(fdOut >>> 0, true), r, readOnly);
        return errno;
      },
      path_filestat_get(fd: number, flags: number, ptr: number, len: number, out: number) {
        const r = (flags & LOOKUP_SYMLINK_FOLLOW) !== 0 ? self.path(fd, ptr, len, true) : self.lstatPath(fd, ptr, len);
        if (typeof r === "number") return r;
        return self.lend([r], [[out, FILESTAT_SIZE]], ([p]) => base.path_filestat_get(fd, 0, p[0], p[1], out));
      },
      path_filestat_set_times(fd: number, flags: number, ptr: number, len: number, atim: bigint, mtim: bigint, fstflags: number) {
        const r = (flags & LOOKUP_SYMLINK_FOLLOW) !== 0 ? self.path(fd, ptr, len, true) : self.entry(fd, ptr, len, ITSELF);
        if (typeof r === "number") return r;
        if (self.readOnly(r)) return self.exists(r) ? E.ROFS : E.NOENT;
        return self.lend([r], [], ([p]) => base.path_filestat_set_times(fd, 0, p[0], p[1], atim, mtim, fstflags));
      },
      fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, fstflags: number) {
        const dir = self.dirs.get(fd);
        if (dir ? self.readOnly({ dir, path: [] }) : self.readOnlyFiles.has(fd)) return E.ROFS;
        return base.fd_filestat_set_times(fd, atim, mtim, fstflags);
      },
      path_create_directory: (fd: number, ptr: number, len: number) =>
        self.onEntry(self.creating(self.entry(fd, ptr, len, E.EXIST, "strip")), [], (p) => base.path_create_directory(fd, p[0], p[1])),
      path_readlink: (fd: number, ptr: number, len: number, buf: number, bufLen: number, usedOut: number) =>
        self.onEntry(self.entry(fd, ptr, len, E.INVAL), [[buf, bufLen], [usedOut, 4]],
          (p) => base.path_readlink(fd, p[0], p[1], buf, bufLen, usedOut)),
      path_remove_directory: (fd: number, ptr: number, len: number) =>
        self.onEntry(self.removing(self.entry(fd, ptr, len, E.INVAL)), [], (p) => base.path_remove_directory(fd, p[0], p[1])),
      path_unlink_file: (fd: number, ptr: number, len: number) =>
        self.onEntry(self.removing(self.entry(fd, ptr, len, E.ISDIR)), [], (p) => base.path_unlink_file(fd, p[0], p[1])),
      path_rename(fd: number, ptr: number, len: number, newFd: number, newPtr: number, newLen: number) {
        const from = self.entry(fd, ptr, len, E.BUSY, "strip-keep");
        if (typeof from === "number") return from;
        const to = self.entry(newFd, newPtr, newLen, E.BUSY, "strip");
        if (typeof to === "number") return to;
        // rename(2): EXDEV between mounts, EROFS in a read-only one, EBUSY for a mount point.
        const mount = self.mountOfParent(from);
        if (mount !== self.mountOfParent(to)) return E.XDEV;
        if (mount && !mount.writable) return E.ROFS;
        if (self.isMountPoint(from) || self.isMountPoint(to)) return E.BUSY;
        return self.lend([from, to], [], ([p, q]) => base.path_rename(fd, p[0], p[1], newFd, q[0], q[1]));
      },
      path_link(fd: number, flags: number, ptr: number, len: number, newFd: number, newPtr: number, newLen: number) {
        if ((flags & LOOKUP_SYMLINK_FOLLOW) !== 0) return E.INVAL; // wasmtime links the entry itself only
        const from = self.entry(fd, ptr, len, E.PERM);
        if (typeof from === "number") return from;
        const to = self.creating(self.entry(newFd, newPtr, newLen, E.EXIST));
        if (typeof to === "number") return to;
        if (self.mountOfParent(from) !== self.mountOfParent(to) && self.exists(from)) return E.XDEV; // link(2) across mounts
        return self.lend([from, to], [], ([p, q]) => base.path_link(fd, 0, p[0], p[1], newFd, q[0], q[1]));
      },
      path_symlink(targetPtr: number, targetLen: number, fd: number, ptr: number, len: number) {
        // A link's text is checked when a path goes through it, as under wasmtime, not here (node:wasi would
        // read it as a path from the directory fd rather than from the link, and refuse `..`).
        const target = self.text(targetPtr, targetLen);
        if (typeof target === "number") return target;
        if (target.startsWith("/")) return E_ESCAPE;
        const r = self.creating(self.entry(fd, ptr, len, E.EXIST));
        if (typeof r === "number") return r;
        try {
          symlinkSync(target, hostPath(r.dir, r.path));
          return E.SUCCESS;
        } catch (err) {
          return errnoOf(err);
        }
      },
      fd_close(fd: number) {
        const errno = base.fd_close(fd);
        if (errno === E.SUCCESS) self.forget(fd);
        return errno;
      },
      fd_renumber(from: number, to: number) {
        const errno = base.fd_renumber(from, to);
        if (errno === E.SUCCESS) {
          const dir = self.dirs.get(from);
          const readOnly = self.readOnlyFiles.has(from);
          self.forget(to);
          self.forget(from);
          if (dir) self.dirs.set(to, dir);
          else self.files.add(to);
          if (readOnly) self.readOnlyFiles.add(to);
        }
        return errno;
      },
    };
  }

  /** Hands node:wasi a resolved entry (lent to guest memory, clear of `keep`), or returns the errno. */
  private onEntry(r: Resolved | number, keep: Region[], call: (p: Region) => number): number {
    if (typeof r === "number") return r;
    return this.lend([r], keep, ([p]) => call(p));
  }

  /** Records what path_open gave the guest: a directory becomes a sandbox of its own. */
  private opened(fd: number, r: Resolved, readOnly: boolean): void {
    this.forget(fd);
    const path = [...r.dir.path, ...r.path];
    let isDir = false;
    try {
      isDir = lstatSync(hostPath(r.dir, r.path)).isDirectory();
    } catch {
      // Gone already (another process removed it): node:wasi still holds it as a file.
    }
    if (isDir) this.dirs.set(fd, { host: r.dir.host, path });
    else this.files.add(fd);
    if (readOnly && !isDir) this.readOnlyFiles.add(fd);
  }

  private forget(fd: number): void {
    this.dirs.delete(fd);
    this.files.delete(fd);
    this.readOnlyFiles.delete(fd);
  }

  // ---- read-only mounts (see the top of this file) ----

  /** Whether `r` (its own entry: a mount point counts as inside its mount) lies in a read-only mount. */
  private readOnly(r: Pick<Resolved, "dir" | "path">): boolean {
    return mountOf(this.mounts, hostPath(r.dir, r.path))?.writable === false;
  }

  /** The mount of the directory that holds `r`'s entry: the one whose contents a create, remove or rename changes. */
  private mountOfParent(r: Resolved): Mount | undefined {
    return mountOf(this.mounts, hostPath(r.dir, r.path.slice(0, -1)));
  }

  private isMountPoint(r: Resolved): boolean {
    const at = hostPath(r.dir, r.path);
    return this.mounts.some((m) => m.path === at);
  }

  private exists(r: Pick<Resolved, "dir" | "path">): boolean {
    return lstatSync(hostPath(r.dir, r.path), { throwIfNoEntry: false }) !== undefined;
  }

  /** An entry to create (mkdir, symlink, link), or the errno: EEXIST before EROFS, as Linux checks them. */
  private creating(r: Resolved | number): Resolved | number {
    if (typeof r === "number" || this.mountOfParent(r)?.writable !== false) return r;
    return this.exists(r) ? E.EXIST : E.ROFS;
  }

  /** An entry to remove (unlink, rmdir), or the errno: EROFS before any lookup, EBUSY for a mount point. */
  private removing(r: Resolved | number): Resolved | number {
    if (typeof r === "number") return r;
    if (this.mountOfParent(r)?.writable === false) return E.ROFS;
    return this.isMountPoint(r) ? E.BUSY : r;
  }

  // ---- resolution ----

  /** The guest's text at (ptr, len), or the errno for it. */
  private text(ptr: number, len: number): string | number {
    ptr >>>= 0;
    len >>>= 0;
    const bytes = this.view();
    if (ptr + len > bytes.length) return E.FAULT;
    if (len > PATH_MAX) return E.NAMETOOLONG;
    try {
      const text = this.decoder.decode(bytes.subarray(ptr, ptr + len));
      return text.includes("\0") ? E.INVAL : text;
    } catch {
      return E.ILSEQ; // WASI paths are UTF-8
    }
  }

  /** The directory fd and the guest's path for a call, after the checks every call shares. */
  private begin(fd: number, ptr: number, len: number): { dir: Directory; text: string } | number {
    const dir = this.dirs.get(fd);
    if (!dir) return this.files.has(fd) ? E.NOTDIR : E.BADF;
    const text = this.text(ptr, len);
    if (typeof text === "number") return text;
    if (text === "") return E.NOENT;
    if (text.startsWith("/")) return E_ESCAPE;
    try {
      for (let i = 1; i <= dir.path.length; i++) {
        if (!lstatSync(join(dir.host, ...dir.path.slice(0, i)), { throwIfNoEntry: false })?.isDirectory()) return E.NOENT;
      }
    } catch (err) {
      return errnoOf(err);
    }
    return { dir, text };
  }

  /**
   * Resolves the guest's path beneath directory fd `fd` as open(2) does (see the top of this file). `follow`:
   * a link at the end of the path is followed (lookupflags.SYMLINK_FOLLOW); links elsewhere always are, and so
   * is one at the end when a "/" follows it.
   */
  private path(fd: number, ptr: number, len: number, follow: boolean): Resolved | number {
    const b = this.begin(fd, ptr, len);
    if (typeof b === "number") return b;
    return this.walk(b.dir, components(b.text), follow);
  }

  /**
   * Resolves a path for a call that works on its last entry (mkdir, rmdir, unlink, rename, link, symlink,
   * readlink, and utimes without following), as cap-std does: the directory it is in is resolved as a path,
   * links and all, and the entry's name is taken as it is. A path ending in "/", "/.", "." or ".." names no
   * entry but the directory itself (`dir/.`): the call then answers `onItself`, what Linux answers for `dir/.`,
   * or, with ITSELF, works on the directory. `trailing` "strip": mkdir and rename drop trailing slashes first
   * ("strip-keep": and hand the slash to the call with the name, so that rename refuses a file named so).
   */
  private entry(fd: number, ptr: number, len: number, onItself: number, trailing?: "strip" | "strip-keep"): Resolved | number {
    const b = this.begin(fd, ptr, len);
    if (typeof b === "number") return b;
    let text = b.text;
    const slash = trailing === "strip-keep" && text.endsWith("/");
    if (trailing) text = text.replace(/\/+$/, "");
    const cut = text.lastIndexOf("/");
    const name = text.slice(cut + 1);
    const itself = name === "" || name === "." || name === "..";
    const dir = this.walk(b.dir, [SLASH, ...components(itself ? text : text.slice(0, cut + 1))], true);
    if (typeof dir === "number") return dir;
    if (dir.last === null) return E.NOENT;
    if (dir.last !== "dir") return E.NOTDIR;
    if (itself) return onItself === ITSELF ? dir : onItself;
    return { ...dir, path: [...dir.path, name], slash, last: null };
  }

  /**
   * Resolves a path for path_filestat_get without following: a single name is the entry itself (even with a
   * trailing slash, as cap-std takes it), any longer path resolves as open(2) would with O_NOFOLLOW.
   */
  private lstatPath(fd: number, ptr: number, len: number): Resolved | number {
    const b = this.begin(fd, ptr, len);
    if (typeof b === "number") return b;
    const [first, ...rest] = b.text.split("/");
    const single = first !== "." && first !== ".." && rest.every((c) => c === "" || c === ".");
    return this.walk(b.dir, single ? [first] : components(b.text), false);
  }

  /**
   * Walks `pending` (components in reverse, for popping) beneath `dir`. A link is replaced by its target's
   * components, so `..` after it goes up from where it points, as in POSIX; `..` never leaves `dir`.
   */
  private walk(dir: Directory, pending: string[], follow: boolean): Resolved | number {
    const path: string[] = [];
    let expansions = 0;
    let slash = false;
    let last: Resolved["last"] = "dir";
    try {
      while (pending.length > 0) {
        const name = pending.pop()!;
        if (name === SLASH) continue;
        if (name === "..") {
          if (path.length === 0) return E_ESCAPE;
          path.pop();
          last = "dir";
          continue;
        }
        // The last component, perhaps with slashes after it (one per link whose target ended in one).
        const final = pending.every((c) => c === SLASH);
        slash = final && pending.length > 0;
        const at = hostPath(dir, [...path, name]);
        const stats = lstatSync(at, { throwIfNoEntry: false });
        if (!stats) {
          if (!final) return E.NOENT;
          path.push(name);
          last = null;
        } else if (stats.isSymbolicLink() && (!final || follow || slash)) {
          if (++expansions > MAX_SYMLINK_EXPANSIONS) return E.LOOP;
          const target = readlinkSync(at);
          if (target.startsWith("/")) return E_ESCAPE;
          pending.push(...components(target));
        } else if (!final && !stats.isDirectory()) {
          return E.NOTDIR;
        } else {
          path.push(name);
          last = stats.isSymbolicLink() ? "link" : stats.isDirectory() ? "dir" : "other";
        }
      }
    } catch (err) {
      return errnoOf(err); // EACCES, ENAMETOOLONG, or the tree changed under us
    }
    return { dir, path, slash, last };
  }

  // ---- guest memory ----

  private view(): Uint8Array {
    const buffer = this.memory!.buffer;
    if (this.bytes.buffer !== buffer) this.bytes = new Uint8Array(buffer);
    return this.bytes;
  }

  /**
   * Runs `call` with each resolved path written to guest memory (node:wasi takes paths from there), at a spot
   * that overlaps none of `keep` (the call's out-parameters); the bytes that were there are put back after it.
   */
  private lend(paths: Resolved[], keep: Region[], call: (at: Region[]) => number): number {
    const encoded = paths.map((r) => Buffer.from(r.path.length ? r.path.join("/") + (r.slash ? "/" : "") : "."));
    if (encoded.some((b) => b.length > PATH_MAX)) return E.NAMETOOLONG;
    const need = encoded.reduce((n, b) => n + b.length, 0);
    const bytes = this.view();
    const regions = keep.map(([p, n]): Region => [p >>> 0, n >>> 0]);
    const spot = [0, ...regions.map(([p, n]) => p + n)].sort((a, b) => a - b)
      .find((s) => s + need <= bytes.length && regions.every(([p, n]) => s + need <= p || s >= p + n));
    if (spot === undefined) return E.FAULT;
    const saved = bytes.slice(spot, spot + need);
    const at: Region[] = [];
    let offset = spot;
    for (const b of encoded) {
      bytes.set(b, offset);
      at.push([offset, b.length]);
      offset += b.length;
    }
    try {
      return call(at);
    } finally {
      this.view().set(saved, spot);
    }
  }
}

/** The host path of `path` beneath directory fd `dir`. */
function hostPath(dir: Directory, path: string[]): string {
  return join(dir.host, ...dir.path, ...path);
}

/** A path's components in reverse (for popping), without "" and "."; a trailing "/" or "/." becomes SLASH. */
function components(path: string): string[] {
  const parts = path.split("/");
  const out = parts.filter((c) => c !== "" && c !== ".");
  const tail = parts[parts.length - 1];
  if (tail === "" || tail === ".") out.push(SLASH);
  return out.reverse();
}

function errnoOf(err: unknown): number {
  return errnoFromCode((err as NodeJS.ErrnoException).code, FS_ERROR_CODES, E.IO);
}
