// Test app for the capability model (tests/capabilities/grants.test.mjs): prints everything the host granted
// it — each environment variable's name, and each open fd among 3…63 and those EVENTIDE_LISTEN names (the
// Node engine numbers sockets from 0x10000), with its WASI filetype (and, for a preopened directory, its
// guest path) — then exits. Raw WASI calls: what the module can reach, not what
// the runtime chooses to use.
@external("wasi_snapshot_preview1", "fd_fdstat_get")
declare function fd_fdstat_get(fd: u32, statOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: u32, prestatOut: usize): u16;
@external("wasi_snapshot_preview1", "fd_prestat_dir_name")
declare function fd_prestat_dir_name(fd: u32, path: usize, pathLen: u32): u16;

const scratch = memory.data(32, 8);
// fds beyond the last one granted are probed this far, so a gap does not hide one granted after it.
const PROBED_FDS: u32 = 64;

const names = process.env.keys();
for (let i = 0; i < names.length; i++) console.log("env " + names[i]);
const fds = new Array<u32>();
for (let fd: u32 = 3; fd < PROBED_FDS; fd++) fds.push(fd);
if (process.env.has("EVENTIDE_LISTEN")) {
  const entries = process.env.get("EVENTIDE_LISTEN").split(",");
  for (let i = 0; i < entries.length; i++) {
    const fd = <u32>I32.parseInt(entries[i].split("=")[0]);
    if (fd >= PROBED_FDS) fds.push(fd);
  }
}
for (let i = 0; i < fds.length; i++) {
  const fd = fds[i];
  if (fd_fdstat_get(fd, scratch) != 0) continue;
  let line = "fd " + fd.toString() + " filetype " + load<u8>(scratch).toString();
  if (fd_prestat_get(fd, scratch) == 0) {
    const len = load<u32>(scratch, 4);
    const name = new ArrayBuffer(<i32>len);
    if (fd_prestat_dir_name(fd, changetype<usize>(name), len) == 0) line += " preopen " + String.UTF8.decode(name);
  }
  console.log(line);
}
