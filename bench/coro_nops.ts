/**
 * NOP throughput through coro tasks: a port of zig-aio's `bench/coro_nops.zig`. One task, spawned
 * on a scheduler whose queue holds 32768 entries, loops `coro.io.multi` over 32 NOPs until
 * `total` have completed; the time is that of `scheduler.run("wait")`. The anchor is the C
 * liburing NOP loop at batch 32 (`aio_nops.c`), the same as `aio_nops`'s.
 *
 * Run alone: `deno run --allow-ffi --allow-read bench/coro_nops.ts [total]`.
 *
 * @module
 */
import { aio, coro } from "../mod.ts";
import { cLiburingNops } from "./aio_nops.ts";
import { type Bench, type BenchOptions, compileC, type Group, type Sample } from "./harness.ts";

/** zig-aio's `io_queue_entries` for this benchmark. */
const QUEUE_SIZE = 32768;
/** NOPs per `coro.io.multi` call, as in zig-aio. */
const BATCH = 32;

/** Options for {@linkcode measureCoroNops}. */
export interface CoroNopsOptions {
  /** NOPs to complete; rounded up to a multiple of 32, as zig-aio's loop does. */
  total: number;
  /** The scheduler's wait mode; `undefined` for its default (`adaptive`). */
  wait?: coro.WaitMode;
  /** The backend (default `auto`). */
  backend?: aio.BackendName;
}

/**
 * Runs the coro NOP loop once and returns its throughput (Mnops/s) with the backend it ran on.
 *
 * @example
 * ```ts
 * import { measureCoroNops } from "./coro_nops.ts";
 * console.log((await measureCoroNops({ total: 3200 })).backend); // "io_uring"
 * ```
 */
export async function measureCoroNops(options: CoroNopsOptions): Promise<Sample> {
  const { total, wait } = options;
  if (!Number.isSafeInteger(total) || total < 1) throw new RangeError(`total must be a positive integer, got ${total}`);
  await using scheduler = new coro.Scheduler({ ioQueueEntries: QUEUE_SIZE, wait, backend: options.backend });
  // zig-aio builds the 32 NOPs on the task's stack each iteration; here the same objects are
  // requeued once completed (as in aio_nops.ts), so the loop measures the scheduler, not the GC.
  const ops = Array.from({ length: BATCH }, () => aio.nop());
  let done = 0;
  const nopLoop = async (): Promise<void> => {
    while (done < total) {
      await coro.io.multi(ops);
      done += BATCH;
    }
  };
  const start = performance.now();
  const task = scheduler.spawn(nopLoop, []);
  await scheduler.run("wait");
  const seconds = (performance.now() - start) / 1000;
  await task.complete("wait");
  return { value: done / seconds / 1e6, backend: scheduler.io.backend };
}

/** Per-run totals: runs of about a second or less, as in `aio_nops.ts`. */
function total(quick: boolean): number {
  return quick ? 1_000_000 : 3_000_000;
}

/** The `coro_nops` bench for `run.ts`. */
export const coroNops: Bench = {
  name: "coro_nops",
  groups(options: BenchOptions): Group[] {
    const built = compileC("aio_nops.c", "aio_nops");
    const nops = total(options.quick);
    // The anchor completes the same number of NOPs as our side, 32 per wait.
    return [{
      bench: "coro_nops",
      label: `batch=${BATCH}`,
      unit: "Mnops/s",
      anchors: [cLiburingNops(built, BATCH, nops)],
      variants: [
        { variant: "wait=adaptive", run: () => measureCoroNops({ total: nops }) },
        { variant: "wait=block", run: () => measureCoroNops({ total: nops, wait: "block" }) },
        { variant: "wait=adaptive,posix", run: () => measureCoroNops({ total: nops, backend: "posix" }) },
      ],
    }];
  },
};

if (import.meta.main) {
  const nops = Number(Deno.args[0] ?? 2_000_000);
  for (const wait of ["adaptive", "block", "park"] as const) {
    const sample = await measureCoroNops({ total: nops, wait });
    console.log(JSON.stringify({ wait, total: nops, mnops: Number(sample.value.toFixed(4)) }));
  }
}
