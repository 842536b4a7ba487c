// Integrity (issue #7): a byte stream through loopback TCP and through a file, in random chunk
// sizes, with random cancellations of pending operations, each canceled or short transfer
// retried. Every byte received is compared with the byte expected at its position in the
// stream, and both sides' checksums must match: nothing lost, nothing duplicated, nothing
// reordered.
//
//   deno task stress                       both stress scripts, 1 GiB here (see README.md)
//   deno run -A tests/stress/integrity.ts [--bytes=N] [--seed=N] [--only=tcp|file]
//
// The backend comes from AIO_BACKEND (the task runs it per backend). tests/integrity_test.ts
// runs the same code at a CI size on every backend.
//
// Cancellation is exercised four ways, chosen at random per operation: `Dynamic.cancel(id)`
// right after queueing; a `cancel` operation queued after it; a `linkTimeout` of a few µs linked
// to it; and (files) a gate: the operation soft-linked behind a 1-byte pipe read, then either
// the gate is canceled (the operation completes Canceled without running) or released. An
// operation completing `Canceled` moved no bytes and is queued again; one that moved part of
// its bytes is queued again for the rest.
import { aio } from "../../mod.ts";
import { rng } from "../fuzz/streams.ts";

/** What a run reports. */
export interface IntegrityResult {
  /** Bytes through the stream (each way's count, equal when it passes). */
  bytes: number;
  /** Operations queued, of every kind (data, cancels, link timeouts, gates). */
  ops: number;
  /** Cancellations asked for. */
  cancelsAsked: number;
  /** Data operations that completed Canceled, and were retried. */
  canceled: number;
  /** Data operations that moved part of their bytes and were continued. */
  partial: number;
  /** FNV-1a of the bytes sent (or written) and of the bytes received (or read back). */
  checksumOut: number;
  checksumIn: number;
  seconds: number;
}

/** Run options. */
export interface IntegrityOptions {
  bytes: number;
  seed: number;
  /** Largest chunk; sizes are log-uniform in [1, maxChunk]. */
  maxChunk?: number;
  /** Probability that an operation gets one of the cancellations. */
  cancelRate?: number;
  /** Queue capacity (and, for files, how many transfers are in flight). */
  capacity?: number;
}

const PERIOD = 1 << 20;
const STAMP = 4096;

/**
 * The stream's content: a random table repeated every 1 MiB, with an 8-byte stamp of the block
 * number every 4 KiB, so that a lost or duplicated run of any length shows at the next stamp.
 */
export class Stream {
  readonly #table: Uint8Array;
  constructor(seed: number, maxChunk: number) {
    const r = rng(seed ^ 0x5eed);
    this.#table = new Uint8Array(PERIOD + maxChunk);
    const words = new Uint32Array(this.#table.buffer, 0, PERIOD / 4);
    for (let i = 0; i < words.length; i++) words[i] = (r() * 4294967296) >>> 0;
    this.#table.copyWithin(PERIOD, 0, maxChunk);
  }

  /** Fills `out` with the stream's bytes from position `at`. */
  fill(at: number, out: Uint8Array): void {
    const n = out.length;
    const off = at % PERIOD;
    out.set(this.#table.subarray(off, off + n));
    for (let base = at - (at % STAMP); base < at + n; base += STAMP) {
      const block = base / STAMP;
      for (let k = 0; k < 8; k++) {
        const q = base + k;
        if (q >= at && q < at + n) out[q - at] = ((block >>> ((k & 3) * 8)) & 0xff) ^ (k >= 4 ? 0xff : 0);
      }
    }
  }
}

/** FNV-1a over `bytes`, continuing from `h`. */
export function fnv(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619);
  return h >>> 0;
}
export const FNV_START = 0x811c9dc5;

/** Throws at the first byte of `got` that differs from the stream at `at`. */
function verify(stream: Stream, at: number, got: Uint8Array, scratch: Uint8Array, what: string): void {
  const want = scratch.subarray(0, got.length);
  stream.fill(at, want);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) {
      throw new Error(
        `${what}: byte ${at + i} is ${got[i]}, expected ${want[i]} (chunk at ${at}, ${got.length} bytes)`,
      );
    }
  }
}

/** Completion callbacks by userdata. */
type Done = (op: aio.Operation) => void;

class Driver {
  readonly work: aio.Dynamic;
  readonly r: () => number;
  readonly cancelRate: number;
  ops = 0;
  cancelsAsked = 0;
  #pendingCancels: aio.Operation[] = [];
  readonly #gateR: number;
  readonly #gateW: number;
  readonly #gateBuf = new Uint8Array(1);
  readonly #one = new Uint8Array([1]);
  #gated = false;
  constructor(capacity: number, seed: number, cancelRate: number) {
    [this.#gateR, this.#gateW] = aio.posix.pipe();
    this.work = new aio.Dynamic({
      capacity,
      handler: {
        aioComplete(_id, userdata) {
          if (!Array.isArray(userdata)) return;
          const [op, done] = userdata as [aio.Operation, Done | undefined];
          done?.(op);
        },
      },
    });
    this.r = rng(seed);
    this.cancelRate = cancelRate;
  }

  chunk(max: number): number {
    return Math.max(1, Math.floor(Math.exp(this.r() * Math.log(max))));
  }

  /**
   * Queues `op` (and maybe a cancellation of it); `done` runs when it completes. `mustEnd`: the
   * operation may wait for what never comes unless it is canceled, so it gets a linkTimeout.
   */
  submit(op: aio.Operation, done: Done, mustEnd = false): void {
    op.userdata = [op, done];
    const pick = mustEnd ? 2 : this.r() < this.cancelRate ? Math.floor(this.r() * 4) : -1;
    if (pick === 3 && !this.#gated) {
      // Behind a gate: a pipe read the operation is soft-linked to; then either the gate is
      // canceled (the operation never runs: Canceled) or opened.
      this.#gated = true;
      const gate = aio.read({ file: this.#gateR, buffer: this.#gateBuf, link: "soft" });
      gate.userdata = [gate, () => this.#gated = false];
      op.link = "unlinked";
      this.work.queue([gate, op]);
      this.ops += 2;
      if (this.r() < 0.5) {
        this.work.cancel(gate.outId);
        this.cancelsAsked++;
      } else {
        const w = aio.write({ file: this.#gateW, buffer: this.#one });
        w.userdata = [w, undefined];
        this.work.queue(w);
        this.ops++;
      }
      return;
    }
    if (pick === 2) {
      op.link = "soft";
      const lt = aio.linkTimeout({ ns: mustEnd ? 50_000 : Math.floor(this.r() * 20_000) });
      lt.userdata = [lt, undefined];
      this.work.queue([op, lt]);
      this.ops += 2;
      this.cancelsAsked++;
      return;
    }
    op.link = "unlinked";
    this.work.queue(op);
    this.ops++;
    if (pick === 0) {
      this.work.cancel(op.outId);
      this.cancelsAsked++;
    } else if (pick === 1) {
      this.#pendingCancels.push(op);
    }
  }

  /** Queues the `cancel` operations asked for by `submit` (a queue call after their target's). */
  flushCancels(): void {
    for (const target of this.#pendingCancels) {
      const c = aio.cancel({ id: target.outId });
      c.userdata = [c, undefined];
      this.work.queue(c);
      this.ops++;
      this.cancelsAsked++;
    }
    this.#pendingCancels = [];
  }

  get room(): number {
    return this.work.capacity - this.work.inFlight - this.#pendingCancels.length;
  }

  close(): void {
    this.work.close();
    aio.posix.close(this.#gateR);
    aio.posix.close(this.#gateW);
  }
}

/** Checks a data operation's error: Canceled is retried, anything else is a failure. */
function canceled(op: aio.Operation, what: string): boolean {
  if (op.outError === null) return false;
  if (op.outError.code === "Canceled") return true;
  throw new Error(`${what} failed: ${op.outError.code} ${op.outError.errno ?? ""}`);
}

function connectedPair(): { server: number; client: number; listener: number } {
  const { AF, SOCK, IPPROTO } = aio.constants;
  const mk = () => {
    const s = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
    aio.singleSync(s);
    return s.outSocket;
  };
  const listener = mk();
  aio.posix.setsockopt(listener, aio.constants.SOL.SOCKET, aio.constants.SO.REUSEADDR, 1);
  aio.posix.bind(listener, aio.ipv4("127.0.0.1", 0));
  aio.posix.listen(listener, 4);
  const client = mk();
  const accept = aio.accept({ socket: listener });
  aio.multiSync([accept, aio.connect({ socket: client, addr: aio.posix.getsockname(listener) })]);
  return { server: accept.outSocket, client, listener };
}

/**
 * `bytes` through a loopback TCP connection: one send and one recv in flight at a time (two
 * sends in flight on one stream may interleave when one is short), random sizes, random
 * cancellations.
 */
export function tcpIntegrity(options: IntegrityOptions): IntegrityResult {
  const t0 = performance.now();
  const maxChunk = options.maxChunk ?? 256 * 1024;
  const stream = new Stream(options.seed, maxChunk);
  const d = new Driver(options.capacity ?? 16, options.seed, options.cancelRate ?? 0.1);
  const { server, client, listener } = connectedPair();
  const total = options.bytes;
  const scratch = new Uint8Array(maxChunk);
  // Buffers are reused once their operation completed: a pool per size class would do as well.
  const sendBufs: Uint8Array[] = [];
  const recvBufs: Uint8Array[] = [];
  let sent = 0;
  let received = 0;
  let hOut = FNV_START;
  let hIn = FNV_START;
  let sending = false;
  let receiving = false;
  let canceledN = 0;
  let partial = 0;
  try {
    while (received < total) {
      // Now and then no send starts this round, so that a recv waits on an empty socket and a
      // cancellation finds it pending; it is bounded by a linkTimeout, since nothing may come.
      const hold = !receiving && d.r() < 0.05;
      if (!sending && sent < total && !hold) {
        const n = Math.min(d.chunk(maxChunk), total - sent);
        const buf = (sendBufs.pop() ?? new Uint8Array(maxChunk)).subarray(0, n);
        stream.fill(sent, buf);
        sending = true;
        d.submit(aio.send({ socket: client, buffer: buf }), (op) => {
          sending = false;
          sendBufs.push(new Uint8Array(buf.buffer));
          if (canceled(op, "send")) return void canceledN++;
          const w = (op as aio.Send).outWritten;
          if (w <= 0 || w > n) throw new Error(`send of ${n} bytes wrote ${w}`);
          if (w < n) partial++;
          hOut = fnv(hOut, buf.subarray(0, w));
          sent += w;
        });
      }
      if (!receiving) {
        const n = d.chunk(maxChunk);
        const buf = (recvBufs.pop() ?? new Uint8Array(maxChunk)).subarray(0, n);
        receiving = true;
        d.submit(aio.recv({ socket: server, buffer: buf }), (op) => {
          receiving = false;
          recvBufs.push(new Uint8Array(buf.buffer));
          if (canceled(op, "recv")) return void canceledN++;
          const got = (op as aio.Recv).outRead;
          if (got <= 0 || got > n) throw new Error(`recv of ${n} bytes read ${got} (at ${received} of ${total})`);
          if (received + got > total) throw new Error(`received ${received + got} bytes of ${total}: duplicated`);
          const data = buf.subarray(0, got);
          verify(stream, received, data, scratch, "tcp");
          hIn = fnv(hIn, data);
          received += got;
        }, hold);
      }
      d.flushCancels();
      d.work.complete("blocking");
    }
    d.work.completeAll();
    if (sent !== total || received !== total) throw new Error(`sent ${sent}, received ${received}, of ${total}`);
    if (hOut !== hIn) throw new Error(`checksums differ: sent ${hOut.toString(16)}, received ${hIn.toString(16)}`);
  } finally {
    d.close();
    for (const fd of [server, client, listener]) aio.posix.close(fd);
  }
  return {
    bytes: total,
    ops: d.ops,
    cancelsAsked: d.cancelsAsked,
    canceled: canceledN,
    partial,
    checksumOut: hOut,
    checksumIn: hIn,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * `bytes` written into a file in `dir` at random offsets in random sizes, many writes in flight,
 * then read back in other random sizes; random cancellations (and gated operations whose gate is
 * canceled) on both passes, retried.
 */
export function fileIntegrity(options: IntegrityOptions & { dir: string }): IntegrityResult {
  const t0 = performance.now();
  const maxChunk = options.maxChunk ?? 256 * 1024;
  const stream = new Stream(options.seed, maxChunk);
  const capacity = options.capacity ?? 64;
  const d = new Driver(capacity, options.seed, options.cancelRate ?? 0.1);
  const total = options.bytes;
  const path = `${options.dir}/integrity-${options.seed}.bin`;
  const open = aio.openAt({
    dir: aio.cwd,
    path,
    flags: { mode: "read_write", create: true, truncate: true },
  });
  aio.singleSync(open);
  const file = open.outFile;
  const scratch = new Uint8Array(maxChunk);
  let canceledN = 0;
  let partial = 0;
  let hOut = FNV_START;
  let hIn = FNV_START;

  // A transfer of [at, at + n): queued, retried whole when canceled, continued when short.
  const run = (write: boolean) => {
    let next = 0; // the first byte not handed out yet
    const todo: [number, number][] = []; // retries
    let done = 0;
    const buffers: Uint8Array[] = [];
    const start = (at: number, n: number) => {
      const buf = (buffers.pop() ?? new Uint8Array(maxChunk)).subarray(0, n);
      if (write) stream.fill(at, buf);
      const op = write ? aio.write({ file, buffer: buf, offset: at }) : aio.read({ file, buffer: buf, offset: at });
      const finish = (o: aio.Operation) => {
        buffers.push(new Uint8Array(buf.buffer));
        if (canceled(o, write ? "write" : "read")) {
          canceledN++;
          todo.push([at, n]);
          return;
        }
        const moved = write ? (o as aio.Write).outWritten : (o as aio.Read).outRead;
        if (moved <= 0 || moved > n) throw new Error(`${write ? "write" : "read"} of ${n} at ${at} moved ${moved}`);
        if (!write) verify(stream, at, buf.subarray(0, moved), scratch, "file");
        if (moved < n) {
          partial++;
          todo.push([at + moved, n - moved]);
        }
        done += moved;
      };
      d.submit(op, finish);
    };
    while (done < total) {
      while (d.room >= 4 && (todo.length > 0 || next < total)) {
        if (todo.length > 0) {
          const [at, n] = todo.pop()!;
          start(at, n);
        } else {
          const n = Math.min(d.chunk(maxChunk), total - next);
          start(next, n);
          next += n;
        }
      }
      d.flushCancels();
      d.work.complete("blocking");
    }
    d.work.completeAll();
    if (done !== total) throw new Error(`${write ? "wrote" : "read"} ${done} of ${total}`);
  };

  try {
    run(true);
    const size = Deno.statSync(path).size;
    if (size !== total) throw new Error(`the file has ${size} bytes, expected ${total}`);
    run(false);
    // Checksums in stream order (the passes ran out of order): of what the stream is, and of
    // the file as written, read once more sequentially.
    const buf = new Uint8Array(maxChunk);
    for (let at = 0; at < total; at += maxChunk) {
      const n = Math.min(maxChunk, total - at);
      stream.fill(at, buf.subarray(0, n));
      hOut = fnv(hOut, buf.subarray(0, n));
      const r = aio.read({ file, buffer: buf.subarray(0, n), offset: at });
      d.work.queue(r);
      d.work.completeAll();
      if (r.outError !== null || r.outRead !== n) throw new Error(`final read at ${at}: ${r.outError} ${r.outRead}`);
      hIn = fnv(hIn, buf.subarray(0, n));
    }
    if (hOut !== hIn) throw new Error(`checksums differ: stream ${hOut.toString(16)}, file ${hIn.toString(16)}`);
  } finally {
    d.close();
    aio.posix.close(file);
    Deno.removeSync(path);
  }
  return {
    bytes: total,
    ops: d.ops,
    cancelsAsked: d.cancelsAsked,
    canceled: canceledN,
    partial,
    checksumOut: hOut,
    checksumIn: hIn,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Peak resident set (VmHWM) in MiB; on Windows the current one (Deno has no peak there). */
export function peakRssMiB(): number {
  if (Deno.build.os === "windows") return Deno.memoryUsage().rss / 2 ** 20;
  const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Resident set (VmRSS) in MiB. */
export function rssMiB(): number {
  return Deno.memoryUsage().rss / 2 ** 20;
}

/**
 * The size of Deno's resource table. `Deno.resources()` was removed in Deno 2; the same table is
 * still reachable through `Deno[Deno.internal].core.resources()`.
 */
export function resourceCount(): number {
  const d = Deno as unknown as Record<symbol, { core?: { resources?: () => Record<string, string> } }>;
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  const table = internal === undefined ? undefined : d[internal]?.core?.resources?.();
  return table === undefined ? NaN : Object.keys(table).length;
}

let kernel32:
  | Deno.DynamicLibrary<{
    GetCurrentProcess: { parameters: []; result: "usize" };
    GetProcessHandleCount: { parameters: ["usize", "buffer"]; result: "i32" };
  }>
  | undefined;

/** Open fds (entries of /proc/self/fd); on Windows the process's handle count. */
export function fdCount(): number {
  if (Deno.build.os === "windows") {
    kernel32 ??= Deno.dlopen("kernel32.dll", {
      GetCurrentProcess: { parameters: [], result: "usize" },
      GetProcessHandleCount: { parameters: ["usize", "buffer"], result: "i32" },
    });
    const n = new Uint32Array(1);
    kernel32.symbols.GetProcessHandleCount(kernel32.symbols.GetCurrentProcess(), new Uint8Array(n.buffer));
    return n[0];
  }
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n - 1; // the directory's own fd, open while it is read
}

if (import.meta.main) {
  let bytes = 1 << 30;
  let seed = Date.now() % 1_000_000;
  let only: string | undefined;
  for (const a of Deno.args) {
    if (a.startsWith("--bytes=")) bytes = Number(a.slice(8));
    else if (a.startsWith("--seed=")) seed = Number(a.slice(7));
    else if (a.startsWith("--only=")) only = a.slice(7);
    else throw new Error(`unknown argument ${a}`);
  }
  const backend = aio.currentBackend();
  const fds0 = fdCount();
  const res0 = resourceCount();
  console.log(`integrity: backend ${backend}, ${bytes} bytes, seed ${seed}`);
  let ok = true;
  const dir = Deno.makeTempDirSync({ prefix: "aio_integrity_" });
  try {
    for (
      const [name, f] of [
        ["tcp", () => tcpIntegrity({ bytes, seed })],
        ["file", () => fileIntegrity({ bytes, seed, dir })],
      ] as const
    ) {
      if (only !== undefined && only !== name) continue;
      try {
        const r = f();
        console.log(
          `${name}: ${r.bytes} bytes, ${r.ops} ops, ${r.cancelsAsked} cancels asked, ${r.canceled} canceled and ` +
            `retried, ${r.partial} partial, checksum ${r.checksumOut.toString(16)} = ${r.checksumIn.toString(16)}, ` +
            `${r.seconds.toFixed(1)} s (${(r.bytes / 2 ** 20 / r.seconds).toFixed(0)} MiB/s)`,
        );
      } catch (err) {
        ok = false;
        console.log(`${name}: FAILED (seed ${seed}): ${err instanceof Error ? err.stack : err}`);
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  console.log(
    `peak RSS ${peakRssMiB().toFixed(0)} MiB; fds ${fds0} -> ${fdCount()}; ` +
      `resources ${res0} -> ${resourceCount()}`,
  );
  if (!ok) Deno.exit(1);
}
