// Every one of zig-aio's 34 operations, through the real kernel, with zig-aio's own test cases
// (src/aio.zig) ported where it has them.
import {
  aio,
  assert,
  closeAll,
  dec,
  enc,
  since,
  tcpListener,
  tcpPair,
  tcpSocket,
  WINDOWS,
  WINE,
  withTempDir,
} from "./_helpers.ts";

// iocp has no readiness poll and no splice, as in zig-aio: both report OperationNotSupported.
const onIocp = aio.currentBackend() === "iocp";
const notSupported = (e: aio.OperationError) => e.code === "OperationNotSupported";

Deno.test("nop: handler hooks see userdata, not failed", () => {
  const seen: string[] = [];
  using work = new aio.Dynamic({ capacity: 16 });
  const handler: aio.Handler = {
    aioQueue: (_id, userdata) => seen.push(`queue ${userdata}`),
    aioComplete: (_id, userdata, failed) => seen.push(`complete ${userdata} ${failed}`),
  };
  work.queue(aio.nop({ userdata: 42 }), handler);
  assert.equal(work.completeAll(handler), 0);
  assert.deepEqual(seen, ["queue 42", "complete 42 false"]);
});

Deno.test("fsync", async () => {
  await withTempDir(async (_path, dir) => {
    const open = aio.openAt({ dir, path: "test", flags: { mode: "read_write", create: true } });
    await aio.single(open);
    await aio.multi([aio.fsync({ file: open.outFile, link: "hard" }), aio.closeFile({ file: open.outFile })]);
  });
});

Deno.test("poll: eventsource readiness and file writability", async () => {
  const source = new aio.EventSource();
  if (onIocp) {
    await assert.rejects(aio.single(aio.poll({ fd: source.fd, events: { in: true } })), notSupported);
    source.close();
    return;
  }
  await aio.multi([
    aio.notifyEventSource({ source, link: "soft" }),
    aio.poll({ fd: source.fd, events: { in: true }, link: "soft" }),
    aio.closeEventSource({ source }),
  ]);
  assert.equal(source.fd, -1);
  await withTempDir(async (_p, dir) => {
    const open = aio.openAt({ dir, path: "test", flags: { mode: "read_write", create: true } });
    await aio.single(open);
    await aio.single(aio.poll({ fd: open.outFile, events: { out: true } }));
    await aio.single(aio.poll({ fd: open.outFile, events: { in: true, out: true } }));
    closeAll(open.outFile);
  });
});

Deno.test("readTty: reads whatever the fd has, at its position", async () => {
  const [r, w] = aio.posix.pipe();
  await aio.single(aio.write({ file: w, buffer: enc.encode("typed") }));
  const op = aio.readTty({ tty: r, buffer: new Uint8Array(32) });
  await aio.single(op);
  assert.equal(dec.decode(op.buffer.subarray(0, op.outRead)), "typed");
  closeAll(r, w);
});

Deno.test("read: at an offset, and NotOpenForReading", async () => {
  await withTempDir(async (path, dir) => {
    await Deno.writeTextFile(`${path}/test`, "foobar");
    const open = aio.openAt({ dir, path: "test" });
    await aio.single(open);
    const buf = new Uint8Array(64);
    const read = aio.read({ file: open.outFile, buffer: buf, offset: 3 });
    await aio.single(read);
    assert.equal(read.outRead, 3);
    assert.equal(dec.decode(buf.subarray(0, 3)), "bar");
    closeAll(open.outFile);

    const wo = aio.openAt({ dir, path: "test", flags: { mode: "write_only" } });
    await aio.single(wo);
    const bad = aio.read({ file: wo.outFile, buffer: buf, offset: 0 });
    await assert.rejects(
      aio.single(bad),
      (e: aio.OperationError) => e.code === "NotOpenForReading" && e.errno === "EBADF",
    );
    assert.equal(bad.outError?.op, "read");
    closeAll(wo.outFile);
  });
});

Deno.test("read and write at the current position (OFFSET_CURRENT_POS)", async () => {
  await withTempDir(async (path, dir) => {
    const open = aio.openAt({ dir, path: "f", flags: { mode: "read_write", create: true } });
    await aio.single(open);
    const fd = open.outFile;
    await aio.multi([
      aio.write({ file: fd, buffer: enc.encode("abc"), link: "soft" }),
      aio.write({ file: fd, buffer: enc.encode("def") }),
    ]);
    assert.equal(await Deno.readTextFile(`${path}/f`), "abcdef");
    const buf = new Uint8Array(6);
    const r = aio.read({ file: fd, buffer: buf, offset: aio.OFFSET_CURRENT_POS });
    await aio.single(r);
    assert.equal(r.outRead, 0); // the position is at the end
    closeAll(fd);
  });
});

Deno.test("write: and NotOpenForWriting", async () => {
  await withTempDir(async (path, dir) => {
    const open = aio.openAt({ dir, path: "test", flags: { mode: "read_write", create: true } });
    await aio.single(open);
    const w = aio.write({ file: open.outFile, buffer: enc.encode("foobar"), offset: 0 });
    await aio.single(w);
    assert.equal(w.outWritten, 6);
    assert.equal(await Deno.readTextFile(`${path}/test`), "foobar");
    closeAll(open.outFile);
    const ro = aio.openAt({ dir, path: "test" });
    await aio.single(ro);
    await assert.rejects(
      aio.single(aio.write({ file: ro.outFile, buffer: enc.encode("x"), offset: 0 })),
      (e: aio.OperationError) => e.code === "NotOpenForWriting",
    );
    closeAll(ro.outFile);
  });
});

Deno.test("writev and readv", async () => {
  await withTempDir(async (path, dir) => {
    const open = aio.openAt({ dir, path: "test", flags: { mode: "read_write", create: true } });
    await aio.single(open);
    const fd = open.outFile;
    const wv = aio.writev({ file: fd, iov: [enc.encode("foo"), enc.encode("bar")], offset: 0 });
    await aio.single(wv);
    assert.equal(wv.outWritten, 6);
    assert.equal(await Deno.readTextFile(`${path}/test`), "foobar");
    const a = new Uint8Array(3);
    const b = new Uint8Array(3);
    const rv = aio.readv({ file: fd, iov: [a, b], offset: 0 });
    await aio.single(rv);
    assert.equal(rv.outRead, 6);
    assert.equal(dec.decode(a) + dec.decode(b), "foobar");
    // More iovecs than fit in the slot's scratch memory.
    const many = Array.from({ length: 20 }, () => new Uint8Array(1));
    const rv2 = aio.readv({ file: fd, iov: many, offset: 0 });
    await aio.single(rv2);
    assert.equal(rv2.outRead, 6);
    assert.equal(many.map((x) => String.fromCharCode(x[0])).join("").slice(0, 6), "foobar");
    closeAll(fd);
  });
});

Deno.test("openAt, closeFile, closeDir", async () => {
  await withTempDir(async (path, dir) => {
    const missing = aio.openAt({ dir, path: "test" });
    await assert.rejects(
      aio.single(missing),
      (e: aio.OperationError) => e.code === "FileNotFound" && e.errno === "ENOENT",
    );
    await Deno.writeTextFile(`${path}/test`, "");
    const ok = aio.openAt({ dir, path: "test" });
    await aio.single(ok);
    assert.ok(ok.outFile >= 0);
    await aio.single(aio.closeFile({ file: ok.outFile }));
    const excl = aio.openAt({ dir, path: "test", flags: { mode: "write_only", create: true, exclusive: true } });
    await assert.rejects(aio.single(excl), (e: aio.OperationError) => e.code === "PathAlreadyExists");
    await Deno.mkdir(`${path}/sub`);
    const d = aio.openAt({ dir, path: "sub", flags: { directory: true } });
    await aio.single(d);
    await aio.single(aio.closeDir({ dir: d.outFile }));
    // The path may also be bytes, with or without a trailing NUL.
    const bytes = aio.openAt({ dir, path: enc.encode("test\0") });
    await aio.single(bytes);
    closeAll(bytes.outFile);
  });
});

Deno.test("timeout: waits on the monotonic clock and leaves the event loop free", async () => {
  let ticks = 0;
  const iv = setInterval(() => ticks++, 10);
  const t0 = performance.now();
  await aio.single(aio.timeout({ ns: 200_000_000 }));
  clearInterval(iv);
  assert.ok(since(t0) >= 195, `elapsed ${since(t0)}`);
  assert.ok(ticks >= 5, `the event loop ran ${ticks} timer ticks`);
  const t1 = performance.now();
  aio.singleSync(aio.timeout({ ns: 50_000_000 }));
  assert.ok(since(t1) >= 45);
});

Deno.test("renameAt: FileNotFound, success, PathAlreadyExists (no replace)", async () => {
  await withTempDir(async (path, dir) => {
    const rename = () => aio.renameAt({ oldDir: dir, oldPath: "test", newDir: dir, newPath: "new_test" });
    await assert.rejects(aio.single(rename()), (e: aio.OperationError) => e.code === "FileNotFound");
    await Deno.writeTextFile(`${path}/test`, "");
    await aio.single(rename());
    await Deno.stat(`${path}/new_test`);
    await assert.rejects(Deno.stat(`${path}/test`), Deno.errors.NotFound);
    await Deno.writeTextFile(`${path}/test`, "");
    await assert.rejects(aio.single(rename()), (e: aio.OperationError) => e.code === "PathAlreadyExists");
  });
});

Deno.test("unlinkAt: files and, with removeDir, directories", async () => {
  await withTempDir(async (path, dir) => {
    await assert.rejects(
      aio.single(aio.unlinkAt({ dir, path: "test" })),
      (e: aio.OperationError) => e.code === "FileNotFound",
    );
    await Deno.writeTextFile(`${path}/test`, "");
    await aio.single(aio.unlinkAt({ dir, path: "test" }));
    await assert.rejects(Deno.stat(`${path}/test`), Deno.errors.NotFound);
    await Deno.mkdir(`${path}/d`);
    await assert.rejects(aio.single(aio.unlinkAt({ dir, path: "d" })), (e: aio.OperationError) => e.code === "IsDir");
    await aio.single(aio.unlinkAt({ dir, path: "d", removeDir: true }));
  });
});

Deno.test("mkdirAt: creates, then PathAlreadyExists", async () => {
  await withTempDir(async (path, dir) => {
    await aio.single(aio.mkdirAt({ dir, path: "test", mode: 0o700 }));
    const st = await Deno.stat(`${path}/test`);
    assert.ok(st.isDirectory);
    if (!WINDOWS) assert.equal(st.mode! & 0o777, 0o700); // Windows has no permission bits
    await assert.rejects(
      aio.single(aio.mkdirAt({ dir, path: "test" })),
      (e: aio.OperationError) => e.code === "PathAlreadyExists",
    );
  });
});

Deno.test({
  name: "symlinkAt: dangling, then resolving, then PathAlreadyExists",
  // Wine 8's CreateSymbolicLinkW is a stub that answers success and makes nothing.
  ignore: WINE,
}, async () => {
  await withTempDir(async (path, dir) => {
    await aio.single(aio.symlinkAt({ dir, target: "target", linkPath: "test" }));
    await assert.rejects(Deno.stat(`${path}/test`), Deno.errors.NotFound);
    await Deno.writeTextFile(`${path}/target`, "");
    await Deno.stat(`${path}/test`);
    await assert.rejects(
      aio.single(aio.symlinkAt({ dir, target: "target", linkPath: "test" })),
      (e: aio.OperationError) => e.code === "PathAlreadyExists",
    );
  });
});

Deno.test("childExit: exit code, signal, NotFound", async () => {
  if (WINDOWS) {
    // No signals on Windows: a killed process exits with the code TerminateProcess gave it.
    const deno = (code: string) => aio.posix.spawn([Deno.execPath(), "eval", code]);
    const exit = aio.childExit({ child: deno("setTimeout(() => Deno.exit(69), 100)") });
    await aio.single(exit);
    assert.deepEqual(exit.outTerm, { kind: "exited", code: 69 });
    const sleeper = deno("setTimeout(() => {}, 10000)");
    const killed = aio.childExit({ child: sleeper });
    const wait = aio.single(killed);
    setTimeout(() => Deno.kill(sleeper, "SIGKILL"), 20);
    await wait;
    assert.equal(killed.outTerm?.kind, "exited");
    await assert.rejects(aio.single(aio.childExit({ child: 1 })), (e: aio.OperationError) => e.code === "NotFound");
    return;
  }
  const pid = aio.posix.spawn(["sh", "-c", "sleep 0.1; exit 69"]);
  const exit = aio.childExit({ child: pid });
  await aio.single(exit);
  assert.deepEqual(exit.outTerm, { kind: "exited", code: 69 });

  const sleeper = aio.posix.spawn(["sleep", "10"]);
  const killed = aio.childExit({ child: sleeper });
  const wait = aio.single(killed);
  setTimeout(() => Deno.kill(sleeper, "SIGKILL"), 20);
  await wait;
  assert.deepEqual(killed.outTerm, { kind: "signal", signal: 9 });

  // pid 1 is not our child.
  await assert.rejects(aio.single(aio.childExit({ child: 1 })), (e: aio.OperationError) => e.code === "NotFound");
});

Deno.test("socket/TCP: bind, listen, accept, connect, send, recv, shutdown, closeSocket", async () => {
  const server = await tcpSocket();
  aio.posix.setsockopt(server, aio.constants.SOL.SOCKET, aio.constants.SO.REUSEADDR, 1);
  const client = await tcpSocket();
  const bindAddr = aio.ipv4("127.0.0.1", 0);
  if (aio.isSupported(["bind", "listen"])) {
    await aio.multi([
      aio.bind({ socket: server, addr: bindAddr, link: "soft" }),
      aio.listen({ socket: server, backlog: 1 }),
    ]);
  } else {
    aio.posix.bind(server, bindAddr);
    aio.posix.listen(server, 1);
  }
  const address = aio.posix.getsockname(server);
  const accept = aio.accept({ socket: server, outAddr: new Uint8Array(128) });
  await aio.multi([accept, aio.connect({ socket: client, addr: address })]);
  assert.equal(accept.inoutAddrlen, 16);
  assert.equal(aio.parseAddress(accept.outAddr!).address, "127.0.0.1");

  const buf1 = new Uint8Array(32);
  const buf2 = new Uint8Array(32);
  const s1 = aio.send({ socket: accept.outSocket, buffer: enc.encode("PING"), link: "soft" });
  const r1 = aio.recv({ socket: client, buffer: buf1, link: "soft" });
  const s2 = aio.send({ socket: client, buffer: enc.encode("PONG"), link: "soft" });
  const r2 = aio.recv({ socket: accept.outSocket, buffer: buf2 });
  await aio.multi([s1, r1, s2, r2]);
  assert.equal(s1.outWritten, 4);
  assert.equal(r1.outRead, 4);
  assert.equal(dec.decode(buf1.subarray(0, r1.outRead)), "PING");
  assert.equal(dec.decode(buf2.subarray(0, r2.outRead)), "PONG");

  await aio.single(aio.shutdown({ socket: client, how: "both" }));
  const eof = aio.recv({ socket: accept.outSocket, buffer: buf2 });
  await aio.single(eof);
  assert.equal(eof.outRead, 0); // the peer shut down
  await aio.multi([
    aio.closeSocket({ socket: client, link: "hard" }),
    aio.closeSocket({ socket: accept.outSocket, link: "hard" }),
    aio.closeSocket({ socket: server }),
  ]);
});

Deno.test("connect: ConnectionRefused on a closed port", async () => {
  const { fd, addr } = await tcpListener();
  aio.posix.close(fd); // nothing listens there any more
  const client = await tcpSocket();
  await assert.rejects(
    aio.single(aio.connect({ socket: client, addr })),
    (e: aio.OperationError) => e.code === "ConnectionRefused" && e.errno === "ECONNREFUSED",
  );
  closeAll(client);
});

Deno.test("socket/UDP: sendMsg and recvMsg with peer addresses", async () => {
  const { AF, SOCK, IPPROTO } = aio.constants;
  const mk = () => aio.socket({ domain: AF.INET, flags: SOCK.DGRAM | SOCK.CLOEXEC, protocol: IPPROTO.UDP });
  const a = mk();
  const b = mk();
  await aio.multi([a, b]);
  aio.posix.bind(a.outSocket, aio.ipv4("127.0.0.1", 0));
  aio.posix.bind(b.outSocket, aio.ipv4("127.0.0.1", 0));
  const aAddr = aio.posix.getsockname(a.outSocket);
  const bAddr = aio.posix.getsockname(b.outSocket);

  const ping = aio.messageHeader({ name: bAddr, iov: [enc.encode("PI"), enc.encode("NG")] });
  const buf = new Uint8Array(32);
  const from = new Uint8Array(16);
  const inbox = aio.messageHeader({ name: from, iov: [buf] });
  const send = aio.sendMsg({ socket: a.outSocket, msg: ping, link: "soft" });
  const recv = aio.recvMsg({ socket: b.outSocket, outMsg: inbox });
  await aio.multi([send, recv]);
  assert.equal(send.outWritten, 4);
  assert.equal(recv.outRead, 4);
  assert.equal(dec.decode(buf.subarray(0, 4)), "PING");
  assert.equal(inbox.namelen, 16);
  assert.deepEqual(aio.parseAddress(from), aio.parseAddress(aAddr));
  await aio.multi([aio.closeSocket({ socket: a.outSocket, link: "hard" }), aio.closeSocket({ socket: b.outSocket })]);
});

Deno.test("closeSocket cancels what is outstanding on the socket (zig-aio#67)", async () => {
  const { server, client, listener } = await tcpPair();
  using work = new aio.Dynamic();
  const pending = aio.recv({ socket: server, buffer: new Uint8Array(16) });
  work.queue(pending);
  assert.equal(work.complete("nonblocking").numCompleted, 0); // submitted, nothing to read
  work.queue(aio.closeSocket({ socket: server }));
  assert.equal(await work.completeAllAsync(), 1);
  assert.equal(pending.outError?.code, "Canceled");
  closeAll(client, listener);
});

Deno.test("EventSource operations: notify, wait, close", async () => {
  const source = new aio.EventSource();
  await aio.multi([
    aio.notifyEventSource({ source }),
    aio.waitEventSource({ source, link: "hard" }),
    aio.closeEventSource({ source }),
  ]);
  assert.equal(source.fd, -1);
});

Deno.test("splice: pipe to file", async () => {
  await withTempDir(async (path, dir) => {
    const open = aio.openAt({ dir, path: "out", flags: { mode: "read_write", create: true } });
    await aio.single(open);
    const [r, w] = aio.posix.pipe();
    await aio.single(aio.write({ file: w, buffer: enc.encode("hello world") }));
    const op = aio.splice({ in: { pipe: r }, out: { fd: open.outFile, offset: 0 }, len: 11 });
    if (onIocp) {
      await assert.rejects(aio.single(op), notSupported);
      closeAll(r, w, open.outFile);
      return;
    }
    await aio.single(op);
    assert.equal(op.outWritten, 11);
    assert.equal(await Deno.readTextFile(`${path}/out`), "hello world");
    closeAll(r, w, open.outFile);
  });
});

Deno.test("every operation kind is covered by the probe answer", () => {
  assert.equal(aio.OPERATION_KINDS.length, 34);
  assert.ok(aio.isSupported(["nop", "read", "write", "timeout", "linkTimeout", "cancel"]));
});

Deno.test("several operations wait on one socket at once: two recvs and a poll, then a send", async () => {
  const { server, client, listener } = await tcpPair();
  using work = new aio.Dynamic({ capacity: 8 });
  const r1 = aio.recv({ socket: server, buffer: new Uint8Array(3), flags: { waitAll: true } });
  const r2 = aio.recv({ socket: server, buffer: new Uint8Array(3), flags: { waitAll: true } });
  const poll = aio.poll({ fd: server, events: { in: true } });
  work.queue(onIocp ? [r1, r2] : [r1, r2, poll]);
  assert.equal(work.complete("nonblocking").numCompleted, 0);
  await aio.single(aio.send({ socket: client, buffer: enc.encode("abcdef") }));
  assert.equal(await work.completeAllAsync(), 0);
  const got = [dec.decode(r1.buffer), dec.decode(r2.buffer)].sort();
  assert.deepEqual(got, ["abc", "def"]);
  closeAll(server, client, listener);
});

Deno.test("a recv waiting when its socket is closed by other means: as the README's table states, per backend", async () => {
  const { server, client, listener } = await tcpPair();
  using work = new aio.Dynamic({ capacity: 4 });
  const recv = aio.recv({ socket: server, buffer: new Uint8Array(8) });
  work.queue(recv);
  assert.equal(work.complete("nonblocking").numCompleted, 0);
  aio.posix.close(server); // not closeSocket: nothing cancels the recv
  await aio.single(aio.send({ socket: client, buffer: enc.encode("hi") }));
  await new Promise((r) => setTimeout(r, 50));
  const got = work.complete("nonblocking").numCompleted;
  if (onIocp) {
    // closesocket ends what is pending on the socket: the recv completes Canceled.
    assert.equal(got, 1);
    assert.equal(recv.outError?.code, "Canceled");
  } else if (aio.currentBackend() === "io_uring") {
    // The pending request holds the socket open: it still receives.
    assert.equal(got, 1);
    assert.equal(dec.decode(recv.buffer.subarray(0, recv.outRead)), "hi");
  } else {
    // epoll dropped the registration with the fd: the recv waits until canceled.
    assert.equal(got, 0);
    work.cancel(recv.outId);
    assert.equal(work.completeAll(), 1);
    assert.equal(recv.outError?.code, "Canceled");
  }
  closeAll(client, listener);
});
