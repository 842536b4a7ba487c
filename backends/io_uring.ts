/**
 * The io_uring backend: liburing sets the ring up, TypeScript does the rest.
 *
 * The SQ ring, CQ ring and SQE array are mapped once each as ArrayBuffers over the kernel's
 * memory. SQEs are written as Uint32Array stores, the SQ tail is published with a store ordered
 * after them (see `TSO` below), and `io_uring_enter` (declared u32×4 → i32, V8's fast-call path)
 * submits and waits. CQEs are read from the mapped CQ with no syscall.
 *
 * Waiting without blocking the event loop ("parking"): an IORING_OP_POLL_ADD on the ring's own fd
 * is hard-linked to a 1-byte IORING_OP_WRITE into a pipe whose read end is a `node:net.Socket`.
 * When any CQE is posted the ring fd turns readable, the write lands, and the event loop wakes us.
 * Measured here about 25 µs cheaper than a `nonblocking: true` FFI wait on Deno's thread pool.
 *
 * @module
 */
import net from "node:net";
import { type Liburing, openLiburing } from "../ffi/liburing.ts";
import { errno, openLibc } from "../ffi/libc.ts";
import { addressOf, cString, stableBytes } from "../ffi/memory.ts";
import {
  AT_REMOVEDIR,
  ERRNO,
  errnoName,
  IO_URING_OP_SUPPORTED,
  IORING_ASYNC_CANCEL_ALL,
  IORING_ASYNC_CANCEL_FD,
  IORING_ENTER_GETEVENTS,
  IORING_FEAT_NODROP,
  IORING_FEAT_RW_CUR_POS,
  IORING_FEAT_SUBMIT_STABLE,
  IORING_OP,
  IORING_SETUP_CLAMP,
  IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_CQSIZE,
  IORING_SETUP_SINGLE_ISSUER,
  IORING_SQ_CQ_OVERFLOW,
  IORING_SQ_TASKRUN,
  IORING_TIMEOUT_ETIME_SUCCESS,
  IOSQE_CQE_SKIP_SUCCESS,
  IOSQE_IO_HARDLINK,
  IOSQE_IO_LINK,
  O,
  P_PID,
  P_PIDFD,
  POLL,
  RENAME_NOREPLACE,
  SOCK,
  SYS_pidfd_open,
  WEXITED,
  WNOHANG,
  WNOWAIT,
} from "../ffi/linux.ts";
import {
  type Backend,
  type CompletionSink,
  SLOT_FINISH,
  SLOT_SCRATCH,
  SLOT_UNSUPPORTED,
  type SlotTable,
} from "../aio/backend.ts";
import { CODE as C, OPERATION_KINDS } from "../aio/ops.ts";
import { openFlags, recvFlags, sendFlags, spliceSide, writeIovecs, writeMsghdr } from "./common.ts";
import { BackendError } from "../aio/errors.ts";
import type { Operation, OperationKind } from "../aio/ops.ts";

// The ring's head and tail words are shared with the kernel, which may post CQEs from another CPU
// (io-wq workers): the CQ tail needs an acquire load, the CQ head a release store, and the SQ
// tail a store ordered after the SQEs. `Atomics` gives that everywhere, but V8 compiles it to a
// runtime call of 10 to 50 ns, five of them per submit-and-reap (measured: NOPs at batch 1 went
// from 0.60 to 0.70 × C without them). On x86-64 every plain load is an acquire and every plain
// store a release (TSO), and V8 keeps typed-array loads and stores in program order on its effect
// chain, so plain accesses are enough there; other CPUs keep `Atomics`. No SQPOLL thread is ever
// set up: the kernel reads the SQ only inside this thread's io_uring_enter.
const TSO = Deno.build.arch === "x86_64";
const IORING_SETUP_SUBMIT_ALL = 1 << 7;
const IORING_FEAT_FAST_POLL = 1 << 5;
const IORING_FEAT_CQE_SKIP = 1 << 11;
const IORING_FEAT_LINKED_FILE = 1 << 12;
/** High word of a user_data value that no request ever has: cancelling it fails with -ENOENT. */
const NEVER = 2;
/** User data high word for entries whose completions the queue never sees. */
const INTERNAL = 1;
const U32 = 4294967296;
const EINTR = ERRNO.EINTR;
const EAGAIN = ERRNO.EAGAIN;
const EBUSY = ERRNO.EBUSY;
const ETIME = ERRNO.ETIME;
const IORING_ENTER_EXT_ARG = 1 << 3;

/** Options for {@linkcode IoUringBackend}. */
export interface IoUringOptions {
  /** Submission queue entries (rounded up to a power of two, clamped to the kernel's maximum). */
  sqEntries: number;
  /** Completion queue entries; default twice `sqEntries`. */
  cqEntries?: number;
  /**
   * Use zig-aio's flags (SINGLE_ISSUER|COOP_TASKRUN first). Only for queues that never park:
   * with COOP_TASKRUN the kernel does not wake a thread sleeping in Deno's event loop to run
   * completion work, so a parked queue could sleep forever.
   */
  syncOnly?: boolean;
}

/** The kernel's probe of supported opcodes, read once per isolate. */
let probed: Uint8Array | undefined;
/** Test hook: pretend IORING_OP_WAITID is missing, to exercise the pidfd fallback. */
let forcePidfdFallback = false;

/** Test hook: kinds treated as missing from the kernel's probe. */
let hiddenKinds: ReadonlySet<OperationKind> = new Set();

/** Test hook: make ChildExit use pidfd and poll even where IORING_OP_WAITID exists. */
export function setForcePidfdFallback(on: boolean): void {
  forcePidfdFallback = on;
}

/** Test hook: pretend the kernel lacks these kinds, to exercise OperationNotSupported. */
export function setHiddenKinds(kinds: readonly OperationKind[]): void {
  hiddenKinds = new Set(kinds);
}

function opcodeOf(kind: OperationKind, waitid: boolean): number {
  switch (kind) {
    case "nop":
      return IORING_OP.NOP;
    case "fsync":
      return IORING_OP.FSYNC;
    case "poll":
      return IORING_OP.POLL_ADD;
    case "readTty":
    case "read":
    case "waitEventSource":
      return IORING_OP.READ;
    case "write":
    case "notifyEventSource":
      return IORING_OP.WRITE;
    case "readv":
      return IORING_OP.READV;
    case "writev":
      return IORING_OP.WRITEV;
    case "accept":
      return IORING_OP.ACCEPT;
    case "connect":
      return IORING_OP.CONNECT;
    case "bind":
      return IORING_OP.BIND;
    case "listen":
      return IORING_OP.LISTEN;
    case "recv":
      return IORING_OP.RECV;
    case "send":
      return IORING_OP.SEND;
    case "recvMsg":
      return IORING_OP.RECVMSG;
    case "sendMsg":
      return IORING_OP.SENDMSG;
    case "shutdown":
      return IORING_OP.SHUTDOWN;
    case "openAt":
      return IORING_OP.OPENAT;
    case "closeFile":
    case "closeDir":
    case "closeSocket":
    case "closeEventSource":
      return IORING_OP.CLOSE;
    case "timeout":
      return IORING_OP.TIMEOUT;
    case "linkTimeout":
      return IORING_OP.LINK_TIMEOUT;
    case "cancel":
      return IORING_OP.ASYNC_CANCEL;
    case "renameAt":
      return IORING_OP.RENAMEAT;
    case "unlinkAt":
      return IORING_OP.UNLINKAT;
    case "mkdirAt":
      return IORING_OP.MKDIRAT;
    case "symlinkAt":
      return IORING_OP.SYMLINKAT;
    case "childExit":
      return waitid ? IORING_OP.WAITID : IORING_OP.POLL_ADD;
    case "socket":
      return IORING_OP.SOCKET;
    case "splice":
      return IORING_OP.SPLICE;
  }
}

function map(address: number, length: number): ArrayBuffer {
  return Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(BigInt(address))!, length);
}

function setupError(res: number, detail: string): BackendError {
  const name = errnoName(-res);
  const code = res === -ERRNO.EPERM
    ? "PermissionDenied"
    : res === -ERRNO.ENOSYS || res === -ERRNO.EINVAL
    ? "SystemOutdated"
    : res === -ERRNO.EMFILE
    ? "ProcessFdQuotaExceeded"
    : res === -ERRNO.ENFILE
    ? "SystemFdQuotaExceeded"
    : res === -ERRNO.ENOMEM
    ? "SystemResources"
    : "Unexpected";
  return new BackendError("io_uring", code, name, detail);
}

/**
 * One io_uring instance.
 *
 * @example
 * ```ts
 * import { IoUringBackend } from "./io_uring.ts";
 * const ring = new IoUringBackend({ sqEntries: 8 });
 * console.log(ring.isSupported(["nop"]));
 * ring.close();
 * ```
 */
export class IoUringBackend implements Backend {
  /** Which backend this is. */
  readonly name = "io_uring" as const;
  /** The ring's fd. */
  readonly fd: number;
  /** The setup flags the kernel accepted. */
  readonly setupFlags: number;
  /** Most entries one batch may take: the SQ less the two that parking needs. */
  readonly maxBatch: number;

  readonly #lib: Liburing;
  readonly #ring = stableBytes(216);
  readonly #sq: Uint32Array;
  readonly #cq: Uint32Array;
  readonly #cqi: Int32Array;
  readonly #sqe: Uint32Array;
  readonly #sqHead: number;
  readonly #sqTail: number;
  readonly #sqFlags: number;
  readonly #sqMask: number;
  readonly #sqEntries: number;
  readonly #cqHead: number;
  readonly #cqTail: number;
  readonly #cqMask: number;
  readonly #cqes: number;
  /** Opcode per kind code; -1 where the kernel lacks it. */
  readonly #opcodes: Int16Array;
  #scratch: Uint8Array = new Uint8Array(0);
  #scratchView: DataView = new DataView(new ArrayBuffer(0));
  #scratchAddress = 0;
  #flags: Uint8Array = new Uint8Array(0);
  #tail: number;
  #closed = false;

  // Parking.
  #pipe: Int32Array | undefined;
  #socket: net.Socket | undefined;
  #parked: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #wakeByte = stableBytes(1);
  // struct io_uring_getevents_arg { u64 sigmask; u32 sigmask_sz; u32 pad; u64 ts; } and its timespec.
  readonly #waitTs = new BigInt64Array(new ArrayBuffer(16));
  readonly #waitArg = new BigUint64Array(new ArrayBuffer(24));

  /**
   * Creates a ring. Throws {@linkcode BackendError} when io_uring is refused or too old.
   *
   * @example
   * ```ts
   * import { IoUringBackend } from "./io_uring.ts";
   * new IoUringBackend({ sqEntries: 64 }).close();
   * ```
   */
  constructor(options: IoUringOptions) {
    this.#lib = openLiburing();
    const sqWanted = Math.min(32768, 2 ** Math.ceil(Math.log2(Math.max(2, options.sqEntries))));
    const chain = options.syncOnly
      ? [IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN, IORING_SETUP_COOP_TASKRUN, 0]
      : [IORING_SETUP_SINGLE_ISSUER, 0];
    const params = stableBytes(120);
    const pv = new DataView(params.buffer);
    let res = -ERRNO.EINVAL;
    let flags = 0;
    for (const base of chain) {
      for (const extra of [IORING_SETUP_SUBMIT_ALL, 0]) {
        flags = base | extra | IORING_SETUP_CLAMP | (options.cqEntries ? IORING_SETUP_CQSIZE : 0);
        params.fill(0);
        pv.setUint32(4, options.cqEntries ?? 0, true);
        pv.setUint32(8, flags, true);
        res = this.#lib.symbols.io_uring_queue_init_params(sqWanted, this.#ring, params);
        if (res !== -ERRNO.EINVAL) break;
      }
      if (res !== -ERRNO.EINVAL) break;
    }
    if (res < 0) {
      throw setupError(
        res,
        res === -ERRNO.EPERM
          ? "io_uring_setup was refused: a seccomp filter (Docker's default profile) or kernel.io_uring_disabled blocks it"
          : res === -ERRNO.ENOSYS
          ? "this kernel has no io_uring"
          : "io_uring_queue_init_params failed",
      );
    }
    this.setupFlags = flags;

    const features = pv.getUint32(20, true);
    const wanted = IORING_FEAT_NODROP | IORING_FEAT_SUBMIT_STABLE | IORING_FEAT_RW_CUR_POS |
      IORING_FEAT_FAST_POLL | IORING_FEAT_CQE_SKIP | IORING_FEAT_LINKED_FILE;
    if ((features & wanted) !== wanted) {
      this.#lib.symbols.io_uring_queue_exit(this.#ring);
      throw new BackendError(
        "io_uring",
        "SystemOutdated",
        undefined,
        `kernel lacks io_uring features 0x${(wanted & ~features).toString(16)}`,
      );
    }

    const rv = new DataView(this.#ring.buffer);
    const ptr = (off: number) => Number(rv.getBigUint64(off, true));
    this.fd = rv.getInt32(196, true);
    const sqBase = ptr(80);
    const cqBase = ptr(168);
    this.#sqEntries = rv.getUint32(92, true);
    const cqEntries = rv.getUint32(180, true);
    // With IORING_FEAT_SINGLE_MMAP both rings share one mapping: one ArrayBuffer serves both,
    // since V8 must never see two ArrayBuffers over the same address.
    const sqBuf = map(sqBase, Math.max(ptr(72), cqBase === sqBase ? ptr(160) : 0));
    const cqBuf = cqBase === sqBase ? sqBuf : map(cqBase, ptr(160));
    this.#sq = new Uint32Array(sqBuf);
    this.#cq = new Uint32Array(cqBuf);
    this.#cqi = new Int32Array(cqBuf);
    this.#sqe = new Uint32Array(map(ptr(56), this.#sqEntries * 64));
    this.#sqHead = (ptr(0) - sqBase) / 4;
    this.#sqTail = (ptr(8) - sqBase) / 4;
    this.#sqFlags = (ptr(32) - sqBase) / 4;
    this.#sqMask = this.#sqEntries - 1;
    this.#cqHead = (ptr(104) - cqBase) / 4;
    this.#cqTail = (ptr(112) - cqBase) / 4;
    this.#cqMask = cqEntries - 1;
    this.#cqes = (ptr(152) - cqBase) / 4;
    // SQ slot i always holds SQE i, so publishing a tail is all a submission needs.
    const array = (ptr(48) - sqBase) / 4;
    for (let i = 0; i < this.#sqEntries; i++) this.#sq[array + i] = i;
    this.#tail = this.#sq[this.#sqTail];
    this.maxBatch = this.#sqEntries - 2;

    this.#waitArg[2] = BigInt(addressOf(this.#waitTs));
    if (!probed) probed = this.#probe();
    const waitid = probed[IORING_OP.WAITID] === 1;
    this.#opcodes = new Int16Array(OPERATION_KINDS.length);
    OPERATION_KINDS.forEach((kind, code) => {
      const opcode = opcodeOf(kind, waitid);
      this.#opcodes[code] = probed![opcode] === 1 ? opcode : -1;
    });
  }

  #probe(): Uint8Array {
    const buf = stableBytes(16 + 256 * 8);
    const supported = new Uint8Array(256);
    const res = this.#lib.symbols.io_uring_register_probe(this.#ring, buf, 256);
    if (res < 0) return supported;
    const last = buf[0];
    for (let op = 0; op <= last && op < buf[1]; op++) {
      const flags = buf[16 + op * 8 + 2] | (buf[16 + op * 8 + 3] << 8);
      supported[op] = flags & IO_URING_OP_SUPPORTED ? 1 : 0;
    }
    return supported;
  }

  /** Whether the kernel supports every kind (from its probe). */
  isSupported(kinds: readonly OperationKind[]): boolean {
    const probe = probed!;
    return kinds.every((k) => {
      if (hiddenKinds.has(k)) return false;
      if (k === "childExit") return probe[IORING_OP.WAITID] === 1 || probe[IORING_OP.POLL_ADD] === 1;
      return probe[opcodeOf(k, true)] === 1;
    });
  }

  #live(): void {
    if (this.#closed) throw new BackendError("io_uring", "Closed", undefined, "the ring is closed");
  }

  // The kernel's SQ head: how far it has consumed the SQ.
  #sqHeadNow(): number {
    return TSO ? this.#sq[this.#sqHead] : Atomics.load(this.#sq, this.#sqHead);
  }

  // Publishes the SQEs written since the last call; returns how many are waiting for the kernel.
  #publish(): number {
    const pending = (this.#tail - this.#sqHeadNow()) >>> 0;
    if (TSO) this.#sq[this.#sqTail] = this.#tail;
    else Atomics.store(this.#sq, this.#sqTail, this.#tail);
    return pending;
  }

  /** Free SQ entries. */
  space(): number {
    this.#live();
    return this.#sqEntries - ((this.#tail - this.#sqHeadNow()) >>> 0);
  }

  /** The local SQ tail. */
  mark(): number {
    return this.#tail;
  }

  /** Drops SQEs written since `mark`; they were never published to the kernel. */
  rollback(mark: number): void {
    this.#tail = mark;
  }

  /** closeSocket takes a hidden cancel entry before its close. */
  readonly closeSocketEntries = 2;

  // Writes one SQE and returns its base index in the Uint32Array view.
  #put(
    opcode: number,
    flags: number,
    fd: number,
    addr: number,
    len: number,
    off: number,
    opFlags: number,
    ud: number,
  ): number {
    const b = (this.#tail & this.#sqMask) << 4;
    const s = this.#sqe;
    s[b] = opcode | (flags << 8);
    s[b + 1] = fd;
    s[b + 2] = off;
    s[b + 3] = off < 0 ? 0xffff_ffff : off / U32;
    s[b + 4] = addr;
    s[b + 5] = addr / U32;
    s[b + 6] = len;
    s[b + 7] = opFlags;
    s[b + 8] = ud;
    s[b + 9] = 0;
    s[b + 10] = 0;
    s[b + 11] = 0;
    s[b + 12] = 0;
    s[b + 13] = 0;
    s[b + 14] = 0;
    s[b + 15] = 0;
    this.#tail = (this.#tail + 1) >>> 0;
    return b;
  }

  /** Attaches the queue's slot scratch memory and flags. */
  bind(slots: SlotTable): void {
    this.#scratch = slots.scratch;
    this.#scratchView = new DataView(slots.scratch.buffer, slots.scratch.byteOffset, slots.scratch.byteLength);
    this.#scratchAddress = slots.address;
    this.#flags = slots.flags;
  }

  // An entry that fails when it runs, in its place in the chain, rather than at preparation (an
  // invalid opcode would fail the chain's head, so nothing before it in the chain would run): a
  // cancel of a user_data value no request has, which completes with -ENOENT.
  #standIn(lf: number, ud: number): void {
    const b = this.#put(IORING_OP.ASYNC_CANCEL, lf, -1, 0, 0, 0, 0, ud);
    this.#sqe[b + 5] = NEVER;
  }

  /** Encodes one operation into the SQ; returns what must stay alive until its completion. */
  prep(op: Operation, code: number, ud: number, slot: number): unknown {
    const lf = op.link === "unlinked" ? 0 : op.link === "soft" ? IOSQE_IO_LINK : IOSQE_IO_HARDLINK;
    const opcode = this.#opcodes[code];
    if (opcode < 0 || (hiddenKinds.size > 0 && hiddenKinds.has(op.kind))) {
      this.#standIn(lf, ud);
      this.#flags[slot] |= SLOT_UNSUPPORTED;
      return undefined;
    }
    if (code === C.nop) {
      this.#put(opcode, lf, 0, 0, 0, 0, 0, ud);
      return undefined;
    }
    const scratch = this.#scratchAddress + slot * SLOT_SCRATCH;
    const base = slot * SLOT_SCRATCH;
    const view = this.#scratchView;
    switch (op.kind) {
      case "nop":
        return undefined;
      case "fsync":
        this.#put(opcode, lf, op.file, 0, 0, 0, 0, ud);
        return undefined;
      case "poll": {
        const e = op.events;
        this.#put(
          opcode,
          lf,
          op.fd,
          0,
          0,
          0,
          (e.in ? POLL.IN : 0) | (e.pri ? POLL.PRI : 0) | (e.out ? POLL.OUT : 0),
          ud,
        );
        return undefined;
      }
      case "readTty":
        this.#put(opcode, lf, op.tty, addressOf(op.buffer), op.buffer.byteLength, -1, 0, ud);
        return op.buffer;
      case "read":
      case "write":
        this.#put(opcode, lf, op.file, addressOf(op.buffer), op.buffer.byteLength, op.offset, 0, ud);
        return op.buffer;
      case "readv":
      case "writev": {
        const [addr, keep] = writeIovecs(this.#scratchView, this.#scratchAddress, op.iov, slot, 0);
        this.#put(opcode, lf, op.file, addr, op.iov.length, op.offset, 0, ud);
        return keep;
      }
      case "accept": {
        if (op.outAddr === null) {
          this.#put(opcode, lf, op.socket, 0, 0, 0, SOCK.CLOEXEC, ud);
          return undefined;
        }
        view.setUint32(base, op.outAddr.byteLength, true);
        this.#put(opcode, lf, op.socket, addressOf(op.outAddr), 0, scratch, SOCK.CLOEXEC, ud);
        return op.outAddr;
      }
      case "connect":
      case "bind":
        this.#put(opcode, lf, op.socket, addressOf(op.addr), 0, op.addrlen, 0, ud);
        return op.addr;
      case "listen":
        this.#put(opcode, lf, op.socket, 0, op.backlog, 0, 0, ud);
        return undefined;
      case "recv":
        this.#put(opcode, lf, op.socket, addressOf(op.buffer), op.buffer.byteLength, 0, recvFlags(op.flags), ud);
        return op.buffer;
      case "send":
        this.#put(opcode, lf, op.socket, addressOf(op.buffer), op.buffer.byteLength, 0, sendFlags(op.flags), ud);
        return op.buffer;
      case "recvMsg":
      case "sendMsg": {
        const msg = op.kind === "recvMsg" ? op.outMsg : op.msg;
        const [, keep] = writeMsghdr(view, this.#scratchAddress, msg, slot);
        const flags = op.kind === "recvMsg" ? recvFlags(op.flags) : sendFlags(op.flags);
        this.#put(opcode, lf, op.socket, scratch, 1, 0, flags, ud);
        return keep;
      }
      case "shutdown":
        this.#put(opcode, lf, op.socket, 0, op.how === "recv" ? 0 : op.how === "send" ? 1 : 2, 0, 0, ud);
        return undefined;
      case "openAt": {
        const path = cString(op.path)!;
        this.#put(opcode, lf, op.dir, addressOf(path), op.flags.permissions ?? 0o644, 0, openFlags(op.flags), ud);
        return path;
      }
      case "closeFile":
        this.#put(opcode, lf, op.file, 0, 0, 0, 0, ud);
        return undefined;
      case "closeDir":
        this.#put(opcode, lf, op.dir, 0, 0, 0, 0, ud);
        return undefined;
      case "timeout":
      case "linkTimeout":
        view.setBigInt64(base, BigInt(Math.floor(op.ns / 1e9)), true);
        view.setBigInt64(base + 8, BigInt(op.ns % 1e9), true);
        this.#put(opcode, lf, -1, scratch, 1, 0, op.kind === "timeout" ? IORING_TIMEOUT_ETIME_SUCCESS : 0, ud);
        return undefined;
      case "cancel":
        this.#put(opcode, lf, -1, op.id, 0, 0, 0, ud);
        return undefined;
      case "renameAt": {
        const oldPath = cString(op.oldPath)!;
        const newPath = cString(op.newPath)!;
        this.#put(opcode, lf, op.oldDir, addressOf(oldPath), op.newDir, addressOf(newPath), RENAME_NOREPLACE, ud);
        return [oldPath, newPath];
      }
      case "unlinkAt": {
        const path = cString(op.path)!;
        this.#put(opcode, lf, op.dir, addressOf(path), 0, 0, op.removeDir ? AT_REMOVEDIR : 0, ud);
        return path;
      }
      case "mkdirAt": {
        const path = cString(op.path)!;
        this.#put(opcode, lf, op.dir, addressOf(path), op.mode, 0, 0, ud);
        return path;
      }
      case "symlinkAt": {
        const target = cString(op.target)!;
        const linkPath = cString(op.linkPath)!;
        this.#put(opcode, lf, op.dir, addressOf(target), 0, addressOf(linkPath), 0, ud);
        return [target, linkPath];
      }
      case "childExit": {
        if (opcode === IORING_OP.WAITID && !forcePidfdFallback) {
          // io_uring_prep_waitid: fd = id, len = idtype, addr2 = infop, file_index = options.
          const b = this.#put(opcode, lf, op.child, 0, P_PID, scratch, 0, ud);
          this.#sqe[b + 11] = WEXITED;
          return undefined;
        }
        const libc = openLibc().symbols;
        let pidfd = Number(libc.syscall(BigInt(SYS_pidfd_open), BigInt(op.child), 0n));
        // pidfd_open accepts any process; only a child of ours can be waited for. A non-reaping
        // waitid tells (ECHILD otherwise) without consuming its exit status.
        if (
          pidfd >= 0 &&
          libc.waitid(P_PIDFD, pidfd, this.#scratch.subarray(base, base + SLOT_SCRATCH), WEXITED | WNOHANG | WNOWAIT) <
            0
        ) {
          libc.close(pidfd);
          pidfd = -1;
        }
        if (pidfd < 0) {
          // No such child: the stand-in fails with -ENOENT, which ChildExit reports as NotFound.
          this.#standIn(lf, ud);
          return undefined;
        }
        this.#flags[slot] |= SLOT_FINISH;
        this.#put(IORING_OP.POLL_ADD, lf, pidfd, 0, 0, 0, POLL.IN, ud);
        return pidfd;
      }
      case "socket":
        this.#put(opcode, lf, op.domain, 0, op.protocol, op.flags, 0, ud);
        return undefined;
      case "closeSocket": {
        // zig-aio#67: closing a socket first cancels everything outstanding on it. The cancel's
        // success is skipped; its failure (nothing to cancel) is an internal CQE, ignored.
        const b = this.#put(
          IORING_OP.ASYNC_CANCEL,
          IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS,
          op.socket,
          0,
          0,
          0,
          IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD,
          0,
        );
        this.#sqe[b + 9] = INTERNAL;
        this.#put(opcode, lf, op.socket, 0, 0, 0, 0, ud);
        return undefined;
      }
      case "notifyEventSource":
        view.setBigUint64(base, 1n, true);
        this.#put(opcode, lf, op.source.fd, scratch, 8, 0, 0, ud);
        return undefined;
      case "waitEventSource":
        this.#put(opcode, lf, op.source.fd, scratch, 8, 0, 0, ud);
        return undefined;
      case "closeEventSource":
        this.#put(opcode, lf, op.source.fd, 0, 0, 0, 0, ud);
        return undefined;
      case "splice": {
        const [inFd, inOff] = spliceSide(op.in);
        const [outFd, outOff] = spliceSide(op.out);
        const f = op.flags;
        const flags = (f.move ? 1 : 0) | (f.nonblock === false ? 0 : 2) | (f.more ? 4 : 0);
        // addr holds splice_off_in; -1 (no offset) must be all ones in both halves.
        const b = this.#put(opcode, lf, outFd, 0, op.len, outOff, flags, ud);
        this.#sqe[b + 4] = inOff < 0 ? 0xffff_ffff : inOff >>> 0;
        this.#sqe[b + 5] = inOff < 0 ? 0xffff_ffff : inOff / U32;
        this.#sqe[b + 11] = inFd;
        return undefined;
      }
    }
  }

  /**
   * Finishes a ChildExit that went through the pidfd fallback: reaps the child into the slot's
   * siginfo and closes the pidfd. Returns the result to report.
   */
  finishChildExit(res: number, slot: number, keep: unknown): number {
    const pidfd = keep as number;
    const libc = openLibc().symbols;
    if (res >= 0) {
      const base = slot * SLOT_SCRATCH;
      const r = libc.waitid(P_PIDFD, pidfd, this.#scratch.subarray(base, base + SLOT_SCRATCH), WEXITED | WNOHANG);
      res = r < 0 ? -errno() : 0;
    }
    libc.close(pidfd);
    return res;
  }

  /** Submits what is queued; waits for `minComplete` completions. */
  submit(minComplete: number): void {
    this.#live();
    const pending = this.#publish();
    let flags = minComplete > 0 ? IORING_ENTER_GETEVENTS : 0;
    if (pending === 0 && minComplete === 0) {
      // Nothing to submit, but the kernel may hold overflowed CQEs or deferred completion work.
      if ((this.#sq[this.#sqFlags] & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) === 0) return;
      flags = IORING_ENTER_GETEVENTS;
    }
    for (;;) {
      const r = this.#lib.symbols.io_uring_enter(this.fd, pending, minComplete, flags, null);
      if (r >= 0) return;
      if (r === -EINTR) continue;
      // EAGAIN/EBUSY: the kernel holds overflowed completions and wants them reaped first.
      if (r === -EAGAIN || r === -EBUSY) return;
      throw new BackendError("io_uring", "Unexpected", errnoName(-r), "io_uring_enter failed");
    }
  }

  /** Submits, then waits up to `timeoutNs` for a completion (IORING_ENTER_EXT_ARG). */
  submitWithin(timeoutNs: number): void {
    this.#live();
    const pending = this.#publish();
    this.#waitTs[0] = BigInt(Math.floor(timeoutNs / 1e9));
    this.#waitTs[1] = BigInt(Math.floor(timeoutNs % 1e9));
    for (;;) {
      const r = this.#lib.symbols.io_uring_enter2(
        this.fd,
        pending,
        1,
        IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
        this.#waitArg,
        24n,
      );
      if (r >= 0 || r === -ETIME || r === -EAGAIN || r === -EBUSY) return;
      if (r === -EINTR) continue;
      throw new BackendError("io_uring", "Unexpected", errnoName(-r), "io_uring_enter2 failed");
    }
  }

  /** Reads completions off the CQ. */
  reap(sink: CompletionSink): number {
    this.#live();
    const cq = this.#cq;
    let n = 0;
    for (;;) {
      let head = cq[this.#cqHead];
      const tail = TSO ? cq[this.#cqTail] : Atomics.load(cq, this.#cqTail);
      if (head === tail) {
        if ((this.#sq[this.#sqFlags] & IORING_SQ_CQ_OVERFLOW) === 0) return n;
        // NODROP kept completions the CQ had no room for; enter flushes them into the CQ.
        this.#lib.symbols.io_uring_enter(this.fd, 0, 0, IORING_ENTER_GETEVENTS, null);
        if (cq[this.#cqHead] === (TSO ? cq[this.#cqTail] : Atomics.load(cq, this.#cqTail))) return n;
        continue;
      }
      try {
        while (head !== tail) {
          const i = this.#cqes + ((head & this.#cqMask) << 2);
          const udLo = cq[i];
          const udHi = cq[i + 1];
          const res = this.#cqi[i + 2];
          head = (head + 1) >>> 0;
          if (udHi === 0) {
            n++;
            sink.onCompletion(udLo, res);
          }
        }
      } finally {
        // Published even when the sink throws: every entry consumed above was delivered once.
        if (TSO) cq[this.#cqHead] = head;
        else Atomics.store(cq, this.#cqHead, head);
      }
    }
  }

  /** Resolves once a completion may be available, leaving the event loop free meanwhile. */
  park(): Promise<void> {
    this.#live();
    if (this.#parked) return this.#parked;
    if (!this.#socket) this.#openWaker();
    if (this.space() < 2) this.submit(0);
    const b = this.#put(IORING_OP.POLL_ADD, IOSQE_IO_HARDLINK, this.fd, 0, 0, 0, POLL.IN, 0);
    this.#sqe[b + 9] = INTERNAL;
    const w = this.#put(IORING_OP.WRITE, 0, this.#pipe![1], addressOf(this.#wakeByte), 1, 0, 0, 0);
    this.#sqe[w + 9] = INTERNAL;
    this.#parked = new Promise<void>((resolve) => (this.#wake = resolve));
    this.#socket!.ref();
    this.submit(0);
    return this.#parked;
  }

  #openWaker(): void {
    const fds = new Int32Array(new ArrayBuffer(8));
    if (openLibc().symbols.pipe2(fds, O.CLOEXEC | O.NONBLOCK) < 0) {
      throw new BackendError("io_uring", "SystemResources", errnoName(errno()), "pipe2 for the wake-up channel failed");
    }
    this.#pipe = fds;
    const socket = new net.Socket({ fd: fds[0], readable: true, writable: false });
    socket.on("data", () => this.#onWake());
    socket.on("error", () => this.#onWake());
    socket.unref();
    this.#socket = socket;
  }

  #onWake(): void {
    this.#socket?.unref();
    const wake = this.#wake;
    this.#parked = undefined;
    this.#wake = undefined;
    wake?.();
  }

  /** Requests cancellation of the operation with `ud`; its own result is not reported. */
  cancel(ud: number): void {
    if (this.space() < 1) this.submit(0);
    const b = this.#put(IORING_OP.ASYNC_CANCEL, 0, -1, ud, 0, 0, 0, 0);
    this.#sqe[b + 9] = INTERNAL;
  }

  /** Tears the ring down. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lib.symbols.io_uring_queue_exit(this.#ring);
    if (this.#socket) {
      this.#socket.destroy();
      openLibc().symbols.close(this.#pipe![1]);
    }
    this.#onWake();
  }
}
