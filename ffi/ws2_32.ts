/**
 * ws2_32 through `Deno.dlopen`, and the Winsock extension functions (AcceptEx, ConnectEx,
 * WSARecvMsg) that are only reachable through `WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)`.
 *
 * @module
 */

/** The symbols bound from ws2_32. */
export const ws2Symbols = {
  // int WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData);
  WSAStartup: { parameters: ["u16", "buffer"], result: "i32" },
  // int WSAGetLastError(void);
  WSAGetLastError: { parameters: [], result: "i32" },
  // SOCKET WSASocketW(int af, int type, int protocol, LPWSAPROTOCOL_INFOW lpProtocolInfo, GROUP g, DWORD dwFlags);
  WSASocketW: { parameters: ["i32", "i32", "i32", "usize", "u32", "u32"], result: "usize" },
  // int closesocket(SOCKET s);
  closesocket: { parameters: ["usize"], result: "i32" },
  // int bind(SOCKET s, const struct sockaddr *name, int namelen);
  bind: { parameters: ["usize", "buffer", "i32"], result: "i32" },
  // int connect(SOCKET s, const struct sockaddr *name, int namelen);  (blocking; helpers only)
  connect: { parameters: ["usize", "buffer", "i32"], result: "i32" },
  // SOCKET accept(SOCKET s, struct sockaddr *addr, int *addrlen);  (blocking; helpers only)
  accept: { parameters: ["usize", "buffer", "buffer"], result: "usize" },
  // int send(SOCKET s, const char *buf, int len, int flags);
  send: { parameters: ["usize", "buffer", "i32", "i32"], result: "i32" },
  // int recv(SOCKET s, char *buf, int len, int flags);
  recv: { parameters: ["usize", "buffer", "i32", "i32"], result: "i32" },
  // int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds, const timeval *timeout);
  select: { parameters: ["i32", "buffer", "usize", "usize", "usize"], result: "i32" },
  // int ioctlsocket(SOCKET s, long cmd, u_long *argp);
  ioctlsocket: { parameters: ["usize", "i32", "buffer"], result: "i32" },
  // int listen(SOCKET s, int backlog);
  listen: { parameters: ["usize", "i32"], result: "i32" },
  // int shutdown(SOCKET s, int how);
  shutdown: { parameters: ["usize", "i32"], result: "i32" },
  // int getsockname(SOCKET s, struct sockaddr *name, int *namelen);
  getsockname: { parameters: ["usize", "buffer", "buffer"], result: "i32" },
  // int getpeername(SOCKET s, struct sockaddr *name, int *namelen);
  getpeername: { parameters: ["usize", "buffer", "buffer"], result: "i32" },
  // int setsockopt(SOCKET s, int level, int optname, const char *optval, int optlen);
  setsockopt: { parameters: ["usize", "i32", "i32", "buffer", "i32"], result: "i32" },
  // int getsockopt(SOCKET s, int level, int optname, char *optval, int *optlen);
  getsockopt: { parameters: ["usize", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // int WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer, DWORD cbInBuffer, LPVOID lpvOutBuffer,
  //              DWORD cbOutBuffer, LPDWORD lpcbBytesReturned, LPWSAOVERLAPPED lpOverlapped,
  //              LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
  WSAIoctl: {
    parameters: ["usize", "u32", "buffer", "u32", "buffer", "u32", "buffer", "usize", "usize"],
    result: "i32",
  },
  // int WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags,
  //             LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
  WSARecv: { parameters: ["usize", "usize", "u32", "usize", "usize", "usize", "usize"], result: "i32" },
  // int WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesSent, DWORD dwFlags,
  //             LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
  WSASend: { parameters: ["usize", "usize", "u32", "usize", "u32", "usize", "usize"], result: "i32" },
  // int WSASendMsg(SOCKET Handle, LPWSAMSG lpMsg, DWORD dwFlags, LPDWORD lpNumberOfBytesSent,
  //                LPWSAOVERLAPPED lpOverlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
  WSASendMsg: { parameters: ["usize", "usize", "u32", "usize", "usize", "usize"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

import { loadLibrary } from "./loader.ts";

/** The loaded ws2_32, with WSAStartup done. */
export type Ws2 = Deno.DynamicLibrary<typeof ws2Symbols>;

// BOOL AcceptEx(SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer, DWORD dwReceiveDataLength,
//               DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength, LPDWORD lpdwBytesReceived,
//               LPOVERLAPPED lpOverlapped);
const acceptExDef = {
  parameters: ["usize", "usize", "usize", "u32", "u32", "u32", "usize", "usize"],
  result: "i32",
} as const;
// BOOL ConnectEx(SOCKET s, const struct sockaddr *name, int namelen, PVOID lpSendBuffer, DWORD dwSendDataLength,
//                LPDWORD lpdwBytesSent, LPOVERLAPPED lpOverlapped);
const connectExDef = {
  parameters: ["usize", "usize", "i32", "usize", "u32", "usize", "usize"],
  result: "i32",
} as const;
// INT WSARecvMsg(SOCKET s, LPWSAMSG lpMsg, LPDWORD lpdwNumberOfBytesRecvd, LPWSAOVERLAPPED lpOverlapped,
//                LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
const recvMsgDef = { parameters: ["usize", "usize", "usize", "usize", "usize"], result: "i32" } as const;

/** The extension functions, called through their pointers. */
export interface Ws2Extensions {
  /** AcceptEx. */
  AcceptEx: Deno.UnsafeFnPointer<typeof acceptExDef>;
  /** ConnectEx. */
  ConnectEx: Deno.UnsafeFnPointer<typeof connectExDef>;
  /** WSARecvMsg. */
  WSARecvMsg: Deno.UnsafeFnPointer<typeof recvMsgDef>;
}

let ws2: Ws2 | undefined;
let extensions: Ws2Extensions | undefined;

/**
 * ws2_32, opened and started (WSAStartup 2.2) once per isolate (Windows only).
 *
 * @example
 * ```ts
 * import { openWs2 } from "./ws2_32.ts";
 * if (Deno.build.os === "windows") console.log(openWs2().symbols.WSAGetLastError());
 * ```
 */
export function openWs2(): Ws2 {
  if (ws2 === undefined) {
    const lib = loadLibrary("ws2_32", ["ws2_32.dll"], ws2Symbols, "");
    const r = lib.symbols.WSAStartup(0x0202, new Uint8Array(512));
    if (r !== 0) throw new Error(`WSAStartup failed: ${r}`);
    ws2 = lib;
  }
  return ws2;
}

function guid(s: string): Uint8Array {
  // {aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}: the first three groups little-endian, the rest as bytes.
  const h = s.replace(/[{}-]/g, "");
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint32(0, parseInt(h.slice(0, 8), 16), true);
  v.setUint16(4, parseInt(h.slice(8, 12), 16), true);
  v.setUint16(6, parseInt(h.slice(12, 16), 16), true);
  for (let i = 0; i < 8; i++) out[8 + i] = parseInt(h.slice(16 + 2 * i, 18 + 2 * i), 16);
  return out;
}

const SIO_GET_EXTENSION_FUNCTION_POINTER = 0xc8000006;

/**
 * Looks up AcceptEx, ConnectEx and WSARecvMsg once per isolate, through `socket` (any TCP
 * socket of the provider; the pointers are the same for every socket of it).
 *
 * @example
 * ```ts
 * import { winsockExtensions } from "./ws2_32.ts";
 * console.log(typeof winsockExtensions);
 * ```
 */
export function winsockExtensions(socket: number): Ws2Extensions {
  if (extensions !== undefined) return extensions;
  const lib = openWs2().symbols;
  const lookup = <T>(id: string): Deno.PointerObject<T> => {
    const out = new BigUint64Array(1);
    const bytes = new Uint32Array(1);
    const r = lib.WSAIoctl(
      BigInt(socket),
      SIO_GET_EXTENSION_FUNCTION_POINTER,
      guid(id),
      16,
      new Uint8Array(out.buffer),
      8,
      new Uint8Array(bytes.buffer),
      0n,
      0n,
    );
    const p = Deno.UnsafePointer.create(out[0]);
    if (r !== 0 || p === null) throw new Error(`WSAIoctl(${id}) failed: ${lib.WSAGetLastError()}`);
    return p as Deno.PointerObject<T>;
  };
  extensions = {
    AcceptEx: new Deno.UnsafeFnPointer(lookup("{b5367df1-cbac-11cf-95ca-00805f48a192}"), acceptExDef),
    ConnectEx: new Deno.UnsafeFnPointer(lookup("{25a207b9-ddf3-4660-8ee9-76e58c74063e}"), connectExDef),
    WSARecvMsg: new Deno.UnsafeFnPointer(lookup("{f689d7c8-6f1f-436b-8a53-e54fe351c322}"), recvMsgDef),
  };
  return extensions;
}

/** `INVALID_SOCKET` as the bigint a `usize` result gives. */
export const INVALID_SOCKET: bigint = 0xffff_ffff_ffff_ffffn;
/** Socket flags and options used by the backend. */
export const WS = {
  WSA_FLAG_OVERLAPPED: 0x01,
  WSA_FLAG_NO_HANDLE_INHERIT: 0x80,
  SO_UPDATE_ACCEPT_CONTEXT: 0x700b,
  SO_UPDATE_CONNECT_CONTEXT: 0x7010,
  SO_PROTOCOL_INFOW: 0x2005,
  SO_TYPE: 0x1008,
  SOL_SOCKET: 0xffff,
  SOCKET_ERROR: -1,
} as const;
