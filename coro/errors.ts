/**
 * coro's errors.
 *
 * @module
 */
import { AioError } from "../aio/errors.ts";

/**
 * The task was canceled (zig-aio's `error.Canceled` from `coro.yield` and `coro.io`).
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * const err = new coro.CanceledError();
 * console.log(err.code); // "Canceled"
 * ```
 */
export class CanceledError extends AioError {
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { CanceledError } from "./errors.ts";
   * throw new CanceledError();
   * ```
   */
  constructor() {
    super("the task was canceled", "Canceled");
    this.name = "CanceledError";
  }
}

/**
 * A coro function was misused: `wakeup` on a task that is not yielded, yield state 0, `yield`
 * outside a task, spawning on a closed scheduler.
 *
 * @example
 * ```ts
 * import { CoroError } from "./errors.ts";
 * console.log(new CoroError("NotYielded", "x").code);
 * ```
 */
export class CoroError extends AioError {
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { CoroError } from "./errors.ts";
   * throw new CoroError("NotInTask", "yield outside a task");
   * ```
   */
  constructor(code: string, detail: string) {
    super(`${code}: ${detail}`, code);
    this.name = "CoroError";
  }
}
