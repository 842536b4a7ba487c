/**
 * `Dynamic`: a queue of operations with a bound on how many are in flight (zig-aio's
 * `aio.Dynamic`). Queue with `queue`, then complete with `complete("blocking" | "nonblocking")`,
 * `completeAll()`, or their event-loop-friendly forms `completeAsync()` / `completeAllAsync()`.
 *
 * @module
 */
import type { Backend, BackendName } from "./backend.ts";
import { SLOT_BATCH, SLOT_FINISH, SLOT_SCRATCH, SLOT_UNSUPPORTED } from "./backend.ts";
import { BackendError, InvalidOperationError, QueueError } from "./errors.ts";
import { badArgument, checkHandler, checkSignal, showValue } from "./arguments.ts";
import { finalize, finalizeCanceled, RES_CANCELED, RES_NOT_SUPPORTED } from "./finalize.ts";
import {
  checkLastUnlinked,
  claimOne,
  CLOSE_SOCKET,
  codeOf,
  type Id,
  markCompleted,
  nop,
  type Operation,
  OPERATION_KINDS,
  type OperationKind,
  releaseBatch,
} from "./ops.ts";
import { createBackend } from "../backends/mod.ts";
import { addressOf, stableBytes } from "../ffi/memory.ts";

/** zig-aio's handler: `aio_queue` and `aio_complete`, camelCased. Both are optional. */
export interface Handler {
  /** Called for each operation once queued. */
  aioQueue?(id: Id, userdata: unknown): void;
  /** Called for each operation once completed; `failed` tells whether it counts as an error. */
  aioComplete?(id: Id, userdata: unknown, failed: boolean): void;
}

/** What `complete` returns (`aio.CompletionResult`). */
export interface CompletionResult {
  /** Operations completed by this call. */
  numCompleted: number;
  /** How many of them failed. */
  numErrors: number;
}

/** `blocking` waits for at least one completion; `nonblocking` takes only what is ready. */
export type CompletionMode = "blocking" | "nonblocking";

/** Options for {@linkcode Dynamic}. */
export interface DynamicOptions {
  /** The most operations in flight at once (zig-aio's `n`). Default 256; at most 65535. */
  capacity?: number;
  /** `auto` (default: `AIO_BACKEND`, else the best for the platform) or a backend by name. */
  backend?: BackendName | "auto";
  /** The handler used when a call passes none. */
  handler?: Handler;
  /** Submission queue entries (default: capacity + 2, to a power of two, at most 32768). */
  sqEntries?: number;
  /** Completion queue entries (default: twice the submission entries). */
  cqEntries?: number;
  /**
   * Promise never to use the async forms (`completeAsync`, `single`…). io_uring may then use
   * zig-aio's COOP_TASKRUN setup flags, a little faster for purely blocking loops.
   */
  syncOnly?: boolean;
  /**
   * Print the backend chosen to stderr, once per isolate (zig-aio's `aio_options.debug`); also
   * `AIO_DEBUG=1`. When `auto` falls back from io_uring, one line says so and why unless this is
   * `false` or `AIO_DEBUG=0`.
   */
  debug?: boolean;
}

/** Options for {@linkcode Dynamic.queue}. */
export interface QueueOptions {
  /** Aborting cancels those of the queued operations still in flight. */
  signal?: AbortSignal;
}

/** Internal: completion tracking for one batch of the immediate API or a signalled queue. */
class Batch {
  remaining: number;
  errors = 0;
  ids: number[] | undefined;
  cleanup: (() => void) | undefined;
  constructor(n: number) {
    this.remaining = n;
  }
}

const EMPTY_HANDLER: Handler = {};

const MAX_SQ_ENTRIES = 32768;
const MAX_CQ_ENTRIES = 65536;

function checkEntries(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    badArgument(`${name} must be an integer in [${min}, ${max}], got ${showValue(value)}`);
  }
}

/** Fills the one-operation array between calls, so that it never holds a caller's operation. */
const PLACEHOLDER: Operation = nop();

// Every queue not yet closed. A queue dropped without `close()` while the kernel or a pool Worker
// still writes into its scratch and its operations' memory must not be collected under them
// (ffi/README.md, open item 1), and JS cannot pin memory any other way. A forgotten queue is a
// leak, as its fds already are; `close()` and `using` release it.
const OPEN = new Set<Dynamic>();
// What operations held when their ring failed (`close` after a BackendError): the kernel may still
// write into it after `close` returns, so it is kept for the life of the process.
const ABANDONED: unknown[] = [];

/**
 * A queue of operations, completed on demand.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * using work = new aio.Dynamic({ capacity: 16 });
 * const a = aio.nop({ userdata: 1 });
 * const b = aio.timeout({ ns: 1_000_000 });
 * work.queue([a, b]);
 * let left = 2;
 * while (left > 0) left -= work.complete("blocking").numCompleted;
 * ```
 */
export class Dynamic implements Disposable {
  readonly #backend: Backend;
  readonly #capacity: number;
  readonly #handler: Handler;
  readonly #ops: (Operation | undefined)[];
  readonly #keep: unknown[];
  readonly #batches: (Batch | undefined)[];
  readonly #gen: Uint8Array;
  readonly #flags: Uint8Array;
  readonly #free: Int32Array;
  readonly #scratch: Uint8Array;
  readonly #scratchView: DataView;
  readonly #scratchAddress: number;
  readonly #one: Operation[] = [];
  #freeTop: number;
  #inFlight = 0;
  #closed = false;
  #reaping = 0;
  #closeRequested = false;
  // Per complete() call state, read by onCompletion.
  #current: Handler = EMPTY_HANDLER;
  #numCompleted = 0;
  #numErrors = 0;

  /**
   * Creates a queue and its backend.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * const work = new aio.Dynamic({ capacity: 32 });
   * console.log(work.backend);
   * work.close();
   * ```
   */
  constructor(options: DynamicOptions = {}) {
    if (typeof options !== "object" || options === null) {
      badArgument(`options must be an object, got ${showValue(options)}`);
    }
    const capacity = options.capacity ?? 256;
    checkEntries("capacity", capacity, 1, 0xffff);
    // Checked here, before the backend: the kernel would say EINVAL (read as an old kernel) or an
    // FFI conversion would throw a TypeError.
    if (options.sqEntries !== undefined) checkEntries("sqEntries", options.sqEntries, 1, MAX_SQ_ENTRIES);
    if (options.cqEntries !== undefined) {
      // The kernel rounds both queues up to powers of two and wants at least as many completion
      // entries as submission entries, after rounding.
      const sq = Math.min(MAX_SQ_ENTRIES, 2 ** Math.ceil(Math.log2(Math.max(2, options.sqEntries ?? capacity + 2))));
      checkEntries("cqEntries", options.cqEntries, 1, MAX_CQ_ENTRIES);
      const cq = 2 ** Math.ceil(Math.log2(options.cqEntries));
      if (cq < sq) {
        badArgument(`cqEntries ${options.cqEntries} rounds up to ${cq}, fewer than the submission queue's ${sq}`);
      }
    }
    if (options.handler !== undefined) checkHandler(options.handler);
    this.#backend = createBackend({
      backend: options.backend,
      sqEntries: options.sqEntries ?? capacity + 2,
      cqEntries: options.cqEntries,
      syncOnly: options.syncOnly,
      debug: options.debug,
    });
    this.#capacity = capacity;
    this.#handler = options.handler ?? EMPTY_HANDLER;
    this.#ops = new Array(capacity).fill(undefined);
    this.#keep = new Array(capacity).fill(undefined);
    this.#batches = new Array(capacity).fill(undefined);
    this.#gen = new Uint8Array(capacity);
    this.#flags = new Uint8Array(capacity);
    this.#free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.#free[i] = capacity - 1 - i;
    this.#freeTop = capacity;
    this.#scratch = stableBytes(capacity * SLOT_SCRATCH);
    this.#scratchView = new DataView(this.#scratch.buffer);
    this.#scratchAddress = addressOf(this.#scratch);
    this.#backend.bind({ scratch: this.#scratch, address: this.#scratchAddress, flags: this.#flags });
    OPEN.add(this);
  }

  /** The backend in use. */
  get backend(): BackendName {
    return this.#backend.name;
  }

  /** The bound on operations in flight. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Operations queued and not yet completed. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether the backend supports every kind given. */
  isSupported(kinds: readonly OperationKind[]): boolean {
    if (!Array.isArray(kinds) || !kinds.every((k) => OPERATION_KINDS.includes(k))) {
      throw new InvalidOperationError(
        undefined,
        "InvalidArgument",
        `kinds must be an array of operation kinds (aio.OPERATION_KINDS), got ${JSON.stringify(kinds)}`,
      );
    }
    return this.#backend.isSupported(kinds);
  }

  /**
   * Queues one operation or a batch. Atomic: when it throws, nothing was queued. Operations are
   * submitted to the kernel by the next `complete*` call, as in zig-aio.
   *
   * Throws {@linkcode InvalidOperationError} for bad input and {@linkcode QueueError}
   * (`SubmissionQueueFull`) when more than `capacity` operations would be in flight.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using work = new aio.Dynamic();
   * work.queue([aio.timeout({ ns: 1e6, link: "soft" }), aio.nop()], {
   *   aioQueue: (id) => console.log("queued", id),
   * });
   * console.log(work.completeAll()); // 0 errors
   * ```
   */
  queue(ops: Operation | readonly Operation[], handler?: Handler, options?: QueueOptions): void {
    let list: readonly Operation[];
    if (Array.isArray(ops)) {
      list = ops;
    } else {
      this.#one[0] = ops as Operation;
      list = this.#one;
    }
    const signal = options?.signal;
    if (handler !== undefined) checkHandler(handler);
    if (signal !== undefined) checkSignal(signal);
    try {
      signal?.throwIfAborted();
      this.#queue(list, handler ?? this.#handler, signal ? new Batch(list.length) : undefined, signal);
    } finally {
      // The slot keeps the operation alive while in flight; this array must not keep it after.
      if (list === this.#one) this.#one[0] = PLACEHOLDER;
    }
  }

  #queue(
    list: readonly Operation[],
    handler: Handler,
    batch: Batch | undefined,
    signal: AbortSignal | undefined,
  ): void {
    if (this.#closed) throw new QueueError("Closed", "the queue is closed");
    const n = list.length;
    if (n === 0) throw new InvalidOperationError(undefined, "EmptyBatch", "no operations given");
    const backend = this.#backend;
    if (n > this.#freeTop) {
      throw new QueueError(
        "SubmissionQueueFull",
        `${n} operation(s) do not fit: ${this.#inFlight} of ${this.#capacity} are in flight`,
      );
    }
    // A linked chain must reach the kernel in one submission, so room for all of it is made
    // first (closeSocket may take two entries, hence the worst case).
    let space = backend.space();
    if (space < n * backend.closeSocketEntries) {
      backend.submit(0);
      space = backend.space();
      if (space < n * backend.closeSocketEntries) {
        // Exact count, before anything is written: entries the kernel has not consumed yet must
        // not be overwritten.
        let needed = n;
        for (let i = 0; i < n; i++) if (codeOf(list[i]) === CLOSE_SOCKET) needed += backend.closeSocketEntries - 1;
        if (needed > space) {
          throw new QueueError(
            "SubmissionQueueFull",
            needed > backend.maxBatch
              ? `a batch of ${needed} entries exceeds the submission queue (${backend.maxBatch})`
              : "the kernel has not consumed the submission queue",
          );
        }
      }
    }
    // One pass validates, claims and encodes each operation. Nothing is visible to the kernel
    // until a complete call publishes the SQ tail, so a failure part-way rolls everything back.
    const free = this.#free;
    const flags = this.#flags;
    const gen = this.#gen;
    const batchFlag = batch === undefined ? 0 : SLOT_BATCH;
    const mark = backend.mark();
    const top = this.#freeTop;
    let entries = n;
    let claimed = 0;
    try {
      for (let i = 0; i < n; i++) {
        const op = list[i];
        const code = claimOne(list, i);
        claimed++;
        if (code === CLOSE_SOCKET) entries += backend.closeSocketEntries - 1;
        const slot = free[top - 1 - i];
        const ud = slot | (((gen[slot] + 1) & 0xff) << 16);
        flags[slot] = batchFlag;
        this.#keep[slot] = backend.prep(op, code, ud, slot);
        gen[slot] = ud >>> 16;
        this.#ops[slot] = op;
        op.outId = ud;
        op.outError = null;
      }
      checkLastUnlinked(list);
      if (entries > space || entries > backend.maxBatch) {
        throw new QueueError(
          "SubmissionQueueFull",
          entries > backend.maxBatch
            ? `a batch of ${entries} entries exceeds the submission queue (${backend.maxBatch})`
            : "the kernel has not consumed the submission queue",
        );
      }
    } catch (err) {
      backend.rollback(mark);
      for (let j = 0; j < claimed; j++) {
        const slot = free[top - 1 - j];
        // An encoding may own a resource (the pidfd fallback's pidfd); a negative result frees it.
        if (flags[slot] & SLOT_FINISH) backend.finishChildExit!(RES_CANCELED, slot, this.#keep[slot]);
        this.#ops[slot] = undefined;
        this.#keep[slot] = undefined;
      }
      releaseBatch(list, claimed);
      throw err;
    }
    this.#freeTop = top - n;
    this.#inFlight += n;
    if (batch !== undefined) {
      for (let i = 0; i < n; i++) this.#batches[free[top - 1 - i]] = batch;
      if (signal !== undefined) this.#watch(list, batch, signal);
    }
    if (handler.aioQueue !== undefined) {
      for (let i = 0; i < n; i++) handler.aioQueue(list[i].outId, list[i].userdata);
    }
  }

  #watch(list: readonly Operation[], batch: Batch, signal: AbortSignal): void {
    const ids = list.map((op) => op.outId);
    batch.ids = ids;
    const onAbort = () => {
      for (const id of ids) {
        const slot = id & 0xffff;
        if (this.#ops[slot] !== undefined && this.#gen[slot] === id >>> 16 && this.#batches[slot] === batch) {
          this.#backend.cancel(id);
        }
      }
      this.#backend.submit(0);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    batch.cleanup = () => signal.removeEventListener("abort", onAbort);
  }

  /** Internal: one completion from the backend. */
  onCompletion(ud: number, res: number): void {
    const slot = ud & 0xffff;
    const op = this.#ops[slot];
    if (op === undefined || this.#gen[slot] !== ud >>> 16) return;
    const flags = this.#flags[slot];
    const keep = this.#keep[slot];
    if (flags & SLOT_UNSUPPORTED) res = RES_NOT_SUPPORTED;
    else if (flags & SLOT_FINISH) res = this.#backend.finishChildExit!(res, slot, keep);
    const failed = finalize(op, codeOf(op), res, this.#scratchView, slot * SLOT_SCRATCH);
    // Only now, with the kernel done, may the buffers it used be collected.
    this.#ops[slot] = undefined;
    if (keep !== undefined) this.#keep[slot] = undefined;
    markCompleted(op);
    this.#free[this.#freeTop++] = slot;
    this.#inFlight--;
    this.#numCompleted++;
    if (failed) this.#numErrors++;
    if (flags & SLOT_BATCH) {
      const batch = this.#batches[slot]!;
      this.#batches[slot] = undefined;
      if (failed) batch.errors++;
      if (--batch.remaining === 0) batch.cleanup?.();
    }
    const handler = this.#current;
    if (handler.aioComplete !== undefined) handler.aioComplete(ud, op.userdata, failed);
  }

  // Starts a complete call: resets its counters; false when there is nothing in flight.
  #begin(): boolean {
    if (this.#closed) throw new QueueError("Closed", "the queue is closed");
    this.#numCompleted = 0;
    this.#numErrors = 0;
    return this.#inFlight > 0;
  }

  #reap(handler: Handler): number {
    this.#current = handler;
    this.#reaping++;
    try {
      return this.#backend.reap(this);
    } finally {
      // close() from a handler waits until the ring is no longer being read.
      if (--this.#reaping === 0 && this.#closeRequested) this.close();
    }
  }

  /**
   * Submits what is queued and completes what is ready. `blocking` waits (blocking the thread)
   * for at least one completion; `nonblocking` never waits.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using work = new aio.Dynamic();
   * work.queue(aio.nop());
   * console.log(work.complete("blocking")); // { numCompleted: 1, numErrors: 0 }
   * ```
   */
  complete(mode: CompletionMode, handler?: Handler): CompletionResult {
    if (mode !== "blocking" && mode !== "nonblocking") {
      badArgument(`mode must be "blocking" or "nonblocking", got ${showValue(mode)}`);
    }
    if (handler !== undefined && handler !== this.#current) checkHandler(handler);
    if (!this.#begin()) return { numCompleted: 0, numErrors: 0 };
    const h = handler ?? this.#handler;
    const backend = this.#backend;
    if (mode === "blocking") {
      backend.submit(1);
      while (this.#reap(h) === 0 && this.#inFlight > 0) backend.submit(1);
    } else {
      backend.submit(0);
      this.#reap(h);
    }
    return { numCompleted: this.#numCompleted, numErrors: this.#numErrors };
  }

  /**
   * Completes everything in flight, blocking. Returns the number of errors.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using work = new aio.Dynamic();
   * work.queue([aio.nop(), aio.nop()]);
   * console.log(work.completeAll()); // 0
   * ```
   */
  completeAll(handler?: Handler): number {
    let errors = 0;
    while (this.#inFlight > 0) errors += this.complete("blocking", handler).numErrors;
    return errors;
  }

  /**
   * Like `complete("blocking")`, but waits without blocking the event loop: timers, other
   * promises and servers keep running meanwhile. Resolves with at least one completion, or
   * at once when nothing is in flight.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using work = new aio.Dynamic();
   * work.queue(aio.timeout({ ns: 1e6 }));
   * console.log((await work.completeAsync()).numCompleted); // 1
   * ```
   */
  async completeAsync(handler?: Handler): Promise<CompletionResult> {
    for (;;) {
      const res = this.complete("nonblocking", handler);
      if (res.numCompleted > 0 || this.#inFlight === 0) return res;
      await this.#backend.park();
    }
  }

  /**
   * Completes everything in flight without blocking the event loop. Resolves with the number
   * of errors.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using work = new aio.Dynamic();
   * work.queue([aio.timeout({ ns: 1e6 }), aio.nop()]);
   * console.log(await work.completeAllAsync()); // 0
   * ```
   */
  async completeAllAsync(handler?: Handler): Promise<number> {
    let errors = 0;
    while (this.#inFlight > 0) errors += (await this.completeAsync(handler)).numErrors;
    return errors;
  }

  /**
   * Resolves when a completion may be ready, without blocking the event loop (what
   * `completeAsync` awaits between its nonblocking completes). For schedulers built on top.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using work = new aio.Dynamic();
   * work.queue(aio.timeout({ ns: 1e6 }));
   * work.complete("nonblocking");
   * await work.park();
   * work.complete("nonblocking");
   * ```
   */
  park(): Promise<void> {
    if (this.#closed) return Promise.reject(new QueueError("Closed", "the queue is closed"));
    return this.#backend.park();
  }

  /**
   * Submits what is queued and waits, blocking the thread, at most `timeoutNs` for a
   * completion, then completes what is ready. The bounded half of an adaptive wait.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using work = new aio.Dynamic();
   * work.queue(aio.timeout({ ns: 1e9 }));
   * console.log(work.completeWithin(50_000).numCompleted); // 0 after 50 µs
   * work.close();
   * ```
   */
  completeWithin(timeoutNs: number, handler?: Handler): CompletionResult {
    if (typeof timeoutNs !== "number" || !(timeoutNs >= 0 && timeoutNs <= Number.MAX_SAFE_INTEGER)) {
      badArgument(`timeoutNs must be a number in [0, 2^53 - 1], got ${showValue(timeoutNs)}`);
    }
    if (handler !== undefined && handler !== this.#current) checkHandler(handler);
    if (!this.#begin()) return { numCompleted: 0, numErrors: 0 };
    const h = handler ?? this.#handler;
    this.#backend.submitWithin(timeoutNs);
    this.#reap(h);
    return { numCompleted: this.#numCompleted, numErrors: this.#numErrors };
  }

  /**
   * Internal: queues `ops` as one batch and completes it, without blocking the event loop.
   * Waits for room when the queue is full. Resolves with the batch's error count.
   */
  async runBatch(ops: readonly Operation[], signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    const batch = new Batch(ops.length);
    while (!this.#tryQueue(ops, batch, signal)) {
      if (this.complete("nonblocking").numCompleted === 0) await this.#backend.park();
    }
    for (;;) {
      this.complete("nonblocking");
      if (batch.remaining === 0) return batch.errors;
      await this.#backend.park();
    }
  }

  /** Internal: the blocking form of {@linkcode Dynamic.runBatch}. */
  runBatchSync(ops: readonly Operation[]): number {
    const batch = new Batch(ops.length);
    while (!this.#tryQueue(ops, batch, undefined)) this.complete("blocking");
    while (batch.remaining > 0) this.complete("blocking");
    return batch.errors;
  }

  #tryQueue(ops: readonly Operation[], batch: Batch, signal: AbortSignal | undefined): boolean {
    if (ops.length > this.#freeTop && this.#inFlight > 0) return false;
    this.#queue(ops, this.#handler, batch, signal);
    return true;
  }

  /**
   * Closes the queue. Operations still in flight are canceled and waited for first, because
   * the kernel may write into their buffers until they complete.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * const work = new aio.Dynamic();
   * work.queue(aio.timeout({ ns: 60e9 }));
   * work.close(); // cancels the timeout, waits for it, then frees the ring
   * ```
   */
  close(): void {
    if (this.#closed) return;
    if (this.#reaping > 0) {
      // Called from a handler while the CQ is being read: finish when the read is over.
      this.#closeRequested = true;
      return;
    }
    let firstError: unknown;
    if (this.#inFlight > 0) {
      for (let slot = 0; slot < this.#capacity; slot++) {
        if (this.#ops[slot] !== undefined) this.#backend.cancel(slot | (this.#gen[slot] << 16));
      }
      while (this.#inFlight > 0) {
        try {
          this.complete("blocking");
        } catch (err) {
          if (!(err instanceof BackendError)) {
            // A handler threw: remember it, and go on reaping until the kernel is done.
            firstError ??= err;
            continue;
          }
          // The ring itself failed: what is left cannot complete; report it canceled, and keep its
          // memory, which the kernel may still write into once the ring is torn down.
          ABANDONED.push(this.#scratch, this.#keep.slice(), this.#ops.slice());
          for (let slot = 0; slot < this.#capacity; slot++) {
            const op = this.#ops[slot];
            if (op !== undefined) {
              finalizeCanceled(op);
              markCompleted(op);
            }
          }
          break;
        }
      }
    }
    this.#closed = true;
    this.#closeRequested = false;
    try {
      this.#backend.close();
    } finally {
      OPEN.delete(this);
    }
    if (firstError !== undefined) throw firstError;
  }

  /**
   * Asks the kernel to cancel the operation with `id`, without a `cancel` operation of its own:
   * it takes no slot and its own result is not reported. The operation completes with
   * `Canceled` if it could be stopped.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using work = new aio.Dynamic({ capacity: 1 });
   * const t = aio.timeout({ ns: 10e9 });
   * work.queue(t);
   * work.cancel(t.outId); // works even though the queue is full
   * work.completeAll();
   * console.log(t.outError?.code); // "Canceled"
   * ```
   */
  cancel(id: Id): void {
    if (this.#closed) throw new QueueError("Closed", "the queue is closed");
    if (id === -1) return; // the outId of an operation never queued: cleanup code may cancel it
    // NaN or 1.5 would otherwise name slot 0 or 1 with generation 0: a live operation's id.
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0xff_ffff) {
      badArgument(`id must be an operation's outId (an integer in [0, 2^24 - 1]), got ${showValue(id)}`);
    }
    const slot = id & 0xffff;
    if (slot < this.#capacity && this.#ops[slot] !== undefined && this.#gen[slot] === id >>> 16) {
      this.#backend.cancel(id);
    }
  }

  /** `using work = new aio.Dynamic()`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
