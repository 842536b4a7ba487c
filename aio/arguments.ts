/**
 * Internal: checks of arguments shared by several modules, and the error codes of the synchronous
 * helpers (`aio.posix.*`) on Linux and Windows alike. Not re-exported.
 *
 * @module
 */
import { QueueError } from "./errors.ts";

/** Internal: a value as a message shows it: strings quoted, so that `"3"` and `3` read differently. */
export function showValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.byteLength} bytes`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return typeof value === "object" && value !== null ? `a ${value.constructor?.name ?? "object"}` : String(value);
}

/** Internal: whether `value` can be an fd (or a handle's number): a non-negative int32. */
export function isFdNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0x7fff_ffff;
}

/** Internal: a queue's bad argument (`QueueError` `InvalidArgument`). */
export function badArgument(detail: string): never {
  throw new QueueError("InvalidArgument", detail);
}

/** Internal: a handler is an object whose `aioQueue` and `aioComplete`, when present, are functions. */
export function checkHandler(handler: unknown): void {
  if (typeof handler !== "object" || handler === null) {
    badArgument(`a handler must be an object with aioQueue/aioComplete methods, got ${showValue(handler)}`);
  }
  // Found now rather than when the first completion calls it, deep inside a reap. No loop or
  // array: queue() checks every handler it is given.
  const { aioQueue, aioComplete } = handler as Record<string, unknown>;
  if (aioQueue !== undefined && typeof aioQueue !== "function") {
    badArgument(`handler.aioQueue must be a function, got ${showValue(aioQueue)}`);
  }
  if (aioComplete !== undefined && typeof aioComplete !== "function") {
    badArgument(`handler.aioComplete must be a function, got ${showValue(aioComplete)}`);
  }
}

/** Internal: `signal`, when given, must be an AbortSignal. */
export function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    badArgument(`signal must be an AbortSignal, got ${showValue(signal)}`);
  }
}

// zig's std.posix names for what the helpers can fail with; the rest is Unexpected (with its errno).
const CODES: Readonly<Record<string, string>> = {
  EBADF: "FileDescriptorInvalid",
  ENOTSOCK: "FileDescriptorNotASocket",
  EINVAL: "InvalidArgument",
  ENOENT: "FileNotFound",
  EACCES: "AccessDenied",
  EPERM: "AccessDenied",
  EMFILE: "ProcessFdQuotaExceeded",
  ENFILE: "SystemFdQuotaExceeded",
  EADDRINUSE: "AddressInUse",
  EADDRNOTAVAIL: "AddressNotAvailable",
  EAFNOSUPPORT: "AddressFamilyNotSupported",
  ENOPROTOOPT: "InvalidProtocolOption",
  ESOCKTNOSUPPORT: "SocketTypeNotSupported",
  EPROTONOSUPPORT: "ProtocolNotSupported",
  EOPNOTSUPP: "OperationNotSupported",
};

/** The code of a helper's failure with errno `name` (`EBADF` → `FileDescriptorInvalid`). */
export function helperErrorCode(name: string): string {
  return CODES[name] ?? "Unexpected";
}
