// Fault injection (issue #7): each fault gives a typed error or a documented outcome, never a
// hang, a crash or a lost completion. Faults are made through the real kernel: RST and EPIPE over
// loopback, lowered rlimits in child processes, signals, tiny rings, terminated Workers, exits.
import { aio, assert, closeAll, enc, tcpPair, WINDOWS, withTempDir } from "./_helpers.ts";

const backend = aio.currentBackend();
const here = (p: string) => new URL(p, import.meta.url);
// The path of a child script as the running deno takes it (a Windows path under Wine).
const script = (p: string) => (WINDOWS ? here(p).pathname.slice(1) : here(p).pathname);

// Linux-only fault makers: setsockopt with a struct, and signals to one thread.
const libc = WINDOWS ? undefined! : Deno.dlopen("libc.so.6", {
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  tgkill: { parameters: ["i32", "i32", "i32"], result: "i32" },
  getpid: { parameters: [], result: "i32" },
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
});

// SIGWINCH: a signal Deno can listen to whose default action is to ignore it, so that one still
// pending when a test removes its listener cannot kill the test process.
const SIGWINCH = 28;

/** The ids of this process's threads, from /proc through libc (Deno's own API would need -A). */
function threadIds(pid: number): number[] {
  const dir = libc.symbols.opendir(enc.encode(`/proc/${pid}/task\0`));
  assert.ok(dir !== null);
  const ids: number[] = [];
  try {
    for (let e = libc.symbols.readdir(dir); e !== null; e = libc.symbols.readdir(dir)) {
      const name = new Deno.UnsafePointerView(e).getCString(19); // glibc's struct dirent: d_name
      if (name[0] !== ".") ids.push(Number(name));
    }
  } finally {
    libc.symbols.closedir(dir);
  }
  return ids;
}

/** The ids of this process's Worker threads (Deno names them `worker-N`). */
function workerThreads(): number[] {
  const pid = libc.symbols.getpid();
  return threadIds(pid).filter((tid) => {
    const fd = libc.symbols.open(enc.encode(`/proc/${pid}/task/${tid}/comm\0`), 0);
    if (fd < 0) return false; // it just exited
    const buf = new Uint8Array(32);
    const n = libc.symbols.read(fd, buf, 32);
    libc.symbols.close(fd);
    return n > 0 && new TextDecoder().decode(buf.subarray(0, n)).startsWith("worker-");
  });
}

/** Makes the next close of `fd` reset the connection (SO_LINGER on, 0 s): the peer gets an RST. */
function lingerZero(fd: number): void {
  const { SOL, SO } = aio.constants;
  // Windows' struct linger is two u_shorts, so the int 1 is { l_onoff: 1, l_linger: 0 }.
  if (WINDOWS) return aio.posix.setsockopt(fd, SOL.SOCKET, SO.LINGER, 1);
  const linger = new Int32Array([1, 0]);
  assert.equal(libc.symbols.setsockopt(fd, SOL.SOCKET, SO.LINGER, new Uint8Array(linger.buffer), 8), 0);
}

/** Completes until `done()` or `limit` blocking rounds (each bounded), so a lost completion fails instead of hanging. */
function completeUntil(work: aio.Dynamic, done: () => boolean, limit = 400): void {
  for (let i = 0; i < limit && !done(); i++) work.completeWithin(50e6);
}

/** Runs a child deno with a time bound: a hang fails the test instead of stalling it. */
async function child(args: string[], ms = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const signal = AbortSignal.timeout(ms);
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped", signal }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

// ---------------------------------------------------------------------------------------------
// The peer resets mid-stream.

Deno.test("ECONNRESET: a recv in flight when the peer resets fails ConnectionResetByPeer", async () => {
  const { server, client, listener } = await tcpPair();
  using work = new aio.Dynamic({ capacity: 8 });
  // Mid-stream: some data went through first.
  const first = aio.recv({ socket: server, buffer: new Uint8Array(64) });
  work.queue([aio.send({ socket: client, buffer: enc.encode("hello") }), first]);
  completeUntil(work, () => work.inFlight === 0);
  assert.equal(first.outRead, 5);
  const recv = aio.recv({ socket: server, buffer: new Uint8Array(64) });
  work.queue(recv);
  work.complete("nonblocking");
  assert.equal(work.inFlight, 1);
  lingerZero(client);
  aio.posix.close(client);
  completeUntil(work, () => work.inFlight === 0);
  assert.equal(work.inFlight, 0);
  assert.equal(recv.outError?.code, "ConnectionResetByPeer");
  assert.equal(recv.outError?.errno, "ECONNRESET");
  // A send on the reset socket: typed, and the queue keeps working.
  const send = aio.send({ socket: server, buffer: enc.encode("x") });
  const nop = aio.nop();
  work.queue([send, nop]);
  completeUntil(work, () => work.inFlight === 0);
  assert.ok(["BrokenPipe", "ConnectionResetByPeer"].includes(send.outError?.code ?? ""), String(send.outError));
  assert.equal(nop.outError, null);
  closeAll(server, listener);
});

Deno.test("EPIPE: sends to a peer that closed end in BrokenPipe/ConnectionResetByPeer, never SIGPIPE", async () => {
  const { server, client, listener } = await tcpPair();
  using work = new aio.Dynamic({ capacity: 8 });
  aio.posix.close(server);
  // The first sends succeed into the buffer; the peer answers them with an RST.
  let error: aio.OperationError | null = null;
  let sends = 0;
  for (; sends < 200 && error === null; sends++) {
    const send = aio.send({ socket: client, buffer: new Uint8Array(1024) });
    work.queue(send);
    completeUntil(work, () => work.inFlight === 0);
    error = send.outError;
    if (error === null) await new Promise((r) => setTimeout(r, 1)); // the RST's turn
  }
  assert.ok(error !== null, "a send to a closed peer kept succeeding");
  assert.ok(["BrokenPipe", "ConnectionResetByPeer", "ConnectionAborted"].includes(error.code), String(error));
  // Linux says EPIPE once the reset was reported; Windows keeps saying WSAECONNRESET.
  const again = aio.send({ socket: client, buffer: new Uint8Array(1) });
  work.queue(again);
  completeUntil(work, () => work.inFlight === 0);
  assert.ok(again.outError !== null);
  if (!WINDOWS) assert.equal(again.outError.code, "BrokenPipe");
  closeAll(client, listener);
});

Deno.test("EPIPE: a write into a pipe whose read end closed fails BrokenPipe, queued ops survive", () => {
  const [r, w] = aio.posix.pipe();
  const [r2, w2] = aio.posix.pipe();
  using work = new aio.Dynamic({ capacity: 8 });
  const pending = aio.read({ file: r2, buffer: new Uint8Array(8) });
  work.queue(pending);
  work.complete("nonblocking");
  aio.posix.close(r);
  const write = aio.write({ file: w, buffer: enc.encode("lost") });
  work.queue(write);
  completeUntil(work, () => write.outError !== null || write.outWritten > 0);
  assert.equal(write.outError?.code, "BrokenPipe");
  // The read queued before is still in flight and still completes.
  assert.equal(work.inFlight, 1);
  work.queue(aio.write({ file: w2, buffer: enc.encode("ok") }));
  completeUntil(work, () => work.inFlight === 0);
  assert.equal(pending.outRead, 2);
  closeAll(w, r2, w2);
});

// ---------------------------------------------------------------------------------------------
// Limits: EMFILE, EFBIG, ENOSPC.

Deno.test({
  name: "EMFILE: with RLIMIT_NOFILE lowered, socket/accept/openAt fail ProcessFdQuotaExceeded; the queue recovers",
  ignore: WINDOWS, // Windows has no per-process fd limit to lower
  async fn() {
    const autoBackend = (() => {
      using probe = new aio.Dynamic({ capacity: 1, backend: "auto", debug: false });
      return probe.backend;
    })();
    // cold: no pool Worker runs yet when fds run out (posix must not start one: Deno panics when
    // a Worker cannot get its fds); warm: one does, and the path call reaches the kernel.
    for (const mode of ["cold", "warm"]) {
      const { code, stdout, stderr } = await child(["run", "-A", script("./faults/emfile_child.ts"), mode]);
      assert.equal(code, 0, `${mode}: ${stderr}`);
      const out = JSON.parse(stdout.trim().split("\n").pop()!);
      assert.equal(out.backend, backend);
      assert.ok(out.opened < out.limit, `opened ${out.opened} sockets under a limit of ${out.limit}`);
      assert.equal(out.socket, "ProcessFdQuotaExceeded");
      assert.equal(out.accept, "ProcessFdQuotaExceeded");
      assert.equal(out.openAt, "ProcessFdQuotaExceeded");
      // A typed BackendError whose errno says why; auto says it too (was NoBackend without errno).
      assert.match(out.newQueue, /^BackendError:\w+:EMFILE$/);
      assert.match(out.newQueueAuto, /^BackendError:\w+:EMFILE$/);
      // With io_uring loaded, auto does not fall back to posix for want of fds (was NoBackend).
      if (backend === "io_uring") assert.equal(out.newQueueAuto, out.newQueue);
      // ... and gets what it gets here once fds are back.
      assert.equal(out.autoAfter, autoBackend);
      assert.equal(out.nop, null);
      assert.equal(out.timeout, null);
      assert.equal(out.acceptAfter, null);
      assert.equal(out.openAtAfter, null);
      assert.equal(out.socketAfter, null);
    }
  },
});

Deno.test({
  name:
    "EMFILE: near the limit, the first pool Worker starts before the program can take its fds; no panic, no stuck job",
  // posix only: io_uring makes path calls in the kernel; Windows has no fd limit to lower.
  ignore: WINDOWS || backend !== "posix",
  async fn() {
    // Each child starts its first pool Worker with `margin` fds free, then at once opens every fd
    // it may. Before the pool waited for the start, the Worker's module loading lost that race now
    // and then (2 runs in 24 hung: the Worker died, its openAt never ran).
    for (const margin of [16, 17, 18, 20, 22, 24]) {
      const { code, stdout, stderr } = await child([
        "run",
        "-A",
        script("./faults/worker_start_child.ts"),
        String(margin),
      ]);
      assert.equal(code, 0, `margin ${margin}: ${stderr}`);
      const out = JSON.parse(stdout.trim().split("\n").pop()!);
      assert.equal(out.backend, "posix");
      // The path under test: enough fds to start a Worker (16), too few to start it unwatched (64).
      assert.ok(out.free >= 16 && out.free < 64, `margin ${margin}: ${out.free} fds free`);
      assert.ok(out.taken > 0, `margin ${margin}: the program could open nothing after the Worker started`);
      // A Worker runs: it says the path does not exist (the pool refusing to start one says EMFILE).
      assert.equal(out.unlinkAt, "FileNotFound", `margin ${margin}`);
      // The Worker ran the openat: with an fd, or EMFILE when the program had taken them all first.
      assert.ok([null, "ProcessFdQuotaExceeded"].includes(out.openAt), `margin ${margin}: ${out.openAt}`);
    }
  },
});

Deno.test({
  name: "EFBIG: past RLIMIT_FSIZE a write is short, then FileTooBig; writes within the limit still work",
  ignore: WINDOWS, // no RLIMIT_FSIZE on Windows
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "aio_faults_" });
    try {
      const { code, stdout, stderr } = await child(["run", "-A", script("./faults/fsize_child.ts"), `${dir}/f`]);
      assert.equal(code, 0, `killed or failed (SIGXFSZ?): ${code} ${stderr}`);
      const out = JSON.parse(stdout.trim().split("\n").pop()!);
      assert.equal(out.backend, backend);
      // As write(2): the part below the limit is written and reported, without an error.
      assert.deepEqual(out.big, { written: 4096, error: null });
      assert.deepEqual(out.past, { written: 0, error: "FileTooBig", errno: "EFBIG" });
      assert.equal(out.pastv.error, "FileTooBig");
      assert.deepEqual(out.within, { written: 16, error: null });
      assert.equal(out.size, 4096);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "ENOSPC: writes to /dev/full fail NoSpaceLeft, on their own and in a soft-linked chain",
  ignore: WINDOWS, // no /dev/full
  async fn() {
    const open = aio.openAt({ dir: aio.cwd, path: "/dev/full", flags: { mode: "write_only" } });
    await aio.single(open);
    const fd = open.outFile;
    using work = new aio.Dynamic({ capacity: 8 });
    const write = aio.write({ file: fd, buffer: enc.encode("data"), link: "soft" });
    const after = aio.nop();
    const writev = aio.writev({ file: fd, iov: [enc.encode("a"), enc.encode("b")] });
    work.queue([write, after]);
    work.queue(writev);
    completeUntil(work, () => work.inFlight === 0);
    assert.equal(write.outError?.code, "NoSpaceLeft");
    assert.equal(write.outError?.errno, "ENOSPC");
    assert.equal(after.outError?.code, "Canceled");
    assert.equal(writev.outError?.code, "NoSpaceLeft");
    aio.posix.close(fd);
  },
});

// ---------------------------------------------------------------------------------------------
// Signals during waits (EINTR).

Deno.test({
  name: "EINTR: signals while blocked in a wait neither fail it nor lose completions",
  ignore: WINDOWS, // no POSIX signals
  async fn() {
    let seen = 0;
    const listener = () => seen++;
    Deno.addSignalListener("SIGWINCH", listener);
    try {
      using work = new aio.Dynamic({ capacity: 16 });
      const pid = libc.symbols.getpid();
      // A child that signals us 20 times while this thread is blocked, and whose exit is itself a
      // completion that arrives in the middle of the signals.
      const killer = aio.posix.spawn([
        "/bin/sh",
        "-c",
        `i=0; while [ $i -lt 20 ]; do kill -WINCH ${pid}; sleep 0.005; i=$((i+1)); done`,
      ]);
      const exit = aio.childExit({ child: killer });
      const timers = [40, 80, 120, 160, 200].map((ms) => aio.timeout({ ns: ms * 1e6 }));
      work.queue([exit, ...timers]);
      let rounds = 0;
      while (work.inFlight > 0 && rounds++ < 100) {
        const { numCompleted, numErrors } = work.complete("blocking");
        assert.ok(numCompleted >= 1, "a blocking wait returned with nothing");
        assert.equal(numErrors, 0);
      }
      assert.equal(work.inFlight, 0);
      assert.deepEqual(exit.outTerm, { kind: "exited", code: 0 });
      for (const t of timers) assert.equal(t.outError, null);
      await new Promise((r) => setTimeout(r, 20));
      assert.ok(seen > 0, "no signal arrived");
    } finally {
      Deno.removeSignalListener("SIGWINCH", listener);
    }
  },
});

Deno.test({
  name: "EINTR: signals to every thread while parked neither fail the park nor lose completions",
  ignore: WINDOWS,
  async fn() {
    let seen = 0;
    const listener = () => seen++;
    Deno.addSignalListener("SIGWINCH", listener);
    const pid = libc.symbols.getpid();
    // Every thread, so that one parked in ppoll or in a pool call is hit too.
    const storm = setInterval(() => {
      for (const tid of threadIds(pid)) libc.symbols.tgkill(pid, tid, SIGWINCH);
    }, 2);
    const dir = await Deno.makeTempDir({ prefix: "aio_faults_" });
    try {
      using work = new aio.Dynamic({ capacity: 16 });
      const [r, w] = aio.posix.pipe();
      const read = aio.read({ file: r, buffer: new Uint8Array(8) });
      const timers = [20, 60, 100].map((ms) => aio.timeout({ ns: ms * 1e6 }));
      // Opening a FIFO blocks until a writer comes: on posix in a pool Worker, which the storm
      // interrupts too (the Worker repeats an interrupted path call).
      assert.equal(libc.symbols.mkfifo(enc.encode(`${dir}/fifo\0`), 0o600), 0);
      const fifo = aio.openAt({ dir: aio.cwd, path: `${dir}/fifo` });
      work.queue([read, fifo, ...timers]);
      setTimeout(() => libc.symbols.tgkill(pid, pid, SIGWINCH), 1);
      setTimeout(() => closeAll(...aio.posix.pipe()), 1); // unrelated fd churn
      let writer: Promise<Deno.FsFile> | undefined;
      setTimeout(() => {
        const wr = aio.write({ file: w, buffer: enc.encode("late") });
        void aio.single(wr);
        writer = Deno.open(`${dir}/fifo`, { write: true });
      }, 80);
      const errors = await work.completeAllAsync();
      assert.equal(errors, 0);
      assert.equal(read.outRead, 4);
      assert.equal(fifo.outError, null);
      for (const t of timers) assert.equal(t.outError, null);
      assert.ok(seen > 0, "no signal arrived");
      (await writer!).close();
      closeAll(r, w, fifo.outFile);
    } finally {
      clearInterval(storm);
      Deno.removeSignalListener("SIGWINCH", listener);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Ring limits: the CQ overflowing, the SQ full.

Deno.test("CQ overflow: many more completions than CQ entries, none lost or doubled", async () => {
  const n = WINDOWS ? 200 : 1000;
  const seen = new Uint8Array(n);
  using work = new aio.Dynamic({
    capacity: n,
    sqEntries: 8,
    cqEntries: 16,
    handler: { aioComplete: (_id, ud) => void seen[ud as number]++ },
  });
  // Queued one at a time: each time the SQ fills, queue() submits it, and the NOPs complete into
  // a CQ of 16 entries before anything is reaped.
  for (let i = 0; i < n; i++) work.queue(aio.nop({ userdata: i }));
  assert.equal(work.inFlight, n);
  let done = 0;
  for (let i = 0; i < 1000 && work.inFlight > 0; i++) done += work.complete("blocking").numCompleted;
  assert.equal(done, n);
  assert.ok(seen.every((c) => c === 1), "a completion was lost or reported twice");
  // Timers firing together, reaped through park().
  seen.fill(0);
  for (let i = 0; i < n; i++) work.queue(aio.timeout({ ns: 1e6, userdata: i }));
  assert.equal(await work.completeAllAsync(), 0);
  assert.ok(seen.every((c) => c === 1), "a timer completion was lost or reported twice");
});

Deno.test("SQ full: a batch larger than the SQ or the capacity is refused whole; what was queued completes", () => {
  using work = new aio.Dynamic({ capacity: 6, sqEntries: 4 });
  const [r, w] = aio.posix.pipe();
  const before = [aio.read({ file: r, buffer: new Uint8Array(4) }), aio.timeout({ ns: 1e6 })];
  work.queue(before);
  // Larger than one submission can carry (sqEntries less two, as io_uring's).
  const big = [aio.nop(), aio.nop(), aio.nop()];
  assert.throws(() => work.queue(big), (e: aio.QueueError) => e.code === "SubmissionQueueFull");
  assert.equal(work.inFlight, 2);
  // Larger than the capacity left.
  work.queue([aio.nop(), aio.nop()]);
  work.queue([aio.nop(), aio.nop()]);
  assert.throws(() => work.queue(aio.nop()), (e: aio.QueueError) => e.code === "SubmissionQueueFull");
  assert.equal(work.inFlight, 6);
  // The refused operations were not claimed: they can be queued again.
  completeUntil(work, () => work.inFlight === 1);
  assert.equal(work.inFlight, 1);
  work.queue(big.slice(0, 2));
  work.queue(big[2]);
  work.queue(aio.write({ file: w, buffer: enc.encode("abcd") }));
  completeUntil(work, () => work.inFlight === 0);
  assert.equal(work.inFlight, 0);
  assert.equal((before[0] as aio.Read).outRead, 4);
  for (const op of big) assert.equal(op.outError, null);
  closeAll(r, w);
});

Deno.test("pool full: more blocking calls at once than the posix pool's 4096 jobs all complete", async () => {
  // posix and iocp run fsync on the isolate's Worker pool (4096 jobs); the rest wait for room.
  const n = WINDOWS ? 200 : 4200;
  await withTempDir(async (path) => {
    const open = aio.openAt({ dir: aio.cwd, path: `${path}/f`, flags: { mode: "write_only", create: true } });
    await aio.single(open);
    using work = new aio.Dynamic({ capacity: n });
    const ops = Array.from({ length: n }, () => aio.fsync({ file: open.outFile }));
    for (const op of ops) work.queue(op);
    assert.equal(await work.completeAllAsync(), 0);
    assert.ok(ops.every((op) => op.outError === null));
    aio.posix.close(open.outFile);
  });
});

// ---------------------------------------------------------------------------------------------
// Isolates and processes ending with operations in flight.

Deno.test("a Worker terminated while its queue has operations in flight: no crash, the parent's I/O goes on", async () => {
  const rounds = WINDOWS ? 2 : 3;
  const leaked: number[] = [];
  const readBack: (number | string)[] = [];
  const dir = await Deno.makeTempDir({ prefix: "aio_faults_" });
  for (let i = 0; i < rounds; i++) {
    const fifo = WINDOWS ? undefined : `${dir}/fifo${i}`;
    if (fifo) assert.equal(libc.symbols.mkfifo(enc.encode(`${fifo}\0`), 0o600), 0);
    const [r, w] = aio.posix.pipe();
    const before = WINDOWS ? [] : workerThreads();
    const worker = new Worker(here("./faults/worker_inflight.ts"), { type: "module" });
    const own = await new Promise<number[]>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data.own);
      worker.onerror = (e) => reject(e);
      worker.postMessage({ read: r, fifo });
    });
    await new Promise((res) => setTimeout(res, 10));
    // The Worker's own thread: the first one it made (its pool Workers, on posix, come later).
    const thread = WINDOWS ? -1 : Math.min(...workerThreads().filter((t) => !before.includes(t)));
    worker.terminate();
    // terminate() returns before the Worker's thread has exited; until then its pending read can
    // still take bytes written to the pipe (io_uring completes it into the dead ring). Once the
    // thread is gone the kernel has canceled its requests, and nothing is taken.
    for (let j = 0; j < 1000 && !WINDOWS && workerThreads().includes(thread); j++) {
      await new Promise((res) => setTimeout(res, 5));
    }
    leaked.push(...own);
    // This isolate's queue still works on the same pipe the Worker was reading, and the Worker's
    // dead read does not take the bytes: on io_uring the kernel canceled it when the thread
    // exited; on posix nothing runs the dead queue's waiters.
    const write = aio.write({ file: w, buffer: enc.encode("after") });
    await aio.single(write);
    assert.equal(write.outWritten, 5);
    const read = aio.read({ file: r, buffer: new Uint8Array(16), link: "soft" });
    await aio.complete([read, aio.linkTimeout({ ns: 2e9 })]);
    readBack.push(read.outError?.errno ?? read.outRead);
    if (fifo) {
      // The Worker's blocked open of the FIFO: let it finish if it still waits (posix: its pool
      // Worker runs on; io_uring: canceled with the thread, and then there is no reader: ENXIO).
      const wfd = libc.symbols.open(enc.encode(`${fifo}\0`), 0o1 | 0o4000 | 0o2000000);
      if (wfd >= 0) libc.symbols.close(wfd);
    }
    closeAll(r, w);
  }
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(await aio.complete([aio.nop(), aio.timeout({ ns: 1e6 })]), 0);
  // The Worker's own fds are not closed by terminate(): nothing runs in a terminated isolate.
  closeAll(...leaked);
  await Deno.remove(dir, { recursive: true });
  // iocp: the pipe is tied to the Worker's completion port for good (one port per isolate), so
  // this isolate's read is refused at once; it is not taken by the dead Worker either.
  assert.deepEqual(readBack, new Array(rounds).fill(WINDOWS ? "EXDEV" : 5));
});

for (const [mode, expected] of [["exit", 7], ["exit-sync", 5], ["throw", 1], ["return", 0]] as const) {
  Deno.test({
    name: `the process ends with operations pending (${mode}): exit code ${expected}, no hang`,
    async fn() {
      const { code, stderr } = await child(["run", "-A", script("./faults/exit_child.ts"), mode]);
      assert.equal(code, expected, stderr);
      assert.doesNotMatch(stderr, /panicked/);
      if (mode !== "throw") assert.doesNotMatch(stderr, /Uncaught/);
    },
  });
}
