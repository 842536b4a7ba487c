/**
 * Socket addresses as sockaddr bytes, the form `connect`, `bind`, `accept` and the msg
 * operations take (zig's `std.net.Address`).
 *
 * @module
 */
import { AF } from "./constants.ts";
import { AioError } from "./errors.ts";

/**
 * A `sockaddr_in` for an IPv4 address and port.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.ipv4("127.0.0.1", 1327).length); // 16
 * ```
 */
export function ipv4(host: string, port: number): Uint8Array {
  // Digits only: Number("") is 0 and Number(" 1") is 1, which made "1..2.3" an address.
  const texts = typeof host === "string" ? host.split(".") : [];
  const parts = texts.map(Number);
  if (parts.length !== 4 || texts.some((t) => !/^[0-9]{1,3}$/.test(t)) || parts.some((p) => p > 255)) {
    throw new AioError(`not an IPv4 address: ${host}`, "InvalidArgument");
  }
  checkPort(port);
  const b = new Uint8Array(new ArrayBuffer(16));
  const v = new DataView(b.buffer);
  v.setUint16(0, AF.INET, true);
  v.setUint16(2, port, false);
  b.set(parts, 4);
  return b;
}

/**
 * A `sockaddr_in6` for an IPv6 address and port.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.ipv6("::1", 8080).length); // 28
 * ```
 */
export function ipv6(host: string, port: number, scopeId = 0): Uint8Array {
  checkPort(port);
  if (typeof host !== "string") throw new AioError(`not an IPv6 address: ${String(host)}`, "InvalidArgument");
  if (!Number.isInteger(scopeId) || scopeId < 0 || scopeId > 0xffff_ffff) {
    throw new AioError(`bad scope id ${scopeId}`, "InvalidArgument");
  }
  const halves = host.split("::");
  if (halves.length > 2) throw new AioError(`not an IPv6 address: ${host}`, "InvalidArgument");
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array(fill).fill("0"), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) {
    throw new AioError(`not an IPv6 address: ${host}`, "InvalidArgument");
  }
  const b = new Uint8Array(new ArrayBuffer(28));
  const v = new DataView(b.buffer);
  v.setUint16(0, AF.INET6, true);
  v.setUint16(2, port, false);
  groups.forEach((g, i) => v.setUint16(8 + i * 2, parseInt(g, 16), false));
  v.setUint32(24, scopeId, true);
  return b;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AioError(`bad port ${port}`, "InvalidArgument");
}

/** A decoded socket address. */
export interface ParsedAddress {
  /** `AF_INET`, `AF_INET6` or another family number. */
  family: number;
  /** Dotted or colon form; empty for other families. */
  address: string;
  /** The port. */
  port: number;
}

/**
 * Decodes sockaddr bytes (for example `accept`'s `outAddr`).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * console.log(aio.parseAddress(aio.ipv4("10.0.0.1", 80))); // { family: 2, address: "10.0.0.1", port: 80 }
 * ```
 */
export function parseAddress(bytes: Uint8Array): ParsedAddress {
  if (!(bytes instanceof Uint8Array)) throw new AioError("parseAddress takes a Uint8Array", "InvalidBuffer");
  if (bytes.byteLength < 2) {
    throw new AioError(`a socket address has at least 2 bytes, got ${bytes.byteLength}`, "BufferTooShort");
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = v.getUint16(0, true);
  if (family === AF.INET && bytes.byteLength >= 8) {
    return { family, address: Array.from(bytes.subarray(4, 8)).join("."), port: v.getUint16(2, false) };
  }
  if (family === AF.INET6 && bytes.byteLength >= 24) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(v.getUint16(8 + i * 2, false).toString(16));
    return { family, address: groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::"), port: v.getUint16(2, false) };
  }
  return { family, address: "", port: 0 };
}
