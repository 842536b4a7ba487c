/**
 * Backend selection: `AIO_BACKEND=auto|io_uring|posix`, or the `backend` option in code.
 *
 * @module
 */
import type { Backend, BackendName } from "../aio/backend.ts";
import { BackendError } from "../aio/errors.ts";
import { IoUringBackend } from "./io_uring.ts";

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
}

/** Why `auto` did not get io_uring, when it did not; `undefined` before any choice or when it did. */
export let fallbackReason: string | undefined;

function envBackend(): string | undefined {
  try {
    return Deno.env.get("AIO_BACKEND") || undefined;
  } catch {
    return undefined;
  }
}

/** The backend `auto` resolves to, from `AIO_BACKEND` or the platform. */
export function requestedBackend(option?: BackendName | "auto"): BackendName | "auto" {
  const wanted = option ?? envBackend() ?? "auto";
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

/**
 * Creates a backend.
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
      return new IoUringBackend(options);
    } catch (err) {
      if (wanted === "io_uring") throw err;
      fallbackReason = err instanceof Error ? err.message : String(err);
      throw new BackendError(
        "auto",
        "NoBackend",
        undefined,
        `io_uring is unavailable (${fallbackReason}) and no fallback backend is built yet`,
        err,
      );
    }
  }
  throw new BackendError(wanted, "Unsupported", undefined, `backend ${wanted} is not available on ${Deno.build.os}`);
}
