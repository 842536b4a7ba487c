// Regressions from a review of the core: each test failed (crash, hang or wrong result) before
// its fix.
import { aio, assert, closeAll, dec, enc, requireGc, since, tcpPair, WINDOWS, withTempDir } from "./_helpers.ts";
import { coro } from "../mod.ts";

const onIoUring = aio.currentBackend() === "io_uring";

Deno.test("close() from inside a completion handler finishes after the reap (was SIGSEGV)", () => {
  const work: aio.Dynamic = new aio.Dynamic({ capacity: 4, handler: { aioComplete: () => work.close() } });
  work.queue([aio.nop(), aio.nop()]);
  const res = work.complete("blocking");
  assert.ok(res.numCompleted >= 1);
  assert.throws(() => work.queue(aio.nop()), (e: aio.QueueError) => e.code === "Closed");
});

Deno.test("park() after close() is a typed error (was SIGSEGV)", async () => {
  const work = new aio.Dynamic();
  work.close();
  await assert.rejects(work.park(), (e: aio.QueueError) => e.code === "Closed");
  assert.throws(() => work.complete("nonblocking"), (e: aio.QueueError) => e.code === "Closed");
});

Deno.test("close() reaps everything and rethrows a handler's error, with real results", () => {
  const [r, w] = aio.posix.pipe();
  const work = new aio.Dynamic({
    capacity: 4,
    handler: {
      aioComplete: () => {
        throw new Error("handler bug");
      },
    },
  });
  const write = aio.write({ file: w, buffer: enc.encode("data") });
  work.queue([aio.nop(), write]);
  assert.throws(() => work.close(), /handler bug/);
  assert.equal(write.outError, null);
  assert.equal(write.outWritten, 4);
  const rd = aio.read({ file: r, buffer: new Uint8Array(16) });
  aio.completeSync([rd]);
  assert.equal(dec.decode(rd.buffer.subarray(0, rd.outRead)), "data");
  closeAll(r, w);
});

Deno.test({
  name: "an unsupported operation fails in its place: what comes before it in the chain still runs",
  ignore: !onIoUring,
  async fn() {
    const { setHiddenKinds } = await import("../backends/io_uring.ts");
    setHiddenKinds(["fsync"]);
    try {
      const [r, w] = aio.posix.pipe();
      const write = aio.write({ file: w, buffer: enc.encode("hello"), link: "hard" });
      const unsupported = aio.fsync({ file: w, link: "hard" });
      const after = aio.nop();
      assert.equal(await aio.complete([write, unsupported, after]), 1);
      assert.equal(write.outWritten, 5); // before the fix, the whole chain was canceled
      assert.equal(unsupported.outError?.code, "OperationNotSupported");
      assert.equal(after.outError, null);
      closeAll(r, w);
    } finally {
      setHiddenKinds([]);
    }
  },
});

Deno.test("canceling a task whose I/O fills the queue completes (was a hang)", async () => {
  await using scheduler = new coro.Scheduler({ ioQueueEntries: 2 });
  const task = scheduler.spawn(() => coro.io.multi([aio.timeout({ ns: 10e9 }), aio.timeout({ ns: 10e9 })]), []);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(scheduler.io.inFlight, 2);
  assert.equal(await task.complete("cancel"), undefined);
  assert.equal(scheduler.io.inFlight, 0);
});

Deno.test("two coro.io calls at once from one task: CoroError Busy, nothing corrupted", async () => {
  await using scheduler = new coro.Scheduler();
  const task = scheduler.spawn(async () => {
    const a = coro.io.single(aio.timeout({ ns: 5_000_000 }));
    await assert.rejects(coro.io.single(aio.nop()), (e: coro.CoroError) => e.code === "Busy");
    await a;
    return "ok";
  }, []);
  assert.equal(await task.complete("wait"), "ok");
  assert.equal(scheduler.io.inFlight, 0);
});

Deno.test("a queue receiver canceled after its wake-up arrived gives the message back", async () => {
  await using scheduler = new coro.Scheduler({ wait: "park" });
  using q = new coro.Queue<number>();
  const t = scheduler.spawn(() => q.recv(), []);
  await new Promise((r) => setTimeout(r, 20));
  q.send(42);
  t.cancel();
  await t.complete("cancel");
  const again = scheduler.spawn(() => q.recv(), []);
  assert.equal(await again.complete("wait"), 42);
});

Deno.test("a semaphore waiter canceled after it was chosen passes the semaphore on", async () => {
  await using scheduler = new coro.Scheduler();
  const sem = new coro.Semaphore();
  await sem.lock();
  const b = scheduler.spawn(async () => {
    await sem.lock();
    sem.unlock();
    return "b";
  }, []);
  const c = scheduler.spawn(async () => {
    await sem.lock();
    sem.unlock();
    return "c";
  }, []);
  b.cancel();
  sem.unlock();
  assert.equal(await b.complete("cancel"), undefined);
  assert.equal(await c.complete("wait"), "c");
});

Deno.test("a canceled task does not suspend again, and run('cancel') does not hang", async () => {
  const scheduler = new coro.Scheduler();
  const event = new coro.ResetEvent();
  const t = scheduler.spawn(async () => {
    await new Promise((r) => setTimeout(r, 20)); // foreign: canceled meanwhile
    await event.wait();
  }, []);
  t.cancel();
  await scheduler.close();
  await assert.rejects(t.complete("wait"), coro.CanceledError);
});

Deno.test("ThreadPool: work that throws something uncloneable rejects, and the pool keeps working", async () => {
  const pool = new coro.ThreadPool({ maxThreads: 1 });
  try {
    const url = new URL("./workers/blocking.ts", import.meta.url).href;
    await assert.rejects(pool.yieldForCompletion({ module: url, fn: "throwsUncloneable" }, []));
    assert.equal(await pool.yieldForCompletion({ module: url, fn: "blockingCode" }, [1]), 69);
  } finally {
    pool.close();
  }
});

Deno.test("Scheduler spinNs and completeWithin reject bad numbers (was an uncaught RangeError)", () => {
  assert.throws(() => new coro.Scheduler({ spinNs: -1 }), (e: coro.CoroError) => e.code === "InvalidArgument");
  using work = new aio.Dynamic();
  assert.throws(() => work.completeWithin(NaN), (e: aio.QueueError) => e.code === "InvalidArgument");
  work.queue(aio.nop());
  assert.equal(work.completeWithin(12.5).numCompleted, 1); // fractions are fine
});

// From the review of the posix backend: each failed (hang, wrong file, wrong order) before its
// fix, and each holds on every backend.

// These set up the posix readiness loop's corner cases with libc calls, so they run where libc is.
const libc = WINDOWS ? undefined! : Deno.dlopen("libc.so.6", {
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
});
const DONTWAIT = 0x40;

Deno.test({
  name: "a read on a reused fd number is waited for (the old number's waiter went with closeFile)",
  ignore: WINDOWS,
}, () => {
  using work = new aio.Dynamic({ capacity: 8 });
  const [r, w] = aio.posix.pipe();
  const old = aio.read({ file: r, buffer: new Uint8Array(4) });
  work.queue(old);
  work.complete("nonblocking");
  work.queue(aio.closeFile({ file: r }));
  work.complete("nonblocking");
  const [r2, w2] = aio.posix.pipe();
  const fresh = aio.read({ file: r2, buffer: new Uint8Array(4) });
  work.queue(fresh);
  work.complete("nonblocking");
  assert.equal(libc.symbols.write(w2, new Uint8Array([1, 2, 3, 4]), 4), 4);
  const t0 = performance.now();
  while (fresh.outRead !== 4 && performance.now() - t0 < 2000) work.completeWithin(50e6);
  assert.equal(fresh.outRead, 4);
  work.cancel(old.outId); // posix: it waits until canceled; io_uring: the file lives on with it
  closeAll(w, w2);
  work.completeAll();
  closeAll(r2);
});

Deno.test(
  { name: "a waiter canceled while its fd is being dispatched is not left on any list", ignore: WINDOWS },
  () => {
    using work = new aio.Dynamic({ capacity: 8 });
    const [a, b] = aio.posix.socketpair();
    const chunk = new Uint8Array(65536);
    while (libc.symbols.send(a, chunk, chunk.length, DONTWAIT) > 0); // a cannot send
    const send = aio.send({ socket: a, buffer: new Uint8Array(1) });
    work.queue(send);
    work.complete("nonblocking");
    const recv = aio.recv({ socket: a, buffer: new Uint8Array(4), link: "hard" });
    const cancel = aio.cancel({ id: send.outId });
    work.queue([recv, cancel]);
    work.complete("nonblocking");
    libc.symbols.send(b, new Uint8Array([1, 2, 3, 4]), 4, 0); // a readable: recv, then the cancel
    work.completeAll();
    assert.equal(send.outError?.code, "Canceled");
    const [r, w] = aio.posix.pipe({ nonblocking: true });
    while (libc.symbols.write(w, chunk, chunk.length) > 0); // w cannot write
    const write = aio.write({ file: w, buffer: new Uint8Array(4) });
    work.queue([aio.nop(), write]); // the send's slot, reused
    work.complete("nonblocking");
    while (libc.symbols.recv(b, chunk, chunk.length, DONTWAIT) > 0); // a writable: a stale waiter would retry
    work.complete("nonblocking");
    while (libc.symbols.read(r, chunk, chunk.length) > 0);
    const t0 = performance.now();
    while (work.inFlight > 0 && performance.now() - t0 < 2000) work.completeWithin(50e6);
    assert.equal(write.outWritten, 4);
    closeAll(a, b, r, w);
  },
);

Deno.test("cancel of a linked operation not yet started is NotFound, and the chain keeps its order", () => {
  using work = new aio.Dynamic({ capacity: 8 });
  const order: string[] = [];
  const h: aio.Handler = { aioComplete: (_id, ud) => order.push(String(ud)) };
  const t = aio.timeout({ ns: 30e6, link: "hard", userdata: "timeout" });
  const x = aio.nop({ link: "hard", userdata: "x" });
  const y = aio.nop({ userdata: "y" });
  work.queue([t, x, y]);
  work.complete("nonblocking", h);
  const cancel = aio.cancel({ id: x.outId, userdata: "cancel" });
  work.queue(cancel);
  while (work.inFlight > 0) work.complete("blocking", h);
  assert.equal(cancel.outError?.code, "NotFound");
  assert.deepEqual(order, ["cancel", "timeout", "x", "y"]);
});

Deno.test("cancel of an armed linkTimeout is NotFound; the operation it guards runs on", () => {
  using work = new aio.Dynamic({ capacity: 8 });
  const t = aio.timeout({ ns: 20e6, link: "soft" });
  const lt = aio.linkTimeout({ ns: 1e9, link: "soft" });
  const after = aio.nop();
  work.queue([t, lt, after]);
  work.complete("nonblocking");
  const cancel = aio.cancel({ id: lt.outId });
  work.queue(cancel);
  work.completeAll();
  assert.equal(cancel.outError?.code, "NotFound");
  assert.equal(t.outError, null);
  assert.equal(lt.outError?.code, "Canceled");
  assert.equal(after.outError, null);
});

Deno.test("a read queued before a closeFile of its fd reads the right file, even on a thread", async () => {
  await withTempDir(async (_path, dir) => {
    for (const [name, text] of [["a", "AAAA"], ["b", "BBBB"]]) {
      const o = aio.openAt({ dir, path: name, flags: { mode: "write_only", create: true } });
      await aio.single(o);
      await aio.single(aio.write({ file: o.outFile, buffer: enc.encode(text) }));
      aio.posix.close(o.outFile);
    }
    const onPosix = aio.currentBackend() === "posix";
    const { setForcePool } = await import("../backends/posix.ts");
    if (onPosix) setForcePool(true); // the read runs on a Worker, after the close has run here
    try {
      for (let i = 0; i < 20; i++) {
        const a = aio.openAt({ dir, path: "a" });
        await aio.single(a);
        const read = aio.read({ file: a.outFile, buffer: new Uint8Array(4), offset: 0, link: "hard" });
        const close = aio.closeFile({ file: a.outFile });
        const pending = aio.complete([read, close]);
        const b = aio.openAt({ dir, path: "b" }); // may take a's number
        await aio.single(b);
        assert.equal(await pending, 0);
        assert.equal(dec.decode(read.buffer), "AAAA");
        aio.posix.close(b.outFile);
      }
    } finally {
      if (onPosix) setForcePool(false);
    }
  });
});

Deno.test({
  name: "a file read the page cache can serve only in part still returns every byte, as on io_uring",
  ignore: WINDOWS,
}, () => {
  const lib = Deno.dlopen("libc.so.6", {
    posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
  });
  const path = `/var/tmp/aio_partial_${Deno.pid}`;
  const SIZE = 8 << 20;
  try {
    Deno.writeFileSync(path, new Uint8Array(SIZE).fill(7));
    using f = Deno.openSync(path, { read: true, write: true });
    f.syncSync();
    const open = aio.openAt({ dir: aio.cwd, path });
    aio.completeSync([open]);
    // Keep the first half cached, drop the second (POSIX_FADV_DONTNEED = 4).
    lib.symbols.posix_fadvise(open.outFile, BigInt(SIZE / 2), BigInt(SIZE / 2), 4);
    const read = aio.read({ file: open.outFile, buffer: new Uint8Array(SIZE), offset: 0, link: "soft" });
    const after = aio.nop();
    assert.equal(aio.completeSync([read, after]), 0);
    assert.equal(read.outRead, SIZE);
    assert.ok(read.buffer.every((b) => b === 7));
    aio.posix.close(open.outFile);
  } finally {
    lib.close();
    Deno.removeSync(path);
  }
});

Deno.test("recv with waitAll returns the whole buffer from two sends", async () => {
  const [a, b] = aio.posix.socketpair();
  using work = new aio.Dynamic({ capacity: 4 });
  const recv = aio.recv({ socket: a, buffer: new Uint8Array(4), flags: { waitAll: true }, link: "soft" });
  const after = aio.nop();
  work.queue([recv, after]);
  work.complete("nonblocking");
  aio.completeSync([aio.send({ socket: b, buffer: enc.encode("ab") })]);
  work.complete("nonblocking");
  await new Promise((r) => setTimeout(r, 10));
  aio.completeSync([aio.send({ socket: b, buffer: enc.encode("cd") })]);
  assert.equal(await work.completeAllAsync(), 0);
  assert.equal(dec.decode(recv.buffer.subarray(0, recv.outRead)), "abcd");
  assert.equal(after.outError, null);
  closeAll(a, b);
});

Deno.test("a queue short of thread-pool room takes it back from a queue that is not being completed", async () => {
  await withTempDir(async (_path, dir) => {
    const o = aio.openAt({ dir, path: "f", flags: { mode: "write_only", create: true } });
    await aio.single(o);
    using a = new aio.Dynamic({ capacity: 12000 });
    // More fsyncs than the posix pool's 4096 jobs: A's finished jobs fill it while A sleeps.
    a.queue(Array.from({ length: 10000 }, () => aio.fsync({ file: o.outFile })));
    a.complete("nonblocking");
    await new Promise((r) => setTimeout(r, 200));
    using b = new aio.Dynamic({ capacity: 4 });
    const sync = aio.fsync({ file: o.outFile });
    b.queue(sync);
    const t0 = performance.now();
    assert.equal(b.completeAll(), 0); // blocked forever before the fix
    assert.ok(since(t0) < 5000);
    assert.equal(a.completeAll(), 0);
    aio.posix.close(o.outFile);
  });
});

// From the review of the iocp backend: each failed (wrong operation completed, collected memory
// written, hang, lost data or a wrong result) on iocp before its fix, and each holds on every
// backend.

Deno.test("a datagram larger than the buffer: the recv gets what fits, and the next recv waits for its own", async () => {
  const [a, b] = aio.posix.socketpair(aio.constants.SOCK.DGRAM);
  using work = new aio.Dynamic({ capacity: 1 });
  await aio.single(aio.send({ socket: a, buffer: enc.encode("hello world") }));
  const small = aio.recv({ socket: b, buffer: new Uint8Array(5) });
  work.queue(small);
  work.completeAll();
  assert.equal(small.outRead, 5);
  assert.equal(dec.decode(small.buffer), "hello");
  const next = aio.recv({ socket: b, buffer: new Uint8Array(16) }); // the same slot
  work.queue(next);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(work.complete("nonblocking").numCompleted, 0, "completed by the first recv's late packet");
  await aio.single(aio.send({ socket: a, buffer: enc.encode("next") }));
  assert.equal(await work.completeAllAsync(), 0);
  assert.equal(dec.decode(next.buffer.subarray(0, next.outRead)), "next");
  closeAll(a, b);
});

Deno.test({
  name: "a buffer field reassigned while its recv is in flight: the kernel's buffer stays alive and gets the data",
  async fn() {
    const gc = requireGc();
    const { server, client, listener } = await tcpPair();
    using work = new aio.Dynamic({ capacity: 2 });
    const recv = aio.recv({ socket: server, buffer: new Uint8Array(1 << 16) });
    work.queue(recv);
    work.complete("nonblocking");
    const original = new WeakRef(recv.buffer);
    recv.buffer = new Uint8Array(8); // the caller's field now names another buffer
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(original.deref() !== undefined, "the buffer the kernel writes to was collected");
    await aio.single(aio.send({ socket: client, buffer: enc.encode("data") }));
    assert.equal(await work.completeAllAsync(), 0);
    assert.equal(recv.outRead, 4);
    assert.equal(dec.decode(original.deref()!.subarray(0, 4)), "data");
    closeAll(server, client, listener);
  },
});

Deno.test({
  name: "a queue dropped without close() while a recv is in flight stays alive with its buffer, and gets the data",
  async fn() {
    const gc = requireGc();
    const { server, client, listener } = await tcpPair();
    let queue: WeakRef<aio.Dynamic>;
    let buffer: WeakRef<Uint8Array>;
    let recvRef: WeakRef<aio.Operation>;
    (() => {
      const work = new aio.Dynamic({ capacity: 2 });
      const recv = aio.recv({ socket: server, buffer: new Uint8Array(1 << 16) });
      work.queue(recv);
      work.complete("nonblocking");
      queue = new WeakRef(work);
      buffer = new WeakRef(recv.buffer);
      recvRef = new WeakRef(recv);
    })(); // every reference the caller had is gone
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 5));
    }
    const work = queue!.deref();
    assert.ok(work !== undefined, "the queue was collected with a recv in flight");
    assert.ok(buffer!.deref() !== undefined, "the buffer the kernel writes to was collected");
    await aio.single(aio.send({ socket: client, buffer: enc.encode("late") }));
    assert.equal(await work.completeAllAsync(), 0);
    assert.equal(dec.decode(buffer!.deref()!.subarray(0, 4)), "late");
    assert.equal((recvRef!.deref() as aio.Recv | undefined)?.outRead, 4);
    work.close();
    closeAll(server, client, listener);
  },
});

Deno.test("notify and wait on an event source closed after they were queued: FileDescriptorInvalid, and close returns", () => {
  for (const kind of ["notify", "wait"] as const) {
    const source = new aio.EventSource();
    const work = new aio.Dynamic({ capacity: 4 });
    const op = kind === "notify" ? aio.notifyEventSource({ source }) : aio.waitEventSource({ source });
    const nop = aio.nop();
    work.queue([op, nop]);
    source.close();
    work.completeAll();
    assert.equal(op.outError?.code, "FileDescriptorInvalid", kind);
    assert.equal(nop.outError, null);
    work.close();
  }
});

Deno.test("a recv with waitAll canceled after part of the data came: close returns; the part, or Canceled", async () => {
  const { server, client, listener } = await tcpPair();
  const work = new aio.Dynamic({ capacity: 4 });
  const recv = aio.recv({ socket: server, buffer: new Uint8Array(8), flags: { waitAll: true } });
  work.queue(recv);
  work.complete("nonblocking");
  await aio.single(aio.send({ socket: client, buffer: new Uint8Array(4).fill(1) }));
  await new Promise((r) => setTimeout(r, 100));
  work.close(); // cancels the recv and waits for it
  assert.ok(recv.outError?.code === "Canceled" || recv.outRead === 4, `${recv.outError?.code} ${recv.outRead}`);
  closeAll(server, client, listener);
});

Deno.test("two operations at the current position in one batch run one after the other", async () => {
  await withTempDir(async (path, dir) => {
    const open = aio.openAt({ dir, path: "f", flags: { mode: "read_write", create: true } });
    await aio.single(open);
    const f = open.outFile;
    assert.equal(
      await aio.complete([
        aio.write({ file: f, buffer: enc.encode("abc") }),
        aio.write({ file: f, buffer: enc.encode("def") }),
      ]),
      0,
    );
    assert.equal(await Deno.readTextFile(`${path}/f`), "abcdef");
    const again = aio.openAt({ dir, path: "f" });
    await aio.single(again);
    const a = aio.read({ file: again.outFile, buffer: new Uint8Array(2) });
    const b = aio.read({ file: again.outFile, buffer: new Uint8Array(2) });
    assert.equal(await aio.complete([a, b]), 0);
    assert.deepEqual([dec.decode(a.buffer), dec.decode(b.buffer)], ["ab", "cd"]);
    closeAll(f, again.outFile);
  });
});

Deno.test("fsync through a read-only fd succeeds", async () => {
  await withTempDir(async (path, dir) => {
    await Deno.writeTextFile(`${path}/f`, "x");
    const open = aio.openAt({ dir, path: "f" });
    await aio.single(open);
    await aio.single(aio.fsync({ file: open.outFile }));
    closeAll(open.outFile);
  });
});

Deno.test("an event source keeps every notification: 20000 notifies, 20000 waits", () => {
  using source = new aio.EventSource();
  const N = 20000;
  for (let i = 0; i < N; i++) source.notify();
  let n = 0;
  while (source.waitNonBlocking()) n++;
  assert.equal(n, N);
});

Deno.test("childExit of a child that already exited gives its code; of a process that is not our child, NotFound", async () => {
  const pid = aio.posix.spawn(WINDOWS ? [Deno.execPath(), "eval", "Deno.exit(3)"] : ["sh", "-c", "exit 3"]);
  await new Promise((r) => setTimeout(r, WINDOWS ? 3000 : 300)); // it is gone before the wait starts
  const exit = aio.childExit({ child: pid });
  await aio.single(exit);
  assert.deepEqual(exit.outTerm, { kind: "exited", code: 3 });
  const self = aio.childExit({ child: Deno.pid });
  await assert.rejects(aio.single(self), (e: aio.OperationError) => e.code === "NotFound");
});

// From the second review of the iocp backend.

Deno.test("two childExit waits on one child: one gets the exit, the other NotFound, and close returns", async () => {
  const pid = aio.posix.spawn(
    WINDOWS ? [Deno.execPath(), "eval", "setTimeout(() => Deno.exit(3), 300)"] : ["sh", "-c", "sleep 0.3; exit 3"],
  );
  const work = new aio.Dynamic({ capacity: 4 });
  const first = aio.childExit({ child: pid });
  const second = aio.childExit({ child: pid });
  work.queue(first);
  work.complete("nonblocking");
  await new Promise((r) => setTimeout(r, WINDOWS ? 3000 : 600)); // the child has exited
  work.queue(second);
  await work.completeAllAsync();
  const outcomes = [first, second].map((op) => op.outError?.code ?? op.outTerm?.kind).sort();
  assert.deepEqual(outcomes, ["NotFound", "exited"]);
  work.close();
});

Deno.test("current-position reads of one file from two queues read one after the other", async () => {
  await withTempDir(async (path, dir) => {
    await Deno.writeTextFile(`${path}/f`, "0123456789abcdef");
    const open = aio.openAt({ dir, path: "f" });
    await aio.single(open);
    const f = open.outFile;
    using q1 = new aio.Dynamic({ capacity: 2 });
    using q2 = new aio.Dynamic({ capacity: 2 });
    const a = aio.read({ file: f, buffer: new Uint8Array(4) });
    const b = aio.read({ file: f, buffer: new Uint8Array(4) });
    q1.queue(a);
    q1.complete("nonblocking");
    q2.queue(b);
    q2.complete("nonblocking");
    q1.completeAll();
    q2.completeAll();
    const c = aio.read({ file: f, buffer: new Uint8Array(4) });
    await aio.single(c);
    assert.deepEqual([dec.decode(a.buffer), dec.decode(b.buffer)].sort(), ["0123", "4567"]);
    assert.equal(dec.decode(c.buffer), "89ab");
    closeAll(f);
  });
});

Deno.test("a current-position read waiting behind another reads its own file when a close and an open reuse the number", async () => {
  await withTempDir(async (path, dir) => {
    await Deno.writeTextFile(`${path}/f`, "0123456789abcdef");
    await Deno.writeTextFile(`${path}/g`, "ABCDEFGHIJKLMNOP");
    const open = aio.openAt({ dir, path: "f" });
    await aio.single(open);
    const f = open.outFile;
    const a = aio.read({ file: f, buffer: new Uint8Array(4) });
    const b = aio.read({ file: f, buffer: new Uint8Array(4) });
    const g = aio.openAt({ dir, path: "g" });
    await aio.complete([a, b, aio.closeFile({ file: f }), g]);
    assert.deepEqual([dec.decode(a.buffer), dec.decode(b.buffer)].sort(), ["0123", "4567"]);
    const r = aio.read({ file: g.outFile, buffer: new Uint8Array(4) });
    await aio.single(r);
    assert.equal(dec.decode(r.buffer), "ABCD"); // g's position was not moved by f's reads
    closeAll(g.outFile);
  });
});

Deno.test("closing a view of an event source (fromFd) leaves its owner working", async () => {
  using owner = new aio.EventSource();
  const view = aio.EventSource.fromFd(owner.fd);
  view.notify();
  assert.equal(owner.waitNonBlocking(), true);
  view.close();
  owner.notify();
  assert.equal(owner.waitNonBlocking(), true);
  await aio.multi([aio.notifyEventSource({ source: owner }), aio.waitEventSource({ source: owner })]);
});

Deno.test("a UDP datagram larger than the protocol allows: MessageTooBig, for send and sendMsg", async () => {
  const { AF, SOCK, IPPROTO } = aio.constants;
  const s = aio.socket({ domain: AF.INET, flags: SOCK.DGRAM | SOCK.CLOEXEC, protocol: IPPROTO.UDP });
  await aio.single(s);
  const to = aio.ipv4("127.0.0.1", 9);
  aio.posix.bind(s.outSocket, aio.ipv4("127.0.0.1", 0));
  await aio.single(aio.connect({ socket: s.outSocket, addr: to }));
  const big = new Uint8Array(70000);
  const send = aio.send({ socket: s.outSocket, buffer: big });
  await assert.rejects(aio.single(send), (e: aio.OperationError) => e.code === "MessageTooBig");
  const msg = aio.sendMsg({ socket: s.outSocket, msg: aio.messageHeader({ iov: [big] }) });
  await assert.rejects(aio.single(msg), (e: aio.OperationError) => e.code === "MessageTooBig");
  closeAll(s.outSocket);
});

// From the third review of the iocp backend.

Deno.test("a current-position read waiting behind another queue's completes when only its own queue is completed", async () => {
  await withTempDir(async (path, dir) => {
    await Deno.writeTextFile(`${path}/f`, "0123456789abcdef");
    await Deno.writeTextFile(`${path}/x`, "xxxx");
    const f = aio.openAt({ dir, path: "f" });
    const x = aio.openAt({ dir, path: "x" });
    await aio.multi([f, x]);
    using q1 = new aio.Dynamic({ capacity: 4 });
    using q2 = new aio.Dynamic({ capacity: 4 });
    const first = aio.read({ file: x.outFile, buffer: new Uint8Array(4), offset: 0, link: "hard" });
    const a = aio.read({ file: f.outFile, buffer: new Uint8Array(4) });
    const b = aio.read({ file: f.outFile, buffer: new Uint8Array(4) });
    q1.queue([first, a]);
    q1.complete("nonblocking"); // `a` may now be in flight, its completion not yet reaped
    q2.queue(b);
    assert.equal(q2.completeAll(), 0); // q1 is not completed meanwhile
    q1.completeAll();
    assert.deepEqual([dec.decode(a.buffer), dec.decode(b.buffer)].sort(), ["0123", "4567"]);
    closeAll(f.outFile, x.outFile);
  });
});

Deno.test("a read of zero bytes from an empty pipe returns 0 at once", async () => {
  const [r, w] = aio.posix.pipe();
  const read = aio.read({ file: r, buffer: new Uint8Array(0) });
  await aio.single(read);
  assert.equal(read.outRead, 0);
  closeAll(r, w);
});

Deno.test("a send after the socket's own shutdown(send) fails BrokenPipe on every backend (Wine said 0 bytes, ok)", async () => {
  const [a, b] = aio.posix.socketpair();
  await aio.single(aio.shutdown({ socket: a, how: "send" }));
  const send = aio.send({ socket: a, buffer: new Uint8Array(40) });
  await aio.complete([send]);
  assert.equal(send.outError?.code, "BrokenPipe");
  assert.equal(send.outWritten, 0);
  closeAll(a, b);
});

Deno.test("review (#7): wakeup then cancel before the task resumes: coro.yield throws CanceledError", async () => {
  await using scheduler = new coro.Scheduler();
  const task = scheduler.spawn(async () => {
    await coro.yield(1);
    return "returned";
  }, []);
  task.wakeup();
  task.cancel();
  assert.equal(await task.complete("cancel"), undefined);
});

Deno.test("review (#7): coro.yield while a coro.io call is pending rejects Busy rather than throwing", async () => {
  await using scheduler = new coro.Scheduler();
  const task = scheduler.spawn(async () => {
    const pending = coro.io.single(aio.timeout({ ns: 1_000_000 }));
    let outcome = "no error";
    try {
      const p = coro.yield(1); // must not throw here
      await p;
    } catch (err) {
      outcome = (err as coro.CoroError).code;
    }
    await pending;
    return outcome;
  }, []);
  assert.equal(await task.complete("wait"), "Busy");
});

Deno.test("review (#7): a NUL-terminated path in shared memory opens; cancel(-1) of an op never queued does nothing", async () => {
  const path = new Uint8Array(new SharedArrayBuffer(10));
  path.set(enc.encode("/dev/null\0"));
  const open = aio.openAt({ dir: aio.cwd, path });
  await aio.single(open);
  aio.posix.close(open.outFile);
  using work = new aio.Dynamic({ capacity: 2 });
  work.cancel(aio.nop().outId);
});
