/**
 * The iocp backend (Windows): I/O completion ports through kernel32 and ws2_32, on the shared
 * uringlator (links, link timeouts, timers and cancellation are the uringlator's; this file starts
 * the I/O and turns completion packets into io_uring-style results).
 *
 * One completion port per isolate, shared by every queue: a handle can be associated with one
 * port only, for its whole life, and the sockets and pipes of a program travel between queues
 * (the immediate API's shared queue, a coro Scheduler, a Dynamic). Packets are routed to their
 * queue by the OVERLAPPED's address, which lies in that queue's slot memory.
 *
 * - Files are reopened with FILE_FLAG_OVERLAPPED (ReOpenFile) for each read or write, at an
 *   offset; I/O at the current position reads the position, and moves it once the I/O is done.
 *   Pipes and sockets opened overlapped are used as they are.
 * - Sockets: AcceptEx, ConnectEx, WSARecv, WSASend, WSARecvMsg, WSASendMsg.
 * - Cancel is CancelIoEx; the canceled operation completes when its packet arrives, so its
 *   buffers stay the kernel's until then.
 * - ChildExit: a Job object whose messages go to the port.
 * - Calls that have no overlapped form and may block (open, rename, unlink, mkdir, symlink,
 *   fsync, I/O on a synchronous pipe or console) run on the pool Workers that posix uses too
 *   (posix_pool.ts); a Worker posts a packet to the port when done, as zig-aio's thread pool
 *   does. Quick ones (close, socket, bind, listen, shutdown) run at once on the submitting
 *   thread. Poll and splice report OperationNotSupported, as in zig-aio.
 * - Waiting: GetQueuedCompletionStatusEx; `park` runs it as a `nonblocking` FFI call, so that
 *   Deno's event loop goes on.
 *
 * Results use Linux errno numbers (ffi/windows.ts maps Win32, Winsock and NTSTATUS codes).
 *
 * @module
 */
import { SLOT_SCRATCH, SLOT_UNSUPPORTED, type SlotTable } from "../aio/backend.ts";
import { BackendError } from "../aio/errors.ts";
import type { Operation, OperationKind, Path } from "../aio/ops.ts";
import { AT_FDCWD, ERRNO } from "../ffi/linux.ts";
import { INVALID_HANDLE, openKernel32, openNtdll, W32 } from "../ffi/kernel32.ts";
import { INVALID_SOCKET, openWs2, winsockExtensions, WS } from "../ffi/ws2_32.ts";
import { errnoFromNtstatus, errnoFromWin32, NTSTATUS, wide, WIN_AF, WIN_ERROR, WIN_MSG } from "../ffi/windows.ts";
import { addressOf, stableBytes } from "../ffi/memory.ts";
import { setImmediate } from "node:timers";
import { childHandle, childReaped, duplicateHandle, eventNotify, eventTry } from "../aio/posix_windows.ts";
import { ABORT_ASKED, ABORT_DONE, ABORT_FAILED, Uringlator } from "./uringlator.ts";
import type { BackendOptions } from "./mod.ts";
import { JOB, type PoolOwner, posixPool } from "./posix_pool.ts";
import { OPEN_DIRECTORY, OPEN_WRITE } from "./windows_calls.ts";

const { EBADF, EOPNOTSUPP, EINVAL, EXDEV, ECANCELED, ECHILD, EIO, EMSGSIZE, EPIPE } = ERRNO;

/** What an operation's start needs, captured when it is queued (fields may change after). */
class Capture {
  /** The file, socket, directory, event source or child the call is about. */
  fd = -1;
  /** The buffer, address (connect, bind) or address output (accept). */
  buf: Uint8Array | null = null;
  /** readv/writev's buffers, or a message's. */
  iov: Uint8Array[] | null = null;
  /** An address length, a backlog. */
  len = 0;
  offset = -1;
  /** Windows send/recv flags, shutdown's how, unlinkAt's removeDir. */
  flags = 0;
  waitAll = false;
  n0 = 0;
  n1 = 0;
  n2 = 0;
  name: Uint8Array | null = null;
  namelen = 0;
  control: Uint8Array | null = null;
  controllen = 0;
  /** UTF-16 paths a call reads (by address). */
  paths: Uint8Array[] | null = null;
  /** A path that could not be resolved: the operation fails with it when it starts. */
  err = 0;
  /** An event source's semaphore (a duplicate this operation owns). */
  sem = 0n;
  /** A duplicate of `fd` for what runs after the start (a Worker, a wait, a position), or -1. */
  file = -1;
  /** Handles this operation duplicated: closed when it finishes. */
  dups: bigint[] | null = null;
  /** A pool call waiting for room: its kind and arguments. */
  job: number[] | null = null;
}

// Completion keys: what a packet is.
const KEY_IO = 1n; // an overlapped operation; the OVERLAPPED tells the queue and slot
const KEY_WAKE = 2n; // wakes a waiter, nothing else
const KEY_JOB = 3n; // a Job object's message: bits 8..23 the queue, 32..63 the user data
const KEY_POOL = 4n; // a pool Worker finished a call of the queue in bits 8..23

// Slot scratch layout (SLOT_SCRATCH bytes a slot). Bytes 0..63 hold outputs in the layout
// aio/finalize.ts reads for every backend (accept's address length at 0, a Linux msghdr's
// namelen at 8, controllen at 40, flags at 48, a siginfo's code at 8 and status at 24).
const OVL = 64; // OVERLAPPED, 32 bytes
const WSABUF = 96; // WSABUF {u32 len, pad, ptr buf}, 16 bytes
const DWORD = 112; // lpFlags for WSARecv
const BYTE = 120; // an event source's 1-byte wake-up datagram

/** {@linkcode Port.associate}: the handle belongs to another isolate's port. */
const FOREIGN = 1;
/**
 * How often a wait that cannot use the port (an event source another isolate's port owns, a
 * synchronous pipe) looks again: from POLL_MS, doubling while nothing comes, up to POLL_MAX_MS.
 */
const POLL_MS = 1;
const POLL_MAX_MS = 16;

const ENTRY = 32; // OVERLAPPED_ENTRY
const ENTRIES = 64;

// What a running slot is doing.
const IDLE = 0;
const OVERLAPPED = 1; // a packet will come
const JOB_WAIT = 2; // waiting for a Job object's message
const POLLING = 3; // a wait that looks again every #pollDelay ms (Port cannot deliver it)
const POOLED = 4; // a call on a pool Worker
const CURPOS_WAIT = 5; // I/O at the current position, waiting for the one before it on the handle
const POOL_WAIT = 6; // a pool call waiting for a free job

// Queue ids travel in 16 bits of a completion key: freed ids are reused.
const MAX_QUEUES = 0xffff;

/** The isolate's completion port and the queues that share it. */
class Port {
  readonly handle: number;
  readonly #k = openKernel32().symbols;
  readonly #queues = new Map<number, IocpBackend>();
  readonly #associated = new Set<number>();
  readonly #entries = stableBytes(ENTRY * ENTRIES);
  readonly #entryView = new DataView(this.#entries.buffer);
  readonly #count = new Uint32Array(1);
  readonly #countBytes = new Uint8Array(this.#count.buffer);
  // The park call in flight, if any: its own buffers (the pool thread writes them).
  #park: Promise<void> | undefined;
  #parkEntries = stableBytes(ENTRY * ENTRIES);
  #parkCount = new Uint32Array(1);
  #parkHarvested = false;
  #parkDeadline = Infinity;
  #parked = new Set<IocpBackend>();
  #wakesSeen = 0;
  /**
   * Per file (by the number the operations named), the operations at the current position
   * waiting for the one in flight, of any queue of the isolate (an entry exists while one is):
   * the position moves only when a call completes, so they go one after another, as the file
   * position lock orders them on Linux.
   */
  readonly curpos = new Map<number, [IocpBackend, number][]>();

  constructor() {
    const h = this.#k.CreateIoCompletionPort(INVALID_HANDLE, 0n, 0n, 1);
    if (h === 0n) {
      throw new BackendError("iocp", "SystemResources", undefined, `CreateIoCompletionPort: ${this.#k.GetLastError()}`);
    }
    this.handle = Number(h);
  }

  #freeIds: number[] = [];
  #nextId = 1;

  add(q: IocpBackend): number {
    const id = this.#freeIds.pop() ?? this.#nextId++;
    if (id > MAX_QUEUES) {
      this.#nextId--;
      throw new BackendError("iocp", "SystemResources", undefined, `more than ${MAX_QUEUES} iocp queues are open`);
    }
    this.#queues.set(id, q);
    return id;
  }

  remove(id: number): void {
    const q = this.#queues.get(id);
    this.#queues.delete(id);
    this.#freeIds.push(id);
    if (q !== undefined && this.#parked.delete(q) && this.#parked.size === 0) this.wake();
  }

  /**
   * Associates `handle` with the port: 0 when it is (now or already), {@linkcode FOREIGN} when it
   * belongs to another port (another isolate's: its completions would go there), else -errno.
   */
  associate(handle: number): number {
    // Always asked of the system: a handle this isolate associated may have been closed
    // elsewhere (another isolate, or code outside the library) and its number reused.
    const r = this.#k.CreateIoCompletionPort(BigInt(handle), BigInt(this.handle), KEY_IO, 0);
    if (r !== 0n) {
      this.#associated.add(handle);
      return 0;
    }
    const e = this.#k.GetLastError();
    if (e !== WIN_ERROR.INVALID_PARAMETER) return -errnoFromWin32(e);
    // Associated already: with this port if this isolate did it (and nothing closed it since
    // without the library knowing), else with another isolate's.
    return this.#associated.has(handle) ? 0 : FOREIGN;
  }

  /** `handle` is closed: its number may come back for another handle. */
  forget(handle: number): void {
    this.#associated.delete(handle);
  }

  wake(): void {
    this.#k.PostQueuedCompletionStatus(BigInt(this.handle), 0, KEY_WAKE, 0n);
  }

  /**
   * Waits at most `ms` (-1: no bound) until `q` has packets, routing every packet that comes to
   * its queue. A park call in flight on Deno's pool may take packets this thread waits for: it is
   * woken, and until it has returned (and what it dequeued is taken over) the wait goes in short
   * slices.
   */
  drain(q: IocpBackend, ms: number): void {
    const end = ms < 0 ? Infinity : performance.now() + ms;
    let woke = false;
    this.#wakesSeen = 0;
    try {
      for (;;) {
        this.#harvest();
        if (q.hasPackets()) return;
        let wait = ms < 0 ? W32.INFINITE : Math.max(0, Math.floor(end - performance.now()));
        if (this.#park !== undefined && !this.#parkHarvested) {
          if (!woke) this.wake();
          woke = true;
          wait = Math.min(wait, 2);
        }
        this.#count[0] = 0;
        const ok = this.#k.GetQueuedCompletionStatusEx(
          BigInt(this.handle),
          this.#entries,
          ENTRIES,
          this.#countBytes,
          wait,
          0,
        );
        if (ok) this.#route(this.#entryView, this.#count[0]);
        this.#harvest();
        if (q.hasPackets() || performance.now() >= end) return;
        if (!ok && wait === W32.INFINITE) return; // the port failed: do not spin
      }
    } finally {
      // This thread took its own wake-up (the park call had not begun to wait): post it again,
      // or the park call, once it waits, would wait with nothing to end it.
      if (woke && this.#wakesSeen > 0 && this.#park !== undefined && !this.#parkHarvested) this.wake();
    }
  }

  /** Resolves once packets may have come for `q`, waiting on Deno's pool, not this thread. */
  park(q: IocpBackend, deadline: number): Promise<void> {
    this.#parked.add(q);
    if (this.#park !== undefined) {
      if (deadline < this.#parkDeadline) this.wake();
      return this.#park;
    }
    const entries = this.#parkEntries;
    const count = this.#parkCount;
    count[0] = 0;
    this.#parkHarvested = false;
    this.#parkDeadline = deadline;
    const ms = deadline === Infinity ? W32.INFINITE : Math.max(0, Math.ceil(deadline - performance.now()));
    const call = this.#k.GetQueuedCompletionStatusExAsync(
      BigInt(this.handle),
      entries,
      ENTRIES,
      new Uint8Array(count.buffer),
      ms,
      0,
    );
    const done = call.then(() => {
      this.#harvest();
      this.#park = undefined;
      this.#parkHarvested = false;
      const parked = [...this.#parked];
      this.#parked.clear();
      for (const p of parked) p.wakeFromPark();
    });
    this.#park = done;
    return done;
  }

  // Takes the packets a returned park call dequeued.
  #harvest(): void {
    if (this.#park === undefined || this.#parkHarvested || this.#parkCount[0] === 0) return;
    this.#parkHarvested = true;
    const n = this.#parkCount[0];
    this.#route(new DataView(this.#parkEntries.buffer), n);
  }

  #route(view: DataView, n: number): void {
    for (let i = 0; i < n; i++) {
      const o = i * ENTRY;
      const key = view.getBigUint64(o, true);
      const ovl = Number(view.getBigUint64(o + 8, true));
      const status = Number(view.getBigUint64(o + 16, true) & 0xffff_ffffn);
      const bytes = view.getUint32(o + 24, true);
      if (key === KEY_IO) {
        for (const q of this.#queues.values()) if (q.owns(ovl)) q.packet(ovl, status, bytes);
      } else if (key === KEY_WAKE) {
        this.#wakesSeen++;
      } else if ((key & 0xffn) === KEY_POOL) {
        this.#queues.get(Number((key >> 8n) & 0xffffn))?.poolSignal();
      } else if ((key & 0xffn) === KEY_JOB) {
        const q = this.#queues.get(Number((key >> 8n) & 0xffffn));
        q?.jobMessage(Number(key >> 32n), bytes, ovl); // a job message's OVERLAPPED is the process id
      }
    }
  }
}

let port: Port | undefined;

function portOf(): Port {
  return port ??= new Port();
}

/**
 * Tells the isolate's port that `handle` was closed, so that a handle that reuses its number is
 * associated afresh. The close paths of the library call it.
 *
 * @example
 * ```ts
 * import { iocpForget } from "./iocp.ts";
 * iocpForget(1234);
 * ```
 */
export function iocpForget(handle: number): void {
  port?.forget(handle);
}

const decoder = new TextDecoder();

function pathString(p: Path): string {
  if (typeof p === "string") return p;
  const n = p.indexOf(0);
  return decoder.decode(n < 0 ? p : p.subarray(0, n));
}

/**
 * The iocp backend. Operations on fds take HANDLEs and SOCKETs, as numbers.
 *
 * @example
 * ```ts
 * import { IocpBackend } from "./iocp.ts";
 * if (Deno.build.os === "windows") new IocpBackend({ sqEntries: 8 }).close();
 * ```
 */
export class IocpBackend extends Uringlator implements PoolOwner {
  /** Which backend this is. */
  readonly name = "iocp" as const;

  readonly #k = openKernel32().symbols;
  readonly #nt = openNtdll().symbols;
  readonly #ws = openWs2().symbols;
  readonly #port: Port;
  readonly #id: number;
  #flags: Uint8Array = new Uint8Array(0);
  #ops: (Operation | undefined)[] = [];
  #cap: (Capture | undefined)[] = [];
  #mode = new Uint8Array(0);
  /** Cancellation was asked while a packet was on its way: a continuation must not go on. */
  #cancelAsked = new Uint8Array(0);
  /** The handle the overlapped call went to (CancelIoEx needs it). */
  #handle = new Float64Array(0);
  /** A handle this slot owns until it finishes: a reopened file, an accepted socket, a job. */
  #owned = new Float64Array(0);
  /** The original file for I/O at the current position (-1: at an offset), and that position. */
  #posFile = new Float64Array(0);
  #pos = new Float64Array(0);
  /** Bytes moved so far (recv waitAll continues). */
  #acc = new Float64Array(0);
  /** Native memory a slot's call uses beyond its scratch (AcceptEx's buffer, a WSAMSG, a bounce buffer). */
  #aux: (Uint8Array | undefined)[] = [];
  /** The file number whose current-position queue (Port.curpos) a slot heads. */
  #posKey = new Float64Array(0);
  /** Pool calls waiting for a free job. */
  #backlog: number[] = [];
  #running = 0;
  #polls: number[] = [];
  #pollDelay = POLL_MS;
  /** The pool job per slot, and the slots with one. */
  #job = new Int32Array(0);
  #pooledSlots: number[] = [];
  #adopted: number[] = [];
  #poolSignalled = false;
  #inbox: number[] = [];
  #handledNow = false;
  #parkWaiters: (() => void)[] = [];
  readonly #iosb = new Uint8Array(16);
  readonly #info = new Uint32Array(2);
  readonly #pathBuf = new Uint16Array(1024);

  /**
   * Opens the backend.
   *
   * @example
   * ```ts
   * import { IocpBackend } from "./iocp.ts";
   * if (Deno.build.os === "windows") new IocpBackend({ sqEntries: 8 }).close();
   * ```
   */
  constructor(options: BackendOptions) {
    super();
    if (Deno.build.os !== "windows") {
      throw new BackendError("iocp", "Unsupported", undefined, `iocp exists only on Windows, not ${Deno.build.os}`);
    }
    this.sqSize = Math.max(2, options.sqEntries);
    this.#port = portOf();
    this.#id = this.#port.add(this);
  }

  /** Attaches the queue's slot memory. */
  override bind(slots: SlotTable): void {
    this.#flags = slots.flags;
    super.bind(slots);
  }

  protected onBind(n: number): void {
    this.#ops = new Array(n).fill(undefined);
    this.#cap = new Array(n).fill(undefined);
    this.#aux = new Array(n).fill(undefined);
    this.#mode = new Uint8Array(n);
    this.#cancelAsked = new Uint8Array(n);
    this.#handle = new Float64Array(n);
    this.#owned = new Float64Array(n).fill(-1);
    this.#posFile = new Float64Array(n).fill(-1);
    this.#pos = new Float64Array(n);
    this.#acc = new Float64Array(n);
    this.#job = new Int32Array(n).fill(-1);
    this.#posKey = new Float64Array(n).fill(-1);
  }

  /** Whether `ovl` is the OVERLAPPED of one of this queue's slots. */
  owns(ovl: number): boolean {
    const rel = ovl - this.scratchAddress - OVL;
    return rel >= 0 && rel < this.capacity * SLOT_SCRATCH && rel % SLOT_SCRATCH === 0;
  }

  /**
   * A packet for one of this queue's slots, routed by the port: handled at this queue's next
   * wait, except that of an operation other operations wait for at the current position of its
   * file, which is handled at once, whichever queue's wait routed it: the waiters may be another
   * queue's, which would otherwise wait for this one to be completed.
   */
  packet(ovl: number, status: number, bytes: number): void {
    const slot = (ovl - this.scratchAddress - OVL) / SLOT_SCRATCH;
    if (this.#posKey[slot] >= 0) {
      this.#complete(slot, status, bytes);
      this.#handledNow = true; // a wait of this queue must return: it has a completion
    } else {
      this.#inbox.push(slot, status, bytes);
    }
    this.wakeFromPark();
  }

  /** A Job object's message for the operation with `userData`, about process `pid`. */
  jobMessage(userData: number, message: number, pid: number): void {
    if (message !== W32.JOB_OBJECT_MSG_EXIT_PROCESS && message !== W32.JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS) return;
    const slot = userData & 0xffff;
    if (this.#mode[slot] !== JOB_WAIT || this.#ops[slot]?.outId !== userData) return;
    // The child's own children join its job: only the child's exit ends the wait.
    if (pid !== this.#cap[slot]!.fd) return;
    this.#inbox.push(slot, -1, 0);
    this.wakeFromPark();
  }

  /** Resolves the park promises of this queue. */
  wakeFromPark(): void {
    const w = this.#parkWaiters;
    if (w.length === 0) return;
    this.#parkWaiters = [];
    for (const r of w) r();
  }

  isSupported(kinds: readonly OperationKind[]): boolean {
    return !kinds.includes("poll") && !kinds.includes("splice");
  }

  // Captures what the start needs, so that fields changed after queueing change nothing, and
  // returns it: the queue keeps it (and every buffer in it) until the completion.
  protected encode(op: Operation, _code: number, slot: number): unknown {
    this.#ops[slot] = op;
    this.#mode[slot] = IDLE;
    this.#cancelAsked[slot] = 0;
    const c = new Capture();
    this.#cap[slot] = c;
    switch (op.kind) {
      case "poll":
      case "splice":
        this.#flags[slot] |= SLOT_UNSUPPORTED;
        break;
      case "fsync":
        c.fd = op.file;
        break;
      case "readTty":
        c.fd = op.tty;
        c.buf = op.buffer;
        break;
      case "read":
      case "write":
        c.fd = op.file;
        c.buf = op.buffer;
        c.offset = op.offset;
        break;
      case "readv":
      case "writev":
        c.fd = op.file;
        c.iov = [...op.iov];
        c.offset = op.offset;
        break;
      case "accept":
        c.fd = op.socket;
        c.buf = op.outAddr;
        break;
      case "connect":
      case "bind":
        c.fd = op.socket;
        c.buf = op.addr;
        c.len = op.addrlen;
        break;
      case "listen":
        c.fd = op.socket;
        c.len = op.backlog;
        break;
      case "shutdown":
        c.fd = op.socket;
        c.flags = op.how === "recv" ? 0 : op.how === "send" ? 1 : 2;
        break;
      case "socket":
        c.n0 = op.domain;
        c.n1 = op.flags;
        c.n2 = op.protocol;
        break;
      case "closeSocket":
        c.fd = op.socket;
        break;
      case "recv":
        c.fd = op.socket;
        c.buf = op.buffer;
        c.flags = (op.flags.peek ? WIN_MSG.PEEK : 0) | (op.flags.oob ? WIN_MSG.OOB : 0);
        c.waitAll = op.flags.waitAll === true;
        break;
      case "send":
        c.fd = op.socket;
        c.buf = op.buffer;
        c.flags = (op.flags.oob ? WIN_MSG.OOB : 0) | (op.flags.dontRoute ? WIN_MSG.DONTROUTE : 0);
        break;
      case "recvMsg":
      case "sendMsg": {
        const m = op.kind === "recvMsg" ? op.outMsg : op.msg;
        c.fd = op.socket;
        c.iov = [...m.iov];
        c.name = m.name;
        c.namelen = op.kind === "recvMsg" ? (m.name?.byteLength ?? 0) : m.namelen;
        c.control = m.control;
        c.controllen = op.kind === "recvMsg" ? (m.control?.byteLength ?? 0) : m.controllen;
        c.flags = op.kind === "recvMsg"
          ? (op.flags.peek ? WIN_MSG.PEEK : 0)
          : (op.flags.oob ? WIN_MSG.OOB : 0) | (op.flags.dontRoute ? WIN_MSG.DONTROUTE : 0);
        break;
      }
      case "openAt": {
        c.fd = op.dir;
        this.#capturePath(c, op.dir, op.path);
        const f = op.flags;
        const mode = f.mode ?? "read_only";
        let access = 0;
        if (mode !== "write_only") access |= W32.GENERIC_READ;
        if (mode !== "read_only") access |= f.append ? W32.FILE_APPEND_DATA : W32.GENERIC_WRITE;
        let disposition: number = W32.OPEN_EXISTING;
        if (f.create && f.exclusive) disposition = W32.CREATE_NEW;
        else if (f.create && f.truncate) disposition = W32.CREATE_ALWAYS;
        else if (f.create) disposition = W32.OPEN_ALWAYS;
        else if (f.truncate) disposition = W32.TRUNCATE_EXISTING;
        c.n0 = access >>> 0;
        c.n1 = disposition;
        c.n2 = (f.directory ? OPEN_DIRECTORY : 0) | (mode !== "read_only" ? OPEN_WRITE : 0);
        break;
      }
      case "closeFile":
        c.fd = op.file;
        break;
      case "closeDir":
        c.fd = op.dir;
        break;
      case "renameAt":
        this.#capturePath(c, op.oldDir, op.oldPath);
        this.#capturePath(c, op.newDir, op.newPath);
        break;
      case "unlinkAt":
        this.#capturePath(c, op.dir, op.path);
        c.flags = op.removeDir ? 1 : 0;
        break;
      case "mkdirAt":
        this.#capturePath(c, op.dir, op.path);
        break;
      case "symlinkAt": {
        // The link; the target as written (it goes into the link); the target as seen from
        // the link's directory, which says whether the link is a directory link.
        this.#capturePath(c, op.dir, op.linkPath);
        const target = wide(pathString(op.target).replaceAll("/", "\\"));
        if (target === undefined) c.err ||= -EINVAL;
        else (c.paths ??= []).push(target);
        this.#capturePath(c, op.dir, op.target);
        break;
      }
      case "childExit":
        c.fd = op.child;
        break;
      case "notifyEventSource":
      case "waitEventSource": {
        c.fd = op.source.fd;
        // Its own handle to the semaphore: the source may be closed while this waits.
        const sem = c.fd < 0 ? -EBADF : duplicateHandle(op.source.semaphore);
        if (typeof sem === "number") c.err ||= sem < 0 ? sem : -EBADF;
        else (c.dups ??= []).push(c.sem = sem);
        break;
      }
      case "closeEventSource":
        c.fd = op.source.fd;
        break;
    }
    return c;
  }

  // A duplicate of `c.fd` that this operation owns (made once): the handle it uses after its
  // start, so that a close queued after it cannot make it use a closed or reused number.
  #ownFile(c: Capture): number {
    if (c.file >= 0) return c.file;
    const d = duplicateHandle(c.fd);
    if (typeof d === "number") return d < 0 ? d : -EBADF;
    (c.dups ??= []).push(d);
    return c.file = Number(d);
  }

  // Resolves `path` relative to `dir` to a UTF-16 string kept in the capture.
  #capturePath(c: Capture, dir: number, path: Path): void {
    const p = this.#path(dir, path);
    if (typeof p === "number") {
      c.err ||= p;
      return;
    }
    if (c.paths === null) c.paths = [p];
    else c.paths.push(p);
  }

  protected start(slot: number): void {
    let r: number | undefined;
    try {
      const c = this.#cap[slot]!;
      r = c.err < 0 ? c.err : this.#begin(this.#ops[slot]!, c, slot);
    } catch {
      // Nothing here should throw; if something does, the operation fails rather than stays
      // running forever (and the queue's close waits for it forever).
      if (this.#mode[slot] !== IDLE) return;
      r = -EIO;
    }
    if (r !== undefined) this.finish(slot, r);
  }

  // Starts `op`; returns its result when it completed at once, undefined when it will complete later.
  #begin(op: Operation, c: Capture, slot: number): number | undefined {
    const k = this.#k;
    switch (op.kind) {
      case "poll":
      case "splice":
        return -EOPNOTSUPP;
      case "fsync": {
        // FlushFileBuffers needs write access; Linux flushes through any fd. A handle that
        // cannot write has nothing of its own to flush.
        const access = this.#query(c.fd, W32.FileAccessInformation);
        if (access >= 0 && (access & (W32.FILE_WRITE_DATA | W32.FILE_APPEND_DATA)) === 0) return 0;
        const file = this.#ownFile(c);
        return file < 0 ? file : this.#pooled(slot, JOB.winFsync, file);
      }
      case "read":
      case "readTty":
      case "write":
      case "readv":
      case "writev":
        return this.#fileIo(op.kind, c, slot);
      case "accept":
        return this.#accept(c.fd, slot);
      case "connect":
        return this.#connect(c.fd, c.buf!, c.len, slot);
      case "bind":
        return this.#wsResult(this.#ws.bind(BigInt(c.fd), c.buf!, c.len));
      case "listen":
        return this.#wsResult(this.#ws.listen(BigInt(c.fd), c.len));
      case "shutdown":
        return this.#wsResult(this.#ws.shutdown(BigInt(c.fd), c.flags));
      case "socket": {
        const s = this.#ws.WSASocketW(c.n0, c.n1, c.n2, 0n, 0, WS.WSA_FLAG_OVERLAPPED | WS.WSA_FLAG_NO_HANDLE_INHERIT);
        return s === INVALID_SOCKET ? -errnoFromWin32(this.#ws.WSAGetLastError()) : Number(s);
      }
      case "closeSocket":
        k.CancelIoEx(BigInt(c.fd), 0n);
        this.#port.forget(c.fd);
        return this.#wsResult(this.#ws.closesocket(BigInt(c.fd)));
      case "recv":
      case "send":
        return this.#transfer(op.kind === "recv", c, slot, 0);
      case "recvMsg":
      case "sendMsg":
        return this.#message(op.kind === "recvMsg", c, slot);
      case "openAt":
        return this.#pooled(slot, JOB.winOpen, addressOf(c.paths![0]), c.n0, c.n1, c.n2);
      case "closeFile":
      case "closeDir":
        this.#port.forget(c.fd);
        return k.CloseHandle(BigInt(c.fd)) ? 0 : this.#lastError();
      case "renameAt":
        return this.#pooled(slot, JOB.winRename, addressOf(c.paths![0]), addressOf(c.paths![1]));
      case "unlinkAt":
        return this.#pooled(slot, JOB.winUnlink, addressOf(c.paths![0]), c.flags);
      case "mkdirAt":
        return this.#pooled(slot, JOB.winMkdir, addressOf(c.paths![0]));
      case "symlinkAt": {
        const [link, target, seen] = c.paths!;
        return this.#pooled(slot, JOB.winSymlink, addressOf(link), addressOf(target), addressOf(seen));
      }
      case "childExit":
        return this.#childExit(c.fd, op.outId, slot);
      // Closed since it was queued: as Linux, where the fd is looked up when the call starts.
      case "notifyEventSource":
        return op.source.fd !== c.fd ? -EBADF : eventNotify(c.fd, c.sem);
      case "waitEventSource":
        return op.source.fd !== c.fd ? -EBADF : this.#eventWait(c, slot);
      case "closeEventSource":
        // The source forgets its socket's association when it owns it (a view's close must not).
        op.source.close();
        return 0;
      default:
        return -EOPNOTSUPP;
    }
  }

  // A call for the pool: its Worker posts a packet with this queue's key when it is done. When
  // every job is taken, it waits for room (as posix's do): never on this thread, where a call
  // that blocks would block everything.
  #pooled(slot: number, kind: number, a0: number, a1 = 0, a2 = 0, a3 = 0, a4 = 0): number | undefined {
    this.#cap[slot]!.job = [kind, a0, a1, a2, a3, a4];
    this.#running++;
    if (!this.#submitJob(slot)) {
      this.#mode[slot] = POOL_WAIT;
      this.#backlog.push(slot);
    }
    return undefined;
  }

  // Hands `slot`'s call to the pool; false when the pool is full.
  #submitJob(slot: number): boolean {
    const pool = posixPool();
    const [kind, a0, a1, a2, a3, a4] = this.#cap[slot]!.job!;
    const key = Number(KEY_POOL | (BigInt(this.#id) << 8n));
    let job = pool.submit(this, kind, this.#port.handle, a0, a1, a2, a3, a4, key);
    if (job < 0) {
      // Room held by queues that are not being completed is given back to them.
      pool.collect();
      job = pool.submit(this, kind, this.#port.handle, a0, a1, a2, a3, a4, key);
      if (job < 0) return false;
    }
    this.#job[slot] = job;
    this.#mode[slot] = POOLED;
    this.#pooledSlots.push(slot);
    return true;
  }

  /** A pool job of this queue was signalled (or adopted): look at them at the next wait. */
  poolSignal(): void {
    this.#poolSignalled = true;
    this.wakeFromPark();
  }

  /** A queue short of pool room hands this one a finished job's result (see PosixPool.collect). */
  adopt(job: number, result: number): void {
    const i = this.#pooledSlots.findIndex((s) => this.#job[s] === job);
    if (i < 0) return;
    const slot = this.#pooledSlots[i];
    this.#pooledSlots[i] = this.#pooledSlots[this.#pooledSlots.length - 1];
    this.#pooledSlots.pop();
    this.#job[slot] = -1;
    this.#adopted.push(slot, result);
    this.poolSignal();
  }

  // Finishes the pool jobs that are done.
  #harvestPool(): void {
    this.#poolSignalled = false;
    const pool = posixPool();
    const adopted = this.#adopted;
    while (adopted.length > 0) {
      const slot = adopted.shift()!;
      this.#poolDone(slot, adopted.shift()!);
    }
    pool.takeDone(this.#pooledSlots, this.#job, this.#onPoolDone);
  }

  // Made once: the harvest runs at every pool signal, and should not allocate.
  readonly #onPoolDone = (slot: number, res: number): void => {
    this.#job[slot] = -1;
    this.#poolDone(slot, res);
  };

  #poolDone(slot: number, res: number): void {
    if (this.#mode[slot] !== POOLED) return;
    this.#mode[slot] = IDLE;
    this.#running--;
    const kind = this.#ops[slot]!.kind;
    if (
      res >= 0 && (kind === "read" || kind === "write" || kind === "readv" || kind === "writev" || kind === "readTty")
    ) {
      res = this.#ioDone(kind, this.#cap[slot]!, slot, res);
    }
    this.finish(slot, res);
  }

  #lastError(): number {
    return -errnoFromWin32(this.#k.GetLastError());
  }

  #wsResult(r: number): number {
    return r === 0 ? 0 : -errnoFromWin32(this.#ws.WSAGetLastError());
  }

  #ovl(slot: number): number {
    const base = slot * SLOT_SCRATCH;
    this.scratch.fill(0, base + OVL, base + OVL + 32);
    return this.scratchAddress + base + OVL;
  }

  #setOffset(slot: number, offset: number): void {
    this.scratchView.setBigUint64(slot * SLOT_SCRATCH + OVL + 16, BigInt(offset), true);
  }

  // Issued: a packet will come (also when the call completed at once: no
  // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, so every completion takes one path).
  #issued(slot: number, handle: number): undefined {
    this.#mode[slot] = OVERLAPPED;
    this.#handle[slot] = handle;
    this.#running++;
    return undefined;
  }

  // A BOOL-returning overlapped call's outcome.
  #afterCall(ok: number, slot: number, handle: number, wsa: boolean): number | undefined {
    if (ok) return this.#issued(slot, handle);
    const e = wsa ? this.#ws.WSAGetLastError() : this.#k.GetLastError();
    // A warning (a datagram or message larger than the buffer) is a completion too: its packet
    // comes, and says how much was moved.
    if (e === WIN_ERROR.IO_PENDING || e === WIN_ERROR.WSAEMSGSIZE || e === WIN_ERROR.MORE_DATA) {
      return this.#issued(slot, handle);
    }
    return -errnoFromWin32(e);
  }

  #fileIo(
    kind: "read" | "readTty" | "write" | "readv" | "writev",
    c: Capture,
    slot: number,
  ): number | undefined {
    const k = this.#k;
    // Restarted after waiting for the current position: its own duplicate, since the number may
    // have been closed (and reused) meanwhile.
    const original = c.file >= 0 ? c.file : c.fd;
    const h = BigInt(original);
    const writing = kind === "write" || kind === "writev";
    const type = k.GetFileType(h);
    if (type === 0 && k.GetLastError() !== 0) return -EBADF;
    const mode = this.#query(original, W32.FileModeInformation);
    if (mode < 0) return mode;
    // The buffer: the op's own, or a bounce buffer for readv and writev.
    let buffer: Uint8Array;
    if (c.iov !== null) {
      let total = 0;
      for (const b of c.iov) total += b.byteLength;
      buffer = stableBytes(total);
      if (writing) {
        let o = 0;
        for (const b of c.iov) {
          buffer.set(b, o);
          o += b.byteLength;
        }
      }
      this.#aux[slot] = buffer;
    } else {
      buffer = c.buf!;
    }
    // Nothing to move: done at once, as on Linux (an overlapped read of 0 bytes from a pipe
    // would wait for data).
    if (buffer.byteLength === 0 && type !== W32.FILE_TYPE_DISK) return 0;
    let target = original;
    this.#posFile[slot] = -1;
    if (type === W32.FILE_TYPE_DISK) {
      const access = this.#query(original, W32.FileAccessInformation);
      if (access < 0) return access;
      if (
        writing ? (access & (W32.FILE_WRITE_DATA | W32.FILE_APPEND_DATA)) === 0 : (access & W32.FILE_READ_DATA) === 0
      ) {
        return -EBADF;
      }
      let at = c.offset;
      if (at < 0) {
        // At the current position: after the one in flight on this file, if any. A duplicate
        // (sharing the position) serves from here on.
        const file = this.#ownFile(c);
        if (file < 0) return file;
        const waiting = this.#port.curpos.get(c.fd);
        if (waiting !== undefined) {
          waiting.push([this, slot]);
          this.#mode[slot] = CURPOS_WAIT;
          this.#running++; // it will complete: a wait must not think nothing could
          return undefined;
        }
        const pos = new BigInt64Array(1);
        if (!k.SetFilePointerEx(BigInt(file), 0n, new Uint8Array(pos.buffer), W32.FILE_CURRENT)) {
          return this.#lastError();
        }
        at = Number(pos[0]);
      }
      const re = k.ReOpenFile(h, access, W32.FILE_SHARE_ALL, W32.FILE_FLAG_OVERLAPPED);
      if (re === INVALID_HANDLE || re === 0n) return this.#lastError();
      target = Number(re);
      this.#owned[slot] = target;
      const a = this.#port.associate(target);
      if (a !== 0) return a < 0 ? a : -EXDEV;
      this.#ovl(slot);
      this.#setOffset(slot, at);
      if (c.offset < 0) {
        this.#posFile[slot] = c.file;
        this.#posKey[slot] = c.fd;
        this.#pos[slot] = at;
      }
    } else if ((mode & (W32.FILE_SYNCHRONOUS_IO_ALERT | W32.FILE_SYNCHRONOUS_IO_NONALERT)) !== 0) {
      // A synchronous pipe or console: no overlapped I/O is possible. A pipe is read when it has
      // data (PeekNamedPipe), looked at again and again (#poll): such a wait can be canceled. A console
      // read and any write are blocking calls for a pool Worker.
      const file = this.#ownFile(c);
      if (file < 0) return file;
      if (!writing && type === W32.FILE_TYPE_PIPE) {
        const r = this.#pipeTry(c, slot);
        if (r !== undefined) return r;
        this.#mode[slot] = POLLING;
        this.#polls.push(slot);
        this.#pollDelay = POLL_MS;
        return undefined;
      }
      return this.#pooled(
        slot,
        JOB.winTransfer,
        file,
        addressOf(buffer),
        buffer.byteLength,
        writing ? 1 : 0,
        this.scratchAddress + slot * SLOT_SCRATCH + DWORD,
      );
    } else {
      const a = this.#port.associate(original);
      if (a !== 0) return a < 0 ? a : -EXDEV;
      this.#ovl(slot);
    }
    const ovl = this.scratchAddress + slot * SLOT_SCRATCH + OVL;
    const ok = writing
      ? k.WriteFile(BigInt(target), BigInt(addressOf(buffer)), buffer.byteLength, 0n, BigInt(ovl))
      : k.ReadFile(BigInt(target), BigInt(addressOf(buffer)), buffer.byteLength, 0n, BigInt(ovl));
    let r: number | undefined;
    if (ok) {
      r = this.#issued(slot, target);
    } else {
      const e = k.GetLastError();
      if (e === WIN_ERROR.IO_PENDING || e === WIN_ERROR.MORE_DATA) r = this.#issued(slot, target);
      else if (!writing && (e === WIN_ERROR.HANDLE_EOF || e === WIN_ERROR.BROKEN_PIPE)) r = 0;
      else r = -errnoFromWin32(e);
    }
    if (this.#posFile[slot] >= 0) {
      if (r === undefined) this.#port.curpos.set(c.fd, []);
      else this.#posFile[slot] = -1; // done at once (0 bytes, or failed): the position stays
    }
    return r === undefined || r < 0 ? r : this.#ioDone(kind, c, slot, r);
  }

  // A read of a synchronous pipe, if it has data (or its writer is gone): the count, 0 at the
  // end, -errno; undefined when it would block.
  #pipeTry(c: Capture, slot: number): number | undefined {
    const k = this.#k;
    const avail = new Uint32Array(1);
    if (!k.PeekNamedPipe(BigInt(c.file), 0n, 0, 0n, new Uint8Array(avail.buffer), 0n)) {
      const e = k.GetLastError();
      return e === WIN_ERROR.BROKEN_PIPE ? 0 : -errnoFromWin32(e);
    }
    const buffer = c.iov !== null ? this.#aux[slot]! : c.buf!;
    if (buffer.byteLength === 0) return 0; // as Linux: a read of nothing returns at once
    if (avail[0] === 0) return undefined;
    const n = new Uint32Array(1);
    const len = Math.min(buffer.byteLength, avail[0]);
    if (!k.ReadFile(BigInt(c.file), BigInt(addressOf(buffer)), len, BigInt(addressOf(n)), 0n)) {
      const e = k.GetLastError();
      return e === WIN_ERROR.BROKEN_PIPE ? 0 : -errnoFromWin32(e);
    }
    return this.#ioDone(this.#ops[slot]!.kind, c, slot, n[0]);
  }

  // A file transfer moved `n` bytes: scatter a readv.
  #ioDone(kind: string, c: Capture, slot: number, n: number): number {
    if (kind === "readv") {
      const src = this.#aux[slot]!;
      let o = 0;
      for (const b of c.iov!) {
        if (o >= n) break;
        const m = Math.min(b.byteLength, n - o);
        b.set(src.subarray(o, o + m));
        o += m;
      }
    }
    return n;
  }

  // The I/O at the current position in `slot` is over (`n` bytes moved, or failed): move the
  // position, and start the next one waiting on the file (in this queue or another).
  #curposDone(slot: number, n: number): void {
    const file = this.#posFile[slot];
    if (file < 0) return;
    this.#posFile[slot] = -1;
    if (n > 0) {
      const pos = new BigInt64Array(1);
      this.#k.SetFilePointerEx(BigInt(file), BigInt(this.#pos[slot] + n), new Uint8Array(pos.buffer), W32.FILE_BEGIN);
    }
    const key = this.#posKey[slot];
    const waiting = this.#port.curpos.get(key);
    this.#port.curpos.delete(key);
    if (waiting === undefined) return;
    while (waiting.length > 0) {
      const [q, next] = waiting.shift()!;
      if (q.restartAtPosition(next)) {
        // In flight (or waiting again): the rest waits behind it.
        const now = this.#port.curpos.get(key);
        if (now !== undefined) now.push(...waiting);
        return;
      }
    }
  }

  /** Starts an operation that waited for the current position; true when it is now in flight. */
  restartAtPosition(slot: number): boolean {
    if (this.#mode[slot] !== CURPOS_WAIT) return false;
    this.#mode[slot] = IDLE;
    this.#running--;
    let r: number | undefined;
    try {
      r = this.#fileIo(this.#ops[slot]!.kind as "read", this.#cap[slot]!, slot);
    } catch {
      r = -EIO;
    }
    if (r === undefined) return true;
    this.finish(slot, r);
    this.wakeFromPark();
    return false;
  }

  // NtQueryInformationFile of one ULONG (mode or access flags); -errno on failure.
  #query(handle: number, klass: number): number {
    const st = this.#nt.NtQueryInformationFile(BigInt(handle), this.#iosb, new Uint8Array(this.#info.buffer), 4, klass);
    if (st !== 0) return -errnoFromNtstatus(st, (s) => this.#nt.RtlNtStatusToDosError(s));
    return this.#info[0];
  }

  #accept(listener: number, slot: number): number | undefined {
    const a = this.#port.associate(listener);
    if (a !== 0) return a < 0 ? a : -EXDEV;
    const name = new Uint8Array(128);
    const len = new Int32Array([128]);
    if (this.#ws.getsockname(BigInt(listener), name, new Uint8Array(len.buffer)) !== 0) {
      return -errnoFromWin32(this.#ws.WSAGetLastError());
    }
    const family = name[0] | (name[1] << 8);
    const s = this.#ws.WSASocketW(family, 1, 0, 0n, 0, WS.WSA_FLAG_OVERLAPPED | WS.WSA_FLAG_NO_HANDLE_INHERIT);
    if (s === INVALID_SOCKET) return -errnoFromWin32(this.#ws.WSAGetLastError());
    this.#owned[slot] = Number(s);
    const out = stableBytes(2 * (128 + 16));
    this.#aux[slot] = out;
    const ext = winsockExtensions(listener);
    const ovl = this.#ovl(slot);
    const ok = ext.AcceptEx.call(
      BigInt(listener),
      s,
      BigInt(addressOf(out)),
      0,
      144,
      144,
      BigInt(this.scratchAddress + slot * SLOT_SCRATCH + DWORD),
      BigInt(ovl),
    );
    return this.#afterCall(ok, slot, listener, true);
  }

  #connect(socket: number, addr: Uint8Array, addrlen: number, slot: number): number | undefined {
    // ConnectEx is for connection-oriented sockets; a datagram socket's connect only sets its
    // peer, at once.
    const type = new Int32Array(1);
    const typeLen = new Int32Array([4]);
    const t = this.#ws.getsockopt(
      BigInt(socket),
      WS.SOL_SOCKET,
      WS.SO_TYPE,
      new Uint8Array(type.buffer),
      new Uint8Array(typeLen.buffer),
    );
    if (t !== 0) return -errnoFromWin32(this.#ws.WSAGetLastError());
    if (type[0] !== 1 /* SOCK_STREAM */) return this.#wsResult(this.#ws.connect(BigInt(socket), addr, addrlen));
    const a = this.#port.associate(socket);
    if (a !== 0) return a < 0 ? a : -EXDEV;
    // ConnectEx wants a bound socket: bind the wildcard address of the family, unless bound.
    const family = addr[0] | (addr[1] << 8);
    const any = new Uint8Array(family === WIN_AF.INET6 ? 28 : 16);
    any[0] = family & 0xff;
    any[1] = family >> 8;
    if (this.#ws.bind(BigInt(socket), any, any.byteLength) !== 0) {
      const e = this.#ws.WSAGetLastError();
      if (e !== WIN_ERROR.WSAEINVAL) return -errnoFromWin32(e);
    }
    const ext = winsockExtensions(socket);
    const ovl = this.#ovl(slot);
    const ok = ext.ConnectEx.call(BigInt(socket), BigInt(addressOf(addr)), addrlen, 0n, 0, 0n, BigInt(ovl));
    return this.#afterCall(ok, slot, socket, true);
  }

  #transfer(recv: boolean, c: Capture, slot: number, done: number): number | undefined {
    const s = c.fd;
    const a = this.#port.associate(s);
    if (a !== 0) return a < 0 ? a : -EXDEV;
    this.#acc[slot] = done;
    const buffer = c.buf!;
    const base = slot * SLOT_SCRATCH;
    const v = this.scratchView;
    v.setUint32(base + WSABUF, buffer.byteLength - done, true);
    v.setBigUint64(base + WSABUF + 8, BigInt(addressOf(buffer) + done), true);
    if (!recv && this.#tooBig(s, buffer.byteLength)) return -EMSGSIZE;
    const ovl = this.#ovl(slot);
    const wsabuf = BigInt(this.scratchAddress + base + WSABUF);
    let r: number;
    if (recv) {
      v.setUint32(base + DWORD, c.flags, true);
      r = this.#ws.WSARecv(BigInt(s), wsabuf, 1, 0n, BigInt(this.scratchAddress + base + DWORD), BigInt(ovl), 0n);
    } else {
      r = this.#ws.WSASend(BigInt(s), wsabuf, 1, 0n, c.flags, BigInt(ovl), 0n);
    }
    return this.#afterCall(r === 0 ? 1 : 0, slot, s, true);
  }

  #message(recv: boolean, c: Capture, slot: number): number | undefined {
    const s = c.fd;
    const a = this.#port.associate(s);
    if (a !== 0) return a < 0 ? a : -EXDEV;
    const iov = c.iov!;
    if (!recv && this.#tooBig(s, iov.reduce((n, b) => n + b.byteLength, 0))) return -EMSGSIZE;
    // WSAMSG (56 bytes), then its WSABUF array.
    const mem = stableBytes(56 + 16 * iov.length);
    const v = new DataView(mem.buffer);
    const at = addressOf(mem);
    if (c.name !== null) {
      v.setBigUint64(0, BigInt(addressOf(c.name)), true);
      v.setInt32(8, c.namelen, true);
    }
    v.setBigUint64(16, BigInt(at + 56), true);
    v.setUint32(24, iov.length, true);
    iov.forEach((b, i) => {
      v.setUint32(56 + 16 * i, b.byteLength, true);
      v.setBigUint64(56 + 16 * i + 8, BigInt(addressOf(b)), true);
    });
    if (c.control !== null) {
      v.setUint32(32, c.controllen, true);
      v.setBigUint64(40, BigInt(addressOf(c.control)), true);
    }
    this.#aux[slot] = mem;
    const ovl = this.#ovl(slot);
    let r: number;
    if (recv) {
      v.setUint32(48, c.flags, true);
      r = winsockExtensions(s).WSARecvMsg.call(BigInt(s), BigInt(at), 0n, BigInt(ovl), 0n);
    } else {
      r = this.#ws.WSASendMsg(BigInt(s), BigInt(at), c.flags, 0n, BigInt(ovl), 0n);
    }
    return this.#afterCall(r === 0 ? 1 : 0, slot, s, true);
  }

  // Whether a datagram of `size` bytes is more than the socket takes (EMSGSIZE, as Linux says at
  // once; Windows may otherwise answer through the port with a warning and 0 bytes).
  #tooBig(socket: number, size: number): boolean {
    const v = new Int32Array(1);
    const len = new Int32Array([4]);
    const get = (opt: number): number => {
      len[0] = 4;
      const r = this.#ws.getsockopt(
        BigInt(socket),
        WS.SOL_SOCKET,
        opt,
        new Uint8Array(v.buffer),
        new Uint8Array(len.buffer),
      );
      return r === 0 ? v[0] : -1;
    };
    if (get(WS.SO_TYPE) !== 2 /* SOCK_DGRAM */) return false;
    const max = get(0x2003 /* SO_MAX_MSG_SIZE */);
    return max > 0 && size > max;
  }

  // Takes a count of the event source, or waits for its wake-up.
  #eventWait(c: Capture, slot: number): number | undefined {
    const socket = c.fd;
    const got = eventTry(socket, c.sem);
    if (got !== 0) return got < 0 ? got : 0;
    const a = this.#port.associate(socket);
    if (a < 0) return a;
    if (a === FOREIGN) {
      // Another isolate's port has this socket (a Mutex shared with Workers): look again every
      // few milliseconds, here, rather than wait where the completion would not come.
      this.#mode[slot] = POLLING;
      this.#polls.push(slot);
      this.#pollDelay = POLL_MS;
      this.#handle[slot] = socket;
      return undefined;
    }
    const base = slot * SLOT_SCRATCH;
    this.scratchView.setUint32(base + WSABUF, 1, true);
    this.scratchView.setBigUint64(base + WSABUF + 8, BigInt(this.scratchAddress + base + BYTE), true);
    this.scratchView.setUint32(base + DWORD, 0, true);
    const ovl = this.#ovl(slot);
    const r = this.#ws.WSARecv(
      BigInt(socket),
      BigInt(this.scratchAddress + base + WSABUF),
      1,
      0n,
      BigInt(this.scratchAddress + base + DWORD),
      BigInt(ovl),
      0n,
    );
    return this.#afterCall(r === 0 ? 1 : 0, slot, socket, true);
  }

  #childExit(pid: number, userData: number, slot: number): number | undefined {
    const k = this.#k;
    // Only a child of this isolate's `aio.posix.spawn`, whose handle it kept: a pid alone could
    // name any process, or a new one that reused it.
    const proc = childHandle(pid);
    if (proc === undefined) return -ECHILD;
    if (k.WaitForSingleObject(proc, 0) === W32.WAIT_OBJECT_0) return this.#exited(slot);
    const job = k.CreateJobObjectW(0n, 0n);
    if (job === 0n) return this.#lastError();
    this.#owned[slot] = Number(job);
    const assoc = new BigUint64Array(2);
    assoc[0] = KEY_JOB | (BigInt(this.#id) << 8n) | (BigInt(userData) << 32n);
    assoc[1] = BigInt(this.#port.handle);
    if (
      !k.SetInformationJobObject(job, W32.JobObjectAssociateCompletionPortInformation, new Uint8Array(assoc.buffer), 16)
    ) {
      return this.#lastError();
    }
    if (!k.AssignProcessToJobObject(job, proc)) {
      // It exited in between, or it cannot join a job: then a finished wait is all there is.
      if (k.WaitForSingleObject(proc, 0) === W32.WAIT_OBJECT_0) return this.#exited(slot);
      return this.#lastError();
    }
    this.#mode[slot] = JOB_WAIT;
    this.#running++;
    if (k.WaitForSingleObject(proc, 0) === W32.WAIT_OBJECT_0) {
      this.#mode[slot] = IDLE;
      this.#running--;
      return this.#exited(slot);
    }
    return undefined;
  }

  // The child of `slot` exited: its code goes where finalize reads a siginfo (CLD_EXITED), and
  // its handle is let go (the child is reaped).
  #exited(slot: number): number {
    const pid = this.#cap[slot]!.fd;
    const proc = childHandle(pid);
    if (proc === undefined) return -ECHILD; // another wait reaped it first
    const code = new Uint32Array(1);
    const base = slot * SLOT_SCRATCH;
    this.scratchView.setInt32(base + 8, 1, true);
    if (!this.#k.GetExitCodeProcess(proc, new Uint8Array(code.buffer))) return this.#lastError();
    this.scratchView.setInt32(base + 24, code[0] | 0, true);
    childReaped(pid);
    return 0;
  }

  // A packet for `slot`: its result, or a continuation. Nothing here should throw; if something
  // does, the operation fails rather than stays running forever.
  #complete(slot: number, status: number, bytes: number): void {
    try {
      this.#completeInner(slot, status, bytes);
    } catch {
      if (this.#mode[slot] === IDLE) this.finish(slot, -EIO);
    }
  }

  #completeInner(slot: number, status: number, bytes: number): void {
    const mode = this.#mode[slot];
    if (mode !== OVERLAPPED && mode !== JOB_WAIT) return;
    this.#mode[slot] = IDLE;
    this.#running--;
    if (mode === JOB_WAIT) return this.finish(slot, this.#exited(slot));
    const op = this.#ops[slot]!;
    const c = this.#cap[slot]!;
    const reading = op.kind === "read" || op.kind === "readTty" || op.kind === "readv";
    let res: number;
    if (status === NTSTATUS.BUFFER_OVERFLOW && (op.kind === "send" || op.kind === "sendMsg")) {
      res = -EMSGSIZE; // a datagram too large to send (Wine answers so; Linux at once)
    } else if (status === NTSTATUS.SUCCESS || status === NTSTATUS.BUFFER_OVERFLOW) {
      res = bytes;
    } else if (status === NTSTATUS.END_OF_FILE || (status === NTSTATUS.PIPE_BROKEN && reading)) {
      res = 0;
    } else {
      res = -errnoFromNtstatus(status, (s) => this.#nt.RtlNtStatusToDosError(s));
    }
    switch (op.kind) {
      case "read":
      case "readTty":
      case "readv":
      case "write":
      case "writev":
        if (res >= 0) res = this.#ioDone(op.kind, c, slot, res);
        this.#curposDone(slot, res);
        break;
      case "recv": {
        const acc = this.#acc[slot];
        if (res > 0 && c.waitAll && acc + res < c.buf!.byteLength && !this.#cancelAsked[slot]) {
          const r = this.#transfer(true, c, slot, acc + res);
          if (r === undefined) return;
          res = r < 0 && acc + res > 0 ? acc + res : r;
        } else if (res >= 0) {
          res += acc;
        } else if (acc > 0) {
          res = acc; // canceled or failed after some bytes: they are the result, as on io_uring
        }
        break;
      }
      case "send":
        // Wine completes a send after the socket's own shutdown("send") with 0 bytes and success;
        // Linux says EPIPE (found by the fuzzer). A non-empty send never legitimately moves nothing.
        if (res === 0 && c.buf!.byteLength > 0) res = -EPIPE;
        break;
      case "accept":
        res = res < 0 ? res : this.#accepted(c.fd, c.buf, slot);
        break;
      case "connect":
        if (res >= 0) {
          this.#ws.setsockopt(BigInt(c.fd), WS.SOL_SOCKET, WS.SO_UPDATE_CONNECT_CONTEXT, new Uint8Array(0), 0);
          res = 0;
        }
        break;
      case "recvMsg":
        if (res >= 0) {
          const mem = new DataView(this.#aux[slot]!.buffer);
          const base = slot * SLOT_SCRATCH;
          const truncated = status === NTSTATUS.BUFFER_OVERFLOW ? WIN_MSG.TRUNC : 0;
          this.scratchView.setUint32(base + 8, mem.getInt32(8, true), true);
          this.scratchView.setBigUint64(base + 40, BigInt(mem.getUint32(32, true)), true);
          this.scratchView.setInt32(base + 48, mem.getUint32(48, true) | truncated, true);
        }
        break;
      case "waitEventSource":
        if (res >= 0) {
          // A wake-up: take a count; none (another waiter took it): wait again.
          const got = eventTry(c.fd, c.sem);
          if (got === 0 && !this.#cancelAsked[slot]) {
            const r = this.#eventWait(c, slot);
            if (r === undefined) return;
            res = r;
          } else {
            res = got < 0 ? got : got === 1 ? 0 : -ECANCELED;
          }
        }
        break;
    }
    this.finish(slot, res);
  }

  // AcceptEx completed: the new socket takes the listener's properties, and the peer's address goes out.
  #accepted(listener: number, outAddr: Uint8Array | null, slot: number): number {
    const s = this.#owned[slot];
    const l = new BigUint64Array([BigInt(listener)]);
    this.#ws.setsockopt(BigInt(s), WS.SOL_SOCKET, WS.SO_UPDATE_ACCEPT_CONTEXT, new Uint8Array(l.buffer), 8);
    if (outAddr !== null) {
      const name = new Uint8Array(128);
      const len = new Int32Array([128]);
      this.#ws.getpeername(BigInt(s), name, new Uint8Array(len.buffer));
      const n = Math.min(len[0], outAddr.byteLength);
      outAddr.set(name.subarray(0, n));
      this.scratchView.setUint32(slot * SLOT_SCRATCH, len[0], true);
    }
    this.#owned[slot] = -1; // the caller's now
    return s;
  }

  protected abort(slot: number): number {
    switch (this.#mode[slot]) {
      case OVERLAPPED: {
        this.#cancelAsked[slot] = 1;
        const ovl = this.scratchAddress + slot * SLOT_SCRATCH + OVL;
        if (this.#k.CancelIoEx(BigInt(this.#handle[slot]), BigInt(ovl))) return ABORT_ASKED;
        // ERROR_NOT_FOUND: it has completed, and its packet is on the way. An operation that
        // would go on from it (recv waitAll, an event-source wait) stops there instead.
        const kind = this.#ops[slot]!.kind;
        return (kind === "recv" && this.#cap[slot]!.waitAll) || kind === "waitEventSource" ? ABORT_ASKED : ABORT_FAILED;
      }
      case JOB_WAIT:
        this.#mode[slot] = IDLE;
        this.#running--;
        return ABORT_DONE;
      case POLLING:
        this.#mode[slot] = IDLE;
        this.#polls.splice(this.#polls.indexOf(slot), 1);
        return ABORT_DONE;
      case CURPOS_WAIT: {
        for (const list of this.#port.curpos.values()) {
          const i = list.findIndex(([q, s]) => q === this && s === slot);
          if (i >= 0) list.splice(i, 1);
        }
        this.#mode[slot] = IDLE;
        this.#running--;
        return ABORT_DONE;
      }
      case POOL_WAIT:
        this.#backlog.splice(this.#backlog.indexOf(slot), 1);
        this.#mode[slot] = IDLE;
        this.#running--;
        return ABORT_DONE;
      case POOLED: {
        const pool = posixPool();
        const job = this.#job[slot];
        // Adopted (another queue's collect handed its result here: job -1), or a Worker is
        // making the call: it completes with its real result.
        if (job < 0 || !pool.cancel(job)) return ABORT_FAILED;
        pool.retire(job);
        this.#job[slot] = -1;
        this.#pooledSlots.splice(this.#pooledSlots.indexOf(slot), 1);
        this.#mode[slot] = IDLE;
        this.#running--;
        return ABORT_DONE;
      }
      default:
        return ABORT_FAILED;
    }
  }

  protected pending(): boolean {
    return this.#running > 0 || this.hasPackets() || this.#polls.length > 0;
  }

  /** Whether packets wait in this queue's inbox (or pool results), or one was handled at once. */
  hasPackets(): boolean {
    return this.#inbox.length > 0 || this.#poolSignalled || this.#handledNow;
  }

  // Event-source waits that poll: true if one finished.
  #poll(): boolean {
    let any = false;
    for (let i = this.#polls.length - 1; i >= 0; i--) {
      const slot = this.#polls[i];
      const c = this.#cap[slot]!;
      let r: number | undefined;
      const op = this.#ops[slot]!;
      if (op.kind === "waitEventSource") {
        // Closed meanwhile: its socket number may be another socket's by now.
        const got = op.source.fd !== c.fd ? -EBADF : eventTry(c.fd, c.sem);
        r = got === 0 ? undefined : got < 0 ? got : 0;
      } else {
        r = this.#pipeTry(c, slot);
      }
      if (r === undefined) continue;
      this.#polls.splice(i, 1);
      this.#mode[slot] = IDLE;
      this.finish(slot, r);
      any = true;
    }
    return any;
  }

  protected waitEvents(timeoutMs: number): void {
    if (this.#backlog.length > 0) {
      while (this.#backlog.length > 0 && this.#submitJob(this.#backlog[0])) this.#backlog.shift();
      if (this.#backlog.length > 0 && (timeoutMs < 0 || timeoutMs > 1)) timeoutMs = 1;
    }
    if (this.#polls.length > 0) {
      if (this.#poll()) {
        timeoutMs = 0;
        this.#pollDelay = POLL_MS;
      } else {
        if (timeoutMs < 0 || timeoutMs > this.#pollDelay) timeoutMs = this.#pollDelay;
        this.#pollDelay = Math.min(POLL_MAX_MS, this.#pollDelay * 2);
      }
    }
    if (!this.hasPackets()) this.#port.drain(this, timeoutMs < 0 ? -1 : timeoutMs);
    this.#handledNow = false;
    if (this.#poolSignalled) this.#harvestPool();
    // One packet at a time, each taken off before it is handled: should handling throw, the
    // packets after it are still there for the next wait.
    const inbox = this.#inbox;
    while (inbox.length > 0) {
      const slot = inbox.shift()!;
      const status = inbox.shift()!;
      this.#complete(slot, status, inbox.shift()!);
    }
  }

  protected override armed(deadline: number): void {
    if (this.#parkWaiters.length > 0) this.#port.park(this, deadline);
  }

  protected release(slot: number): void {
    const op = this.#ops[slot];
    if (this.#owned[slot] >= 0) {
      if (op?.kind === "accept") this.#ws.closesocket(BigInt(this.#owned[slot]));
      else this.#k.CloseHandle(BigInt(this.#owned[slot]));
      this.#port.forget(this.#owned[slot]);
      this.#owned[slot] = -1;
    }
    const dups = this.#cap[slot]?.dups;
    if (dups) { for (const d of dups) this.#k.CloseHandle(d); }
    this.#posKey[slot] = -1;
    this.#ops[slot] = undefined;
    this.#cap[slot] = undefined;
    this.#aux[slot] = undefined;
  }

  /** Resolves when a completion may be available, leaving the event loop free while it waits. */
  park(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.doneCount > 0 || this.hasPackets()) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.#parkWaiters.push(resolve));
    const timer = this.nextDeadline();
    let deadline = timer;
    // Polls and a pool backlog are looked at again after a wait through the port (whole
    // milliseconds), not by spinning through the event loop.
    if (this.#polls.length > 0 || this.#backlog.length > 0) {
      deadline = Math.min(deadline, performance.now() + Math.max(2, this.#pollDelay));
    }
    if (timer - performance.now() < 1.5) {
      // Sooner than the port's millisecond timeouts can say: come back after the event loop's
      // turn instead (Windows rounds such waits up to its timer tick).
      setImmediate(() => this.wakeFromPark());
      return p;
    }
    if (this.#running === 0 && deadline === Infinity) {
      // Nothing could complete: do not leave a wait in flight forever.
      this.wakeFromPark();
      return p;
    }
    this.#port.park(this, deadline);
    return p;
  }

  /** Releases the queue's share of the port. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wakeFromPark();
    this.#port.remove(this.#id);
  }

  // `path` relative to `dir`, as CreateFileW wants it; -errno if `dir` is no directory handle.
  #path(dir: number, path: Path): Uint8Array | number {
    let p = pathString(path).replaceAll("/", "\\");
    const absolute = /^[a-zA-Z]:\\/.test(p) || p.startsWith("\\");
    if (!absolute && dir !== AT_FDCWD) {
      const buf = this.#pathBuf;
      const n = this.#k.GetFinalPathNameByHandleW(BigInt(dir), new Uint8Array(buf.buffer), buf.length, 0);
      if (n === 0 || n >= buf.length) return n === 0 ? -EBADF : -EINVAL;
      let base = String.fromCharCode(...buf.subarray(0, n));
      if (/^\\\\\?\\[a-zA-Z]:/.test(base)) base = base.slice(4);
      p = `${base}\\${p}`;
    }
    return wide(p) ?? -EINVAL;
  }
}
