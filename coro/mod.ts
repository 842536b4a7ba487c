/**
 * `coro`: coroutine-powered I/O tasks (zig-aio's `coro` module). Tasks are async functions; the
 * I/O of all of them is merged into one queue, submitted once per tick.
 *
 * ```ts
 * import { aio, coro } from "@aio/aio";
 * await using scheduler = new coro.Scheduler();
 * const task = scheduler.spawn(async () => {
 *   await coro.io.single(aio.timeout({ ns: 1_000_000 }));
 *   return 42;
 * }, []);
 * console.log(await task.complete("wait"));
 * ```
 *
 * @module
 */
export {
  type CompleteMode,
  current,
  Scheduler,
  type SchedulerOptions,
  setCancelable,
  type SpawnOptions,
  Task,
  type WaitMode,
  yield_ as yield,
} from "./scheduler.ts";
export * as io from "./io.ts";
export * from "./sync.ts";
export * from "./thread_pool.ts";
export * from "./errors.ts";
