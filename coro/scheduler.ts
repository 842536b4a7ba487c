/**
 * The coro scheduler and its tasks (zig-aio's `coro.Scheduler`, `coro.Task`, `coro.io`).
 *
 * Tasks are async functions. Their I/O goes into one `aio.Dynamic`; the scheduler submits it when
 * every task it resumed has suspended again (on I/O, a yield or a sync primitive), so the I/O of
 * all tasks in a tick reaches the kernel in one `io_uring_enter`. A task that awaits something
 * foreign (a timer, `fetch`, any promise) cannot stall the others: a macrotask fallback submits
 * and waits for their I/O anyway. Waiting never blocks Deno's event loop unless `wait: "block"`.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { setImmediate } from "node:timers";
import * as aio from "../aio/mod.ts";
import { CanceledError, CoroError } from "./errors.ts";
import { showValue } from "../aio/arguments.ts";

// "wiat" would otherwise mean "wait": anything but "cancel" did.
function badCompleteMode(mode: unknown): CoroError {
  return new CoroError(
    "InvalidArgument",
    `mode must be "wait" or "cancel", got ${showValue(mode)}`,
  );
}

/** How the scheduler waits when every task is suspended on I/O. */
export type WaitMode = "park" | "adaptive" | "block";

/** Options for {@linkcode Scheduler}. */
export interface SchedulerOptions {
  /** Operations in flight at once, all tasks together (zig-aio's `io_queue_entries`). Default 4096. */
  ioQueueEntries?: number;
  /**
   * - `park`: wait in Deno's event loop (a pipe wake-up); never blocks the thread.
   * - `adaptive` (default): when every task waits on I/O, first wait in the kernel for at most
   *   `spinNs`, then park. Timers and other callbacks are delayed by at most `spinNs`.
   * - `block`: when every task waits on I/O, block in the kernel until a completion. Fastest; only
   *   for programs whose every wake-up is coro I/O (no timers, no foreign promises to wait for).
   */
  wait?: WaitMode;
  /** The bounded wait of `adaptive`, in ns. Default 50 µs. */
  spinNs?: number;
  /** The aio backend (default `auto`). */
  backend?: aio.BackendName | "auto";
}

/** Options for {@linkcode Scheduler.spawn}. */
export interface SpawnOptions {
  /** A name for debugging. */
  name?: string;
  /** The scheduler collects the task's result itself; nobody will `complete` it. */
  detached?: boolean;
}

/** `wait` returns the result; `cancel` cancels first and returns the partial result. */
export type CompleteMode = "wait" | "cancel";

type Status = "running" | "io" | "io_cancel" | "yield" | "wait" | "completed";

interface IoCall {
  remaining: number;
  errors: number;
  task: Task<unknown>;
  canceling: boolean;
  // What the call resolves with: the error count (complete), or it rejects on any error with
  // SomeOperationFailedError (multi) or with the operation's own error (single).
  ops: readonly aio.Operation[];
  mode: IoMode;
}

/** How a `coro.io` call reports failures: `complete` counts, `multi` and `single` throw. */
export type IoMode = "complete" | "multi" | "single";

const storage = new AsyncLocalStorage<Task<unknown>>();
const noop = (): void => {};
// What a woken `coro.yield` does before returning: a cancel that came after the wakeup counts.
const afterYield = (task: unknown): void => {
  if (taskCanceled(task as Task<unknown>)) throw new CanceledError();
};

/** How long tasks may run on microtasks alone before the event loop gets a turn, in ms. */
const SLICE_MS = 2;

// Internal access to Task's private state, for the scheduler and the sync primitives. Assigned in
// Task's static block, which alone can reach its # fields.
let suspendTask!: (task: Task<unknown>, status: Status, io?: IoCall) => Promise<unknown>;
let resumeTask!: (task: Task<unknown>, value?: unknown) => void;
let failTask!: (task: Task<unknown>, err: unknown) => void;
let taskWaiting!: (task: Task<unknown>) => boolean;
let taskStatus!: (task: Task<unknown>) => Status;
let taskCanceled!: (task: Task<unknown>) => boolean;
let finishTask!: (task: Task<unknown>, ok: boolean, value: unknown) => void;
let taskDone!: (task: Task<unknown>) => Promise<void>;
let taskYield!: (task: Task<unknown>, state: number) => Promise<void>;
let taskSetCancelable!: (task: Task<unknown>, cancelable: boolean) => void;
let runIo!: (
  scheduler: Scheduler,
  task: Task<unknown>,
  ops: readonly aio.Operation[],
  mode: IoMode,
  uncancelable: boolean,
) => Promise<number>;
let taskFinished!: (scheduler: Scheduler, task: Task<unknown>, ok: boolean, value: unknown) => void;
let cancelIo!: (scheduler: Scheduler, call: IoCall) => void;
let suspended!: (scheduler: Scheduler) => void;
let resumed!: (scheduler: Scheduler) => void;

// A task's body: runs `fn` at once, until its first suspension, then reports how it ended. One
// async frame instead of a `then` with two closures per task.
async function runTask(
  scheduler: Scheduler,
  task: Task<unknown>,
  fn: (...args: unknown[]) => unknown,
  args: unknown[],
): Promise<void> {
  let ok = true;
  let value: unknown;
  try {
    value = await fn(...args);
  } catch (err) {
    ok = false;
    value = err;
  }
  taskFinished(scheduler, task, ok, value);
}

/**
 * A spawned task (zig-aio's `coro.Task`).
 *
 * @example
 * ```ts
 * import { aio, coro } from "../mod.ts";
 * await using scheduler = new coro.Scheduler();
 * const task = scheduler.spawn(async (ns: number) => {
 *   await coro.io.single(aio.timeout({ ns }));
 *   return "done";
 * }, [1_000_000]);
 * console.log(await task.complete("wait")); // "done"
 * ```
 */
export class Task<R = unknown> {
  /** The name given at spawn. */
  readonly name: string;
  /** The scheduler running the task. */
  readonly scheduler: Scheduler;
  /** Whether nobody will collect the result. */
  readonly detached: boolean;
  #status: Status = "running";
  #yieldState = 0;
  #canceled = false;
  #cancelable = true;
  #ok = true;
  #value: unknown;
  #resume: ((value: unknown) => void) | undefined;
  #fail: ((err: unknown) => void) | undefined;
  #io: IoCall | undefined;
  // Allocated only when needed: most tasks are collected once, by a caller outside any task.
  #waiters: Task<unknown>[] | undefined;
  // Settled like `complete("wait")`: with the value, or rejected with what the task threw. Made
  // by the first caller that has to wait, so that an uncollected failure is never an unhandled
  // rejection, and so that `complete` outside a task can return it as is.
  #done: Promise<unknown> | undefined;
  #doneResolve: ((value: unknown) => void) | undefined;
  #doneReject: ((err: unknown) => void) | undefined;

  static {
    suspendTask = (task, status, io) => {
      if (task.#resume !== undefined) {
        throw new CoroError("Busy", `task ${task.name} is already waiting; a task waits for one thing at a time`);
      }
      task.#status = status;
      task.#io = io;
      const p = new Promise<unknown>((resolve, reject) => {
        task.#resume = resolve;
        task.#fail = reject;
      });
      suspended(task.scheduler);
      return p;
    };
    // Resumes a suspended task: its suspension promise resolves with `value` (ok) or rejects.
    const settle = (task: Task<unknown>, ok: boolean, value: unknown) => {
      const settleWith = ok ? task.#resume : task.#fail;
      if (settleWith === undefined) return;
      task.#resume = undefined;
      task.#fail = undefined;
      task.#status = "running";
      task.#io = undefined;
      resumed(task.scheduler);
      settleWith(value);
    };
    resumeTask = (task, value) => settle(task, true, value);
    failTask = (task, err) => settle(task, false, err);
    taskStatus = (task) => task.#status;
    taskWaiting = (task) => task.#resume !== undefined;
    taskDone = (task) => task.#waitDone().then(noop, noop);
    taskYield = (task, state) => task.#yield(state);
    taskSetCancelable = (task, cancelable) => task.#setCancelable(cancelable);
    taskCanceled = (task) => task.#canceled && task.#cancelable;
    finishTask = (task, ok, value) => {
      task.#status = "completed";
      task.#ok = ok;
      task.#value = value;
      if (ok) task.#doneResolve?.(value);
      else task.#doneReject?.(value);
      task.#doneResolve = task.#doneReject = undefined;
      const waiters = task.#waiters;
      if (waiters !== undefined) {
        task.#waiters = undefined;
        for (const w of waiters) resumeTask(w);
      }
    };
  }

  /**
   * Made by {@linkcode Scheduler.spawn}, not directly.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * await using scheduler = new coro.Scheduler();
   * const task: coro.Task<number> = scheduler.spawn(() => 1, []);
   * console.log(await task.complete());
   * ```
   */
  constructor(scheduler: Scheduler, name: string, detached: boolean) {
    this.scheduler = scheduler;
    this.name = name;
    this.detached = detached;
  }

  /** Whether the task has returned. */
  get isComplete(): boolean {
    return this.#status === "completed";
  }

  /** The task's yield state: what it passed to `coro.yield`, 0 when it is not yielded. */
  state(): number {
    return this.#status === "yield" ? this.#yieldState : 0;
  }

  /**
   * Resumes a task suspended in `coro.yield`. Throws {@linkcode CoroError} `NotYielded` when the
   * task is not yielded by user code (zig-aio calls that a programming error).
   */
  wakeup(): void {
    if (this.#status !== "yield") {
      throw new CoroError("NotYielded", `task ${this.name} is ${this.#status}, not yielded by coro.yield`);
    }
    this.#yieldState = 0;
    resumeTask(this as Task<unknown>, this);
  }

  /** Wakes the task if its yield state is `state`. */
  wakeupIf(state: number): void {
    if (this.#status === "yield" && this.#yieldState === state) this.wakeup();
  }

  /**
   * Cancels the task: its in-flight I/O is canceled and it sees {@linkcode CanceledError} from
   * its current or next `coro.yield` or `coro.io` call (unless it made itself uncancelable).
   */
  cancel(): void {
    if (this.#status === "completed" || this.#canceled) return;
    this.#canceled = true;
    if (!this.#cancelable) return;
    if (this.#status === "io" && this.#io !== undefined) {
      cancelIo(this.scheduler, this.#io);
    } else if (this.#status === "yield") {
      this.#yieldState = 0;
      failTask(this as Task<unknown>, new CanceledError());
    } else if (this.#status === "wait") {
      resumeTask(this as Task<unknown>);
    }
  }

  /**
   * Waits for the task and returns its result (`wait`), or cancels it first and returns what it
   * returned, `undefined` if it ended with {@linkcode CanceledError} (`cancel`). An error the task
   * threw is rethrown. Inside a task, the caller suspends cooperatively.
   */
  complete(mode?: "wait"): Promise<R>;
  /** Cancels the task, waits for it, and returns its partial result. */
  complete(mode: "cancel"): Promise<R | undefined>;
  /** Waits for the task (`wait`) or cancels it first (`cancel`). */
  complete(mode: CompleteMode): Promise<R | undefined>;
  complete(mode: CompleteMode = "wait"): Promise<R | undefined> {
    if (mode !== "wait" && mode !== "cancel") return Promise.reject(badCompleteMode(mode));
    if (mode === "cancel") this.cancel();
    if (this.#status !== "completed") {
      const me = storage.getStore();
      if (me !== undefined && me.scheduler === this.scheduler && me !== (this as Task<unknown>)) {
        return this.#completeInTask(me, mode);
      }
      // The common case, and the hot one: no promise but the one the task settles.
      if (mode === "wait") return this.#waitDone() as Promise<R>;
      return this.#waitDone().then(() => this.#result(mode), () => this.#result(mode));
    }
    try {
      return Promise.resolve(this.#result(mode));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #waitDone(): Promise<unknown> {
    if (this.#status === "completed") return this.#ok ? Promise.resolve(this.#value) : Promise.reject(this.#value);
    return this.#done ??= new Promise((resolve, reject) => {
      this.#doneResolve = resolve;
      this.#doneReject = reject;
    });
  }

  // Inside another task of the same scheduler the caller suspends cooperatively.
  async #completeInTask(me: Task<unknown>, mode: CompleteMode): Promise<R | undefined> {
    if (taskCanceled(me)) throw new CanceledError();
    (this.#waiters ??= []).push(me);
    await suspendTask(me, "wait");
    if (!this.isComplete) {
      // The waiting task itself was canceled: it no longer waits here.
      const i = this.#waiters?.indexOf(me) ?? -1;
      if (i !== -1) this.#waiters!.splice(i, 1);
      throw new CanceledError();
    }
    return this.#result(mode);
  }

  // What `complete` returns once the task has completed; throws what it rethrows.
  #result(mode: CompleteMode): R | undefined {
    if (this.#ok) return this.#value as R;
    if (this.#value instanceof CanceledError || (this.#value as aio.AioError)?.code === "Canceled") {
      if (mode === "cancel") return undefined;
    }
    throw this.#value;
  }

  #setCancelable(cancelable: boolean): void {
    if (this.#canceled && this.#cancelable) throw new CanceledError();
    this.#cancelable = cancelable;
    if (cancelable && this.#canceled) throw new CanceledError();
  }

  // Not async (a cancel while yielded fails the suspension itself, see `cancel`), but a cancel
  // between `wakeup` and the resumption must still throw: `wakeup` resumes with the task, and one
  // shared function checks it, so a yield costs one derived promise and no closure.
  #yield(state: number): Promise<void> {
    if (this.#canceled && this.#cancelable) return Promise.reject(new CanceledError());
    this.#yieldState = state;
    try {
      return suspendTask(this as Task<unknown>, "yield").then(afterYield);
    } catch (err) {
      return Promise.reject(err); // Busy: a call that returns a promise rejects rather than throws
    }
  }
}

/**
 * Runs tasks and merges their I/O into one queue (zig-aio's `coro.Scheduler`).
 *
 * @example
 * ```ts
 * import { aio, coro } from "../mod.ts";
 * await using scheduler = new coro.Scheduler();
 * for (let i = 0; i < 3; i++) {
 *   scheduler.spawn(async () => await coro.io.single(aio.timeout({ ns: 1_000_000 })), []);
 * }
 * await scheduler.run("wait");
 * ```
 */
export class Scheduler implements AsyncDisposable {
  /** The queue all tasks' I/O goes through. */
  readonly io: aio.Dynamic;
  /** The wait mode in use. */
  readonly wait: WaitMode;
  readonly #spinNs: number;
  readonly #live = new Set<Task<unknown>>();
  // Per queue slot: the task I/O call it belongs to, and the id it was queued with (for cancels).
  readonly #calls: (IoCall | undefined)[];
  readonly #ids: Int32Array;
  #queueing: IoCall | undefined;
  #runnable = 0;
  #stepQueued = false;
  #fallbackQueued = false;
  #microSteps = 0;
  #sliceStart = performance.now();
  #parked = false;
  #closed = false;
  #idle: (() => void)[] = [];
  #spaceWaiters: (() => void)[] = [];
  readonly #handler: aio.Handler;
  readonly #step = () => {
    this.#stepQueued = false;
    this.#advance(true);
  };
  readonly #stepFromLoop = () => {
    this.#newSlice();
    this.#step();
  };
  readonly #fallback = () => {
    this.#newSlice();
    this.#fallbackQueued = false;
    // Costs no syscall when a step since has already submitted everything and parked.
    this.#advance(false);
  };
  readonly #onPark = () => {
    this.#newSlice();
    this.#parked = false;
    this.#advance(this.#runnable === 0);
  };

  /**
   * Creates a scheduler and its I/O queue.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * const scheduler = new coro.Scheduler({ wait: "park" });
   * await scheduler.close();
   * ```
   */
  constructor(options: SchedulerOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new CoroError("InvalidArgument", `options must be an object, got ${showValue(options)}`);
    }
    const entries = options.ioQueueEntries ?? 4096;
    // Before `new Array(entries)`, which would throw a RangeError for NaN or -1.
    if (!Number.isInteger(entries) || entries < 1 || entries > 0xffff) {
      throw new CoroError(
        "InvalidArgument",
        `ioQueueEntries must be an integer in [1, 65535], got ${showValue(entries)}`,
      );
    }
    this.wait = options.wait ?? "adaptive";
    this.#spinNs = options.spinNs ?? 50_000;
    if (typeof this.#spinNs !== "number" || !(this.#spinNs >= 0 && this.#spinNs <= Number.MAX_SAFE_INTEGER)) {
      throw new CoroError(
        "InvalidArgument",
        `spinNs must be a number in [0, 2^53 - 1], got ${showValue(this.#spinNs)}`,
      );
    }
    if (this.wait !== "park" && this.wait !== "adaptive" && this.wait !== "block") {
      throw new CoroError("InvalidArgument", `wait must be "park", "adaptive" or "block", got ${String(this.wait)}`);
    }
    this.#calls = new Array(entries).fill(undefined);
    this.#ids = new Int32Array(entries);
    this.#handler = {
      aioQueue: (id) => {
        const call = this.#queueing;
        if (call === undefined) return; // queued on `io` directly, not by a task
        this.#calls[id & 0xffff] = call;
        this.#ids[id & 0xffff] = id;
      },
      aioComplete: (id, _userdata, failed) => {
        const slot = id & 0xffff;
        const call = this.#calls[slot];
        if (call === undefined) {
          if (this.#spaceWaiters.length > 0) this.#spaceWaiters.shift()!();
          return;
        }
        this.#calls[slot] = undefined;
        if (failed) call.errors++;
        if (--call.remaining === 0) this.#finishIo(call);
        if (this.#spaceWaiters.length > 0) this.#spaceWaiters.shift()!();
      },
    };
    this.io = new aio.Dynamic({ capacity: entries, backend: options.backend, handler: this.#handler });
  }

  /** Tasks spawned and not yet returned. */
  get liveTasks(): number {
    return this.#live.size;
  }

  /**
   * Spawns a task: calls `fn(...args)` at once; it runs until its first suspension.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * await using scheduler = new coro.Scheduler();
   * const task = scheduler.spawn((a: number, b: number) => a + b, [1, 2], { name: "add" });
   * console.log(await task.complete("wait")); // 3
   * ```
   */
  spawn<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    args: A,
    options?: SpawnOptions,
  ): Task<Awaited<R>> {
    if (this.#closed) throw new CoroError("Closed", "the scheduler is closed");
    if (typeof fn !== "function" || !Array.isArray(args)) {
      throw new CoroError("InvalidArgument", "spawn takes a function and an array of its arguments");
    }
    const task = new Task<Awaited<R>>(this, options?.name ?? fn.name ?? "anonymous", options?.detached ?? false);
    const t = task as Task<unknown>;
    this.#live.add(t);
    this.#runnable++;
    storage.run(t, runTask, this, t, fn as (...args: unknown[]) => unknown, args);
    return task;
  }

  #finished(task: Task<unknown>, ok: boolean, value: unknown): void {
    this.#live.delete(task);
    this.#runnable--;
    finishTask(task, ok, value);
    if (!ok && task.detached && !(value instanceof CanceledError)) {
      // Nobody will collect it: do not let the failure vanish.
      console.error(`coro: detached task ${task.name} failed:`, value);
    }
    if (this.#live.size === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
    this.#kick();
  }

  static {
    taskFinished = (scheduler, task, ok, value) => scheduler.#finished(task, ok, value);
    runIo = (scheduler, task, ops, mode, uncancelable) => scheduler.#runIo(task, ops, mode, uncancelable);
    cancelIo = (scheduler, call) => scheduler.#cancelIo(call);
    suspended = (scheduler) => scheduler.#suspended();
    resumed = (scheduler) => scheduler.#resumed();
  }

  // A task suspended (on I/O, a yield, a primitive).
  #suspended(): void {
    this.#runnable--;
    this.#kick();
  }

  // A task was resumed and will run in a microtask.
  #resumed(): void {
    this.#runnable++;
  }

  // Called from a macrotask (the event loop has just run): a new slice starts.
  #newSlice(): void {
    this.#sliceStart = performance.now();
    this.#microSteps = 0;
  }

  // Decides when to submit and wait. With every task suspended, the step runs as a microtask, so
  // that the I/O of all tasks suspended in this turn goes out in one submission.
  #kick(): void {
    if (this.#runnable === 0) {
      if (!this.#stepQueued) {
        this.#stepQueued = true;
        // Completions that are always ready would chain microtask steps forever and starve
        // Deno's event loop (timers, servers). After a slice of SLICE_MS without a macrotask,
        // the next step goes through setImmediate, which lets the event loop run first.
        if ((++this.#microSteps & 15) === 0 && performance.now() - this.#sliceStart > SLICE_MS) {
          setImmediate(this.#stepFromLoop);
        } else {
          queueMicrotask(this.#step);
        }
      }
    } else if (this.io.inFlight > 0) {
      this.#armFallback();
    }
  }

  #advance(mayWait: boolean): void {
    if (this.#closed) return;
    const io = this.io;
    const handler = this.#handler;
    while (io.inFlight > 0) {
      io.complete("nonblocking", handler);
      if (!mayWait || this.#runnable > 0 || io.inFlight === 0) break;
      if (this.wait === "block") {
        io.complete("blocking", handler);
      } else if (this.wait === "adaptive") {
        if (io.completeWithin(this.#spinNs, handler).numCompleted === 0) break;
      } else {
        break;
      }
    }
    if (io.inFlight === 0) return;
    if (this.#runnable === 0 || !mayWait) {
      // Nobody will submit again this turn: wait for completions in the event loop.
      if (!this.#parked) {
        this.#parked = true;
        io.park().then(this.#onPark);
      }
    } else {
      // Resumed tasks normally suspend again within this turn and step us; if one awaits
      // something foreign instead, this makes sure the others' I/O still completes.
      this.#armFallback();
    }
  }

  #armFallback(): void {
    if (this.#fallbackQueued) return;
    this.#fallbackQueued = true;
    // A macrotask, so it runs once the microtasks have drained. setImmediate: measured 4.5 µs a
    // hop here, where nested setTimeout(0) is clamped to milliseconds.
    setImmediate(this.#fallback);
  }

  // Runs `ops` for `task`. The returned promise is the task's suspension itself, settled by the
  // handler when the last operation completes: one promise per call on the common path.
  #runIo(task: Task<unknown>, ops: readonly aio.Operation[], mode: IoMode, uncancelable: boolean): Promise<number> {
    if (!uncancelable && taskCanceled(task)) return Promise.reject(new CanceledError());
    if (taskWaiting(task)) {
      return Promise.reject(
        new CoroError("Busy", `task ${task.name} is already waiting; await each coro.io call before the next`),
      );
    }
    const call: IoCall = { remaining: ops.length, errors: 0, task, canceling: false, ops, mode };
    this.#queueing = call;
    try {
      this.io.queue(ops);
    } catch (err) {
      if (err instanceof aio.QueueError && err.code === "SubmissionQueueFull" && this.io.inFlight > 0) {
        return this.#runIoWhenRoom(call, uncancelable);
      }
      return Promise.reject(err);
    } finally {
      this.#queueing = undefined;
    }
    return suspendTask(task, uncancelable ? "io_cancel" : "io", call) as Promise<number>;
  }

  // Backpressure: waits for completions to free room, then queues.
  async #runIoWhenRoom(call: IoCall, uncancelable: boolean): Promise<number> {
    for (;;) {
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
      this.#queueing = call;
      try {
        if (!uncancelable && taskCanceled(call.task)) throw new CanceledError();
        this.io.queue(call.ops);
        break;
      } catch (err) {
        if (err instanceof aio.QueueError && err.code === "SubmissionQueueFull" && this.io.inFlight > 0) continue;
        // The room this call was woken for goes to the next waiter: once nothing is in flight, no
        // completion would wake it.
        this.#spaceWaiters.shift()?.();
        throw err;
      } finally {
        this.#queueing = undefined;
      }
    }
    return await suspendTask(call.task, uncancelable ? "io_cancel" : "io", call) as number;
  }

  // The last operation of `call` completed: settles the task's suspension.
  #finishIo(call: IoCall): void {
    if (call.canceling) return failTask(call.task, new CanceledError());
    if (call.errors > 0) {
      if (call.mode === "multi") return failTask(call.task, new aio.SomeOperationFailedError(call.errors));
      if (call.mode === "single") return failTask(call.task, call.ops[0].outError);
    }
    resumeTask(call.task, call.errors);
  }

  // Cancels what is still in flight of `call`. The cancels take no queue slot, so they work on a
  // full queue; each canceled operation then completes with Canceled and the call settles with
  // CanceledError.
  #cancelIo(call: IoCall): void {
    if (call.canceling) return;
    call.canceling = true;
    // The slots still held by the call, found from the slot table rather than from `call.ops`,
    // which is the caller's array and may have changed since. Cancels are rare; a scan of the table
    // saves an array per call.
    const calls = this.#calls;
    for (let slot = 0; slot < calls.length; slot++) {
      if (calls[slot] === call) this.io.cancel(this.#ids[slot]);
    }
    if (!this.#stepQueued) {
      this.#stepQueued = true;
      queueMicrotask(this.#step);
    }
  }

  /**
   * One step by hand (zig-aio's `tick`): submits and completes I/O, `blocking` waiting for at
   * least one completion. Returns the number of live tasks. Tasks resumed by it run once the
   * caller yields to the microtask queue.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * await using scheduler = new coro.Scheduler();
   * console.log(scheduler.tick("nonblocking")); // 0
   * ```
   */
  tick(mode: aio.CompletionMode): number {
    this.io.complete(mode, this.#handler);
    return this.#live.size;
  }

  /**
   * Resolves when every task has returned (`wait`), or cancels them, most recent first, and
   * waits for each (`cancel`).
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * await using scheduler = new coro.Scheduler();
   * scheduler.spawn(() => coro.yield(1), []);
   * await scheduler.run("cancel");
   * ```
   */
  async run(mode: CompleteMode = "wait"): Promise<void> {
    if (mode !== "wait" && mode !== "cancel") throw badCompleteMode(mode);
    if (mode === "cancel") {
      // Most recent first, as zig-aio; all canceled before any is awaited, so that a task waiting
      // for one that is canceled later cannot hold the others up.
      const tasks = [...this.#live].reverse();
      for (const task of tasks) task.cancel();
      await Promise.all(tasks.map(taskDone));
      return;
    }
    if (this.#live.size === 0) return;
    const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
    this.#kick();
    await idle;
  }

  /**
   * Cancels every task, waits for them, then closes the I/O queue.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * const scheduler = new coro.Scheduler();
   * await scheduler.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.run("cancel");
    this.#closed = true;
    this.io.close();
  }

  /** `await using scheduler = new coro.Scheduler()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * The task running this code, or `undefined` outside a task (zig-aio's `coro.current()`).
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * console.log(coro.current()); // undefined
 * ```
 */
export function current(): Task<unknown> | undefined {
  return storage.getStore();
}

/**
 * Suspends the current task until someone calls its `wakeup()` (zig-aio's `coro.yield`).
 * `state` must not be 0. Rejects with {@linkcode CanceledError} when the task is canceled.
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * await using scheduler = new coro.Scheduler();
 * const task = scheduler.spawn(() => coro.yield(7), []);
 * console.log(task.state()); // 7
 * task.wakeup();
 * await task.complete("wait");
 * ```
 */
export function yield_(state: number): Promise<void> {
  const task = storage.getStore();
  if (task === undefined) return Promise.reject(new CoroError("NotInTask", "coro.yield outside a task"));
  if (!Number.isInteger(state) || state === 0) {
    return Promise.reject(new CoroError("InvalidArgument", "yield state must be a non-zero integer (0 is reserved)"));
  }
  return taskYield(task, state);
}

/**
 * Makes the current task (un)cancelable (zig-aio's `coro.setCancelable`). Throws
 * {@linkcode CanceledError} if it was already canceled.
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * await using scheduler = new coro.Scheduler();
 * scheduler.spawn(() => coro.setCancelable(false), []);
 * ```
 */
export function setCancelable(cancelable: boolean): void {
  const task = storage.getStore();
  if (task === undefined) throw new CoroError("NotInTask", "coro.setCancelable outside a task");
  taskSetCancelable(task, cancelable);
}

/** Internal: runs `ops` as the current task's I/O (coro.io); `undefined` outside a task. */
export function taskIo(ops: readonly aio.Operation[], mode: IoMode): Promise<number> | undefined {
  const task = storage.getStore();
  if (task === undefined) return undefined;
  return runIo(task.scheduler, task, ops, mode, false);
}

/** Internal: for sync primitives. Suspends the current task until {@linkcode wakeTask}. */
export function suspendCurrent(): Promise<void> | undefined {
  const task = storage.getStore();
  if (task === undefined) return undefined;
  if (taskCanceled(task)) return Promise.reject(new CanceledError());
  return suspendTask(task, "wait") as Promise<unknown> as Promise<void>;
}

/** Internal: for sync primitives. */
export function wakeTask(task: Task<unknown>): void {
  if (taskStatus(task) === "wait") resumeTask(task);
}

/** Internal: whether the current task was canceled. */
export function currentCanceled(): boolean {
  const task = storage.getStore();
  return task !== undefined && taskCanceled(task);
}
