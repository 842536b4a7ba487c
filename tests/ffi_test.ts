// The FFI boundary: ring mappings, library loading, errno, and memory kept alive in flight.
import { aio, assert, closeAll, dec, enc, requireGc } from "./_helpers.ts";
import { IoUringBackend } from "../backends/io_uring.ts";
import { LIBURING_HINT, liburingSymbols } from "../ffi/liburing.ts";
import { LibraryNotFoundError, loadLibrary } from "../ffi/loader.ts";
import { errno, openLibc } from "../ffi/libc.ts";
import { ERRNO } from "../ffi/linux.ts";

const onIoUring = aio.currentBackend() === "io_uring";

Deno.test({
  name: "10k rings created and closed: mappings at recycled addresses never clash",
  ignore: !onIoUring,
  fn() {
    for (let i = 0; i < 10_000; i++) {
      const ring = new IoUringBackend({ sqEntries: 8 << (i % 4) });
      ring.close();
    }
    // And a queue still works afterwards.
    using work = new aio.Dynamic();
    work.queue(aio.nop());
    assert.equal(work.completeAll(), 0);
  },
});

Deno.test("a library that cannot be loaded: the error names every path tried and how to install it", () => {
  assert.throws(
    () => loadLibrary("liburing", ["/nonexistent/a.so", "liburing.so.999"], liburingSymbols, LIBURING_HINT),
    (e: unknown) =>
      e instanceof LibraryNotFoundError && e.tried.length === 2 && /\/nonexistent\/a\.so \(/.test(e.message) &&
      /liburing\.so\.999/.test(e.message) && /apt-get install liburing2/.test(e.message),
  );
});

Deno.test("AIO_LIBURING_PATH is tried first, then the sonames", async () => {
  const code = `import { liburingCandidates } from "${new URL("../ffi/liburing.ts", import.meta.url)}";
    console.log(JSON.stringify(liburingCandidates()));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { AIO_LIBURING_PATH: "/opt/custom/liburing.so" },
  }).output();
  assert.deepEqual(JSON.parse(dec.decode(out.stdout)), ["/opt/custom/liburing.so", "liburing.so.2", "liburing.so"]);
});

Deno.test({ name: "errno is read before anything else can clobber it", ignore: Deno.build.os === "windows" }, () => {
  const libc = openLibc().symbols;
  for (let i = 0; i < 1000; i++) {
    assert.equal(libc.close(1_000_000 + i), -1);
    assert.equal(errno(), ERRNO.EBADF);
    assert.equal(libc.listen(-1, 1), -1);
    assert.equal(errno(), ERRNO.EBADF);
    const [a, b] = aio.posix.socketpair();
    assert.equal(libc.listen(a, 1), -1); // a connected unix stream socket cannot listen
    assert.equal(errno(), ERRNO.EINVAL);
    closeAll(a, b);
  }
});

Deno.test({
  name: "GC between submit and completion: the kernel writes into live memory",
  async fn() {
    const gc = requireGc();
    for (let round = 0; round < 20; round++) {
      const [r, w] = aio.posix.pipe();
      const reads: aio.Read[] = [];
      {
        // The caller keeps only the operations; every buffer is reachable through them alone.
        const batch = Array.from({ length: 8 }, () => aio.read({ file: r, buffer: new Uint8Array(64).fill(0xee) }));
        reads.push(...batch);
      }
      const pending = aio.complete(reads);
      gc();
      // Garbage to move things around while the reads wait.
      for (let i = 0; i < 2000; i++) new Uint8Array(32).fill(i);
      gc();
      const payload = enc.encode("x".repeat(64 * 8));
      await aio.single(aio.write({ file: w, buffer: payload }));
      assert.equal(await pending, 0);
      const total = reads.reduce((n, op) => n + op.outRead, 0);
      assert.equal(total, 64 * 8);
      for (const op of reads) assert.ok(op.buffer.subarray(0, op.outRead).every((b) => b === 0x78));
      closeAll(r, w);
    }
  },
});

Deno.test("small (on-heap) typed arrays are moved off the heap before their address is taken", async () => {
  const [r, w] = aio.posix.pipe();
  const tiny = new Uint8Array(4); // V8 keeps arrays this small on the JS heap
  const read = aio.read({ file: r, buffer: tiny });
  const pending = aio.single(read);
  for (let i = 0; i < 5000; i++) new Uint8Array(16);
  requireGc()();
  await aio.single(aio.write({ file: w, buffer: new Uint8Array([9, 8, 7, 6]) }));
  await pending;
  assert.deepEqual([...tiny], [9, 8, 7, 6]);
  closeAll(r, w);
});
