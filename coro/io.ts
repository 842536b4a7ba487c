/**
 * `coro.io`: the immediate API for tasks (zig-aio's `coro.io`). Inside a task the operations join
 * the scheduler's queue and the task suspends until they complete; outside a task these are
 * `aio.complete`, `aio.multi` and `aio.single`.
 *
 * @module
 */
import * as aio from "../aio/mod.ts";
import { taskIo } from "./scheduler.ts";

/**
 * Runs a batch in the current task; resolves with the number of failed operations.
 *
 * @example
 * ```ts
 * import { aio, coro } from "../mod.ts";
 * await using scheduler = new coro.Scheduler();
 * const t = scheduler.spawn(() => coro.io.complete([aio.nop(), aio.nop()]), []);
 * console.log(await t.complete("wait")); // 0
 * ```
 */
export function complete(ops: readonly aio.Operation[]): Promise<number> {
  return taskIo(ops, "complete") ?? aio.complete(ops);
}

/**
 * Runs a batch in the current task; rejects with `SomeOperationFailedError` if any failed.
 *
 * @example
 * ```ts
 * import { aio, coro } from "../mod.ts";
 * await using scheduler = new coro.Scheduler();
 * await scheduler.spawn(() => coro.io.multi([aio.nop({ link: "soft" }), aio.nop()]), []).complete();
 * ```
 */
export function multi(ops: readonly aio.Operation[]): Promise<void> {
  return (taskIo(ops, "multi") as Promise<unknown> as Promise<void> | undefined) ?? aio.multi(ops);
}

/**
 * Runs one operation in the current task; rejects with its `OperationError` if it failed.
 *
 * @example
 * ```ts
 * import { aio, coro } from "../mod.ts";
 * await using scheduler = new coro.Scheduler();
 * await scheduler.spawn(() => coro.io.single(aio.timeout({ ns: 1e6 })), []).complete();
 * ```
 */
export function single(op: aio.Operation): Promise<void> {
  return (taskIo([op], "single") as Promise<unknown> as Promise<void> | undefined) ?? aio.single(op);
}
