// Test app for read-only and writable --dir grants (tests/capabilities/dir-modes.test.mjs): tries every way
// WASI preview1 has to change a directory's contents, beneath `argv[1]` in its granted directory (the first
// preopened fd; "." for the directory itself), and prints one line per case: "<case> ok" or "<case> <WASI errno>";
// `argv[2]`, when given, names the one case to try (wasmtime 36 ends the app at the first EROFS: SECURITY.md).
// The test lays out the tree (see there). Raw WASI imports: what the module can reach, not what the runtime chooses to use.

@external("wasi_snapshot_preview1", "path_open")
declare function path_open(fd: u32, dirflags: u32, path: usize, pathLen: usize, oflags: u16,
  rightsBase: u64, rightsInheriting: u64, fdflags: u16, fdOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: u32, prestatOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, iovsLen: usize, nreadOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: usize, nwrittenOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_filestat_set_size")
declare function fd_filestat_set_size(fd: u32, size: u64): u16;
@external("wasi_snapshot_preview1", "fd_filestat_set_times")
declare function fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fstflags: u16): u16;
@external("wasi_snapshot_preview1", "path_filestat_set_times")
declare function path_filestat_set_times(fd: u32, flags: u32, path: usize, pathLen: usize, atim: u64, mtim: u64, fstflags: u16): u16;
@external("wasi_snapshot_preview1", "path_symlink")
declare function path_symlink(oldPath: usize, oldLen: usize, fd: u32, newPath: usize, newLen: usize): u16;
@external("wasi_snapshot_preview1", "path_link")
declare function path_link(oldFd: u32, oldFlags: u32, oldPath: usize, oldLen: usize, newFd: u32, newPath: usize, newLen: usize): u16;
@external("wasi_snapshot_preview1", "path_rename")
declare function path_rename(fd: u32, oldPath: usize, oldLen: usize, newFd: u32, newPath: usize, newLen: usize): u16;
@external("wasi_snapshot_preview1", "path_unlink_file")
declare function path_unlink_file(fd: u32, path: usize, pathLen: usize): u16;
@external("wasi_snapshot_preview1", "path_remove_directory")
declare function path_remove_directory(fd: u32, path: usize, pathLen: usize): u16;
@external("wasi_snapshot_preview1", "path_create_directory")
declare function path_create_directory(fd: u32, path: usize, pathLen: usize): u16;

// Under wasmtime 36–46 the listeners and the control channel come before the preopens.
const LAST_PROBED_FD: u32 = 64;
const FOLLOW: u32 = 1; // lookupflags.SYMLINK_FOLLOW
const NOFOLLOW: u32 = 0;
const O_CREAT: u16 = 1;
const O_DIRECTORY: u16 = 2;
const O_EXCL: u16 = 4;
const O_TRUNC: u16 = 8;
const RIGHTS_READ: u64 = 2 | 4 | 32 | 0x200000;       // FD_READ, FD_SEEK, FD_TELL, FD_FILESTAT_GET
const RIGHTS_WRITE: u64 = RIGHTS_READ | 64;           // + FD_WRITE
const RIGHTS_SET_SIZE: u64 = RIGHTS_READ | 0x400000;  // + FD_FILESTAT_SET_SIZE
const RIGHTS_SET_TIMES: u64 = RIGHTS_READ | 0x800000; // + FD_FILESTAT_SET_TIMES
const RIGHTS_ALL: u64 = 0x0fffffff;
const RIGHTS_DIR: u64 = RIGHTS_ALL & ~(1 | 64 | 256 | 0x400000); // but FD_DATASYNC, FD_WRITE, FD_ALLOCATE, FD_FILESTAT_SET_SIZE
const FSTFLAGS_ATIM_NOW: u16 = 2;
const FSTFLAGS_MTIM_NOW: u16 = 8;

const scratch = memory.data(64);
const IOV = scratch;
const OUT = scratch + 16;
const BUF = memory.data(256);

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

const only = process.argv.length > 2 ? process.argv[2] : "";

function wanted(name: string): bool {
  return only == "" || only == name;
}

function report(name: string, errno: u16): void {
  console.log(name + " " + (errno == 0 ? "ok" : errno.toString()));
}

/** path_open beneath `dir`; the new fd is at OUT. */
function open(dir: u32, path: string, oflags: u16, rights: u64): u16 {
  const p = utf8(path);
  return path_open(dir, NOFOLLOW, changetype<usize>(p), p.byteLength, oflags, rights, RIGHTS_ALL, 0, OUT);
}

function writeAll(fd: u32, text: string): u16 {
  const data = utf8(text);
  store<u32>(IOV, <u32>changetype<usize>(data));
  store<u32>(IOV + 4, data.byteLength);
  return fd_write(fd, IOV, 1, OUT);
}

/** Opens `path` and, if that works, runs `then` (0: nothing) on the new fd, which is closed after. */
function openCase(name: string, dir: u32, path: string, oflags: u16, rights: u64, then: (fd: u32) => u16): void {
  if (!wanted(name)) return;
  let errno = open(dir, path, oflags, rights);
  if (errno == 0) {
    const fd = load<u32>(OUT);
    errno = then(fd);
    fd_close(fd);
  }
  report(name, errno);
}

function nothing(fd: u32): u16 {
  return 0;
}

function write(fd: u32): u16 {
  return writeAll(fd, "written\n");
}

/** Reads the file: 0 only if it still holds "existing\n". */
function readExisting(fd: u32): u16 {
  store<u32>(IOV, <u32>BUF);
  store<u32>(IOV + 4, 256);
  const errno = fd_read(fd, IOV, 1, OUT);
  if (errno != 0) return errno;
  return String.UTF8.decodeUnsafe(BUF, load<u32>(OUT)) == "existing\n" ? 0 : 255;
}

function setSize(fd: u32): u16 {
  return fd_filestat_set_size(fd, 0);
}

function setTimes(fd: u32): u16 {
  return fd_filestat_set_times(fd, 0, 0, FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM_NOW);
}

function createInside(fd: u32): u16 {
  let errno = open(fd, "created-in-sub.txt", O_CREAT, RIGHTS_WRITE);
  if (errno != 0) return errno;
  const file = load<u32>(OUT);
  errno = write(file);
  fd_close(file);
  return errno;
}

function onPath(name: string, dir: u32, path: string, call: (dir: u32, p: usize, len: usize) => u16): void {
  if (!wanted(name)) return;
  const p = utf8(path);
  report(name, call(dir, changetype<usize>(p), p.byteLength));
}

function onTwoPaths(name: string, dir: u32, from: string, to: string, call: (dir: u32, f: usize, fLen: usize, t: usize, tLen: usize) => u16): void {
  if (!wanted(name)) return;
  const f = utf8(from);
  const t = utf8(to);
  report(name, call(dir, changetype<usize>(f), f.byteLength, changetype<usize>(t), t.byteLength));
}

function probe(dir: u32): void {
  openCase("read", dir, "existing.txt", 0, RIGHTS_READ, readExisting);
  openCase("create", dir, "created.txt", O_CREAT, RIGHTS_WRITE, write);
  openCase("create-read-rights", dir, "created-r.txt", O_CREAT, RIGHTS_READ, nothing);
  openCase("creat-existing", dir, "existing.txt", O_CREAT, RIGHTS_READ, readExisting);
  openCase("excl-existing", dir, "existing.txt", O_CREAT | O_EXCL, RIGHTS_WRITE, nothing);
  openCase("truncate", dir, "truncate-me.txt", O_TRUNC, RIGHTS_WRITE, nothing);
  openCase("open-write", dir, "write-me.txt", 0, RIGHTS_WRITE, write);
  openCase("open-set-size", dir, "size-me.txt", 0, RIGHTS_SET_SIZE, setSize);
  openCase("fd-set-times", dir, "existing.txt", 0, RIGHTS_SET_TIMES, setTimes);
  openCase("sub-create", dir, "sub", O_DIRECTORY, RIGHTS_DIR, createInside);
  if (wanted("dir-set-times")) report("dir-set-times", setTimes(dir));
  onPath("mkdir", dir, "newdir", (d: u32, p: usize, n: usize): u16 => path_create_directory(d, p, n));
  onPath("mkdir-existing", dir, "sub", (d: u32, p: usize, n: usize): u16 => path_create_directory(d, p, n));
  onPath("rmdir", dir, "emptydir", (d: u32, p: usize, n: usize): u16 => path_remove_directory(d, p, n));
  onPath("unlink", dir, "victim.txt", (d: u32, p: usize, n: usize): u16 => path_unlink_file(d, p, n));
  onPath("set-times", dir, "existing.txt", (d: u32, p: usize, n: usize): u16 =>
    path_filestat_set_times(d, FOLLOW, p, n, 0, 0, FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM_NOW));
  onTwoPaths("rename", dir, "rename-me.txt", "renamed.txt", (d: u32, f: usize, fn: usize, t: usize, tn: usize): u16 =>
    path_rename(d, f, fn, d, t, tn));
  onTwoPaths("link", dir, "existing.txt", "hard.txt", (d: u32, f: usize, fn: usize, t: usize, tn: usize): u16 =>
    path_link(d, NOFOLLOW, f, fn, d, t, tn));
  onTwoPaths("symlink", dir, "existing.txt", "new-link", (d: u32, f: usize, fn: usize, t: usize, tn: usize): u16 =>
    path_symlink(f, fn, d, t, tn));
}

let root: u32 = 3;
while (root < LAST_PROBED_FD && fd_prestat_get(root, scratch) != 0) root++;
const where = process.argv.length > 1 ? process.argv[1] : ".";
if (where == ".") {
  probe(root);
} else if (open(root, where, O_DIRECTORY, RIGHTS_DIR) == 0) {
  probe(load<u32>(OUT));
} else {
  console.log("cannot open " + where);
}
