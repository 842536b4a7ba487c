/**
 * Constants for operation fields: `AF`, `SOCK`, `IPPROTO`, `SOL`, `SO`, `MSG`, `O`, with the
 * values of the system the program runs on (Linux, or Windows for the iocp backend). On Windows
 * `SOCK.CLOEXEC` and `SOCK.NONBLOCK` are 0 (sockets are never inherited, and always overlapped),
 * and `SO.REUSEPORT` is SO_REUSEADDR, which lets several sockets bind one port there.
 *
 * @module
 */
import * as linux from "../ffi/linux.ts";
import { WIN_AF, WIN_IPPROTO, WIN_MSG, WIN_SO, WIN_SOCK, WIN_SOL } from "../ffi/windows.ts";

const windows = Deno.build.os === "windows";

/** Address families. */
export const AF: { readonly UNIX: number; readonly INET: number; readonly INET6: number } = windows ? WIN_AF : linux.AF;
/** Socket types and socket(2) flags. */
export const SOCK: Readonly<Record<keyof typeof linux.SOCK, number>> = windows ? WIN_SOCK : linux.SOCK;
/** IP protocols. */
export const IPPROTO: Readonly<Record<keyof typeof linux.IPPROTO, number>> = windows ? WIN_IPPROTO : linux.IPPROTO;
/** setsockopt levels. */
export const SOL: Readonly<Record<keyof typeof linux.SOL, number>> = windows ? WIN_SOL : linux.SOL;
/** Socket options at `SOL.SOCKET`. */
export const SO: Readonly<Record<keyof typeof linux.SO, number>> = windows ? WIN_SO : linux.SO;
/** send/recv flags (0 where the system has no such flag). */
export const MSG: Readonly<Record<keyof typeof linux.MSG, number>> = windows ? WIN_MSG : linux.MSG;
/** open(2) flags (Linux values; informational on Windows, where `openAt` takes `OpenFlags`). */
export const O: typeof linux.O = linux.O;
/** The directory fd meaning the current working directory (`aio.cwd`). */
export const AT_FDCWD: number = linux.AT_FDCWD;
