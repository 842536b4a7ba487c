/**
 * Windows forms of the synchronous helpers in `posix.ts` (and the event source's socket), over
 * kernel32 and ws2_32. An "fd" here is a HANDLE or a SOCKET, as a number.
 *
 * @module
 */
import { INVALID_HANDLE, openKernel32, W32 } from "../ffi/kernel32.ts";
import { INVALID_SOCKET, openWs2, WS } from "../ffi/ws2_32.ts";
import { errnoFromWin32, wide, WIN_AF, WIN_IPPROTO, WIN_SOCK, WIN_SOL } from "../ffi/windows.ts";
import { errnoName } from "../ffi/linux.ts";
import { AioError } from "./errors.ts";
import { addressOf } from "../ffi/memory.ts";
import { iocpForget } from "../backends/iocp.ts";

function fail(call: string, code: number): never {
  const e = errnoName(errnoFromWin32(code));
  throw new AioError(`${call} failed: ${e} (Windows error ${code})`, "Unexpected", { errno: e });
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
  k.CloseHandle(v.getBigUint64(0, true)); // the process: childExit opens it by id
  return v.getUint32(16, true);
}

/**
 * The event source on Windows: a non-blocking UDP socket on 127.0.0.1 connected to itself. A
 * notify sends a 1-byte datagram, a wait receives one: a counting semaphore, and a SOCKET the
 * port can wait on (WSARecv; overlapped calls ignore the non-blocking mode), usable from every
 * Worker of the process. Non-blocking, so that a try never blocks when another thread took the
 * datagram first.
 */
export function eventSocket(): number {
  const s = socket(WIN_SOCK.DGRAM);
  try {
    bind(s, loopback());
    setsockopt(s, WIN_SOL.SOCKET, 0x1002, /* SO_RCVBUF */ 4 << 20);
    wsCheck("connect", openWs2().symbols.connect(BigInt(s), getsockname(s), 16));
    const on = new Uint32Array([1]);
    wsCheck("ioctlsocket", openWs2().symbols.ioctlsocket(BigInt(s), FIONBIO, new Uint8Array(on.buffer)));
  } catch (err) {
    openWs2().symbols.closesocket(BigInt(s));
    throw err;
  }
  return s;
}

const FIONBIO = 0x8004667e | 0;
const WSAEWOULDBLOCK = 10035;
const one = new Uint8Array(1);
const sink = new Uint8Array(1);

// Waits until `s` is readable (or writable), with select.
function ready(s: number, write: boolean): void {
  const set = new BigUint64Array([1n, BigInt(s)]);
  const bytes = new Uint8Array(set.buffer);
  const r = write
    ? openWs2().symbols.select(0, new Uint8Array(16), BigInt(addressOf(bytes)), 0n, 0n)
    : openWs2().symbols.select(0, bytes, 0n, 0n, 0n);
  if (r < 0) fail("select", openWs2().symbols.WSAGetLastError());
}

/** Closes an event socket. */
export function eventClose(s: number): void {
  iocpForget(s);
  openWs2().symbols.closesocket(BigInt(s));
}

/** Sends one notification. */
export function eventNotify(s: number): void {
  const ws = openWs2().symbols;
  for (;;) {
    if (ws.send(BigInt(s), one, 1, 0) === 1) return;
    const e = ws.WSAGetLastError();
    if (e !== WSAEWOULDBLOCK) fail("send", e);
    ready(s, true);
  }
}

/** Takes one notification if there is one. */
export function eventTry(s: number): boolean {
  const ws = openWs2().symbols;
  if (ws.recv(BigInt(s), sink, 1, 0) === 1) return true;
  const e = ws.WSAGetLastError();
  if (e !== WSAEWOULDBLOCK) fail("recv", e);
  return false;
}

/** Takes one notification, blocking until there is one. */
export function eventWait(s: number): void {
  while (!eventTry(s)) ready(s, false);
}
