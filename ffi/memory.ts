/**
 * Turning JS memory into addresses the kernel can use.
 *
 * Invariant: an address handed to the kernel stays valid until the operation's completion,
 * because (1) V8 never moves an ArrayBuffer's backing store once it is off the JS heap, (2)
 * reading `view.buffer` forces a small on-heap typed array off the heap first, and (3) the
 * queue keeps a JS reference to the view (and so its buffer) until the completion is reaped.
 *
 * @module
 */

const baseAddresses = new WeakMap<ArrayBufferLike, number>();

/**
 * The address of the first byte of `view`, as a number (user-space addresses fit in 53 bits).
 * The base address of each ArrayBuffer is looked up once and cached: asking Deno for a pointer
 * costs about 100 ns, the cache about 20.
 *
 * @example
 * ```ts
 * import { addressOf } from "./memory.ts";
 * console.log(addressOf(new Uint8Array(8)) > 0);
 * ```
 */
export function addressOf(view: ArrayBufferView): number {
  // Reading .buffer moves an on-heap typed array's contents to a stable off-heap store.
  const ab = view.buffer;
  let base = baseAddresses.get(ab);
  if (base === undefined) {
    if (ab.byteLength === 0) return 0;
    base = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(ab as ArrayBuffer)));
    baseAddresses.set(ab, base);
  }
  return base + view.byteOffset;
}

/** Whether the ArrayBuffer behind `view` has been detached (transferred). */
export function isDetached(view: ArrayBufferView): boolean {
  const ab = view.buffer as ArrayBuffer & { detached?: boolean };
  return ab.detached === true;
}

/** Allocates zeroed memory that never lives on the JS heap, so its address is stable. */
export function stableBytes(length: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(length));
}

const encoder = new TextEncoder();

/**
 * A NUL-terminated copy of `path` for the kernel. Returns `undefined` when the path holds a NUL
 * byte before its end: the kernel would silently cut the path there.
 *
 * @example
 * ```ts
 * import { cString } from "./memory.ts";
 * console.log(cString("a.txt")?.length); // 6
 * ```
 */
export function cString(path: string | Uint8Array): Uint8Array | undefined {
  if (typeof path === "string") {
    if (path.includes("\0")) return undefined;
    const bytes = stableBytes(path.length * 3 + 1);
    const { written } = encoder.encodeInto(path, bytes);
    return bytes.subarray(0, written + 1);
  }
  const nul = path.indexOf(0);
  // Shared memory is copied even when terminated: another thread could clear the NUL while the
  // kernel reads the path.
  if (nul === path.length - 1 && !(path.buffer instanceof SharedArrayBuffer)) return path;
  if (nul !== -1 && nul !== path.length - 1) return undefined;
  const bytes = stableBytes(path.length + 1);
  bytes.set(path);
  return bytes;
}
