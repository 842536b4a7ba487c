// Soft and hard links, LinkTimeout and Cancel, with zig-aio's own cases (src/aio.zig "LinkTimeout",
// "Cancel"), scaled from seconds to tens of milliseconds.
import { aio, assert, closeAll, enc, since, tcpPair } from "./_helpers.ts";

const SHORT = 30_000_000; // 30 ms
const LONG = 300_000_000; // 300 ms

Deno.test("LinkTimeout: zig-aio's six cases", async (t) => {
  await t.step("timeout(long, soft) + linkTimeout(short): Canceled and Expired", async () => {
    const op = aio.timeout({ ns: LONG, link: "soft" });
    const lt = aio.linkTimeout({ ns: SHORT });
    const t0 = performance.now();
    assert.equal(await aio.complete([op, lt]), 2);
    assert.ok(since(t0) < 250);
    assert.equal(op.outError?.code, "Canceled");
    assert.equal(lt.outError?.code, "Expired");
    assert.equal(lt.outError?.errno, "ETIME");
  });
  await t.step("timeout(long, soft) + linkTimeout(short, soft) + timeout: 3 errors", async () => {
    const ops = [
      aio.timeout({ ns: LONG, link: "soft" }),
      aio.linkTimeout({ ns: SHORT, link: "soft" }),
      aio.timeout({ ns: SHORT }),
    ];
    assert.equal(await aio.complete(ops), 3);
    assert.deepEqual(ops.map((o) => o.outError?.code), ["Canceled", "Expired", "Canceled"]);
  });
  await t.step("timeout(short, soft) + linkTimeout(long): no errors", async () => {
    const lt = aio.linkTimeout({ ns: LONG });
    const t0 = performance.now();
    assert.equal(await aio.complete([aio.timeout({ ns: SHORT, link: "soft" }), lt]), 0);
    assert.ok(since(t0) < 250);
    // As in zig-aio: the timeout stores Canceled but does not count as a failure.
    assert.equal(lt.outError?.code, "Canceled");
  });
  await t.step("timeout(short, soft) + linkTimeout(long, soft) + timeout: no errors", async () => {
    const ops = [
      aio.timeout({ ns: SHORT, link: "soft" }),
      aio.linkTimeout({ ns: LONG, link: "soft" }),
      aio.timeout({ ns: SHORT }),
    ];
    assert.equal(await aio.complete(ops), 0);
  });
  await t.step("timeout(long, soft) + linkTimeout(short, hard) + timeout: 3 errors", async () => {
    const ops = [
      aio.timeout({ ns: LONG, link: "soft" }),
      aio.linkTimeout({ ns: SHORT, link: "hard" }),
      aio.timeout({ ns: SHORT }),
    ];
    assert.equal(await aio.complete(ops), 3);
  });
  await t.step("timeout(short, hard) + linkTimeout(long, soft) + timeout: no errors", async () => {
    const ops = [
      aio.timeout({ ns: SHORT, link: "hard" }),
      aio.linkTimeout({ ns: LONG, link: "soft" }),
      aio.timeout({ ns: SHORT }),
    ];
    assert.equal(await aio.complete(ops), 0);
  });
});

Deno.test("soft link: a failure cancels the rest of the chain", async () => {
  const bad = aio.openAt({ dir: aio.cwd, path: "/nonexistent/x", link: "soft" });
  const next = aio.nop({ link: "soft" });
  const last = aio.nop();
  assert.equal(await aio.complete([bad, next, last]), 3);
  assert.equal(bad.outError?.code, "FileNotFound");
  assert.equal(next.outError?.code, "Canceled");
  assert.equal(last.outError?.code, "Canceled");
});

Deno.test("hard link: a failure does not stop the next operation, which still runs after it", async () => {
  const bad = aio.openAt({ dir: aio.cwd, path: "/nonexistent/x", link: "hard" });
  const next = aio.timeout({ ns: 1_000_000 });
  assert.equal(await aio.complete([bad, next]), 1);
  assert.equal(next.outError, null);
  await assert.rejects(
    aio.multi([aio.openAt({ dir: aio.cwd, path: "/nonexistent/x", link: "hard" }), aio.nop()]),
    aio.SomeOperationFailedError,
  );
});

Deno.test("links order execution: a linked write lands before the read that follows it", async () => {
  const [r, w] = aio.posix.pipe();
  const buf = new Uint8Array(8);
  const read = aio.read({ file: r, buffer: buf });
  // Unlinked, the read would be issued first and wait; linked, the write goes first.
  await aio.multi([aio.write({ file: w, buffer: new Uint8Array([7]), link: "soft" }), read]);
  assert.equal(read.outRead, 1);
  assert.equal(buf[0], 7);
  closeAll(r, w);
});

Deno.test("io_uring's rule on every backend: a short read breaks a soft link (link hard to run regardless)", async () => {
  const [r, w] = aio.posix.pipe();
  await aio.single(aio.write({ file: w, buffer: new Uint8Array(3) }));
  const short = aio.read({ file: r, buffer: new Uint8Array(8), link: "soft" });
  const after = aio.nop();
  const errors = await aio.complete([short, after]);
  assert.equal(short.outRead, 3);
  assert.equal(short.outError, null);
  // Every backend applies it: the posix uringlator mirrors io_uring.
  assert.equal(errors, 1);
  assert.equal(after.outError?.code, "Canceled");
  await aio.single(aio.write({ file: w, buffer: new Uint8Array(3) }));
  const short2 = aio.read({ file: r, buffer: new Uint8Array(8), link: "hard" });
  assert.equal(await aio.complete([short2, aio.nop()]), 0);
  closeAll(r, w);
});

Deno.test("Cancel: by id, then the stale id is NotFound", () => {
  using work = new aio.Dynamic({ capacity: 16 });
  const t0 = performance.now();
  const timer = aio.timeout({ ns: 2_000_000_000 });
  work.queue(timer);
  const first = work.complete("nonblocking");
  assert.deepEqual(first, { numCompleted: 0, numErrors: 0 });
  const id = timer.outId;
  work.queue(aio.cancel({ id }));
  assert.equal(work.completeAll(), 1);
  assert.equal(timer.outError?.code, "Canceled");
  assert.ok(since(t0) < 1000);
  const stale = aio.cancel({ id });
  work.queue(stale);
  assert.equal(work.completeAll(), 1);
  assert.equal(stale.outError?.code, "NotFound");
});

Deno.test("Cancel: ids carry a generation, so a reused slot does not match an old id", () => {
  using work = new aio.Dynamic({ capacity: 2 });
  const a = aio.nop();
  work.queue(a);
  work.completeAll();
  const oldId = a.outId;
  const b = aio.timeout({ ns: 100_000_000 });
  work.queue(b);
  assert.equal(b.outId & 0xffff, oldId & 0xffff); // the same slot, reused
  assert.notEqual(b.outId, oldId); // with a new generation
  const stale = aio.cancel({ id: oldId });
  work.queue(stale);
  assert.equal(work.completeAll(), 1);
  assert.equal(stale.outError?.code, "NotFound");
  assert.equal(b.outError, null); // the timeout ran its course, untouched by the stale cancel
});

Deno.test("AbortSignal cancels what the call covers", async () => {
  const { server, client, listener } = await tcpPair();
  const recv = aio.recv({ socket: server, buffer: new Uint8Array(16) });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  const t0 = performance.now();
  assert.equal(await aio.complete([recv], { signal: controller.signal }), 1);
  assert.equal(recv.outError?.code, "Canceled");
  assert.ok(since(t0) < 1000);
  await assert.rejects(
    aio.single(aio.nop(), { signal: controller.signal }),
    (e: unknown) => (e as Error).name === "AbortError",
  );

  using work = new aio.Dynamic();
  const c2 = new AbortController();
  const recv2 = aio.recv({ socket: server, buffer: new Uint8Array(16) });
  work.queue(recv2, undefined, { signal: c2.signal });
  work.complete("nonblocking");
  c2.abort();
  assert.equal(await work.completeAllAsync(), 1);
  assert.equal(recv2.outError?.code, "Canceled");
  closeAll(server, client, listener);
});

Deno.test("a link timeout that fires leaves the chain: a hard-linked operation's chain goes on", async () => {
  // From the differential fuzzer (seed 59): io_uring splices the expired link timeout out, and
  // its canceled operation's own hard link lets the rest run.
  const ops = [
    aio.timeout({ ns: 200_000_000, link: "hard" }),
    aio.linkTimeout({ ns: 10_000_000, link: "hard" }),
    aio.nop({ link: "soft" }),
    aio.nop(),
  ];
  assert.equal(await aio.complete(ops), 2);
  assert.deepEqual(ops.map((o) => o.outError?.code ?? null), ["Canceled", "Expired", null, null]);
});

Deno.test("what a link unlocks starts after the other heads of the submission, as io_uring's task work", () => {
  // From the differential fuzzer (seed 18): the unlinked read is issued with the chain's head,
  // before the write that the head's completion unlocks.
  const [r, w] = aio.posix.pipe();
  using work = new aio.Dynamic({ capacity: 8 });
  const order: string[] = [];
  const h: aio.Handler = { aioComplete: (_id, ud) => order.push(String(ud)) };
  work.queue([
    aio.nop({ link: "hard", userdata: "head" }),
    aio.write({ file: w, buffer: enc.encode("x"), userdata: "linked write" }),
    aio.nop({ userdata: "other head" }),
  ]);
  work.completeAll(h);
  assert.deepEqual(order, ["head", "other head", "linked write"]);
  closeAll(r, w);
});
