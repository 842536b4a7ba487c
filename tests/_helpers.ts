// Shared test helpers. Every test goes through the real kernel: temp files, loopback sockets,
// pipes and child processes; nothing is mocked.
import assert from "node:assert/strict";
import { aio } from "../mod.ts";
import { openLibc } from "../ffi/libc.ts";

export { aio, assert };

/** Runs `fn` with a fresh temp directory, opened as a dir fd, and removes it afterwards. */
export async function withTempDir(fn: (path: string, dirFd: number) => Promise<void> | void): Promise<void> {
  const path = await Deno.makeTempDir({ prefix: "aio_test_" });
  const open = aio.openAt({ dir: aio.cwd, path, flags: { directory: true } });
  await aio.single(open);
  try {
    await fn(path, open.outFile);
  } finally {
    aio.posix.close(open.outFile);
    await Deno.remove(path, { recursive: true });
  }
}

/** A TCP socket through the `socket` operation. */
export async function tcpSocket(): Promise<number> {
  const { AF, SOCK, IPPROTO } = aio.constants;
  const s = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
  await aio.single(s);
  return s.outSocket;
}

/** A listening TCP socket on 127.0.0.1 with a kernel-chosen port. */
export async function tcpListener(): Promise<{ fd: number; addr: Uint8Array }> {
  const fd = await tcpSocket();
  aio.posix.setsockopt(fd, aio.constants.SOL.SOCKET, aio.constants.SO.REUSEADDR, 1);
  aio.posix.bind(fd, aio.ipv4("127.0.0.1", 0));
  aio.posix.listen(fd, 128);
  return { fd, addr: aio.posix.getsockname(fd) };
}

/** A connected TCP pair over loopback: [server side, client side], plus the listener. */
export async function tcpPair(): Promise<{ server: number; client: number; listener: number }> {
  const { fd: listener, addr } = await tcpListener();
  const client = await tcpSocket();
  const accept = aio.accept({ socket: listener });
  await aio.multi([accept, aio.connect({ socket: client, addr })]);
  return { server: accept.outSocket, client, listener };
}

/** Closes fds, ignoring ones already closed. */
export function closeAll(...fds: number[]): void {
  for (const fd of fds) {
    try {
      aio.posix.close(fd);
    } catch {
      // already closed by the test itself
    }
  }
}

/**
 * A closed fd (a handle on Windows) that nobody else is likely to take before the test uses it. A
 * closed number is the next one anybody opens: Linux and Wine hand out the lowest free number,
 * Windows the one freed last, and other threads (Deno's, Wine's) open files too; an operation on a
 * number taken meanwhile would act on somebody else's file. So it is the highest of 16, and the 15
 * below it are closed after it: they are taken first either way.
 */
export function closedFd(): number {
  const fds = Array.from({ length: 8 }, () => aio.posix.pipe()).flat().sort((a, b) => a - b);
  const fd = fds.pop()!;
  closeAll(fd, ...fds);
  return fd;
}

export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** Milliseconds since `t0`. */
export function since(t0: number): number {
  return performance.now() - t0;
}

/** Whether the tests run on Windows (the iocp backend). */
export const WINDOWS = Deno.build.os === "windows";

/** Whether this Windows is Wine (ntdll exports wine_get_version): a few Windows calls are stubs there. */
export const WINE: boolean = WINDOWS && (() => {
  try {
    Deno.dlopen("ntdll.dll", { wine_get_version: { parameters: [], result: "pointer" } }).close();
    return true;
  } catch {
    return false;
  }
})();

/**
 * How many fds below 4096 are open, asked of the kernel with fcntl(F_GETFD); on Windows, the
 * process's handle count (GetProcessHandleCount), and under Wine, whose GetProcessHandleCount
 * answers 0, the handles below 65536 that GetHandleInformation accepts.
 */
export function openFds(): number {
  if (WINDOWS) {
    const k = Deno.dlopen("kernel32.dll", {
      GetCurrentProcess: { parameters: [], result: "usize" },
      GetProcessHandleCount: { parameters: ["usize", "buffer"], result: "i32" },
      GetHandleInformation: { parameters: ["usize", "buffer"], result: "i32" },
    });
    const n = new Uint32Array(1);
    try {
      if (!WINE) {
        k.symbols.GetProcessHandleCount(k.symbols.GetCurrentProcess(), new Uint8Array(n.buffer));
        return n[0];
      }
      let count = 0;
      const flags = new Uint8Array(n.buffer);
      for (let h = 4; h < 65536; h += 4) if (k.symbols.GetHandleInformation(BigInt(h), flags) !== 0) count++;
      return count;
    } finally {
      k.close();
    }
  }
  const fcntl = openLibc().symbols.fcntl;
  let n = 0;
  for (let fd = 0; fd < 4096; fd++) if (fcntl(fd, 1, /* F_GETFD */ 0) >= 0) n++;
  return n;
}

/** Whether `command` starts and succeeds (false when it is missing: Windows throws at once). */
export async function runs(command: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

/**
 * V8's `gc()`, which `tests/run.ts` exposes (`--v8-flags=--expose-gc`). Throws, saying so, when it
 * is missing: a GC test that collects nothing would pass without testing anything.
 */
export function requireGc(): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") {
    throw new Error("gc() is not exposed: run with --v8-flags=--expose-gc (tests/run.ts passes it)");
  }
  return gc;
}
