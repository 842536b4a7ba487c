// Differential fuzzing across backends (issue #7): seeded, reproducible sequences of batches
// (links soft and hard, link timeouts, cancels, short reads, failing opens, file writes at
// offsets), run on every backend available; the outcomes and the bytes must be the same.
//
//   deno task fuzz                      a bounded slice (30k operations per backend, about two
//                                       minutes), as CI runs it
//   deno task fuzz --ops=1000000        longer
//   deno task fuzz --seed=N --scenarios=1   replay one scenario
//   ... --backends=io_uring,posix,iocp  which backends (default: every one that can run here)
//
// On Linux, iocp runs the same scenarios in the Windows deno under Wine (a child process that
// writes its outcomes to a file); they are compared with the others' here. AIO_REQUIRE_BACKENDS
// (as tests/run.ts reads it) makes a listed backend that cannot run a failure.
//
// Timers are spaced at least 15 ms apart so that which one wins is not a race.
import { aio } from "../../mod.ts";

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
}

function args(): Args {
  const a: Args = { seed: Date.now() % 1_000_000, scenarios: 0, ops: 30_000, backends: undefined, dump: undefined };
  for (const arg of Deno.args) {
    if (arg.startsWith("--seed=")) a.seed = Number(arg.slice(7));
    else if (arg.startsWith("--scenarios=")) a.scenarios = Number(arg.slice(12));
    else if (arg.startsWith("--ops=")) a.ops = Number(arg.slice(6));
    else if (arg.startsWith("--backends=")) a.backends = arg.slice(11).split(",") as aio.BackendName[];
    else if (arg.startsWith("--dump=")) a.dump = arg.slice(7);
    else throw new Error(`unknown argument ${arg}`);
  }
  for (const [k, v] of [["seed", a.seed], ["scenarios", a.scenarios], ["ops", a.ops]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${k} must be a non-negative integer, got ${v}`);
  }
  return a;
}

// mulberry32
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

function generate(seed: number): Batch[] {
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
  const opened: number[] = [];
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
    while (all.some((op) => !settled(op) && !blocked(op)) && performance.now() - t1 < 200) work.completeWithin(5e6);
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
    for (const op of ops) if (op.kind === "openAt" && settled(op) && op.outError === null) opened.push(op.outFile);
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
  for (const f of opened) aio.posix.close(f);
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
  while (plannedOps < opt.ops) plannedOps += generate(seed + scenarios++).reduce((n, b) => n + b.ops.length, 0);
} else {
  for (let s = 0; s < scenarios; s++) plannedOps += generate(seed + s).reduce((n, b) => n + b.ops.length, 0);
}

const required = (Deno.env.get("AIO_REQUIRE_BACKENDS") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const candidates: aio.BackendName[] = opt.backends ?? ["io_uring", "posix", "iocp"];
const local: aio.BackendName[] = [];
let remoteIocp = false;
let problems = 0;
for (const b of candidates) {
  let why = available(b);
  if (why !== undefined && b === "iocp" && opt.dump === undefined) {
    const w = wine();
    if (w === undefined) {
      remoteIocp = true;
      continue;
    }
    why = `${why}; ${w}`;
  }
  if (why === undefined) local.push(b);
  else {
    console.log(`${b}: skipped, ${why}`);
    if (required.includes(b) || opt.backends !== undefined) problems++;
  }
}

const dir = Deno.makeTempDirSync({ prefix: "aio_fuzz_" });
let divergences = 0;
const results: Outcome[][] = []; // per scenario, per local backend
try {
  for (let s = 0; s < scenarios; s++) {
    const batches = generate(seed + s);
    results.push(local.map((b) => run(b, batches, dir)));
  }
  const names = [...local];
  if (remoteIocp) {
    // The same scenarios on iocp, in the Windows deno; its outcomes come back in a file.
    const file = `${dir}/iocp.json`;
    const out = new Deno.Command(windeno, {
      args: [
        "run",
        "-A",
        `Z:${new URL(import.meta.url).pathname}`, // Wine maps the Linux root to Z:
        `--seed=${seed}`,
        `--scenarios=${scenarios}`,
        "--backends=iocp",
        `--dump=Z:${file}`,
      ],
      env: { AIO_BACKEND: "iocp" },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    let dumped: Outcome[] | undefined;
    try {
      dumped = JSON.parse(Deno.readTextFileSync(file)) as Outcome[];
    } catch {
      console.log(
        `iocp: the Windows run wrote no outcomes (exit ${out.code}): ${new TextDecoder().decode(out.stderr)}`,
      );
      problems++;
    }
    if (dumped !== undefined) {
      names.push("iocp");
      dumped.forEach((o, s) => results[s].push(o));
    }
  }
  if (opt.dump !== undefined) {
    Deno.writeTextFileSync(opt.dump, JSON.stringify(results.map((r) => r[0])));
  } else {
    for (let s = 0; s < scenarios; s++) {
      const outcomes = results[s];
      const ref = JSON.stringify(outcomes[0]);
      if (outcomes.every((o) => JSON.stringify(o) === ref)) continue;
      divergences++;
      console.log(`DIVERGENCE seed ${seed + s}: replay with --seed=${seed + s} --scenarios=1`);
      console.log(JSON.stringify(generate(seed + s)));
      outcomes.forEach((o, j) =>
        console.log(names[j], JSON.stringify(o.ops), o.file === outcomes[0].file ? "" : "FILE DIFFERS")
      );
    }
    console.log(
      `${scenarios} scenarios (${plannedOps} operations per backend) from seed ${seed} on ${names.join(", ")}: ` +
        `${divergences} divergences`,
    );
  }
} finally {
  Deno.removeSync(dir, { recursive: true });
}
Deno.exit(divergences > 0 || problems > 0 ? 1 : 0);
