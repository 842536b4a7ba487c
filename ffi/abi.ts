/**
 * Per-OS C ABI tables for the posix backend: the errno accessor, flag values and struct layouts
 * that differ between Linux, macOS and FreeBSD.
 *
 * Linux runs here, and `tests/abi_test.ts` compiles a C program against this machine's headers to
 * check the Linux table for the current architecture. The macOS and FreeBSD tables cannot be
 * checked by a compiler here; each value was read from the system headers named in the comments
 * (xnu: `bsd/sys/*.h`; FreeBSD: `sys/sys/*.h`), and the tests check them against those readings
 * and for internal consistency.
 *
 * @module
 */
import { AF, ERRNO, MSG, O, oDirectory, POLL, SO, SOCK, SOL } from "./linux.ts";

/** Where a struct's fields are, in bytes, and its size. */
export interface Layout {
  /** `sizeof`. */
  size: number;
  /** `offsetof` per field. */
  [field: string]: number;
}

/** One OS's (and architecture's) table. */
export interface Abi {
  /** The function returning the calling thread's `int *errno`. */
  errnoSymbol: string;
  /** errno values by name; `null` where the OS lacks one. */
  errno: Readonly<Record<string, number | null>>;
  /** `open(2)` flags. */
  O: Readonly<Record<string, number>>;
  /** `send`/`recv` flags; `null` where the OS lacks the flag. */
  MSG: Readonly<Record<string, number | null>>;
  /** Address families. */
  AF: Readonly<Record<string, number>>;
  /** Socket type flags; `null` where `socket(2)` does not take them. */
  SOCK: Readonly<Record<string, number | null>>;
  /** Socket option levels and names. */
  SOL_SOCKET: number;
  /** Socket options. */
  SO: Readonly<Record<string, number | null>>;
  /** `poll(2)` events. */
  POLL: Readonly<Record<string, number>>;
  /** `fcntl` commands. */
  F: Readonly<Record<string, number>>;
  /** `struct sockaddr_in`: BSDs start with a `sin_len` byte and a one-byte family. */
  sockaddrIn: Layout & { hasLen: number; familySize: number };
  /** `struct msghdr`. */
  msghdr: Layout;
  /** `struct iovec`. */
  iovec: Layout;
  /** `struct pollfd`. */
  pollfd: Layout;
  /** The readiness API's event record: `struct epoll_event` on Linux, `struct kevent` elsewhere. */
  readinessEvent: Layout;
}

const POLL_COMMON = { IN: 0x1, PRI: 0x2, OUT: 0x4, ERR: 0x8, HUP: 0x10, NVAL: 0x20 } as const;
const IOVEC: Layout = { size: 16, base: 0, len: 8 };
const POLLFD: Layout = { size: 8, fd: 0, events: 4, revents: 6 };

const ERRNO_NAMES = [
  "EPERM",
  "ENOENT",
  "EINTR",
  "EBADF",
  "ECHILD",
  "EAGAIN",
  "EEXIST",
  "EINVAL",
  "EPIPE",
  "ENOSYS",
  "ETIME",
  "EOPNOTSUPP",
  "ECONNRESET",
  "ETIMEDOUT",
  "EALREADY",
  "EINPROGRESS",
  "ECANCELED",
] as const;

/**
 * Linux, glibc, for `arch` (`x86_64` or `aarch64`): the constants the backends use
 * (`ffi/linux.ts`), gathered, so that checking this table checks them.
 */
export function linuxAbi(arch: string): Abi {
  return {
    errnoSymbol: "__errno_location",
    errno: Object.fromEntries(ERRNO_NAMES.map((n) => [n, ERRNO[n]])),
    O: { ...O, DIRECTORY: oDirectory(arch) },
    MSG,
    AF,
    SOCK,
    SOL_SOCKET: SOL.SOCKET,
    SO: { ...SO, NOSIGPIPE: null },
    POLL,
    F: { GETFL: 3, SETFL: 4 },
    sockaddrIn: { size: 16, hasLen: 0, familySize: 2, family: 0, port: 2, addr: 4 },
    // size_t msg_iovlen and msg_controllen.
    msghdr: { size: 56, name: 0, namelen: 8, iov: 16, iovlen: 24, control: 32, controllen: 40, flags: 48 },
    iovec: IOVEC,
    pollfd: POLLFD,
    // <sys/epoll.h>: __EPOLL_PACKED on x86_64 only.
    readinessEvent: arch === "x86_64" ? { size: 12, events: 0, data: 4 } : { size: 16, events: 0, data: 8 },
  };
}

// What 4.4BSD left to both: sockaddr_in with sin_len, an int msg_iovlen, SOL_SOCKET 0xffff.
const BSD_COMMON = {
  errnoSymbol: "__error",
  SOL_SOCKET: 0xffff,
  POLL: POLL_COMMON,
  F: { GETFL: 3, SETFL: 4 },
  sockaddrIn: { size: 16, hasLen: 1, familySize: 1, family: 1, port: 2, addr: 4 },
  // int msg_iovlen, socklen_t msg_controllen.
  msghdr: { size: 48, name: 0, namelen: 8, iov: 16, iovlen: 24, control: 32, controllen: 40, flags: 44 },
  iovec: IOVEC,
  pollfd: POLLFD,
} as const;

/**
 * macOS (xnu), 64-bit. Values read from xnu (tag xnu-11417.101.15): `bsd/sys/errno.h`
 * (EOPNOTSUPP is 102 in UNIX03 builds, the default), `bsd/sys/fcntl.h`, `bsd/sys/socket.h`
 * (MSG_NOSIGNAL 0x80000 since macOS 11; no SOCK_CLOEXEC, SOCK_NONBLOCK or MSG_CMSG_CLOEXEC),
 * `bsd/sys/event.h` (struct kevent under `#pragma pack(4)`: 32 bytes) and `bsd/sys/poll.h`.
 */
export const DARWIN: Abi = {
  ...BSD_COMMON,
  errno: {
    EPERM: 1,
    ENOENT: 2,
    EINTR: 4,
    EBADF: 9,
    ECHILD: 10,
    EAGAIN: 35,
    EEXIST: 17,
    EINVAL: 22,
    EPIPE: 32,
    ENOSYS: 78,
    ETIME: 101,
    EOPNOTSUPP: 102,
    ECONNRESET: 54,
    ETIMEDOUT: 60,
    EALREADY: 37,
    EINPROGRESS: 36,
    ECANCELED: 89,
  },
  O: {
    RDONLY: 0,
    WRONLY: 1,
    RDWR: 2,
    CREAT: 0x200,
    EXCL: 0x800,
    NOCTTY: 0x20000,
    TRUNC: 0x400,
    APPEND: 0x8,
    NONBLOCK: 0x4,
    DIRECTORY: 0x100000,
    CLOEXEC: 0x1000000,
  },
  MSG: {
    OOB: 0x1,
    PEEK: 0x2,
    DONTROUTE: 0x4,
    TRUNC: 0x10,
    DONTWAIT: 0x80,
    EOR: 0x8,
    WAITALL: 0x40,
    NOSIGNAL: 0x80000,
    CMSG_CLOEXEC: null,
  },
  AF: { UNIX: 1, INET: 2, INET6: 30 },
  SOCK: { STREAM: 1, DGRAM: 2, NONBLOCK: null, CLOEXEC: null },
  SO: { REUSEADDR: 0x4, ERROR: 0x1007, NOSIGPIPE: 0x1022 },
  // struct kevent { uintptr_t ident; int16_t filter; uint16_t flags; uint32_t fflags; intptr_t data; void *udata; }
  readinessEvent: { size: 32, ident: 0, filter: 8, flags: 10, fflags: 12, data: 16, udata: 24 },
};

/**
 * FreeBSD 12 and later, 64-bit. Values read from the installed headers `sys/errno.h` (no ETIME),
 * `sys/fcntl.h`, `sys/socket.h`, `sys/event.h` (struct kevent with `ext[4]`: 64 bytes) and
 * `sys/poll.h` (as copied verbatim into Zig's `lib/libc/include/generic-freebsd`, checked against
 * two freebsd-src trees for errno, poll and events).
 */
export const FREEBSD: Abi = {
  ...BSD_COMMON,
  errno: {
    EPERM: 1,
    ENOENT: 2,
    EINTR: 4,
    EBADF: 9,
    ECHILD: 10,
    EAGAIN: 35,
    EEXIST: 17,
    EINVAL: 22,
    EPIPE: 32,
    ENOSYS: 78,
    ETIME: null, // FreeBSD has none (errnos 1..97, ELAST 97)
    EOPNOTSUPP: 45,
    ECONNRESET: 54,
    ETIMEDOUT: 60,
    EALREADY: 37,
    EINPROGRESS: 36,
    ECANCELED: 85,
  },
  O: {
    RDONLY: 0,
    WRONLY: 1,
    RDWR: 2,
    CREAT: 0x200,
    EXCL: 0x800,
    NOCTTY: 0x8000,
    TRUNC: 0x400,
    APPEND: 0x8,
    NONBLOCK: 0x4,
    DIRECTORY: 0x20000,
    CLOEXEC: 0x100000,
  },
  MSG: {
    OOB: 0x1,
    PEEK: 0x2,
    DONTROUTE: 0x4,
    TRUNC: 0x10,
    DONTWAIT: 0x80,
    EOR: 0x8,
    WAITALL: 0x40,
    NOSIGNAL: 0x20000,
    CMSG_CLOEXEC: 0x40000,
  },
  AF: { UNIX: 1, INET: 2, INET6: 28 },
  SOCK: { STREAM: 1, DGRAM: 2, NONBLOCK: 0x20000000, CLOEXEC: 0x10000000 },
  SO: { REUSEADDR: 0x4, ERROR: 0x1007, NOSIGPIPE: 0x800 },
  // struct kevent { uintptr_t ident; short filter; u_short flags; u_int fflags; int64_t data;
  //                 void *udata; uint64_t ext[4]; }
  readinessEvent: { size: 64, ident: 0, filter: 8, flags: 10, fflags: 12, data: 16, udata: 24, ext: 32 },
};

/**
 * The table for an OS and architecture (default: this process's).
 *
 * @example
 * ```ts
 * import { abiFor } from "./abi.ts";
 * console.log(abiFor("darwin").errnoSymbol); // "__error"
 * ```
 */
export function abiFor(os: string = Deno.build.os, arch: string = Deno.build.arch): Abi {
  switch (os) {
    case "linux":
      return linuxAbi(arch);
    case "darwin":
      return DARWIN;
    case "freebsd":
      return FREEBSD;
    default:
      throw new Error(`no ABI table for ${os}`);
  }
}
