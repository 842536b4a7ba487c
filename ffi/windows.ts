/**
 * Windows values: socket constants (ws2def.h, winsock2.h), and the mapping of Win32 errors,
 * Winsock errors and NTSTATUS codes onto Linux errno numbers.
 *
 * The iocp backend reports results as io_uring does (`-errno`, Linux numbering), so that one
 * error mapping (aio/errors.ts, zig-aio's error sets) serves every backend.
 *
 * @module
 */
import { ERRNO } from "./linux.ts";

/** Address families (ws2def.h). */
export const WIN_AF = { UNIX: 1, INET: 2, INET6: 23 } as const;
/** Socket types. Windows has no type flags: CLOEXEC and NONBLOCK are 0 (sockets are never inherited). */
export const WIN_SOCK = { STREAM: 1, DGRAM: 2, RAW: 3, SEQPACKET: 5, NONBLOCK: 0, CLOEXEC: 0 } as const;
/** IP protocols. */
export const WIN_IPPROTO = { IP: 0, TCP: 6, UDP: 17, IPV6: 41 } as const;
/** setsockopt levels. */
export const WIN_SOL = { SOCKET: 0xffff } as const;
/**
 * Socket options at `SOL.SOCKET`. Windows has no SO_REUSEPORT; its SO_REUSEADDR lets several
 * sockets bind one port, which is what REUSEPORT does on Linux, so REUSEPORT names it here.
 */
export const WIN_SO = {
  REUSEADDR: 4,
  ERROR: 0x1007,
  BROADCAST: 0x20,
  SNDBUF: 0x1001,
  RCVBUF: 0x1002,
  KEEPALIVE: 8,
  LINGER: 0x80,
  REUSEPORT: 4,
} as const;
/** send/recv flags; 0 where Windows has no such flag. */
export const WIN_MSG = {
  DONTWAIT: 0,
  OOB: 0x1,
  PEEK: 0x2,
  DONTROUTE: 0x4,
  TRUNC: 0x100,
  EOR: 0,
  WAITALL: 0x8,
  CONFIRM: 0,
  ERRQUEUE: 0,
  NOSIGNAL: 0,
  MORE: 0,
  FASTOPEN: 0,
  CMSG_CLOEXEC: 0,
  ZEROCOPY: 0,
} as const;

/** Win32 error codes the backend tests for. */
export const WIN_ERROR = {
  SUCCESS: 0,
  FILE_NOT_FOUND: 2,
  ACCESS_DENIED: 5,
  INVALID_HANDLE: 6,
  HANDLE_EOF: 38,
  INVALID_PARAMETER: 87,
  BROKEN_PIPE: 109,
  ALREADY_EXISTS: 183,
  PIPE_CONNECTED: 535,
  IO_PENDING: 997,
  WAIT_TIMEOUT: 258,
  NOT_FOUND: 1168,
  WSA_IO_PENDING: 997,
  WSAEINVAL: 10022,
  WSAEMSGSIZE: 10040,
  MORE_DATA: 234,
} as const;

/** NTSTATUS values that need more than the generic mapping. */
export const NTSTATUS = {
  SUCCESS: 0,
  BUFFER_OVERFLOW: 0x80000005,
  END_OF_FILE: 0xc0000011,
  CANCELLED: 0xc0000120,
  PIPE_BROKEN: 0xc000014b,
} as const;

const WIN32_TO_ERRNO: ReadonlyMap<number, string> = new Map<number, string>([
  [1, "EINVAL"],
  [2, "ENOENT"],
  [3, "ENOENT"],
  [4, "EMFILE"],
  [5, "EACCES"],
  [6, "EBADF"],
  [8, "ENOMEM"],
  [14, "ENOMEM"],
  [15, "ENOENT"],
  [17, "EXDEV"],
  [19, "EROFS"],
  [32, "EBUSY"],
  [33, "EBUSY"],
  [39, "ENOSPC"],
  [50, "EOPNOTSUPP"],
  [53, "ENOENT"],
  [64, "ECONNRESET"],
  [80, "EEXIST"],
  [87, "EINVAL"],
  [109, "EPIPE"],
  [111, "ENAMETOOLONG"],
  [112, "ENOSPC"],
  [121, "ETIMEDOUT"],
  [123, "EINVAL"],
  [145, "ENOTEMPTY"],
  [161, "ENOENT"],
  [183, "EEXIST"],
  [206, "ENAMETOOLONG"],
  [232, "EPIPE"],
  [233, "EPIPE"],
  [267, "ENOTDIR"],
  [995, "ECANCELED"],
  [996, "EAGAIN"],
  [1168, "ENOENT"],
  [1223, "ECANCELED"],
  [1225, "ECONNREFUSED"],
  [1229, "ENOTCONN"],
  [1231, "ENETUNREACH"],
  [1232, "EHOSTUNREACH"],
  [1236, "ECONNABORTED"],
  [1314, "EPERM"],
  [1450, "ENOMEM"],
  [1460, "ETIMEDOUT"],
  [4390, "EINVAL"], // ERROR_NOT_A_REPARSE_POINT
  [10004, "EINTR"],
  [10009, "EBADF"],
  [10013, "EACCES"],
  [10014, "EFAULT"],
  [10022, "EINVAL"],
  [10024, "EMFILE"],
  [10035, "EAGAIN"],
  [10036, "EINPROGRESS"],
  [10037, "EALREADY"],
  [10038, "ENOTSOCK"],
  [10039, "EDESTADDRREQ"],
  [10040, "EMSGSIZE"],
  [10041, "EPROTOTYPE"],
  [10042, "ENOPROTOOPT"],
  [10043, "EPROTONOSUPPORT"],
  [10044, "ESOCKTNOSUPPORT"],
  [10045, "EOPNOTSUPP"],
  [10046, "EPFNOSUPPORT"],
  [10047, "EAFNOSUPPORT"],
  [10048, "EADDRINUSE"],
  [10049, "EADDRNOTAVAIL"],
  [10050, "ENETDOWN"],
  [10051, "ENETUNREACH"],
  [10052, "ENETRESET"],
  [10053, "ECONNABORTED"],
  [10054, "ECONNRESET"],
  [10055, "ENOBUFS"],
  [10056, "EISCONN"],
  [10057, "ENOTCONN"],
  [10058, "EPIPE"], // WSAESHUTDOWN: a send after shutdown, which Linux reports as EPIPE
  [10060, "ETIMEDOUT"],
  [10061, "ECONNREFUSED"],
  [10064, "EHOSTDOWN"],
  [10065, "EHOSTUNREACH"],
]);

const NTSTATUS_TO_ERRNO: ReadonlyMap<number, string> = new Map<number, string>([
  [0xc0000008, "EBADF"], // INVALID_HANDLE
  [0xc000000d, "EINVAL"], // INVALID_PARAMETER
  [0xc0000022, "EACCES"], // ACCESS_DENIED
  [0xc0000034, "ENOENT"], // OBJECT_NAME_NOT_FOUND
  [0xc000007f, "ENOSPC"], // DISK_FULL
  [0xc00000b0, "EPIPE"], // PIPE_DISCONNECTED
  [0xc00000b5, "ETIMEDOUT"], // IO_TIMEOUT
  [0xc0000120, "ECANCELED"], // CANCELLED
  [0x8000000a, "ECANCELED"], // HANDLES_CLOSED: the handle was closed under the operation
  [0xc000013b, "ECONNABORTED"], // LOCAL_DISCONNECT
  [0xc000013c, "ECONNRESET"], // REMOTE_DISCONNECT
  [0xc000014b, "EPIPE"], // PIPE_BROKEN
  [0xc000020d, "ECONNRESET"], // CONNECTION_RESET
  [0xc000023c, "ENETUNREACH"], // NETWORK_UNREACHABLE
  [0xc000023d, "EHOSTUNREACH"], // HOST_UNREACHABLE
  [0xc0000236, "ECONNREFUSED"], // CONNECTION_REFUSED
  [0xc0000241, "ECONNABORTED"], // CONNECTION_ABORTED
  [0xc000009a, "ENOMEM"], // INSUFFICIENT_RESOURCES
  [0xc0000044, "EDQUOT"], // QUOTA_EXCEEDED
  [0xc0000010, "EOPNOTSUPP"], // INVALID_DEVICE_REQUEST
  [0xc00000bb, "EOPNOTSUPP"], // NOT_SUPPORTED
  [0xc0000043, "EBUSY"], // SHARING_VIOLATION
  [0xc0000035, "EEXIST"], // OBJECT_NAME_COLLISION
  [0xc0000101, "ENOTEMPTY"], // DIRECTORY_NOT_EMPTY
  [0xc0000103, "ENOTDIR"], // NOT_A_DIRECTORY
  [0xc00000ba, "EISDIR"], // FILE_IS_A_DIRECTORY
]);

/**
 * A Win32 or Winsock error as a Linux errno number; unknown codes become EIO.
 *
 * @example
 * ```ts
 * import { errnoFromWin32 } from "./windows.ts";
 * console.log(errnoFromWin32(2)); // 2 (ENOENT)
 * ```
 */
export function errnoFromWin32(code: number): number {
  return ERRNO[WIN32_TO_ERRNO.get(code) ?? "EIO"];
}

/**
 * An NTSTATUS (the status an I/O completion carries) as a Linux errno number; codes not listed
 * go through `toWin32` (ntdll's RtlNtStatusToDosError) and then {@linkcode errnoFromWin32}.
 *
 * @example
 * ```ts
 * import { errnoFromNtstatus } from "./windows.ts";
 * console.log(errnoFromNtstatus(0xc0000120, () => 0)); // 125 (ECANCELED)
 * ```
 */
export function errnoFromNtstatus(status: number, toWin32: (status: number) => number): number {
  const name = NTSTATUS_TO_ERRNO.get(status >>> 0);
  return name !== undefined ? ERRNO[name] : errnoFromWin32(toWin32(status | 0));
}

/**
 * A NUL-terminated UTF-16LE copy of `s` for the W functions, off the JS heap; `undefined` when
 * `s` holds a NUL before its end.
 *
 * @example
 * ```ts
 * import { wide } from "./windows.ts";
 * console.log(wide("ab")?.byteLength); // 6
 * ```
 */
export function wide(s: string): Uint8Array | undefined {
  if (s.includes("\0")) return undefined;
  const units = new Uint16Array(new ArrayBuffer((s.length + 1) * 2));
  for (let i = 0; i < s.length; i++) units[i] = s.charCodeAt(i);
  return new Uint8Array(units.buffer);
}
