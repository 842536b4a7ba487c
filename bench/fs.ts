/**
 * File reads: a port of zig-aio's `bench/fs.zig` (tokio's `async_read_buf`), plus random 4 KiB
 * reads at queue depth 32 from a 256 MiB file in the page cache.
 *
 * - `async_read_buf`: one 4 KiB read of /dev/zero at the file position at a time, queued on a
 *   `Dynamic` and completed with `completeAll()`, as in zig-aio, until `total` reads.
 * - `random_reads`: 32 reads always in flight on a `Dynamic`, at random 4 KiB-aligned offsets
 *   (xorshift32, the same sequence in every port); a handler's `aioComplete` records which of the
 *   32 reads finished, and each is checked and requeued at the next offset. The same 32 read
 *   operations and 32 buffers serve the whole run: nothing is allocated in the loop.
 *
 * Anchors, each a fresh process timed from inside: `c_liburing` (`fs.c`), `deno_native`
 * (`fs_deno.ts`, `Deno.FsFile`) and `node` (`fs_node.mjs`, `fs/promises`) when `node` is on PATH.
 *
 * Run alone: `deno run --allow-ffi --allow-read --allow-write bench/fs.ts [read_buf_total] [random_total]`
 * (it makes the 256 MiB file under `bench/.build/` if needed).
 *
 * @module
 */
import { aio } from "../mod.ts";
import {
  type Anchor,
  type Bench,
  type BenchOptions,
  commandAvailable,
  compileC,
  type Group,
  ROOT,
  runJsonLine,
  type Sample,
} from "./harness.ts";

/** The read size, both groups. */
const BLOCK = 4096;
/** Reads in flight in `random_reads`. */
const DEPTH = 32;
/** The file of `random_reads`: 256 MiB, 65536 blocks. */
const FILE_SIZE = 256 * 1024 * 1024;
/** The xorshift32 seed shared with `fs.c`, `fs_deno.ts` and `fs_node.mjs`. */
const SEED = 0x9e3779b9;
/** zig-aio's `Dynamic` size in `bench/fs.zig`. */
const READ_BUF_QUEUE = 4096;

/** Where `random_reads` reads from (`bench/.build/` is git-ignored). */
export const RANDOM_FILE: string = `${ROOT}/bench/.build/fs_random.bin`;

/** Options for the two loops. */
export interface FsOptions {
  /** Reads to complete. */
  total: number;
  /** The backend (default `auto`). */
  backend?: aio.BackendName;
}

function checkTotal(total: number): void {
  if (!Number.isSafeInteger(total) || total < 1) throw new RangeError(`total must be a positive integer, got ${total}`);
}

function openRead(path: string): aio.Fd {
  const open = aio.openAt({ dir: aio.cwd, path });
  aio.singleSync(open);
  return open.outFile;
}

/**
 * zig-aio's `async_read_buf` loop once: `total` 4 KiB reads of /dev/zero, each queued alone and
 * completed with `completeAll()`. Returns thousands of reads per second with the backend.
 *
 * @example
 * ```ts
 * import { measureReadBuf } from "./fs.ts";
 * console.log(measureReadBuf({ total: 1000 }).backend); // "io_uring"
 * ```
 */
export function measureReadBuf(options: FsOptions): Sample {
  const { total, backend } = options;
  checkTotal(total);
  const fd = openRead("/dev/zero");
  try {
    // syncOnly: zig-aio's ring flags (SINGLE_ISSUER | COOP_TASKRUN); the loop only blocks.
    using work = new aio.Dynamic({ capacity: READ_BUF_QUEUE, backend, syncOnly: true });
    const buf = new Uint8Array(BLOCK);
    // zig-aio makes the operation on its stack each iteration; the same one is requeued here.
    const read = aio.read({ file: fd, buffer: buf });
    let done = 0;
    const start = performance.now();
    while (done < total) {
      work.queue(read);
      if (work.completeAll() !== 0) throw read.outError;
      if (read.outRead !== BLOCK) throw new Error(`fs: a read of /dev/zero returned ${read.outRead} bytes`);
      done++;
    }
    const seconds = (performance.now() - start) / 1000;
    return { value: done / seconds / 1e3, backend: work.backend };
  } finally {
    aio.posix.close(fd);
  }
}

/**
 * The next block of the xorshift32 (13, 17, 5) sequence every port uses: `state[0]` is the
 * generator, the result the value modulo `blocks`.
 *
 * @example
 * ```ts
 * import { nextBlock } from "./fs.ts";
 * const state = new Uint32Array([0x9e3779b9]);
 * console.log(nextBlock(state, 65536) < 65536); // true
 * ```
 */
export function nextBlock(state: Uint32Array, blocks: number): number {
  let x = state[0];
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  state[0] = x;
  return state[0] % blocks;
}

/**
 * Makes the `random_reads` file when it is missing, of the wrong size or of another content:
 * 256 MiB whose every 4 KiB block starts with its index (a little-endian u32), so that a read
 * can be checked against its offset. Then reads it once, so that it is in the page cache.
 *
 * @example
 * ```ts
 * import { prepareRandomFile } from "./fs.ts";
 * console.log(prepareRandomFile().endsWith("fs_random.bin")); // true
 * ```
 */
export function prepareRandomFile(path: string = RANDOM_FILE): string {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const chunk = new Uint8Array(1024 * 1024);
  const view = new DataView(chunk.buffer);
  if (!randomFileValid(path, chunk, view)) {
    const tmp = `${path}.tmp`;
    using file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    chunk.fill(0xa5);
    const perChunk = chunk.byteLength / BLOCK;
    for (let c = 0; c < FILE_SIZE / chunk.byteLength; c++) {
      for (let b = 0; b < perChunk; b++) view.setUint32(b * BLOCK, c * perChunk + b, true);
      let off = 0;
      while (off < chunk.byteLength) off += file.writeSync(chunk.subarray(off));
    }
    Deno.renameSync(tmp, path);
  }
  // Into the page cache (a file just written is there already; one made by an earlier run may not be).
  using file = Deno.openSync(path, { read: true });
  for (;;) {
    const n = file.readSync(chunk);
    if (n === null) break;
  }
  return path;
}

function randomFileValid(path: string, chunk: Uint8Array, view: DataView): boolean {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  using _ = file;
  if (file.statSync().size !== FILE_SIZE) return false;
  // A few blocks' headers, first and last among them.
  for (const block of [0, 1, 12345, FILE_SIZE / BLOCK - 1]) {
    file.seekSync(block * BLOCK, Deno.SeekMode.Start);
    const head = chunk.subarray(0, BLOCK);
    let got = 0;
    while (got < BLOCK) {
      const n = file.readSync(head.subarray(got));
      if (n === null) return false;
      got += n;
    }
    if (view.getUint32(0, true) !== block) return false;
  }
  return true;
}

/**
 * Random 4 KiB reads at queue depth 32 from `path` (see {@linkcode prepareRandomFile}), until
 * `total` reads. Returns thousands of reads per second (k IOPS) with the backend.
 *
 * @example
 * ```ts
 * import { measureRandomReads, prepareRandomFile } from "./fs.ts";
 * const path = prepareRandomFile();
 * console.log(measureRandomReads({ total: 1000 }, path).value > 0); // true
 * ```
 */
export function measureRandomReads(options: FsOptions, path: string = RANDOM_FILE): Sample {
  const { total, backend } = options;
  checkTotal(total);
  const fd = openRead(path);
  try {
    const blocks = Math.floor(Deno.statSync(path).size / BLOCK);
    using work = new aio.Dynamic({ capacity: DEPTH, backend, syncOnly: true });
    const bufs = Array.from({ length: DEPTH }, () => new Uint8Array(BLOCK));
    const heads = bufs.map((b) => new DataView(b.buffer, b.byteOffset, 4));
    const reads = bufs.map((buffer, lane) => aio.read({ file: fd, buffer, offset: 0, userdata: lane }));
    const expect = new Uint32Array(DEPTH);
    // Lanes that completed in the current complete call, in order; failures are counted.
    const finished = new Int32Array(DEPTH);
    let nFinished = 0;
    let failures = 0;
    const handler: aio.Handler = {
      aioComplete(_id, userdata, failed) {
        finished[nFinished++] = userdata as number;
        if (failed) failures++;
      },
    };
    const rng = new Uint32Array([SEED]);
    let issued = 0;
    let done = 0;
    const start = performance.now();
    for (let lane = 0; lane < DEPTH && issued < total; lane++, issued++) {
      expect[lane] = nextBlock(rng, blocks);
      reads[lane].offset = expect[lane] * BLOCK;
      work.queue(reads[lane]);
    }
    while (done < total) {
      nFinished = 0;
      work.complete("blocking", handler);
      if (failures > 0) throw new Error(`fs: ${failures} random read(s) failed`);
      for (let k = 0; k < nFinished; k++) {
        const lane = finished[k];
        const read = reads[lane];
        if (read.outRead !== BLOCK || heads[lane].getUint32(0, true) !== expect[lane]) {
          throw new Error(`fs: a read of block ${expect[lane]} returned ${read.outRead} bytes or the wrong block`);
        }
        done++;
        if (issued < total) {
          issued++;
          expect[lane] = nextBlock(rng, blocks);
          read.offset = expect[lane] * BLOCK;
          work.queue(read);
        }
      }
    }
    const seconds = (performance.now() - start) / 1000;
    return { value: done / seconds / 1e3, backend: work.backend };
  } finally {
    aio.posix.close(fd);
  }
}

/** Per-run totals: runs of about half a second for our side and the C anchor. */
function totals(quick: boolean): { readBuf: number; random: number } {
  return quick ? { readBuf: 100_000, random: 50_000 } : { readBuf: 300_000, random: 200_000 };
}

/**
 * What the `deno_native` and `node` anchors read per run: `total / divisor`. Their reads cost
 * 10-30 µs each (a trip through a thread pool per read), so they read fewer, for runs near a
 * second; a rate does not depend on the count past the warm-up each of them runs first.
 */
function slowTotal(total: number, divisor: number): number {
  return Math.max(1, Math.floor(total / divisor));
}

/** `async_read_buf`: `Deno.FsFile` and node's FileHandle read /dev/zero at about 30k reads/s here. */
const READ_BUF_DIVISOR = 10;
/** `random_reads`: `Deno.FsFile` and node's FileHandle at 40-90k IOPS here. */
const RANDOM_DIVISOR = 4;

/** Reads the `rate` (reads per second) of an anchor's JSON line, in thousands. */
function rateOf(line: Record<string, unknown>, name: string): number {
  const rate = line.rate;
  if (typeof rate !== "number") throw new Error(`${name} printed no rate`);
  return rate / 1e3;
}

function anchors(
  built: { path: string } | { error: string },
  args: string[],
  total: number,
  divisor: number,
): Anchor[] {
  const n = String(total);
  const slow = String(slowTotal(total, divisor));
  const hasNode = commandAvailable("node");
  return [
    "path" in built
      ? { name: "c_liburing", run: (): number => rateOf(runJsonLine(built.path, [...args, n]), "fs.c") }
      : { name: "c_liburing", unavailable: built.error },
    {
      name: "deno_native",
      run: (): number =>
        rateOf(
          runJsonLine(Deno.execPath(), ["run", "--allow-read", `${ROOT}/bench/fs_deno.ts`, ...args, slow]),
          "fs_deno.ts",
        ),
    },
    hasNode
      ? {
        name: "node",
        run: (): number => rateOf(runJsonLine("node", [`${ROOT}/bench/fs_node.mjs`, ...args, slow]), "fs_node.mjs"),
      }
      : { name: "node", unavailable: "node is not on PATH" },
  ];
}

/** The `fs` bench for `run.ts`. */
export const fs: Bench = {
  name: "fs",
  groups(options: BenchOptions): Group[] {
    const built = compileC("fs.c", "fs");
    const { readBuf, random } = totals(options.quick);
    const path = prepareRandomFile();
    return [
      {
        bench: "fs",
        label: "async_read_buf",
        unit: "k reads/s",
        anchors: anchors(built, ["read_buf"], readBuf, READ_BUF_DIVISOR),
        variants: [
          { variant: "async_read_buf", run: () => measureReadBuf({ total: readBuf }) },
          { variant: "async_read_buf,posix", run: () => measureReadBuf({ total: readBuf, backend: "posix" }) },
        ],
      },
      {
        bench: "fs",
        label: "random_reads qd=32",
        unit: "k IOPS",
        anchors: anchors(built, ["random", path], random, RANDOM_DIVISOR),
        variants: [
          { variant: "random_reads qd=32", run: () => measureRandomReads({ total: random }, path) },
          {
            variant: "random_reads qd=32,posix",
            run: () => measureRandomReads({ total: random, backend: "posix" }, path),
          },
        ],
      },
    ];
  },
};

if (import.meta.main) {
  const readBuf = Number(Deno.args[0] ?? 300_000);
  const random = Number(Deno.args[1] ?? 200_000);
  const path = prepareRandomFile();
  for (const backend of ["io_uring", "posix"] as const) {
    const a = measureReadBuf({ total: readBuf, backend });
    console.log(JSON.stringify({ mode: "read_buf", backend: a.backend, total: readBuf, kreads: +a.value.toFixed(3) }));
    const r = measureRandomReads({ total: random, backend }, path);
    const gbps = (r.value * 1e3 * BLOCK) / 1e9;
    console.log(
      JSON.stringify({
        mode: "random",
        backend: r.backend,
        total: random,
        kiops: +r.value.toFixed(3),
        gbps: +gbps.toFixed(3),
      }),
    );
  }
}
