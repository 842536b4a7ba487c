// Differential fuzzing across backends (issue #7): seeded, reproducible scenarios, each run on
// every backend available; the outcomes and the bytes must be the same.
//
// Two kinds of scenario, half each (the seed decides):
// - files (below): sequences of batches over one file (links soft and hard, link timeouts,
//   cancels, short reads, failing opens, writes at offsets, fsync); the file's bytes are compared;
// - streams (streams.ts): a pipe, a socketpair or a loopback TCP pair with read, write, recv,
//   send, readv, writev, shutdown, closes (also while a read waits), short buffers, links, link
//   timeouts and cancels; every read's count and bytes are compared. streams.ts's header says
//   what keeps those outcomes independent of timing, and which backend differences are modelled.
//
//   deno task fuzz                      a bounded slice (30k operations per backend), as CI runs it
//   deno task fuzz --ops=1000000        longer
//   deno task fuzz --seed=N --scenarios=1   replay one scenario
//   ... --backends=io_uring,posix,iocp  which backends (default: every one that can run here)
//
// Each backend runs in a child process of its own, in parallel (iocp: the Windows deno under
// Wine), so a run takes the time of the slowest backend (30k operations: about 45 s here, with
// iocp the slowest). A child writes one hash of its outcomes per scenario, which the parent
// compares, and every outcome in full to a side file that is read only for scenarios whose hashes
// differ (the comparison stays cheap for millions of operations). The first five such scenarios
// are printed as recorded, with the seed that replays them, and replayed alone on every backend,
// which tells a difference that depends on what ran before (or on timing) from one that does not;
// the next seeds are listed. AIO_REQUIRE_BACKENDS (as tests/run.ts reads it) makes a listed
// backend that cannot run a failure. `--dump=FILE --backends=B` is the child's mode (`--full`:
// full outcomes instead of hashes).
//
// A wait for a batch gives up after 10 s (AIO_FUZZ_WAIT_LIMIT_MS); the child names the seed, since
// what ran on past it may then race with the next batch. AIO_FUZZ_DEBUG=1 traces stream batches.
//
// Timers are spaced at least 15 ms apart so that which one wins is not a race.
import { aio } from "../../mod.ts";
import { generateStream, rng, runStream, type StreamScenario, WAIT_LIMIT_MS, waitLimits } from "./streams.ts";

const windeno = new URL("../../../shared/tools/windows/windeno", import.meta.url).pathname;

// Long enough never to expire while a scenario runs: such timeouts end canceled, by a cancel
// operation or by the final sweep.
const LONG = 10_000;

interface Args {
  seed: number;
  /** Scenarios to run; 0: as many as `ops` needs. */
  scenarios: number;
  /** Operations per backend to reach when `scenarios` is 0. */
  ops: number;
  backends: aio.BackendName[] | undefined;
  /** Child mode: write the outcomes to this file instead of comparing. */
  dump: string | undefined;
  /** With `dump`: write every outcome in full, not one hash per scenario. */
  full: boolean;
}

function args(): Args {
  const a: Args = {
    seed: Date.now() % 1_000_000,
    scenarios: 0,
    ops: 30_000,
    backends: undefined,
    dump: undefined,
    full: false,
  };
  for (const arg of Deno.args) {
    if (arg.startsWith("--seed=")) a.seed = Number(arg.slice(7));
    else if (arg.startsWith("--scenarios=")) a.scenarios = Number(arg.slice(12));
    else if (arg.startsWith("--ops=")) a.ops = Number(arg.slice(6));
    else if (arg.startsWith("--backends=")) a.backends = arg.slice(11).split(",") as aio.BackendName[];
    else if (arg.startsWith("--dump=")) a.dump = arg.slice(7);
    else if (arg === "--full") a.full = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  for (const [k, v] of [["seed", a.seed], ["scenarios", a.scenarios], ["ops", a.ops]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${k} must be a non-negative integer, got ${v}`);
  }
  return a;
}

type Spec =
  | { k: "nop" }
  | { k: "timeout"; ms: number }
  | { k: "linkTimeout"; ms: number }
  | { k: "read"; len: number; off: number }
  | { k: "write"; len: number; off: number; byte: number }
  | { k: "open"; ok: boolean }
  | { k: "fsync" }
  | { k: "cancel"; target: number }; // index of an earlier long timeout

interface Batch {
  ops: Spec[];
  links: aio.Link[];
}

function generateFiles(seed: number): Batch[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const batches: Batch[] = [];
  let longCount = 0;
  const cancelable: number[] = [];
  let cancelableBefore: number[] = [];
  const n = 2 + Math.floor(r() * 5);
  for (let b = 0; b < n; b++) {
    const ops: Spec[] = [];
    const links: aio.Link[] = [];
    const len = 1 + Math.floor(r() * 6);
    for (let i = 0; i < len; i++) {
      const prevLinked = i > 0 && links[i - 1] !== "unlinked";
      const roll = r();
      let spec: Spec;
      const afterLong = i > 0 && ops[i - 1].k === "timeout" && (ops[i - 1] as { ms: number }).ms === LONG;
      if (prevLinked && ops[i - 1].k !== "linkTimeout" && !afterLong && roll < 0.2) {
        // 5 ms only against a NOP or a 20 ms timeout: against real I/O it is a race (a pool
        // Worker's first call waits for the Worker to start).
        const prev = ops[i - 1];
        const timed = prev.k === "nop" || (prev.k === "timeout" && prev.ms === 20);
        spec = { k: "linkTimeout", ms: timed ? pick([5, LONG]) : LONG };
      } else if (roll < 0.3) spec = { k: "nop" };
      // A long timeout only where io_uring issues it at once (a chain's head, or after NOPs):
      // behind work on io_uring's threads, when it is issued, and so whether a cancel finds it,
      // is a matter of timing on io_uring itself (the fuzzer found such cases).
      else if (roll < 0.45) {
        spec = { k: "timeout", ms: ops.every((o) => o.k === "nop") ? pick([0, 20, 20, LONG]) : pick([0, 20]) };
      } else if (roll < 0.6) spec = { k: "read", len: pick([4, 16, 64]), off: pick([0, 8, 40, 60]) };
      else if (roll < 0.75) {
        spec = { k: "write", len: pick([1, 8, 32]), off: pick([0, 16, 48]), byte: 1 + (b * 7 + i) % 250 };
      } else if (roll < 0.85) spec = { k: "open", ok: r() < 0.5 };
      else if (roll < 0.9) spec = { k: "fsync" };
      else if (cancelableBefore.length > 0 && i === len - 1) {
        // Last in its batch: what it unlocks then runs alone, not alongside the rest of its chain.
        spec = { k: "cancel", target: pick(cancelableBefore) };
      } else spec = { k: "nop" };
      if (spec.k === "timeout" && spec.ms === LONG) cancelable.push(longCount++);
      ops.push(spec);
      // Unlinked operations of a batch run concurrently on io_uring (a buffered write may go to
      // its workers while a read completes inline): a batch is one chain, so that which runs
      // first is decided, and only across batches do operations wait apart.
      links.push(i === len - 1 ? "unlinked" : pick(["soft", "hard"] as const));
    }
    batches.push({ ops, links });
    cancelableBefore = [...cancelable]; // a cancel targets a timeout of an earlier batch, whose id exists
  }
  return batches;
}

interface Outcome {
  ops: string[];
  file: string;
}

function run(backend: aio.BackendName, batches: Batch[], dir: string): Outcome {
  const path = `${dir}/${backend}.bin`;
  Deno.writeFileSync(path, new Uint8Array(64).map((_, i) => i));
  const done = new Set<unknown>();
  using work = new aio.Dynamic({
    capacity: 256,
    backend,
    debug: false,
    handler: { aioComplete: (_id, userdata) => done.add(userdata) },
  });
  const settled = (op: aio.Operation) => done.has(op.userdata);
  const open = aio.openAt({ dir: aio.cwd, path, flags: { mode: "read_write" } });
  open.userdata = -1;
  work.queue(open);
  work.completeAll();
  const fd = open.outFile;
  const longs: aio.Operation[] = [];
  const all: aio.Operation[] = [];
  const batchOps: aio.Operation[][] = [];
  // What a cancel of a later batch unlocked may still be running (io_uring hands a buffered
  // write to its workers): let everything finish that does not wait behind a pending LONG ms
  // timeout, since canceling it now would race with its completion.
  const blocked = (op: aio.Operation) => {
    for (const batch of batchOps) {
      const i = batch.indexOf(op);
      if (i < 0) continue;
      return batch.slice(0, i + 1).some((o) => longs.includes(o) && !settled(o));
    }
    return false;
  };
  const finishUnblocked = () => {
    const t1 = performance.now();
    while (all.some((op) => !settled(op) && !blocked(op))) {
      if (performance.now() - t1 > WAIT_LIMIT_MS) {
        waitLimits.hit++;
        return;
      }
      work.completeWithin(5e6);
    }
  };
  for (const batch of batches) {
    const ops = batch.ops.map((spec, i): aio.Operation => {
      const link = batch.links[i];
      switch (spec.k) {
        case "nop":
          return aio.nop({ link });
        case "timeout": {
          const op = aio.timeout({ ns: spec.ms * 1e6, link });
          if (spec.ms === LONG) longs.push(op);
          return op;
        }
        case "linkTimeout":
          return aio.linkTimeout({ ns: spec.ms * 1e6, link });
        case "read":
          return aio.read({ file: fd, buffer: new Uint8Array(spec.len), offset: spec.off, link });
        case "write":
          return aio.write({ file: fd, buffer: new Uint8Array(spec.len).fill(spec.byte), offset: spec.off, link });
        case "open":
          return aio.openAt({ dir: aio.cwd, path: spec.ok ? path : `${dir}/missing`, link });
        case "fsync":
          return aio.fsync({ file: fd, link });
        case "cancel":
          return aio.cancel({ id: longs[spec.target]?.outId ?? 0, link });
      }
    });
    for (const op of ops) op.userdata = all.length + ops.indexOf(op);
    all.push(...ops);
    batchOps.push(ops);
    work.queue(ops);
    // Complete everything that does not wait behind a pending long timeout (left for a later
    // cancel), in this batch and in earlier ones whose chains a cancel here unlocked: what runs
    // concurrently with the next batch would race with it.
    finishUnblocked();
  }
  finishUnblocked();
  // The rest: cancel what is still in flight (long timeouts) one at a time, letting what each
  // unlocks finish before the next, so that the chains they free do not race each other.
  for (const op of all) {
    // On io_uring a cancel finds nothing while the timeout waits to be issued as task work
    // behind what just completed on its threads: ask again until it is canceled.
    for (let tries = 0; tries < 100 && !settled(op); tries++) {
      work.cancel(op.outId);
      work.completeWithin(2e6);
    }
    finishUnblocked();
  }
  work.completeAll();
  // Opens unlocked late (by a cancel) too: on Windows an open handle keeps the directory.
  for (const op of all) if (op.kind === "openAt" && op.outError === null) aio.posix.close(op.outFile);
  aio.posix.close(fd);
  const bytes = Deno.readFileSync(path);
  return {
    ops: all.map((op) => {
      const o = op as { outRead?: number; outWritten?: number; buffer?: Uint8Array };
      const extra = op.kind === "read"
        ? `/${o.outRead}:${[...o.buffer!.subarray(0, o.outRead ?? 0)].join(",")}`
        : op.kind === "write"
        ? `/${o.outWritten}`
        : "";
      return `${op.kind}:${op.outError?.code ?? "ok"}${extra}`;
    }),
    file: [...bytes].join(","),
  };
}

type Scenario = { kind: "files"; batches: Batch[] } | { kind: "streams"; sc: StreamScenario };

/** The scenario of a seed: files or streams, half each. */
function scenario(seed: number): Scenario {
  const r = rng(seed ^ 0x5bd1e995);
  if (r() < 0.5) return { kind: "files", batches: generateFiles(seed) };
  return { kind: "streams", sc: generateStream(r) };
}

function opCount(s: Scenario): number {
  const batches = s.kind === "files" ? s.batches : s.sc.batches;
  return batches.reduce((n, b) => n + b.ops.length, 0);
}

function runScenario(backend: aio.BackendName, s: Scenario, dir: string): Outcome {
  if (s.kind === "files") return run(backend, s.batches, dir);
  return { ops: runStream(backend, s.sc), file: "" };
}

// FNV-1a, two 32-bit lanes with different offsets: a 64-bit hash of a scenario's outcomes.
function hash(text: string): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

function available(backend: aio.BackendName): string | undefined {
  try {
    new aio.Dynamic({ backend, capacity: 1, debug: false }).close();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function wine(): string | undefined {
  if (Deno.build.os !== "linux") return "Wine runs the Windows deno on Linux only";
  try {
    Deno.statSync(windeno);
    Deno.statSync(`${Deno.env.get("WINDENO_DIR") ?? "/opt/windeno"}/deno.exe`);
    return undefined;
  } catch {
    return "the Windows deno under Wine is not installed (../shared/tools/windows/setup.sh)";
  }
}

const opt = args();
const { seed } = opt;
// How many scenarios: given, or as many as make `ops` operations (generation is cheap and the
// same everywhere, so a child is told the count).
let scenarios = opt.scenarios;
let plannedOps = 0;
if (scenarios === 0) {
  while (plannedOps < opt.ops) plannedOps += opCount(scenario(seed + scenarios++));
} else {
  for (let s = 0; s < scenarios; s++) plannedOps += opCount(scenario(seed + s));
}

if (opt.dump !== undefined) {
  // Child mode: one backend, its outcomes to a file.
  const backend = (opt.backends ?? [])[0];
  if (backend === undefined) throw new Error("--dump needs --backends=<one backend>");
  const why = available(backend);
  if (why !== undefined) throw new Error(`${backend}: ${why}`);
  const dir = Deno.makeTempDirSync({ prefix: "aio_fuzz_" });
  const hashes: string[] = [];
  let full: string[] = [];
  if (!opt.full) Deno.writeTextFileSync(`${opt.dump}.full`, "");
  const t0 = performance.now();
  let last = t0;
  try {
    for (let s = 0; s < scenarios; s++) {
      const hits = waitLimits.hit;
      const outcome = JSON.stringify(runScenario(backend, scenario(seed + s), dir));
      if (waitLimits.hit > hits) console.error(`${backend}: seed ${seed + s}: a wait for a batch gave up`);
      hashes.push(hash(outcome));
      full.push(outcome);
      // Every outcome in full too, in a side file the parent reads only for scenarios that differ.
      if (!opt.full && full.length >= 500) {
        Deno.writeTextFileSync(`${opt.dump}.full`, full.join("\n") + "\n", { append: true });
        full = [];
      }
      if (performance.now() - last > 60_000) {
        last = performance.now();
        console.error(`${backend}: ${s + 1}/${scenarios} scenarios, ${((last - t0) / 1000).toFixed(0)} s`);
      }
    }
  } finally {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch (err) {
      // Windows refuses while a handle is open; an exception on its way out matters more.
      console.error(`${backend}: could not remove ${dir}: ${err}`);
    }
  }
  if (opt.full) Deno.writeTextFileSync(opt.dump, full.join("\n") + "\n");
  else {
    if (full.length > 0) Deno.writeTextFileSync(`${opt.dump}.full`, full.join("\n") + "\n", { append: true });
    Deno.writeTextFileSync(opt.dump, hashes.join("\n") + "\n");
  }
  console.error(
    `${backend}: ${scenarios} scenarios in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
      (waitLimits.hit > 0 ? `; ${waitLimits.hit} waits for a batch gave up after ${WAIT_LIMIT_MS} ms` : ""),
  );
  Deno.exit(0);
}

const required = (Deno.env.get("AIO_REQUIRE_BACKENDS") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const candidates: aio.BackendName[] = opt.backends ?? ["io_uring", "posix", "iocp"];
const names: aio.BackendName[] = [];
let problems = 0;
for (const b of candidates) {
  let why = available(b);
  if (why !== undefined && b === "iocp") {
    const w = wine();
    if (w === undefined) why = undefined;
    else why = `${why}; ${w}`;
  }
  if (why === undefined) names.push(b);
  else {
    console.log(`${b}: skipped, ${why}`);
    if (required.includes(b) || opt.backends !== undefined) problems++;
  }
}

const dir = Deno.makeTempDirSync({ prefix: "aio_fuzz_" });
const self = new URL(import.meta.url).pathname;

/** Runs scenarios [from, from + count) on a backend in a child process; its dump's lines, or undefined. */
async function child(
  backend: aio.BackendName,
  from: number,
  count: number,
  full: boolean,
): Promise<string[] | undefined> {
  const file = `${dir}/${backend}-${from}-${full ? "full" : "hash"}.txt`;
  const common = [`--seed=${from}`, `--scenarios=${count}`, `--backends=${backend}`, ...(full ? ["--full"] : [])];
  let code: number;
  if (backend === "iocp" && Deno.build.os !== "windows") {
    // The Windows deno under Wine; Wine maps the Linux root to Z:. Its output goes to a file, not
    // a pipe (wineserver would hold a pipe open), and is copied to ours afterwards.
    const log = `${dir}/iocp-${from}.log`;
    const out = await new Deno.Command("sh", {
      args: [
        "-c",
        'exec "$0" "$@" > "$AIO_FUZZ_LOG" 2>&1',
        windeno,
        "run",
        "-A",
        `Z:${self}`,
        ...common,
        `--dump=Z:${file}`,
      ],
      env: { AIO_BACKEND: "iocp", AIO_FUZZ_LOG: log },
      stdout: "null",
      stderr: "null",
    }).output();
    code = out.code;
    try {
      const text = Deno.readTextFileSync(log).trim();
      if (text) console.error(text);
    } catch {
      // no log
    }
  } else {
    code = (await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-ffi", "--allow-read", "--allow-write", "--allow-env", self, ...common, `--dump=${file}`],
      stdout: "inherit",
      stderr: "inherit",
    }).output()).code;
  }
  try {
    const lines = Deno.readTextFileSync(file).split("\n");
    lines.pop();
    if (lines.length === count) return lines;
  } catch {
    // reported below
  }
  console.log(`${backend}: the child wrote no complete outcomes (exit ${code})`);
  return undefined;
}

/** The lines at `indexes` (sorted) of a file, read as a stream (the file can be large). */
async function fullLines(path: string, indexes: number[]): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = indexes.map(() => undefined);
  if (indexes.length === 0) return out;
  try {
    using file = await Deno.open(path);
    let i = 0;
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of file.readable) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        const k = indexes.indexOf(i++);
        if (k >= 0) out[k] = line;
      }
      if (i > indexes[indexes.length - 1]) break;
    }
  } catch {
    // no side file: shown as missing
  }
  return out;
}

/** Prints each backend's outcome of one scenario, marking what differs from the first. */
function show(backends: string[], lines: (string | undefined)[]): void {
  const outcomes = lines.map((l) => l === undefined ? undefined : JSON.parse(l) as Outcome);
  const ref = outcomes[0];
  outcomes.forEach((o, j) => {
    if (o === undefined) return console.log(`  ${backends[j]}: no outcome`);
    const marks = o.ops.map((x, i) => (ref && ref.ops[i] !== x ? `*${x}*` : x));
    console.log(`  ${backends[j]}: ${JSON.stringify(marks)}`);
    if (ref && o.file !== ref.file) console.log(`  ${backends[j]}: file ${o.file} (${backends[0]}: ${ref.file})`);
  });
}

let divergences = 0;
try {
  const t0 = performance.now();
  const dumps = await Promise.all(names.map((b) => child(b, seed, scenarios, false)));
  const ran = names.filter((_, j) => dumps[j] !== undefined);
  problems += names.length - ran.length;
  const hashes = dumps.filter((d) => d !== undefined);
  const differing: number[] = [];
  for (let s = 0; s < scenarios; s++) if (hashes.some((h) => h[s] !== hashes[0][s])) differing.push(s);
  divergences = differing.length;
  // The first few: their outcomes as recorded, then a replay of each alone on every backend.
  const shown = differing.slice(0, 5);
  const recorded = await Promise.all(ran.map((b) => fullLines(`${dir}/${b}-${seed}-hash.txt.full`, shown)));
  for (const [k, s] of shown.entries()) {
    console.log(`DIVERGENCE seed ${seed + s}: replay with --seed=${seed + s} --scenarios=1`);
    console.log(JSON.stringify(scenario(seed + s)));
    show(ran, recorded.map((r) => r[k]));
    const replay = await Promise.all(ran.map((b) => child(b, seed + s, 1, true)));
    const again = replay.map((f) => f?.[0]);
    if (again.every((o) => o === again[0])) {
      console.log("  replayed alone, every backend agreed: the difference depends on timing or on what ran before");
    } else {
      console.log("  replayed alone:");
      show(ran, again);
    }
  }
  if (differing.length > 5) {
    console.log(`... and ${differing.length - 5} more: seeds ${differing.slice(5, 50).map((s) => seed + s).join(" ")}`);
  }
  console.log(
    `${scenarios} scenarios (${plannedOps} operations per backend) from seed ${seed} on ${ran.join(", ")}: ` +
      `${divergences} divergences, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
} finally {
  Deno.removeSync(dir, { recursive: true });
}
Deno.exit(divergences > 0 || problems > 0 ? 1 : 0);
