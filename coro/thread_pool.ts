/**
 * `coro.ThreadPool`: blocking work on Workers while the task that waits for it yields (zig-aio's
 * `coro.ThreadPool`).
 *
 * A Worker cannot run a closure from this thread, so the work is named as a module and one of its
 * exports: `{ module: import.meta.resolve("./work.ts"), fn: "hash" }`. A function given directly
 * (for example a `nonblocking: true` FFI symbol, which Deno already runs on its own pool) is called
 * here and awaited cooperatively.
 *
 * @module
 */
import { CanceledError, CoroError } from "./errors.ts";
import { current, currentCanceled, type Scheduler, suspendCurrent, type Task, wakeTask } from "./scheduler.ts";

/** A function exported by a module, run in a Worker. */
export interface ModuleFunction {
  /** The module's URL (e.g. from `import.meta.resolve`). */
  module: string;
  /** The export to call. */
  fn: string;
}

/** What the pool can run. */
export type Work<A extends unknown[], R> = ModuleFunction | ((...args: A) => R | Promise<R>);

interface Job {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Options for {@linkcode ThreadPool}. */
export interface ThreadPoolOptions {
  /** Workers at most. Default `navigator.hardwareConcurrency`. */
  maxThreads?: number;
}

/**
 * A pool of Workers for blocking code.
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * await using scheduler = new coro.Scheduler();
 * const pool = new coro.ThreadPool({ maxThreads: 1 });
 * const task = scheduler.spawn(() => pool.yieldForCompletion((x: number) => x * 2, [21]), []);
 * console.log(await task.complete("wait")); // 42
 * pool.close(); // before the scheduler
 * ```
 */
export class ThreadPool {
  readonly #max: number;
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Job>();
  readonly #backlog: { work: ModuleFunction; args: unknown[]; job: Job }[] = [];
  #count = 0;
  #closed = false;

  /**
   * Creates a pool; Workers start on demand.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * new coro.ThreadPool({ maxThreads: 2 }).close();
   * ```
   */
  constructor(options: ThreadPoolOptions = {}) {
    const max = options.maxThreads;
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
      throw new CoroError("InvalidArgument", `maxThreads must be a positive integer, got ${String(max)}`);
    }
    this.#max = Math.max(1, max ?? navigator.hardwareConcurrency ?? 2);
  }

  /**
   * Runs `work(...args)` and suspends the current task until it returns (outside a task: just
   * awaits it). Rejects with `CanceledError` if the task is canceled meanwhile; work already
   * started in a Worker runs to its end, its result dropped.
   */
  async yieldForCompletion<A extends unknown[], R>(work: Work<A, R>, args: A): Promise<R> {
    if (this.#closed) throw new CoroError("Closed", "the thread pool is closed");
    if (
      (typeof work !== "function" &&
        (typeof work !== "object" || work === null || typeof work.module !== "string" ||
          typeof work.fn !== "string")) || !Array.isArray(args)
    ) {
      throw new CoroError("InvalidArgument", "work must be a function or { module, fn }, and args an array");
    }
    if (currentCanceled()) throw new CanceledError();
    const done = typeof work === "function"
      ? Promise.resolve().then(() => work(...args))
      : this.#run(work, args) as Promise<R>;
    const task: Task<unknown> | undefined = current();
    if (task === undefined) return await done;
    let settled = false;
    let value: R | undefined;
    let error: unknown;
    let failed = false;
    done.then(
      (v) => {
        settled = true;
        value = v;
        wakeTask(task);
      },
      (e) => {
        settled = true;
        failed = true;
        error = e;
        wakeTask(task);
      },
    );
    await suspendCurrent();
    if (!settled) throw new CanceledError(); // woken by a cancel
    if (currentCanceled()) throw new CanceledError();
    if (failed) throw error;
    return value as R;
  }

  /**
   * Spawns a task that runs `work` through {@linkcode ThreadPool.yieldForCompletion}.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * await using scheduler = new coro.Scheduler();
   * const pool = new coro.ThreadPool();
   * const task = pool.spawnForCompletion(scheduler, () => 69, []);
   * console.log(await task.complete("wait")); // 69
   * pool.close();
   * ```
   */
  spawnForCompletion<A extends unknown[], R>(scheduler: Scheduler, work: Work<A, R>, args: A): Task<R> {
    return scheduler.spawn(() => this.yieldForCompletion(work, args), [], { name: "thread_pool" }) as Task<R>;
  }

  #run(work: ModuleFunction, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const job = { resolve, reject };
      const worker = this.#idle.pop() ?? (this.#count < this.#max ? this.#spawnWorker() : undefined);
      if (worker === undefined) this.#backlog.push({ work, args, job });
      else this.#dispatch(worker, work, args, job);
    });
  }

  #spawnWorker(): Worker {
    this.#count++;
    const worker = new Worker(new URL("./thread_pool_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (e: MessageEvent<{ ok: boolean; value: unknown }>) => {
      const job = this.#busy.get(worker)!;
      this.#busy.delete(worker);
      if (e.data.ok) job.resolve(e.data.value);
      else job.reject(e.data.value);
      const next = this.#backlog.shift();
      if (next !== undefined) this.#dispatch(worker, next.work, next.args, next.job);
      else this.#idle.push(worker);
    };
    worker.onerror = (e) => {
      // The Worker is broken: replace it, so that the pool keeps its size and its backlog moves.
      e.preventDefault();
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      worker.terminate();
      this.#count--;
      job?.reject(e.error ?? new Error(e.message));
      const next = this.#backlog.shift();
      if (next !== undefined && !this.#closed) this.#dispatch(this.#spawnWorker(), next.work, next.args, next.job);
    };
    return worker;
  }

  #dispatch(worker: Worker, work: ModuleFunction, args: unknown[], job: Job): void {
    this.#busy.set(worker, job);
    worker.postMessage({ module: work.module, fn: work.fn, args });
  }

  /** Stops every Worker; pending work rejects with `CanceledError`. Close it before the scheduler. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [worker, job] of this.#busy) {
      worker.terminate();
      job.reject(new CanceledError());
    }
    for (const { job } of this.#backlog.splice(0)) job.reject(new CanceledError());
    for (const worker of this.#idle.splice(0)) worker.terminate();
    this.#busy.clear();
  }
}
