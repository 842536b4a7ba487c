// The posix backend's own paths: its thread pool, and what cancel can and cannot stop there.
import { aio, assert, closeAll, dec, enc, withTempDir } from "./_helpers.ts";

const onPosix = aio.currentBackend() === "posix";

Deno.test({
  name: "posix pool: file reads and writes at offsets through the Workers, blocking and not",
  ignore: !onPosix,
  async fn() {
    const { setForcePool } = await import("../backends/posix.ts");
    setForcePool(true);
    try {
      await withTempDir(async (_path, dir) => {
        const open = aio.openAt({ dir, path: "f", flags: { mode: "read_write", create: true } });
        await aio.single(open);
        const file = open.outFile;
        await aio.multi([
          aio.write({ file, buffer: enc.encode("hello "), offset: 0, link: "soft" }),
          aio.writev({ file, iov: [enc.encode("wor"), enc.encode("ld")], offset: 6 }),
        ]);
        const read = aio.read({ file, buffer: new Uint8Array(32), offset: 0 });
        aio.completeSync([read]); // a blocking wait, woken by the Worker's eventfd write
        assert.equal(dec.decode(read.buffer.subarray(0, read.outRead)), "hello world");
        const a = new Uint8Array(5);
        const b = new Uint8Array(6);
        await aio.single(aio.readv({ file, iov: [a, b], offset: 0 }));
        assert.equal(dec.decode(a) + dec.decode(b), "hello world");
        aio.posix.close(file);
      });
    } finally {
      setForcePool(false);
    }
  },
});

Deno.test({
  name: "posix pool: a call a Worker is running cannot be canceled (InProgress); it completes for real",
  ignore: !onPosix,
  async fn() {
    const { setForcePool } = await import("../backends/posix.ts");
    setForcePool(true);
    try {
      const [r, w] = aio.posix.pipe();
      using work = new aio.Dynamic({ capacity: 4 });
      // Until a Worker has taken the read (a new Worker takes 100 ms or more to start), a cancel
      // takes it back from the queue: then try again, later.
      let read = aio.read({ file: r, buffer: new Uint8Array(8) });
      let cancel = aio.cancel({ id: 0 });
      for (let attempt = 0; attempt < 20; attempt++) {
        read = aio.read({ file: r, buffer: new Uint8Array(8) });
        work.queue(read);
        work.complete("nonblocking");
        await new Promise((res) => setTimeout(res, 100 * (attempt + 1)));
        cancel = aio.cancel({ id: read.outId });
        work.queue(cancel);
        work.complete("nonblocking");
        if (cancel.outError?.code === "InProgress") break;
        assert.equal(cancel.outError, null); // taken back before it ran
        work.completeAll();
        assert.equal(read.outError?.code, "Canceled");
      }
      assert.equal(cancel.outError?.code, "InProgress");
      assert.equal(work.inFlight, 1);
      await aio.single(aio.write({ file: w, buffer: enc.encode("late") }));
      assert.equal(await work.completeAllAsync(), 0);
      assert.equal(read.outError, null);
      assert.equal(dec.decode(read.buffer.subarray(0, read.outRead)), "late");
      closeAll(r, w);
    } finally {
      setForcePool(false);
    }
  },
});
