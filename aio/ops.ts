/**
 * The 34 operations of zig-aio (`src/aio/ops.zig`), as plain objects with a `kind` tag.
 *
 * Each factory (`read`, `openAt`, …) returns an object holding the operation's inputs and, once
 * it completes, its outputs: zig-aio's `out_*` pointers become `out*` fields. An operation can be
 * queued again once it has completed.
 *
 * @module
 */
import { AT_FDCWD } from "../ffi/linux.ts";
import { InvalidOperationError, type OperationError } from "./errors.ts";
import { isFdNumber, showValue as show } from "./arguments.ts";
import type { EventSource } from "./event_source.ts";
import { isDetached } from "../ffi/memory.ts";

/**
 * A file descriptor (a socket, file, directory, pipe or eventfd). On Windows (the iocp backend)
 * it is a HANDLE (files, directories, pipes) or a SOCKET, as a number: handle values fit in 31
 * bits.
 */
export type Fd = number;

/**
 * An operation id: the slot in its queue (16 bits) and a generation (8 bits), as zig-aio's
 * `Id(u16, u8)`. A completed operation's id goes stale: cancelling it gives `NotFound`.
 */
export type Id = number;

/**
 * How an operation is linked to the next one in its batch.
 * - `unlinked`: independent.
 * - `soft`: the next starts after this one; if this one fails, the rest of the chain fails
 *   with `Canceled`.
 * - `hard`: the next starts after this one whatever its result.
 */
export type Link = "unlinked" | "soft" | "hard";

/** `IORING_FEAT_RW_CUR_POS`: read or write at the file's current position (zig-aio's `maxInt(u64)`). */
export const OFFSET_CURRENT_POS: number = -1;

/** The directory fd meaning "the current working directory" (`AT_FDCWD`, zig's `std.fs.cwd()`). */
export const cwd: Fd = AT_FDCWD;

/**
 * A path: a string (encoded as UTF-8; on Windows as UTF-16, `/` read as a backslash) or bytes
 * without NUL (a trailing NUL is allowed; on Windows the bytes are read as UTF-8).
 */
export type Path = string | Uint8Array;

/** Fields every operation takes. */
export interface CommonOptions {
  /** Link to the next operation of the batch. Default `unlinked`. */
  link?: Link;
  /** Passed back, untouched, to the queue's handler. */
  userdata?: unknown;
}

/** Fields every operation has. */
export interface OperationBase<K extends string> {
  /** The operation's kind; the union's discriminant. */
  readonly kind: K;
  /** Link to the next operation of the batch. */
  link: Link;
  /** Passed back, untouched, to the queue's handler. */
  userdata: unknown;
  /** Set when queued: the id that `cancel` takes. -1 before. */
  outId: Id;
  /** Set when completed: `null` on success, else the typed error. */
  outError: OperationError | null;
}

/** Poll events (`Poll.Events`). */
export interface PollEvents {
  /** POLLIN */
  in?: boolean;
  /** POLLPRI */
  pri?: boolean;
  /** POLLOUT */
  out?: boolean;
}

/** Recv flags (`Recv.Flags`); `cmsgCloexec` defaults to true as in zig-aio. */
export interface RecvFlags {
  /** MSG_CMSG_CLOEXEC */
  cmsgCloexec?: boolean;
  /** MSG_ERRQUEUE */
  errQueue?: boolean;
  /** MSG_OOB */
  oob?: boolean;
  /** MSG_PEEK */
  peek?: boolean;
  /** MSG_TRUNC */
  trunc?: boolean;
  /** MSG_WAITALL: an extension over zig-aio, for receiving an exact length. */
  waitAll?: boolean;
}

/** Send flags (`Send.Flags`). MSG_NOSIGNAL is always added, so a closed peer is `BrokenPipe`. */
export interface SendFlags {
  /** MSG_CONFIRM */
  confirm?: boolean;
  /** MSG_DONTROUTE */
  dontRoute?: boolean;
  /** MSG_EOR */
  eor?: boolean;
  /** MSG_MORE */
  more?: boolean;
  /** MSG_OOB */
  oob?: boolean;
  /** MSG_FASTOPEN */
  fastOpen?: boolean;
  /** MSG_ZEROCOPY */
  zeroCopy?: boolean;
}

/** Open flags (`std.fs.File.OpenFlags`), plus creation flags zig's openFile lacks. */
export interface OpenFlags {
  /** Access mode. Default `read_only`. */
  mode?: "read_only" | "write_only" | "read_write";
  /** O_CREAT */
  create?: boolean;
  /** O_EXCL (with `create`). */
  exclusive?: boolean;
  /** O_TRUNC */
  truncate?: boolean;
  /** O_APPEND */
  append?: boolean;
  /** O_DIRECTORY: open a directory, for `closeDir` or as a `dir` of other operations. */
  directory?: boolean;
  /** Permission bits for a created file. Default 0o644. */
  permissions?: number;
  /** Allow the file to become the controlling terminal (clears O_NOCTTY). */
  allowCtty?: boolean;
}

/** One side of a splice (`Splice.Fd`). */
export type SpliceFd = { pipe: Fd } | { fd: Fd; offset?: number };

/** Splice flags (`Splice.Flags`); `nonblock` defaults to true as in zig-aio. */
export interface SpliceFlags {
  /** SPLICE_F_MOVE */
  move?: boolean;
  /** SPLICE_F_NONBLOCK */
  nonblock?: boolean;
  /** SPLICE_F_MORE */
  more?: boolean;
}

/** How a child ended (`std.process.Child.Term`). */
export type Term =
  | { kind: "exited"; code: number }
  | { kind: "signal"; signal: number }
  | { kind: "stopped"; signal: number }
  | { kind: "unknown"; status: number };

/**
 * A message header for `recvMsg` and `sendMsg` (`struct msghdr`). `recvMsg` updates `namelen`,
 * `controllen` and `flags` in place, as the kernel does with zig-aio's `*msghdr`.
 */
export interface MessageHeader {
  /** The peer address buffer (`msg_name`), or null. */
  name: Uint8Array | null;
  /** How many bytes of `name` are used (`msg_namelen`). */
  namelen: number;
  /** The data buffers (`msg_iov`). */
  iov: Uint8Array[];
  /** Ancillary data (`msg_control`), or null. */
  control: Uint8Array | null;
  /** How many bytes of `control` are used (`msg_controllen`). */
  controllen: number;
  /** `msg_flags`, as the kernel returns them. */
  flags: number;
}

/**
 * Builds a {@linkcode MessageHeader}; lengths default to the buffers' lengths.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const msg = aio.messageHeader({ iov: [new Uint8Array(32)], name: new Uint8Array(16) });
 * console.log(msg.namelen); // 16
 * ```
 */
export function messageHeader(
  init: { name?: Uint8Array | null; iov: Uint8Array[]; control?: Uint8Array | null },
): MessageHeader {
  if (typeof init !== "object" || init === null) {
    throw new InvalidOperationError(undefined, "InvalidArgument", `messageHeader takes an object, got ${show(init)}`);
  }
  const name = init.name ?? null;
  const control = init.control ?? null;
  return {
    name,
    namelen: name?.byteLength ?? 0,
    iov: init.iov,
    control,
    controllen: control?.byteLength ?? 0,
    flags: 0,
  };
}

/** Nop: wakes the backend; completes at once. */
export interface Nop extends OperationBase<"nop"> {}
/** Fsync: flushes a file to disk. */
export interface Fsync extends OperationBase<"fsync"> {
  /** The file descriptor. */
  file: Fd;
}
/** Poll: waits for readiness of `fd`. */
export interface Poll extends OperationBase<"poll"> {
  /** The file descriptor to poll. */
  fd: Fd;
  /** The events to wait for. */
  events: PollEvents;
}
/** ReadTty: reads a terminal. */
export interface ReadTty extends OperationBase<"readTty"> {
  /** The terminal fd. */
  tty: Fd;
  /** The data buffer. It is kept alive until the operation completes. */
  buffer: Uint8Array;
  /** Translation mode; only "direct" exists on Linux and macOS. */
  mode: "direct";
  /** Set on completion: bytes read (0 at end of file or when the peer closed). */
  outRead: number;
}
/** Read: reads a file at `offset` (or its position). */
export interface Read extends OperationBase<"read"> {
  /** The file descriptor. */
  file: Fd;
  /** The data buffer. It is kept alive until the operation completes. */
  buffer: Uint8Array;
  /** The file offset, or OFFSET_CURRENT_POS for the file position. */
  offset: number;
  /** Set on completion: bytes read (0 at end of file or when the peer closed). */
  outRead: number;
}
/** Write: writes a file at `offset` (or its position). */
export interface Write extends OperationBase<"write"> {
  /** The file descriptor. */
  file: Fd;
  /** The data buffer. It is kept alive until the operation completes. */
  buffer: Uint8Array;
  /** The file offset, or OFFSET_CURRENT_POS for the file position. */
  offset: number;
  /** Set on completion: bytes written. */
  outWritten: number;
}
/** Readv: scatter read. */
export interface Readv extends OperationBase<"readv"> {
  /** The file descriptor. */
  file: Fd;
  /** The buffers, in order. */
  iov: Uint8Array[];
  /** The file offset, or OFFSET_CURRENT_POS for the file position. */
  offset: number;
  /** Set on completion: bytes read (0 at end of file or when the peer closed). */
  outRead: number;
}
/** Writev: gather write. */
export interface Writev extends OperationBase<"writev"> {
  /** The file descriptor. */
  file: Fd;
  /** The buffers, in order. */
  iov: Uint8Array[];
  /** The file offset, or OFFSET_CURRENT_POS for the file position. */
  offset: number;
  /** Set on completion: bytes written. */
  outWritten: number;
}
/** Accept: accepts a connection; the new socket has CLOEXEC set. */
export interface Accept extends OperationBase<"accept"> {
  /** The socket fd. */
  socket: Fd;
  /** A buffer to receive the peer's address (`out_addr`), or null. */
  outAddr: Uint8Array | null;
  /** The length of the peer's address (`inout_addrlen`), set on completion. */
  inoutAddrlen: number;
  /** Set on completion: the new socket fd. */
  outSocket: Fd;
}
/** Connect: connects a socket. */
export interface Connect extends OperationBase<"connect"> {
  /** The socket fd. */
  socket: Fd;
  /** The address (sockaddr bytes, see `aio.ipv4`). */
  addr: Uint8Array;
  /** How many bytes of `addr` are used. */
  addrlen: number;
}
/** Bind: binds a socket (IORING_OP_BIND, Linux 6.11). */
export interface Bind extends OperationBase<"bind"> {
  /** The socket fd. */
  socket: Fd;
  /** The address (sockaddr bytes, see `aio.ipv4`). */
  addr: Uint8Array;
  /** How many bytes of `addr` are used. */
  addrlen: number;
}
/** Listen: marks a socket as listening (IORING_OP_LISTEN, Linux 6.11). */
export interface Listen extends OperationBase<"listen"> {
  /** The socket fd. */
  socket: Fd;
  /** The accept queue length. */
  backlog: number;
}
/** Recv: receives from a socket. */
export interface Recv extends OperationBase<"recv"> {
  /** The socket fd. */
  socket: Fd;
  /** The data buffer. It is kept alive until the operation completes. */
  buffer: Uint8Array;
  /** Flags for the call. */
  flags: RecvFlags;
  /** Set on completion: bytes read (0 at end of file or when the peer closed). */
  outRead: number;
}
/** Send: sends on a socket. */
export interface Send extends OperationBase<"send"> {
  /** The socket fd. */
  socket: Fd;
  /** The data buffer. It is kept alive until the operation completes. */
  buffer: Uint8Array;
  /** Flags for the call. */
  flags: SendFlags;
  /** Set on completion: bytes written. */
  outWritten: number;
}
/** RecvMsg: recvmsg(2). */
export interface RecvMsg extends OperationBase<"recvMsg"> {
  /** The socket fd. */
  socket: Fd;
  /** The message header, updated in place. */
  outMsg: MessageHeader;
  /** Flags for the call. */
  flags: RecvFlags;
  /** Set on completion: bytes read (0 at end of file or when the peer closed). */
  outRead: number;
}
/** SendMsg: sendmsg(2). */
export interface SendMsg extends OperationBase<"sendMsg"> {
  /** The socket fd. */
  socket: Fd;
  /** The message header. */
  msg: MessageHeader;
  /** Flags for the call. */
  flags: SendFlags;
  /** Set on completion: bytes written. */
  outWritten: number;
}
/** Shutdown: shuts a socket down. */
export interface Shutdown extends OperationBase<"shutdown"> {
  /** The socket fd. */
  socket: Fd;
  /** Which direction(s) to shut down. */
  how: "recv" | "send" | "both";
}
/** OpenAt: opens `path` relative to `dir`; the fd has CLOEXEC set. */
export interface OpenAt extends OperationBase<"openAt"> {
  /** The directory fd, or aio.cwd. */
  dir: Fd;
  /** The path, relative to `dir`. */
  path: Path;
  /** How to open the file. */
  flags: OpenFlags;
  /** Set on completion: the new fd. */
  outFile: Fd;
}
/** CloseFile: closes a file. */
export interface CloseFile extends OperationBase<"closeFile"> {
  /** The file descriptor. */
  file: Fd;
}
/** CloseDir: closes a directory. */
export interface CloseDir extends OperationBase<"closeDir"> {
  /** The directory fd, or aio.cwd. */
  dir: Fd;
}
/** Timeout: completes after `ns` nanoseconds on a monotonic clock. */
export interface Timeout extends OperationBase<"timeout"> {
  /** Nanoseconds. */
  ns: number;
}
/**
 * LinkTimeout: bounds the operation linked before it. `Expired` when it fired (the other op is
 * then `Canceled`); `Canceled`, not counted as a failure, when the other op finished first.
 */
export interface LinkTimeout extends OperationBase<"linkTimeout"> {
  /** Nanoseconds. */
  ns: number;
}
/** Cancel: cancels the operation with `id` in the same queue. */
export interface Cancel extends OperationBase<"cancel"> {
  /** The id (`outId`) of the operation to cancel. */
  id: Id;
}
/** RenameAt: renames, failing with PathAlreadyExists rather than replacing (RENAME_NOREPLACE). */
export interface RenameAt extends OperationBase<"renameAt"> {
  /** The directory of `oldPath`. */
  oldDir: Fd;
  /** The path to rename. */
  oldPath: Path;
  /** The directory of `newPath`. */
  newDir: Fd;
  /** The new path. */
  newPath: Path;
}
/** UnlinkAt: deletes a file, or with `removeDir` an empty directory. */
export interface UnlinkAt extends OperationBase<"unlinkAt"> {
  /** The directory fd, or aio.cwd. */
  dir: Fd;
  /** The path, relative to `dir`. */
  path: Path;
  /** Remove an empty directory (AT_REMOVEDIR) instead of a file. */
  removeDir: boolean;
}
/** MkDirAt: creates a directory. */
export interface MkDirAt extends OperationBase<"mkdirAt"> {
  /** The directory fd, or aio.cwd. */
  dir: Fd;
  /** The path, relative to `dir`. */
  path: Path;
  /** Permission bits of the new directory. */
  mode: number;
}
/** SymlinkAt: creates `linkPath` pointing at `target`. */
export interface SymlinkAt extends OperationBase<"symlinkAt"> {
  /** The directory fd, or aio.cwd. */
  dir: Fd;
  /** What the link points to. */
  target: Path;
  /** Where the link is created, relative to `dir`. */
  linkPath: Path;
}
/** ChildExit: waits for a child process to exit and reaps it. */
export interface ChildExit extends OperationBase<"childExit"> {
  /** The child process id. */
  child: number;
  /** Set on completion: how the child ended. */
  outTerm: Term | null;
}
/** Socket: creates a socket. */
export interface Socket extends OperationBase<"socket"> {
  /** The address family (AF.*). */
  domain: number;
  /** The socket type and SOCK.* flags. */
  flags: number;
  /** The protocol (IPPROTO.*). */
  protocol: number;
  /** Set on completion: the new socket fd. */
  outSocket: Fd;
}
/** CloseSocket: cancels every operation outstanding on the socket, then closes it (zig-aio#67). */
export interface CloseSocket extends OperationBase<"closeSocket"> {
  /** The socket fd. */
  socket: Fd;
}
/** NotifyEventSource: increments the event source's counter. */
export interface NotifyEventSource extends OperationBase<"notifyEventSource"> {
  /** The event source. */
  source: EventSource;
}
/** WaitEventSource: waits until the counter is above zero, and decrements it. */
export interface WaitEventSource extends OperationBase<"waitEventSource"> {
  /** The event source. */
  source: EventSource;
}
/** CloseEventSource: closes the event source. */
export interface CloseEventSource extends OperationBase<"closeEventSource"> {
  /** The event source. */
  source: EventSource;
}
/** Splice: moves `len` bytes between fds, one of which is a pipe. */
export interface Splice extends OperationBase<"splice"> {
  /** Where the data comes from. */
  in: SpliceFd;
  /** Where the data goes. */
  out: SpliceFd;
  /** How many bytes to move. */
  len: number;
  /** Flags for the call. */
  flags: SpliceFlags;
  /** Set on completion: bytes written. */
  outWritten: number;
}

/** Every operation: the discriminated union over `kind`. */
export type Operation =
  | Nop
  | Fsync
  | Poll
  | ReadTty
  | Read
  | Write
  | Readv
  | Writev
  | Accept
  | Connect
  | Bind
  | Listen
  | Recv
  | Send
  | RecvMsg
  | SendMsg
  | Shutdown
  | OpenAt
  | CloseFile
  | CloseDir
  | Timeout
  | LinkTimeout
  | Cancel
  | RenameAt
  | UnlinkAt
  | MkDirAt
  | SymlinkAt
  | ChildExit
  | Socket
  | CloseSocket
  | NotifyEventSource
  | WaitEventSource
  | CloseEventSource
  | Splice;

/** The kinds, one per zig-aio `Operation` tag. */
export type OperationKind = Operation["kind"];

/** Every kind, in zig-aio's order. */
export const OPERATION_KINDS: readonly OperationKind[] = [
  "nop",
  "fsync",
  "poll",
  "readTty",
  "read",
  "write",
  "readv",
  "writev",
  "accept",
  "connect",
  "bind",
  "listen",
  "recv",
  "send",
  "recvMsg",
  "sendMsg",
  "shutdown",
  "openAt",
  "closeFile",
  "closeDir",
  "timeout",
  "linkTimeout",
  "cancel",
  "renameAt",
  "unlinkAt",
  "mkdirAt",
  "symlinkAt",
  "childExit",
  "socket",
  "closeSocket",
  "notifyEventSource",
  "waitEventSource",
  "closeEventSource",
  "splice",
];

/** Internal: set while the operation is queued and not yet completed. */
export const kInFlight: unique symbol = Symbol("aio.inFlight");
/** Internal: the kind as a small integer (its index in OPERATION_KINDS), for table lookups. */
export const kCode: unique symbol = Symbol("aio.code");

/** Internal: kind codes, the hot path's alternative to comparing kind strings. */
export const CODE: Readonly<Record<OperationKind, number>> = Object.fromEntries(
  OPERATION_KINDS.map((k, i) => [k, i]),
) as Record<OperationKind, number>;

/** Internal: the kind code of an operation. */
export function codeOf(op: Operation): number {
  return (op as Operation & { [kCode]: number })[kCode];
}

type Fields<T extends Operation> = Omit<T, keyof OperationBase<string>>;

// A factory reads its options before make() runs: this check comes first, so that a missing or
// non-object argument is a typed error rather than a TypeError from reading its fields.
function given<O>(kind: OperationKind, options: O): O {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOperationError(kind, "InvalidArgument", `options must be an object, got ${show(options)}`);
  }
  return options;
}

function make<T extends Operation>(kind: T["kind"], common: CommonOptions, fields: Fields<T>): T {
  const op = {
    kind,
    link: common.link ?? "unlinked",
    userdata: common.userdata ?? 0,
    outId: -1,
    outError: null,
    ...fields,
    [kInFlight]: false,
    [kCode]: CODE[kind],
  } as unknown as T;
  validate(op);
  return op;
}

/**
 * A no-op; completes at once. Useful to wake a queue, and as the benchmark's unit of work.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * await aio.single(aio.nop());
 * ```
 */
export function nop(options: CommonOptions = {}): Nop {
  return make<Nop>("nop", given("nop", options), {});
}

/**
 * fsync(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const open = aio.openAt({ dir: aio.cwd, path: "deno.json" });
 * await aio.single(open);
 * await aio.multi([aio.fsync({ file: open.outFile, link: "hard" }), aio.closeFile({ file: open.outFile })]);
 * ```
 */
export function fsync(options: { file: Fd } & CommonOptions): Fsync {
  return make<Fsync>("fsync", given("fsync", options), { file: options.file });
}

/**
 * Waits until `fd` is ready for the given events (default: readable).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const [r, w] = aio.posix.pipe();
 * await aio.single(aio.poll({ fd: w, events: { out: true } }));
 * aio.posix.close(r); aio.posix.close(w);
 * ```
 */
export function poll(options: { fd: Fd; events?: PollEvents } & CommonOptions): Poll {
  return make<Poll>("poll", given("poll", options), { fd: options.fd, events: options.events ?? { in: true } });
}

/**
 * Reads a terminal (or any fd that must be read at its current position).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const op = aio.readTty({ tty: 0, buffer: new Uint8Array(64) });
 * console.log(op.kind);
 * ```
 */
export function readTty(options: { tty: Fd; buffer: Uint8Array; mode?: "direct" } & CommonOptions): ReadTty {
  return make<ReadTty>("readTty", given("readTty", options), {
    tty: options.tty,
    buffer: options.buffer,
    mode: options.mode ?? "direct",
    outRead: 0,
  });
}

/**
 * pread(2), or read(2) at the file position when `offset` is `OFFSET_CURRENT_POS` (the default).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const open = aio.openAt({ dir: aio.cwd, path: "deno.json" });
 * await aio.single(open);
 * const read = aio.read({ file: open.outFile, buffer: new Uint8Array(64), offset: 0 });
 * await aio.multi([read, aio.closeFile({ file: open.outFile })]);
 * console.log(read.outRead);
 * ```
 */
export function read(options: { file: Fd; buffer: Uint8Array; offset?: number } & CommonOptions): Read {
  return make<Read>("read", given("read", options), {
    file: options.file,
    buffer: options.buffer,
    offset: options.offset ?? OFFSET_CURRENT_POS,
    outRead: 0,
  });
}

/**
 * pwrite(2), or write(2) at the file position when `offset` is `OFFSET_CURRENT_POS` (the default).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const [r, w] = aio.posix.pipe();
 * const write = aio.write({ file: w, buffer: new TextEncoder().encode("hi") });
 * await aio.single(write);
 * console.log(write.outWritten); // 2
 * aio.posix.close(r); aio.posix.close(w);
 * ```
 */
export function write(options: { file: Fd; buffer: Uint8Array; offset?: number } & CommonOptions): Write {
  return make<Write>("write", given("write", options), {
    file: options.file,
    buffer: options.buffer,
    offset: options.offset ?? OFFSET_CURRENT_POS,
    outWritten: 0,
  });
}

/**
 * preadv(2) into several buffers.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const op = aio.readv({ file: 0, iov: [new Uint8Array(3), new Uint8Array(3)], offset: 0 });
 * console.log(op.iov.length);
 * ```
 */
export function readv(options: { file: Fd; iov: Uint8Array[]; offset?: number } & CommonOptions): Readv {
  return make<Readv>("readv", given("readv", options), {
    file: options.file,
    iov: options.iov,
    offset: options.offset ?? OFFSET_CURRENT_POS,
    outRead: 0,
  });
}

/**
 * pwritev(2) from several buffers.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const op = aio.writev({ file: 1, iov: [new TextEncoder().encode("a\n")] });
 * console.log(op.kind);
 * ```
 */
export function writev(options: { file: Fd; iov: Uint8Array[]; offset?: number } & CommonOptions): Writev {
  return make<Writev>("writev", given("writev", options), {
    file: options.file,
    iov: options.iov,
    offset: options.offset ?? OFFSET_CURRENT_POS,
    outWritten: 0,
  });
}

/**
 * accept4(2) with SOCK_CLOEXEC. Pass `outAddr` (e.g. 128 bytes) to learn the peer's address.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const op = aio.accept({ socket: 3, outAddr: new Uint8Array(128) });
 * console.log(op.outSocket); // -1 until it completes
 * ```
 */
export function accept(options: { socket: Fd; outAddr?: Uint8Array | null } & CommonOptions): Accept {
  return make<Accept>("accept", given("accept", options), {
    socket: options.socket,
    outAddr: options.outAddr ?? null,
    inoutAddrlen: 0,
    outSocket: -1,
  });
}

/**
 * connect(2). `addr` is a sockaddr (see `aio.ipv4`, `aio.ipv6`); `addrlen` defaults to its length.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const op = aio.connect({ socket: 3, addr: aio.ipv4("127.0.0.1", 8080) });
 * console.log(op.addrlen); // 16
 * ```
 */
export function connect(options: { socket: Fd; addr: Uint8Array; addrlen?: number } & CommonOptions): Connect {
  return make<Connect>("connect", given("connect", options), {
    socket: options.socket,
    addr: options.addr,
    addrlen: options.addrlen ?? options.addr?.byteLength,
  });
}

/**
 * bind(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const op = aio.bind({ socket: 3, addr: aio.ipv4("127.0.0.1", 0) });
 * console.log(op.kind);
 * ```
 */
export function bind(options: { socket: Fd; addr: Uint8Array; addrlen?: number } & CommonOptions): Bind {
  return make<Bind>("bind", given("bind", options), {
    socket: options.socket,
    addr: options.addr,
    addrlen: options.addrlen ?? options.addr?.byteLength,
  });
}

/**
 * listen(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.listen({ socket: 3, backlog: 128 }).backlog);
 * ```
 */
export function listen(options: { socket: Fd; backlog?: number } & CommonOptions): Listen {
  return make<Listen>("listen", given("listen", options), { socket: options.socket, backlog: options.backlog ?? 128 });
}

/**
 * recv(2). `outRead` is 0 when the peer has closed.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.recv({ socket: 3, buffer: new Uint8Array(1024) }).outRead);
 * ```
 */
export function recv(options: { socket: Fd; buffer: Uint8Array; flags?: RecvFlags } & CommonOptions): Recv {
  return make<Recv>("recv", given("recv", options), {
    socket: options.socket,
    buffer: options.buffer,
    flags: options.flags ?? {},
    outRead: 0,
  });
}

/**
 * send(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.send({ socket: 3, buffer: new TextEncoder().encode("hey ") }).kind);
 * ```
 */
export function send(options: { socket: Fd; buffer: Uint8Array; flags?: SendFlags } & CommonOptions): Send {
  return make<Send>("send", given("send", options), {
    socket: options.socket,
    buffer: options.buffer,
    flags: options.flags ?? {},
    outWritten: 0,
  });
}

/**
 * recvmsg(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const msg = aio.messageHeader({ iov: [new Uint8Array(64)], name: new Uint8Array(16) });
 * console.log(aio.recvMsg({ socket: 3, outMsg: msg }).kind);
 * ```
 */
export function recvMsg(options: { socket: Fd; outMsg: MessageHeader; flags?: RecvFlags } & CommonOptions): RecvMsg {
  return make<RecvMsg>("recvMsg", given("recvMsg", options), {
    socket: options.socket,
    outMsg: options.outMsg,
    flags: options.flags ?? {},
    outRead: 0,
  });
}

/**
 * sendmsg(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const msg = aio.messageHeader({ iov: [new TextEncoder().encode("PING")], name: aio.ipv4("127.0.0.1", 9) });
 * console.log(aio.sendMsg({ socket: 3, msg }).kind);
 * ```
 */
export function sendMsg(options: { socket: Fd; msg: MessageHeader; flags?: SendFlags } & CommonOptions): SendMsg {
  return make<SendMsg>("sendMsg", given("sendMsg", options), {
    socket: options.socket,
    msg: options.msg,
    flags: options.flags ?? {},
    outWritten: 0,
  });
}

/**
 * shutdown(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.shutdown({ socket: 3, how: "both" }).how);
 * ```
 */
export function shutdown(options: { socket: Fd; how: "recv" | "send" | "both" } & CommonOptions): Shutdown {
  return make<Shutdown>("shutdown", given("shutdown", options), { socket: options.socket, how: options.how });
}

/**
 * openat(2) with O_CLOEXEC.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const open = aio.openAt({ dir: aio.cwd, path: "deno.json" });
 * await aio.single(open);
 * await aio.single(aio.closeFile({ file: open.outFile }));
 * ```
 */
export function openAt(options: { dir: Fd; path: Path; flags?: OpenFlags } & CommonOptions): OpenAt {
  return make<OpenAt>("openAt", given("openAt", options), {
    dir: options.dir,
    path: options.path,
    flags: options.flags ?? {},
    outFile: -1,
  });
}

/**
 * close(2) of a file.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.closeFile({ file: 3 }).kind);
 * ```
 */
export function closeFile(options: { file: Fd } & CommonOptions): CloseFile {
  return make<CloseFile>("closeFile", given("closeFile", options), { file: options.file });
}

/**
 * close(2) of a directory.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.closeDir({ dir: 3 }).kind);
 * ```
 */
export function closeDir(options: { dir: Fd } & CommonOptions): CloseDir {
  return make<CloseDir>("closeDir", given("closeDir", options), { dir: options.dir });
}

/**
 * A timer on the monotonic clock.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * await aio.single(aio.timeout({ ns: 1_000_000 })); // 1 ms
 * ```
 */
export function timeout(options: { ns: number } & CommonOptions): Timeout {
  return make<Timeout>("timeout", given("timeout", options), { ns: options.ns });
}

/**
 * A timeout for the operation linked before it.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const slow = aio.timeout({ ns: 1e9, link: "soft" });
 * const bound = aio.linkTimeout({ ns: 1e6 });
 * await aio.complete([slow, bound]);
 * console.log(slow.outError?.code, bound.outError?.code); // Canceled Expired
 * ```
 */
export function linkTimeout(options: { ns: number } & CommonOptions): LinkTimeout {
  return make<LinkTimeout>("linkTimeout", given("linkTimeout", options), { ns: options.ns });
}

/**
 * Cancels the operation with `id`.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * using d = new aio.Dynamic();
 * const t = aio.timeout({ ns: 10e9 });
 * d.queue(t);
 * d.queue(aio.cancel({ id: t.outId }));
 * d.completeAll();
 * console.log(t.outError?.code); // "Canceled"
 * ```
 */
export function cancel(options: { id: Id } & CommonOptions): Cancel {
  return make<Cancel>("cancel", given("cancel", options), { id: options.id });
}

/**
 * renameat2(2) with RENAME_NOREPLACE.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.renameAt({ oldDir: aio.cwd, oldPath: "a", newDir: aio.cwd, newPath: "b" }).kind);
 * ```
 */
export function renameAt(
  options: { oldDir: Fd; oldPath: Path; newDir: Fd; newPath: Path } & CommonOptions,
): RenameAt {
  return make<RenameAt>("renameAt", given("renameAt", options), {
    oldDir: options.oldDir,
    oldPath: options.oldPath,
    newDir: options.newDir,
    newPath: options.newPath,
  });
}

/**
 * unlinkat(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.unlinkAt({ dir: aio.cwd, path: "old.txt" }).removeDir); // false
 * ```
 */
export function unlinkAt(options: { dir: Fd; path: Path; removeDir?: boolean } & CommonOptions): UnlinkAt {
  return make<UnlinkAt>("unlinkAt", given("unlinkAt", options), {
    dir: options.dir,
    path: options.path,
    removeDir: options.removeDir ?? false,
  });
}

/**
 * mkdirat(2); `mode` defaults to 0o755 (zig's `Dir.default_mode`).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.mkdirAt({ dir: aio.cwd, path: "out" }).mode.toString(8)); // 755
 * ```
 */
export function mkdirAt(options: { dir: Fd; path: Path; mode?: number } & CommonOptions): MkDirAt {
  return make<MkDirAt>("mkdirAt", given("mkdirAt", options), {
    dir: options.dir,
    path: options.path,
    mode: options.mode ?? 0o755,
  });
}

/**
 * symlinkat(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.symlinkAt({ dir: aio.cwd, target: "a", linkPath: "b" }).kind);
 * ```
 */
export function symlinkAt(options: { dir: Fd; target: Path; linkPath: Path } & CommonOptions): SymlinkAt {
  return make<SymlinkAt>("symlinkAt", given("symlinkAt", options), {
    dir: options.dir,
    target: options.target,
    linkPath: options.linkPath,
  });
}

/**
 * Waits for the child `pid` to exit and reaps it (IORING_OP_WAITID, or pidfd and poll).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const pid = aio.posix.spawn(["true"]);
 * const exit = aio.childExit({ child: pid });
 * await aio.single(exit);
 * console.log(exit.outTerm); // { kind: "exited", code: 0 }
 * ```
 */
export function childExit(options: { child: number } & CommonOptions): ChildExit {
  return make<ChildExit>("childExit", given("childExit", options), { child: options.child, outTerm: null });
}

/**
 * socket(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const { AF, SOCK, IPPROTO } = aio.constants;
 * const s = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
 * await aio.single(s);
 * await aio.single(aio.closeSocket({ socket: s.outSocket }));
 * ```
 */
export function socket(options: { domain: number; flags: number; protocol: number } & CommonOptions): Socket {
  return make<Socket>("socket", given("socket", options), {
    domain: options.domain,
    flags: options.flags,
    protocol: options.protocol,
    outSocket: -1,
  });
}

/**
 * Cancels what is outstanding on a socket, then closes it.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.closeSocket({ socket: 3 }).kind);
 * ```
 */
export function closeSocket(options: { socket: Fd } & CommonOptions): CloseSocket {
  return make<CloseSocket>("closeSocket", given("closeSocket", options), { socket: options.socket });
}

/**
 * Notifies an event source.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * using source = new aio.EventSource();
 * await aio.single(aio.notifyEventSource({ source }));
 * source.wait();
 * ```
 */
export function notifyEventSource(options: { source: EventSource } & CommonOptions): NotifyEventSource {
  return make<NotifyEventSource>("notifyEventSource", given("notifyEventSource", options), { source: options.source });
}

/**
 * Waits on an event source.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * using source = new aio.EventSource();
 * source.notify();
 * await aio.single(aio.waitEventSource({ source }));
 * ```
 */
export function waitEventSource(options: { source: EventSource } & CommonOptions): WaitEventSource {
  return make<WaitEventSource>("waitEventSource", given("waitEventSource", options), { source: options.source });
}

/**
 * Closes an event source.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const source = new aio.EventSource();
 * await aio.single(aio.closeEventSource({ source }));
 * ```
 */
export function closeEventSource(options: { source: EventSource } & CommonOptions): CloseEventSource {
  return make<CloseEventSource>("closeEventSource", given("closeEventSource", options), { source: options.source });
}

/**
 * splice(2).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const op = aio.splice({ in: { pipe: 3 }, out: { fd: 4, offset: 0 }, len: 11 });
 * console.log(op.flags);
 * ```
 */
export function splice(
  options: { in: SpliceFd; out: SpliceFd; len: number; flags?: SpliceFlags } & CommonOptions,
): Splice {
  return make<Splice>("splice", given("splice", options), {
    in: options.in,
    out: options.out,
    len: options.len,
    flags: options.flags ?? {},
    outWritten: 0,
  });
}

// ---------------------------------------------------------------------------------------------
// Validation: everything the kernel would misread, caught before it sees it.

const MAX_U32 = 0xffff_ffff;

function checkObject(op: Operation, name: string, value: unknown): void {
  if (typeof value !== "object" || value === null) {
    invalid(op, "InvalidArgument", `${name} must be an object, got ${show(value)}`);
  }
}

function checkBoolean(op: Operation, name: string, value: unknown): void {
  if (typeof value !== "boolean") invalid(op, "InvalidArgument", `${name} must be a boolean, got ${show(value)}`);
}

function invalid(op: Operation, code: string, detail: string): never {
  throw new InvalidOperationError(op.kind, code, detail);
}

function checkFd(op: Operation, name: string, fd: unknown, allowCwd = false): void {
  if (!isFdNumber(fd) && !(allowCwd && fd === AT_FDCWD)) {
    invalid(
      op,
      "InvalidFd",
      `${name} must be a non-negative integer fd${allowCwd ? " or aio.cwd" : ""}, got ${show(fd)}`,
    );
  }
}

function checkBuffer(op: Operation, name: string, buf: unknown, minLength = 0): void {
  if (!(buf instanceof Uint8Array)) invalid(op, "InvalidBuffer", `${name} must be a Uint8Array, got ${show(buf)}`);
  if (isDetached(buf)) invalid(op, "DetachedBuffer", `${name}'s ArrayBuffer is detached`);
  if (buf.byteLength < minLength) {
    invalid(op, "BufferTooShort", `${name} has ${buf.byteLength} bytes, needs at least ${minLength}`);
  }
  if (buf.byteLength > 0x7fff_f000) invalid(op, "BufferTooLong", `${name} is over the kernel's 2 GiB limit`);
}

function checkUint(op: Operation, name: string, value: unknown, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    invalid(op, "InvalidArgument", `${name} must be an integer in [0, ${max}], got ${show(value)}`);
  }
}

function checkOffset(op: Operation, offset: unknown): void {
  if (offset === OFFSET_CURRENT_POS) return;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    invalid(
      op,
      "OffsetOutOfRange",
      `offset must be a safe non-negative integer or OFFSET_CURRENT_POS, got ${show(offset)}`,
    );
  }
}

function checkPath(op: Operation, name: string, path: unknown): void {
  if (typeof path === "string") {
    if (path.includes("\0")) invalid(op, "PathContainsNul", `${name} contains a NUL character`);
    return;
  }
  if (!(path instanceof Uint8Array)) {
    invalid(op, "InvalidArgument", `${name} must be a string or Uint8Array, got ${show(path)}`);
  }
  if (isDetached(path)) invalid(op, "DetachedBuffer", `${name}'s ArrayBuffer is detached`);
  const nul = path.indexOf(0);
  if (nul !== -1 && nul !== path.length - 1) invalid(op, "PathContainsNul", `${name} contains a NUL byte at ${nul}`);
}

function checkIov(op: Operation, iov: unknown): void {
  if (!Array.isArray(iov) || iov.length === 0 || iov.length > 1024) {
    invalid(op, "InvalidArgument", "iov must be an array of 1 to 1024 Uint8Arrays");
  }
  for (let i = 0; i < iov.length; i++) checkBuffer(op, `iov[${i}]`, iov[i]);
}

function checkAddr(op: Operation, addr: unknown, addrlen: unknown): void {
  checkBuffer(op, "addr", addr, 2);
  checkUint(op, "addrlen", addrlen, 0x7fff_ffff);
  if ((addrlen as number) > (addr as Uint8Array).byteLength) {
    invalid(op, "BufferTooShort", `addr has ${(addr as Uint8Array).byteLength} bytes, addrlen says ${addrlen}`);
  }
}

function checkNs(op: Operation, ns: unknown): void {
  // Above 2^53 ns (104 days) a number no longer counts nanoseconds exactly, and 1e300 once became
  // a timespec the kernel read as already expired.
  if (typeof ns !== "number" || !Number.isSafeInteger(ns) || ns < 0) {
    invalid(op, "InvalidArgument", `ns must be an integer in [0, 2^53 - 1], got ${show(ns)}`);
  }
}

function checkSpliceFd(op: Operation, name: string, side: unknown): void {
  if (typeof side !== "object" || side === null) {
    invalid(op, "InvalidArgument", `${name} must be { pipe } or { fd, offset? }, got ${show(side)}`);
  }
  if ("pipe" in side) return checkFd(op, `${name}.pipe`, (side as { pipe: unknown }).pipe);
  const other = side as { fd?: unknown; offset?: unknown };
  checkFd(op, `${name}.fd`, other.fd);
  checkOffset(op, other.offset ?? OFFSET_CURRENT_POS);
}

function checkMsg(op: Operation, msg: unknown): void {
  if (typeof msg !== "object" || msg === null) {
    invalid(op, "InvalidArgument", `msg must be a MessageHeader, got ${show(msg)}`);
  }
  const m = msg as MessageHeader;
  checkIov(op, m.iov);
  if (m.name !== null) {
    checkBuffer(op, "msg.name", m.name);
    checkUint(op, "msg.namelen", m.namelen, m.name.byteLength);
  }
  if (m.control !== null) {
    checkBuffer(op, "msg.control", m.control);
    checkUint(op, "msg.controllen", m.controllen, m.control.byteLength);
  }
}

function checkSource(op: Operation, source: unknown): void {
  if (typeof source !== "object" || source === null || typeof (source as EventSource).fd !== "number") {
    invalid(op, "InvalidArgument", `source must be an aio.EventSource, got ${show(source)}`);
  }
  if ((source as EventSource).fd < 0) invalid(op, "InvalidFd", "the event source is closed");
}

/**
 * Checks an operation's fields; throws {@linkcode InvalidOperationError} on bad input.
 * Factories call it, and queues call it again because fields may change before queueing.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const op = aio.nop();
 * aio.validate(op);
 * ```
 */
export function validate(op: Operation): void {
  if (typeof op !== "object" || op === null || typeof op.kind !== "string") {
    throw new InvalidOperationError(undefined, "InvalidArgument", `not an operation: ${show(op)}`);
  }
  checkLink(op);
  validateFields(op);
}

function checkLink(op: Operation): void {
  const link = op.link;
  if (link !== "unlinked" && link !== "soft" && link !== "hard") {
    invalid(op, "InvalidArgument", `link must be "unlinked", "soft" or "hard", got ${show(link)}`);
  }
}

function validateFields(op: Operation): void {
  switch (op.kind) {
    case "nop":
      return;
    case "fsync":
      return checkFd(op, "file", op.file);
    case "poll":
      checkFd(op, "fd", op.fd);
      return checkObject(op, "events", op.events);
    case "readTty":
      checkFd(op, "tty", op.tty);
      if (op.mode !== "direct") {
        invalid(op, "InvalidArgument", `mode must be "direct", got ${show((op as { mode: unknown }).mode)}`);
      }
      return checkBuffer(op, "buffer", op.buffer);
    case "read":
    case "write":
      checkFd(op, "file", op.file);
      checkBuffer(op, "buffer", op.buffer);
      return checkOffset(op, op.offset);
    case "readv":
    case "writev":
      checkFd(op, "file", op.file);
      checkIov(op, op.iov);
      return checkOffset(op, op.offset);
    case "accept":
      checkFd(op, "socket", op.socket);
      if (op.outAddr !== null) checkBuffer(op, "outAddr", op.outAddr, 16);
      return;
    case "connect":
    case "bind":
      checkFd(op, "socket", op.socket);
      return checkAddr(op, op.addr, op.addrlen);
    case "listen":
      checkFd(op, "socket", op.socket);
      return checkUint(op, "backlog", op.backlog, 0x7fff_ffff);
    case "recv":
    case "send":
      checkFd(op, "socket", op.socket);
      checkObject(op, "flags", op.flags);
      return checkBuffer(op, "buffer", op.buffer);
    case "recvMsg":
      checkFd(op, "socket", op.socket);
      checkObject(op, "flags", op.flags);
      return checkMsg(op, op.outMsg);
    case "sendMsg":
      checkFd(op, "socket", op.socket);
      checkObject(op, "flags", op.flags);
      return checkMsg(op, op.msg);
    case "shutdown":
      checkFd(op, "socket", op.socket);
      if (op.how !== "recv" && op.how !== "send" && op.how !== "both") {
        invalid(op, "InvalidArgument", `how must be "recv", "send" or "both", got ${show(op.how)}`);
      }
      return;
    case "openAt":
      checkFd(op, "dir", op.dir, true);
      checkPath(op, "path", op.path);
      checkObject(op, "flags", op.flags);
      if (op.flags.permissions !== undefined) checkUint(op, "flags.permissions", op.flags.permissions, 0o7777);
      if (
        op.flags.mode !== undefined && op.flags.mode !== "read_only" && op.flags.mode !== "write_only" &&
        op.flags.mode !== "read_write"
      ) {
        invalid(
          op,
          "InvalidArgument",
          `flags.mode must be "read_only", "write_only" or "read_write", got ${show(op.flags.mode)}`,
        );
      }
      return;
    case "closeFile":
      return checkFd(op, "file", op.file);
    case "closeDir":
      return checkFd(op, "dir", op.dir);
    case "timeout":
    case "linkTimeout":
      return checkNs(op, op.ns);
    case "cancel":
      return checkUint(op, "id", op.id, 0xff_ffff);
    case "renameAt":
      checkFd(op, "oldDir", op.oldDir, true);
      checkPath(op, "oldPath", op.oldPath);
      checkFd(op, "newDir", op.newDir, true);
      return checkPath(op, "newPath", op.newPath);
    case "unlinkAt":
      checkFd(op, "dir", op.dir, true);
      checkBoolean(op, "removeDir", op.removeDir);
      return checkPath(op, "path", op.path);
    case "mkdirAt":
      checkFd(op, "dir", op.dir, true);
      checkPath(op, "path", op.path);
      return checkUint(op, "mode", op.mode, 0o7777);
    case "symlinkAt":
      checkFd(op, "dir", op.dir, true);
      checkPath(op, "target", op.target);
      return checkPath(op, "linkPath", op.linkPath);
    case "childExit":
      if (typeof op.child !== "number" || !Number.isInteger(op.child) || op.child <= 0 || op.child > 0x7fff_ffff) {
        invalid(op, "InvalidArgument", `child must be a positive pid, got ${show(op.child)}`);
      }
      return;
    case "socket":
      checkUint(op, "domain", op.domain, MAX_U32);
      checkUint(op, "flags", op.flags, MAX_U32);
      return checkUint(op, "protocol", op.protocol, MAX_U32);
    case "closeSocket":
      return checkFd(op, "socket", op.socket);
    case "notifyEventSource":
    case "waitEventSource":
    case "closeEventSource":
      return checkSource(op, op.source);
    case "splice":
      checkSpliceFd(op, "in", op.in);
      checkSpliceFd(op, "out", op.out);
      checkObject(op, "flags", op.flags);
      return checkUint(op, "len", op.len, 0x7fff_f000);
    default:
      throw new InvalidOperationError(
        undefined,
        "InvalidArgument",
        `unknown operation kind ${String((op as { kind: unknown }).kind)}`,
      );
  }
}

/**
 * Internal: validates `ops[i]` in its batch and marks it in flight; returns its kind code. Throws
 * without marking anything. The queue's single pass over a batch calls this per operation.
 */
export function claimOne(ops: readonly Operation[], i: number): number {
  const op = ops[i] as Operation & { [kInFlight]: boolean; [kCode]: number };
  // One read tells apart a free operation (false), one in flight (true) and anything else.
  const state = (op as { [kInFlight]?: unknown } | undefined)?.[kInFlight];
  if (state !== false) {
    if (state !== true) {
      throw new InvalidOperationError(
        undefined,
        "InvalidArgument",
        `ops[${i}] is not an operation made by an aio factory`,
      );
    }
    // Either queued earlier and not completed, or given twice in this batch.
    const dup = ops.indexOf(op) < i;
    invalid(
      op,
      dup ? "DuplicateOperation" : "OperationInFlight",
      dup
        ? `ops[${i}] appears twice in the batch`
        : `ops[${i}] is still queued; wait for its completion before reusing it`,
    );
  }
  const link = op.link;
  if (link !== "unlinked" && link !== "soft" && link !== "hard") checkLink(op);
  const code = op[kCode];
  if (code !== NOP) {
    validateFields(op);
    if (code === LINK_TIMEOUT && (i === 0 || ops[i - 1].link === "unlinked")) {
      invalid(op, "LinkTimeoutNotLinked", "a linkTimeout must follow an operation linked soft or hard");
    }
  }
  op[kInFlight] = true;
  return code;
}

/** Internal: throws when the batch's last operation is linked. */
export function checkLastUnlinked(ops: readonly Operation[]): void {
  if (ops[ops.length - 1].link !== "unlinked") {
    invalid(ops[ops.length - 1], "LastOperationLinked", "the last operation of a batch must be unlinked");
  }
}

const NOP = 0;
const LINK_TIMEOUT = 21;
/** Internal: the kind code of closeSocket. */
export const CLOSE_SOCKET = 29;

/** Internal: clears the in-flight mark of the first `count` operations (undoing {@linkcode claimOne}). */
export function releaseBatch(ops: readonly Operation[], count: number): void {
  for (let j = 0; j < count; j++) markCompleted(ops[j]);
}

/** Internal: the operation may be queued again. */
export function markCompleted(op: Operation): void {
  (op as Operation & { [kInFlight]: boolean })[kInFlight] = false;
}
