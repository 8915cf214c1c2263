// Test app for the filesystem sandbox (tests/sandbox/fs-escape.test.mjs): tries to reach outside its one
// granted directory (fd 3) every way WASI preview1 offers, and does the ordinary things inside it, printing one
// line per case: "<case> ok" or "<case> <WASI errno>". The test lays out the tree (see there) and runs this
// under both engines; wasmtime's answers are the reference.
//   argv[1] = "make":  creates links from inside the guest (for a later run, possibly under the other engine)
//   argv[1] = "probe": every case
// Raw WASI imports, declared here: the runtime's own (assembly/wasi.ts) covers sockets only.

@external("wasi_snapshot_preview1", "path_open")
declare function path_open(fd: u32, dirflags: u32, path: usize, pathLen: usize, oflags: u16,
  rightsBase: u64, rightsInheriting: u64, fdflags: u16, fdOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, iovsLen: usize, nreadOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: usize, nwrittenOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_readdir")
declare function fd_readdir(fd: u32, buf: usize, bufLen: usize, cookie: u64, bufUsedOut: usize): u16;
@external("wasi_snapshot_preview1", "path_filestat_get")
declare function path_filestat_get(fd: u32, flags: u32, path: usize, pathLen: usize, statOut: usize): u16;
@external("wasi_snapshot_preview1", "path_filestat_set_times")
declare function path_filestat_set_times(fd: u32, flags: u32, path: usize, pathLen: usize, atim: u64, mtim: u64, fstflags: u16): u16;
@external("wasi_snapshot_preview1", "path_readlink")
declare function path_readlink(fd: u32, path: usize, pathLen: usize, buf: usize, bufLen: usize, bufUsedOut: usize): u16;
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

const ROOT: u32 = 3;
const FOLLOW: u32 = 1; // lookupflags.SYMLINK_FOLLOW
const NOFOLLOW: u32 = 0;
const O_CREAT: u16 = 1;
const O_DIRECTORY: u16 = 2;
const O_EXCL: u16 = 4;
const O_TRUNC: u16 = 8;
// Rights: a directory is opened without write rights (node:wasi would open it O_RDWR otherwise).
const RIGHTS_READ: u64 = 2 | 4 | 32 | 0x200000;       // FD_READ, FD_SEEK, FD_TELL, FD_FILESTAT_GET
const RIGHTS_WRITE: u64 = RIGHTS_READ | 64;           // + FD_WRITE
const RIGHTS_ALL: u64 = 0x0fffffff; // every file and directory right (node:wasi refuses asking for more)
const RIGHTS_DIR: u64 = RIGHTS_ALL & ~(1 | 64 | 256 | 0x400000); // but FD_DATASYNC, FD_WRITE, FD_ALLOCATE, FD_FILESTAT_SET_SIZE
const FILETYPE_DIRECTORY: u8 = 3;
const FILETYPE_REGULAR_FILE: u8 = 4;
const FILETYPE_SYMBOLIC_LINK: u8 = 7;
const FSTFLAGS_ATIM_NOW: u16 = 2;
const FSTFLAGS_MTIM_NOW: u16 = 8;

const scratch = memory.data(64);
const IOV = scratch;
const OUT = scratch + 16;
const STAT = memory.data(64);
const BUF = memory.data(4096);

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

function report(name: string, errno: u16): void {
  console.log(name + " " + (errno == 0 ? "ok" : errno.toString()));
}

function open(dir: u32, path: string, lookup: u32, oflags: u16, rights: u64): u16 {
  const p = utf8(path);
  return path_open(dir, lookup, changetype<usize>(p), p.byteLength, oflags, rights, RIGHTS_ALL, 0, OUT);
}

/** Opens `path` and reads it whole; "ok" only if it holds `expected` (an escape that works reads "secret"). */
function readCase(name: string, dir: u32, path: string, lookup: u32, expected: string): void {
  let errno = open(dir, path, lookup, 0, RIGHTS_READ);
  if (errno == 0) {
    const fd = load<u32>(OUT);
    store<u32>(IOV, <u32>BUF);
    store<u32>(IOV + 4, 4096);
    errno = fd_read(fd, IOV, 1, OUT);
    const text = String.UTF8.decodeUnsafe(BUF, load<u32>(OUT));
    fd_close(fd);
    if (errno == 0 && text != expected) {
      console.log(name + " read:" + text.trim());
      return;
    }
  }
  report(name, errno);
}

function writeCase(name: string, dir: u32, path: string, lookup: u32, oflags: u16): void {
  let errno = open(dir, path, lookup, O_CREAT | oflags, RIGHTS_WRITE);
  if (errno == 0) {
    const fd = load<u32>(OUT);
    const data = utf8("written\n");
    store<u32>(IOV, <u32>changetype<usize>(data));
    store<u32>(IOV + 4, data.byteLength);
    errno = fd_write(fd, IOV, 1, OUT);
    fd_close(fd);
  }
  report(name, errno);
}

/** Stats `path`: "ok" only if it is a `filetype` (filestat.filetype, at offset 16). */
function statCase(name: string, path: string, lookup: u32, filetype: u8): void {
  const p = utf8(path);
  const errno = path_filestat_get(ROOT, lookup, changetype<usize>(p), p.byteLength, STAT);
  if (errno == 0 && load<u8>(STAT + 16) != filetype) {
    console.log(name + " filetype:" + load<u8>(STAT + 16).toString());
    return;
  }
  report(name, errno);
}

function setTimesCase(name: string, path: string): void {
  const p = utf8(path);
  report(name, path_filestat_set_times(ROOT, FOLLOW, changetype<usize>(p), p.byteLength, 0, 0, FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM_NOW));
}

function readlinkCase(name: string, path: string, expected: string): void {
  const p = utf8(path);
  const errno = path_readlink(ROOT, changetype<usize>(p), p.byteLength, BUF, 4096, OUT);
  if (errno == 0 && String.UTF8.decodeUnsafe(BUF, load<u32>(OUT)) != expected) {
    console.log(name + " target:" + String.UTF8.decodeUnsafe(BUF, load<u32>(OUT)));
    return;
  }
  report(name, errno);
}

function symlinkCase(name: string, target: string, path: string): void {
  const t = utf8(target);
  const p = utf8(path);
  report(name, path_symlink(changetype<usize>(t), t.byteLength, ROOT, changetype<usize>(p), p.byteLength));
}

function linkCase(name: string, lookup: u32, from: string, to: string): void {
  const f = utf8(from);
  const t = utf8(to);
  report(name, path_link(ROOT, lookup, changetype<usize>(f), f.byteLength, ROOT, changetype<usize>(t), t.byteLength));
}

function renameCase(name: string, from: string, to: string): void {
  const f = utf8(from);
  const t = utf8(to);
  report(name, path_rename(ROOT, changetype<usize>(f), f.byteLength, ROOT, changetype<usize>(t), t.byteLength));
}

function unlinkCase(name: string, path: string): void {
  const p = utf8(path);
  report(name, path_unlink_file(ROOT, changetype<usize>(p), p.byteLength));
}

function rmdirCase(name: string, path: string): void {
  const p = utf8(path);
  report(name, path_remove_directory(ROOT, changetype<usize>(p), p.byteLength));
}

function mkdirCase(name: string, path: string): void {
  const p = utf8(path);
  report(name, path_create_directory(ROOT, changetype<usize>(p), p.byteLength));
}

/** Opens directory `path`, then lists it: "ok" if `entry` is among its names. */
function readdirCase(name: string, path: string, entry: string): void {
  let errno = open(ROOT, path, FOLLOW, O_DIRECTORY, RIGHTS_DIR);
  if (errno == 0) {
    const fd = load<u32>(OUT);
    errno = fd_readdir(fd, BUF, 4096, 0, OUT);
    fd_close(fd);
    if (errno == 0) {
      const used = load<u32>(OUT);
      let found = false;
      // dirent: d_next u64, d_ino u64, d_namlen u32, d_type u8, padding; then the name.
      for (let at: u32 = 0; at + 24 <= used; ) {
        const len = load<u32>(BUF + at + 16);
        if (String.UTF8.decodeUnsafe(BUF + at + 24, len) == entry) found = true;
        at += 24 + len;
      }
      if (!found) {
        console.log(name + " missing:" + entry);
        return;
      }
    }
  }
  report(name, errno);
}

/** Opens directory `path` and returns its fd, or reports why not and returns -1. */
function openDir(name: string, path: string): i32 {
  const errno = open(ROOT, path, FOLLOW, O_DIRECTORY, RIGHTS_DIR);
  if (errno != 0) {
    report(name, errno);
    return -1;
  }
  return load<i32>(OUT);
}

function make(): void {
  symlinkCase("make-up", "..", "made-up");
  symlinkCase("make-abs", "/etc", "made-abs");
  symlinkCase("make-in", "inside.txt", "made-in");
  symlinkCase("make-sub-up", "../..", "sub/made-up2");
}

function probe(): void {
  // The ordinary things, inside the root.
  readCase("read", ROOT, "inside.txt", NOFOLLOW, "inside\n");
  readCase("read-nested", ROOT, "sub/deep.txt", NOFOLLOW, "deep\n");
  readCase("read-dot", ROOT, "./sub/./deep.txt", NOFOLLOW, "deep\n");
  readCase("read-dotdot-inside", ROOT, "sub/../inside.txt", NOFOLLOW, "inside\n");
  readCase("read-in-link", ROOT, "in-link", FOLLOW, "inside\n");
  readCase("read-in-link-dotdot", ROOT, "sub/back", FOLLOW, "inside\n");
  readCase("read-in-link-middle", ROOT, "sub-link/deep.txt", NOFOLLOW, "deep\n");
  readCase("read-guest-made-in-link", ROOT, "made-in", FOLLOW, "inside\n");
  statCase("stat", "inside.txt", FOLLOW, FILETYPE_REGULAR_FILE);
  statCase("stat-in-link", "in-link", FOLLOW, FILETYPE_REGULAR_FILE);
  statCase("stat-link-itself", "in-link", NOFOLLOW, FILETYPE_SYMBOLIC_LINK);
  statCase("stat-escaping-link-itself", "secret-link", NOFOLLOW, FILETYPE_SYMBOLIC_LINK);
  readlinkCase("readlink", "up", "..");
  readlinkCase("readlink-escaping-link", "secret-link", "../outside/secret.txt");
  mkdirCase("mkdir", "newdir");
  writeCase("create", ROOT, "newdir/new.txt", NOFOLLOW, O_TRUNC);
  readdirCase("readdir", "newdir", "new.txt");
  readdirCase("readdir-root", ".", "inside.txt");
  renameCase("rename", "newdir/new.txt", "renamed.txt");
  readCase("read-renamed", ROOT, "renamed.txt", NOFOLLOW, "written\n");
  symlinkCase("symlink", "../renamed.txt", "newdir/link");
  readCase("read-via-new-link", ROOT, "newdir/link", FOLLOW, "written\n");
  linkCase("hardlink", NOFOLLOW, "renamed.txt", "hard.txt");
  readCase("read-hardlink", ROOT, "hard.txt", NOFOLLOW, "written\n");
  setTimesCase("set-times", "inside.txt");
  unlinkCase("unlink", "hard.txt");
  unlinkCase("unlink-link", "newdir/link");
  rmdirCase("rmdir", "newdir");
  writeCase("create-excl-existing", ROOT, "inside.txt", NOFOLLOW, O_EXCL);
  writeCase("create-via-dangling-in-link", ROOT, "dangle-in", FOLLOW, 0);
  readCase("read-missing", ROOT, "missing.txt", NOFOLLOW, "");
  readCase("read-missing-dir-dotdot", ROOT, "nodir/../inside.txt", NOFOLLOW, "inside\n");
  readCase("read-file-as-dir", ROOT, "inside.txt/x", NOFOLLOW, "");
  readCase("read-empty-path", ROOT, "", NOFOLLOW, "");
  readCase("loop", ROOT, "loop1", FOLLOW, "");
  readCase("loop-middle", ROOT, "loop1/x", NOFOLLOW, "");
  readCase("open-link-nofollow", ROOT, "in-link", NOFOLLOW, "inside\n");

  // Directories the guest opens are sandboxes of their own.
  const sub = openDir("subdir", "sub");
  if (sub >= 0) {
    readCase("subdir-read", <u32>sub, "deep.txt", NOFOLLOW, "deep\n");
    readCase("subdir-dotdot", <u32>sub, "../inside.txt", NOFOLLOW, "inside\n");
    readCase("subdir-link-up", <u32>sub, "back", FOLLOW, "inside\n");
    readCase("subdir-dotdot-out", <u32>sub, "../../outside/secret.txt", NOFOLLOW, "secret\n");
    fd_close(<u32>sub);
  }
  const viaLink = openDir("dir-via-escaping-link", "up");
  if (viaLink >= 0) {
    readCase("dir-via-escaping-link-read", <u32>viaLink, "outside/secret.txt", NOFOLLOW, "secret\n");
    fd_close(<u32>viaLink);
  }

  // Every way out. None of these may reach ../outside.
  readCase("dotdot", ROOT, "../outside/secret.txt", NOFOLLOW, "secret\n");
  readCase("dotdot-deep", ROOT, "sub/../../outside/secret.txt", NOFOLLOW, "secret\n");
  readCase("dotdot-alone", ROOT, "..", NOFOLLOW, "");
  readCase("absolute", ROOT, "/etc/hostname", NOFOLLOW, "");
  readCase("absolute-guest-name", ROOT, "/sandbox/inside.txt", NOFOLLOW, "inside\n");
  readCase("link-middle", ROOT, "up/outside/secret.txt", NOFOLLOW, "secret\n");
  readCase("link-middle-follow", ROOT, "up/outside/secret.txt", FOLLOW, "secret\n");
  readCase("link-middle-deep", ROOT, "sub/up2/outside/secret.txt", NOFOLLOW, "secret\n");
  readCase("link-middle-absolute", ROOT, "abs/secret.txt", NOFOLLOW, "secret\n");
  readCase("link-middle-absolute-inside", ROOT, "abs-in/deep.txt", NOFOLLOW, "deep\n");
  readCase("link-end-follow", ROOT, "secret-link", FOLLOW, "secret\n");
  readCase("link-end-nofollow", ROOT, "secret-link", NOFOLLOW, "secret\n");
  readCase("link-end-absolute", ROOT, "abs-secret-link", FOLLOW, "secret\n");
  readCase("link-end-absolute-nofollow", ROOT, "abs-secret-link", NOFOLLOW, "secret\n");
  readCase("link-chain", ROOT, "chain-link", FOLLOW, "secret\n");
  readCase("link-trailing-slash", ROOT, "up/", NOFOLLOW, "");
  readCase("guest-made-link", ROOT, "made-up/outside/secret.txt", NOFOLLOW, "secret\n");
  readCase("guest-made-link-deep", ROOT, "sub/made-up2/outside/secret.txt", NOFOLLOW, "secret\n");
  readCase("guest-made-absolute-link", ROOT, "made-abs/hostname", NOFOLLOW, "");
  statCase("stat-dotdot", "../outside/secret.txt", FOLLOW, FILETYPE_REGULAR_FILE);
  statCase("stat-link-middle", "up/outside/secret.txt", NOFOLLOW, FILETYPE_REGULAR_FILE);
  statCase("stat-link-end", "secret-link", FOLLOW, FILETYPE_REGULAR_FILE);
  setTimesCase("set-times-link-middle", "up/outside/secret.txt");
  setTimesCase("set-times-link-end", "secret-link");
  readlinkCase("readlink-outside", "up/outside/outside-link", "secret.txt");
  writeCase("create-dotdot", ROOT, "../outside/created.txt", NOFOLLOW, 0);
  writeCase("create-link-middle", ROOT, "up/outside/created.txt", NOFOLLOW, 0);
  writeCase("write-link-end", ROOT, "secret-link", FOLLOW, O_TRUNC);
  writeCase("write-link-end-nofollow", ROOT, "secret-link", NOFOLLOW, O_TRUNC);
  writeCase("create-via-dangling-link", ROOT, "dangle-out", FOLLOW, 0);
  writeCase("create-via-dangling-link-nofollow", ROOT, "dangle-out", NOFOLLOW, 0);
  mkdirCase("mkdir-dotdot", "../outside/newdir");
  mkdirCase("mkdir-link-middle", "up/outside/newdir");
  renameCase("rename-out", "inside.txt", "up/outside/moved.txt");
  renameCase("rename-out-dotdot", "inside.txt", "../outside/moved.txt");
  renameCase("rename-in-from-outside", "up/outside/secret.txt", "stolen.txt");
  renameCase("rename-link-itself", "secret-link", "renamed-link");
  linkCase("hardlink-from-outside", NOFOLLOW, "up/outside/secret.txt", "stolen-hard.txt");
  linkCase("hardlink-from-outside-follow", FOLLOW, "renamed-link", "stolen-hard2.txt");
  linkCase("hardlink-into-outside", NOFOLLOW, "inside.txt", "up/outside/planted.txt");
  symlinkCase("symlink-into-outside", "x", "up/outside/planted-link");
  unlinkCase("unlink-outside", "up/outside/victim.txt");
  unlinkCase("unlink-dotdot", "../outside/victim.txt");
  rmdirCase("rmdir-outside", "up/outside/victimdir");

  // A path ending in "." or "..", where the call works on the last component.
  rmdirCase("rmdir-dot", ".");
  rmdirCase("rmdir-sub-dot", "sub/.");
  rmdirCase("rmdir-sub-dotdot", "sub/..");
  rmdirCase("rmdir-sub-slash", "sub/");
  unlinkCase("unlink-dot", ".");
  unlinkCase("unlink-sub-dotdot", "sub/..");
  unlinkCase("unlink-file-slash", "inside.txt/");
  mkdirCase("mkdir-dot", ".");
  mkdirCase("mkdir-sub-dotdot", "sub/..");
  mkdirCase("mkdir-slash", "made-dir/");
  renameCase("rename-dot", ".", "renamed-root");
  renameCase("rename-to-dot", "inside.txt", ".");
  renameCase("rename-to-sub-dotdot", "inside.txt", "sub/..");
  symlinkCase("symlink-at-dot", "x", ".");
  symlinkCase("symlink-at-sub-dotdot", "x", "sub/..");
  symlinkCase("symlink-slash", "x", "new-link/");
  linkCase("hardlink-to-dot", NOFOLLOW, "inside.txt", ".");
  linkCase("hardlink-from-dot", NOFOLLOW, ".", "dir-link");
  linkCase("hardlink-follow-in-root", FOLLOW, "in-link", "hard-follow.txt");
  readlinkCase("readlink-dot", ".", "");
  readlinkCase("readlink-sub-dotdot", "sub/..", "");
  readlinkCase("readlink-slash", "in-link/", "");
  statCase("stat-dot", ".", NOFOLLOW, FILETYPE_DIRECTORY);
  statCase("stat-link-slash", "sub-link/", NOFOLLOW, FILETYPE_SYMBOLIC_LINK);
  setTimesCase("set-times-dot", ".");
}

const phase = process.argv.length > 1 ? process.argv[1] : "";
if (phase == "make") make();
else if (phase == "probe") probe();
else console.log("usage: fs-escape make|probe");
