/**
 * Thread-per-core: our echo server (`echo_server.ts --workers=N`) as N Workers, each with its own
 * scheduler and ring and its own listening socket on one port (`SO_REUSEPORT`, so the kernel
 * spreads the connections), under the same load as `echo.ts`: 1000 connections from
 * `echo_load`, 64-byte closed loops. It is the shape monoio and glommio use to scale.
 *
 * The group's anchor is our own 1-Worker server (anchor name `workers=1`), so the `workers=2`
 * row's ratio is the scaling from 1 to 2 Workers. A full run also has the `deno_native` anchor
 * (`echo_deno.ts`, one thread), for a second row: 2 Workers against Deno. On a 2-core machine the
 * load generator needs a core too, so perfect scaling (2.0) is out of reach here.
 *
 * Run alone: `deno run --allow-ffi --allow-read --allow-write --allow-env --allow-run bench/thread_per_core.ts [seconds]`.
 *
 * @module
 */
import { buildLoad, denoArgv, kept, loadTiming, oursArgv, series, UNIT } from "./echo.ts";
import type { Anchor, Bench, BenchOptions, Group } from "./harness.ts";

/** The `thread_per_core` bench for `run.ts`. */
export const threadPerCore: Bench = {
  name: "thread_per_core",
  groups(options: BenchOptions): Group[] {
    const built = buildLoad();
    if ("error" in built) throw new Error(`thread_per_core: echo_load could not be built: ${built.error}`);
    const timing = loadTiming(options);
    const keep = kept();
    const anchors: Anchor[] = [
      { name: "workers=1", run: series("workers=1", oursArgv(["--workers=1"]), built.path, timing, keep) },
    ];
    if (!options.quick) {
      anchors.push({ name: "deno_native", run: series("deno_native", denoArgv(), built.path, timing, keep) });
    }
    return [{
      bench: "thread_per_core",
      label: "1000conns_64B",
      unit: UNIT,
      anchors,
      variants: [{
        variant: "workers=2",
        run: series("workers=2", oursArgv(["--workers=2"]), built.path, timing, keep),
      }],
      close: () => keep.stop(),
    }];
  },
};

if (import.meta.main) {
  const seconds = Number(Deno.args[0] ?? 2);
  const built = buildLoad();
  if ("error" in built) throw new Error(built.error);
  const keep = kept();
  try {
    for (const workers of [1, 2]) {
      const argv = oursArgv([`--workers=${workers}`]);
      const sample = await series(`workers=${workers}`, argv, built.path, { warmup: 0.5, seconds }, keep)();
      const cpu = Number(sample.cpuUs?.toFixed(1));
      console.log(JSON.stringify({ workers, krtps: Number(sample.value.toFixed(3)), ...sample.latency, cpu_us: cpu }));
    }
  } finally {
    await keep.stop();
  }
}
