// Stream scenarios of the differential fuzzer: a pipe, a socketpair or a loopback TCP pair, with
// reads, writes, recv, send, readv, writev, shutdown, closes (also while a read waits), short
// buffers, links, link timeouts and cancels. See differential.ts for how they are run and compared.
//
// What makes an outcome the same on every backend, and how this file keeps it so:
//
// - Quiescence between batches. After each batch the runner completes until every operation has
//   finished except the stuck ones and what is linked behind them. Stuck: a long timeout, and a
//   read that has started and has no way to complete (the greatest fixed point: every unfinished
//   read is assumed stuck, then one is taken out if data is unread in its direction, the direction
//   has ended, a cancel or a closeSocket found it, a short linkTimeout follows it, or a write to
//   its direction can run, until nothing changes; two reads can wait for each other's chains).
//   So a batch starts with nothing in flight but stuck operations, and nothing is timed.
// - One reader per direction. Whether a waiting read gets one write's bytes or two depends on when
//   it wakes, and two waiting reads race for the same bytes. So the runner turns into a NOP: a read
//   of a direction with an earlier read still unfinished or more than one earlier write unfinished;
//   while an earlier read waits, every write to its direction but the first one of the batch (and
//   any, if an earlier write is unfinished too). A write (or end) that wakes an earlier read lets
//   that read's chain go on alongside the rest of its batch, so the rest of the batch touches no
//   stream (NOPs; a cancel of the woken read would race with its wake-up: io_uring runs the wake-up
//   first, posix the cancel). With at most one write arriving at a waiting read, it gets
//   min(its length, that write's length), on every backend. A read queued after data is there
//   (written earlier in its own chain, or by earlier batches) gets min(length, unread): pipes,
//   AF_UNIX and TCP all return everything queued up to the length, and the data of a write that
//   has completed is queued at the peer (TCP_NODELAY is set, so Nagle holds nothing back, and a
//   scenario writes a handful of small segments, within the initial congestion window). So the
//   per-read split is compared exactly, bytes included, not only the concatenation.
// - These decisions depend only on earlier outcomes, which are compared too: while the backends
//   agree, they make the same decisions; the first difference is reported as it is.
// - Closes. A close of an end runs only when nothing unfinished uses that end or its directions,
//   except one waiting read of that end with nothing stream-related (nor a cancel) after it in its
//   chain (closes while pending), nothing written to it is unread (a TCP or AF_UNIX close with unread data
//   resets the connection instead of ending it), and nothing earlier in the batch wrote to it.
//   Afterwards operations on that end become NOPs, and nothing more is written into it. Ending a
//   direction (closing its writer, shutdown "send") makes reads of it complete with what is left,
//   then 0 bytes, on every backend.
// - A close while a read waits: `closeSocket` cancels the socket's operations first on every
//   backend (io_uring: the library's hidden cancel; posix: the waiters; iocp: CancelIoEx), so the
//   read ends `Canceled`, compared exactly. `closeFile` of a pipe's read end does not, and there
//   the backends differ by design: on io_uring the read keeps its file and waits (it would even
//   see the writer's end of file), on posix its registration goes with the fd and it waits, until
//   the final sweep cancels it (`Canceled`); on iocp closing the handle ends the read at once with
//   0 bytes (a broken pipe). Only the invariant is compared for such a read: `Canceled`, or 0
//   bytes. It counts as stuck, its pipe's writer is not closed before the sweep, and a cancel
//   aimed at it becomes a NOP (found on io_uring and posix, already done on iocp).
// - Known divergences kept out (each reported with a reproduction, not hidden elsewhere): a read
//   linked behind a shutdown (io_uring issues it from the worker that ran the shutdown, where it
//   blocks: a cancel says InProgress and it ends Interrupted, a linkTimeout does not end it), and
//   a write that would run after its socket's shutdown (EPIPE on Linux, ok with 0 bytes on iocp
//   under Wine).
// - Link timeouts: 30 ms on a read (which either has its data at once, or waits for data that no
//   running operation brings), 5 ms only against a NOP or a 20 ms timeout, else long.
import { aio } from "../../mod.ts";

const DEBUG = Deno.env.get("AIO_FUZZ_DEBUG") === "1";

/**
 * How often a wait for a batch gave up (the limit is far above any normal wait; a hit means that
 * something thought to finish did not, and the next batch may then race with it).
 */
export const waitLimits = { hit: 0 };

/** Generous: fsync and pool Workers can be slow on a loaded machine. */
export const WAIT_LIMIT_MS = Number(Deno.env.get("AIO_FUZZ_WAIT_LIMIT_MS") ?? 10_000);

/** Long enough never to expire while a scenario runs. */
export const LONG = 10_000;

export type Channel = "pipe" | "socketpair" | "tcp";

export type StreamSpec =
  | { k: "nop" }
  | { k: "timeout"; ms: number }
  | { k: "linkTimeout"; ms: number }
  | { k: "write"; d: number; via: "write" | "send" | "writev"; len: number; seq: number }
  | { k: "read"; d: number; via: "read" | "recv" | "readv"; len: number }
  | { k: "eof"; d: number; via: "close" | "shutdown" }
  | { k: "closeReader"; d: number }
  | { k: "cancel"; target: number }; // index of an earlier operation of the scenario (long timeout or read)

export interface StreamScenario {
  channel: Channel;
  batches: { ops: StreamSpec[]; links: aio.Link[] }[];
}

/** A stream scenario from a random source. */
export function generateStream(r: () => number): StreamScenario {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const channel = pick(["pipe", "socketpair", "tcp"] as const);
  const dirs = channel === "pipe" ? 1 : 2;
  const socket = channel !== "pipe";
  const batches: StreamScenario["batches"] = [];
  let index = 0;
  let seq = 0;
  let cancelable: number[] = [];
  const n = 3 + Math.floor(r() * 6);
  for (let b = 0; b < n; b++) {
    const ops: StreamSpec[] = [];
    const links: aio.Link[] = [];
    const len = 1 + Math.floor(r() * 6);
    const newTargets: number[] = [];
    for (let i = 0; i < len; i++) {
      const prev = ops[i - 1];
      const prevLinked = i > 0 && links[i - 1] !== "unlinked";
      const afterLong = prev?.k === "timeout" && prev.ms === LONG;
      const roll = r();
      let spec: StreamSpec;
      const d = Math.floor(r() * dirs);
      if (prevLinked && prev.k !== "linkTimeout" && !afterLong && roll < 0.15) {
        const timed = prev.k === "nop" || (prev.k === "timeout" && prev.ms === 20);
        spec = { k: "linkTimeout", ms: timed ? pick([5, LONG]) : prev.k === "read" ? pick([30, 30, LONG]) : LONG };
      } else if (roll < 0.22) spec = { k: "nop" };
      else if (roll < 0.3) {
        spec = { k: "timeout", ms: ops.every((o) => o.k === "nop") ? pick([0, 20, LONG]) : pick([0, 0, 20]) };
      } else if (roll < 0.58) {
        spec = {
          k: "write",
          d,
          via: socket ? pick(["write", "send", "send", "writev"] as const) : pick(["write", "writev"] as const),
          len: pick([1, 5, 16, 40]),
          seq: seq++,
        };
      } else if (roll < 0.84) {
        spec = {
          k: "read",
          d,
          via: socket ? pick(["read", "recv", "recv", "readv"] as const) : pick(["read", "readv"] as const),
          len: pick([1, 3, 8, 16, 64]),
        };
      } else if (roll < 0.89) spec = { k: "eof", d, via: socket ? pick(["close", "shutdown"] as const) : "close" };
      else if (roll < 0.95) spec = { k: "closeReader", d };
      else if (cancelable.length > 0 && i === len - 1) spec = { k: "cancel", target: pick(cancelable) };
      else spec = { k: "nop" };
      if ((spec.k === "timeout" && spec.ms === LONG) || spec.k === "read") newTargets.push(index);
      index++;
      ops.push(spec);
      // One chain per batch, as in the file scenarios: unlinked operations of a batch would run
      // concurrently, and which goes first would be a race.
      links.push(i === len - 1 ? "unlinked" : pick(["soft", "hard"] as const));
    }
    batches.push({ ops, links });
    cancelable = [...cancelable, ...newTargets];
  }
  return { channel, batches };
}

interface Pair {
  /** ends[0], ends[1]; direction d goes from writer(d) to reader(d). */
  ends: number[];
  writer: (d: number) => number;
  reader: (d: number) => number;
}

function tcpNoDelay(fd: number): void {
  aio.posix.setsockopt(fd, aio.constants.IPPROTO.TCP, 1, /* TCP_NODELAY, on Linux and Windows */ 1);
}

function open(channel: Channel, work: aio.Dynamic): Pair {
  if (channel === "pipe") {
    const [r, w] = aio.posix.pipe();
    return { ends: [w, r], writer: () => 0, reader: () => 1 };
  }
  let ends: number[];
  if (channel === "socketpair") {
    ends = aio.posix.socketpair();
    // On Windows a socketpair is a loopback TCP pair.
    if (Deno.build.os === "windows") ends.forEach(tcpNoDelay);
  } else {
    const { AF, SOCK, IPPROTO, SOL, SO } = aio.constants;
    const mk = () => {
      const s = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
      work.queue(s);
      work.completeAll();
      if (s.outError) throw s.outError;
      return s.outSocket;
    };
    const l = mk();
    aio.posix.setsockopt(l, SOL.SOCKET, SO.REUSEADDR, 1);
    aio.posix.bind(l, aio.ipv4("127.0.0.1", 0));
    aio.posix.listen(l, 4);
    const c = mk();
    const acc = aio.accept({ socket: l });
    const con = aio.connect({ socket: c, addr: aio.posix.getsockname(l) });
    work.queue([acc, con]);
    work.completeAll();
    aio.posix.close(l);
    if (acc.outError) throw acc.outError;
    if (con.outError) throw con.outError;
    ends = [c, acc.outSocket];
    ends.forEach(tcpNoDelay);
  }
  return { ends, writer: (d) => d, reader: (d) => 1 - d };
}

function pattern(seq: number, len: number): Uint8Array {
  return new Uint8Array(len).map((_, i) => (seq * 37 + i * 11 + 1) & 255);
}

interface Meta {
  /** Direction it reads, writes or ends; -1 for none. */
  d: number;
  role: "read" | "write" | "eof" | "close" | "other";
  /** The end an operation uses (-1: none); a close closes it. */
  end: number;
  chain: aio.Operation[];
  long: boolean;
  /** A linkTimeout that expires while the scenario runs. */
  short?: boolean;
}

/** Runs a stream scenario on a backend: one line per operation (kind, error, count and bytes). */
export function runStream(backend: aio.BackendName, sc: StreamScenario): string[] {
  const done = new Set<unknown>();
  using work = new aio.Dynamic({
    capacity: 256,
    backend,
    debug: false,
    handler: { aioComplete: (_id, userdata) => done.add(userdata) },
  });
  const pair = open(sc.channel, work);
  done.clear(); // the setup's operations
  const dirs = sc.channel === "pipe" ? 1 : 2;
  const settled = (op: aio.Operation) => done.has(op.userdata);
  const all: aio.Operation[] = [];
  // AIO_FUZZ_DEBUG: every operation's outcome so far, or "?" while it is in flight.
  const trace = (label: string): void =>
    console.error(
      label,
      all.map((o) =>
        `${o.kind}${
          settled(o)
            ? ":" + (o.outError?.code ?? "ok") + ":" + JSON.stringify((o as { outRead?: number }).outRead ?? "")
            : "?"
        }`
      ).join(" "),
    );
  const meta = new Map<aio.Operation, Meta>();
  const closedEnd = [false, false];
  const noWrites = new Array(dirs).fill(false); // ended, or its reader closed
  const readerClosed = new Array(dirs).fill(false);
  const closes: aio.Operation[] = [];
  const cancelOf = new Map<aio.Operation, aio.Operation>();
  /** Reads left waiting by a closeFile of their pipe's read end. */
  const closedUnder = new Set<aio.Operation>();
  const ok = (op: aio.Operation) => settled(op) && op.outError === null;
  const count = (op: aio.Operation) =>
    (op as { outRead?: number; outWritten?: number }).outRead ??
      (op as { outWritten?: number }).outWritten ?? 0;
  const unread = (d: number) => {
    let n = 0;
    for (const [op, m] of meta) {
      if (m.d !== d || !ok(op)) continue;
      if (m.role === "write") n += count(op);
      else if (m.role === "read") n -= count(op);
    }
    return n;
  };
  const ended = (d: number) => [...meta].some(([op, m]) => m.d === d && m.role === "eof" && ok(op));
  const unsettled = (role: Meta["role"] | "writeish", d: number) =>
    all.filter((op) => {
      const m = meta.get(op)!;
      if (settled(op) || m.d !== d || !earlier(op)) return false;
      return role === "writeish" ? m.role === "write" || m.role === "eof" : m.role === role;
    });
  // Stuck: what nothing running will finish (see the header).
  // The greatest fixed point: every unfinished read and long timeout is assumed stuck, then a
  // read that has started (nothing stuck before it in its chain) and has a way to complete is
  // taken out, until nothing changes. (Two reads can wait for each other's chains' writes.)
  const stuckSet = (): Set<aio.Operation> => {
    const stuck = new Set<aio.Operation>();
    for (const op of all) if (!settled(op) && (meta.get(op)!.long || meta.get(op)!.role === "read")) stuck.add(op);
    const started = (op: aio.Operation) => {
      const chain = meta.get(op)!.chain;
      return !chain.slice(0, chain.indexOf(op)).some((o) => stuck.has(o));
    };
    for (let changed = true; changed;) {
      changed = false;
      for (const op of stuck) {
        const m = meta.get(op)!;
        if (m.role !== "read" || !started(op)) continue;
        // Closed under it: closeSocket cancels it (it will complete), closeFile of a pipe does
        // not (it waits on io_uring and posix; iocp aborts it, and nothing depends on when).
        const closedUnder = closes.some((c) => ok(c) && meta.get(c)!.end === m.end);
        if (closedUnder && sc.channel === "pipe") continue;
        // A cancel that found it (or found it running): it completes, on iocp when the port says so.
        const canceled = [...cancelOf].some(([c, t]) =>
          t === op && settled(c) && (c.outError === null || c.outError.code === "InProgress")
        );
        // A short linkTimeout after it will end the wait.
        const next = m.chain[m.chain.indexOf(op) + 1];
        const live = closedUnder || canceled || (next !== undefined && meta.get(next)!.short) || unread(m.d) > 0 ||
          ended(m.d) ||
          all.some((w) => {
            const mw = meta.get(w)!;
            return !settled(w) && mw.d === m.d && (mw.role === "write" || mw.role === "eof") && started(w);
          });
        if (live) {
          stuck.delete(op);
          changed = true;
        }
      }
    }
    return stuck;
  };
  const finish = (limitMs: number) => {
    const t1 = performance.now();
    for (;;) {
      const stuck = stuckSet();
      const pending = all.filter((op) => {
        if (settled(op) || stuck.has(op)) return false;
        const c = meta.get(op)!.chain;
        return !c.slice(0, c.indexOf(op)).some((o) => stuck.has(o));
      });
      if (pending.length === 0) return;
      if (performance.now() - t1 > limitMs) {
        waitLimits.hit++;
        if (DEBUG) console.error("gave up on", pending.map((o) => `${o.userdata}:${o.kind}`).join(" "));
        return;
      }
      work.completeWithin(5e6);
    }
  };

  const earlier = (op: aio.Operation) => (op.userdata as number) < batchStart;
  let batchStart = 0;
  for (const batch of sc.batches) {
    batchStart = all.length;
    const chain: aio.Operation[] = [];
    const batchWrites = new Array(dirs).fill(0);
    const wroteInto = new Array(dirs).fill(false);
    // Whether this batch wrote to (or ended) a direction an earlier read waits on: that read's
    // chain then goes on alongside the rest of this batch, so the rest touches no stream.
    let woke = false;
    let afterShutdown = false;
    for (const [i, spec] of batch.ops.entries()) {
      const link = batch.links[i];
      let op: aio.Operation | undefined;
      let m: Omit<Meta, "chain"> = { d: -1, role: "other", end: -1, long: false };
      const streamOp = spec.k !== "nop" && spec.k !== "timeout" && spec.k !== "linkTimeout";
      if (!(woke && streamOp)) {
        switch (spec.k) {
          case "nop":
            break;
          case "timeout":
            op = aio.timeout({ ns: spec.ms * 1e6, link });
            m.long = spec.ms === LONG;
            break;
          case "linkTimeout":
            // A NOP in its place would change what it is linked to: keep it only after a real operation.
            op = aio.linkTimeout({ ns: spec.ms * 1e6, link });
            m.short = spec.ms !== LONG;
            break;
          case "write": {
            const { d } = spec;
            const e = pair.writer(d);
            const waitingRead = unsettled("read", d).length > 0;
            const allowed = spec.d < dirs && !closedEnd[e] && !noWrites[d] &&
              (!waitingRead || (unsettled("writeish", d).length === 0 && batchWrites[d] === 0));
            if (!allowed) break;
            batchWrites[d]++;
            wroteInto[d] = true;
            woke ||= waitingRead;
            const fd = pair.ends[e];
            const data = pattern(spec.seq, spec.len);
            const cut = spec.len >> 1;
            op = spec.via === "write"
              ? aio.write({ file: fd, buffer: data, link })
              : spec.via === "send"
              ? aio.send({ socket: fd, buffer: data, link })
              : aio.writev({ file: fd, iov: [data.subarray(0, cut), data.subarray(cut)], link });
            m = { d, role: "write", end: e, long: false };
            break;
          }
          case "read": {
            const { d } = spec;
            const e = pair.reader(d);
            // Not behind a shutdown in its chain: io_uring runs shutdown on its workers and issues
            // what is linked behind it from there, where a read blocks the worker: a cancel then
            // says InProgress and the read ends Interrupted, and a linkTimeout does not end it at
            // all (posix and iocp: Canceled, ok, Expired). Known, reported with a reproduction.
            const allowed = !afterShutdown && spec.d < dirs && !closedEnd[e] && unsettled("read", d).length === 0 &&
              unsettled("writeish", d).length <= 1;
            if (!allowed) break;
            const fd = pair.ends[e];
            const cut = Math.max(1, spec.len >> 2);
            op = spec.via === "read"
              ? aio.read({ file: fd, buffer: new Uint8Array(spec.len), link })
              : spec.via === "recv"
              ? aio.recv({ socket: fd, buffer: new Uint8Array(spec.len), link })
              : aio.readv({ file: fd, iov: [new Uint8Array(cut), new Uint8Array(spec.len - cut)], link });
            m = { d, role: "read", end: e, long: false };
            break;
          }
          case "eof":
          case "closeReader": {
            const { d } = spec;
            if (d >= dirs) break;
            const shutdown = spec.k === "eof" && spec.via === "shutdown";
            const e = spec.k === "eof" ? pair.writer(d) : pair.reader(d);
            if (closedEnd[e]) break;
            if (shutdown) {
              // Not with a write to this direction still to run: a send after its socket's
              // shutdown is EPIPE on Linux but ends ok with 0 bytes on iocp under Wine (a known
              // divergence, reported with its reproduction; tests/fuzz does not hide others).
              if (
                noWrites[d] || unsettled("writeish", d).length > 0 ||
                (unsettled("read", d).length > 0 && batchWrites[d] > 0)
              ) break;
              batchWrites[d]++;
              noWrites[d] = true;
              woke ||= unsettled("read", d).length > 0;
              op = aio.shutdown({ socket: pair.ends[e], how: "send", link });
              afterShutdown = true;
              m = { d, role: "eof", end: e, long: false };
              break;
            }
            // A close: the directions this end writes and reads.
            const outDir = sc.channel === "pipe" ? (e === 0 ? 0 : -1) : e;
            const inDir = sc.channel === "pipe" ? (e === 1 ? 0 : -1) : 1 - e;
            // Nothing unfinished may use this end, but one waiting read of it, with nothing stream-related after it.
            const users = all.filter((o) => !settled(o) && earlier(o) && meta.get(o)!.end === e);
            // The close ends that read (closeSocket) while it may also end the other direction's
            // waiting read: what follows the first must not race with what the second unlocks
            // (a cancel there would find the other chain's read running or done).
            const tail = (o: aio.Operation) => {
              const c = meta.get(o)!.chain;
              return c.slice(c.indexOf(o) + 1).every((x) =>
                meta.get(x)!.d === -1 && meta.get(x)!.end === -1 && x.kind !== "cancel"
              );
            };
            const parked = (o: aio.Operation) => {
              const st = stuckSet();
              const c = meta.get(o)!.chain;
              return st.has(o) && !c.slice(0, c.indexOf(o)).some((x) => st.has(x));
            };
            if (
              users.length > 1 ||
              (users.length === 1 && (meta.get(users[0])!.role !== "read" || !tail(users[0]) || !parked(users[0])))
            ) {
              break;
            }
            if (outDir >= 0 && unsettled("writeish", outDir).length > 0) break;
            // A read left waiting by the close of its pipe's read end: on io_uring it holds the file
            // and would see this end of file; on posix and iocp it cannot (README, "Where the
            // backends differ"). Its writer stays open until the final sweep has canceled it.
            if (sc.channel === "pipe" && outDir >= 0 && readerClosed[outDir]) break;
            if (inDir >= 0 && (unsettled("writeish", inDir).length > 0 || wroteInto[inDir] || unread(inDir) > 0)) break;
            if (outDir >= 0 && unsettled("read", outDir).length > 0 && batchWrites[outDir] > 0) break;
            closedEnd[e] = true;
            if (outDir >= 0) {
              noWrites[outDir] = true;
              woke ||= unsettled("read", outDir).length > 0;
            }
            if (inDir >= 0) {
              noWrites[inDir] = true;
              readerClosed[inDir] = true;
            }
            op = sc.channel === "pipe"
              ? aio.closeFile({ file: pair.ends[e], link })
              : aio.closeSocket({ socket: pair.ends[e], link });
            // Closing a writer ends its direction; a socket's close also closes the reader of the other.
            m = { d: outDir, role: outDir >= 0 ? "eof" : "close", end: e, long: false };
            closes.push(op);
            if (sc.channel === "pipe" && users.length === 1) closedUnder.add(users[0]);
            break;
          }
          case "cancel": {
            // A read whose pipe read end was closed under it waits on io_uring and posix, and was
            // aborted at the close on iocp: canceling it again would find it or not.
            const target = all[spec.target];
            const tm = target && meta.get(target)!;
            if (tm && tm.role === "read" && readerClosed[tm.d]) break;
            op = aio.cancel({ id: target?.outId ?? 0, link });
            if (target) cancelOf.set(op, target);
            break;
          }
        }
      }
      op ??= aio.nop({ link });
      op.userdata = all.length;
      all.push(op);
      chain.push(op);
      meta.set(op, { ...m, chain });
    }
    // A dropped operation could leave a linkTimeout right after a NOP that the generator did not
    // plan; that is still valid (and the same on every backend).
    work.queue(chain);
    if (DEBUG) console.error("queued", chain.map((o) => o.kind).join(" "));
    finish(WAIT_LIMIT_MS);
    if (DEBUG) trace("after");
  }
  finish(WAIT_LIMIT_MS);
  // The rest: cancel what is still in flight one at a time, letting what each unlocks finish.
  for (const op of all) {
    for (let tries = 0; tries < 100 && !settled(op); tries++) {
      work.cancel(op.outId);
      work.completeWithin(2e6);
    }
    finish(WAIT_LIMIT_MS);
  }
  if (DEBUG) trace("swept");
  work.completeAll();
  for (const [e, fd] of pair.ends.entries()) {
    if (!closes.some((c) => meta.get(c)!.end === e && c.outError === null)) aio.posix.close(fd);
  }
  const isRead = (op: aio.Operation) => op.kind === "read" || op.kind === "recv" || op.kind === "readv";
  return all.map((op) => {
    const o = op as { outRead?: number; outWritten?: number; buffer?: Uint8Array; iov?: Uint8Array[] };
    const code = op.outError?.code ?? "ok";
    let extra = "";
    if (isRead(op)) {
      const buf = o.buffer ?? new Uint8Array(o.iov!.flatMap((b) => [...b]));
      extra = `/${o.outRead}:${[...buf.subarray(0, o.outRead ?? 0)].join(",")}`;
      // The invariants compared where the backends differ by design (see the header).
      if (closedUnder.has(op) && (code === "Canceled" || (code === "ok" && o.outRead === 0))) {
        return `${op.kind}:closed under it (Canceled, or 0 bytes on iocp)`;
      }
    } else if (op.kind === "write" || op.kind === "send" || op.kind === "writev") extra = `/${o.outWritten}`;
    return `${op.kind}:${code}${extra}`;
  });
}

/** mulberry32: a seeded generator of numbers in [0, 1), the same on every backend and platform. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
