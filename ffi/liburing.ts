/**
 * liburing through `Deno.dlopen`.
 *
 * liburing 2.3 (Debian 12) has no `liburing-ffi`: the `io_uring_prep_*` helpers are static
 * inline, so SQEs are written from TypeScript (`backends/io_uring.ts`) and only the exported
 * setup, enter and register calls are bound here. Every one of them returns `-errno`, so no
 * errno capture is needed.
 *
 * @module
 */

/** The symbols bound from liburing. */
export const liburingSymbols = {
  // int io_uring_queue_init_params(unsigned entries, struct io_uring *ring, struct io_uring_params *p);
  io_uring_queue_init_params: { parameters: ["u32", "buffer", "buffer"], result: "i32" },
  // void io_uring_queue_exit(struct io_uring *ring);
  io_uring_queue_exit: { parameters: ["buffer"], result: "void" },
  // int io_uring_enter(unsigned fd, unsigned to_submit, unsigned min_complete, unsigned flags, sigset_t *sig);
  // Declared with i32/u32 only so that V8 takes the fast-call path (about 10 ns a call).
  io_uring_enter: { parameters: ["u32", "u32", "u32", "u32", "pointer"], result: "i32" },
  // int io_uring_enter2(unsigned fd, unsigned to_submit, unsigned min_complete, unsigned flags,
  //                     sigset_t *sig, size_t sz);  with IORING_ENTER_EXT_ARG, sig is a getevents arg
  io_uring_enter2: { parameters: ["u32", "u32", "u32", "u32", "buffer", "usize"], result: "i32" },
  // int io_uring_register_probe(struct io_uring *ring, struct io_uring_probe *p, unsigned nr);
  io_uring_register_probe: { parameters: ["buffer", "buffer", "u32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

import { envVar, loadLibrary } from "./loader.ts";

/** The loaded library. */
export type Liburing = Deno.DynamicLibrary<typeof liburingSymbols>;

export { LibraryNotFoundError } from "./loader.ts";

/** What to do when liburing is missing. */
export const LIBURING_HINT =
  "Install it: Debian and Ubuntu `apt-get install liburing2`, Fedora `dnf install liburing`, " +
  "Arch `pacman -S liburing`, or set AIO_LIBURING_PATH to the library's path.";

/** The candidate paths for liburing: `AIO_LIBURING_PATH`, then the sonames. */
export function liburingCandidates(): string[] {
  const candidates: string[] = [];
  const override = envVar("AIO_LIBURING_PATH");
  if (override) candidates.push(override);
  candidates.push("liburing.so.2", "liburing.so");
  return candidates;
}

let cached: Liburing | undefined;

/**
 * Opens liburing once per isolate (each Worker opens its own).
 *
 * @example
 * ```ts
 * import { openLiburing } from "./liburing.ts";
 * const lib = openLiburing();
 * console.log(typeof lib.symbols.io_uring_enter);
 * ```
 */
export function openLiburing(): Liburing {
  cached ??= loadLibrary("liburing", liburingCandidates(), liburingSymbols, LIBURING_HINT);
  return cached;
}
