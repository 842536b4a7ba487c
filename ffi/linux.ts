/**
 * Linux constants shared by the io_uring backend and the public helpers.
 *
 * Values are from the kernel's uapi headers (`linux/io_uring.h`, `asm-generic/errno*.h`,
 * `linux/socket.h`, `asm-generic/fcntl.h`); they are ABI and never change for a given
 * architecture. x86_64 and aarch64 share every value listed here.
 *
 * @module
 */

/** io_uring opcodes (`enum io_uring_op`). */
export const IORING_OP = {
  NOP: 0,
  READV: 1,
  WRITEV: 2,
  FSYNC: 3,
  POLL_ADD: 6,
  SENDMSG: 9,
  RECVMSG: 10,
  TIMEOUT: 11,
  ACCEPT: 13,
  ASYNC_CANCEL: 14,
  LINK_TIMEOUT: 15,
  CONNECT: 16,
  OPENAT: 18,
  CLOSE: 19,
  READ: 22,
  WRITE: 23,
  SEND: 26,
  RECV: 27,
  SPLICE: 30,
  SHUTDOWN: 34,
  RENAMEAT: 35,
  UNLINKAT: 36,
  MKDIRAT: 37,
  SYMLINKAT: 38,
  SOCKET: 45,
  WAITID: 50,
  BIND: 56,
  LISTEN: 57,
} as const;

/** SQE flags. */
export const IOSQE_IO_LINK = 1 << 2;
/** SQE flags. */
export const IOSQE_IO_HARDLINK = 1 << 3;
/** SQE flags. */
export const IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

/** Setup flags. */
export const IORING_SETUP_CLAMP = 1 << 4;
/** Setup flags. */
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
/** Setup flags. */
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
/** Setup flags. */
export const IORING_SETUP_CQSIZE = 1 << 3;

/** Features that the backend relies on (zig-aio requires the same set). */
export const IORING_FEAT_NODROP = 1 << 1;
/** Features. */
export const IORING_FEAT_SUBMIT_STABLE = 1 << 2;
/** Features. */
export const IORING_FEAT_RW_CUR_POS = 1 << 3;

/** SQ ring flags. */
export const IORING_SQ_CQ_OVERFLOW = 1 << 1;
/** SQ ring flags. */
export const IORING_SQ_TASKRUN = 1 << 2;
/** io_uring_enter flags. */
export const IORING_ENTER_GETEVENTS = 1 << 0;
/** Timeout flags. */
export const IORING_TIMEOUT_ETIME_SUCCESS = 1 << 5;
/** Cancel flags. */
export const IORING_ASYNC_CANCEL_ALL = 1 << 0;
/** Cancel flags. */
export const IORING_ASYNC_CANCEL_FD = 1 << 1;
/** `io_uring_probe_op.flags`. */
export const IO_URING_OP_SUPPORTED = 1;

/** `AT_FDCWD`: a directory fd meaning "the current working directory". */
export const AT_FDCWD = -100;
/** `AT_REMOVEDIR` for unlinkat. */
export const AT_REMOVEDIR = 0x200;
/** `RENAME_NOREPLACE` for renameat2. */
export const RENAME_NOREPLACE = 1;

/** O_DIRECTORY for `arch`: aarch64's <asm/fcntl.h> moves it (and O_LARGEFILE, below). */
export function oDirectory(arch: string): number {
  return arch === "aarch64" ? 0o40000 : 0o200000;
}
/** open(2) flags (tests/abi_test.ts checks them against this machine's headers). */
export const O: Readonly<
  Record<
    | "RDONLY"
    | "WRONLY"
    | "RDWR"
    | "CREAT"
    | "EXCL"
    | "NOCTTY"
    | "TRUNC"
    | "APPEND"
    | "NONBLOCK"
    | "DIRECTORY"
    | "CLOEXEC",
    number
  >
> = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DIRECTORY: oDirectory(Deno.build.arch),
  CLOEXEC: 0o2000000,
};
/** O_LARGEFILE differs between x86_64 and aarch64. */
export const O_LARGEFILE: number = Deno.build.arch === "aarch64" ? 0o400000 : 0o100000;

/** Address families. */
export const AF = { UNIX: 1, INET: 2, INET6: 10 } as const;
/** Socket types and socket(2) flags. */
export const SOCK = {
  STREAM: 1,
  DGRAM: 2,
  RAW: 3,
  SEQPACKET: 5,
  NONBLOCK: 0o4000,
  CLOEXEC: 0o2000000,
} as const;
/** IP protocols. */
export const IPPROTO = { IP: 0, TCP: 6, UDP: 17, IPV6: 41 } as const;
/** setsockopt levels. */
export const SOL = { SOCKET: 1 } as const;
/** Socket options at `SOL.SOCKET`. */
export const SO = {
  REUSEADDR: 2,
  ERROR: 4,
  BROADCAST: 6,
  SNDBUF: 7,
  RCVBUF: 8,
  KEEPALIVE: 9,
  LINGER: 13,
  REUSEPORT: 15,
} as const;
/** send/recv flags. */
export const MSG = {
  DONTWAIT: 0x40,
  OOB: 0x1,
  PEEK: 0x2,
  DONTROUTE: 0x4,
  TRUNC: 0x20,
  EOR: 0x80,
  WAITALL: 0x100,
  CONFIRM: 0x800,
  ERRQUEUE: 0x2000,
  NOSIGNAL: 0x4000,
  MORE: 0x8000,
  FASTOPEN: 0x20000000,
  CMSG_CLOEXEC: 0x40000000,
  ZEROCOPY: 0x4000000,
} as const;
/** shutdown(2) `how`. */
export const SHUT = { RD: 0, WR: 1, RDWR: 2 } as const;
/** poll(2) events. */
export const POLL = { IN: 0x1, PRI: 0x2, OUT: 0x4, ERR: 0x8, HUP: 0x10, NVAL: 0x20 } as const;
/** splice(2) flags. */
export const SPLICE_F = { MOVE: 1, NONBLOCK: 2, MORE: 4 } as const;
/** eventfd(2) flags. */
export const EFD = { SEMAPHORE: 1, NONBLOCK: 0o4000, CLOEXEC: 0o2000000 } as const;
/** waitid(2). */
export const P_PID = 1;
/** waitid(2). */
export const P_PIDFD = 3;
/** waitid(2) options. */
export const WEXITED = 4;
/** waitid(2) options. */
export const WNOHANG = 1;
/** waitid(2) options: leave the child waitable. */
export const WNOWAIT = 0x0100_0000;
/** `si_code` values for SIGCHLD. */
export const CLD = { EXITED: 1, KILLED: 2, DUMPED: 3, TRAPPED: 4, STOPPED: 5, CONTINUED: 6 } as const;
/** preadv2 flag. */
export const RWF_NOWAIT = 0x8;
/** syscall numbers used through `syscall(2)`; identical on x86_64 and aarch64. */
export const SYS_pidfd_open = 434;

/** Linux errno names by number (asm-generic; x86_64 and aarch64 agree). */
export const ERRNO_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  const list: [number, string][] = [
    [1, "EPERM"],
    [2, "ENOENT"],
    [3, "ESRCH"],
    [4, "EINTR"],
    [5, "EIO"],
    [6, "ENXIO"],
    [7, "E2BIG"],
    [8, "ENOEXEC"],
    [9, "EBADF"],
    [10, "ECHILD"],
    [11, "EAGAIN"],
    [12, "ENOMEM"],
    [13, "EACCES"],
    [14, "EFAULT"],
    [16, "EBUSY"],
    [17, "EEXIST"],
    [18, "EXDEV"],
    [19, "ENODEV"],
    [20, "ENOTDIR"],
    [21, "EISDIR"],
    [22, "EINVAL"],
    [23, "ENFILE"],
    [24, "EMFILE"],
    [25, "ENOTTY"],
    [26, "ETXTBSY"],
    [27, "EFBIG"],
    [28, "ENOSPC"],
    [29, "ESPIPE"],
    [30, "EROFS"],
    [31, "EMLINK"],
    [32, "EPIPE"],
    [36, "ENAMETOOLONG"],
    [38, "ENOSYS"],
    [39, "ENOTEMPTY"],
    [40, "ELOOP"],
    [62, "ETIME"],
    [75, "EOVERFLOW"],
    [84, "EILSEQ"],
    [88, "ENOTSOCK"],
    [89, "EDESTADDRREQ"],
    [90, "EMSGSIZE"],
    [91, "EPROTOTYPE"],
    [92, "ENOPROTOOPT"],
    [93, "EPROTONOSUPPORT"],
    [95, "EOPNOTSUPP"],
    [97, "EAFNOSUPPORT"],
    [98, "EADDRINUSE"],
    [99, "EADDRNOTAVAIL"],
    [100, "ENETDOWN"],
    [101, "ENETUNREACH"],
    [103, "ECONNABORTED"],
    [104, "ECONNRESET"],
    [105, "ENOBUFS"],
    [106, "EISCONN"],
    [107, "ENOTCONN"],
    [110, "ETIMEDOUT"],
    [111, "ECONNREFUSED"],
    [113, "EHOSTUNREACH"],
    [114, "EALREADY"],
    [115, "EINPROGRESS"],
    [122, "EDQUOT"],
    [125, "ECANCELED"],
    [71, "EPROTO"],
  ];
  for (const [n, name] of list) names[n] = name;
  return names;
})();

/** Errno numbers by name, the inverse of {@linkcode ERRNO_NAMES}. */
export const ERRNO: Readonly<Record<string, number>> = Object.fromEntries(
  ERRNO_NAMES.flatMap((name, n) => (name ? [[name, n]] : [])),
);

/** The name of an errno number, or `E<number>` for one the table does not list. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}
