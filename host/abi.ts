// The guest ABI's numbers the host shares with the runtime: WASI preview1's errno values, in their numeric order
// (witx `errno`), named as POSIX names them — the same table the guest names its errors from
// (assembly/sys/errno.ts). The shim and the filesystem sandbox take their errno numbers from here.
const ERRNO_NAMES = [
  "SUCCESS", "2BIG", "ACCES", "ADDRINUSE", "ADDRNOTAVAIL", "AFNOSUPPORT", "AGAIN", "ALREADY", "BADF", "BADMSG", "BUSY",
  "CANCELED", "CHILD", "CONNABORTED", "CONNREFUSED", "CONNRESET", "DEADLK", "DESTADDRREQ", "DOM", "DQUOT", "EXIST",
  "FAULT", "FBIG", "HOSTUNREACH", "IDRM", "ILSEQ", "INPROGRESS", "INTR", "INVAL", "IO", "ISCONN", "ISDIR", "LOOP",
  "MFILE", "MLINK", "MSGSIZE", "MULTIHOP", "NAMETOOLONG", "NETDOWN", "NETRESET", "NETUNREACH", "NFILE", "NOBUFS",
  "NODEV", "NOENT", "NOEXEC", "NOLCK", "NOLINK", "NOMEM", "NOMSG", "NOPROTOOPT", "NOSPC", "NOSYS", "NOTCONN", "NOTDIR",
  "NOTEMPTY", "NOTRECOVERABLE", "NOTSOCK", "NOTSUP", "NOTTY", "NXIO", "OVERFLOW", "OWNERDEAD", "PERM", "PIPE", "PROTO",
  "PROTONOSUPPORT", "PROTOTYPE", "RANGE", "ROFS", "SPIPE", "SRCH", "STALE", "TIMEDOUT", "TXTBSY", "XDEV", "NOTCAPABLE",
] as const;

export type ErrnoName = (typeof ERRNO_NAMES)[number];

/** WASI errno by name without its "E": `Errno.AGAIN` is 6, `Errno.NOTCAPABLE` 76. */
export const Errno = Object.freeze(Object.fromEntries(ERRNO_NAMES.map((name, i) => [name, i]))) as { readonly [K in ErrnoName]: number };

/**
 * The WASI errno of a Node error code among `known` (e.g. "ECONNRESET" → 15); `fallback` for any other code.
 * Each caller names the codes its calls can meet, so an unexpected one reads as its fallback (EIO).
 */
export function errnoFromCode(code: string | undefined, known: ReadonlySet<string>, fallback: number): number {
  return code !== undefined && known.has(code) ? Errno[code.slice(1) as ErrnoName] : fallback;
}
