/**
 * `deno task bench [--quick] [--runs=N] [--only=NAME]`: measures every bench against its anchors
 * and writes `bench/results.json`.
 *
 * Within a group the anchors and our variants run alternately, round by round, with the order
 * rotated each round, so that a slow stretch of the machine hits every series alike. One round
 * of warm-up (for V8's JIT and the kernel's caches) is discarded. Medians are reported, one row
 * per variant and anchor.
 *
 * @module
 */
import { aioNops } from "./aio_nops.ts";
import { coroNops } from "./coro_nops.ts";
import { echo } from "./echo.ts";
import { flow } from "./flow.ts";
import { fs } from "./fs.ts";
import { pingPongs } from "./ping_pongs.ts";
import { spawn } from "./spawn.ts";
import { threadPerCore } from "./thread_per_core.ts";
import {
  type Bench,
  type BenchResult,
  describeMachine,
  type Group,
  type Latency,
  type Machine,
  median,
  ROOT,
  spread,
} from "./harness.ts";

/** Every bench, in the order they run. New benches are added here. */
const BENCHES: Bench[] = [aioNops, coroNops, pingPongs, fs, spawn, flow, echo, threadPerCore];

/** A project target, printed after the tables (not asserted: the machine decides too much). */
interface Target {
  bench: string;
  variant: string;
  anchor: string;
  /** The throughput ratio to reach, when there is one. */
  minRatio?: number;
  /** The variant's p99 must not be above the anchor's. */
  p99NoWorse?: boolean;
  /** Said instead of a verdict, when there is no numeric target. */
  note?: string;
}

/** The targets for the benches that have them in their rows (older ones are in bench/README.md). */
const TARGETS: Target[] = [
  { bench: "echo", variant: "wait=adaptive", anchor: "deno_native", minRatio: 1.5, p99NoWorse: true },
  {
    bench: "thread_per_core",
    variant: "workers=2",
    anchor: "workers=1",
    note:
      "the scaling from 1 to 2 Workers; 2.0 would be perfect, out of reach with the load generator on a shared core",
  },
];

/**
 * The lines saying how each target in {@linkcode TARGETS} fared in `results`.
 *
 * @example
 * ```ts
 * import { targetLines } from "./run.ts";
 * console.log(targetLines([]).length); // 0
 * ```
 */
export function targetLines(results: readonly BenchResult[]): string[] {
  const lines: string[] = [];
  for (const t of TARGETS) {
    const r = results.find((x) => x.bench === t.bench && x.variant === t.variant && x.anchor === t.anchor);
    if (r === undefined) continue;
    const parts = [`ratio ${fixed(r.ratio, 2)}`];
    if (t.minRatio !== undefined) {
      const met = r.ratio !== null && r.ratio >= t.minRatio;
      parts[0] += ` (target >= ${t.minRatio}: ${met ? "met" : "not met"})`;
    }
    if (t.p99NoWorse && r.p99_us !== undefined) {
      const a = r.anchor_p99_us ?? null;
      const met = a !== null && r.p99_us <= a;
      parts.push(
        `p99 ${fixed(r.p99_us / 1e3, 1)} ms against ${fixed(a === null ? null : a / 1e3, 1)} ms (target: no worse: ${
          met ? "met" : "not met"
        })`,
      );
    }
    if (t.note !== undefined) parts.push(t.note);
    lines.push(`- ${t.bench} ${t.variant} against ${t.anchor}: ${parts.join("; ")}`);
  }
  return lines;
}

/** The command line of a bench run. */
export interface RunOptions {
  /** Smaller totals and 5 runs (instead of 11): well under two minutes. */
  quick: boolean;
  /** Timed runs per series (after one warm-up). */
  runs: number;
  /** Only the benches with these names; all when empty. */
  only: string[];
  /** Child mode: write this bench's results and runs as JSON to this file instead of reporting. */
  out?: string;
}

/**
 * Parses the driver's arguments.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./run.ts";
 * console.log(parseArgs(["--quick"]).runs); // 5
 * ```
 */
export function parseArgs(args: readonly string[]): RunOptions {
  const options: RunOptions = { quick: false, runs: 0, only: [] };
  for (const arg of args) {
    if (arg === "--quick") options.quick = true;
    else if (arg.startsWith("--runs=")) options.runs = Number(arg.slice(7));
    else if (arg.startsWith("--only=")) options.only.push(...arg.slice(7).split(","));
    else if (arg.startsWith("--out=")) options.out = arg.slice(6);
    else {throw new Error(
        `unknown argument ${arg}; usage: run.ts [--quick] [--runs=N] [--only=aio_nops,ping_pongs,...]`,
      );}
  }
  if (options.runs === 0) options.runs = options.quick ? 5 : 11;
  if (!Number.isInteger(options.runs) || options.runs < 1 || options.runs > 100) {
    throw new Error(`--runs must be an integer in [1, 100]`);
  }
  return options;
}

/** Every run of one series, for the spread report. */
interface SeriesRuns {
  name: string;
  values: number[];
  /** Median of the per-round ratios to each anchor: less sensitive to the machine's drift. */
  paired: { anchor: string; ratio: number }[];
  /** Each run's latency percentiles, for benches that measure them. */
  latencies?: Latency[];
}

/** One group's results and its raw runs. */
interface GroupOutcome {
  results: BenchResult[];
  series: SeriesRuns[];
}

async function measureGroup(group: Group, runs: number): Promise<GroupOutcome> {
  try {
    return await measureGroupRuns(group, runs);
  } finally {
    await group.close?.();
  }
}

async function measureGroupRuns(group: Group, runs: number): Promise<GroupOutcome> {
  type Series = {
    name: string;
    run: () => Promise<number>;
    values: number[];
    latencies: Latency[];
    cpuUs: number[];
    backends: Set<string>;
    isAnchor: boolean;
  };
  const variants: Series[] = group.variants.map((v) => {
    const s: Series = {
      name: v.variant,
      values: [],
      latencies: [],
      cpuUs: [],
      backends: new Set(),
      run: () => Promise.resolve(0),
      isAnchor: false,
    };
    s.run = async () => {
      const sample = await v.run();
      s.backends.add(sample.backend);
      if (sample.latency !== undefined) s.latencies.push(sample.latency);
      if (sample.cpuUs !== undefined) s.cpuUs.push(sample.cpuUs);
      return sample.value;
    };
    return s;
  });
  const anchors: Series[] = [];
  for (const a of group.anchors) {
    const anchorRun = a.run;
    if (anchorRun === undefined) continue;
    const s: Series = {
      name: a.name,
      run: () => Promise.resolve(0),
      values: [],
      latencies: [],
      cpuUs: [],
      backends: new Set(),
      isAnchor: true,
    };
    s.run = async () => {
      const sample = await anchorRun();
      if (typeof sample === "number") return sample;
      if (sample.latency !== undefined) s.latencies.push(sample.latency);
      if (sample.cpuUs !== undefined) s.cpuUs.push(sample.cpuUs);
      return sample.value;
    };
    anchors.push(s);
  }
  const all = [...anchors, ...variants];
  for (const s of all) await s.run();
  // The warm-up's latency is discarded with its rate.
  for (const s of all) {
    s.latencies.length = 0;
    s.cpuUs.length = 0;
  }
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < all.length; k++) {
      const s = all[(round + k) % all.length];
      s.values.push(await s.run());
    }
  }
  const results: BenchResult[] = [];
  for (const s of variants) {
    const ours = median(s.values);
    for (const a of group.anchors) {
      const measured = anchors.find((m) => m.name === a.name);
      const anchorValue = measured === undefined ? null : median(measured.values);
      const row: BenchResult = {
        bench: group.bench,
        variant: s.name,
        backend: [...s.backends].join("+"),
        unit: group.unit,
        ours: round4(ours),
        anchor: a.name,
        anchor_value: anchorValue === null ? null : round4(anchorValue),
        ratio: anchorValue === null ? null : round4(ours / anchorValue),
      };
      if (s.latencies.length > 0) {
        row.p50_us = round4(median(s.latencies.map((l) => l.p50_us)));
        row.p99_us = round4(median(s.latencies.map((l) => l.p99_us)));
        const al = measured?.latencies ?? [];
        row.anchor_p50_us = al.length === 0 ? null : round4(median(al.map((l) => l.p50_us)));
        row.anchor_p99_us = al.length === 0 ? null : round4(median(al.map((l) => l.p99_us)));
      }
      if (s.cpuUs.length > 0) {
        row.cpu_us = round4(median(s.cpuUs));
        const ac = measured?.cpuUs ?? [];
        row.anchor_cpu_us = ac.length === 0 ? null : round4(median(ac));
      }
      results.push(row);
    }
  }
  return {
    results,
    series: all.map((s) => ({
      name: s.isAnchor ? `${group.bench} ${group.label} ${s.name}` : `${group.bench} ${s.name}`,
      values: s.values,
      paired: s.isAnchor
        ? []
        : anchors.map((a) => ({ anchor: a.name, ratio: median(s.values.map((v, i) => v / a.values[i])) })),
      latencies: s.latencies,
    })),
  };
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function fixed(x: number | null, digits: number): string {
  return x === null ? "n/a" : x.toFixed(digits);
}

/**
 * The results as the markdown table of `bench/README.md`.
 *
 * @example
 * ```ts
 * import { resultsTable } from "./run.ts";
 * console.log(resultsTable([]).split("\n").length); // 2
 * ```
 */
export function resultsTable(results: readonly BenchResult[]): string {
  const lines = [
    "| bench | variant | ours | anchor | anchor value | unit | ratio | backend |",
    "| --- | --- | ---: | --- | ---: | --- | ---: | --- |",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.bench} | ${r.variant} | ${fixed(r.ours, 3)} | ${r.anchor} | ${fixed(r.anchor_value, 3)} | ${r.unit} | ${
        fixed(r.ratio, 2)
      } | ${r.backend} |`,
    );
  }
  const timed = results.filter((r) => r.p50_us !== undefined);
  if (timed.length > 0) {
    lines.push(
      "",
      "Round-trip latency, µs (lower is better; medians over runs of each run's percentile), and the server's CPU time",
      "per round trip, µs (lower is better; `n/a` when not measured):",
      "",
      "| bench | variant | p50 | p99 | CPU/rt | anchor | anchor p50 | anchor p99 | anchor CPU/rt | backend |",
      "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    );
    for (const r of timed) {
      lines.push(
        `| ${r.bench} | ${r.variant} | ${fixed(r.p50_us ?? null, 0)} | ${fixed(r.p99_us ?? null, 0)} | ${
          fixed(r.cpu_us ?? null, 1)
        } | ${r.anchor} | ${fixed(r.anchor_p50_us ?? null, 0)} | ${fixed(r.anchor_p99_us ?? null, 0)} | ${
          fixed(r.anchor_cpu_us ?? null, 1)
        } | ${r.backend} |`,
      );
    }
  }
  return lines.join("\n");
}

function machineLines(m: Machine): string {
  return [
    `- CPU: ${m.cpu} (nproc ${m.nproc})`,
    `- Kernel: ${m.kernel}`,
    `- Deno: ${m.deno} (V8 ${m.v8})`,
    `- C compiler: ${m.gcc}`,
  ].join("\n");
}

async function main(): Promise<void> {
  const options = parseArgs(Deno.args);
  const benches = options.only.length === 0 ? BENCHES : BENCHES.filter((b) => options.only.includes(b.name));
  if (benches.length === 0) throw new Error(`no bench named ${options.only.join(", ")}`);
  const machine = describeMachine();
  console.log(`# aio benchmarks (${options.quick ? "quick" : "full"}, median of ${options.runs} runs)\n`);
  console.log(machineLines(machine) + "\n");
  const started = performance.now();
  const results: BenchResult[] = [];
  const series: SeriesRuns[][] = [];
  if (options.out === undefined && benches.length > 1) {
    // Each bench in a fresh process: measured in one process, a bench ran up to 25% slower after
    // another had run (JIT and heap state carried over), which no ordering of rounds can cancel.
    for (const bench of benches) {
      const out = Deno.makeTempFileSync({ prefix: "aio_bench_", suffix: ".json" });
      const args = ["run", "--allow-ffi", "--allow-read", "--allow-write", "--allow-env", "--allow-run"];
      args.push(new URL(import.meta.url).pathname, `--only=${bench.name}`, `--runs=${options.runs}`, `--out=${out}`);
      if (options.quick) args.push("--quick");
      const status = await new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "inherit" }).spawn()
        .status;
      if (!status.success) throw new Error(`bench ${bench.name} failed (exit ${status.code})`);
      const child = JSON.parse(Deno.readTextFileSync(out)) as { results: BenchResult[]; series: SeriesRuns[][] };
      Deno.removeSync(out);
      results.push(...child.results);
      series.push(...child.series);
    }
  } else {
    await measureInProcess(benches, options, results, series);
  }
  if (options.out !== undefined) {
    Deno.writeTextFileSync(options.out, JSON.stringify({ results, series }));
    return;
  }
  report(results, series, started);
}

async function measureInProcess(
  benches: readonly Bench[],
  options: RunOptions,
  results: BenchResult[],
  series: SeriesRuns[][],
): Promise<void> {
  for (const bench of benches) {
    for (const group of bench.groups({ quick: options.quick })) {
      for (const anchor of group.anchors) {
        if (anchor.unavailable !== undefined) {
          console.error(`warning: anchor ${anchor.name} unavailable: ${anchor.unavailable}`);
        }
      }
      const outcome = await measureGroup(group, options.runs);
      results.push(...outcome.results);
      series.push(outcome.series);
      for (const r of outcome.results) {
        console.error(
          `  ${r.bench} ${r.variant}: ${fixed(r.ours, 3)} ${r.unit} (${r.anchor} ${fixed(r.anchor_value, 3)}, ratio ${
            fixed(r.ratio, 2)
          })`,
        );
      }
    }
  }
}

function report(results: readonly BenchResult[], series: readonly SeriesRuns[][], started: number): void {
  console.log(resultsTable(results) + "\n");
  const targets = targetLines(results);
  if (targets.length > 0) console.log("Targets (printed, not asserted):\n\n" + targets.join("\n") + "\n");
  console.log("Runs in order (unit as above; spread = (max - min) / median; paired = median of per-round ratios):\n");
  for (const group of series) {
    for (const s of group) {
      const paired = s.paired.map((p) =>
        s.paired.length === 1 ? `, paired ${p.ratio.toFixed(2)}` : `, paired ${p.anchor} ${p.ratio.toFixed(2)}`
      ).join("");
      const values = s.values.map((v) => v.toFixed(3)).join(", ");
      console.log(`- ${s.name}: ${values} (spread ${(spread(s.values) * 100).toFixed(1)}%${paired})`);
      if (s.latencies !== undefined && s.latencies.length > 0) {
        const p99 = s.latencies.map((l) => l.p99_us.toFixed(0)).join(", ");
        console.log(`  - p99 µs: ${p99}`);
      }
    }
  }
  console.log(`\nTook ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  // Written beside and renamed, so that an interrupted run never leaves a truncated file.
  const tmp = `${ROOT}/bench/results.json.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(results, null, 2) + "\n");
  Deno.renameSync(tmp, `${ROOT}/bench/results.json`);
}

if (import.meta.main) await main();
