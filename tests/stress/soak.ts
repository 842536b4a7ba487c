// Soak (issue #7): 10 million mixed operations through a Dynamic (blocking), coro tasks and the
// immediate API, with RSS, open fds and Deno's resource table sampled as it goes. It exits
// non-zero when any operation gives an unexpected result or the steady state grows beyond the
// bounds below.
//
//   deno task stress                               both stress scripts (see README.md)
//   deno run -A --v8-flags=--expose-gc tests/stress/soak.ts [--ops=N] [--sample=N]
//
// The backend comes from AIO_BACKEND.
//
// What one cycle runs (about 1/20 of the total):
// - Dynamic, blocking, rounds of 14 or 15 operations: a file write hard-linked to a read back of the
//   same bytes; a send soft-linked to a recv (waitAll) on a socket pair; three linked NOPs; a
//   1 µs timeout; an event source notify and wait; a recv on a silent socket bounded by a
//   linkTimeout (Canceled, Expired); a 10 s timeout and a `cancel` for it (Canceled, success);
//   every 16 rounds an openAt, closed by the next round's closeFile.
// - A short-lived Dynamic (a ring or emulation set up and closed) running 64 NOPs, then a burst
//   of 128 openAt at once and their closeFile.
// - coro: a Scheduler whose tasks ping-pong over a socket pair, write and read a file, and run
//   NOPs and timeouts; closed at the end of the cycle.
// - The immediate API: aio.complete of a NOP and a zero timeout.
import { aio, coro } from "../../mod.ts";
import { fdCount, peakRssMiB, resourceCount, rssMiB } from "./integrity.ts";

// Bounds, fixed before the run. The first WARMUP_FRACTION of the operations, and at least
// WARMUP_SECONDS, is the warm-up (JIT, heap sizing, the posix pool's Workers, which it starts
// lazily up to max(4, 2 × cores) and which the bursts of opens bring to that size, and Deno's own
// runtime, which opens a unix socket pair of its own about a second after start, even in a
// program that only calls fcntl through FFI); after it, every sample must stay within
// RSS_GROWTH_MIB of the RSS at the end of the warm-up, and the open fds and the resource table
// must be exactly what they were then.
const WARMUP_FRACTION = 0.1;
const WARMUP_SECONDS = 5;
const RSS_GROWTH_MIB = 64;

interface Sample {
  ops: number;
  seconds: number;
  rssMiB: number;
  fds: number;
  resources: number;
}

let total = 10_000_000;
let sampleEvery = 100_000;
for (const a of Deno.args) {
  if (a.startsWith("--ops=")) total = Number(a.slice(6));
  else if (a.startsWith("--sample=")) sampleEvery = Number(a.slice(9));
  else throw new Error(`unknown argument ${a}`);
}
const gc = (globalThis as { gc?: () => void }).gc;

const backend = aio.currentBackend();
const fds0 = fdCount();
const res0 = resourceCount();
const t0 = performance.now();
let ops = 0;
const samples: Sample[] = [];
let nextSample = sampleEvery;

/** What each open fd is (readlink of /proc/self/fd/N), to name what a count difference is. */
function fdTable(): Map<string, string> {
  const m = new Map<string, string>();
  if (Deno.build.os === "windows") return m;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      m.set(e.name, Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch {
      // closed meanwhile (the readDir's own fd)
    }
  }
  return m;
}
let warmTable: Map<string, string> | undefined;
let warmFds = 0;
let diffShown = false;

// The round's openAt result, held until the next round closes it: not counted as growth.
let heldFds = 0;

function isWarm(s: Sample): boolean {
  return s.ops >= total * WARMUP_FRACTION && s.seconds >= WARMUP_SECONDS;
}

function sample(): void {
  // A full collection first, when exposed, so that RSS reflects what is live, not what the GC
  // has not got to yet.
  gc?.();
  samples.push({
    ops,
    seconds: (performance.now() - t0) / 1000,
    rssMiB: rssMiB(),
    fds: fdCount() - heldFds,
    resources: resourceCount(),
  });
  const s = samples[samples.length - 1];
  if (warmTable === undefined && isWarm(s)) {
    warmTable = fdTable();
    warmFds = s.fds;
  } else if (warmTable !== undefined && s.fds !== warmFds && !diffShown) {
    diffShown = true;
    const now = fdTable();
    console.log(`at ${ops} ops, ${s.fds} fds where the warm-up ended with ${warmFds}:`);
    for (const [fd, what] of now) if (warmTable.get(fd) !== what) console.log(`  fd ${fd} now: ${what}`);
    for (const [fd, what] of warmTable) if (now.get(fd) !== what) console.log(`  fd ${fd} then: ${what}`);
  }
  if (samples.length % 10 === 0 || ops >= total) {
    console.log(
      `${(ops / 1e6).toFixed(1)}M ops, ${s.seconds.toFixed(0)} s: RSS ${s.rssMiB.toFixed(1)} MiB, ` +
        `fds ${s.fds}, resources ${s.resources}`,
    );
  }
}

function fail(msg: string): never {
  throw new Error(msg);
}

function expect(op: aio.Operation, code: string | null, what: string): void {
  const got = op.outError?.code ?? null;
  if (got !== code) fail(`${what}: ${op.kind} completed ${got}, expected ${code} (after ${ops} ops)`);
}

const dir = Deno.makeTempDirSync({ prefix: "aio_soak_" });
const openDir = aio.openAt({ dir: aio.cwd, path: dir, flags: { directory: true } });
aio.singleSync(openDir);
const dirFd = openDir.outFile;

function openFile(name: string): number {
  const o = aio.openAt({ dir: dirFd, path: name, flags: { mode: "read_write", create: true, truncate: true } });
  aio.singleSync(o);
  return o.outFile;
}

/** Rounds of mixed operations through one long-lived Dynamic, blocking. */
function dynamicPhase(work: aio.Dynamic, state: DynState, target: number): void {
  const { file, a, b, silent, source, wbuf, rbuf, sbuf, recvBuf, silentBuf } = state;
  while (ops < target) {
    const round = state.round++;
    const slot = round % 256;
    wbuf[0] = round & 0xff;
    wbuf[4095] = (round >>> 8) & 0xff;
    sbuf[0] = round & 0xff;
    const write = aio.write({ file, buffer: wbuf, offset: slot * 4096, link: "hard" });
    const read = aio.read({ file, buffer: rbuf, offset: slot * 4096 });
    const send = aio.send({ socket: a, buffer: sbuf, link: "soft" });
    const recv = aio.recv({ socket: b, buffer: recvBuf, flags: { waitAll: true } });
    const silentRecv = aio.recv({ socket: silent, buffer: silentBuf, link: "soft" });
    const lt = aio.linkTimeout({ ns: 1000 });
    const long = aio.timeout({ ns: 10e9 });
    const list: aio.Operation[] = [
      write,
      read,
      send,
      recv,
      aio.nop({ link: "soft" }),
      aio.nop({ link: "hard" }),
      aio.nop(),
      aio.timeout({ ns: 1000 }),
      aio.notifyEventSource({ source }),
      aio.waitEventSource({ source }),
      silentRecv,
      lt,
      long,
    ];
    let open: aio.OpenAt | undefined;
    if (state.toClose !== undefined) {
      list.push(aio.closeFile({ file: state.toClose }));
      state.toClose = undefined;
    } else if (round % 16 === 0) {
      open = aio.openAt({ dir: dirFd, path: "opened", flags: { mode: "read_only", create: true } });
      list.push(open);
    }
    work.queue(list);
    const cancel = aio.cancel({ id: long.outId });
    work.queue(cancel);
    const errors = work.completeAll();
    ops += list.length + 1;
    if (errors !== 3) {
      for (const op of [...list, cancel]) {
        if (op.outError) console.log(`  ${op.kind}: ${op.outError.code}`);
      }
      fail(`round ${round}: ${errors} errors, expected 3 (recv Canceled, linkTimeout Expired, timeout Canceled)`);
    }
    expect(silentRecv, "Canceled", "silent recv");
    expect(lt, "Expired", "linkTimeout");
    expect(long, "Canceled", "long timeout");
    expect(cancel, null, "cancel");
    if (read.outRead !== 4096 || rbuf[0] !== (round & 0xff) || rbuf[4095] !== ((round >>> 8) & 0xff)) {
      fail(`round ${round}: the read back (${read.outRead} bytes) is not what was written`);
    }
    if (recv.outRead !== sbuf.length || recvBuf[0] !== (round & 0xff)) fail(`round ${round}: recv got other bytes`);
    if (open) state.toClose = open.outFile;
    heldFds = state.toClose === undefined ? 0 : 1;
    if (ops >= nextSample) {
      sample();
      nextSample += sampleEvery;
    }
  }
}

interface DynState {
  file: number;
  a: number;
  b: number;
  silent: number;
  source: aio.EventSource;
  wbuf: Uint8Array;
  rbuf: Uint8Array;
  sbuf: Uint8Array;
  recvBuf: Uint8Array;
  silentBuf: Uint8Array;
  round: number;
  toClose: number | undefined;
}

/** Tasks on a fresh scheduler: ping-pong, file I/O, NOPs and timeouts; `target` ops in all. */
async function coroPhase(file: number, target: number): Promise<void> {
  const scheduler = new coro.Scheduler();
  const [x, y] = aio.posix.socketpair();
  // Four tasks, each `per` operations (two per iteration), so that the phase ends at `target`.
  const per = Math.max(2, Math.ceil((target - ops) / 4));
  let count = 0;
  try {
    const pinger = scheduler.spawn(async () => {
      const out = new Uint8Array(64);
      const back = new Uint8Array(64);
      for (let i = 0; i < per / 2; i++) {
        out[0] = i & 0xff;
        await coro.io.single(aio.send({ socket: x, buffer: out }));
        const r = aio.recv({ socket: x, buffer: back, flags: { waitAll: true } });
        await coro.io.single(r);
        if (back[0] !== ((i + 1) & 0xff)) fail(`ping-pong ${i}: got ${back[0]}`);
        count += 2;
      }
    }, []);
    const ponger = scheduler.spawn(async () => {
      const buf = new Uint8Array(64);
      for (let i = 0; i < per / 2; i++) {
        await coro.io.single(aio.recv({ socket: y, buffer: buf, flags: { waitAll: true } }));
        buf[0] = (buf[0] + 1) & 0xff;
        await coro.io.single(aio.send({ socket: y, buffer: buf }));
        count += 2;
      }
    }, []);
    const filer = scheduler.spawn(async () => {
      const w = new Uint8Array(512);
      const r = new Uint8Array(512);
      for (let i = 0; i < per / 2; i++) {
        w[0] = i & 0xff;
        const off = (1 << 20) + (i % 64) * 512;
        await coro.io.multi([
          aio.write({ file, buffer: w, offset: off, link: "hard" }),
          aio.read({ file, buffer: r, offset: off }),
        ]);
        if (r[0] !== (i & 0xff)) fail(`coro file ${i}: read ${r[0]}`);
        count += 2;
      }
    }, []);
    const timer = scheduler.spawn(async () => {
      for (let i = 0; i < per / 2; i++) {
        await coro.io.complete([aio.nop({ link: "soft" }), aio.timeout({ ns: 0 })]);
        count += 2;
      }
    }, []);
    await Promise.all([pinger, ponger, filer, timer].map((t) => t.complete("wait")));
  } finally {
    await scheduler.close();
    aio.posix.close(x);
    aio.posix.close(y);
  }
  ops += count;
}

let ok = true;
/** RSS at the end of each cycle, after a collection: the trend, at one point of the cycle. */
const cycleRss: number[] = [];
/** V8's heap in use and its external memory (ArrayBuffer stores) at the same points. */
const cycleHeap: number[] = [];
const cycleExternal: number[] = [];
console.log(`soak: backend ${backend}, ${total} operations, a sample every ${sampleEvery}`);
const file = openFile("data");
const [a, b] = aio.posix.socketpair();
const [silent, silentPeer] = aio.posix.socketpair();
const source = new aio.EventSource();
const work = new aio.Dynamic({ capacity: 64, syncOnly: true });
const state: DynState = {
  file,
  a,
  b,
  silent,
  source,
  wbuf: new Uint8Array(4096).fill(7),
  rbuf: new Uint8Array(4096),
  sbuf: new Uint8Array(512).fill(3),
  recvBuf: new Uint8Array(512),
  silentBuf: new Uint8Array(64),
  round: 0,
  toClose: undefined,
};
const cycles = 20;
try {
  for (let c = 1; c <= cycles; c++) {
    const end = Math.ceil((total * c) / cycles);
    const span = end - ops;
    dynamicPhase(work, state, ops + Math.floor(span * 0.8));
    {
      using brief = new aio.Dynamic({ capacity: 128 });
      brief.queue(Array.from({ length: 64 }, () => aio.nop()));
      if (brief.completeAll() !== 0) fail("a short-lived queue's NOPs failed");
      // A burst of 128 opens at once, then their closes: on posix every open goes to the pool,
      // which so grows to its full size (its Workers hold fds) in the first cycle, not later.
      const opens = Array.from({ length: 128 }, () => aio.openAt({ dir: dirFd, path: "data" }));
      brief.queue(opens);
      if (brief.completeAll() !== 0) fail("a burst of opens failed");
      brief.queue(opens.map((o) => aio.closeFile({ file: o.outFile })));
      if (brief.completeAll() !== 0) fail("closing a burst of opens failed");
      ops += 64 + 256;
    }
    for (let i = 0; i < 200; i++) {
      const errs = await aio.complete([aio.nop({ link: "soft" }), aio.timeout({ ns: 0 })]);
      if (errs !== 0) fail("immediate: a NOP and a zero timeout failed");
      ops += 2;
    }
    await coroPhase(file, end);
    if (ops >= nextSample) {
      sample();
      nextSample = (Math.floor(ops / sampleEvery) + 1) * sampleEvery;
    }
    gc?.();
    const mem = Deno.memoryUsage();
    cycleRss.push(rssMiB());
    cycleHeap.push(mem.heapUsed / 2 ** 20);
    cycleExternal.push(mem.external / 2 ** 20);
  }
} catch (err) {
  ok = false;
  console.log(`FAILED: ${err instanceof Error ? err.stack : err}`);
} finally {
  if (state.toClose !== undefined) aio.posix.close(state.toClose);
  work.close();
  source.close();
  for (const fd of [file, a, b, silent, silentPeer, dirFd]) aio.posix.close(fd);
  Deno.removeSync(dir, { recursive: true });
}
const seconds = (performance.now() - t0) / 1000;

// The steady state against the bounds.
const warm = samples.find(isWarm);
const problems: string[] = [];
if (ok && warm !== undefined) {
  const steady = samples.filter((s) => s.ops >= warm.ops);
  const maxRss = Math.max(...steady.map((s) => s.rssMiB));
  if (maxRss - warm.rssMiB > RSS_GROWTH_MIB) {
    problems.push(`RSS grew ${(maxRss - warm.rssMiB).toFixed(1)} MiB after the warm-up (bound ${RSS_GROWTH_MIB})`);
  }
  for (const s of steady) {
    if (s.fds !== warm.fds) problems.push(`at ${s.ops} ops: ${s.fds} fds open, ${warm.fds} after the warm-up`);
    if (s.resources !== warm.resources) {
      problems.push(`at ${s.ops} ops: ${s.resources} resources, ${warm.resources} after the warm-up`);
    }
  }
  const last = steady[steady.length - 1];
  console.log(
    `steady state (${warm.ops} -> ${last.ops} ops): RSS ${warm.rssMiB.toFixed(1)} -> ${last.rssMiB.toFixed(1)} MiB ` +
      `(max ${maxRss.toFixed(1)}, bound +${RSS_GROWTH_MIB}), fds ${warm.fds} -> ${last.fds}, ` +
      `resources ${warm.resources} -> ${last.resources}`,
  );
} else if (ok) {
  problems.push("no sample after the warm-up: raise --ops or lower --sample");
}
const fds1 = fdCount();
const res1 = resourceCount();
console.log(
  `${ops} operations in ${seconds.toFixed(1)} s (${(ops / seconds / 1e3).toFixed(0)}k/s); peak RSS ` +
    `${peakRssMiB().toFixed(1)} MiB; fds ${fds0} -> ${fds1}; resources ${res0} -> ${res1}`,
);
console.log(`RSS at the end of each cycle (MiB): ${cycleRss.map((r) => r.toFixed(0)).join(" ")}`);
console.log(`V8 heap used (MiB): ${cycleHeap.map((r) => r.toFixed(1)).join(" ")}`);
console.log(`V8 external (MiB): ${cycleExternal.map((r) => r.toFixed(1)).join(" ")}`);
for (const p of problems.slice(0, 10)) console.log(`bound exceeded: ${p}`);
if (!ok || problems.length > 0) Deno.exit(1);
