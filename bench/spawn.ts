/**
 * Task spawn and completion: a port of zig-aio's `bench/spawn_managed.zig` (tokio's
 * `basic_scheduler_spawn10`). A round spawns 10 tasks on a `coro.Scheduler`; each yields
 * (`coro.yield` with a state); then the main side wakes each (`wakeupIf` that state) and collects
 * its result with `complete("wait")`. Rounds repeat until `rounds × 10` tasks, on one scheduler
 * (made before the timer starts, as zig-aio's is). The rate is tasks per second.
 *
 * Anchors: `deno_native`, the same shape with plain async functions (each awaits a promise the
 * main side resolves, and the main side awaits its result), run in this process, since there is
 * no ring or native resource to set up; and `node` (`spawn_node.mjs`, a fresh process) when `node`
 * is on PATH.
 *
 * Run alone: `deno run --allow-ffi --allow-read bench/spawn.ts [rounds]`.
 *
 * @module
 */
import { type aio, coro } from "../mod.ts";
import {
  type Anchor,
  type Bench,
  type BenchOptions,
  commandAvailable,
  type Group,
  ROOT,
  runJsonLine,
  type Sample,
} from "./harness.ts";

/** Tasks per round, as in zig-aio and tokio. */
const TASK_COUNT = 10;
/** zig-aio's `Yield.wake_me_up` (0 is `reserved`). */
const WAKE_ME_UP = 1;
/** The unit of the results. */
const UNIT = "k tasks/s";

/** Options for {@linkcode measureSpawn}. */
export interface SpawnOptions {
  /** Rounds of 10 tasks. */
  rounds: number;
  /** The backend of the scheduler's queue (default `auto`); the tasks do no I/O. */
  backend?: aio.BackendName;
}

function checkRounds(rounds: number): void {
  if (!Number.isSafeInteger(rounds) || rounds < 1) {
    throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  }
}

/** zig-aio's `work`: yields once, then returns 2. */
async function work(): Promise<number> {
  const val = 1 + 1;
  await coro.yield(WAKE_ME_UP);
  return val;
}

/**
 * Runs the spawn10 loop on a `coro.Scheduler` once; returns thousands of tasks per second with
 * the backend of its queue.
 *
 * @example
 * ```ts
 * import { measureSpawn } from "./spawn.ts";
 * console.log((await measureSpawn({ rounds: 100 })).value > 0); // true
 * ```
 */
export async function measureSpawn(options: SpawnOptions): Promise<Sample> {
  const { rounds, backend } = options;
  checkRounds(rounds);
  await using scheduler = new coro.Scheduler({ backend });
  const tasks: coro.Task<number>[] = new Array(TASK_COUNT);
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < TASK_COUNT; i++) tasks[i] = scheduler.spawn(work, []);
    for (let i = 0; i < TASK_COUNT; i++) {
      const task = tasks[i];
      task.wakeupIf(WAKE_ME_UP);
      if ((await task.complete("wait")) !== 2) throw new Error("spawn: a task returned the wrong value");
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { value: (rounds * TASK_COUNT) / seconds / 1e3, backend: scheduler.io.backend };
}

/** The plain version of `work`: awaits `gate`, which the main side resolves, then returns 2. */
async function plainWork(gate: Promise<void>): Promise<number> {
  const val = 1 + 1;
  await gate;
  return val;
}

/**
 * The `deno_native` anchor: the spawn10 loop with plain async functions instead of tasks.
 * Returns thousands of tasks per second.
 *
 * @example
 * ```ts
 * import { measurePlainSpawn } from "./spawn.ts";
 * console.log((await measurePlainSpawn(100)) > 0); // true
 * ```
 */
export async function measurePlainSpawn(rounds: number): Promise<number> {
  checkRounds(rounds);
  const wakes: (() => void)[] = new Array(TASK_COUNT);
  const results: Promise<number>[] = new Array(TASK_COUNT);
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < TASK_COUNT; i++) {
      // As spawn_node.mjs does (Node 20 lacks Promise.withResolvers).
      let wake!: () => void;
      const gate = new Promise<void>((resolve) => (wake = resolve));
      wakes[i] = wake;
      results[i] = plainWork(gate);
    }
    for (let i = 0; i < TASK_COUNT; i++) {
      wakes[i]();
      if ((await results[i]) !== 2) throw new Error("spawn: a function returned the wrong value");
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return (rounds * TASK_COUNT) / seconds / 1e3;
}

/** Rounds per run: about half a second for our side (a sixth with `--quick`). */
function roundsPerRun(quick: boolean): number {
  return quick ? 5_000 : 15_000;
}

/**
 * The anchors run this many times more rounds: plain async functions are over ten times faster
 * here, and a run of a few tens of milliseconds would be mostly noise. The rate does not depend on
 * the count.
 */
const ANCHOR_ROUNDS = 10;

function nodeAnchor(rounds: number): Anchor {
  if (!commandAvailable("node")) return { name: "node", unavailable: "node is not on PATH" };
  return {
    name: "node",
    run: (): number => {
      const rate = runJsonLine("node", [`${ROOT}/bench/spawn_node.mjs`, String(rounds)]).rate;
      if (typeof rate !== "number") throw new Error("spawn_node.mjs printed no rate");
      return rate / 1e3;
    },
  };
}

/** The `spawn` bench for `run.ts`. */
export const spawn: Bench = {
  name: "spawn",
  groups(options: BenchOptions): Group[] {
    const rounds = roundsPerRun(options.quick);
    const anchorRounds = rounds * ANCHOR_ROUNDS;
    return [{
      bench: "spawn",
      label: "spawn10",
      unit: UNIT,
      anchors: [
        { name: "deno_native", run: () => measurePlainSpawn(anchorRounds) },
        nodeAnchor(anchorRounds),
      ],
      variants: [{ variant: "spawn10", run: () => measureSpawn({ rounds }) }],
    }];
  },
};

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? 15_000);
  // The first of each warms up V8's JIT, as the driver's discarded round does.
  for (let i = 0; i < 2; i++) {
    const ours = await measureSpawn({ rounds });
    const plain = await measurePlainSpawn(rounds * ANCHOR_ROUNDS);
    if (i === 0) continue;
    console.log(
      JSON.stringify({
        rounds,
        ktasks: +ours.value.toFixed(3),
        plain_ktasks: +plain.toFixed(3),
        ratio: +(ours.value / plain).toFixed(3),
      }),
    );
  }
}
