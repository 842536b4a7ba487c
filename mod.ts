/**
 * `@aio/aio`: zig-aio's io_uring-like asynchronous I/O for Deno, over liburing through FFI.
 *
 * ```ts
 * import { aio } from "@aio/aio";
 * await aio.single(aio.timeout({ ns: 1_000_000 }));
 * ```
 *
 * @module
 */
export * as aio from "./aio/mod.ts";
export * as coro from "./coro/mod.ts";
