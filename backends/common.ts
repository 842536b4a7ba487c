/**
 * Encoding shared by every backend: open, send and recv flags, splice sides and iovec arrays.
 * One place, so that the io_uring and emulated backends pass the kernel the same values.
 *
 * @module
 */
import { MSG, O, O_LARGEFILE } from "../ffi/linux.ts";
import { addressOf, stableBytes } from "../ffi/memory.ts";
import { SLOT_SCRATCH } from "../aio/backend.ts";
import type { OpenFlags, RecvFlags, SendFlags, SpliceFd } from "../aio/ops.ts";

const U32 = 4294967296;

/** `openat` flags for `flags`; new fds always get O_CLOEXEC. */
export function openFlags(flags: OpenFlags): number {
  let o = flags.mode === "write_only" ? O.WRONLY : flags.mode === "read_write" ? O.RDWR : O.RDONLY;
  o |= O.CLOEXEC | O_LARGEFILE;
  if (!flags.allowCtty) o |= O.NOCTTY;
  if (flags.create) o |= O.CREAT;
  if (flags.exclusive) o |= O.EXCL;
  if (flags.truncate) o |= O.TRUNC;
  if (flags.append) o |= O.APPEND;
  if (flags.directory) o |= O.DIRECTORY;
  return o;
}

/** `recv`/`recvmsg` flags; received fds (SCM_RIGHTS) get CLOEXEC unless asked otherwise. */
export function recvFlags(f: RecvFlags): number {
  let m = f.cmsgCloexec === false ? 0 : MSG.CMSG_CLOEXEC;
  if (f.errQueue) m |= MSG.ERRQUEUE;
  if (f.oob) m |= MSG.OOB;
  if (f.peek) m |= MSG.PEEK;
  if (f.trunc) m |= MSG.TRUNC;
  if (f.waitAll) m |= MSG.WAITALL;
  return m;
}

/** `send`/`sendmsg` flags. */
export function sendFlags(f: SendFlags): number {
  // MSG_NOSIGNAL: a write to a closed peer must be an error (BrokenPipe), not a SIGPIPE that
  // would kill the Deno process.
  let m = MSG.NOSIGNAL;
  if (f.confirm) m |= MSG.CONFIRM;
  if (f.dontRoute) m |= MSG.DONTROUTE;
  if (f.eor) m |= MSG.EOR;
  if (f.more) m |= MSG.MORE;
  if (f.oob) m |= MSG.OOB;
  if (f.fastOpen) m |= MSG.FASTOPEN;
  if (f.zeroCopy) m |= MSG.ZEROCOPY;
  return m;
}

/** A splice side as `[fd, offset]`, offset -1 for none (a pipe, or the file position). */
export function spliceSide(side: SpliceFd): [fd: number, offset: number] {
  return "pipe" in side ? [side.pipe, -1] : [side.fd, side.offset ?? -1];
}

/** Stores a 64-bit value as two 32-bit halves (a number up to 2^53, or -1 as all ones). */
export function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value < 0 ? 0xffff_ffff : value >>> 0, true);
  view.setUint32(at + 4, value < 0 ? 0xffff_ffff : Math.floor(value / U32), true);
}

/**
 * Writes `struct iovec`s for `iov` into slot `slot`'s scratch at byte `at` when they fit, else
 * into memory of their own. Returns [address, keep-alive]: the buffers (copied from the array,
 * which the caller may change later) plus any memory allocated here.
 */
export function writeIovecs(
  scratch: DataView,
  scratchAddress: number,
  iov: readonly Uint8Array[],
  slot: number,
  at: number,
): [number, unknown[]] {
  const keep: unknown[] = iov.slice();
  let view: DataView;
  let base: number;
  let address: number;
  if (at + iov.length * 16 <= SLOT_SCRATCH) {
    view = scratch;
    base = slot * SLOT_SCRATCH + at;
    address = scratchAddress + base;
  } else {
    const own = stableBytes(iov.length * 16);
    keep.push(own);
    view = new DataView(own.buffer);
    base = 0;
    address = addressOf(own);
  }
  for (let i = 0; i < iov.length; i++) {
    setU64(view, base + i * 16, addressOf(iov[i]));
    setU64(view, base + i * 16 + 8, iov[i].byteLength);
  }
  return [address, keep];
}

/**
 * Writes a `struct msghdr` at byte 0 of slot `slot`'s scratch (the layout `finalize` reads
 * back for recvMsg), its iovecs after it. Returns [address, keep-alive].
 */
export function writeMsghdr(
  scratch: DataView,
  scratchAddress: number,
  msg: {
    name: Uint8Array | null;
    namelen: number;
    iov: readonly Uint8Array[];
    control: Uint8Array | null;
    controllen: number;
  },
  slot: number,
): [number, unknown[]] {
  const base = slot * SLOT_SCRATCH;
  const [iovAddr, keep] = writeIovecs(scratch, scratchAddress, msg.iov, slot, 56);
  keep.push(msg.name, msg.control);
  setU64(scratch, base, msg.name === null ? 0 : addressOf(msg.name));
  scratch.setUint32(base + 8, msg.name === null ? 0 : msg.namelen, true);
  scratch.setUint32(base + 12, 0, true);
  setU64(scratch, base + 16, iovAddr);
  setU64(scratch, base + 24, msg.iov.length);
  setU64(scratch, base + 32, msg.control === null ? 0 : addressOf(msg.control));
  setU64(scratch, base + 40, msg.control === null ? 0 : msg.controllen);
  scratch.setUint32(base + 48, 0, true);
  return [scratchAddress + base, keep];
}
