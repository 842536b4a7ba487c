/**
 * Synchronous helpers for what zig code does with `std.posix` next to aio: socket options,
 * pipes, socket pairs, addresses and spawning a child whose pid `childExit` can wait for.
 *
 * @module
 */
import { errno, openLibc } from "../ffi/libc.ts";
import { addressOf, cString, isDetached, stableBytes } from "../ffi/memory.ts";
import { AF, errnoName, O } from "../ffi/linux.ts";
import { SOCK } from "./constants.ts";
import { AioError } from "./errors.ts";
import { helperErrorCode, isFdNumber, showValue as show } from "./arguments.ts";
import type { Fd } from "./ops.ts";
import * as win from "./posix_windows.ts";

const WINDOWS = Deno.build.os === "windows";

function fail(call: string, e = errnoName(errno())): never {
  throw new AioError(`${call} failed: ${e}`, helperErrorCode(e), { errno: e });
}

// Before the FFI call: a number it cannot convert would be a TypeError, and a negative fd the
// kernel's EBADF, which says less.
function checkFd(call: string, fd: unknown): void {
  if (!isFdNumber(fd)) {
    throw new AioError(`${call}: fd must be a non-negative integer fd, got ${show(fd)}`, "InvalidFd");
  }
}

function checkInt(call: string, name: string, value: unknown, min = -0x8000_0000): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > 0x7fff_ffff) {
    throw new AioError(
      `${call}: ${name} must be an integer in [${min}, 2^31 - 1], got ${show(value)}`,
      "InvalidArgument",
    );
  }
}

function checkAddr(call: string, addr: unknown): void {
  if (!(addr instanceof Uint8Array)) {
    throw new AioError(`${call}: addr must be a Uint8Array (see aio.ipv4), got ${show(addr)}`, "InvalidBuffer");
  }
  if (isDetached(addr)) throw new AioError(`${call}: addr's ArrayBuffer is detached`, "DetachedBuffer");
  if (addr.byteLength < 2) throw new AioError(`${call}: addr has ${addr.byteLength} bytes, needs 2`, "BufferTooShort");
}

/**
 * Closes an fd (synchronously).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const [r, w] = aio.posix.pipe();
 * aio.posix.close(r); aio.posix.close(w);
 * ```
 */
export function close(fd: Fd): void {
  checkFd("close", fd);
  if (WINDOWS) return win.close(fd);
  if (openLibc().symbols.close(fd) < 0) fail("close");
}

/**
 * pipe2(2) with O_CLOEXEC: `[readEnd, writeEnd]`.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const [r, w] = aio.posix.pipe();
 * aio.posix.close(r); aio.posix.close(w);
 * ```
 */
export function pipe(options: { nonblocking?: boolean } = {}): [Fd, Fd] {
  if (typeof options !== "object" || options === null) {
    throw new AioError(`pipe: options must be an object, got ${show(options)}`, "InvalidArgument");
  }
  if (WINDOWS) return win.pipe();
  const fds = new Int32Array(2);
  if (openLibc().symbols.pipe2(fds, O.CLOEXEC | (options.nonblocking ? O.NONBLOCK : 0)) < 0) fail("pipe2");
  return [fds[0], fds[1]];
}

/**
 * socketpair(2) with SOCK_CLOEXEC (default: AF_UNIX, SOCK_STREAM).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const [a, b] = aio.posix.socketpair();
 * aio.posix.close(a); aio.posix.close(b);
 * ```
 */
export function socketpair(type: number = SOCK.STREAM): [Fd, Fd] {
  checkInt("socketpair", "type", type, 0);
  if (WINDOWS) return win.socketpair(type);
  const fds = new Int32Array(2);
  if (openLibc().symbols.socketpair(AF.UNIX, type | SOCK.CLOEXEC, 0, fds) < 0) fail("socketpair");
  return [fds[0], fds[1]];
}

/**
 * setsockopt(2) with an int value.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const { SOL, SO } = aio.constants;
 * const [a, b] = aio.posix.socketpair();
 * aio.posix.setsockopt(a, SOL.SOCKET, SO.SNDBUF, 65536);
 * aio.posix.close(a); aio.posix.close(b);
 * ```
 */
export function setsockopt(fd: Fd, level: number, name: number, value: number): void {
  checkFd("setsockopt", fd);
  checkInt("setsockopt", "level", level);
  checkInt("setsockopt", "name", name);
  checkInt("setsockopt", "value", value);
  if (WINDOWS) return win.setsockopt(fd, level, name, value);
  const v = new Int32Array([value]);
  if (openLibc().symbols.setsockopt(fd, level, name, v, 4) < 0) fail("setsockopt");
}

/**
 * getsockopt(2) of an int value.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const { SOL, SO } = aio.constants;
 * const [a, b] = aio.posix.socketpair();
 * console.log(aio.posix.getsockopt(a, SOL.SOCKET, SO.ERROR)); // 0
 * aio.posix.close(a); aio.posix.close(b);
 * ```
 */
export function getsockopt(fd: Fd, level: number, name: number): number {
  checkFd("getsockopt", fd);
  checkInt("getsockopt", "level", level);
  checkInt("getsockopt", "name", name);
  if (WINDOWS) return win.getsockopt(fd, level, name);
  const v = new Int32Array(1);
  const len = new Uint32Array([4]);
  if (openLibc().symbols.getsockopt(fd, level, name, v, len) < 0) fail("getsockopt");
  return v[0];
}

/**
 * bind(2), synchronously (the `bind` operation needs Linux 6.11).
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const { AF, SOCK } = aio.constants;
 * const s = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: 0 });
 * aio.singleSync(s);
 * aio.posix.bind(s.outSocket, aio.ipv4("127.0.0.1", 0));
 * aio.posix.close(s.outSocket);
 * ```
 */
export function bind(fd: Fd, addr: Uint8Array): void {
  checkFd("bind", fd);
  checkAddr("bind", addr);
  if (WINDOWS) return win.bind(fd, addr);
  if (openLibc().symbols.bind(fd, addr, addr.byteLength) < 0) fail("bind");
}

/**
 * listen(2), synchronously.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const { AF, SOCK } = aio.constants;
 * const s = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: 0 });
 * aio.singleSync(s);
 * aio.posix.bind(s.outSocket, aio.ipv4("127.0.0.1", 0));
 * aio.posix.listen(s.outSocket, 16);
 * aio.posix.close(s.outSocket);
 * ```
 */
export function listen(fd: Fd, backlog = 128): void {
  checkFd("listen", fd);
  checkInt("listen", "backlog", backlog, 0);
  if (WINDOWS) return win.listen(fd, backlog);
  if (openLibc().symbols.listen(fd, backlog) < 0) fail("listen");
}

/**
 * getsockname(2): the socket's own address, as sockaddr bytes.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const { AF, SOCK } = aio.constants;
 * const s = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: 0 });
 * aio.singleSync(s);
 * aio.posix.bind(s.outSocket, aio.ipv4("127.0.0.1", 0));
 * console.log(aio.parseAddress(aio.posix.getsockname(s.outSocket)).port > 0);
 * aio.posix.close(s.outSocket);
 * ```
 */
export function getsockname(fd: Fd): Uint8Array {
  checkFd("getsockname", fd);
  if (WINDOWS) return win.getsockname(fd);
  const addr = new Uint8Array(128);
  const len = new Uint32Array([128]);
  if (openLibc().symbols.getsockname(fd, addr, len) < 0) fail("getsockname");
  return addr.slice(0, len[0]);
}

/**
 * Starts a program with posix_spawnp(3) and returns its pid, for `aio.childExit`. Deno's own
 * `Deno.Command` reaps its children itself, so waiting on those with `childExit` would race it.
 *
 * @example
 * ```ts
 * import { aio } from "../mod.ts";
 * const pid = aio.posix.spawn(["sh", "-c", "exit 3"]);
 * const exit = aio.childExit({ child: pid });
 * await aio.single(exit);
 * console.log(exit.outTerm); // { kind: "exited", code: 3 }
 * ```
 */
export function spawn(argv: readonly string[]): number {
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== "string")) {
    throw new AioError(`spawn: argv must be an array of strings, got ${show(argv)}`, "InvalidArgument");
  }
  if (argv.length === 0) throw new AioError("spawn needs a program", "InvalidArgument");
  argv.forEach((a, i) => {
    if (a.includes("\0")) throw new AioError(`argument ${i} contains NUL`, "PathContainsNul");
  });
  if (WINDOWS) return win.spawn(argv);
  const keep: Uint8Array[] = [];
  const pointers = (strings: readonly string[]): BigUint64Array => {
    const table = new BigUint64Array(new ArrayBuffer((strings.length + 1) * 8));
    strings.forEach((s, i) => {
      const c = cString(s);
      if (!c) throw new AioError(`argument ${i} contains NUL`, "PathContainsNul");
      keep.push(c);
      table[i] = BigInt(addressOf(c));
    });
    return table;
  };
  let env: string[] = [];
  try {
    env = Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`);
  } catch {
    // Without --allow-env the child starts with an empty environment.
  }
  const argvTable = pointers(argv);
  const envTable = pointers(env);
  const pid = new Int32Array(stableBytes(4).buffer);
  const file = cString(argv[0])!;
  const r = openLibc().symbols.posix_spawnp(
    pid,
    file,
    null,
    null,
    argvTable,
    Deno.UnsafePointer.of(envTable),
  );
  // The strings the tables point at are only held here: keep them until the call has returned.
  if (keep.length < 0) throw new Error("unreachable");
  if (r !== 0) fail("posix_spawnp", errnoName(r));
  return pid[0];
}
