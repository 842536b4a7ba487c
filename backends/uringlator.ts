/**
 * The uringlator: io_uring's execution model emulated over any readiness or completion API
 * (zig-aio's `uringlator.zig`). The posix backend builds on it, and the iocp backend will.
 *
 * It owns what io_uring's kernel side does besides the I/O itself: the submission list, links
 * (soft and hard), link timeouts, timeouts on a monotonic clock, cancellation of operations that
 * have not started or are waiting, and the completion list that `reap` hands to the queue. A
 * subclass starts the I/O of each operation and calls {@linkcode Uringlator.finish} with an
 * io_uring-style result (`>= 0`, or `-errno`) when it is done.
 *
 * Link rules, as io_uring applies them (and tests check on every backend):
 * - a failed operation linked `soft` cancels the rest of its chain, whatever their own links;
 *   reads, writes and splices that move fewer bytes than asked count as failed (io_uring's
 *   short-transfer rule), as does a recv with `waitAll`; an expired Timeout does not;
 * - `hard` links run the next operation whatever the result;
 * - a LinkTimeout is armed when the operation before it starts. If that operation finishes
 *   first, the LinkTimeout completes `-ECANCELED` (no failure) and the chain goes on from the
 *   operation after it; if the timer fires first, the LinkTimeout completes `-ETIME`, leaves the
 *   chain, and cancels the operation, whose result and link type then decide the rest as above
 *   (`soft`: canceled; `hard`: it goes on). Operations that links unlock start once the current
 *   work is done (io_uring's task work), not at once: heads submitted together all start first.
 *
 * @module
 */
import type { Backend, BackendName, CompletionSink, SlotTable } from "../aio/backend.ts";
import { CODE as C, type Operation, type OperationKind } from "../aio/ops.ts";
import { ERRNO } from "../ffi/linux.ts";
import { BackendError } from "../aio/errors.ts";

const ECANCELED = ERRNO.ECANCELED;
const ETIME = ERRNO.ETIME;
const ENOENT = ERRNO.ENOENT;
const EALREADY = ERRNO.EALREADY;

/** Slot states. */
const FREE = 0;
/** Encoded, not yet submitted. */
const PREPPED = 1;
/** Submitted, waiting for the operation linked before it. */
const LOCKED = 2;
/** Submitted and not locked, to be started by this submission. */
const READY = 3;
/** Started: the subclass owns it until it calls finish. */
const RUNNING = 4;
/** A Timeout or an armed LinkTimeout, in the timer heap. */
const TIMER = 5;
/** Finished, its completion not yet reaped. */
const DONE = 6;

/** {@linkcode Uringlator.abort}: the operation cannot be stopped. */
export const ABORT_FAILED = 0;
/** {@linkcode Uringlator.abort}: the operation was stopped; complete it `Canceled`. */
export const ABORT_DONE = 1;
/** {@linkcode Uringlator.abort}: cancellation was asked; the operation completes later by itself. */
export const ABORT_ASKED = 2;

const UNLINKED = 0;
const SOFT = 1;

/** Which kinds move bytes and fail a soft link when they move fewer than asked. */
const SHORT_FAILS = new Uint8Array(64);
for (const k of ["read", "readTty", "readv", "write", "writev", "splice"] as const) SHORT_FAILS[C[k]] = 1;

/**
 * The emulation layer. A subclass implements {@linkcode Uringlator.encode},
 * {@linkcode Uringlator.start}, {@linkcode Uringlator.abort}, {@linkcode Uringlator.pending},
 * {@linkcode Uringlator.waitEvents}, `park` and {@linkcode Uringlator.release}.
 */
export abstract class Uringlator implements Backend {
  /** Which backend this is. */
  abstract readonly name: BackendName;
  /** No hidden entries: closeSocket's cancel of pending work on the fd is done in place. */
  readonly closeSocketEntries = 1;
  /** The most operations one batch may take: the SQ size less two, as on io_uring. */
  maxBatch = 0;
  /** The emulated SQ's size: how many operations one submission takes. */
  protected sqSize = 32768;

  /** Slots (the queue's capacity). */
  protected capacity = 0;
  /** The queue's per-slot scratch memory, at `scratchAddress + slot * SLOT_SCRATCH` (aio/backend.ts). */
  protected scratch: Uint8Array = new Uint8Array(0);
  /** A view over {@linkcode Uringlator.scratch}. */
  protected scratchView: DataView = new DataView(new ArrayBuffer(0));
  /** The address of {@linkcode Uringlator.scratch}. */
  protected scratchAddress = 0;
  /** The kind code per slot. */
  protected code: Uint8Array = new Uint8Array(0);
  /** Whether the backend has been closed. */
  protected closed = false;

  #state = new Uint8Array(0);
  #link = new Uint8Array(0);
  #ud = new Uint32Array(0);
  #next = new Int32Array(0);
  #prev = new Int32Array(0);
  /** Bytes asked, for the short-transfer rule; -1 where it does not apply. */
  #expect = new Float64Array(0);
  /** Timeout length (ns) or a cancel's target id. */
  #arg = new Float64Array(0);
  #sq = new Int32Array(0);
  #sqLen = 0;
  #linkPrev = -1;
  /** Ids whose cancellation was asked outside an operation, applied at the next submit. */
  #cancels: number[] = [];
  // Completions not yet reaped: a ring, since a handler may queue and finish more mid-reap.
  #done = new Int32Array(0);
  #doneRes = new Int32Array(0);
  #doneHead = 0;
  #doneCount = 0;
  // Timers: an indexed binary min-heap of slots by deadline (ms on the performance clock).
  #heap = new Int32Array(0);
  #heapPos = new Int32Array(0);
  #deadline = new Float64Array(0);
  #heapLen = 0;
  // Operations unlocked by a link, to start once the current work is done (see #settle).
  #later = new Int32Array(0);
  #laterHead = 0;
  #laterCount = 0;

  /** Attaches the queue's slot memory; sizes every per-slot table. */
  bind(slots: SlotTable): void {
    const n = slots.flags.length;
    this.capacity = n;
    this.maxBatch = this.sqSize - 2;
    this.scratch = slots.scratch;
    this.scratchView = new DataView(slots.scratch.buffer, slots.scratch.byteOffset, slots.scratch.byteLength);
    this.scratchAddress = slots.address;
    this.code = new Uint8Array(n);
    this.#state = new Uint8Array(n);
    this.#link = new Uint8Array(n);
    this.#ud = new Uint32Array(n);
    this.#next = new Int32Array(n).fill(-1);
    this.#prev = new Int32Array(n).fill(-1);
    this.#expect = new Float64Array(n);
    this.#arg = new Float64Array(n);
    this.#sq = new Int32Array(n);
    this.#done = new Int32Array(n);
    this.#doneRes = new Int32Array(n);
    this.#heap = new Int32Array(n);
    this.#heapPos = new Int32Array(n).fill(-1);
    this.#deadline = new Float64Array(n);
    this.#later = new Int32Array(n);
    this.onBind(n);
  }

  /** Sizes the subclass's per-slot tables. */
  protected abstract onBind(capacity: number): void;

  /** Captures what slot `slot` needs to run `op`; returns its keep-alive (see `Backend.prep`). */
  protected abstract encode(op: Operation, code: number, slot: number): unknown;

  /** Starts the I/O of slot `slot` (any kind but nop, timeout, linkTimeout and cancel). */
  protected abstract start(slot: number): void;

  /**
   * Stops a started operation if it can be. Returns {@linkcode ABORT_FAILED} when it cannot (it
   * is running where it cannot be stopped), {@linkcode ABORT_DONE} when it stopped (the
   * uringlator completes it `Canceled`), or {@linkcode ABORT_ASKED} when the kernel was asked to
   * stop it and will complete it itself, canceled or not (iocp's CancelIoEx: the buffers stay the
   * kernel's until then).
   */
  protected abstract abort(slot: number): number;

  /** Whether any started operation waits on an event source (fds, a thread pool). */
  protected abstract pending(): boolean;

  /**
   * Waits at most `timeoutMs` (-1: no bound, 0: just look) for events, and finishes what they
   * complete.
   */
  protected abstract waitEvents(timeoutMs: number): void;

  /** Frees what slot `slot` holds besides its keep-alive (a pidfd); called once it finished. */
  protected abstract release(slot: number): void;

  /** Resolves when a completion may be available, without blocking the event loop. */
  abstract park(): Promise<void>;

  /** Whether every kind is supported. */
  abstract isSupported(kinds: readonly OperationKind[]): boolean;

  /** Releases the backend. */
  abstract close(): void;

  /** Bytes the operation in `slot` asked to move, where the short-transfer rule applies; else -1. */
  protected expected(slot: number): number {
    return this.#expect[slot];
  }

  /** The deadline of the earliest timer, in ms on the performance clock; Infinity if none. */
  protected nextDeadline(): number {
    return this.#heapLen === 0 ? Infinity : this.#deadline[this.#heap[0]];
  }

  /** Completions waiting to be reaped. */
  protected get doneCount(): number {
    return this.#doneCount;
  }

  /** Room left in the emulated SQ before a flush. */
  space(): number {
    this.#live();
    return Math.min(this.sqSize, this.capacity) - this.#sqLen;
  }

  /** Records `op` in slot `slot` and links it to the operation encoded before it. */
  prep(op: Operation, code: number, userData: number, slot: number): unknown {
    this.#state[slot] = PREPPED;
    this.code[slot] = code;
    this.#ud[slot] = userData;
    this.#link[slot] = op.link === "unlinked" ? UNLINKED : op.link === "soft" ? SOFT : 2;
    this.#next[slot] = -1;
    this.#prev[slot] = this.#linkPrev;
    if (this.#linkPrev >= 0) this.#next[this.#linkPrev] = slot;
    this.#linkPrev = op.link === "unlinked" ? -1 : slot;
    this.#sq[this.#sqLen++] = slot;
    let expect = -1;
    switch (op.kind) {
      case "read":
      case "readTty":
      case "write":
        expect = op.buffer.byteLength;
        break;
      case "readv":
      case "writev":
        expect = 0;
        for (const b of op.iov) expect += b.byteLength;
        break;
      case "recv":
        if (op.flags.waitAll) expect = op.buffer.byteLength;
        break;
      case "splice":
        expect = op.len;
        break;
      case "timeout":
      case "linkTimeout":
        this.#arg[slot] = op.ns;
        break;
      case "cancel":
        this.#arg[slot] = op.id;
        break;
    }
    this.#expect[slot] = expect;
    if (code === C.nop || code === C.timeout || code === C.linkTimeout || code === C.cancel) return undefined;
    return this.encode(op, code, slot);
  }

  /** The submission list's length. */
  mark(): number {
    return this.#sqLen;
  }

  /** Forgets what was encoded since `mark`. */
  rollback(mark: number): void {
    for (let i = mark; i < this.#sqLen; i++) {
      const s = this.#sq[i];
      this.#state[s] = FREE;
      this.#next[s] = -1;
      this.#prev[s] = -1;
      this.release(s);
    }
    this.#sqLen = mark;
    this.#linkPrev = -1;
  }

  /** Starts what was submitted, fires due timers, and waits for `minComplete` completions. */
  submit(minComplete: number): void {
    this.#live();
    this.#flush();
    this.#settle();
    if (minComplete === 0) {
      if (this.pending()) this.waitEvents(0);
      this.#settle();
      return;
    }
    for (;;) {
      if (this.#doneCount >= minComplete) return;
      const deadline = this.nextDeadline();
      if (deadline === Infinity && !this.pending()) return; // nothing could complete
      this.waitEvents(deadline === Infinity ? -1 : Math.max(0, deadline - performance.now()));
      this.#settle();
    }
  }

  /** Starts what was submitted and waits at most `timeoutNs` for a completion. */
  submitWithin(timeoutNs: number): void {
    this.#live();
    this.#flush();
    this.#settle();
    if (this.#doneCount > 0) return;
    const wait = Math.min(timeoutNs / 1e6, Math.max(0, this.nextDeadline() - performance.now()));
    if (wait > 0 || this.pending()) this.waitEvents(wait);
    this.#settle();
  }

  // What io_uring does before it returns to the caller: the task work of this submission (the
  // operations that links unlocked, started only after every head of the submission was
  // issued) and timers that are due.
  #settle(): void {
    for (;;) {
      while (this.#laterCount > 0) {
        const slot = this.#later[this.#laterHead];
        this.#laterHead = this.#laterHead + 1 === this.capacity ? 0 : this.#laterHead + 1;
        this.#laterCount--;
        if (this.#state[slot] === LOCKED) this.#start(slot);
      }
      this.#fireTimers();
      if (this.#laterCount === 0) return;
    }
  }

  // Unlocked by the operation linked before it: it starts when the current work is done, as
  // io_uring queues it as task work, not at once.
  #defer(slot: number): void {
    let i = this.#laterHead + this.#laterCount++;
    if (i >= this.capacity) i -= this.capacity;
    this.#later[i] = slot;
  }

  /** Hands finished operations to `sink`, oldest first. */
  reap(sink: CompletionSink): number {
    this.#live();
    let n = 0;
    const cap = this.capacity;
    while (this.#doneCount > 0) {
      const i = this.#doneHead;
      const slot = this.#done[i];
      const res = this.#doneRes[i];
      this.#doneHead = i + 1 === cap ? 0 : i + 1;
      this.#doneCount--;
      this.#state[slot] = FREE;
      n++;
      sink.onCompletion(this.#ud[slot], res);
    }
    return n;
  }

  /** Cancels the operation with `userData` at the next submit; its own result is not reported. */
  cancel(userData: number): void {
    this.#cancels.push(userData);
  }

  /** Completes slot `slot` with `res`, then applies its links. For subclasses. */
  protected finish(slot: number, res: number): void {
    if (this.#state[slot] === DONE || this.#state[slot] === FREE) return;
    const p = this.#prev[slot];
    if (p >= 0) {
      // Finished before the operation linked to it (canceled while locked): sever that link.
      this.#next[p] = -1;
      this.#prev[slot] = -1;
    }
    this.#deliver(slot, res);
    const n = this.#next[slot];
    if (n < 0) return;
    this.#next[slot] = -1;
    this.#prev[n] = -1;
    const failed = this.#failed(slot, res);
    let after = n;
    if (this.code[n] === C.linkTimeout) {
      // The operation beat its link timeout: disarm it, and go on from the operation after it.
      after = this.#next[n];
      this.#next[n] = -1;
      if (after >= 0) this.#prev[after] = -1;
      this.#heapRemove(n);
      this.#deliver(n, -ECANCELED);
      if (after < 0) return;
    }
    if (failed && this.#link[slot] === SOFT) this.#cancelChain(after);
    else this.#defer(after);
  }

  #failed(slot: number, res: number): boolean {
    const code = this.code[slot];
    if (res < 0) return !(res === -ETIME && code === C.timeout);
    return SHORT_FAILS[code] === 1 || code === C.recv ? res < this.#expect[slot] : false;
  }

  #deliver(slot: number, res: number): void {
    this.release(slot);
    this.#state[slot] = DONE;
    let i = this.#doneHead + this.#doneCount++;
    if (i >= this.capacity) i -= this.capacity;
    this.#done[i] = slot;
    this.#doneRes[i] = res;
  }

  #cancelChain(slot: number): void {
    while (slot >= 0) {
      const n = this.#next[slot];
      this.#next[slot] = -1;
      this.#prev[slot] = -1;
      this.#heapRemove(slot);
      this.#deliver(slot, -ECANCELED);
      slot = n;
    }
  }

  #flush(): void {
    const n = this.#sqLen;
    if (n === 0 && this.#cancels.length === 0) return;
    const sq = this.#sq;
    for (let i = 0; i < n; i++) {
      const s = sq[i];
      this.#state[s] = this.#prev[s] >= 0 ? LOCKED : READY;
    }
    this.#sqLen = 0;
    for (let i = 0; i < n; i++) {
      const s = sq[i];
      if (this.#state[s] === READY) this.#start(s);
    }
    if (this.#cancels.length > 0) {
      const ids = this.#cancels;
      this.#cancels = [];
      for (const id of ids) this.#cancelId(id);
    }
  }

  #start(slot: number): void {
    const code = this.code[slot];
    const n = this.#next[slot];
    // io_uring arms a link timeout when the operation before it is issued.
    if (n >= 0 && this.code[n] === C.linkTimeout) this.#arm(n);
    if (code === C.nop) {
      this.#state[slot] = RUNNING;
      this.finish(slot, 0);
    } else if (code === C.timeout) {
      this.#arm(slot);
    } else if (code === C.cancel) {
      this.#state[slot] = RUNNING;
      this.finish(slot, this.#cancelId(this.#arg[slot]));
    } else {
      this.#state[slot] = RUNNING;
      this.start(slot);
    }
  }

  // Cancels the operation with `id`; returns the cancel's own result.
  #cancelId(id: number): number {
    const slot = id & 0xffff;
    if (slot >= this.capacity || this.#ud[slot] !== id) return -ENOENT;
    switch (this.#state[slot]) {
      case LOCKED:
        // As io_uring: a linked request not yet issued is in none of the places a cancel looks
        // (canceling the chain's head cancels it), and neither is an armed link timeout.
        return -ENOENT;
      case TIMER:
        if (this.code[slot] === C.linkTimeout) return -ENOENT;
        this.#heapRemove(slot);
        this.finish(slot, -ECANCELED);
        return 0;
      case RUNNING: {
        const r = this.abort(slot);
        if (r === ABORT_FAILED) return -EALREADY;
        if (r === ABORT_DONE) this.finish(slot, -ECANCELED);
        return 0;
      }
      default:
        return -ENOENT;
    }
  }

  #arm(slot: number): void {
    this.#state[slot] = TIMER;
    this.#heapPush(slot, performance.now() + this.#arg[slot] / 1e6);
    this.armed(this.#deadline[slot]);
  }

  /** A timer was armed for `deadline`: a subclass parked on a later one must wake. */
  protected armed(_deadline: number): void {}

  #fireTimers(): void {
    if (this.#heapLen === 0) return;
    const now = performance.now();
    while (this.#heapLen > 0 && this.#deadline[this.#heap[0]] <= now) {
      const slot = this.#heap[0];
      this.#heapRemove(slot);
      if (this.code[slot] === C.timeout) {
        this.finish(slot, -ETIME);
        continue;
      }
      // A link timeout fired first. As io_uring does, it leaves the chain (its operation now
      // links straight to what followed it) and cancels its operation, whose own result and
      // link type then decide the rest: `soft` cancels it, `hard` goes on.
      const target = this.#prev[slot];
      const after = this.#next[slot];
      this.#prev[slot] = -1;
      this.#next[slot] = -1;
      this.#deliver(slot, -ETIME);
      if (target < 0) {
        this.#cancelChain(after);
        continue;
      }
      this.#next[target] = after;
      if (after >= 0) this.#prev[after] = target;
      const st = this.#state[target];
      if (st === TIMER || (st === RUNNING && this.abort(target) === ABORT_DONE)) {
        this.#heapRemove(target);
        this.finish(target, -ECANCELED);
      }
    }
  }

  #heapPush(slot: number, deadline: number): void {
    this.#deadline[slot] = deadline;
    let i = this.#heapLen++;
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.#deadline[h[p]] <= deadline) break;
      h[i] = h[p];
      this.#heapPos[h[i]] = i;
      i = p;
    }
    h[i] = slot;
    this.#heapPos[slot] = i;
  }

  #heapRemove(slot: number): void {
    const i = this.#heapPos[slot];
    if (i < 0) return;
    this.#heapPos[slot] = -1;
    const h = this.#heap;
    const last = h[--this.#heapLen];
    if (i === this.#heapLen) return;
    // Put the last entry at i, then sift it up or down.
    const d = this.#deadline[last];
    let j = i;
    while (j > 0) {
      const p = (j - 1) >> 1;
      if (this.#deadline[h[p]] <= d) break;
      h[j] = h[p];
      this.#heapPos[h[j]] = j;
      j = p;
    }
    if (j === i) {
      for (;;) {
        const l = 2 * j + 1;
        if (l >= this.#heapLen) break;
        const r = l + 1;
        const c = r < this.#heapLen && this.#deadline[h[r]] < this.#deadline[h[l]] ? r : l;
        if (this.#deadline[h[c]] >= d) break;
        h[j] = h[c];
        this.#heapPos[h[j]] = j;
        j = c;
      }
    }
    h[j] = last;
    this.#heapPos[last] = j;
  }

  #live(): void {
    if (this.closed) throw new BackendError(this.name, "Closed", undefined, "the backend is closed");
  }
}
