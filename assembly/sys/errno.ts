// The runtime's error vocabulary, whatever the backend: WASI preview1's errno numbers (the preview2 backend maps
// its error codes onto them), named as POSIX names them, which is what Node puts in `err.code`.

export namespace Errno {
  export const SUCCESS: u16 = 0;
  export const AGAIN: u16 = 6;
  export const BADF: u16 = 8;
  export const CONNABORTED: u16 = 13;
  export const CONNREFUSED: u16 = 14;
  export const CONNRESET: u16 = 15;
  export const INTR: u16 = 27;
  export const INVAL: u16 = 28;
  export const IO: u16 = 29;
  export const MFILE: u16 = 33;
  export const NFILE: u16 = 41;
  export const NOBUFS: u16 = 42;
  export const NOMEM: u16 = 48;
  export const NOTCONN: u16 = 53;
  export const NOTSUP: u16 = 58;
  export const NOTSOCK: u16 = 57;
  export const PERM: u16 = 63;
  export const PIPE: u16 = 64;
  export const PROTO: u16 = 65;
  export const TIMEDOUT: u16 = 73;
}

// The names of WASI's errno values, in their numeric order (wasi_snapshot_preview1 `errno`, witx): errno n is
// ERRNO_NAMES[n], as Node puts the POSIX name in `err.code`.
const ERRNO_NAMES: StaticArray<string> = [
  "SUCCESS", "E2BIG", "EACCES", "EADDRINUSE", "EADDRNOTAVAIL", "EAFNOSUPPORT", "EAGAIN", "EALREADY", "EBADF",
  "EBADMSG", "EBUSY", "ECANCELED", "ECHILD", "ECONNABORTED", "ECONNREFUSED", "ECONNRESET", "EDEADLK", "EDESTADDRREQ",
  "EDOM", "EDQUOT", "EEXIST", "EFAULT", "EFBIG", "EHOSTUNREACH", "EIDRM", "EILSEQ", "EINPROGRESS", "EINTR", "EINVAL",
  "EIO", "EISCONN", "EISDIR", "ELOOP", "EMFILE", "EMLINK", "EMSGSIZE", "EMULTIHOP", "ENAMETOOLONG", "ENETDOWN",
  "ENETRESET", "ENETUNREACH", "ENFILE", "ENOBUFS", "ENODEV", "ENOENT", "ENOEXEC", "ENOLCK", "ENOLINK", "ENOMEM",
  "ENOMSG", "ENOPROTOOPT", "ENOSPC", "ENOSYS", "ENOTCONN", "ENOTDIR", "ENOTEMPTY", "ENOTRECOVERABLE", "ENOTSOCK",
  "ENOTSUP", "ENOTTY", "ENXIO", "EOVERFLOW", "EOWNERDEAD", "EPERM", "EPIPE", "EPROTO", "EPROTONOSUPPORT",
  "EPROTOTYPE", "ERANGE", "EROFS", "ESPIPE", "ESRCH", "ESTALE", "ETIMEDOUT", "ETXTBSY", "EXDEV", "ENOTCAPABLE"
];

/** POSIX-style name of a WASI errno (e.g. 33 → "EMFILE"); "WASI_ERRNO_<n>" beyond the table. */
export function errnoName(errno: u16): string {
  return <i32>errno < ERRNO_NAMES.length ? unchecked(ERRNO_NAMES[errno]) : "WASI_ERRNO_" + errno.toString();
}
