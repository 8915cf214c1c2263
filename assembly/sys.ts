// The runtime's one door to the operating system (libuv's uv__io_poll and friends, one backend per platform):
// sockets, clocks, stderr, exit and the poll set. net, loop and the rest import this file only; the build picks
// the backend — WASI preview1 here; a WASI 0.2 component build puts its own backend behind the same names.
export * from "./sys/errno";
export * from "./sys/files";
export * from "./sys/preview1";
