/**
 * The `deno_native` anchor for `fs.ts`, with `Deno.FsFile`:
 *
 * - `read_buf`: `total` 4 KiB reads of /dev/zero with `file.read(buf)`, awaited one at a time.
 * - `random`: random 4 KiB reads at queue depth 32 from `path`: 32 lanes run under `Promise.all`,
 *   each with its own `Deno.FsFile` (a file has one position, and `Deno.FsFile` has no positional
 *   read), doing `seekSync` then `await read` for the next offset of the shared xorshift32
 *   sequence, until `total` reads. No other lane touches a lane's handle, so the read is at the
 *   offset just set. Each read is checked: 4096 bytes, and the block's index in its first 4 bytes.
 *
 * Both run an untimed warm-up first (a tenth of `total`, at most 20,000 reads), so that V8's JIT
 * has compiled the loop, as it has for our side in the driver.
 *
 * Run alone: `deno run --allow-read bench/fs_deno.ts read_buf [total]` or
 * `deno run --allow-read bench/fs_deno.ts random <path> [total]`; prints one JSON line
 * `{"mode":"random","reads":N,"seconds":S,"rate":X}` (rate: reads per second).
 *
 * @module
 */

const BLOCK = 4096;
const DEPTH = 32;
/** The xorshift32 seed shared with `fs.c`, `fs.ts` and `fs_node.mjs`. */
const SEED = 0x9e3779b9;

/** One timed run. */
export interface DenoFsResult {
  /** `read_buf` or `random`. */
  mode: string;
  /** Reads completed in the timed part. */
  reads: number;
  /** Its duration. */
  seconds: number;
  /** `reads / seconds`. */
  rate: number;
}

function warmupCount(total: number): number {
  return Math.min(20_000, Math.ceil(total / 10));
}

async function readBufLoop(file: Deno.FsFile, buf: Uint8Array, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const n = await file.read(buf);
    if (n !== BLOCK) throw new Error(`fs_deno: a read of /dev/zero returned ${n}`);
  }
}

/**
 * zig-aio's `async_read_buf` loop with `Deno.FsFile`.
 *
 * @example
 * ```ts
 * import { runReadBuf } from "./fs_deno.ts";
 * console.log((await runReadBuf(1000)).reads); // 1000
 * ```
 */
export async function runReadBuf(total: number): Promise<DenoFsResult> {
  using file = await Deno.open("/dev/zero", { read: true });
  const buf = new Uint8Array(BLOCK);
  await readBufLoop(file, buf, warmupCount(total));
  const start = performance.now();
  await readBufLoop(file, buf, total);
  const seconds = (performance.now() - start) / 1000;
  return { mode: "read_buf", reads: total, seconds, rate: total / seconds };
}

/** The shared state of the 32 lanes. */
interface Lanes {
  blocks: number;
  rng: number;
  issued: number;
  total: number;
}

function nextBlock(s: Lanes): number {
  let x = s.rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  s.rng = x >>> 0;
  return s.rng % s.blocks;
}

async function lane(s: Lanes, file: Deno.FsFile): Promise<void> {
  const buf = new Uint8Array(BLOCK);
  const head = new DataView(buf.buffer);
  while (s.issued < s.total) {
    s.issued++;
    const block = nextBlock(s);
    // Sync: an lseek never waits, and awaiting it costs a second trip through the op queue
    // (42k IOPS here with `await file.seek`, 65k with `seekSync`).
    file.seekSync(block * BLOCK, Deno.SeekMode.Start);
    let got = 0;
    while (got < BLOCK) {
      const n = await file.read(buf.subarray(got));
      if (n === null) throw new Error(`fs_deno: end of file in block ${block}`);
      got += n;
    }
    if (head.getUint32(0, true) !== block) throw new Error(`fs_deno: a read of block ${block} got another block`);
  }
}

async function randomLoop(files: Deno.FsFile[], s: Lanes): Promise<void> {
  await Promise.all(files.map((file) => lane(s, file)));
}

/**
 * Random 4 KiB reads at queue depth 32 with `Deno.FsFile`: 32 lanes, each with its own handle.
 *
 * @example
 * ```ts
 * import { runRandom } from "./fs_deno.ts";
 * console.log((await runRandom("bench/.build/fs_random.bin", 1000)).reads); // 1000
 * ```
 */
export async function runRandom(path: string, total: number): Promise<DenoFsResult> {
  const files = await Promise.all(Array.from({ length: DEPTH }, () => Deno.open(path, { read: true })));
  try {
    const blocks = Math.floor((await files[0].stat()).size / BLOCK);
    // The warm-up uses another part of the sequence; the timed part starts from the seed.
    await randomLoop(files, { blocks, rng: SEED ^ 0x5bd1e995, issued: 0, total: warmupCount(total) });
    const s: Lanes = { blocks, rng: SEED, issued: 0, total };
    const start = performance.now();
    await randomLoop(files, s);
    const seconds = (performance.now() - start) / 1000;
    return { mode: "random", reads: total, seconds, rate: total / seconds };
  } finally {
    for (const file of files) file.close();
  }
}

function parseTotal(arg: string | undefined, fallback: number): number {
  const total = Number(arg ?? fallback);
  if (!Number.isSafeInteger(total) || total < 1) throw new RangeError("total must be a positive integer");
  return total;
}

if (import.meta.main) {
  const [mode, ...rest] = Deno.args;
  let result: DenoFsResult;
  if (mode === "read_buf") result = await runReadBuf(parseTotal(rest[0], 300_000));
  else if (mode === "random" && rest[0] !== undefined) result = await runRandom(rest[0], parseTotal(rest[1], 200_000));
  else throw new Error("usage: fs_deno.ts read_buf [total] | fs_deno.ts random <path> [total]");
  console.log(JSON.stringify(result));
}
