// Dynamic's contract: bounded in-flight count, atomic queue, completion modes, overflow,
// reuse, disposal, and waiting without blocking the event loop.
import { aio, assert, closeAll, openFds, since, tcpPair } from "./_helpers.ts";

Deno.test("queue is atomic: a bad operation late in the batch queues nothing", () => {
  using work = new aio.Dynamic({ capacity: 8 });
  const good = aio.nop();
  const bad = aio.nop();
  (bad as { link: string }).link = "sideways";
  assert.throws(() => work.queue([good, aio.nop(), bad]), aio.InvalidOperationError);
  assert.equal(work.inFlight, 0);
  // The good ones are not marked in flight: they can be queued now.
  work.queue([good]);
  assert.equal(work.completeAll(), 0);
});

Deno.test("capacity: more than capacity in flight is refused, atomically", () => {
  using work = new aio.Dynamic({ capacity: 4 });
  work.queue([aio.nop(), aio.nop(), aio.nop()]);
  const extra = [aio.nop(), aio.nop()];
  assert.throws(() => work.queue(extra), (e: aio.QueueError) => e.code === "SubmissionQueueFull");
  assert.equal(work.inFlight, 3);
  work.queue(extra[0]);
  assert.equal(work.completeAll(), 0);
  work.queue(extra); // both fit again, and neither was left marked by the refusal
  assert.equal(work.completeAll(), 0);
});

Deno.test("complete: nonblocking returns at once; blocking waits for one", () => {
  using work = new aio.Dynamic();
  assert.deepEqual(work.complete("blocking"), { numCompleted: 0, numErrors: 0 }); // nothing in flight
  work.queue(aio.timeout({ ns: 50_000_000 }));
  const t0 = performance.now();
  assert.equal(work.complete("nonblocking").numCompleted, 0);
  assert.ok(since(t0) < 40);
  assert.equal(work.complete("blocking").numCompleted, 1);
  assert.ok(since(t0) >= 45);
});

Deno.test("a completed operation can be queued again", async () => {
  using work = new aio.Dynamic({ capacity: 4 });
  const ops = [aio.nop(), aio.nop()];
  for (let i = 0; i < 100; i++) {
    work.queue(ops);
    assert.equal(work.completeAll(), 0);
  }
  const t = aio.timeout({ ns: 1_000_000 });
  work.queue(t);
  assert.throws(() => work.queue(t), (e: aio.InvalidOperationError) => e.code === "OperationInFlight");
  await work.completeAllAsync();
  await aio.single(t);
});

Deno.test("submission queue smaller than the batch stream: flushed, nothing lost", () => {
  using work = new aio.Dynamic({ capacity: 512, sqEntries: 8 });
  let completed = 0;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 100; i++) work.queue(aio.nop({ userdata: i }));
    while (work.inFlight > 0) completed += work.complete("blocking").numCompleted;
  }
  assert.equal(completed, 1000);
  // A linked batch larger than the SQ cannot go in one submission: refused, not split.
  const big = Array.from({ length: 20 }, (_, i) => aio.nop({ link: i < 19 ? "soft" : "unlinked" }));
  assert.throws(() => work.queue(big), (e: aio.QueueError) => e.code === "SubmissionQueueFull");
});

Deno.test("completion queue overflow: completions beyond the CQ are kept and delivered", () => {
  // 8 SQ entries give a 16-entry CQ; 500 NOPs complete before any is reaped.
  using work = new aio.Dynamic({ capacity: 500, sqEntries: 8, cqEntries: 16 });
  const seen = new Set<unknown>();
  const handler: aio.Handler = { aioComplete: (_id, userdata) => seen.add(userdata) };
  for (let i = 0; i < 500; i++) work.queue(aio.nop({ userdata: i }));
  assert.equal(work.inFlight, 500);
  assert.equal(work.completeAll(handler), 0);
  assert.equal(seen.size, 500);
});

Deno.test("handler: a throwing aioComplete loses no completion", () => {
  using work = new aio.Dynamic({ capacity: 8 });
  for (let i = 0; i < 4; i++) work.queue(aio.nop({ userdata: i }));
  const got: unknown[] = [];
  let thrown = 0;
  const handler: aio.Handler = {
    aioComplete: (_id, u) => {
      got.push(u);
      if (u === 1) {
        thrown++;
        throw new Error("handler bug");
      }
    },
  };
  assert.throws(() => work.completeAll(handler), /handler bug/);
  work.completeAll(handler);
  assert.equal(thrown, 1);
  assert.deepEqual(got.sort(), [0, 1, 2, 3]);
});

Deno.test("close cancels what is in flight and waits for it; dispose closes", () => {
  const fdsBefore = openFds();
  const t = aio.timeout({ ns: 60_000_000_000 });
  {
    using work = new aio.Dynamic();
    work.queue(t);
    work.complete("nonblocking");
  }
  assert.equal(t.outError?.code, "Canceled");
  assert.equal(openFds(), fdsBefore);
  const work = new aio.Dynamic();
  work.close();
  assert.throws(() => work.queue(aio.nop()), (e: aio.QueueError) => e.code === "Closed");
});

Deno.test("completeAsync: timers and servers keep running while operations wait", async () => {
  const { server, client, listener } = await tcpPair();
  using work = new aio.Dynamic();
  const recv = aio.recv({ socket: server, buffer: new Uint8Array(64) });
  work.queue(recv);
  // A 10 ms timer must fire within 50 ms while the queue waits.
  const timer = new Promise<number>((resolve) => {
    const t0 = performance.now();
    setTimeout(() => resolve(since(t0)), 10);
  });
  // Deno's own HTTP server answers meanwhile.
  const http = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => new Response("ok"));
  const waiting = work.completeAllAsync();
  assert.ok((await timer) < 50);
  const res = await fetch(`http://127.0.0.1:${http.addr.port}/`);
  assert.equal(await res.text(), "ok");
  await aio.single(aio.send({ socket: client, buffer: new TextEncoder().encode("x") }));
  assert.equal(await waiting, 0);
  assert.equal(recv.outRead, 1);
  await http.shutdown();
  closeAll(server, client, listener);
});

Deno.test("concurrent immediate calls interleave on the shared queue", async () => {
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => aio.complete([aio.timeout({ ns: (50 - i) * 100_000 }), aio.nop()])),
  );
  assert.deepEqual(results, Array(50).fill(0));
  // A batch larger than the shared queue gets a queue of its own.
  assert.equal(await aio.complete(Array.from({ length: 1500 }, () => aio.nop())), 0);
  assert.equal(aio.completeSync(Array.from({ length: 1500 }, () => aio.nop())), 0);
});

Deno.test("sync and async immediate calls mix", async () => {
  const slow = aio.complete([aio.timeout({ ns: 30_000_000 })]);
  aio.singleSync(aio.nop());
  aio.singleSync(aio.timeout({ ns: 1_000_000 }));
  assert.equal(await slow, 0);
});

const onIoUring = aio.currentBackend() === "io_uring";

Deno.test({
  name: "unsupported operations fail with OperationNotSupported and fail a soft chain",
  ignore: !onIoUring, // the hook hides kinds from io_uring's probe
}, async () => {
  const { setHiddenKinds } = await import("../backends/io_uring.ts");
  setHiddenKinds(["fsync"]);
  try {
    assert.equal(aio.isSupported(["fsync"]), false);
    assert.equal(aio.isSupported(["nop", "read"]), true);
    const fsync = aio.fsync({ file: 0, link: "soft" });
    const next = aio.nop();
    assert.equal(await aio.complete([fsync, next]), 2);
    assert.equal(fsync.outError?.code, "OperationNotSupported");
    assert.equal(next.outError?.code, "Canceled");
  } finally {
    setHiddenKinds([]);
  }
});

Deno.test({
  name: "childExit through pidfd and poll, where IORING_OP_WAITID is missing",
  ignore: !onIoUring, // the fallback is io_uring's; posix always uses pidfd
}, async () => {
  const { setForcePidfdFallback } = await import("../backends/io_uring.ts");
  setForcePidfdFallback(true);
  try {
    await aio.single(aio.timeout({ ns: 1_000_000 })); // the shared queue's wake-up pipe exists from here on
    const fds = openFds();
    const pid = aio.posix.spawn(["sh", "-c", "exit 7"]);
    const exit = aio.childExit({ child: pid });
    await aio.single(exit);
    assert.deepEqual(exit.outTerm, { kind: "exited", code: 7 });
    assert.equal(openFds(), fds); // the pidfd was closed
    await assert.rejects(aio.single(aio.childExit({ child: 1 })), (e: aio.OperationError) => e.code === "NotFound");
  } finally {
    setForcePidfdFallback(false);
  }
});
