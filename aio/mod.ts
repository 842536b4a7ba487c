/**
 * `aio`: io_uring-like asynchronous I/O (zig-aio's `aio` module).
 *
 * Describe operations, submit them as one batch (optionally linked), collect their results:
 *
 * ```ts
 * import { aio } from "@aio/aio";
 * const open = aio.openAt({ dir: aio.cwd, path: "deno.json" });
 * await aio.single(open);
 * const buf = new Uint8Array(4096);
 * const read = aio.read({ file: open.outFile, buffer: buf, offset: 0, link: "soft" });
 * await aio.complete([read, aio.closeFile({ file: open.outFile })]);
 * console.log(read.outRead, read.outError);
 * ```
 *
 * @module
 */
// The operation model, without the queue's internals (claiming, in-flight marks, kind codes).
export {
  accept,
  bind,
  cancel,
  childExit,
  closeDir,
  closeEventSource,
  closeFile,
  closeSocket,
  connect,
  cwd,
  fsync,
  linkTimeout,
  listen,
  messageHeader,
  mkdirAt,
  nop,
  notifyEventSource,
  OFFSET_CURRENT_POS,
  openAt,
  OPERATION_KINDS,
  poll,
  read,
  readTty,
  readv,
  recv,
  recvMsg,
  renameAt,
  send,
  sendMsg,
  shutdown,
  socket,
  splice,
  symlinkAt,
  timeout,
  unlinkAt,
  validate,
  waitEventSource,
  write,
  writev,
} from "./ops.ts";
export type {
  Accept,
  Bind,
  Cancel,
  ChildExit,
  CloseDir,
  CloseEventSource,
  CloseFile,
  CloseSocket,
  CommonOptions,
  Connect,
  Fd,
  Fsync,
  Id,
  Link,
  LinkTimeout,
  Listen,
  MessageHeader,
  MkDirAt,
  Nop,
  NotifyEventSource,
  OpenAt,
  OpenFlags,
  Operation,
  OperationBase,
  OperationKind,
  Path,
  Poll,
  PollEvents,
  Read,
  ReadTty,
  Readv,
  Recv,
  RecvFlags,
  RecvMsg,
  RenameAt,
  Send,
  SendFlags,
  SendMsg,
  Shutdown,
  Socket,
  Splice,
  SpliceFd,
  SpliceFlags,
  SymlinkAt,
  Term,
  Timeout,
  UnlinkAt,
  WaitEventSource,
  Write,
  Writev,
} from "./ops.ts";
export * from "./errors.ts";
export * from "./dynamic.ts";
export * from "./immediate.ts";
export * from "./address.ts";
export { EventSource } from "./event_source.ts";
export type { BackendName } from "./backend.ts";
export * as posix from "./posix.ts";
export * as constants from "./constants.ts";
