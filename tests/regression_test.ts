// Regressions from a review of the core: each test failed (crash, hang or wrong result) before
// its fix.
import { aio, assert, closeAll, dec, enc } from "./_helpers.ts";
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
