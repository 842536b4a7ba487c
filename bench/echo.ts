/**
 * Many connections: 1000 concurrent TCP connections over 127.0.0.1 to an echo server, each a
 * closed loop of 64-byte messages, driven by `bench/echo_load.c` (one io_uring, one thread). The
 * rate is thousands of round trips per second in the timed window; each run also gives the
 * 50th and 99th percentile round-trip times (µs, lower is better), in the result rows'
 * `p50_us`/`p99_us` and `anchor_p50_us`/`anchor_p99_us` fields.
 *
 * Every server is a child process (`echo_server.ts` for ours, `echo_deno.ts` for `deno_native`,
 * the anchor: `Deno.listen`, one async loop per connection). Each series (ours or an anchor)
 * starts its server and one `echo_load --stdin` at its first run and keeps both until the group
 * is over: the 1000 connections are made once, and each run is one window on them (all 1000
 * restart at once, a warm-up, the timed part, then each stops after its round trip in flight).
 * A server's soft limit on open files is raised to the hard limit first (`ulimit -n` in a shell
 * that then `exec`s it), since 1000 connections need more than the 1024 many systems give.
 *
 * Run alone: `deno run --allow-ffi --allow-read --allow-write --allow-env --allow-run bench/echo.ts [seconds]`.
 *
 * @module
 */
import {
  type AnchorSample,
  type Bench,
  type BenchOptions,
  compileC,
  type Group,
  type Latency,
  ROOT,
  type Sample,
} from "./harness.ts";

/** The unit of the results. */
export const UNIT = "k round trips/s";
/** Concurrent connections, as the issue asks. */
export const CONNS = 1000;
/** The message size, both ways. */
export const MSG_SIZE = 64;

/** How long each run loads the server. */
export interface LoadTiming {
  /** Untimed seconds after the connections restart. */
  warmup: number;
  /** The timed window, in seconds. */
  seconds: number;
}

/** The timing of a run: short with `--quick` (the whole quick bench stays under two minutes). */
export function loadTiming(options: BenchOptions): LoadTiming {
  return options.quick ? { warmup: 0.1, seconds: 0.3 } : { warmup: 0.5, seconds: 2 };
}

/** What `echo_load` prints for a window. */
interface LoadLine {
  connected: number;
  errors: number;
  roundtrips: number;
  rtps: number;
  p50_us: number;
  p99_us: number;
  /** Round trips of the whole window (warm-up and drain too). */
  all_roundtrips: number;
}

let clockTicks: number | undefined;

/**
 * A process's CPU time so far (user + system, all its threads), in seconds: fields 14 and 15 of
 * `/proc/<pid>/stat`, read through `cat` (Deno asks for `--allow-all` to read `/proc` itself).
 */
export async function processCpuSeconds(pid: number): Promise<number> {
  clockTicks ??=
    Number(new TextDecoder().decode(new Deno.Command("getconf", { args: ["CLK_TCK"] }).outputSync().stdout)) ||
    100;
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped", stderr: "null" }).output();
  const text = new TextDecoder().decode(out.stdout);
  // The command name (field 2) may hold spaces: count from the ")" that ends it.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Reads a child's stdout line by line. */
class Lines {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(stdout: ReadableStream<Uint8Array>) {
    this.#reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line, or `undefined` at the end of the output. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.#buffer += value;
    }
  }
}

/**
 * A server child process, started on first use and kept until {@linkcode ServerProcess.stop}.
 * It prints one JSON line with its `port` (and, for ours, its `backend`) once it listens.
 */
export class ServerProcess {
  readonly #name: string;
  readonly #argv: string[];
  #child: Deno.ChildProcess | undefined;
  #ready: Promise<{ port: number; backend: string; pid: number }> | undefined;

  /** `argv` is the command and its arguments; `name` is for errors. */
  constructor(name: string, argv: string[]) {
    this.#name = name;
    this.#argv = argv;
  }

  /** Starts the server if it is not running, and returns its port, backend and process id. */
  ready(): Promise<{ port: number; backend: string; pid: number }> {
    this.#ready ??= this.#start();
    return this.#ready;
  }

  async #start(): Promise<{ port: number; backend: string; pid: number }> {
    // Soft limit on open files raised to the hard one, then the server exec'd in its place.
    const raise = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';
    const child = new Deno.Command("sh", {
      args: ["-c", raise, "sh", ...this.#argv],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    const line = await new Lines(child.stdout).next();
    if (line === undefined) throw new Error(`${this.#name}: the server exited before it listened`);
    // It prints nothing more, so its stdout pipe never fills.
    const parsed = JSON.parse(line) as { port: number; backend?: string };
    // The shell exec'd the server: same process id.
    return { port: parsed.port, backend: parsed.backend ?? "deno", pid: child.pid };
  }

  /** Kills the server (SIGTERM: none of them handles it) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    this.#ready = undefined;
    if (child === undefined) return;
    try {
      child.kill("SIGTERM");
    } catch {
      // It had exited already.
    }
    await child.status;
  }
}

/**
 * An `echo_load --stdin` child: makes its 1000 connections once, then runs one timed window per
 * {@linkcode LoadProcess.run} on them.
 */
export class LoadProcess {
  readonly #child: Deno.ChildProcess;
  readonly #lines: Lines;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #who: string;
  readonly #ready: Promise<void>;

  /** Starts `echo_load` against `port`; `who` names the server in errors. */
  constructor(load: string, port: number, timing: LoadTiming, who: string) {
    const args = ["--port", String(port), "--conns", String(CONNS), "--size", String(MSG_SIZE), "--stdin"];
    args.push("--warmup", String(timing.warmup), "--seconds", String(timing.seconds));
    this.#child = new Deno.Command(load, { args, stdin: "piped", stdout: "piped", stderr: "inherit" }).spawn();
    this.#lines = new Lines(this.#child.stdout);
    this.#writer = this.#child.stdin.getWriter();
    this.#who = who;
    this.#ready = this.#line().then((line) => {
      if (line.ready !== true) throw new Error(`echo_load against ${who} could not connect: ${JSON.stringify(line)}`);
    });
  }

  async #line(): Promise<Record<string, unknown>> {
    const line = await this.#lines.next();
    if (line === undefined) {
      const status = await this.#child.status;
      throw new Error(`echo_load against ${this.#who} exited (${status.code})`);
    }
    return JSON.parse(line) as Record<string, unknown>;
  }

  /**
   * One window: the rate (k round trips/s), the percentiles, and the CPU time process `serverPid`
   * spent per round trip of the window (µs). Throws when a connection failed, so that a broken
   * server is not reported as a slow one.
   */
  async run(serverPid: number): Promise<{ value: number; latency: Latency; cpuUs: number }> {
    await this.#ready;
    const cpu0 = await processCpuSeconds(serverPid);
    await this.#writer.write(new TextEncoder().encode("go\n"));
    const line = await this.#line() as unknown as LoadLine;
    const cpu = await processCpuSeconds(serverPid) - cpu0;
    if (line.errors !== 0) throw new Error(`echo_load against ${this.#who}: ${line.errors} connections failed`);
    return {
      value: line.rtps / 1e3,
      latency: { p50_us: line.p50_us, p99_us: line.p99_us },
      cpuUs: cpu * 1e6 / line.all_roundtrips,
    };
  }

  /** Ends its input: `echo_load` closes its connections and exits. */
  async stop(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#child.status;
  }
}

let loadBuilt: { path: string } | { error: string } | undefined;

/** Builds `echo_load` once per process; returns its path, or why it could not be built. */
export function buildLoad(): { path: string } | { error: string } {
  loadBuilt ??= compileC("echo_load.c", "echo_load");
  return loadBuilt;
}

/** The argv of our server: `deno run bench/echo_server.ts` with the given flags. */
export function oursArgv(flags: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-ffi",
    "--allow-read",
    "--allow-env",
    `${ROOT}/bench/echo_server.ts`,
    ...flags,
  ];
}

/** The argv of the `deno_native` anchor. */
export function denoArgv(): string[] {
  return [Deno.execPath(), "run", "--allow-net=127.0.0.1", `${ROOT}/bench/echo_deno.ts`];
}

/** What a group keeps across runs and stops when it is over. */
export interface Kept {
  /** Registers a server and (once started) its load generator. */
  add(server: ServerProcess, load: () => LoadProcess | undefined): void;
  /** Stops every load generator, then every server. */
  stop(): Promise<void>;
}

/** Makes the list of what a group keeps across runs. */
export function kept(): Kept {
  const entries: { server: ServerProcess; load: () => LoadProcess | undefined }[] = [];
  return {
    add: (server, load) => {
      entries.push({ server, load });
    },
    stop: async () => {
      await Promise.allSettled(entries.map((e) => e.load()?.stop()));
      await Promise.allSettled(entries.map((e) => e.server.stop()));
    },
  };
}

/**
 * A series of runs (one of our variants, or an anchor): one server process and one load
 * generator, both started at the first run and kept until `keep.stop()`.
 */
export function series(
  name: string,
  argv: string[],
  load: string,
  timing: LoadTiming,
  keep: Kept,
): () => Promise<Sample & AnchorSample> {
  const server = new ServerProcess(name, argv);
  let loader: LoadProcess | undefined;
  keep.add(server, () => loader);
  return async () => {
    const { port, backend, pid } = await server.ready();
    loader ??= new LoadProcess(load, port, timing, name);
    return { ...await loader.run(pid), backend };
  };
}

/** The `echo` bench for `run.ts`. */
export const echo: Bench = {
  name: "echo",
  groups(options: BenchOptions): Group[] {
    const built = buildLoad();
    if ("error" in built) throw new Error(`echo: echo_load could not be built: ${built.error}`);
    const timing = loadTiming(options);
    const keep = kept();
    const ours = (variant: string, flags: string[]) => ({
      variant,
      run: series(variant, oursArgv(flags), built.path, timing, keep),
    });
    const variants = [ours("wait=adaptive", [])];
    if (!options.quick) {
      // The fastest wait mode (nothing else runs in the server process), and the posix backend.
      variants.push(ours("wait=block", ["--wait=block"]), ours("wait=adaptive,posix", ["--backend=posix"]));
    }
    return [{
      bench: "echo",
      label: `${CONNS}conns_${MSG_SIZE}B`,
      unit: UNIT,
      anchors: [{ name: "deno_native", run: series("deno_native", denoArgv(), built.path, timing, keep) }],
      variants,
      close: () => keep.stop(),
    }];
  },
};

if (import.meta.main) {
  const seconds = Number(Deno.args[0] ?? 2);
  const built = buildLoad();
  if ("error" in built) throw new Error(built.error);
  const timing = { warmup: 0.5, seconds };
  const keep = kept();
  try {
    for (const [name, argv] of [["ours", oursArgv([])], ["deno_native", denoArgv()]] as const) {
      const run = series(name, [...argv], built.path, timing, keep);
      for (let i = 0; i < 3; i++) {
        const { value, latency, cpuUs } = await run();
        const cpu = Number(cpuUs?.toFixed(1));
        console.log(JSON.stringify({ server: name, krtps: Number(value.toFixed(3)), ...latency, cpu_us: cpu }));
      }
    }
  } finally {
    await keep.stop();
  }
}
