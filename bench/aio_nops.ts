/**
 * NOP throughput: a port of zig-aio's `bench/aio_nops.zig`. Each iteration queues `batch` NOPs
 * into a `Dynamic` sized 32768 and completes them with `complete("blocking")`, until `total`
 * have completed. The anchor is the same loop in C over liburing (`aio_nops.c`).
 *
 * Run alone: `deno run --allow-ffi --allow-read bench/aio_nops.ts [batch] [total]`.
 *
 * @module
 */
import { aio } from "../mod.ts";
import {
  type Anchor,
  type Bench,
  type BenchOptions,
  compileC,
  type Group,
  runJsonLine,
  type Sample,
} from "./harness.ts";

/** zig-aio's queue size for this benchmark. */
const QUEUE_SIZE = 32768;

/** Options for {@linkcode runAioNops}. */
export interface AioNopsOptions {
  /** NOPs queued per `queue` call (zig-aio: 32). At most 32768. */
  batch: number;
  /** NOPs to complete; the last batch may overshoot it, as in zig-aio. */
  total: number;
  /** The backend (default `auto`). */
  backend?: aio.BackendName;
  /** `new aio.Dynamic({ syncOnly })`: zig-aio's COOP_TASKRUN ring flags when true. */
  syncOnly: boolean;
}

/**
 * Runs the NOP loop once and returns the throughput with the backend it ran on.
 *
 * @example
 * ```ts
 * import { measureAioNops } from "./aio_nops.ts";
 * console.log(measureAioNops({ batch: 32, total: 3200, syncOnly: true }).backend); // "io_uring"
 * ```
 */
export function measureAioNops(options: AioNopsOptions): Sample {
  const { batch, total, syncOnly, backend } = options;
  if (!Number.isInteger(batch) || batch < 1 || batch > QUEUE_SIZE) {
    throw new RangeError(`batch must be an integer in [1, ${QUEUE_SIZE}], got ${batch}`);
  }
  if (!Number.isSafeInteger(total) || total < 1) throw new RangeError(`total must be a positive integer, got ${total}`);
  using work = new aio.Dynamic({ capacity: QUEUE_SIZE, syncOnly, backend });
  // zig-aio builds fresh NOPs each iteration on its stack; here the same objects are requeued,
  // which the API allows once they have completed, so the loop measures the queue, not the GC.
  const ops = Array.from({ length: batch }, () => aio.nop());
  let done = 0;
  const start = performance.now();
  while (done < total) {
    work.queue(ops);
    done += work.complete("blocking").numCompleted;
    // NOPs all complete in the first call; should one lag, it must finish before it is requeued.
    while (work.inFlight > 0) done += work.complete("blocking").numCompleted;
  }
  const seconds = (performance.now() - start) / 1000;
  return { value: done / seconds / 1e6, backend: work.backend };
}

/**
 * Runs the NOP loop once; returns millions of NOPs per second.
 *
 * @example
 * ```ts
 * import { runAioNops } from "./aio_nops.ts";
 * console.log(runAioNops({ batch: 32, total: 3200, syncOnly: false }) > 0); // true
 * ```
 */
export function runAioNops(options: AioNopsOptions): number {
  return measureAioNops(options).value;
}

/**
 * Per-run totals. Runs of about a second or less, many times over: on shared machines the speed
 * drifts between modes over seconds, and short interleaved runs spread every series across them.
 */
function totals(batch: number, quick: boolean): number {
  if (batch === 1) return quick ? 200_000 : 600_000;
  if (batch <= 32) return quick ? 2_000_000 : 6_000_000;
  return quick ? 4_000_000 : 12_000_000;
}

/**
 * The C liburing NOP loop (`bench/aio_nops.c`) at `batch` as an anchor; shared with `coro_nops`.
 *
 * @example
 * ```ts
 * import { compileC } from "./harness.ts";
 * import { cLiburingNops } from "./aio_nops.ts";
 * console.log(cLiburingNops(compileC("aio_nops.c", "aio_nops"), 32, 3200).name); // "c_liburing"
 * ```
 */
export function cLiburingNops(built: { path: string } | { error: string }, batch: number, total: number): Anchor {
  if (!("path" in built)) return { name: "c_liburing", unavailable: built.error };
  return {
    name: "c_liburing",
    run: (): number => {
      const mnops = runJsonLine(built.path, [String(batch), String(total)]).mnops;
      if (typeof mnops !== "number") throw new Error(`aio_nops.c printed no mnops for batch ${batch}`);
      return mnops;
    },
  };
}

/** The batch sizes measured: a syscall per NOP, zig-aio's 32, and a large batch. */
const BATCHES = [1, 32, 256];

/** The `aio_nops` bench for `run.ts`. */
export const aioNops: Bench = {
  name: "aio_nops",
  groups(options: BenchOptions): Group[] {
    const built = compileC("aio_nops.c", "aio_nops");
    return BATCHES.map((batch): Group => {
      const total = totals(batch, options.quick);
      return {
        bench: "aio_nops",
        label: `batch=${batch}`,
        unit: "Mnops/s",
        anchors: [cLiburingNops(built, batch, total)],
        variants: [
          { variant: `batch=${batch}`, run: () => measureAioNops({ batch, total, syncOnly: true }) },
          {
            variant: `batch=${batch},default-flags`,
            run: () => measureAioNops({ batch, total, syncOnly: false }),
          },
          {
            variant: `batch=${batch},posix`,
            run: () => measureAioNops({ batch, total, syncOnly: false, backend: "posix" }),
          },
        ],
      };
    });
  },
};

if (import.meta.main) {
  const batch = Number(Deno.args[0] ?? 32);
  const total = Number(Deno.args[1] ?? 2_500_000);
  for (const syncOnly of [true, false]) {
    const mnops = runAioNops({ batch, total, syncOnly });
    console.log(JSON.stringify({ batch, total, syncOnly, mnops: Number(mnops.toFixed(4)) }));
  }
}
