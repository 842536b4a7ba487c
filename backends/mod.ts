/**
 * Backend selection: `AIO_BACKEND=auto|io_uring|posix|iocp`, or the `backend` option in code.
 *
 * @module
 */
import type { Backend, BackendName } from "../aio/backend.ts";
import { BackendError } from "../aio/errors.ts";
import { IoUringBackend } from "./io_uring.ts";
import { PosixBackend } from "./posix.ts";
import { IocpBackend } from "./iocp.ts";
import { envVar } from "../ffi/loader.ts";

/** What a queue asks of its backend. */
export interface BackendOptions {
  /** `auto` (default), or a backend by name. */
  backend?: BackendName | "auto";
  /** Submission entries wanted. */
  sqEntries: number;
  /** Completion entries wanted. */
  cqEntries?: number;
  /** The queue never parks (io_uring may then use COOP_TASKRUN). */
  syncOnly?: boolean;
  /**
   * Print the backend chosen to stderr (also `AIO_DEBUG=1`). A fallback from io_uring is printed
   * unless this is false or `AIO_DEBUG=0`.
   */
  debug?: boolean;
}

/** Why `auto` did not get io_uring, when it did not; `undefined` before any choice or when it did. */
export let fallbackReason: string | undefined;

/** The backend `auto` resolves to, from `AIO_BACKEND` or the platform. */
export function requestedBackend(option?: BackendName | "auto"): BackendName | "auto" {
  const wanted = option ?? envVar("AIO_BACKEND") ?? "auto";
  if (wanted !== "auto" && wanted !== "io_uring" && wanted !== "posix" && wanted !== "iocp") {
    throw new BackendError(
      String(wanted),
      "InvalidArgument",
      undefined,
      "AIO_BACKEND must be auto, io_uring, posix or iocp",
    );
  }
  return wanted;
}

// Each distinct choice is printed once per isolate, not once per queue.
const told = new Set<string>();

// A fallback is said by default (a process that expected io_uring should learn why it runs
// without it); `debug: false` or AIO_DEBUG=0 silences it. Other choices only under debug.
function tell(debug: boolean | undefined, line: string, fallback = false): void {
  const env = envVar("AIO_DEBUG");
  const on = debug ?? (env === undefined ? fallback : env !== "0");
  if (!on || told.has(line)) return;
  told.add(line);
  console.error(`aio: ${line}`);
}

/**
 * Creates a backend. `auto` takes io_uring on Linux and falls back to posix when liburing is
 * missing or io_uring_setup is refused (EPERM: seccomp, `kernel.io_uring_disabled`), missing
 * (ENOSYS) or too old (EINVAL, missing features). {@linkcode fallbackReason} then says why.
 *
 * @example
 * ```ts
 * import { createBackend } from "./mod.ts";
 * const b = createBackend({ sqEntries: 8 });
 * console.log(b.name);
 * b.close();
 * ```
 */
export function createBackend(options: BackendOptions): Backend {
  const wanted = requestedBackend(options.backend);
  if (wanted === "io_uring" || (wanted === "auto" && Deno.build.os === "linux")) {
    try {
      const ring = new IoUringBackend(options);
      tell(options.debug, `backend io_uring${wanted === "auto" ? " (auto)" : ""}`);
      return ring;
    } catch (err) {
      if (wanted === "io_uring") throw err;
      // Out of fds is the process's state, not io_uring's absence: posix would need fds too, and
      // a queue made later should still get io_uring.
      if (err instanceof BackendError && (err.errno === "EMFILE" || err.errno === "ENFILE")) throw err;
      fallbackReason = err instanceof Error ? err.message : String(err);
      try {
        const posix = new PosixBackend(options);
        tell(options.debug, `backend posix (auto): io_uring is unavailable: ${fallbackReason}`, true);
        return posix;
      } catch (err2) {
        throw new BackendError(
          "auto",
          "NoBackend",
          err2 instanceof BackendError ? err2.errno : undefined,
          `io_uring is unavailable (${fallbackReason}) and posix failed too (${
            err2 instanceof Error ? err2.message : String(err2)
          })`,
          err2,
        );
      }
    }
  }
  if (wanted === "iocp" || (wanted === "auto" && Deno.build.os === "windows")) {
    const iocp = new IocpBackend(options);
    tell(options.debug, `backend iocp${wanted === "auto" ? " (auto)" : ""}`);
    return iocp;
  }
  if (wanted === "posix" || (wanted === "auto" && Deno.build.os !== "windows")) {
    const posix = new PosixBackend(options);
    tell(options.debug, `backend posix${wanted === "auto" ? " (auto)" : ""}`);
    return posix;
  }
  throw new BackendError(wanted, "Unsupported", undefined, `backend ${wanted} is not available on ${Deno.build.os}`);
}
