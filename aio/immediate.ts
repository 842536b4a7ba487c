/**
 * The immediate API (zig-aio's `aio.single`, `aio.multi`, `aio.complete`): run a batch and wait
 * for all of it. The Promise forms leave Deno's event loop free while waiting; the `…Sync`
 * forms block the thread and are the fastest.
 *
 * Unlike zig-aio, which creates a ring per call, every call shares one lazily created queue per
 * isolate (a ring setup costs two syscalls and two mappings). Concurrent calls interleave on it.
 *
 * @module
 */
import { Dynamic } from "./dynamic.ts";
import { checkSignal, showValue } from "./arguments.ts";
import { InvalidOperationError, SomeOperationFailedError } from "./errors.ts";
import type { Operation, OperationKind } from "./ops.ts";
import type { BackendName } from "./backend.ts";

/** Options of the Promise forms. */
export interface ImmediateOptions {
  /** Aborting cancels the batch's operations still in flight; they complete with `Canceled`. */
  signal?: AbortSignal;
}

const SHARED_CAPACITY = 1024;
let shared: Dynamic | undefined;

// Before queueFor: a non-array's length would otherwise size a temporary queue.
function checkOps(ops: unknown): void {
  if (!Array.isArray(ops)) {
    throw new InvalidOperationError(
      undefined,
      "InvalidArgument",
      `ops must be an array of operations, got ${typeof ops === "object" ? String(ops) : typeof ops}`,
    );
  }
}

function checkOptions(options: unknown): void {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOperationError(
      undefined,
      "InvalidArgument",
      `options must be an object, got ${showValue(options)}`,
    );
  }
  checkSignal((options as ImmediateOptions).signal);
}

function checkOne(op: unknown): void {
  if (Array.isArray(op)) {
    throw new InvalidOperationError(
      undefined,
      "InvalidArgument",
      "single takes one operation; multi and complete take arrays",
    );
  }
}

function queueFor(n: number): { queue: Dynamic; temporary: boolean } {
  shared ??= new Dynamic({ capacity: SHARED_CAPACITY });
  if (n <= SHARED_CAPACITY) return { queue: shared, temporary: false };
  return { queue: new Dynamic({ capacity: Math.min(n, 0xffff), backend: shared.backend }), temporary: true };
}

/**
 * Runs a batch and resolves with the number of operations that failed; each operation's
 * `outError` says which (zig-aio's `aio.complete`).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const open = aio.openAt({ dir: aio.cwd, path: "/nonexistent" });
 * console.log(await aio.complete([open, aio.nop()])); // 1
 * ```
 */
export async function complete(ops: readonly Operation[], options: ImmediateOptions = {}): Promise<number> {
  checkOps(ops);
  checkOptions(options);
  const { queue, temporary } = queueFor(ops.length);
  try {
    return await queue.runBatch(ops, options.signal);
  } finally {
    if (temporary) queue.close();
  }
}

/**
 * The blocking form of {@linkcode complete}.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.completeSync([aio.nop(), aio.nop()])); // 0
 * ```
 */
export function completeSync(ops: readonly Operation[]): number {
  checkOps(ops);
  const { queue, temporary } = queueFor(ops.length);
  try {
    return queue.runBatchSync(ops);
  } finally {
    if (temporary) queue.close();
  }
}

/**
 * Runs a batch; rejects with {@linkcode SomeOperationFailedError} if any operation failed.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * await aio.multi([aio.nop({ link: "soft" }), aio.nop()]);
 * ```
 */
export async function multi(ops: readonly Operation[], options: ImmediateOptions = {}): Promise<void> {
  const errors = await complete(ops, options);
  if (errors > 0) throw new SomeOperationFailedError(errors);
}

/**
 * The blocking form of {@linkcode multi}.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * aio.multiSync([aio.nop()]);
 * ```
 */
export function multiSync(ops: readonly Operation[]): void {
  const errors = completeSync(ops);
  if (errors > 0) throw new SomeOperationFailedError(errors);
}

/**
 * Runs one operation; rejects with its `OperationError` if it failed.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * try {
 *   await aio.single(aio.openAt({ dir: aio.cwd, path: "/nonexistent" }));
 * } catch (e) {
 *   console.log((e as aio.OperationError).code); // "FileNotFound"
 * }
 * ```
 */
export async function single(op: Operation, options: ImmediateOptions = {}): Promise<void> {
  checkOne(op);
  if (await complete([op], options) > 0) throw op.outError;
}

/**
 * The blocking form of {@linkcode single}.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * aio.singleSync(aio.nop());
 * ```
 */
export function singleSync(op: Operation): void {
  checkOne(op);
  if (completeSync([op]) > 0) throw op.outError;
}

/**
 * Whether the backend in use supports every kind given; for io_uring, from the kernel's probe.
 * An unsupported operation completes with `OperationNotSupported`.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.isSupported(["bind", "listen"]));
 * ```
 */
export function isSupported(kinds: readonly OperationKind[]): boolean {
  return queueFor(0).queue.isSupported(kinds);
}

/**
 * The backend the immediate API runs on.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.currentBackend()); // "io_uring"
 * ```
 */
export function currentBackend(): BackendName {
  return queueFor(0).queue.backend;
}
