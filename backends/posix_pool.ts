/**
 * The posix backend's thread pool: Workers that run the calls no readiness API can wait for
 * (file I/O, fsync, openat and the other path calls), shared by every posix queue of the isolate.
 * The iocp backend uses it too, for the Windows calls that have no overlapped form: there a
 * Worker signals by posting a packet to the isolate's completion port instead of an eventfd.
 *
 * Why Workers and not Deno's `nonblocking: true` FFI symbols: a nonblocking call's result only
 * reaches JS through a promise, that is through the event loop, so a thread blocked in
 * `complete("blocking")` would never see it. A Worker makes the call synchronously, stores the
 * result in shared memory and writes the queue's eventfd, which is in that queue's epoll set: the
 * blocked thread wakes, and so does a parked one.
 *
 * Shared memory: a ring of job indices (one producer, this thread; many consumers, the Workers,
 * which take entries with a compare-and-swap on the head), and per job its state, result, the
 * eventfd to signal and six numeric arguments. A queued job can be canceled until a Worker
 * takes it (QUEUED -> CANCELED by compare-and-swap); a running call cannot be.
 *
 * Workers are `unref`'d: an idle pool never keeps the process alive. A queue with jobs in flight
 * is either blocked in its wait or parked on a pending call that does.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { openLibc } from "../ffi/libc.ts";
import { EFD } from "../ffi/linux.ts";

/** Job kinds, as the Worker switches on them. */
export const JOB = {
  preadv2: 1,
  pwritev2: 2,
  fsync: 3,
  openat: 4,
  renameat2: 5,
  unlinkat: 6,
  mkdirat: 7,
  symlinkat: 8,
  waitid: 9,
  // Windows (the iocp backend): backends/windows_calls.ts. The last argument is the port key.
  winOpen: 20,
  winFsync: 21,
  winRename: 22,
  winUnlink: 23,
  winMkdir: 24,
  winSymlink: 25,
  winTransfer: 26,
} as const;

/** Header words. */
export const HEAD = 0;
/** Header: the producer's tail. */
export const TAIL = 1;
/** Header: Workers waiting for work. */
export const IDLE = 2;
/** Header: Workers that have started (each adds 1 once it holds every fd it needs). */
export const STARTED = 3;
/** Header words in all. */
export const HEADER = 4;
/** Jobs at most in flight per isolate. */
export const JOBS = 4096;
/** Job states. */
export const QUEUED = 1;
/** A Worker is running it. */
export const RUNNING = 2;
/** Its result is stored; the Worker has yet to write the eventfd. */
export const DONE = 3;
/** Canceled before a Worker took it; its ring entry is not consumed yet. */
export const CANCELED = 4;
/** Done and the eventfd written: the Worker will not touch the job again. */
export const SIGNALLED = 5;
/** Canceled, and its ring entry consumed by a Worker: free to reuse. */
export const RECLAIM = 6;
/** Numeric arguments per job. */
export const ARGS = 6;

/** The memory layout, for the Worker. */
export function views(sab: SharedArrayBuffer): {
  header: Int32Array;
  ring: Int32Array;
  state: Int32Array;
  result: Int32Array;
  notify: Int32Array;
  args: Float64Array;
} {
  const i32 = (at: number, n: number) => new Int32Array(sab, at * 4, n);
  return {
    header: i32(0, HEADER),
    ring: i32(HEADER, JOBS),
    state: i32(HEADER + JOBS, JOBS),
    result: i32(HEADER + 2 * JOBS, JOBS),
    notify: i32(HEADER + 3 * JOBS, JOBS),
    args: new Float64Array(sab, (HEADER + 4 * JOBS) * 4, JOBS * ARGS),
  };
}

const BYTES = (HEADER + 4 * JOBS) * 4 + JOBS * ARGS * 8;
/**
 * What `submit` returns when no Worker runs and none can start: the process is out of fds (a
 * Worker's runtime needs 8 to 10; measured on Deno 2.9), so the job would never run. The caller fails
 * the operation `EMFILE` instead.
 */
export const NO_WORKER = -2;
// Free fd numbers needed before a Worker starts: Deno panics (and the process dies) when a
// Worker's runtime cannot get its fds, and a Worker whose modules cannot be read dies, leaving its
// jobs waiting. It takes them on its own thread over some 60-100 ms, so fds the program opens
// meanwhile can starve it: with fewer than ROOMY_FDS free, the pool waits (blocking, once per
// Worker) until the Worker says it has started, before the program goes on.
const WORKER_FDS = 16;
const ROOMY_FDS = 64;
// How long a start is waited for before the Worker is given up (it measured 60-100 ms).
const START_MS = 5_000;
const GROW_RETRY_MS = 100;
const MAX_WORKERS = Math.max(4, 2 * (navigator.hardwareConcurrency ?? 2));

/** A queue, as the pool knows it: another queue short of room hands it its finished jobs. */
export interface PoolOwner {
  /** Takes the result of `job`, which is freed right after: the owner must not look at it again. */
  adopt(job: number, result: number): void;
}

/** The isolate's pool. */
export class PosixPool {
  readonly #sab = new SharedArrayBuffer(BYTES);
  readonly #v = views(this.#sab);
  readonly #free = new Int32Array(JOBS);
  #freeTop = JOBS;
  #workers: Worker[] = [];
  #tail = 0;
  #growAfter = 0;
  // Jobs whose result was taken (or that were canceled) but that a Worker may still touch: freed
  // once SIGNALLED or RECLAIM. Until then neither the job nor its eventfd may be reused.
  #retired: number[] = [];
  readonly #owners: (PoolOwner | undefined)[] = new Array(JOBS).fill(undefined);

  constructor() {
    for (let i = 0; i < JOBS; i++) this.#free[i] = JOBS - 1 - i;
  }

  /** Queues a job; returns its index, or -1 when every job is in use (retry later). */
  submit(
    owner: PoolOwner,
    kind: number,
    notifyFd: number,
    a0: number,
    a1 = 0,
    a2 = 0,
    a3 = 0,
    a4 = 0,
    a5 = 0,
  ): number {
    if (this.#freeTop === 0) this.sweep();
    if (this.#freeTop === 0) return -1;
    const none = this.#workers.length === 0;
    if (none && !this.#start()) return NO_WORKER;
    const job = this.#free[--this.#freeTop];
    this.#owners[job] = owner;
    const v = this.#v;
    const at = job * ARGS;
    v.args[at] = a0;
    v.args[at + 1] = a1;
    v.args[at + 2] = a2;
    v.args[at + 3] = a3;
    v.args[at + 4] = a4;
    v.args[at + 5] = a5;
    v.notify[job] = notifyFd;
    v.result[job] = kind; // the Worker reads the kind from here, then stores the result over it
    Atomics.store(v.state, job, QUEUED);
    v.ring[this.#tail & (JOBS - 1)] = job;
    this.#tail = (this.#tail + 1) | 0;
    Atomics.store(v.header, TAIL, this.#tail);
    const waiting = Atomics.load(v.header, IDLE);
    if (waiting > 0) Atomics.notify(v.header, TAIL, 1);
    const backlog = (this.#tail - Atomics.load(v.header, HEAD)) | 0;
    // More Workers only while fds are plenty: the pool works with the ones it has. The count (128
    // system calls) is asked again at most every GROW_RETRY_MS while fds are short. Not on the
    // call that started the first one, which takes this job.
    if (!none && backlog > waiting && this.#workers.length < MAX_WORKERS && performance.now() >= this.#growAfter) {
      if (this.#freeFds() >= ROOMY_FDS) this.#spawn();
      else this.#growAfter = performance.now() + GROW_RETRY_MS;
    }
    return job;
  }

  /**
   * Takes the finished jobs of `slots` (a queue's slots with a job each, `jobs[slot]`): each is
   * removed from the list, retired, and handed to `done` with its result.
   */
  takeDone(slots: number[], jobs: Int32Array, done: (slot: number, result: number) => void): void {
    for (let i = 0; i < slots.length;) {
      const slot = slots[i];
      const job = jobs[slot];
      const st = Atomics.load(this.#v.state, job);
      if (st !== DONE && st !== SIGNALLED) {
        i++;
        continue;
      }
      const res = this.#v.result[job];
      this.retire(job);
      slots[i] = slots[slots.length - 1];
      slots.pop();
      done(slot, res);
    }
  }

  /** Cancels a job no Worker has taken; true if it did. The job must still be freed. */
  cancel(job: number): boolean {
    return Atomics.compareExchange(this.#v.state, job, QUEUED, CANCELED) === QUEUED;
  }

  /**
   * Gives a job back once its result was taken or it was canceled. It is reused only when no
   * Worker can touch it any more (SIGNALLED, or RECLAIM for a canceled one).
   */
  retire(job: number): void {
    // Its result was taken: `collect` must not hand it to its queue again.
    this.#owners[job] = undefined;
    const st = Atomics.load(this.#v.state, job);
    if (st === SIGNALLED || st === RECLAIM) this.#reuse(job);
    else this.#retired.push(job);
  }

  /** Frees the retired jobs that no Worker touches any more. */
  sweep(): void {
    const list = this.#retired;
    for (let i = 0; i < list.length;) {
      const st = Atomics.load(this.#v.state, list[i]);
      if (st === SIGNALLED || st === RECLAIM) {
        this.#reuse(list[i]);
        list[i] = list[list.length - 1];
        list.pop();
      } else i++;
    }
  }

  /**
   * Waits (at most 1 s, in practice microseconds) until no Worker is about to write `fd`: called
   * before a queue closes its eventfd, whose number could otherwise reach another file.
   */
  quiesce(fd: number): void {
    const until = performance.now() + 1000;
    for (;;) {
      this.sweep();
      if (!this.#retired.some((j) => this.#v.notify[j] === fd && Atomics.load(this.#v.state, j) === DONE)) return;
      if (performance.now() > until) return;
    }
  }

  /**
   * Hands every finished job to its queue and frees it. A queue short of room calls this: room
   * is otherwise given back only when the queue that holds it completes, which may be never
   * while this one blocks.
   */
  collect(): void {
    const state = this.#v.state;
    for (let job = 0; job < JOBS; job++) {
      const owner = this.#owners[job];
      if (owner === undefined) continue;
      const st = Atomics.load(state, job);
      if (st !== DONE && st !== SIGNALLED) continue;
      this.#owners[job] = undefined;
      owner.adopt(job, this.#v.result[job]);
      this.retire(job);
    }
  }

  #reuse(job: number): void {
    this.#owners[job] = undefined;
    Atomics.store(this.#v.state, job, 0);
    this.#free[this.#freeTop++] = job;
  }

  // How many fds the process may still open (below RLIMIT_NOFILE), counted up to ROOMY_FDS: eventfds
  // made and closed at once, asked only when a Worker is about to start. Windows has no such limit.
  #freeFds(): number {
    if (Deno.build.os === "windows") return ROOMY_FDS;
    const libc = openLibc().symbols;
    const got: number[] = [];
    for (let i = 0; i < ROOMY_FDS; i++) {
      const d = libc.eventfd(0, EFD.CLOEXEC);
      if (d < 0) break;
      got.push(d);
    }
    for (const d of got) libc.close(d);
    return got.length;
  }

  // Starts the first Worker; false when the process has not the fds for one.
  #start(): boolean {
    const free = this.#freeFds();
    if (free < WORKER_FDS) return false;
    const header = this.#v.header;
    const started = Atomics.load(header, STARTED);
    const worker = this.#spawn();
    if (free >= ROOMY_FDS) return true;
    // Near the limit: nothing of the program's may take the Worker's fds while it starts. Blocks
    // this thread once (Deno allows Atomics.wait on the main thread).
    const until = performance.now() + START_MS;
    for (let left = START_MS; left > 0; left = until - performance.now()) {
      Atomics.wait(header, STARTED, started, left);
      if (Atomics.load(header, STARTED) !== started) return true;
    }
    // Not started in START_MS: most likely it died (its error is printed). One that is merely slow
    // is given up too, so the job fails EMFILE rather than waiting on a Worker that may never come.
    this.#drop(worker);
    worker.terminate();
    return false;
  }

  #spawn(): Worker {
    const worker = new Worker(new URL("./posix_worker.ts", import.meta.url));
    // A Worker that dies (its modules could not be read, out of fds) leaves the pool; the next job
    // starts another when there is none, and that one takes the queued jobs.
    worker.on("error", () => this.#drop(worker));
    worker.on("exit", () => this.#drop(worker));
    worker.postMessage(this.#sab);
    worker.unref();
    this.#workers.push(worker);
    return worker;
  }

  #drop(worker: Worker): void {
    const at = this.#workers.indexOf(worker);
    if (at >= 0) this.#workers.splice(at, 1);
  }
}

let pool: PosixPool | undefined;

/** The isolate's pool, created on first use. */
export function posixPool(): PosixPool {
  pool ??= new PosixPool();
  return pool;
}
