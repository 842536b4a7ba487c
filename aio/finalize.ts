/**
 * Turns a raw completion `(res, slot scratch at base)` into an operation's outputs and `outError`.
 * Shared by every backend, so that the outputs and the error mapping are the same everywhere.
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
import type { Operation, Term } from "./ops.ts";

const ETIME = ERRNO.ETIME;
const ECANCELED = ERRNO.ECANCELED;
const EOPNOTSUPP = ERRNO.EOPNOTSUPP;

/** Result code that a backend reports for an operation it cannot run here. */
export const RES_NOT_SUPPORTED = -EOPNOTSUPP;

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

/**
 * Writes `op`'s outputs for result `res`. Returns true when the operation failed (counts as an
 * error); a LinkTimeout whose operation finished first stores `Canceled` but is no failure, as
 * in zig-aio.
 */
export function finalize(op: Operation, res: number, scratch: DataView, base: number): boolean {
  if (res < 0) {
    if (op.kind === "timeout" && res === -ETIME) {
      op.outError = null;
      return false;
    }
    const err = operationError(op.kind, res);
    op.outError = err;
    if (op.kind === "linkTimeout" && err.code === "Canceled") return false;
    return true;
  }
  op.outError = null;
  switch (op.kind) {
    case "read":
    case "readv":
    case "readTty":
    case "recv":
      op.outRead = res;
      break;
    case "recvMsg":
      op.outRead = res;
      op.outMsg.namelen = scratch.getUint32(base + 8, true);
      op.outMsg.controllen = Number(scratch.getBigUint64(base + 40, true));
      op.outMsg.flags = scratch.getInt32(base + 48, true);
      break;
    case "write":
    case "writev":
    case "send":
    case "sendMsg":
    case "splice":
      op.outWritten = res;
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
  return false;
}

/** Completes `op` as canceled without the kernel (used when a queue is torn down). */
export function finalizeCanceled(op: Operation): void {
  op.outError = new OperationError(op.kind, "Canceled", "ECANCELED");
}

export { ECANCELED };
