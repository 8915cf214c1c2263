// Files over WASI preview1 (behind assembly/sys.ts, beside the sockets of ./preview1.ts): the directories the
// host granted (preopens), opening beneath a directory fd, reading, stat and directory listing. Preview1 has no
// non-blocking file I/O: every call here blocks until the host has done it, so callers keep each one bounded.
// The WASI 0.2 component build gets the same calls from the preview1 adapter.
import { Errno } from "./errno";

@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: u32, prestatOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_prestat_dir_name")
declare function fd_prestat_dir_name(fd: u32, path: usize, pathLen: u32): u16;
@external("wasi_snapshot_preview1", "fd_fdstat_get")
declare function fd_fdstat_get(fd: u32, statOut: usize): u16;
@external("wasi_snapshot_preview1", "path_open")
declare function path_open(fd: u32, dirflags: u32, path: usize, pathLen: u32, oflags: u16,
  rightsBase: u64, rightsInheriting: u64, fdflags: u16, fdOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_pread")
declare function fd_pread(fd: u32, iovs: usize, iovsLen: u32, offset: u64, nreadOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_filestat_get")
declare function fd_filestat_get(fd: u32, statOut: usize): u16;
@external("wasi_snapshot_preview1", "path_filestat_get")
declare function path_filestat_get(fd: u32, flags: u32, path: usize, pathLen: u32, statOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_readdir")
declare function fd_readdir(fd: u32, buf: usize, bufLen: u32, cookie: u64, bufUsedOut: usize): u16;

const scratch = memory.data(32, 8);
const IOV = scratch;        // iovec { buf: u32, len: u32 }
const OUT = scratch + 16;   // u32 out-parameter

const PREOPENTYPE_DIR: u8 = 0;
const LOOKUP_SYMLINK_FOLLOW: u32 = 1;
const OFLAGS_DIRECTORY: u16 = 2;
// Rights asked for (preview1 `rights`): reading only. A directory is opened without write rights (node:wasi
// would open it O_RDWR otherwise); what is opened beneath it may inherit any right the host grants.
const RIGHTS_FILE: u64 = 2 | 4 | 32 | 0x200000;        // FD_READ, FD_SEEK, FD_TELL, FD_FILESTAT_GET
const RIGHTS_ALL: u64 = 0x0fffffff;                     // every right (node:wasi refuses asking for more)
const RIGHTS_DIRECTORY: u64 = RIGHTS_ALL & ~(1 | 64 | 256 | 0x400000); // not FD_DATASYNC, FD_WRITE, FD_ALLOCATE, FD_FILESTAT_SET_SIZE

/** preview1 `filetype` values. */
export namespace FileType {
  export const UNKNOWN: u8 = 0;
  export const BLOCK_DEVICE: u8 = 1;
  export const CHARACTER_DEVICE: u8 = 2;
  export const DIRECTORY: u8 = 3;
  export const REGULAR_FILE: u8 = 4;
  export const SOCKET_DGRAM: u8 = 5;
  export const SOCKET_STREAM: u8 = 6;
  export const SYMBOLIC_LINK: u8 = 7;
}

/** preview1 `filestat`, 64 bytes: what fileStat/pathStat fill in. */
export const FILESTAT_SIZE: i32 = 64;
export namespace Filestat {
  export const DEV: usize = 0;       // u64
  export const INO: usize = 8;       // u64
  export const FILETYPE: usize = 16; // u8
  export const NLINK: usize = 24;    // u64
  export const SIZE: usize = 32;     // u64, bytes
  export const ATIM: usize = 40;     // u64, ns since the epoch
  export const MTIM: usize = 48;
  export const CTIM: usize = 56;
}

/** A directory the host granted: its fd and the guest path it is named by (`--dir host::guest`). */
export class Preopen {
  constructor(public fd: i32, public path: string) {}
}

/**
 * The granted directories, found by asking fds 3, 4, … for their preopen name up to the first fd that is not
 * open (the host opens them all before the module starts, so none is past a gap).
 */
export function preopens(): Array<Preopen> {
  const found = new Array<Preopen>();
  for (let fd: u32 = 3; fd_fdstat_get(fd, scratch) == Errno.SUCCESS; fd++) {
    if (fd_prestat_get(fd, scratch) != Errno.SUCCESS || load<u8>(scratch) != PREOPENTYPE_DIR) continue;
    const len = load<u32>(scratch, 4);
    const name = new ArrayBuffer(<i32>len);
    if (fd_prestat_dir_name(fd, changetype<usize>(name), len) != Errno.SUCCESS) continue;
    found.push(new Preopen(<i32>fd, String.UTF8.decode(name, true))); // some hosts count a trailing NUL
  }
  return found;
}

/**
 * Opens `path` (UTF-8, relative) beneath directory fd `dirFd` for reading, following links as the host's
 * sandbox allows (never out of `dirFd`'s tree): the new fd, or -errno. `directory`: it must be one (O_DIRECTORY).
 */
export function openAt(dirFd: i32, path: string, directory: bool): i32 {
  const bytes = String.UTF8.encode(path);
  const err = path_open(<u32>dirFd, LOOKUP_SYMLINK_FOLLOW, changetype<usize>(bytes), <u32>bytes.byteLength,
    directory ? OFLAGS_DIRECTORY : 0, directory ? RIGHTS_DIRECTORY : RIGHTS_FILE, RIGHTS_ALL, 0, OUT);
  return err == Errno.SUCCESS ? <i32>load<u32>(OUT) : -<i32>err;
}

/** Reads at most `len` bytes at byte `offset` of file `fd` into [ptr, ptr+len): bytes read (0 = end), or -errno. */
export function readAt(fd: i32, ptr: usize, len: i32, offset: u64): i32 {
  store<u32>(IOV, <u32>ptr);
  store<u32>(IOV, <u32>len, 4);
  const err = fd_pread(<u32>fd, IOV, 1, offset, OUT);
  return err == Errno.SUCCESS ? <i32>load<u32>(OUT) : -<i32>err;
}

/** Closes a file or directory fd from openAt (sockets close through sys.close: under WASI 0.2 they are not fds). */
export function closeFile(fd: i32): u16 {
  return fd_close(<u32>fd);
}

/** Fills the FILESTAT_SIZE bytes at `out` with what `fd` is (see Filestat); returns the errno. */
export function fileStat(fd: i32, out: usize): u16 {
  return fd_filestat_get(<u32>fd, out);
}

/** As fileStat, for `path` beneath directory fd `dirFd`; `follow`: a link at its end is followed (stat, not lstat). */
export function pathStat(dirFd: i32, path: string, follow: bool, out: usize): u16 {
  const bytes = String.UTF8.encode(path);
  return path_filestat_get(<u32>dirFd, follow ? LOOKUP_SYMLINK_FOLLOW : 0, changetype<usize>(bytes), <u32>bytes.byteLength, out);
}

/**
 * Lists directory `fd` from `cookie` (0: the start) into [buf, buf+len) as preview1 `dirent`s (24 bytes: d_next
 * u64, d_ino u64, d_namlen u32, d_type u8; then the name): bytes used, or -errno. Fewer than `len` bytes used
 * means the listing ended; the last entry may be cut off when all `len` are.
 */
export function readDir(fd: i32, buf: usize, len: i32, cookie: u64): i32 {
  const err = fd_readdir(<u32>fd, buf, <u32>len, cookie, OUT);
  return err == Errno.SUCCESS ? <i32>load<u32>(OUT) : -<i32>err;
}
