/**
 * Turns a raw completion `(res, slot scratch at base)` into an operation's outputs and `outError`.
 * Shared by every backend, so that the outputs and the error mapping are the same everywhere.
 * On the hot path a completion is one table lookup by kind code and at most one field store.
 *
 * Scratch layout contract (what backends leave in the slot's scratch memory):
 * - accept: the `socklen_t` address length at byte 0;
 * - childExit: a `siginfo_t` at byte 0;
 * - recvMsg: the `struct msghdr` at byte 0 (`msg_namelen` at 8, `msg_controllen` at 40,
 *   `msg_flags` at 48).
 *
 * @module
 */
import { CLD, ERRNO } from "../ffi/linux.ts";
import { OperationError, operationError } from "./errors.ts";
import { CODE, type Operation, OPERATION_KINDS, type Term } from "./ops.ts";

const ETIME = ERRNO.ETIME;

/** Result code that a backend reports for an operation it cannot run here. */
export const RES_NOT_SUPPORTED = -ERRNO.EOPNOTSUPP;
/** Result code of a canceled operation. */
export const RES_CANCELED = -ERRNO.ECANCELED;

const NONE = 0;
const READ = 1;
const WRITTEN = 2;
const SPECIAL = 3;

// What a successful completion writes, by kind code.
const OUTPUT = new Uint8Array(OPERATION_KINDS.length);
for (const k of ["readTty", "read", "readv", "recv"] as const) OUTPUT[CODE[k]] = READ;
for (const k of ["write", "writev", "send", "sendMsg", "splice"] as const) OUTPUT[CODE[k]] = WRITTEN;
for (const k of ["accept", "recvMsg", "openAt", "childExit", "socket", "closeEventSource"] as const) {
  OUTPUT[CODE[k]] = SPECIAL;
}
const TIMEOUT = CODE.timeout;
const LINK_TIMEOUT = CODE.linkTimeout;

function termFromSiginfo(scratch: DataView, base: number): Term {
  const code = scratch.getInt32(base + 8, true);
  const status = scratch.getInt32(base + 24, true);
  switch (code) {
    case CLD.EXITED:
      return { kind: "exited", code: status };
    case CLD.KILLED:
    case CLD.DUMPED:
      return { kind: "signal", signal: status };
    case CLD.STOPPED:
    case CLD.TRAPPED:
      return { kind: "stopped", signal: status };
    default:
      return { kind: "unknown", status };
  }
}

function special(op: Operation, res: number, scratch: DataView, base: number): void {
  switch (op.kind) {
    case "recvMsg":
      op.outRead = res;
      op.outMsg.namelen = scratch.getUint32(base + 8, true);
      op.outMsg.controllen = Number(scratch.getBigUint64(base + 40, true));
      op.outMsg.flags = scratch.getInt32(base + 48, true);
      break;
    case "accept":
      op.outSocket = res;
      op.inoutAddrlen = op.outAddr === null ? 0 : scratch.getUint32(base, true);
      break;
    case "socket":
      op.outSocket = res;
      break;
    case "openAt":
      op.outFile = res;
      break;
    case "childExit":
      op.outTerm = termFromSiginfo(scratch, base);
      break;
    case "closeEventSource":
      op.source.markClosed();
      break;
  }
}

/**
 * Writes the outputs of `op` (kind code `code`) for result `res`. Returns true when the operation
 * failed (counts as an error). As in zig-aio, a Timeout that expired succeeded, and a LinkTimeout
 * whose operation finished first stores `Canceled` but is no failure.
 */
export function finalize(op: Operation, code: number, res: number, scratch: DataView, base: number): boolean {
  if (res >= 0) {
    op.outError = null;
    const out = OUTPUT[code];
    if (out === NONE) return false;
    if (out === READ) (op as { outRead: number }).outRead = res;
    else if (out === WRITTEN) (op as { outWritten: number }).outWritten = res;
    else special(op, res, scratch, base);
    return false;
  }
  if (code === TIMEOUT && res === -ETIME) {
    op.outError = null;
    return false;
  }
  const err = operationError(op.kind, res);
  op.outError = err;
  return !(code === LINK_TIMEOUT && err.code === "Canceled");
}

/** Completes `op` as canceled without the kernel (used when a queue is torn down). */
export function finalizeCanceled(op: Operation): void {
  op.outError = new OperationError(op.kind, "Canceled", "ECANCELED");
}
