/**
 * Typed errors. Operation failures carry zig-aio's error name (`code`), the errno it came from
 * and the operation kind; errno values are mapped per operation the way zig-aio's error sets do
 * (`src/aio/IoUring.zig`, `uring_handle_completion`).
 *
 * @module
 */
import { errnoName } from "../ffi/linux.ts";
import type { OperationKind } from "./ops.ts";

/**
 * The base class of every error this library throws or stores.
 *
 * @example
 * ```ts
 * import { AioError } from "./errors.ts";
 * try { throw new AioError("x", "Unexpected"); } catch (e) { console.log(e instanceof AioError); }
 * ```
 */
export class AioError extends Error {
  /** zig-aio's error name, e.g. `FileNotFound`, `Canceled`, `SubmissionQueueFull`. */
  readonly code: string;
  /** The errno name behind the error (`ENOENT`), when the kernel gave one. */
  readonly errno: string | undefined;
  /** The operation kind the error belongs to, when there is one. */
  readonly op: OperationKind | undefined;
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { AioError } from "./errors.ts";
   * console.log(new AioError("boom", "Unexpected", { errno: "EIO", op: "read" }).errno);
   * ```
   */
  constructor(
    message: string,
    code: string,
    options: { errno?: string; op?: OperationKind; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AioError";
    this.code = code;
    this.errno = options.errno;
    this.op = options.op;
  }
}

/**
 * An operation's failure, as stored in its `outError`. `single` throws it.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const op = aio.openAt({ dir: aio.cwd, path: "/nonexistent/x" });
 * await aio.complete([op]);
 * console.log(op.outError?.code); // "FileNotFound"
 * ```
 */
export class OperationError extends AioError {
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { OperationError } from "./errors.ts";
   * console.log(new OperationError("read", "Canceled", "ECANCELED").message);
   * ```
   */
  constructor(op: OperationKind, code: string, errno?: string) {
    super(`${op}: ${code}${errno ? ` (${errno})` : ""}`, code, { errno, op });
    this.name = "OperationError";
  }
}

/**
 * Thrown by `multi` when at least one operation failed; each operation's `outError` says which.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * try {
 *   await aio.multi([aio.openAt({ dir: aio.cwd, path: "/nonexistent/x" })]);
 * } catch (e) {
 *   if (e instanceof aio.SomeOperationFailedError) console.log(e.numErrors);
 * }
 * ```
 */
export class SomeOperationFailedError extends AioError {
  /** How many operations failed. */
  readonly numErrors: number;
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { SomeOperationFailedError } from "./errors.ts";
   * console.log(new SomeOperationFailedError(2).numErrors);
   * ```
   */
  constructor(numErrors: number) {
    super(`${numErrors} operation(s) failed`, "SomeOperationFailed");
    this.name = "SomeOperationFailedError";
    this.numErrors = numErrors;
  }
}

/**
 * Bad input, caught before anything reaches the kernel. Nothing of the call was queued.
 *
 * Codes: `InvalidFd`, `BufferTooShort`, `BufferTooLong`, `InvalidBuffer`, `DetachedBuffer`, `PathContainsNul`,
 * `OffsetOutOfRange`, `InvalidArgument`, `LinkTimeoutNotLinked`, `LastOperationLinked`,
 * `OperationInFlight`, `DuplicateOperation`, `EmptyBatch`.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * try { aio.read({ file: -1, buffer: new Uint8Array(1) }); } catch (e) {
 *   if (e instanceof aio.InvalidOperationError) console.log(e.code); // "InvalidFd"
 * }
 * ```
 */
export class InvalidOperationError extends AioError {
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { InvalidOperationError } from "./errors.ts";
   * console.log(new InvalidOperationError("read", "InvalidFd", "file must be >= 0").code);
   * ```
   */
  constructor(op: OperationKind | undefined, code: string, detail: string) {
    super(`${op ? `${op}: ` : ""}${code}: ${detail}`, code, { op });
    this.name = "InvalidOperationError";
  }
}

/**
 * The queue has no room: more operations than its capacity are in flight, or it is closed; or
 * one of the queue's own arguments is bad (a size, a mode, a handler, a signal, an id).
 * Codes: `SubmissionQueueFull` (zig-aio's `OutOfMemory` from `Dynamic.queue`), `Closed`,
 * `InvalidArgument`.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * using d = new aio.Dynamic({ capacity: 1 });
 * d.queue(aio.timeout({ ns: 1e6 }));
 * try { d.queue(aio.nop()); } catch (e) { console.log((e as aio.QueueError).code); }
 * d.completeAll();
 * ```
 */
export class QueueError extends AioError {
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { QueueError } from "./errors.ts";
   * console.log(new QueueError("Closed", "closed").code);
   * ```
   */
  constructor(code: string, detail: string) {
    super(`${code}: ${detail}`, code);
    this.name = "QueueError";
  }
}

/**
 * A backend could not be started: liburing missing, io_uring refused by seccomp (EPERM),
 * absent (ENOSYS), too old (EINVAL or missing features).
 *
 * @example
 * ```ts
 * import { BackendError } from "./errors.ts";
 * console.log(new BackendError("io_uring", "PermissionDenied", "EPERM", "blocked").code);
 * ```
 */
export class BackendError extends AioError {
  /** The backend that failed. */
  readonly backend: string;
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { BackendError } from "./errors.ts";
   * console.log(new BackendError("io_uring", "SystemOutdated", undefined, "old").backend);
   * ```
   */
  constructor(backend: string, code: string, errno: string | undefined, detail: string, cause?: unknown) {
    super(`${backend}: ${code}${errno ? ` (${errno})` : ""}: ${detail}`, code, { errno, cause });
    this.name = "BackendError";
    this.backend = backend;
  }
}

type Table = Readonly<Record<string, string>>;

// Where zig-aio calls an errno `unreachable` (a programming error in Zig), we still have to say
// something: these names are used for those, for every operation.
const FALLBACK: Table = {
  ECANCELED: "Canceled",
  EOPNOTSUPP: "OperationNotSupported",
  EBADF: "FileDescriptorInvalid",
  ENOTSOCK: "FileDescriptorNotASocket",
  EINVAL: "InvalidArgument",
  EFAULT: "BadAddress",
  EAGAIN: "WouldBlock",
  EINTR: "Interrupted",
};

const READ: Table = {
  EBADF: "NotOpenForReading",
  // iocp: a read of a pipe's write end (ERROR_ACCESS_DENIED); Linux says EBADF for it.
  EACCES: "AccessDenied",
  EIO: "InputOutput",
  EPERM: "AccessDenied",
  EPIPE: "BrokenPipe",
  ENOBUFS: "SystemResources",
  ENOMEM: "SystemResources",
  ENOTCONN: "SocketNotConnected",
  ECONNRESET: "ConnectionResetByPeer",
  ETIMEDOUT: "ConnectionTimedOut",
  EISDIR: "IsDir",
};
const WRITE: Table = {
  EDQUOT: "DiskQuota",
  EFBIG: "FileTooBig",
  EBADF: "NotOpenForWriting",
  EACCES: "AccessDenied",
  EIO: "InputOutput",
  ENOSPC: "NoSpaceLeft",
  EPERM: "AccessDenied",
  EPIPE: "BrokenPipe",
  ENOBUFS: "SystemResources",
  ENOMEM: "SystemResources",
  ECONNRESET: "ConnectionResetByPeer",
};
const RECV: Table = {
  ENOTCONN: "SocketNotConnected",
  ENOMEM: "SystemResources",
  ECONNREFUSED: "ConnectionRefused",
  ECONNRESET: "ConnectionResetByPeer",
  ETIMEDOUT: "ConnectionTimedOut",
};
const SEND: Table = {
  EACCES: "AccessDenied",
  EALREADY: "FastOpenAlreadyInProgress",
  ECONNRESET: "ConnectionResetByPeer",
  EMSGSIZE: "MessageTooBig",
  ENOBUFS: "SystemResources",
  ENOMEM: "SystemResources",
  EPIPE: "BrokenPipe",
  EHOSTUNREACH: "NetworkUnreachable",
  ENETUNREACH: "NetworkUnreachable",
  ENETDOWN: "NetworkSubsystemFailed",
  ENOTCONN: "SocketNotConnected",
};
const PATH: Table = {
  EACCES: "AccessDenied",
  EPERM: "AccessDenied",
  ELOOP: "SymLinkLoop",
  ENAMETOOLONG: "NameTooLong",
  ENOENT: "FileNotFound",
  ENOTDIR: "NotDir",
  ENOMEM: "SystemResources",
  ENOSPC: "NoSpaceLeft",
  EROFS: "ReadOnlyFileSystem",
  EDQUOT: "DiskQuota",
  EEXIST: "PathAlreadyExists",
  EIO: "FileSystem",
};

const TABLES: Readonly<Record<OperationKind, Table>> = {
  nop: {},
  fsync: { EIO: "InputOutput", ENOSPC: "NoSpaceLeft", EDQUOT: "DiskQuota", EPERM: "AccessDenied" },
  poll: { ENOMEM: "SystemResources" },
  readTty: READ,
  read: READ,
  readv: READ,
  write: WRITE,
  writev: WRITE,
  accept: {
    ECONNABORTED: "ConnectionAborted",
    EINVAL: "SocketNotListening",
    EMFILE: "ProcessFdQuotaExceeded",
    ENFILE: "SystemFdQuotaExceeded",
    ENOBUFS: "SystemResources",
    ENOMEM: "SystemResources",
    EPROTO: "ProtocolFailure",
    EPERM: "BlockedByFirewall",
  },
  connect: {
    EACCES: "PermissionDenied",
    EPERM: "PermissionDenied",
    EADDRINUSE: "AddressInUse",
    EADDRNOTAVAIL: "AddressNotAvailable",
    EAFNOSUPPORT: "AddressFamilyNotSupported",
    EALREADY: "ConnectionPending",
    ECONNREFUSED: "ConnectionRefused",
    ECONNRESET: "ConnectionResetByPeer",
    EHOSTUNREACH: "NetworkUnreachable",
    ENETUNREACH: "NetworkUnreachable",
    ETIMEDOUT: "ConnectionTimedOut",
    ENOENT: "FileNotFound",
    EISCONN: "AlreadyConnected",
  },
  bind: {
    EACCES: "AccessDenied",
    EPERM: "AccessDenied",
    EADDRINUSE: "AddressInUse",
    EAFNOSUPPORT: "AddressFamilyNotSupported",
    EADDRNOTAVAIL: "AddressNotAvailable",
    ELOOP: "SymLinkLoop",
    ENAMETOOLONG: "NameTooLong",
    ENOENT: "FileNotFound",
    ENOMEM: "SystemResources",
    ENOTDIR: "NotDir",
    EROFS: "ReadOnlyFileSystem",
  },
  listen: { EADDRINUSE: "AddressInUse", ENOTSOCK: "FileDescriptorNotASocket" },
  recv: RECV,
  recvMsg: RECV,
  send: SEND,
  sendMsg: SEND,
  shutdown: { ENOTCONN: "SocketNotConnected", ENOBUFS: "SystemResources" },
  openAt: {
    ...PATH,
    EFBIG: "FileTooBig",
    EOVERFLOW: "FileTooBig",
    EISDIR: "IsDir",
    EMFILE: "ProcessFdQuotaExceeded",
    ENFILE: "SystemFdQuotaExceeded",
    ENODEV: "NoDevice",
    EBUSY: "DeviceBusy",
    EILSEQ: "InvalidUtf8",
  },
  closeFile: {},
  closeDir: {},
  closeSocket: {},
  closeEventSource: {},
  notifyEventSource: {},
  waitEventSource: {},
  timeout: {},
  linkTimeout: { ETIME: "Expired", EALREADY: "Canceled", ENOENT: "Canceled" },
  cancel: { EALREADY: "InProgress", ENOENT: "NotFound" },
  renameAt: {
    ...PATH,
    EBUSY: "FileBusy",
    EISDIR: "IsDir",
    EMLINK: "LinkQuotaExceeded",
    ENOTEMPTY: "PathAlreadyExists",
    EXDEV: "RenameAcrossMountPoints",
  },
  unlinkAt: { ...PATH, EBUSY: "FileBusy", EISDIR: "IsDir", EEXIST: "DirNotEmpty", ENOTEMPTY: "DirNotEmpty" },
  mkdirAt: { ...PATH, EMLINK: "LinkQuotaExceeded" },
  symlinkAt: PATH,
  childExit: { ECHILD: "NotFound", EINVAL: "NotFound", ESRCH: "NotFound", ENOENT: "NotFound" },
  socket: {
    EACCES: "AccessDenied",
    EAFNOSUPPORT: "AddressFamilyNotSupported",
    EINVAL: "ProtocolFamilyNotAvailable",
    EMFILE: "ProcessFdQuotaExceeded",
    ENFILE: "SystemFdQuotaExceeded",
    ENOBUFS: "SystemResources",
    ENOMEM: "SystemResources",
    EPROTONOSUPPORT: "ProtocolNotSupported",
    EPROTOTYPE: "SocketTypeNotSupported",
  },
  splice: { ENOMEM: "SystemResources", ESPIPE: "Unseekable" },
};

/**
 * zig-aio's error name for an errno returned by an operation of kind `op`.
 *
 * @example
 * ```ts
 * import { errorCodeFor } from "./errors.ts";
 * console.log(errorCodeFor("openAt", 2)); // "FileNotFound"
 * ```
 */
export function errorCodeFor(op: OperationKind, errno: number): string {
  const name = errnoName(errno);
  return TABLES[op][name] ?? FALLBACK[name] ?? "Unexpected";
}

/**
 * The `OperationError` for a negative result (`-errno`) of an operation of kind `op`.
 *
 * @example
 * ```ts
 * import { operationError } from "./errors.ts";
 * console.log(operationError("cancel", -2).code); // "NotFound"
 * ```
 */
export function operationError(op: OperationKind, res: number): OperationError {
  return new OperationError(op, errorCodeFor(op, -res), errnoName(-res));
}
