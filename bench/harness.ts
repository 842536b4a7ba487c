/**
 * What every benchmark module shares: the shape of a benchmark and of its results, the
 * statistics, the machine description, and building and running native anchors.
 *
 * A benchmark module (`aio_nops.ts`, `coro_nops.ts`, `ping_pongs.ts`) exports a
 * {@linkcode Bench}; `run.ts` measures every group of every bench the same way and writes one
 * {@linkcode BenchResult} per variant.
 *
 * @module
 */

/** One row of `bench/results.json`. */
export interface BenchResult {
  /** The benchmark, named after zig-aio's `bench/*.zig`. */
  bench: string;
  /** What was varied, e.g. `batch=32`. */
  variant: string;
  /** The backend our side ran on. */
  backend: string;
  /** A rate: higher is better, so that `ratio` above 1 means faster than the anchor. */
  unit: string;
  /** Our median. */
  ours: number;
  /** What we are compared with, e.g. `c_liburing`. */
  anchor: string;
  /** The anchor's median; `null` when the anchor could not be built or run here. */
  anchor_value: number | null;
  /** `ours / anchor_value`; `null` without an anchor. */
  ratio: number | null;
  /**
   * Benches that measure latency too (`echo`, `thread_per_core`): the median over runs of each
   * run's 50th percentile round-trip time of our side, in µs. Lower is better, unlike `ours`.
   */
  p50_us?: number;
  /** Our median over runs of each run's 99th percentile, in µs; lower is better. */
  p99_us?: number;
  /** The anchor's `p50_us`; `null` when the anchor did not run. */
  anchor_p50_us?: number | null;
  /** The anchor's `p99_us`; `null` when the anchor did not run. */
  anchor_p99_us?: number | null;
  /**
   * Benches whose server is a child process (`echo`, `thread_per_core`): our server's CPU time
   * (user + system, all threads) per round trip, in µs, median over runs. Lower is better; unlike
   * the rate it does not depend on how much of the machine others take.
   */
  cpu_us?: number;
  /** The anchor's `cpu_us`; `null` when the anchor did not run or did not measure it. */
  anchor_cpu_us?: number | null;
}

/** Round-trip time percentiles of one run, in µs (lower is better). */
export interface Latency {
  /** The 50th percentile. */
  p50_us: number;
  /** The 99th percentile. */
  p99_us: number;
}

/** One timed run of our side. */
export interface Sample {
  /** The measured rate, in the bench's unit. */
  value: number;
  /** The backend it ran on. */
  backend: string;
  /** The run's latency percentiles, for benches that measure them. */
  latency?: Latency;
  /** The server's CPU time per operation in µs, for benches that measure it. */
  cpuUs?: number;
}

/** One run of an anchor that measures latency too. */
export interface AnchorSample {
  /** The measured rate, in the bench's unit. */
  value: number;
  /** The run's latency percentiles. */
  latency?: Latency;
  /** The server's CPU time per operation in µs. */
  cpuUs?: number;
}

/** A measured configuration of our library. */
export interface Variant {
  /** Its name in the results, e.g. `batch=32`. */
  variant: string;
  /** Runs it once; bounded, returns the rate (asynchronously for benches that await, e.g. coro). */
  run(): Sample | Promise<Sample>;
}

/** A native program (or other reference) that the variants of a group are compared with. */
export interface Anchor {
  /** Its name in the results, e.g. `c_liburing`. */
  name: string;
  /**
   * Runs it once and returns the rate (with the run's latency, for benches that measure it);
   * `undefined` when it is unavailable (see `unavailable`).
   */
  run?(): number | AnchorSample | Promise<number | AnchorSample>;
  /** Why it cannot run here, when it cannot. */
  unavailable?: string;
}

/**
 * Variants measured against the same anchors, interleaved run by run. Every variant gets one
 * result row per anchor.
 */
export interface Group {
  /** The bench name for the results. */
  bench: string;
  /** What the group's variants share, e.g. `batch=32`; names the anchors' runs in reports. */
  label: string;
  /** The rate's unit; higher must be better. */
  unit: string;
  /** The references, at least one. */
  anchors: Anchor[];
  /** Our configurations. */
  variants: Variant[];
  /** Called once the group's runs are over, also after a failure: stops what runs kept (servers). */
  close?(): void | Promise<void>;
}

/** Options every bench receives. */
export interface BenchOptions {
  /** Smaller totals, for a check in well under two minutes. */
  quick: boolean;
}

/** A benchmark module. */
export interface Bench {
  /** Its name, as in zig-aio's `bench/` directory. */
  name: string;
  /** Builds what it needs (native anchors) and returns the groups to measure. */
  groups(options: BenchOptions): Group[];
}

/** The repository's root directory. */
export const ROOT: string = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

/**
 * The median of `values` (the mean of the two middle values for an even count).
 *
 * @example
 * ```ts
 * import { median } from "./harness.ts";
 * console.log(median([3, 1, 2])); // 2
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * `(max - min) / median`: how far apart the runs were, relative to the reported value.
 *
 * @example
 * ```ts
 * import { spread } from "./harness.ts";
 * console.log(spread([9, 10, 11])); // 0.2
 * ```
 */
export function spread(values: readonly number[]): number {
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

/** The machine a run was made on. */
export interface Machine {
  /** `model name` from /proc/cpuinfo. */
  cpu: string;
  /** `uname -r`. */
  kernel: string;
  /** `nproc`. */
  nproc: string;
  /** `Deno.version.deno`. */
  deno: string;
  /** `Deno.version.v8`. */
  v8: string;
  /** The first line of `gcc --version`. */
  gcc: string;
}

function commandLine(cmd: string, args: string[]): string {
  try {
    const out = new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).outputSync();
    if (!out.success) return "unknown";
    return new TextDecoder().decode(out.stdout).split("\n")[0].trim() || "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Describes this machine for the results.
 *
 * @example
 * ```ts
 * import { describeMachine } from "./harness.ts";
 * console.log(describeMachine().kernel);
 * ```
 */
export function describeMachine(): Machine {
  // Deno asks for --allow-all to read /proc directly; a subprocess needs only --allow-run.
  const line = commandLine("grep", ["-m1", "^model name", "/proc/cpuinfo"]);
  const cpu = line === "unknown" ? line : line.slice(line.indexOf(":") + 1).trim();
  return {
    cpu,
    kernel: commandLine("uname", ["-r"]),
    nproc: commandLine("nproc", []),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    gcc: commandLine("gcc", ["--version"]),
  };
}

/**
 * Compiles `bench/<source>` with `gcc -O2 … -luring` into `bench/.build/<output>`. Returns the
 * executable's path, or the compiler's complaint as `{ error }`.
 *
 * @example
 * ```ts
 * import { compileC } from "./harness.ts";
 * const built = compileC("aio_nops.c", "aio_nops");
 * console.log("path" in built);
 * ```
 */
export function compileC(source: string, output: string): { path: string } | { error: string } {
  const dir = `${ROOT}/bench/.build`;
  Deno.mkdirSync(dir, { recursive: true });
  const path = `${dir}/${output}`;
  try {
    const out = new Deno.Command("gcc", {
      args: ["-O2", "-o", path, `${ROOT}/bench/${source}`, "-luring"],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!out.success) return { error: new TextDecoder().decode(out.stderr).trim() || `gcc exited ${out.code}` };
  } catch (err) {
    return { error: `gcc could not be run: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { path };
}

/**
 * Whether `cmd` can be started (e.g. `node` on PATH): runs `cmd --version`.
 *
 * @example
 * ```ts
 * import { commandAvailable } from "./harness.ts";
 * console.log(commandAvailable("node"));
 * ```
 */
export function commandAvailable(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Runs a native anchor and parses the one JSON line it prints.
 *
 * @example
 * ```ts
 * import { runJsonLine } from "./harness.ts";
 * console.log(runJsonLine("echo", ['{"mnops":1}']).mnops); // 1
 * ```
 */
export function runJsonLine(path: string, args: string[]): Record<string, unknown> {
  const out = new Deno.Command(path, { args, stdout: "piped", stderr: "piped" }).outputSync();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`${path} ${args.join(" ")} failed (${out.code}): ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  const line = stdout.split("\n").pop() ?? "";
  return JSON.parse(line) as Record<string, unknown>;
}
