/**
 * Synchronization for tasks (zig-aio's `coro/sync.zig`).
 *
 * - `ResetEvent` and `Semaphore` are cooperative: they coordinate tasks of one thread.
 * - `Mutex`, `RwLock` and `Queue` work across Workers as zig-aio's work across threads: their state
 *   lives in a SharedArrayBuffer and waiters sleep on an `aio.EventSource`, as a ring operation, so
 *   a waiting task never blocks its thread. Send `x.shared` to a Worker and rebuild it there with
 *   `Mutex.from(shared)` (likewise `RwLock.from`, `Queue.from`).
 *
 * @module
 */
import * as aio from "../aio/mod.ts";
import * as io from "./io.ts";
import { CanceledError } from "./errors.ts";
import { current, currentCanceled, suspendCurrent, type Task, wakeTask } from "./scheduler.ts";

type Waiter = { task: Task<unknown> } | { resolve: () => void };

// Waits on `waiters` until woken. With `handOff`, a wake-up is a hand-off of something (a
// semaphore): a task canceled after it was chosen passes it on to the next waiter.
async function park(waiters: Waiter[], handOff = false): Promise<void> {
  const task = current();
  if (task === undefined) {
    await new Promise<void>((resolve) => waiters.push({ resolve }));
    return;
  }
  if (currentCanceled()) throw new CanceledError();
  const entry = { task };
  waiters.push(entry);
  await suspendCurrent();
  if (currentCanceled()) {
    const i = waiters.indexOf(entry);
    if (i !== -1) waiters.splice(i, 1);
    else if (handOff && waiters.length > 0) wake(waiters.shift()!);
    throw new CanceledError();
  }
}

function wake(w: Waiter): void {
  if ("task" in w) wakeTask(w.task);
  else w.resolve();
}

/**
 * A one-shot event tasks can wait for (zig-aio's `coro.ResetEvent`).
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * await using scheduler = new coro.Scheduler();
 * const ready = new coro.ResetEvent();
 * const waiter = scheduler.spawn(async () => { await ready.wait(); return "go"; }, []);
 * ready.set();
 * console.log(await waiter.complete("wait")); // "go"
 * ```
 */
export class ResetEvent {
  #set = false;
  readonly #waiters: Waiter[] = [];

  /** Whether the event is set. */
  get isSet(): boolean {
    return this.#set;
  }

  /** Waits until the event is set; rejects with `CanceledError` if the task is canceled. */
  async wait(): Promise<void> {
    if (this.#set) return;
    await park(this.#waiters);
  }

  /** Sets the event, waking every waiter. */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    for (const w of this.#waiters.splice(0)) wake(w);
  }

  /** Clears the event. */
  reset(): void {
    this.#set = false;
  }
}

/**
 * A binary semaphore for tasks (zig-aio's `coro.Semaphore`: `lock` and `unlock`).
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * const sem = new coro.Semaphore();
 * await sem.lock();
 * sem.unlock();
 * ```
 */
export class Semaphore {
  #used = false;
  readonly #waiters: Waiter[] = [];

  /** Takes the semaphore, waiting while another holder has it. */
  async lock(): Promise<void> {
    while (this.#used) await park(this.#waiters, true);
    this.#used = true;
  }

  /** Takes the semaphore if free; returns whether it did. */
  tryLock(): boolean {
    if (this.#used) return false;
    this.#used = true;
    return true;
  }

  /** Releases the semaphore, waking one waiter. */
  unlock(): void {
    this.#used = false;
    const next = this.#waiters.shift();
    if (next !== undefined) wake(next);
  }
}

/** What a cross-Worker primitive is made of: send it with `postMessage`. */
export interface SharedHandle {
  /** The shared state. */
  buffer: SharedArrayBuffer;
  /** The event source that wakes waiters. */
  fd: number;
}

// Waits for a notification of `source`: in a task through the scheduler's queue, elsewhere through
// the shared immediate queue; neither blocks the thread. A task canceled after its wait had already
// consumed a notification gives the notification back, so that no other waiter loses its wake-up.
async function waitOn(source: aio.EventSource): Promise<void> {
  const wait = aio.waitEventSource({ source });
  try {
    await io.single(wait);
  } catch (err) {
    if (err instanceof CanceledError && wait.outError === null) source.notify();
    throw err;
  }
}

// `from(undefined)` would otherwise make a new, unshared lock or queue without a word.
function checkShared(shared: unknown, bytes: number): void {
  const s = shared as SharedHandle | null | undefined;
  if (typeof s !== "object" || s === null || !(s.buffer instanceof SharedArrayBuffer) || s.buffer.byteLength < bytes) {
    throw new aio.QueueError(
      "InvalidArgument",
      "shared must be the `shared` handle of a Mutex, RwLock or Queue ({ buffer: SharedArrayBuffer, fd })",
    );
  }
}

const LOCK = 0;
const WAITERS = 1;
const WRITER = -1;

// What Mutex and RwLock share: an Int32 lock word and a waiter count in a SharedArrayBuffer, and
// an event source that waiters sleep on.
class SharedLockState {
  readonly state: Int32Array;
  readonly source: aio.EventSource;
  readonly owned: boolean;

  constructor(shared?: SharedHandle) {
    this.state = new Int32Array(shared?.buffer ?? new SharedArrayBuffer(8));
    this.source = shared ? aio.EventSource.fromFd(shared.fd) : new aio.EventSource();
    this.owned = shared === undefined;
  }

  get shared(): SharedHandle {
    return { buffer: this.state.buffer as SharedArrayBuffer, fd: this.source.fd };
  }

  // Waits until `attempt` succeeds, without blocking the thread.
  async acquire(attempt: () => boolean): Promise<void> {
    while (!attempt()) {
      Atomics.add(this.state, WAITERS, 1);
      try {
        // Checked again after announcing ourselves: a release in between saw no waiter.
        if (attempt()) return;
        await waitOn(this.source);
      } finally {
        Atomics.sub(this.state, WAITERS, 1);
      }
    }
  }

  // Wakes `all` waiters (each retries; the losers wait again) or one.
  wake(all: boolean): void {
    const n = Atomics.load(this.state, WAITERS);
    for (let i = 0; i < (all ? n : Math.min(n, 1)); i++) this.source.notify();
  }

  dispose(): void {
    if (this.owned) this.source.close();
  }
}

/**
 * A mutex for tasks across Workers (zig-aio's `coro.Mutex`).
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * using mutex = new coro.Mutex();
 * await mutex.lock();
 * console.log(mutex.tryLock()); // false
 * mutex.unlock();
 * ```
 */
export class Mutex implements Disposable {
  readonly #s: SharedLockState;

  /**
   * Creates an unlocked mutex, or wraps one received from another Worker.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * using mutex = new coro.Mutex();
   * const same = coro.Mutex.from(mutex.shared);
   * console.log(same.tryLock()); // true
   * ```
   */
  constructor(shared?: SharedHandle) {
    this.#s = new SharedLockState(shared);
  }

  /** Wraps a mutex made in another Worker. */
  static from(shared: SharedHandle): Mutex {
    checkShared(shared, 8);
    return new Mutex(shared);
  }

  /** What to send to another Worker. */
  get shared(): SharedHandle {
    return this.#s.shared;
  }

  /** Takes the lock if free. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.#s.state, LOCK, 0, 1) === 0;
  }

  /** Takes the lock, waiting (without blocking the thread) while it is held. */
  lock(): Promise<void> {
    return this.#s.acquire(() => this.tryLock());
  }

  /** Releases the lock. */
  unlock(): void {
    Atomics.store(this.#s.state, LOCK, 0);
    this.#s.wake(false);
  }

  /** Closes the event source (in the Worker that created the mutex). */
  [Symbol.dispose](): void {
    this.#s.dispose();
  }
}

/**
 * A readers-writer lock for tasks across Workers (zig-aio's `coro.RwLock`).
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * using rw = new coro.RwLock();
 * await rw.lockShared();
 * await rw.lockShared();
 * rw.unlockShared();
 * rw.unlockShared();
 * await rw.lock();
 * rw.unlock();
 * ```
 */
export class RwLock implements Disposable {
  readonly #s: SharedLockState;

  /**
   * Creates an unlocked lock, or wraps one received from another Worker.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * using rw = new coro.RwLock();
   * console.log(coro.RwLock.from(rw.shared).tryLock()); // true
   * ```
   */
  constructor(shared?: SharedHandle) {
    this.#s = new SharedLockState(shared);
  }

  /** Wraps a lock made in another Worker. */
  static from(shared: SharedHandle): RwLock {
    checkShared(shared, 8);
    return new RwLock(shared);
  }

  /** What to send to another Worker. */
  get shared(): SharedHandle {
    return this.#s.shared;
  }

  /** Takes the lock exclusively if it is free. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.#s.state, LOCK, 0, WRITER) === 0;
  }

  /** Takes a shared lock if no writer holds it. */
  tryLockShared(): boolean {
    const state = this.#s.state;
    for (;;) {
      const v = Atomics.load(state, LOCK);
      if (v < 0) return false;
      if (Atomics.compareExchange(state, LOCK, v, v + 1) === v) return true;
    }
  }

  /** Takes the lock exclusively. */
  lock(): Promise<void> {
    return this.#s.acquire(() => this.tryLock());
  }

  /** Takes a shared lock. */
  lockShared(): Promise<void> {
    return this.#s.acquire(() => this.tryLockShared());
  }

  /** Releases an exclusive lock. */
  unlock(): void {
    Atomics.store(this.#s.state, LOCK, 0);
    this.#s.wake(true);
  }

  /** Releases a shared lock. */
  unlockShared(): void {
    if (Atomics.sub(this.#s.state, LOCK, 1) === 1) this.#s.wake(true);
  }

  /** Closes the event source (in the Worker that created the lock). */
  [Symbol.dispose](): void {
    this.#s.dispose();
  }
}

/** How a {@linkcode Queue} turns values into bytes and back. Default: JSON. */
export interface Codec<T> {
  /** Value to bytes. */
  encode(value: T): Uint8Array;
  /** Bytes to value. */
  decode(bytes: Uint8Array): T;
}

// Header: read and write positions (modulo the capacity), the spin lock, bytes in use.
const HEAD = 0;
const TAIL = 1;
const SPIN = 2;
const USED = 3;
const HEADER = 16;

/** Options for {@linkcode Queue}. */
export interface QueueOptions<T> {
  /** Bytes of message storage. Default 64 KiB. */
  capacity?: number;
  /** How values cross as bytes. Default JSON. */
  codec?: Codec<T>;
}

/** The shared parts of a {@linkcode Queue}. */
export interface SharedQueueHandle extends SharedHandle {
  /** The message storage. */
  data: SharedArrayBuffer;
}

/**
 * A multi-producer, multi-consumer queue for tasks across Workers (zig-aio's `coro.Queue`).
 * Values cross as bytes (JSON by default); `send` throws `QueueError` `QueueFull` when the
 * storage cannot take the message.
 *
 * @example
 * ```ts
 * import { coro } from "../mod.ts";
 * using q = new coro.Queue<{ n: number }>();
 * q.send({ n: 1 });
 * console.log(await q.recv()); // { n: 1 }
 * console.log(q.tryRecv()); // undefined
 * ```
 */
export class Queue<T> implements Disposable {
  readonly #header: Int32Array;
  readonly #data: Uint8Array;
  readonly #items: aio.EventSource;
  readonly #codec: Codec<T>;
  readonly #owned: boolean;

  /**
   * Creates an empty queue.
   *
   * @example
   * ```ts
   * import { coro } from "../mod.ts";
   * using q = new coro.Queue<string>({ capacity: 1024 });
   * q.send("x");
   * ```
   */
  constructor(options: QueueOptions<T> = {}, shared?: SharedQueueHandle) {
    const capacity = options.capacity;
    // A SharedArrayBuffer of NaN bytes is an empty one: every send would be QueueFull.
    if (capacity !== undefined && (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 30)) {
      throw new aio.QueueError("InvalidArgument", `capacity must be an integer in [1, 2^30], got ${String(capacity)}`);
    }
    this.#header = new Int32Array(shared?.buffer ?? new SharedArrayBuffer(HEADER));
    this.#data = new Uint8Array(shared?.data ?? new SharedArrayBuffer(options.capacity ?? 65536));
    this.#items = shared ? aio.EventSource.fromFd(shared.fd) : new aio.EventSource();
    this.#owned = shared === undefined;
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    this.#codec = options.codec ?? {
      encode: (v: T) => enc.encode(JSON.stringify(v)),
      decode: (b: Uint8Array) => JSON.parse(dec.decode(b)) as T,
    };
  }

  /** Wraps a queue made in another Worker (use the same codec). */
  static from<T>(shared: SharedQueueHandle, codec?: Codec<T>): Queue<T> {
    checkShared(shared, HEADER);
    if (!(shared.data instanceof SharedArrayBuffer) || shared.data.byteLength === 0) {
      throw new aio.QueueError("InvalidArgument", "shared.data must be the queue's SharedArrayBuffer");
    }
    return new Queue<T>({ codec }, shared);
  }

  /** What to send to another Worker. */
  get shared(): SharedQueueHandle {
    return {
      buffer: this.#header.buffer as SharedArrayBuffer,
      data: this.#data.buffer as SharedArrayBuffer,
      fd: this.#items.fd,
    };
  }

  // The critical sections copy a few bytes: a spin lock is cheaper than any wake-up.
  #lock(): void {
    while (Atomics.compareExchange(this.#header, SPIN, 0, 1) !== 0) {
      // spin
    }
  }

  #unlock(): void {
    Atomics.store(this.#header, SPIN, 0);
  }

  /** Appends a value; wakes one receiver. */
  send(value: T): void {
    const bytes = this.#codec.encode(value);
    const cap = this.#data.byteLength;
    const need = bytes.byteLength + 4;
    this.#lock();
    try {
      const tail = this.#header[TAIL];
      if (this.#header[USED] + need > cap) {
        throw new aio.QueueError("QueueFull", `the queue has no room for ${need} bytes`);
      }
      this.#write(tail, new Uint8Array(new Uint32Array([bytes.byteLength]).buffer));
      this.#write(tail + 4, bytes);
      this.#header[TAIL] = (tail + need) % cap;
      this.#header[USED] += need;
    } finally {
      this.#unlock();
    }
    this.#items.notify();
  }

  #write(pos: number, bytes: Uint8Array): void {
    const cap = this.#data.byteLength;
    for (let i = 0; i < bytes.byteLength; i++) this.#data[(pos + i) % cap] = bytes[i];
  }

  #read(pos: number, len: number): Uint8Array {
    const cap = this.#data.byteLength;
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.#data[(pos + i) % cap];
    return out;
  }

  #pop(): T {
    this.#lock();
    let bytes: Uint8Array;
    try {
      const head = this.#header[HEAD];
      const len = new DataView(this.#read(head, 4).buffer).getUint32(0, true);
      bytes = this.#read(head + 4, len);
      this.#header[HEAD] = (head + 4 + len) % this.#data.byteLength;
      this.#header[USED] -= 4 + len;
    } finally {
      this.#unlock();
    }
    return this.#codec.decode(bytes);
  }

  /** Takes a value if one is there. */
  tryRecv(): T | undefined {
    return this.#items.waitNonBlocking() ? this.#pop() : undefined;
  }

  /** Takes a value, waiting (without blocking the thread) until one is sent. */
  async recv(): Promise<T> {
    await waitOn(this.#items);
    return this.#pop();
  }

  /** Closes the event source (in the Worker that created the queue). */
  [Symbol.dispose](): void {
    if (this.#owned) this.#items.close();
  }
}
