// A pool Worker: takes jobs from the shared ring, makes the call, stores the result and
// writes the queue's eventfd (posix) or posts a packet to the completion port (iocp). See posix_pool.ts for the memory layout and why Workers.
import { parentPort } from "node:worker_threads";
import { errno, openLibc } from "../ffi/libc.ts";
import {
  ARGS,
  CANCELED,
  DONE,
  HEAD,
  IDLE,
  JOB,
  JOBS,
  QUEUED,
  RECLAIM,
  RUNNING,
  SIGNALLED,
  STARTED,
  TAIL,
  views,
} from "./posix_pool.ts";
import { type Kernel32, openKernel32 } from "../ffi/kernel32.ts";
import { winFsync, winMkdir, winOpen, winRename, winSymlink, winTransfer, winUnlink } from "./windows_calls.ts";

const EINTR = 4;
const ENOSYS = 38;
const WINDOWS = Deno.build.os === "windows";

parentPort!.once("message", (sab: SharedArrayBuffer) => run(views(sab)));

// Windows: the calls return their result or -errno themselves; the signal is a packet posted to
// the completion port (`notify`) with the queue's key (the last argument).
function windowsCall(k: Kernel32["symbols"], kind: number, a: Float64Array, at: number): number {
  switch (kind) {
    case JOB.winOpen:
      return winOpen(k, a[at], a[at + 1], a[at + 2], a[at + 3]);
    case JOB.winFsync:
      return winFsync(k, a[at]);
    case JOB.winRename:
      return winRename(k, a[at], a[at + 1]);
    case JOB.winUnlink:
      return winUnlink(k, a[at], a[at + 1]);
    case JOB.winMkdir:
      return winMkdir(k, a[at]);
    case JOB.winSymlink:
      return winSymlink(k, a[at], a[at + 1], a[at + 2]);
    case JOB.winTransfer:
      return winTransfer(k, a[at], a[at + 1], a[at + 2], a[at + 3], a[at + 4]);
    default:
      return -ENOSYS;
  }
}

function run(v: ReturnType<typeof views>): never {
  const libc = WINDOWS ? undefined! : openLibc().symbols;
  const k = WINDOWS ? openKernel32().symbols : undefined!;
  const one = new BigUint64Array([1n]);
  const oneBytes = new Uint8Array(one.buffer);
  // Addresses and offsets arrive as numbers; 64-bit parameters take them as bigints.
  const B = BigInt;
  const call = (kind: number, a: Float64Array, at: number): number => {
    switch (kind) {
      case JOB.preadv2:
        return libc.preadv2_at(a[at], B(a[at + 1]), a[at + 2], B(a[at + 3]), 0);
      case JOB.pwritev2:
        return libc.pwritev2_at(a[at], B(a[at + 1]), a[at + 2], B(a[at + 3]), 0);
      case JOB.fsync:
        return libc.fsync(a[at]);
      case JOB.openat:
        return libc.openat(a[at], B(a[at + 1]), a[at + 2], a[at + 3]);
      case JOB.renameat2:
        return libc.renameat2!(a[at], B(a[at + 1]), a[at + 2], B(a[at + 3]), a[at + 4]);
      case JOB.unlinkat:
        return libc.unlinkat(a[at], B(a[at + 1]), a[at + 2]);
      case JOB.mkdirat:
        return libc.mkdirat(a[at], B(a[at + 1]), a[at + 2]);
      case JOB.symlinkat:
        return libc.symlinkat(B(a[at]), a[at + 1], B(a[at + 2]));
      case JOB.waitid:
        return libc.waitid_at(a[at], a[at + 1], B(a[at + 2]), a[at + 3]);
      default:
        return -1;
    }
  };
  // Every fd this Worker needs to start (its runtime, its modules, the libraries) is taken by now:
  // the pool may be waiting for this to let the program open more.
  Atomics.add(v.header, STARTED, 1);
  Atomics.notify(v.header, STARTED);
  for (;;) {
    const head = Atomics.load(v.header, HEAD);
    const tail = Atomics.load(v.header, TAIL);
    if (head === tail) {
      Atomics.add(v.header, IDLE, 1);
      Atomics.wait(v.header, TAIL, tail);
      Atomics.sub(v.header, IDLE, 1);
      continue;
    }
    if (Atomics.compareExchange(v.header, HEAD, head, (head + 1) | 0) !== head) continue;
    const job = v.ring[head & (JOBS - 1)];
    if (Atomics.compareExchange(v.state, job, QUEUED, RUNNING) !== QUEUED) {
      // Canceled: its ring entry is consumed now, so the queue may reuse the job.
      Atomics.compareExchange(v.state, job, CANCELED, RECLAIM);
      continue;
    }
    const kind = v.result[job];
    let res: number;
    if (WINDOWS) {
      try {
        res = windowsCall(k, kind, v.args, job * ARGS);
      } catch {
        res = -ENOSYS;
      }
      v.result[job] = res;
      Atomics.store(v.state, job, DONE);
      k.PostQueuedCompletionStatus(B(v.notify[job]), 0, B(v.args[job * ARGS + ARGS - 1]), 0n);
      Atomics.store(v.state, job, SIGNALLED);
      continue;
    }
    for (;;) {
      let r: number;
      try {
        r = call(kind, v.args, job * ARGS);
      } catch {
        // A symbol this libc lacks (renameat2 before glibc 2.28): fail the job, not the Worker,
        // whose death would leave the job RUNNING and its queue waiting forever.
        res = -ENOSYS;
        break;
      }
      // errno is read at once: nothing else runs on this thread in between.
      res = r < 0 ? -errno() : r;
      // A signal may interrupt a blocking call; the path calls are safe to repeat.
      if (res !== -EINTR || kind === JOB.pwritev2) break;
    }
    const notify = v.notify[job];
    v.result[job] = res;
    Atomics.store(v.state, job, DONE);
    libc.write(notify, oneBytes, 8);
    // Only now may the queue reuse the job, or close the eventfd (see PosixPool.quiesce).
    Atomics.store(v.state, job, SIGNALLED);
  }
}
