// Bad input is caught before the kernel sees it, with a typed error naming the problem, and
// nothing of the call is queued.
import { aio, assert, closedFd } from "./_helpers.ts";

function code(fn: () => unknown, expected: string): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof aio.InvalidOperationError && e.code === expected,
    `expected ${expected}`,
  );
}

Deno.test("bad fds: negative, non-integer, NaN, too large, wrong type", () => {
  code(() => aio.read({ file: -1, buffer: new Uint8Array(1) }), "InvalidFd");
  code(() => aio.read({ file: 1.5, buffer: new Uint8Array(1) }), "InvalidFd");
  code(() => aio.recv({ socket: NaN, buffer: new Uint8Array(1) }), "InvalidFd");
  code(() => aio.closeFile({ file: 2 ** 40 }), "InvalidFd");
  code(() => aio.closeSocket({ socket: "3" as unknown as number }), "InvalidFd");
  // aio.cwd is accepted where a directory is expected, and only there.
  aio.openAt({ dir: aio.cwd, path: "x" });
  code(() => aio.closeDir({ dir: aio.cwd }), "InvalidFd");
});

Deno.test("bad buffers: wrong type, detached, too short", () => {
  code(() => aio.read({ file: 0, buffer: [1, 2] as unknown as Uint8Array }), "InvalidBuffer");
  const buf = new Uint8Array(8);
  const op = aio.read({ file: 0, buffer: buf });
  structuredClone(buf.buffer, { transfer: [buf.buffer] }); // detaches
  code(() => aio.completeSync([op]), "DetachedBuffer");
  code(() => aio.accept({ socket: 3, outAddr: new Uint8Array(4) }), "BufferTooShort");
  code(() => aio.connect({ socket: 3, addr: aio.ipv4("127.0.0.1", 1), addrlen: 64 }), "BufferTooShort");
  code(() => aio.connect({ socket: 3, addr: new Uint8Array(1) }), "BufferTooShort");
  code(() => aio.readv({ file: 0, iov: [] }), "InvalidArgument");
});

Deno.test("SharedArrayBuffer-backed buffers are accepted (their memory does not move)", async () => {
  const [r, w] = aio.posix.pipe();
  const shared = new Uint8Array(new SharedArrayBuffer(4));
  await aio.single(aio.write({ file: w, buffer: new Uint8Array([1, 2, 3, 4]) }));
  const read = aio.read({ file: r, buffer: shared });
  await aio.single(read);
  assert.deepEqual([...shared], [1, 2, 3, 4]);
  aio.posix.close(r);
  aio.posix.close(w);
});

Deno.test("paths with NUL", () => {
  code(() => aio.openAt({ dir: aio.cwd, path: "a\0b" }), "PathContainsNul");
  code(() => aio.unlinkAt({ dir: aio.cwd, path: new Uint8Array([97, 0, 98]) }), "PathContainsNul");
  code(() => aio.renameAt({ oldDir: aio.cwd, oldPath: "a", newDir: aio.cwd, newPath: "b\0" }), "PathContainsNul");
  code(() => aio.symlinkAt({ dir: aio.cwd, target: "\0", linkPath: "b" }), "PathContainsNul");
  aio.openAt({ dir: aio.cwd, path: new Uint8Array([97, 0]) }); // a trailing NUL terminates, fine
});

Deno.test("offsets and numbers out of range", () => {
  code(() => aio.read({ file: 0, buffer: new Uint8Array(1), offset: -2 }), "OffsetOutOfRange");
  code(() => aio.write({ file: 0, buffer: new Uint8Array(1), offset: 2 ** 60 }), "OffsetOutOfRange");
  code(() => aio.read({ file: 0, buffer: new Uint8Array(1), offset: 0.5 }), "OffsetOutOfRange");
  code(() => aio.timeout({ ns: -1 }), "InvalidArgument");
  code(() => aio.timeout({ ns: Infinity }), "InvalidArgument");
  code(() => aio.timeout({ ns: NaN }), "InvalidArgument");
  code(() => aio.listen({ socket: 3, backlog: -1 }), "InvalidArgument");
  code(() => aio.mkdirAt({ dir: aio.cwd, path: "d", mode: 0o10000 }), "InvalidArgument");
  code(() => aio.childExit({ child: 0 }), "InvalidArgument");
  code(() => aio.cancel({ id: -5 }), "InvalidArgument");
  code(() => aio.splice({ in: { pipe: 3 }, out: { fd: 4, offset: -7 }, len: 1 }), "OffsetOutOfRange");
  code(() => aio.shutdown({ socket: 3, how: "sideways" as "both" }), "InvalidArgument");
});

Deno.test("batch shape: LinkTimeout not after a linked op, last op linked, empty, duplicates, in flight", async () => {
  code(() => aio.completeSync([aio.linkTimeout({ ns: 1 })]), "LinkTimeoutNotLinked");
  code(() => aio.completeSync([aio.nop(), aio.linkTimeout({ ns: 1 })]), "LinkTimeoutNotLinked");
  code(() => aio.completeSync([aio.nop({ link: "soft" })]), "LastOperationLinked");
  code(() => aio.completeSync([]), "EmptyBatch");
  const op = aio.nop();
  code(() => aio.completeSync([op, op]), "DuplicateOperation");
  code(() => aio.completeSync([{ kind: "nop" } as aio.Nop]), "InvalidArgument");
  // Nothing was left marked by the refusals: the same op runs now.
  aio.completeSync([op]);
  const t = aio.timeout({ ns: 5_000_000 });
  const running = aio.single(t);
  await assert.rejects(aio.single(t), (e: aio.InvalidOperationError) => e.code === "OperationInFlight");
  await running;
});

Deno.test("an event source that is closed is refused", () => {
  const source = new aio.EventSource();
  source.close();
  code(() => aio.notifyEventSource({ source }), "InvalidFd");
  assert.throws(() => source.notify(), (e: aio.AioError) => e.code === "InvalidFd");
});

Deno.test("an fd that is closed or was never open: a typed error from the kernel", async () => {
  const r = closedFd();
  // A closed fd is a valid number; only the kernel can tell, and it says EBADF.
  await assert.rejects(
    aio.single(aio.read({ file: r, buffer: new Uint8Array(1) })),
    (e: aio.OperationError) => e.code === "NotOpenForReading" && e.errno === "EBADF",
  );
  await assert.rejects(
    aio.single(aio.recv({ socket: 100_000, buffer: new Uint8Array(1) })),
    (e: aio.OperationError) => e.code === "FileDescriptorInvalid" && e.errno === "EBADF",
  );
});

Deno.test("Dynamic options are checked", () => {
  assert.throws(() => new aio.Dynamic({ capacity: 0 }), (e: aio.QueueError) => e.code === "InvalidArgument");
  assert.throws(() => new aio.Dynamic({ capacity: 70000 }), (e: aio.QueueError) => e.code === "InvalidArgument");
  assert.throws(
    () => new aio.Dynamic({ backend: "bogus" as "posix" }),
    (e: aio.AioError) => e.code === "InvalidArgument",
  );
});
