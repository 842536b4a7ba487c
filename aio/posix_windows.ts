/**
 * Windows forms of the synchronous helpers in `posix.ts` (and the event source's socket), over
 * kernel32 and ws2_32. An "fd" here is a HANDLE or a SOCKET, as a number.
 *
 * @module
 */
import { INVALID_HANDLE, openKernel32, W32 } from "../ffi/kernel32.ts";
import { INVALID_SOCKET, openWs2, WS } from "../ffi/ws2_32.ts";
import { errnoFromWin32, wide, WIN_AF, WIN_ERROR, WIN_IPPROTO, WIN_SOCK } from "../ffi/windows.ts";
import { ERRNO, errnoName } from "../ffi/linux.ts";
import { AioError } from "./errors.ts";
import { helperErrorCode } from "./arguments.ts";
import { addressOf } from "../ffi/memory.ts";
import { iocpForget } from "../backends/iocp.ts";

// A string passed by address (a number) is reachable from nothing while the call runs; using it
// after the call keeps it (and its memory) alive until then.
const kept: unknown[] = [];
function keepUntilHere(value: unknown): void {
  kept.push(value);
  kept.pop();
}

function fail(call: string, code: number): never {
  const e = errnoName(errnoFromWin32(code));
  throw new AioError(`${call} failed: ${e} (Windows error ${code})`, helperErrorCode(e), { errno: e });
}

function wsCheck(call: string, r: number): void {
  if (r !== 0) fail(call, openWs2().symbols.WSAGetLastError());
}

/** Whether `fd` is a socket (SO_TYPE answers). */
export function isSocket(fd: number): boolean {
  const v = new Int32Array(1);
  const len = new Int32Array([4]);
  return openWs2().symbols.getsockopt(
    BigInt(fd),
    WS.SOL_SOCKET,
    WS.SO_TYPE,
    new Uint8Array(v.buffer),
    new Uint8Array(len.buffer),
  ) === 0;
}

/** Closes a handle or a socket. */
export function close(fd: number): void {
  iocpForget(fd);
  if (isSocket(fd)) wsCheck("closesocket", openWs2().symbols.closesocket(BigInt(fd)));
  else if (!openKernel32().symbols.CloseHandle(BigInt(fd))) fail("CloseHandle", openKernel32().symbols.GetLastError());
}

let pipes = 0;

/**
 * A pipe whose both ends are opened overlapped (a named pipe with a unique name, as libuv makes
 * them), so the iocp backend can read and write them through the port.
 */
export function pipe(): [number, number] {
  const k = openKernel32().symbols;
  const name = wide(
    `\\\\.\\pipe\\aio-${k.GetCurrentProcessId()}-${pipes++}-${Math.random().toString(36).slice(2)}`,
  )!;
  const r = k.CreateNamedPipeW(
    name,
    W32.PIPE_ACCESS_INBOUND | W32.FILE_FLAG_OVERLAPPED | W32.FILE_FLAG_FIRST_PIPE_INSTANCE,
    W32.PIPE_TYPE_BYTE | W32.PIPE_REJECT_REMOTE_CLIENTS,
    1,
    65536,
    65536,
    0,
    0n,
  );
  if (r === INVALID_HANDLE) fail("CreateNamedPipeW", k.GetLastError());
  const w = k.CreateFileW(
    BigInt(addressOf(name)),
    W32.GENERIC_WRITE,
    0,
    0n,
    W32.OPEN_EXISTING,
    W32.FILE_FLAG_OVERLAPPED,
    0n,
  );
  keepUntilHere(name);
  if (w === INVALID_HANDLE) {
    const e = k.GetLastError();
    k.CloseHandle(r);
    fail("CreateFileW", e);
  }
  return [Number(r), Number(w)];
}

function socket(type: number): number {
  const ws = openWs2().symbols;
  const s = ws.WSASocketW(
    WIN_AF.INET,
    type,
    type === WIN_SOCK.STREAM ? WIN_IPPROTO.TCP : WIN_IPPROTO.UDP,
    0n,
    0,
    WS.WSA_FLAG_OVERLAPPED | WS.WSA_FLAG_NO_HANDLE_INHERIT,
  );
  if (s === INVALID_SOCKET) fail("WSASocketW", ws.WSAGetLastError());
  return Number(s);
}

function loopback(): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = WIN_AF.INET;
  a.set([127, 0, 0, 1], 4);
  return a;
}

/**
 * A connected pair of loopback sockets (Windows has no socketpair): TCP for SOCK.STREAM, UDP
 * connected to each other for SOCK.DGRAM.
 */
export function socketpair(type: number): [number, number] {
  const ws = openWs2().symbols;
  if (type === WIN_SOCK.DGRAM) {
    const a = socket(type);
    const b = socket(type);
    bind(a, loopback());
    bind(b, loopback());
    wsCheck("connect", ws.connect(BigInt(a), getsockname(b), 16));
    wsCheck("connect", ws.connect(BigInt(b), getsockname(a), 16));
    return [a, b];
  }
  const l = socket(WIN_SOCK.STREAM);
  try {
    bind(l, loopback());
    listen(l, 1);
    const c = socket(WIN_SOCK.STREAM);
    wsCheck("connect", ws.connect(BigInt(c), getsockname(l), 16));
    const s = ws.accept(BigInt(l), null, null);
    if (s === INVALID_SOCKET) fail("accept", ws.WSAGetLastError());
    return [Number(s), c];
  } finally {
    ws.closesocket(BigInt(l));
  }
}

/** setsockopt with an int value. */
export function setsockopt(fd: number, level: number, name: number, value: number): void {
  const v = new Int32Array([value]);
  wsCheck("setsockopt", openWs2().symbols.setsockopt(BigInt(fd), level, name, new Uint8Array(v.buffer), 4));
}

/** getsockopt of an int value. */
export function getsockopt(fd: number, level: number, name: number): number {
  const v = new Int32Array(1);
  const len = new Int32Array([4]);
  wsCheck(
    "getsockopt",
    openWs2().symbols.getsockopt(BigInt(fd), level, name, new Uint8Array(v.buffer), new Uint8Array(len.buffer)),
  );
  return v[0];
}

/** bind. */
export function bind(fd: number, addr: Uint8Array): void {
  wsCheck("bind", openWs2().symbols.bind(BigInt(fd), addr, addr.byteLength));
}

/** listen. */
export function listen(fd: number, backlog: number): void {
  wsCheck("listen", openWs2().symbols.listen(BigInt(fd), backlog));
}

/** getsockname. */
export function getsockname(fd: number): Uint8Array {
  const addr = new Uint8Array(128);
  const len = new Int32Array([128]);
  wsCheck("getsockname", openWs2().symbols.getsockname(BigInt(fd), addr, new Uint8Array(len.buffer)));
  return addr.slice(0, len[0]);
}

// A command line as CommandLineToArgvW parses it back.
function quote(arg: string): string {
  if (arg !== "" && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === "\\") {
      slashes++;
      continue;
    }
    out += "\\".repeat(ch === '"' ? slashes * 2 + 1 : slashes) + ch;
    slashes = 0;
  }
  return out + "\\".repeat(slashes * 2) + '"';
}

/** Starts a program with CreateProcessW; returns its process id. */
export function spawn(argv: readonly string[]): number {
  const k = openKernel32().symbols;
  const line = wide(argv.map(quote).join(" "));
  if (line === undefined) throw new AioError("an argument contains NUL", "PathContainsNul");
  const startup = new Uint8Array(104);
  new DataView(startup.buffer).setUint32(0, 104, true);
  const info = new Uint8Array(24);
  if (!k.CreateProcessW(0n, line, 0n, 0n, 0, W32.CREATE_NO_WINDOW, 0n, 0n, startup, info)) {
    fail("CreateProcessW", k.GetLastError());
  }
  const v = new DataView(info.buffer);
  k.CloseHandle(v.getBigUint64(8, true)); // the thread
  const pid = v.getUint32(16, true);
  // The process handle is kept until a childExit reaps it: it keeps the exit code, and keeps the
  // id from naming another process meanwhile.
  children.set(pid, v.getBigUint64(0, true));
  return pid;
}

// This isolate's children, by id: their process handles.
const children = new Map<number, bigint>();

/** The process handle of a child `spawn` started in this isolate, if it is not reaped yet. */
export function childHandle(pid: number): bigint | undefined {
  return children.get(pid);
}

/** A childExit saw the child exit: its handle goes. */
export function childReaped(pid: number): void {
  const h = children.get(pid);
  if (h === undefined) return;
  openKernel32().symbols.CloseHandle(h);
  children.delete(pid);
}

/**
 * A duplicate of `handle` in this process (sharing its file object, so its position), or -errno.
 * An operation that uses a handle after its start holds one, so that a close queued after it
 * cannot make it use a closed or reused number.
 */
export function duplicateHandle(handle: number | bigint): bigint | number {
  const k = openKernel32().symbols;
  const out = new BigUint64Array(1);
  const self = 0xffff_ffff_ffff_ffffn; // GetCurrentProcess()
  if (!k.DuplicateHandle(self, BigInt(handle), self, new Uint8Array(out.buffer), 0, 0, 2 /* SAME_ACCESS */)) {
    return -errnoFromWin32(k.GetLastError());
  }
  return out[0];
}

/**
 * The event source on Windows: its count is a kernel semaphore, named after the process and the
 * socket so that every Worker of the process finds it from the one number an EventSource is
 * known by; its wake-up is a non-blocking UDP socket on 127.0.0.1 connected to itself, which the
 * port can wait on (WSARecv). A notify releases the semaphore, then sends a 1-byte datagram; a
 * wait takes the semaphore, and the iocp backend waits for a datagram only while the count is
 * zero. Datagrams are hints: one dropped because the socket's buffer is full loses nothing, since
 * the count is the semaphore's (and a full buffer means wake-ups are pending anyway). Every
 * EventSource object, owner or view, holds its own handle to the semaphore.
 */
export function eventSocket(): { socket: number; semaphore: bigint } {
  const k = openKernel32().symbols;
  // A socket whose number an earlier source's name still holds (a view somewhere keeps it) is
  // kept open until a fresh number is found, so that the next try cannot get it back.
  const rejected: number[] = [];
  try {
    for (let attempt = 0; attempt < 64; attempt++) {
      const s = socket(WIN_SOCK.DGRAM);
      let sem = 0n;
      try {
        bind(s, loopback());
        wsCheck("connect", openWs2().symbols.connect(BigInt(s), getsockname(s), 16));
        const on = new Uint32Array([1]);
        wsCheck("ioctlsocket", openWs2().symbols.ioctlsocket(BigInt(s), FIONBIO, new Uint8Array(on.buffer)));
        const name = semaphoreName(s);
        sem = k.CreateSemaphoreW(0n, 0, 0x7fffffff, BigInt(addressOf(name)));
        keepUntilHere(name);
        if (sem === 0n) fail("CreateSemaphoreW", k.GetLastError());
      } catch (err) {
        openWs2().symbols.closesocket(BigInt(s));
        throw err;
      }
      if (k.GetLastError() !== W32.ERROR_ALREADY_EXISTS) return { socket: s, semaphore: sem };
      k.CloseHandle(sem);
      rejected.push(s);
    }
    throw new AioError("no fresh event source name after 64 sockets", "SystemResources");
  } finally {
    for (const s of rejected) openWs2().symbols.closesocket(BigInt(s));
  }
}

function semaphoreName(s: number): Uint8Array {
  return wide(`Local\\aio-event-${openKernel32().symbols.GetCurrentProcessId()}-${s}`)!;
}

/** A handle of its own to the semaphore of the source whose socket is `s`; -errno if there is none. */
export function eventOpen(s: number): bigint | number {
  const name = semaphoreName(s);
  const sem = openKernel32().symbols.OpenSemaphoreW(W32.SEMAPHORE_ALL_ACCESS, 0, BigInt(addressOf(name)));
  keepUntilHere(name);
  return sem === 0n ? -ERRNO.EBADF : sem;
}

const FIONBIO = 0x8004667e | 0;
const one = new Uint8Array(1);
const sink = new Uint8Array(1);

/** Releases one count and sends the wake-up: 0, or -errno (EBADF: the source is closed). */
export function eventNotify(s: number, sem: bigint): number {
  const k = openKernel32().symbols;
  if (!k.ReleaseSemaphore(sem, 1, 0n)) return -errnoFromWin32(k.GetLastError());
  // A full buffer (WSAEWOULDBLOCK) drops the hint, not the count.
  openWs2().symbols.send(BigInt(s), one, 1, 0);
  return 0;
}

// Takes one wake-up datagram if there is one, so that they do not pile up.
function dropHint(s: number): void {
  openWs2().symbols.recv(BigInt(s), sink, 1, 0);
}

/** Takes one count if there is one: 1 taken, 0 none, or -errno. */
export function eventTry(s: number, sem: bigint): number {
  const k = openKernel32().symbols;
  const r = k.WaitForSingleObject(sem, 0);
  if (r === W32.WAIT_OBJECT_0) {
    dropHint(s);
    return 1;
  }
  return r === WIN_ERROR.WAIT_TIMEOUT ? 0 : -errnoFromWin32(k.GetLastError());
}

/** Takes one count, blocking until there is one: 0, or -errno. */
export function eventWait(s: number, sem: bigint): number {
  const k = openKernel32().symbols;
  if (k.WaitForSingleObject(sem, W32.INFINITE) !== W32.WAIT_OBJECT_0) return -errnoFromWin32(k.GetLastError());
  dropHint(s);
  return 0;
}

/** Closes a source object's semaphore handle; the socket too when it owns it. */
export function eventClose(s: number, sem: bigint, owned: boolean): void {
  openKernel32().symbols.CloseHandle(sem);
  if (owned) {
    iocpForget(s);
    openWs2().symbols.closesocket(BigInt(s));
  }
}
