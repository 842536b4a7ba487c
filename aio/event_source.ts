/**
 * EventSource: a counting semaphore backed by an eventfd (EFD_SEMAPHORE), as zig-aio's.
 *
 * The eventfd is blocking on purpose: io_uring honours O_NONBLOCK and would complete a
 * `waitEventSource` with EAGAIN instead of waiting (liburing#364, which zig-aio papers over).
 * `waitNonBlocking` gets its non-blocking read per call with `preadv2(RWF_NOWAIT)` instead.
 *
 * Across Workers: pass `source.fd` in a message and wrap it with `EventSource.fromFd(fd)` there.
 * The fd belongs to the process, so every Worker sees the same counter.
 *
 * @module
 */
import { EFD, ERRNO, errnoName, RWF_NOWAIT } from "../ffi/linux.ts";
import { errno, openLibc } from "../ffi/libc.ts";
import { addressOf, stableBytes } from "../ffi/memory.ts";
import { AioError } from "./errors.ts";
import { isFdNumber, showValue } from "./arguments.ts";
import { eventClose, eventNotify, eventOpen, eventSocket, eventTry, eventWait } from "./posix_windows.ts";

const WINDOWS = Deno.build.os === "windows";

// A number the FFI cannot convert would be a TypeError at the first notify, far from its cause.
function checkSourceFd(fd: unknown): void {
  if (!isFdNumber(fd)) {
    throw new AioError(
      `an event source fd must be a non-negative integer, got ${showValue(fd)}`,
      "InvalidFd",
    );
  }
}

// EBADF: the number is not open (closed elsewhere, or never an event source); the same code as a
// closed EventSource object, with the errno.
function failed(call: string, e: number): AioError {
  return new AioError(`EventSource.${call} failed: ${errnoName(e)}`, e === ERRNO.EBADF ? "InvalidFd" : "Unexpected", {
    errno: errnoName(e),
  });
}

/**
 * A semaphore that operations (`notifyEventSource`, `waitEventSource`) and threads can share.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * using source = new aio.EventSource();
 * source.notify();
 * console.log(source.waitNonBlocking()); // true
 * console.log(source.waitNonBlocking()); // false
 * ```
 */
export class EventSource implements Disposable {
  #fd: number;
  readonly #owned: boolean;
  /** Windows: this object's own handle to the source's semaphore. */
  #sem = 0n;
  readonly #one = new BigUint64Array(new ArrayBuffer(8));
  readonly #sink = stableBytes(8);
  readonly #iov = new BigUint64Array(new ArrayBuffer(16));

  /**
   * Creates a semaphore with a count of 0: an eventfd on Linux, a self-connected loopback UDP socket on Windows.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * const source = new aio.EventSource();
   * source.close();
   * ```
   */
  constructor(options: { fd?: number } = {}) {
    this.#one[0] = 1n;
    if (typeof options !== "object" || options === null) {
      throw new AioError(`EventSource options must be an object, got ${showValue(options)}`, "InvalidArgument");
    }
    if (options.fd !== undefined) {
      checkSourceFd(options.fd);
      this.#fd = options.fd;
      this.#owned = false;
      if (WINDOWS) {
        const sem = eventOpen(options.fd);
        if (typeof sem === "number") throw new AioError(`no event source has fd ${options.fd}`, "InvalidFd");
        this.#sem = sem;
      }
    } else if (WINDOWS) {
      const { socket, semaphore } = eventSocket();
      this.#fd = socket;
      this.#sem = semaphore;
      this.#owned = true;
    } else {
      const fd = openLibc().symbols.eventfd(0, EFD.CLOEXEC | EFD.SEMAPHORE);
      if (fd < 0) {
        const e = errno();
        throw new AioError(
          `eventfd failed: ${errnoName(e)}`,
          e === ERRNO.EMFILE ? "ProcessFdQuotaExceeded" : "SystemResources",
          {
            errno: errnoName(e),
          },
        );
      }
      this.#fd = fd;
      this.#owned = true;
    }
    this.#iov[0] = BigInt(addressOf(this.#sink));
    this.#iov[1] = 8n;
  }

  /**
   * Wraps an event source's fd received from another Worker. The wrapper does not own the fd:
   * `close()` on it only forgets the fd.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using owner = new aio.EventSource();
   * const view = aio.EventSource.fromFd(owner.fd);
   * view.notify();
   * owner.wait();
   * ```
   */
  static fromFd(fd: number): EventSource {
    checkSourceFd(fd);
    return new EventSource({ fd });
  }

  /** The eventfd (on Windows, the SOCKET); -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Increments the counter, waking one waiter.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using s = new aio.EventSource();
   * s.notify();
   * ```
   */
  notify(): void {
    if (WINDOWS) {
      this.#windows("notify", eventNotify(this.#checked(), this.#sem));
      return;
    }
    const r = openLibc().symbols.write(this.#checked(), this.#one, 8);
    if (r !== 8) throw failed("notify", errno());
  }

  /**
   * Blocks the thread until the counter is above zero, then decrements it. In the main thread
   * prefer `await aio.single(aio.waitEventSource({ source }))`, which leaves the event loop free.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using s = new aio.EventSource();
   * s.notify();
   * s.wait();
   * ```
   */
  wait(): void {
    if (WINDOWS) {
      this.#windows("wait", eventWait(this.#checked(), this.#sem));
      return;
    }
    for (;;) {
      const r = openLibc().symbols.read(this.#checked(), this.#sink, 8);
      if (r === 8) return;
      const e = errno();
      if (e !== ERRNO.EINTR) throw failed("wait", e);
    }
  }

  /**
   * Decrements the counter if it is above zero. Returns false, rather than zig-aio's
   * `error.WouldBlock`, when it was zero.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * using s = new aio.EventSource();
   * console.log(s.waitNonBlocking()); // false
   * ```
   */
  waitNonBlocking(): boolean {
    if (WINDOWS) return this.#windows("waitNonBlocking", eventTry(this.#checked(), this.#sem)) === 1;
    for (;;) {
      const r = openLibc().symbols.preadv2(this.#checked(), this.#iov, 1, -1n, RWF_NOWAIT);
      if (r === 8) return true;
      const e = errno();
      if (e === ERRNO.EAGAIN) return false;
      if (e !== ERRNO.EINTR) throw failed("waitNonBlocking", e);
    }
  }

  /**
   * Closes the eventfd (when owned). Same as `aio.closeEventSource`, done synchronously.
   *
   * @example
   * ```ts
   * import { aio } from "../mod.ts";
   * new aio.EventSource().close();
   * ```
   */
  close(): void {
    if (this.#fd < 0) return;
    if (WINDOWS) eventClose(this.#fd, this.#sem, this.#owned);
    else if (this.#owned) openLibc().symbols.close(this.#fd);
    this.#fd = -1;
  }

  /** Disposes the source: `using source = new aio.EventSource()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Internal (iocp): this object's handle to the source's semaphore; 0n off Windows. */
  get semaphore(): bigint {
    return this.#sem;
  }

  /** Internal: the fd was closed by a completed `closeEventSource`. */
  markClosed(): void {
    this.#fd = -1;
  }

  // A Windows call's result: thrown when it is an error.
  #windows(call: string, r: number): number {
    if (r < 0) throw failed(call, -r);
    return r;
  }

  #checked(): number {
    if (this.#fd < 0) throw new AioError("the event source is closed", "InvalidFd");
    return this.#fd;
  }
}
