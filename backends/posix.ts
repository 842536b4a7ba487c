/**
 * The posix backend: the uringlator over readiness (epoll) and a thread pool, for where io_uring
 * is refused or missing (zig-aio's `Posix.zig`).
 *
 * How each operation runs:
 * - **Try at once, without blocking**: reads and writes with `preadv2`/`pwritev2(RWF_NOWAIT)`,
 *   recv and send with MSG_DONTWAIT, accept and connect with O_NONBLOCK set for the call. Most
 *   operations on ready sockets, pipes and cached files finish here, on this thread.
 * - **Else wait for readiness**: the fd goes into the queue's epoll set (EPOLLONESHOT, one
 *   registration per fd for all the operations waiting on it), and the call is tried again when
 *   it turns ready.
 * - **Cannot be waited for** (fsync, openat and the other path calls; reads and writes of regular
 *   files the page cache cannot serve): the isolate's pool of Workers runs them, and signals
 *   the queue's eventfd, which is in the same epoll set.
 * - **Quick calls** (close, bind, listen, shutdown, socket) run inline.
 * - **Timers** are the uringlator's, on the monotonic performance clock; the epoll wait is bounded
 *   by the earliest deadline (`epoll_pwait2`, nanoseconds).
 * - **ChildExit** waits on a pidfd; where pidfd_open is missing, a pool Worker blocks in waitid.
 *
 * Parking (waiting without blocking the event loop) is a `nonblocking: true` ppoll on the epoll
 * fd, on Deno's blocking pool; it consumes nothing, so a blocking wait on this thread may run
 * meanwhile. Writing the eventfd wakes it: for pool results, an earlier timer, and close.
 *
 * @module
 */
import { errno, type Libc, openLibc } from "../ffi/libc.ts";
import { envVar } from "../ffi/loader.ts";
import { addressOf, cString } from "../ffi/memory.ts";
import {
  AT_REMOVEDIR,
  EFD,
  ERRNO,
  errnoName,
  MSG,
  O,
  P_PID,
  P_PIDFD,
  POLL,
  RENAME_NOREPLACE,
  RWF_NOWAIT,
  SO,
  SOCK,
  SOL,
  SPLICE_F,
  SYS_pidfd_open,
  WEXITED,
  WNOHANG,
  WNOWAIT,
} from "../ffi/linux.ts";
import { SLOT_SCRATCH } from "../aio/backend.ts";
import { BackendError } from "../aio/errors.ts";
import { CODE as C, type Operation, type OperationKind } from "../aio/ops.ts";
import { openFlags, recvFlags, sendFlags, setU64, spliceSide, writeIovecs, writeMsghdr } from "./common.ts";
import { JOB, NO_WORKER, type PoolOwner, type PosixPool, posixPool } from "./posix_pool.ts";
import { ABORT_DONE, ABORT_FAILED, Uringlator } from "./uringlator.ts";

const EAGAIN = ERRNO.EAGAIN;
const EINTR = ERRNO.EINTR;
const ENOENT = ERRNO.ENOENT;
const EEXIST = ERRNO.EEXIST;
const EPERM = ERRNO.EPERM;
const ENOSYS = ERRNO.ENOSYS;
const EINPROGRESS = ERRNO.EINPROGRESS;
const EOPNOTSUPP = ERRNO.EOPNOTSUPP;
const ECANCELED = ERRNO.ECANCELED;

const CLOCK_MONOTONIC = 1;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_MOD = 3;
const EPOLLONESHOT = 1 << 30;
const EPOLL_CLOEXEC = O.CLOEXEC;
const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
// struct epoll_event is packed on x86_64 (12 bytes, data at 4), naturally aligned elsewhere.
const EV_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
const EV_DATA = Deno.build.arch === "x86_64" ? 4 : 8;
const MAX_EVENTS = 256;

// What a started operation is doing, per slot.
const IDLE = 0;
const WAITING = 1;
const POOLED = 2;
const BACKLOG = 3;
const ADOPTED = 4; // its pool job finished and was handed over by another queue (PosixPool.collect)

// Per-slot bits.
const NOWAIT_UNSUPPORTED = 1; // the fd refuses RWF_NOWAIT (a tty): set O_NONBLOCK for the call
const CONNECTING = 2;
const SPLICE_OUT = 4; // a splice waits for its output side next
const IN_IS_FD = 8; // splice sides that are not pipes: O_NONBLOCK for the call
const OUT_IS_FD = 16;

/** Test hook: reads and writes skip the non-blocking try and readiness, and run on the pool. */
let forcePool = false;

/** Test hook: send every read and write to the thread pool, to exercise it on cached files. */
export function setForcePool(on: boolean): void {
  forcePool = on;
}

/** The operations waiting on one fd, and what its one epoll registration asks for. */
interface FdEntry {
  fd: number;
  armed: number;
  registered: boolean;
  first: number;
}

/** Options for {@linkcode PosixBackend}. */
export interface PosixOptions {
  /**
   * The most operations one submission takes, as io_uring's SQ size (rounded up to a power of
   * two, at most 32768): the same batches fit, or are refused, on every backend.
   */
  sqEntries?: number;
  /**
   * The readiness API: `epoll` (Linux's default) or `poll`, the portable floor (also
   * `AIO_POSIX_READINESS=poll`, which the test driver uses to run the suite on it).
   */
  readiness?: "epoll" | "poll";
}

/**
 * The posix backend.
 *
 * @example
 * ```ts
 * import { PosixBackend } from "./posix.ts";
 * const b = new PosixBackend();
 * console.log(b.isSupported(["read", "accept"]));
 * b.close();
 * ```
 */
export class PosixBackend extends Uringlator implements PoolOwner {
  /** Which backend this is. */
  readonly name = "posix" as const;

  readonly #libc: Libc["symbols"];
  readonly #pool: PosixPool;
  readonly #ep: number;
  /** `poll`: the set is rebuilt from the fd table for each wait, as a pollfd array. */
  readonly #poll: boolean;
  #pfds: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 8);
  #pfdsView: DataView<ArrayBuffer> = new DataView(this.#pfds.buffer);
  readonly #wakeFd: number;
  readonly #timerFd: number;
  readonly #itimerBytes = new Uint8Array(32); // struct itimerspec: interval 0, then the value
  readonly #events = new Uint8Array(MAX_EVENTS * EV_SIZE);
  readonly #eventsView = new DataView(this.#events.buffer);
  readonly #ctlBuf = new Uint8Array(16);
  readonly #ctlView = new DataView(this.#ctlBuf.buffer);
  readonly #tsBytes = new Uint8Array(16); // struct timespec
  readonly #tsView = new DataView(this.#tsBytes.buffer);
  readonly #eight = new Uint8Array(8);
  readonly #one = new Uint8Array(new BigUint64Array([1n]).buffer);
  readonly #optval = new Uint8Array(8);
  readonly #optlen = new Uint8Array(4);
  readonly #fds = new Map<number, FdEntry>();
  #waiting = 0;
  #kicked = false;
  #pooled: number[] = [];
  #backlog: number[] = [];
  #adopted: number[] = []; // slot, result pairs

  // Per slot: what the call needs, captured when the operation is queued.
  #fd = new Int32Array(0);
  #fd2 = new Int32Array(0);
  #len = new Uint32Array(0);
  #flags = new Int32Array(0);
  #cnt = new Int32Array(0);
  #addr = new Float64Array(0); // an address for the pool (path, iovecs)
  #addr2 = new Float64Array(0);
  #off: bigint[] = [];
  #buf: (Uint8Array | null)[] = [];
  #buf2: (Uint8Array | null)[] = [];
  #views: (Uint8Array | undefined)[] = [];
  #aux = new Int32Array(0);
  #mode = new Uint8Array(0);
  #bits = new Uint8Array(0);
  #job = new Int32Array(0);
  #wfd = new Int32Array(0);
  #wev = new Int32Array(0);
  #wnext = new Int32Array(0);
  #snapshot = new Int32Array(0);
  #snapTop = 0;
  #dup1 = new Int32Array(0);
  /** Bytes moved so far by a transfer that continues (#tryAll). */
  #acc = new Float64Array(0);
  readonly #stat = new Uint8Array(256);
  #dup2 = new Int32Array(0);

  // Parking.
  readonly #pollfd = new Uint8Array(8);
  readonly #pollView = new DataView(this.#pollfd.buffer);
  #parkFds: Uint8Array<ArrayBuffer> = this.#pollfd;
  #parked: Promise<void> | undefined;
  #parkDeadline = Infinity;
  #closing = false;

  /**
   * Creates an epoll set and its wake-up eventfd. Throws {@linkcode BackendError} where epoll is
   * missing (this backend runs on Linux; kqueue and poll() readiness are not built yet).
   *
   * @example
   * ```ts
   * import { PosixBackend } from "./posix.ts";
   * new PosixBackend().close();
   * ```
   */
  constructor(options: PosixOptions = {}) {
    super();
    const libc = openLibc().symbols;
    this.#libc = libc;
    const readiness = options.readiness ?? envVar("AIO_POSIX_READINESS") ?? "epoll";
    if (readiness !== "epoll" && readiness !== "poll") {
      throw new BackendError("posix", "InvalidArgument", undefined, "AIO_POSIX_READINESS must be epoll or poll");
    }
    this.#poll = readiness === "poll";
    if (Deno.build.os !== "linux" || libc.timerfd_create === null || libc.ppoll === null) {
      throw new BackendError(
        "posix",
        "Unsupported",
        undefined,
        `posix runs on Linux so far; ${Deno.build.os} needs its kqueue loop and ABI wiring (ffi/abi.ts has the tables)`,
      );
    }
    if (!this.#poll && (libc.epoll_create1 === null || libc.epoll_ctl === null)) {
      throw new BackendError("posix", "Unsupported", undefined, "no epoll here; AIO_POSIX_READINESS=poll uses poll()");
    }
    const ep = this.#poll ? -1 : libc.epoll_create1!(EPOLL_CLOEXEC);
    if (!this.#poll && ep < 0) {
      throw new BackendError("posix", "SystemResources", errnoName(errno()), "epoll_create1 failed");
    }
    const wake = libc.eventfd(0, EFD.NONBLOCK | EFD.CLOEXEC);
    if (wake < 0) {
      const e = errno();
      if (ep >= 0) libc.close(ep);
      throw new BackendError("posix", "SystemResources", errnoName(e), "eventfd failed");
    }
    // Parking has no timeout of its own (see park): a timerfd in the set wakes it for timers.
    const timer = libc.timerfd_create!(CLOCK_MONOTONIC, O.NONBLOCK | O.CLOEXEC);
    if (timer < 0) {
      const e = errno();
      if (ep >= 0) libc.close(ep);
      libc.close(wake);
      throw new BackendError("posix", "SystemResources", errnoName(e), "timerfd_create failed");
    }
    this.#ep = ep;
    this.#wakeFd = wake;
    this.#timerFd = timer;
    for (const fd of this.#poll ? [] : [wake, timer]) {
      this.#ctlView.setUint32(0, POLL.IN, true);
      this.#ctlView.setInt32(EV_DATA, fd, true);
      libc.epoll_ctl!(ep, EPOLL_CTL_ADD, fd, this.#ctlBuf);
    }
    const sq = Math.min(32768, 2 ** Math.ceil(Math.log2(Math.max(2, options.sqEntries ?? 32768))));
    this.sqSize = sq;
    this.#pollView.setInt32(0, ep, true);
    this.#pollView.setInt16(4, POLL.IN, true);
    this.#pool = posixPool();
  }

  protected onBind(n: number): void {
    this.#fd = new Int32Array(n);
    this.#fd2 = new Int32Array(n);
    this.#len = new Uint32Array(n);
    this.#flags = new Int32Array(n);
    this.#cnt = new Int32Array(n);
    this.#addr = new Float64Array(n);
    this.#addr2 = new Float64Array(n);
    this.#off = new Array(n).fill(-1n);
    this.#buf = new Array(n).fill(null);
    this.#buf2 = new Array(n).fill(null);
    this.#views = new Array(n).fill(undefined);
    this.#aux = new Int32Array(n).fill(-1);
    this.#mode = new Uint8Array(n);
    this.#bits = new Uint8Array(n);
    this.#job = new Int32Array(n);
    this.#wfd = new Int32Array(n);
    this.#wev = new Int32Array(n);
    this.#wnext = new Int32Array(n);
    this.#snapshot = new Int32Array(2 * n); // a waiter may sit in an outer walk and, re-waiting, in a nested one
    this.#dup1 = new Int32Array(n).fill(-1);
    this.#acc = new Float64Array(n);
    this.#dup2 = new Int32Array(n).fill(-1);
  }

  /** Every kind runs here (on Linux). */
  isSupported(_kinds: readonly OperationKind[]): boolean {
    return true;
  }

  // The slot's scratch memory as a buffer argument (its address goes to the kernel).
  #view(slot: number): Uint8Array {
    let v = this.#views[slot];
    if (v === undefined) {
      const base = slot * SLOT_SCRATCH;
      v = this.scratch.subarray(base, base + SLOT_SCRATCH);
      this.#views[slot] = v;
    }
    return v;
  }

  // One iovec over `buf` at the start of the slot's scratch.
  #iov1(slot: number, address: number, length: number): void {
    const base = slot * SLOT_SCRATCH;
    setU64(this.scratchView, base, address);
    setU64(this.scratchView, base + 8, length);
    this.#buf2[slot] = this.#view(slot);
    this.#addr2[slot] = this.scratchAddress + base;
    this.#cnt[slot] = 1;
  }

  protected encode(op: Operation, _code: number, slot: number): unknown {
    this.#bits[slot] = 0;
    this.#mode[slot] = IDLE;
    this.#acc[slot] = 0;
    const base = slot * SLOT_SCRATCH;
    switch (op.kind) {
      case "fsync":
        this.#fd[slot] = op.file;
        return undefined;
      case "poll": {
        const e = op.events;
        this.#fd[slot] = op.fd;
        this.#flags[slot] = (e.in ? POLL.IN : 0) | (e.pri ? POLL.PRI : 0) | (e.out ? POLL.OUT : 0);
        return undefined;
      }
      case "readTty":
      case "read":
      case "write": {
        this.#fd[slot] = op.kind === "readTty" ? op.tty : op.file;
        this.#off[slot] = op.kind === "readTty" || op.offset < 0 ? -1n : BigInt(op.offset);
        this.#iov1(slot, addressOf(op.buffer), op.buffer.byteLength);
        return op.buffer;
      }
      case "readv":
      case "writev": {
        const [address, keep] = writeIovecs(this.scratchView, this.scratchAddress, op.iov, slot, 0);
        this.#fd[slot] = op.file;
        this.#off[slot] = op.offset < 0 ? -1n : BigInt(op.offset);
        this.#addr2[slot] = address;
        this.#cnt[slot] = op.iov.length;
        this.#buf2[slot] = op.iov.length * 16 <= SLOT_SCRATCH ? this.#view(slot) : keep[keep.length - 1] as Uint8Array;
        return keep;
      }
      case "waitEventSource":
      case "notifyEventSource":
        // The counter at byte 16, one iovec over it at byte 0.
        this.scratchView.setBigUint64(base + 16, 1n, true);
        this.#fd[slot] = op.source.fd;
        this.#off[slot] = -1n;
        this.#iov1(slot, this.scratchAddress + base + 16, 8);
        return undefined;
      case "accept":
        this.#fd[slot] = op.socket;
        if (op.outAddr === null) {
          this.#buf[slot] = null;
          this.#buf2[slot] = null;
          return undefined;
        }
        this.scratchView.setUint32(base, op.outAddr.byteLength, true);
        this.#buf[slot] = op.outAddr;
        this.#buf2[slot] = this.#view(slot);
        return op.outAddr;
      case "connect":
      case "bind":
        this.#fd[slot] = op.socket;
        this.#buf[slot] = op.addr;
        this.#len[slot] = op.addrlen;
        return op.addr;
      case "listen":
        this.#fd[slot] = op.socket;
        this.#len[slot] = op.backlog;
        return undefined;
      case "recv":
      case "send":
        this.#fd[slot] = op.socket;
        this.#buf[slot] = op.buffer;
        this.#len[slot] = op.buffer.byteLength;
        this.#flags[slot] = op.kind === "recv" ? recvFlags(op.flags) : sendFlags(op.flags);
        return op.buffer;
      case "recvMsg":
      case "sendMsg": {
        const [, keep] = writeMsghdr(
          this.scratchView,
          this.scratchAddress,
          op.kind === "recvMsg" ? op.outMsg : op.msg,
          slot,
        );
        this.#fd[slot] = op.socket;
        this.#buf[slot] = this.#view(slot);
        this.#flags[slot] = op.kind === "recvMsg" ? recvFlags(op.flags) : sendFlags(op.flags);
        return keep;
      }
      case "shutdown":
        this.#fd[slot] = op.socket;
        this.#flags[slot] = op.how === "recv" ? 0 : op.how === "send" ? 1 : 2;
        return undefined;
      case "openAt": {
        const path = cString(op.path)!;
        this.#fd[slot] = op.dir;
        this.#addr[slot] = addressOf(path);
        this.#flags[slot] = openFlags(op.flags);
        this.#len[slot] = op.flags.permissions ?? 0o644;
        return path;
      }
      case "closeFile":
        this.#fd[slot] = op.file;
        return undefined;
      case "closeDir":
        this.#fd[slot] = op.dir;
        return undefined;
      case "closeSocket":
        this.#fd[slot] = op.socket;
        return undefined;
      case "closeEventSource":
        this.#fd[slot] = op.source.fd;
        return undefined;
      case "renameAt": {
        const oldPath = cString(op.oldPath)!;
        const newPath = cString(op.newPath)!;
        this.#fd[slot] = op.oldDir;
        this.#fd2[slot] = op.newDir;
        this.#addr[slot] = addressOf(oldPath);
        this.#addr2[slot] = addressOf(newPath);
        return [oldPath, newPath];
      }
      case "unlinkAt": {
        const path = cString(op.path)!;
        this.#fd[slot] = op.dir;
        this.#addr[slot] = addressOf(path);
        this.#flags[slot] = op.removeDir ? AT_REMOVEDIR : 0;
        return path;
      }
      case "mkdirAt": {
        const path = cString(op.path)!;
        this.#fd[slot] = op.dir;
        this.#addr[slot] = addressOf(path);
        this.#len[slot] = op.mode;
        return path;
      }
      case "symlinkAt": {
        const target = cString(op.target)!;
        const linkPath = cString(op.linkPath)!;
        this.#fd[slot] = op.dir;
        this.#addr[slot] = addressOf(target);
        this.#addr2[slot] = addressOf(linkPath);
        return [target, linkPath];
      }
      case "childExit":
        this.#fd[slot] = op.child;
        return undefined;
      case "socket":
        this.#fd[slot] = op.domain;
        this.#flags[slot] = op.flags;
        this.#len[slot] = op.protocol;
        return undefined;
      case "splice": {
        const [inFd, inOff] = spliceSide(op.in);
        const [outFd, outOff] = spliceSide(op.out);
        const f = op.flags;
        this.#fd[slot] = inFd;
        this.#fd2[slot] = outFd;
        this.#len[slot] = op.len;
        this.#flags[slot] = (f.move ? SPLICE_F.MOVE : 0) | SPLICE_F.NONBLOCK | (f.more ? SPLICE_F.MORE : 0);
        this.#bits[slot] = ("pipe" in op.in ? 0 : IN_IS_FD) | ("pipe" in op.out ? 0 : OUT_IS_FD);
        // The offsets live in scratch (the kernel advances them); null pointers where none.
        const v = this.#view(slot);
        if (inOff >= 0) this.scratchView.setBigInt64(base, BigInt(inOff), true);
        if (outOff >= 0) this.scratchView.setBigInt64(base + 8, BigInt(outOff), true);
        this.#buf[slot] = inOff >= 0 ? v : null;
        this.#buf2[slot] = outOff >= 0 ? v.subarray(8, 16) : null;
        return undefined;
      }
      default:
        return undefined;
    }
  }

  protected start(slot: number): void {
    const libc = this.#libc;
    const fd = this.#fd[slot];
    switch (this.code[slot]) {
      case C.fsync:
      case C.openAt:
      case C.renameAt:
      case C.unlinkAt:
      case C.mkdirAt:
      case C.symlinkAt:
        this.#toPool(slot);
        return;
      case C.poll: {
        const r = this.#wait(slot, fd, this.#flags[slot]);
        // A regular file cannot be waited for, and is always ready.
        if (r === -EPERM) this.finish(slot, this.#flags[slot] & (POLL.IN | POLL.OUT));
        else if (r < 0) this.finish(slot, r);
        return;
      }
      case C.connect: {
        const old = this.#nonblock(fd);
        if (old === -1) return this.finish(slot, -errno());
        const r = libc.connect(fd, this.#buf[slot], this.#len[slot]);
        const e = r < 0 ? errno() : 0;
        this.#restore(fd, old);
        if (e === EINPROGRESS) {
          this.#bits[slot] |= CONNECTING;
          this.#waitOrFinish(slot);
        } else {
          this.finish(slot, -e);
        }
        return;
      }
      case C.childExit: {
        const pid = fd;
        const pidfd = Number(libc.syscall(BigInt(SYS_pidfd_open), BigInt(pid), 0n));
        if (pidfd < 0) {
          const e = errno();
          if (e !== ENOSYS) return this.finish(slot, -e);
          this.#toPool(slot); // no pidfds: a Worker blocks in waitid
          return;
        }
        // pidfd_open accepts any process; only a child of ours can be waited for.
        if (libc.waitid(P_PIDFD, pidfd, this.#view(slot), WEXITED | WNOHANG | WNOWAIT) < 0) {
          const e = errno();
          libc.close(pidfd);
          return this.finish(slot, -e);
        }
        this.#aux[slot] = pidfd;
        break;
      }
      case C.bind:
        return this.finish(slot, this.#result(libc.bind(fd, this.#buf[slot]!, this.#len[slot])));
      case C.listen:
        return this.finish(slot, this.#result(libc.listen(fd, this.#len[slot])));
      case C.shutdown:
        return this.finish(slot, this.#result(libc.shutdown(fd, this.#flags[slot])));
      case C.socket:
        return this.finish(slot, this.#result(libc.socket(fd, this.#flags[slot], this.#len[slot])));
      case C.closeSocket:
        // As on io_uring (zig-aio#67): what waits on the socket is canceled before it closes.
        this.#cancelWaiters(fd);
        this.#forget(fd);
        return this.finish(slot, this.#result(libc.close(fd)));
      case C.closeFile:
      case C.closeDir:
      case C.closeEventSource:
        this.#forget(fd);
        return this.finish(slot, this.#result(libc.close(fd)));
    }
    if (forcePool) {
      const code = this.code[slot];
      if (code === C.read || code === C.readv || code === C.write || code === C.writev) return this.#toPool(slot);
    }
    const r = this.#tryAll(slot);
    if (r !== -EAGAIN) this.finish(slot, r);
    else this.#waitOrFinish(slot);
  }

  #result(r: number): number {
    return r < 0 ? -errno() : r;
  }

  // Sets O_NONBLOCK on `fd`; returns its old flags to restore, -2 when already set, -1 on error.
  #nonblock(fd: number): number {
    const f = this.#libc.fcntl(fd, F_GETFL, 0);
    if (f < 0) return -1;
    if (f & O.NONBLOCK) return -2;
    this.#libc.fcntl(fd, F_SETFL, f | O.NONBLOCK);
    return f;
  }

  #restore(fd: number, old: number): void {
    if (old >= 0) this.#libc.fcntl(fd, F_SETFL, old);
  }

  // Tries the call until it has moved every byte asked where io_uring would (a regular file: the
  // page cache may serve part of a read; a recv with waitAll), keeping the count so far in #acc.
  // Returns the result, or -EAGAIN with the rest to wait for (or to hand to the pool).
  #tryAll(slot: number): number {
    for (;;) {
      const r = this.#attempt(slot);
      const code = this.code[slot];
      const whole = code === C.read || code === C.readv || code === C.write || code === C.writev;
      const waitAll = code === C.recv && (this.#flags[slot] & MSG.WAITALL) !== 0;
      if (!whole && !waitAll) return r;
      const acc = this.#acc[slot];
      if (r < 0) return r === -EAGAIN || acc === 0 ? r : acc;
      const total = acc + r;
      if (r === 0 || total >= this.expected(slot)) return total;
      if (waitAll) {
        this.#buf[slot] = this.#buf[slot]!.subarray(r);
        this.#len[slot] -= r;
      } else {
        // A pipe or socket answers short for good, as on io_uring; a regular file goes on.
        if (!this.#regular(slot)) return total;
        this.#advance(slot, r);
      }
      this.#acc[slot] = total;
    }
  }

  #regular(slot: number): boolean {
    const fstat = this.#libc.fstat;
    if (fstat === null || fstat(this.#fd[slot], this.#stat) < 0) return false;
    const mode = new DataView(this.#stat.buffer).getUint32(Deno.build.arch === "x86_64" ? 24 : 16, true);
    return (mode & 0o170000) === 0o100000;
  }

  // Moves the slot's iovecs (ours: in scratch or allocated at encode) and offset past `n` bytes.
  #advance(slot: number, n: number): void {
    const iov = this.#buf2[slot]!;
    const v = new DataView(iov.buffer, iov.byteOffset, iov.byteLength);
    const cnt = this.#cnt[slot];
    let i = 0;
    let left = n;
    while (left > 0 && i < cnt) {
      const len = v.getUint32(i * 16 + 8, true) + v.getUint32(i * 16 + 12, true) * 4294967296;
      if (left >= len) {
        left -= len;
        i++;
        continue;
      }
      const base = v.getUint32(i * 16, true) + v.getUint32(i * 16 + 4, true) * 4294967296;
      setU64(v, i * 16, base + left);
      setU64(v, i * 16 + 8, len - left);
      left = 0;
    }
    if (i > 0) {
      this.#buf2[slot] = iov.subarray(i * 16);
      this.#addr2[slot] += i * 16;
      this.#cnt[slot] = cnt - i;
    }
    if (this.#off[slot] >= 0n) this.#off[slot] += BigInt(n);
  }

  // One try at the call, never blocking: its result, or -EAGAIN.
  #attempt(slot: number): number {
    const libc = this.#libc;
    const fd = this.#fd[slot];
    let r: number;
    switch (this.code[slot]) {
      case C.read:
      case C.readTty:
      case C.readv:
      case C.waitEventSource:
      case C.write:
      case C.writev:
      case C.notifyEventSource: {
        const write = this.code[slot] === C.write || this.code[slot] === C.writev ||
          this.code[slot] === C.notifyEventSource;
        const call = write ? libc.pwritev2 : libc.preadv2;
        if ((this.#bits[slot] & NOWAIT_UNSUPPORTED) === 0) {
          r = call(fd, this.#buf2[slot], this.#cnt[slot], this.#off[slot], RWF_NOWAIT);
          if (r >= 0) return r;
          const e = errno();
          if (e !== EOPNOTSUPP) return -e;
          this.#bits[slot] |= NOWAIT_UNSUPPORTED;
        }
        const old = this.#nonblock(fd);
        if (old === -1) return -errno();
        r = call(fd, this.#buf2[slot], this.#cnt[slot], this.#off[slot], 0);
        const e = r < 0 ? errno() : 0;
        this.#restore(fd, old);
        return r < 0 ? -e : r;
      }
      case C.recv:
        r = libc.recv(fd, this.#buf[slot], this.#len[slot], this.#flags[slot] | MSG.DONTWAIT);
        break;
      case C.send:
        r = libc.send(fd, this.#buf[slot], this.#len[slot], this.#flags[slot] | MSG.DONTWAIT);
        break;
      case C.recvMsg:
        r = libc.recvmsg(fd, this.#buf[slot], this.#flags[slot] | MSG.DONTWAIT);
        break;
      case C.sendMsg:
        r = libc.sendmsg(fd, this.#buf[slot], this.#flags[slot] | MSG.DONTWAIT);
        break;
      case C.accept: {
        const old = this.#nonblock(fd);
        if (old === -1) return -errno();
        r = libc.accept4!(fd, this.#buf[slot], this.#buf2[slot], SOCK.CLOEXEC);
        const e = r < 0 ? errno() : 0;
        this.#restore(fd, old);
        return r < 0 ? -e : r;
      }
      case C.connect: {
        const len = new DataView(this.#optlen.buffer);
        len.setUint32(0, 4, true);
        if (libc.getsockopt(fd, SOL.SOCKET, SO.ERROR, this.#optval, this.#optlen) < 0) return -errno();
        const e = new DataView(this.#optval.buffer).getInt32(0, true);
        return e === EINPROGRESS ? -EAGAIN : -e;
      }
      case C.splice: {
        const fd2 = this.#fd2[slot];
        const bits = this.#bits[slot];
        const oldIn = bits & IN_IS_FD ? this.#nonblock(fd) : -2;
        const oldOut = bits & OUT_IS_FD ? this.#nonblock(fd2) : -2;
        r = libc.splice!(fd, this.#buf[slot], fd2, this.#buf2[slot], this.#len[slot], this.#flags[slot]);
        const e = r < 0 ? errno() : 0;
        this.#restore(fd, oldIn);
        this.#restore(fd2, oldOut);
        return r < 0 ? -e : r;
      }
      case C.childExit: {
        const base = slot * SLOT_SCRATCH;
        this.scratchView.setInt32(base + 16, 0, true); // si_pid: 0 while the child runs
        if (libc.waitid(P_PIDFD, this.#aux[slot], this.#view(slot), WEXITED | WNOHANG) < 0) return -errno();
        return this.scratchView.getInt32(base + 16, true) === 0 ? -EAGAIN : 0;
      }
      default:
        return -EOPNOTSUPP;
    }
    return r < 0 ? -errno() : r;
  }

  // Waits for the fd and events the slot's operation needs; a file that cannot be waited for
  // goes to the pool.
  #waitOrFinish(slot: number): void {
    let fd = this.#fd[slot];
    let ev: number = POLL.IN;
    switch (this.code[slot]) {
      case C.write:
      case C.writev:
      case C.notifyEventSource:
      case C.send:
      case C.sendMsg:
      case C.connect:
        ev = POLL.OUT;
        break;
      case C.childExit:
        fd = this.#aux[slot];
        break;
      case C.splice:
        // Alternate: the input may have data while the output pipe is full.
        if (this.#bits[slot] & SPLICE_OUT) {
          fd = this.#fd2[slot];
          ev = POLL.OUT;
        }
        this.#bits[slot] ^= SPLICE_OUT;
        break;
    }
    const r = this.#wait(slot, fd, ev);
    if (r === 0) return;
    const code = this.code[slot];
    if (
      r === -EPERM &&
      (code === C.read || code === C.readv || code === C.write || code === C.writev || code === C.readTty)
    ) {
      this.#toPool(slot);
      return;
    }
    this.finish(slot, r);
  }

  // Adds the slot to the fd's waiters and arms the fd's registration for `ev`.
  #wait(slot: number, fd: number, ev: number): number {
    let e = this.#fds.get(fd);
    if (e === undefined) {
      e = { fd, armed: 0, registered: false, first: -1 };
      this.#fds.set(fd, e);
    }
    // With no waiter left, what `armed` says may be stale (a registration fired and nobody
    // re-armed, or the fd was closed and its number reused): arm afresh.
    const fresh = e.first < 0;
    this.#wfd[slot] = fd;
    this.#wev[slot] = ev;
    this.#wnext[slot] = e.first;
    e.first = slot;
    this.#mode[slot] = WAITING;
    this.#waiting++;
    const want = (fresh ? 0 : e.armed) | ev;
    if (fresh || want !== e.armed) {
      const r = this.#arm(e, want);
      if (r < 0) {
        this.#unwait(slot);
        return r;
      }
    }
    return 0;
  }

  #arm(e: FdEntry, events: number): number {
    if (this.#poll) {
      // Nothing to tell the kernel: the next wait's pollfd array includes it. A parked ppoll
      // polls an older array, so it must come back for the new one.
      e.registered = true;
      e.armed = events;
      if (this.#parked !== undefined && !this.#kicked) this.#kick();
      return 0;
    }
    const libc = this.#libc;
    this.#ctlView.setUint32(0, events | EPOLLONESHOT, true);
    this.#ctlView.setInt32(EV_DATA, e.fd, true);
    let op = e.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    let r = libc.epoll_ctl!(this.#ep, op, e.fd, this.#ctlBuf);
    if (r < 0) {
      const err = errno();
      // The fd was closed and its number reused (MOD: ENOENT), or registered by a dup (ADD: EEXIST).
      if ((err === ENOENT && op === EPOLL_CTL_MOD) || (err === EEXIST && op === EPOLL_CTL_ADD)) {
        op = op === EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        r = libc.epoll_ctl!(this.#ep, op, e.fd, this.#ctlBuf);
        if (r < 0) return -errno();
      } else {
        return -err;
      }
    }
    e.registered = true;
    e.armed = events;
    return 0;
  }

  // Takes the slot off its fd's waiter list (it may be on a list being dispatched: then only
  // its mode changes, and the dispatch skips it).
  #unwait(slot: number): void {
    this.#mode[slot] = IDLE;
    this.#waiting--;
    const e = this.#fds.get(this.#wfd[slot]);
    if (e === undefined) return;
    if (e.first === slot) {
      e.first = this.#wnext[slot];
    } else {
      for (let s = e.first; s >= 0; s = this.#wnext[s]) {
        if (this.#wnext[s] === slot) {
          this.#wnext[s] = this.#wnext[slot];
          break;
        }
      }
    }
    if (e.first < 0) e.armed = 0;
  }

  // Detaches the fd's waiter list onto the snapshot stack, so that aborts during the walk (a
  // linked cancel finishing another waiter) cannot corrupt it, and walks that nest (a chain
  // started by one closes another fd) each have their own part. Returns the part's start; the
  // caller pops it (#snapTop = start) when done. A waiter is on one list at a time; one already
  // walked may wait again and sit in a nested part too, hence room for twice the slots.
  #detach(e: FdEntry): number {
    const start = this.#snapTop;
    let n = start;
    for (let s = e.first; s >= 0; s = this.#wnext[s]) this.#snapshot[n++] = s;
    this.#snapTop = n;
    e.first = -1;
    e.armed = 0;
    return start;
  }

  // Forgets the fd (closed by an operation): its waiters stay WAITING, reachable by cancel only,
  // as the README's table says; a new file with the same number starts afresh.
  #forget(fd: number): void {
    this.#fds.delete(fd);
  }

  // Finishes every waiter of the stack part from `start` still waiting on `fd` with `res`.
  #failPart(start: number, fd: number, res: number): void {
    const end = this.#snapTop;
    for (let i = start; i < end; i++) {
      const s = this.#snapshot[i];
      if (this.#mode[s] !== WAITING || this.#wfd[s] !== fd) continue;
      this.#mode[s] = IDLE;
      this.#waiting--;
      this.finish(s, res);
    }
    this.#snapTop = start;
  }

  #cancelWaiters(fd: number): void {
    const e = this.#fds.get(fd);
    if (e === undefined) return;
    this.#failPart(this.#detach(e), fd, -ECANCELED);
  }

  // The fd turned ready: retry the operations waiting for what it reports, re-arm for the rest.
  #dispatch(fd: number, revents: number): void {
    const e = this.#fds.get(fd);
    if (e === undefined) return;
    const start = this.#detach(e);
    const end = this.#snapTop;
    const broken = (revents & (POLL.ERR | POLL.HUP | POLL.NVAL)) !== 0;
    let kept = start; // waiters for other events are compacted to [start, kept)
    for (let i = start; i < end; i++) {
      const s = this.#snapshot[i];
      if (this.#mode[s] !== WAITING || this.#wfd[s] !== fd) continue; // aborted meanwhile
      if (!broken && (this.#wev[s] & revents) === 0) {
        this.#snapshot[kept++] = s;
        continue;
      }
      this.#mode[s] = IDLE;
      this.#waiting--;
      if (this.code[s] === C.poll) {
        this.finish(s, revents & (this.#wev[s] | POLL.ERR | POLL.HUP));
        continue;
      }
      const r = this.#tryAll(s);
      const code = this.code[s];
      if (r !== -EAGAIN) this.finish(s, r);
      else if (
        this.#poll && !broken &&
        (code === C.read || code === C.readv || code === C.write || code === C.writev)
      ) {
        // poll() reports a regular file always ready; RWF_NOWAIT still says the page cache
        // cannot serve it: a Worker must (epoll refuses such files with EPERM instead).
        this.#toPool(s);
      } else this.#waitOrFinish(s);
    }
    this.#snapTop = start; // nested walks ran above this part and have popped theirs
    if (kept === start) return;
    // Those still waiting for other events go back, and the registration is armed for them
    // (unless an operation of the walk closed the fd: then they wait for a cancel).
    const cur = this.#fds.get(fd);
    if (cur === undefined) return;
    let want = cur.first < 0 ? 0 : cur.armed;
    for (let i = start; i < kept; i++) {
      const s = this.#snapshot[i];
      if (this.#mode[s] !== WAITING) continue;
      this.#wnext[s] = cur.first;
      cur.first = s;
      want |= this.#wev[s];
    }
    if (want !== cur.armed || !this.#poll) {
      const r = this.#arm(cur, want);
      if (r < 0) this.#failPart(this.#detach(cur), fd, r);
    }
  }

  // A Worker gets its own duplicate of each fd: a close queued after the operation (io_uring
  // holds a file reference for this) must not let the Worker use a closed or reused number.
  #dupFor(slot: number, fd: number, which: 0 | 1): number {
    if (fd < 0) return fd; // AT_FDCWD
    const d = this.#libc.fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) return -1;
    (which === 0 ? this.#dup1 : this.#dup2)[slot] = d;
    return d;
  }

  #toPool(slot: number): void {
    const code = this.code[slot];
    let fd = this.#fd[slot];
    if (code !== C.symlinkAt && code !== C.childExit && this.#dup1[slot] < 0) {
      fd = this.#dupFor(slot, fd, 0);
      if (fd === -1) return this.finish(slot, -errno());
    } else if (this.#dup1[slot] >= 0) {
      fd = this.#dup1[slot];
    }
    if (code === C.symlinkAt || code === C.renameAt) {
      const other = code === C.symlinkAt ? this.#fd[slot] : this.#fd2[slot];
      if (this.#dup2[slot] < 0 && this.#dupFor(slot, other, 1) === -1) return this.finish(slot, -errno());
    }
    const fd2 = this.#dup2[slot] >= 0 ? this.#dup2[slot] : code === C.symlinkAt ? this.#fd[slot] : this.#fd2[slot];
    const wake = this.#wakeFd;
    const pool = this.#pool;
    let job: number;
    switch (code) {
      case C.fsync:
        job = pool.submit(this, JOB.fsync, wake, fd);
        break;
      case C.openAt:
        job = pool.submit(this, JOB.openat, wake, fd, this.#addr[slot], this.#flags[slot], this.#len[slot]);
        break;
      case C.renameAt:
        job = pool.submit(
          this,
          JOB.renameat2,
          wake,
          fd,
          this.#addr[slot],
          fd2,
          this.#addr2[slot],
          RENAME_NOREPLACE,
        );
        break;
      case C.unlinkAt:
        job = pool.submit(this, JOB.unlinkat, wake, fd, this.#addr[slot], this.#flags[slot]);
        break;
      case C.mkdirAt:
        job = pool.submit(this, JOB.mkdirat, wake, fd, this.#addr[slot], this.#len[slot]);
        break;
      case C.symlinkAt:
        job = pool.submit(this, JOB.symlinkat, wake, this.#addr[slot], fd2, this.#addr2[slot]);
        break;
      case C.childExit:
        job = pool.submit(this, JOB.waitid, wake, P_PID, fd, this.scratchAddress + slot * SLOT_SCRATCH, WEXITED);
        break;
      default: {
        const write = this.code[slot] === C.write || this.code[slot] === C.writev;
        const off = Number(this.#off[slot]);
        job = pool.submit(this, write ? JOB.pwritev2 : JOB.preadv2, wake, fd, this.#addr2[slot], this.#cnt[slot], off);
      }
    }
    if (job === NO_WORKER) return this.finish(slot, -ERRNO.EMFILE);
    if (job < 0) {
      this.#mode[slot] = BACKLOG;
      this.#backlog.push(slot);
      return;
    }
    this.#job[slot] = job;
    this.#mode[slot] = POOLED;
    this.#pooled.push(slot);
  }

  #harvest(): void {
    this.#pool.takeDone(this.#pooled, this.#job, this.#onPoolDone);
    if (this.#adopted.length > 0) {
      const adopted = this.#adopted;
      this.#adopted = [];
      for (let i = 0; i < adopted.length; i += 2) this.#poolDone(adopted[i], adopted[i + 1]);
    }
    if (this.#backlog.length > 0) {
      const waiting = this.#backlog;
      this.#backlog = [];
      for (const slot of waiting) this.#toPool(slot);
    }
  }

  // Made once: #harvest runs at every wake-up of the queue, and should not allocate.
  readonly #onPoolDone = (slot: number, res: number): void => this.#poolDone(slot, res);

  #poolDone(slot: number, res: number): void {
    const acc = this.#acc[slot];
    if (acc > 0) res = res >= 0 ? acc + res : acc; // the rest of a transfer begun here
    this.#mode[slot] = IDLE;
    this.finish(slot, res);
  }

  /** Takes a finished pool job's result from another queue's collect (see PosixPool.collect). */
  adopt(job: number, result: number): void {
    const i = this.#pooled.findIndex((slot) => this.#job[slot] === job);
    if (i < 0) return;
    const slot = this.#pooled[i];
    this.#pooled[i] = this.#pooled[this.#pooled.length - 1];
    this.#pooled.pop();
    this.#mode[slot] = ADOPTED;
    this.#adopted.push(slot, result);
    if (!this.closed && !this.#kicked) this.#kick(); // our next wait finishes it
  }

  protected abort(slot: number): number {
    switch (this.#mode[slot]) {
      case WAITING:
        this.#unwait(slot);
        return ABORT_DONE;
      case POOLED: {
        const job = this.#job[slot];
        if (!this.#pool.cancel(job)) return ABORT_FAILED;
        this.#pool.retire(job);
        const i = this.#pooled.indexOf(slot);
        this.#pooled[i] = this.#pooled[this.#pooled.length - 1];
        this.#pooled.pop();
        this.#mode[slot] = IDLE;
        return ABORT_DONE;
      }
      case BACKLOG:
        this.#backlog.splice(this.#backlog.indexOf(slot), 1);
        this.#mode[slot] = IDLE;
        return ABORT_DONE;
      default:
        return ABORT_FAILED;
    }
  }

  protected pending(): boolean {
    return this.#waiting > 0 || this.#pooled.length > 0 || this.#backlog.length > 0 || this.#adopted.length > 0 ||
      this.#kicked;
  }

  protected release(slot: number): void {
    const pidfd = this.#aux[slot];
    if (pidfd >= 0) {
      this.#forget(pidfd);
      this.#libc.close(pidfd);
      this.#aux[slot] = -1;
    }
    if (this.#dup1[slot] >= 0) {
      this.#libc.close(this.#dup1[slot]);
      this.#dup1[slot] = -1;
    }
    if (this.#dup2[slot] >= 0) {
      this.#libc.close(this.#dup2[slot]);
      this.#dup2[slot] = -1;
    }
    this.#buf[slot] = null;
    this.#buf2[slot] = null;
  }

  // Writes the pollfd array for the fd table's armed entries, after the wake-up and timer fds;
  // returns how many entries.
  // Writes the pollfd array into `v` (which the caller made large enough: 2 + #fds.size).
  #fillPollfds(v: DataView): number {
    v.setInt32(0, this.#wakeFd, true);
    v.setInt32(4, POLL.IN, true); // events, and revents cleared
    v.setInt32(8, this.#timerFd, true);
    v.setInt32(12, POLL.IN, true);
    let n = 2;
    for (const e of this.#fds.values()) {
      if (e.armed === 0) continue;
      v.setInt32(n * 8, e.fd, true);
      v.setInt32(n * 8 + 4, e.armed, true);
      n++;
    }
    return n;
  }

  #waitPoll(timeoutMs: number): void {
    const libc = this.#libc;
    if ((2 + this.#fds.size) * 8 > this.#pfds.byteLength) {
      this.#pfds = new Uint8Array((2 + this.#fds.size) * 16);
      this.#pfdsView = new DataView(this.#pfds.buffer);
    }
    const buf = this.#pfds;
    const count = this.#fillPollfds(this.#pfdsView);
    let ts: Uint8Array | null = null;
    if (timeoutMs >= 0) {
      const ns = Math.ceil(timeoutMs * 1e6);
      this.#setTimespec(this.#tsView, 0, ns);
      ts = this.#tsBytes;
    }
    const n = libc.ppoll!(buf, count, ts, null);
    if (n < 0) {
      const e = errno();
      if (e === EINTR) return;
      throw new BackendError("posix", "Unexpected", errnoName(e), "ppoll failed");
    }
    if (n === 0) return;
    const v = this.#pfdsView;
    for (let i = 0; i < count; i++) {
      const revents = v.getInt16(i * 8 + 6, true);
      if (revents === 0) continue;
      const fd = v.getInt32(i * 8, true);
      if (i === 1) {
        libc.read(fd, this.#eight, 8);
      } else if (i === 0) {
        libc.read(fd, this.#eight, 8);
        this.#kicked = false;
        this.#harvest();
      } else if (revents & POLL.NVAL) {
        // Closed by other means: as with epoll, whose registration goes with the fd, its waiters
        // wait for a cancel (the README's table), and the number may come back as a new file.
        this.#forget(fd);
      } else {
        this.#dispatch(fd, revents & 0xffff);
      }
    }
    // As with epoll: what was drained here may be what a parked ppoll waits for.
    if (this.#parked !== undefined && !this.#kicked) this.#kick();
  }

  protected waitEvents(timeoutMs: number): void {
    // Short of pool room: look again every millisecond, taking back room from other queues.
    const starving = this.#backlog.length > 0;
    if (starving && (timeoutMs < 0 || timeoutMs > 1)) timeoutMs = 1;
    if (this.#poll) this.#waitPoll(timeoutMs);
    else this.#waitEpoll(timeoutMs);
    if (starving && this.#backlog.length > 0) {
      this.#pool.collect();
      this.#harvest();
    }
  }

  #waitEpoll(timeoutMs: number): void {
    const libc = this.#libc;
    let n: number;
    if (libc.epoll_pwait2 !== null) {
      let ts: Uint8Array | null = null;
      if (timeoutMs >= 0) {
        const ns = Math.ceil(timeoutMs * 1e6);
        this.#setTimespec(this.#tsView, 0, ns);
        ts = this.#tsBytes;
      }
      n = libc.epoll_pwait2(this.#ep, this.#events, MAX_EVENTS, ts, null);
    } else {
      n = libc.epoll_wait!(this.#ep, this.#events, MAX_EVENTS, timeoutMs < 0 ? -1 : Math.ceil(timeoutMs));
    }
    if (n < 0) {
      const e = errno();
      if (e === EINTR) return;
      throw new BackendError("posix", "Unexpected", errnoName(e), "epoll_wait failed");
    }
    const v = this.#eventsView;
    for (let i = 0; i < n; i++) {
      const revents = v.getUint32(i * EV_SIZE, true);
      const fd = v.getInt32(i * EV_SIZE + EV_DATA, true);
      if (fd === this.#timerFd) {
        libc.read(fd, this.#eight, 8); // the uringlator fires due timers after this wait
      } else if (fd === this.#wakeFd) {
        libc.read(fd, this.#eight, 8);
        this.#kicked = false;
        this.#harvest();
      } else {
        this.#dispatch(fd, revents);
      }
    }
    // A park pending on Deno's pool polls the epoll fd; the events consumed here may have been
    // what it waits for (EPOLLONESHOT disarms them), so it must return and poll again.
    if (n > 0 && this.#parked !== undefined && !this.#kicked) this.#kick();
  }

  /** Submits; a completion made here (a cancel, say) must also wake a parked waiter. */
  override submit(minComplete: number): void {
    super.submit(minComplete);
    if (this.doneCount > 0 && this.#parked !== undefined && !this.#kicked) this.#kick();
  }

  protected override armed(deadline: number): void {
    if (this.#parked !== undefined && deadline < this.#parkDeadline) {
      this.#parkDeadline = deadline;
      this.#armTimer(deadline);
    }
  }

  // A struct timespec without BigInts (waits with a timeout are on the hot path of adaptive waits).
  #setTimespec(v: DataView, at: number, ns: number): void {
    const sec = Math.floor(ns / 1e9);
    setU64(v, at, sec);
    setU64(v, at + 8, ns - sec * 1e9);
  }

  // One-shot, relative: a timerfd's clock is not the performance clock's origin.
  #armTimer(deadline: number): void {
    const ns = Math.max(1, Math.ceil((deadline - performance.now()) * 1e6));
    this.#setTimespec(new DataView(this.#itimerBytes.buffer), 16, ns);
    this.#libc.timerfd_settime!(this.#timerFd, 0, this.#itimerBytes, null);
  }

  #kick(): void {
    this.#kicked = true;
    this.#libc.write(this.#wakeFd, this.#one, 8);
  }

  /** Resolves when the epoll set turns ready or the earliest timer is due. */
  park(): Promise<void> {
    if (this.closed) return Promise.reject(new BackendError("posix", "Closed", undefined, "the backend is closed"));
    if (this.#parked) return this.#parked;
    let deadline = this.nextDeadline();
    if (this.#backlog.length > 0) deadline = Math.min(deadline, performance.now() + 1); // see waitEvents
    if (deadline !== Infinity) this.#armTimer(deadline);
    this.#parkDeadline = deadline;
    // No timeout on the ppoll: it returns only when the epoll set is readable, and so it has
    // always set revents when it returns, which close() relies on.
    let fds: Uint8Array<ArrayBuffer> = this.#pollfd;
    let count = 1;
    if (this.#poll) {
      // Its own array: the pool thread reads it while this thread may run blocking waits.
      fds = new Uint8Array(8 * (2 + this.#fds.size));
      count = this.#fillPollfds(new DataView(fds.buffer));
    }
    this.#parkFds = fds;
    new DataView(fds.buffer).setInt16(6, 0, true);
    this.#parked = this.#libc.ppoll_async(fds, BigInt(count), null, null).then(() => {
      this.#parked = undefined;
      this.#parkDeadline = Infinity;
      if (this.#closing) this.#closeFds();
    });
    return this.#parked;
  }

  /** Closes the epoll set and the eventfd (after a pending park returns). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.#parked !== undefined) {
      // A ppoll on Deno's pool still polls the epoll fd: closing it now could let it poll
      // whatever file takes the number next, and never return. Wake it and wait, briefly, for
      // the revents it stores just before it returns.
      this.#kick();
      const until = performance.now() + 1000;
      // Entry 0 is the epoll fd (which holds the eventfd) or, with poll(), the eventfd itself.
      const first = new DataView(this.#parkFds.buffer);
      while (first.getInt16(6, true) === 0 && performance.now() < until) {
        // spin: the pool thread returns within microseconds of the wake-up
      }
      if (first.getInt16(6, true) === 0) {
        this.#closing = true; // not back yet: close when the promise settles
        return;
      }
    }
    this.#closeFds();
  }

  #closeFds(): void {
    this.#closing = false;
    this.#pool.quiesce(this.#wakeFd);
    if (this.#ep >= 0) this.#libc.close(this.#ep);
    this.#libc.close(this.#wakeFd);
    this.#libc.close(this.#timerFd);
  }
}
