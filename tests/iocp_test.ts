// The iocp backend's own paths: what it does not support, handles shared between isolates, and
// cancellation that completes through the port.
import { aio, assert, closeAll, dec, enc, tcpPair, withTempDir } from "./_helpers.ts";
import { coro } from "../mod.ts";

const onIocp = aio.currentBackend() === "iocp";

Deno.test({
  name: "iocp: poll and splice are not supported; each fails in its place, soft links cancel after it",
  ignore: !onIocp,
  async fn() {
    assert.equal(aio.isSupported(["poll"]), false);
    assert.equal(aio.isSupported(["splice"]), false);
    assert.equal(aio.isSupported(["read", "accept", "childExit", "waitEventSource"]), true);
    const [r, w] = aio.posix.pipe();
    const write = aio.write({ file: w, buffer: enc.encode("hello"), link: "hard" });
    const poll = aio.poll({ fd: r, events: { in: true }, link: "soft" });
    const after = aio.nop();
    assert.equal(await aio.complete([write, poll, after]), 2);
    assert.equal(write.outWritten, 5);
    assert.equal(poll.outError?.code, "OperationNotSupported");
    assert.equal(after.outError?.code, "Canceled");
    const read = aio.read({ file: r, buffer: new Uint8Array(8) });
    await aio.single(read);
    assert.equal(dec.decode(read.buffer.subarray(0, read.outRead)), "hello");
    closeAll(r, w);
  },
});

Deno.test({
  name: "iocp: a canceled recv completes Canceled through the port, and its buffer is untouched after",
  ignore: !onIocp,
  async fn() {
    const { server, client, listener } = await tcpPair();
    using work = new aio.Dynamic({ capacity: 4 });
    const buf = new Uint8Array(8).fill(0xee);
    const recv = aio.recv({ socket: server, buffer: buf });
    work.queue(recv);
    work.complete("nonblocking");
    work.queue(aio.cancel({ id: recv.outId }));
    assert.equal(work.completeAll(), 1);
    assert.equal(recv.outError?.code, "Canceled");
    // What is sent afterwards is not written into the canceled recv's buffer.
    await aio.single(aio.send({ socket: client, buffer: enc.encode("late") }));
    const again = aio.recv({ socket: server, buffer: new Uint8Array(8) });
    await aio.single(again);
    assert.equal(dec.decode(again.buffer.subarray(0, again.outRead)), "late");
    assert.ok(buf.every((b) => b === 0xee));
    closeAll(server, client, listener);
  },
});

Deno.test({
  name: "iocp: file I/O at the current position moves the handle's position, as on Linux",
  ignore: !onIocp,
  async fn() {
    await withTempDir(async (path, dir) => {
      const open = aio.openAt({ dir, path: "f", flags: { mode: "read_write", create: true } });
      await aio.single(open);
      const file = open.outFile;
      await aio.multi([
        aio.write({ file, buffer: enc.encode("abc"), link: "soft" }),
        aio.writev({ file, iov: [enc.encode("de"), enc.encode("f")] }),
      ]);
      assert.equal(await Deno.readTextFile(`${path}/f`), "abcdef");
      const head = aio.read({ file, buffer: new Uint8Array(2), offset: 0 });
      await aio.single(head);
      assert.equal(dec.decode(head.buffer), "ab");
      // At an offset: the position (6, after the writes) did not move; a current-position read is at the end.
      const tail = aio.read({ file, buffer: new Uint8Array(4) });
      await aio.single(tail);
      assert.equal(tail.outRead, 0);
      aio.posix.close(file);
    });
  },
});

Deno.test({
  name: "iocp: an event source another isolate's port owns: a Worker's queue waits on it by polling",
  ignore: !onIocp,
  async fn() {
    using queue = new coro.Queue<number>({ capacity: 4096 });
    // Waited on here first: its socket is now this isolate's port's.
    const first = queue.recv();
    queue.send(100);
    assert.equal(await first, 100);
    const worker = new Worker(new URL("./workers/queue_worker.ts", import.meta.url), { type: "module" });
    const done = new Promise((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(e.message);
    });
    worker.postMessage({ queue: queue.shared, count: 5 });
    for (let i = 1; i <= 5; i++) {
      await new Promise((r) => setTimeout(r, 20)); // the Worker waits before each item comes
      queue.send(i);
    }
    assert.equal(await done, 15);
    worker.terminate();
  },
});

Deno.test({
  name: "iocp: childExit waits for the child, not for a process the child started (which joins its Job)",
  ignore: !onIocp,
  async fn() {
    const code = `await new Deno.Command("cmd.exe", { args: ["/c", "exit 0"] }).output();
      await new Promise((r) => setTimeout(r, 1000)); Deno.exit(7);`;
    const exit = aio.childExit({ child: aio.posix.spawn([Deno.execPath(), "eval", code]) });
    await aio.single(exit);
    assert.deepEqual(exit.outTerm, { kind: "exited", code: 7 });
  },
});

Deno.test({
  name: "iocp: a writev into a pipe whose reader went away is BrokenPipe, like a write",
  ignore: !onIocp,
  async fn() {
    for (const kind of ["write", "writev"] as const) {
      const [r, w] = aio.posix.pipe();
      const big = new Uint8Array(1 << 20);
      const op = kind === "write" ? aio.write({ file: w, buffer: big }) : aio.writev({ file: w, iov: [big] });
      const done = aio.single(op).catch(() => {});
      await new Promise((res) => setTimeout(res, 50));
      closeAll(r);
      await done;
      assert.equal(op.outError?.code, "BrokenPipe", kind);
      closeAll(w);
    }
  },
});

Deno.test({
  name: "iocp: queue ids are reused, so a queue made after 65536 others still gets its Job messages",
  ignore: !onIocp,
  async fn() {
    for (let i = 0; i < 65536; i++) new aio.Dynamic({ capacity: 1 }).close();
    using work = new aio.Dynamic({ capacity: 1 });
    const exit = aio.childExit({
      child: aio.posix.spawn([Deno.execPath(), "eval", "setTimeout(() => Deno.exit(5), 300)"]),
    });
    work.queue(exit);
    assert.equal(await work.completeAllAsync(), 0);
    assert.deepEqual(exit.outTerm, { kind: "exited", code: 5 });
  },
});

// A synchronous pipe (CreatePipe: what an inherited stdin is), which overlapped I/O cannot use.
function syncPipe(): [number, number] {
  const k = Deno.dlopen("kernel32.dll", {
    CreatePipe: { parameters: ["buffer", "buffer", "usize", "u32"], result: "i32" },
  });
  const r = new BigUint64Array(1);
  const w = new BigUint64Array(1);
  assert.ok(k.symbols.CreatePipe(new Uint8Array(r.buffer), new Uint8Array(w.buffer), 0n, 0));
  k.close();
  return [Number(r[0]), Number(w[0])];
}

Deno.test({
  name: "iocp: a read of a synchronous pipe waits without a thread: it reads what comes, and can be canceled",
  ignore: !onIocp,
  async fn() {
    const [r, w] = syncPipe();
    using work = new aio.Dynamic({ capacity: 4 });
    const read = aio.read({ file: r, buffer: new Uint8Array(16) });
    work.queue(read);
    work.complete("nonblocking");
    await aio.single(aio.write({ file: w, buffer: enc.encode("sync") }));
    assert.equal(await work.completeAllAsync(), 0);
    assert.equal(dec.decode(read.buffer.subarray(0, read.outRead)), "sync");
    const idle = aio.read({ file: r, buffer: new Uint8Array(16) });
    work.queue(idle);
    work.complete("nonblocking");
    await new Promise((res) => setTimeout(res, 50));
    work.cancel(idle.outId);
    await work.completeAllAsync();
    assert.equal(idle.outError?.code, "Canceled");
    closeAll(r, w);
  },
});

Deno.test({
  name: "iocp: a write a pool Worker makes goes to its own pipe, even when a close queued behind it frees the number",
  ignore: !onIocp,
  async fn() {
    const [r, w] = syncPipe();
    await aio.complete([aio.write({ file: w, buffer: enc.encode("HELLO") }), aio.closeFile({ file: w })]);
    const others = [syncPipe(), syncPipe()];
    const got = aio.read({ file: r, buffer: new Uint8Array(16) });
    await aio.single(got);
    assert.equal(dec.decode(got.buffer.subarray(0, got.outRead)), "HELLO");
    for (const [a, b] of others) {
      const peek = aio.read({ file: a, buffer: new Uint8Array(16) });
      await aio.single(aio.write({ file: b, buffer: enc.encode("x") }));
      await aio.single(peek);
      assert.equal(dec.decode(peek.buffer.subarray(0, peek.outRead)), "x"); // nothing else landed there
      closeAll(a, b);
    }
    closeAll(r);
  },
});
