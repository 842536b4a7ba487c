/**
 * `aio`: io_uring-like asynchronous I/O (zig-aio's `aio` module).
 *
 * Describe operations, submit them as one batch (optionally linked), collect their results:
 *
 * ```ts
 * import { aio } from "@aio/aio";
 * const open = aio.openAt({ dir: aio.cwd, path: "deno.json" });
 * await aio.single(open);
 * const buf = new Uint8Array(4096);
 * const read = aio.read({ file: open.outFile, buffer: buf, offset: 0, link: "soft" });
 * await aio.complete([read, aio.closeFile({ file: open.outFile })]);
 * console.log(read.outRead, read.outError);
 * ```
 *
 * @module
 */
export * from "./ops.ts";
export * from "./errors.ts";
export * from "./dynamic.ts";
export * from "./immediate.ts";
export * from "./address.ts";
export { EventSource } from "./event_source.ts";
export type { BackendName } from "./backend.ts";
export * as posix from "./posix.ts";
export * as constants from "./constants.ts";
