// GC stress (issue #7): every kind of operation that hands memory to the kernel (or to a pool
// Worker) is queued behind a gate, the caller drops its references to that memory, and gc() runs
// with garbage churn before the operation is allowed to start and again while it runs. The
// kernel's writes must land in the original buffers (held only by a WeakRef here), and what it
// reads (data, addresses, paths, message headers) must be what the buffers held when queued.
//
// How a reference is dropped: the operation's field is reassigned to a decoy of the same size
// (filled with another byte, or naming another path or address), so only the queue's keep-alive
// holds the memory the kernel was given. A library that re-read the field, or let the keep-alive
// go, writes into a decoy or freed memory, or reads the decoy: each case's check sees it.
//
// The gate is a 1-byte pipe read hard-linked before the operation: nothing of the operation runs
// until the test writes that byte, after the first collections, so no timing decides coverage.
// Each case runs through a Dynamic (collecting between queue and submission as well, when
// io_uring reads addresses and paths), through the immediate API (aio.complete) and through a
// coro task.
//
// Checked against a broken library: with Dynamic's keep-alive dropped for one kind at a time,
// every kind here fails, crashes in malloc or hangs on io_uring (see tests/stress/README.md).
//
// Without --expose-gc these tests fail, saying so: tests/run.ts always passes the flag, and a
// GC test that silently collects nothing would pass without testing anything.
import { aio, assert, closeAll, dec, enc, tcpListener, tcpSocket, WINDOWS, WINE, withTempDir } from "./_helpers.ts";
import { coro } from "../mod.ts";

type Mode = "dynamic" | "immediate" | "coro";
const MODES: Mode[] = ["dynamic", "immediate", "coro"];

function requireGc(): Gc {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (typeof gc !== "function") {
    throw new Error("gc() is not exposed: run with --v8-flags=--expose-gc (tests/run.ts passes it)");
  }
  return gc;
}

/** Deterministic bytes: what was written can be recomputed without keeping the buffer. */
function pattern(seed: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A buffer filled with `byte` (V8 keeps those of 64 bytes or fewer on its heap until an address is taken). */
function filled(len: number, byte: number): Uint8Array {
  return new Uint8Array(len).fill(byte);
}

// Sizes of the buffers the cases use, so that freed stores are likely reused (and overwritten
// with 0xa5) by the churn.
const CHURN_SIZES = [5, 16, 24, 40, 64, 100, 128, 1000, 4096, 65536];

type Gc = (options?: { type?: "major" | "minor" }) => void;

/**
 * Collections with allocation between, across macrotasks (WeakRef targets are kept during a
 * job): scavenges, which free young buffers nothing holds, then one full collection (about 30 ms
 * on the CI machine, hence one per phase).
 */
async function churn(): Promise<void> {
  const gc = requireGc();
  for (let i = 0; i < 3; i++) {
    gc({ type: "minor" });
    for (let j = 0; j < 40; j++) new Uint8Array(new ArrayBuffer(CHURN_SIZES[j % CHURN_SIZES.length])).fill(0xa5);
    await new Promise((r) => setTimeout(r, 0));
  }
  gc();
  for (let j = 0; j < 40; j++) new Uint8Array(new ArrayBuffer(CHURN_SIZES[j % CHURN_SIZES.length])).fill(0xa5);
  await new Promise((r) => setTimeout(r, 0));
}

function deref<T extends object>(ref: WeakRef<T>, what: string): T {
  const v = ref.deref();
  assert.ok(v !== undefined, `${what}: the memory given to the kernel was collected`);
  return v;
}

/** One case: operations after the gate, how to drop the references, and what must hold after. */
interface Case {
  ops: aio.Operation[];
  /** Reassigns the operations' fields to decoys. */
  drop(): void;
  /** Runs once the gate is open, e.g. sends what a recv waits for. */
  trigger?(): Promise<void>;
  check(errors: number): Promise<void> | void;
  cleanup?(): void;
}

interface Kind {
  name: string;
  ignore?: boolean;
  make(dir: number, path: string, tag: string): Case | Promise<Case>;
}

/** Runs the gate and the case's operations through `mode`; resolves with the error count. */
async function run(
  mode: Mode,
  ops: aio.Operation[],
  between: (submit?: () => void) => Promise<void>,
): Promise<number> {
  if (mode === "dynamic") {
    // Here the collections start between queueing and submission too: io_uring reads addresses
    // and paths when the SQE is submitted (prep), which the other two modes do at once.
    using work = new aio.Dynamic({ capacity: 8 });
    work.queue(ops);
    await between(() => work.complete("nonblocking"));
    return await work.completeAllAsync();
  }
  if (mode === "immediate") {
    const pending = aio.complete(ops);
    await between();
    return await pending;
  }
  const scheduler = new coro.Scheduler({ wait: "park" });
  try {
    const task = scheduler.spawn(() => coro.io.complete(ops), []);
    await between();
    return (await task.complete("wait"))!;
  } finally {
    await scheduler.close();
  }
}

async function runCase(kind: Kind, mode: Mode): Promise<void> {
  await withTempDir(async (path, dir) => {
    const tag = mode;
    const c = await kind.make(dir, path, tag);
    const [gateR, gateW] = aio.posix.pipe();
    try {
      const gate = aio.read({ file: gateR, buffer: new Uint8Array(1), link: "hard" });
      const errors = await run(mode, [gate, ...c.ops], async (submit) => {
        c.drop();
        await churn();
        submit?.(); // the gate now waits in the kernel
        await aio.single(aio.write({ file: gateW, buffer: new Uint8Array([1]) }));
        if (c.trigger) {
          // Started, and waiting for what only the trigger gives: collect while the kernel (or
          // the emulation's readiness wait) holds the memory. Without a trigger the operations
          // may already be complete here, their memory rightly free, and the check's WeakRefs
          // would then depend on when the next collection runs.
          await churn();
          await c.trigger();
        }
      });
      assert.equal(gate.outError, null);
      await c.check(errors);
    } finally {
      c.cleanup?.();
      closeAll(gateR, gateW);
    }
  });
}

async function openFile(dir: number, name: string, content?: Uint8Array): Promise<number> {
  const open = aio.openAt({ dir, path: name, flags: { mode: "read_write", create: true, truncate: true } });
  await aio.single(open);
  if (content) await aio.single(aio.write({ file: open.outFile, buffer: content, offset: 0 }));
  return open.outFile;
}

function udpSocket(): number {
  const { AF, SOCK, IPPROTO } = aio.constants;
  const s = aio.socket({ domain: AF.INET, flags: SOCK.DGRAM | SOCK.CLOEXEC, protocol: IPPROTO.UDP });
  aio.singleSync(s);
  aio.posix.bind(s.outSocket, aio.ipv4("127.0.0.1", 0));
  return s.outSocket;
}

async function exists(p: string): Promise<boolean> {
  return await Deno.lstat(p).then(() => true, () => false);
}

// iovec sizes: a few (inside the slot's scratch) and more than 8 (their own allocation), some
// small enough to start on V8's heap.
const FEW = [5, 100, 4096];
const MANY = [5, 16, 24, 40, 64, 100, 128, 1000, 4096, 5, 16, 24];

function readvKind(sizes: number[]): Kind {
  return {
    name: `readv (${sizes.length} iovecs)`,
    async make(dir, _path, tag) {
      const total = sizes.reduce((a, b) => a + b, 0);
      const seed = sizes.length * 7 + 1;
      const f = await openFile(dir, `rv-${tag}`, pattern(seed, total + 10));
      const op = aio.readv({ file: f, iov: sizes.map((n) => filled(n, 0xee)), offset: 10 });
      const refs = op.iov.map((b) => new WeakRef(b));
      return {
        ops: [op],
        drop: () => op.iov = sizes.map((n) => filled(n, 0x5a)),
        check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.equal(op.outRead, total);
          const want = pattern(seed, total + 10).subarray(10);
          let at = 0;
          refs.forEach((r, i) => {
            assert.deepEqual(deref(r, `iov ${i}`), want.subarray(at, at + sizes[i]), `iov ${i}`);
            at += sizes[i];
          });
          for (const b of op.iov) assert.ok(b.every((x) => x === 0x5a), "the decoy was written");
        },
        cleanup: () => closeAll(f),
      };
    },
  };
}

function writevKind(sizes: number[]): Kind {
  return {
    name: `writev (${sizes.length} iovecs)`,
    async make(dir, path, tag) {
      const total = sizes.reduce((a, b) => a + b, 0);
      const seed = sizes.length * 7 + 2;
      const name = `wv-${tag}`;
      const f = await openFile(dir, name);
      const want = pattern(seed, total);
      let at = 0;
      const op = aio.writev({ file: f, iov: sizes.map((n) => want.slice(at, at += n)), offset: 3 });
      return {
        ops: [op],
        drop: () => op.iov = sizes.map((n) => filled(n, 0x5a)),
        async check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.equal(op.outWritten, total);
          const got = await Deno.readFile(`${path}/${name}`);
          assert.deepEqual(got.subarray(3), pattern(seed, total));
        },
        cleanup: () => closeAll(f),
      };
    },
  };
}

const KINDS: Kind[] = [
  {
    name: "read (file)",
    async make(dir, _path, tag) {
      const f = await openFile(dir, `r-${tag}`, pattern(11, 70000));
      const op = aio.read({ file: f, buffer: filled(65536, 0xee), offset: 100 });
      const ref = new WeakRef(op.buffer);
      return {
        ops: [op],
        drop: () => op.buffer = filled(65536, 0x5a),
        check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.equal(op.outRead, 65536);
          assert.deepEqual(deref(ref, "buffer"), pattern(11, 70000).subarray(100, 100 + 65536));
          assert.ok(op.buffer.every((x) => x === 0x5a), "the decoy was written");
        },
        cleanup: () => closeAll(f),
      };
    },
  },
  {
    name: "read (pipe, small on-heap buffer)",
    make() {
      const [r, w] = aio.posix.pipe();
      const op = aio.read({ file: r, buffer: filled(24, 0xee) });
      const ref = new WeakRef(op.buffer);
      return {
        ops: [op],
        drop: () => op.buffer = filled(24, 0x5a),
        trigger: () => aio.single(aio.write({ file: w, buffer: pattern(12, 24) })),
        check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.equal(op.outRead, 24);
          assert.deepEqual(deref(ref, "buffer"), pattern(12, 24));
        },
        cleanup: () => closeAll(r, w),
      };
    },
  },
  {
    name: "write (file)",
    async make(dir, path, tag) {
      const name = `w-${tag}`;
      const f = await openFile(dir, name);
      const op = aio.write({ file: f, buffer: pattern(13, 40000), offset: 7 });
      return {
        ops: [op],
        drop: () => op.buffer = filled(40000, 0x5a),
        async check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.equal(op.outWritten, 40000);
          assert.deepEqual((await Deno.readFile(`${path}/${name}`)).subarray(7), pattern(13, 40000));
        },
        cleanup: () => closeAll(f),
      };
    },
  },
  readvKind(FEW),
  readvKind(MANY),
  writevKind(FEW),
  writevKind(MANY),
  {
    name: "send and recv (stream socket pair)",
    make() {
      const [a, b] = aio.posix.socketpair();
      const send = aio.send({ socket: a, buffer: pattern(14, 4096), link: "hard" });
      const recv = aio.recv({ socket: b, buffer: filled(4096, 0xee), flags: { waitAll: true } });
      const ref = new WeakRef(recv.buffer);
      return {
        ops: [send, recv],
        drop: () => {
          send.buffer = filled(4096, 0x5a);
          recv.buffer = filled(4096, 0x5b);
        },
        check(errors) {
          assert.equal(errors, 0, `${send.outError} ${recv.outError}`);
          assert.equal(send.outWritten, 4096);
          assert.equal(recv.outRead, 4096);
          assert.deepEqual(deref(ref, "recv buffer"), pattern(14, 4096));
          assert.ok(recv.buffer.every((x) => x === 0x5b), "the decoy was written");
        },
        cleanup: () => closeAll(a, b),
      };
    },
  },
  {
    name: "recv (stream socket pair, data sent after the gate opens)",
    make() {
      const [a, b] = aio.posix.socketpair();
      const op = aio.recv({ socket: b, buffer: filled(100, 0xee) });
      const ref = new WeakRef(op.buffer);
      return {
        ops: [op],
        drop: () => op.buffer = filled(100, 0x5a),
        trigger: () => aio.single(aio.send({ socket: a, buffer: pattern(15, 100) })),
        check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.ok(op.outRead > 0);
          const got = deref(ref, "buffer");
          assert.deepEqual(got.subarray(0, op.outRead), pattern(15, 100).subarray(0, op.outRead));
          assert.ok(got.subarray(op.outRead).every((x) => x === 0xee));
        },
        cleanup: () => closeAll(a, b),
      };
    },
  },
  {
    name: "sendMsg (UDP: address in name, 3 iovecs)",
    make() {
      const a = udpSocket();
      const b = udpSocket();
      const bAddr = aio.posix.getsockname(b);
      const want = pattern(16, 64);
      const msg = aio.messageHeader({
        name: bAddr.slice(),
        iov: [want.slice(0, 20), want.slice(20, 50), want.slice(50)],
      });
      const op = aio.sendMsg({ socket: a, msg });
      return {
        ops: [op],
        drop: () => {
          // The decoy address is not a valid sockaddr (family 0xeeee): sending to it fails.
          msg.name = filled(bAddr.length, 0xee);
          msg.iov = [filled(20, 0x5a), filled(30, 0x5a), filled(14, 0x5a)];
        },
        async check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.equal(op.outWritten, 64);
          const from = new Uint8Array(16);
          const recv = aio.recvMsg({
            socket: b,
            outMsg: aio.messageHeader({ name: from, iov: [new Uint8Array(100)] }),
          });
          await aio.single(recv);
          assert.equal(recv.outRead, 64);
          assert.deepEqual(recv.outMsg.iov[0].subarray(0, 64), pattern(16, 64));
          assert.deepEqual(aio.parseAddress(from), aio.parseAddress(aio.posix.getsockname(a)));
        },
        cleanup: () => closeAll(a, b),
      };
    },
  },
  {
    name: "recvMsg (UDP: address out in name, 2 iovecs)",
    make() {
      const a = udpSocket();
      const b = udpSocket();
      const msg = aio.messageHeader({ name: filled(16, 0xee), iov: [filled(40, 0xee), filled(24, 0xee)] });
      const op = aio.recvMsg({ socket: b, outMsg: msg });
      const refs = [msg.name!, ...msg.iov].map((x) => new WeakRef(x));
      return {
        ops: [op],
        drop: () => {
          msg.name = filled(16, 0x5a);
          msg.iov = [filled(40, 0x5a), filled(24, 0x5a)];
        },
        trigger: () =>
          aio.single(
            aio.sendMsg({
              socket: a,
              msg: aio.messageHeader({ name: aio.posix.getsockname(b), iov: [pattern(17, 64)] }),
            }),
          ),
        check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.equal(op.outRead, 64);
          const [name, iov0, iov1] = refs.map((r, i) => deref(r, `part ${i}`));
          assert.deepEqual(iov0, pattern(17, 64).subarray(0, 40));
          assert.deepEqual(iov1, pattern(17, 64).subarray(40));
          assert.deepEqual(aio.parseAddress(name), aio.parseAddress(aio.posix.getsockname(a)));
          assert.ok(msg.name!.every((x) => x === 0x5a), "the decoy was written");
        },
        cleanup: () => closeAll(a, b),
      };
    },
  },
  {
    name: "sendMsg and recvMsg with control data (SCM_RIGHTS)",
    // Winsock's WSASendMsg carries no SCM_RIGHTS.
    ignore: WINDOWS,
    make() {
      const [a, b] = aio.posix.socketpair();
      const [pr, pw] = aio.posix.pipe();
      // struct cmsghdr { u64 len = CMSG_LEN(4); i32 level = SOL_SOCKET; i32 type = SCM_RIGHTS } + fd
      const control = new Uint8Array(24);
      const v = new DataView(control.buffer);
      v.setBigUint64(0, 20n, true);
      v.setInt32(8, aio.constants.SOL.SOCKET, true);
      v.setInt32(12, 1, true);
      v.setInt32(16, pw, true);
      const out = aio.messageHeader({ iov: [pattern(18, 8)], control });
      const inbox = aio.messageHeader({ iov: [filled(8, 0xee)], control: filled(24, 0xee) });
      const send = aio.sendMsg({ socket: a, msg: out, link: "hard" });
      const recv = aio.recvMsg({ socket: b, outMsg: inbox });
      const refs = [inbox.iov[0], inbox.control!].map((x) => new WeakRef(x));
      return {
        ops: [send, recv],
        drop: () => {
          out.iov = [filled(8, 0x5a)];
          out.control = filled(24, 0x5a); // not a valid cmsghdr: sending it would fail
          inbox.iov = [filled(8, 0x5b)];
          inbox.control = filled(24, 0x5b);
        },
        async check(errors) {
          assert.equal(errors, 0, `${send.outError} ${recv.outError}`);
          assert.equal(recv.outRead, 8);
          const [data, ctl] = refs.map((r, i) => deref(r, `part ${i}`));
          assert.deepEqual(data, pattern(18, 8));
          const cv = new DataView(ctl.buffer, ctl.byteOffset);
          assert.equal(cv.getInt32(12, true), 1, "SCM_RIGHTS");
          const passed = cv.getInt32(16, true);
          try {
            await aio.single(aio.write({ file: passed, buffer: enc.encode("fd!") }));
            const r = aio.read({ file: pr, buffer: new Uint8Array(8) });
            await aio.single(r);
            assert.equal(dec.decode(r.buffer.subarray(0, r.outRead)), "fd!");
          } finally {
            closeAll(passed);
          }
        },
        cleanup: () => closeAll(a, b, pr, pw),
      };
    },
  },
  {
    name: "accept (peer address out)",
    async make() {
      const { fd: listener } = await tcpListener();
      const client = await tcpSocket();
      const op = aio.accept({ socket: listener, outAddr: filled(128, 0xee) });
      const ref = new WeakRef(op.outAddr!);
      return {
        ops: [op],
        drop: () => op.outAddr = filled(128, 0x5a),
        trigger: () => aio.single(aio.connect({ socket: client, addr: aio.posix.getsockname(listener) })),
        check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.equal(op.inoutAddrlen, 16);
          const addr = deref(ref, "outAddr");
          assert.deepEqual(aio.parseAddress(addr.subarray(0, 16)), aio.parseAddress(aio.posix.getsockname(client)));
          assert.ok(addr.subarray(16).every((x) => x === 0xee));
          closeAll(op.outSocket);
        },
        cleanup: () => closeAll(client, listener),
      };
    },
  },
  {
    name: "connect (address in)",
    async make() {
      const { fd: listener, addr } = await tcpListener();
      const client = await tcpSocket();
      const op = aio.connect({ socket: client, addr: addr.slice() });
      return {
        ops: [op],
        drop: () => op.addr = filled(addr.length, 0xee),
        async check(errors) {
          assert.equal(errors, 0, String(op.outError));
          const acc = aio.accept({ socket: listener });
          await aio.single(acc);
          closeAll(acc.outSocket);
        },
        cleanup: () => closeAll(client, listener),
      };
    },
  },
  {
    name: "bind (address in)",
    async make() {
      const s = await tcpSocket();
      const op = aio.bind({ socket: s, addr: aio.ipv4("127.0.0.1", 0) });
      return {
        ops: [op],
        drop: () => op.addr = filled(16, 0xee),
        check(errors) {
          if (op.outError?.code === "OperationNotSupported") return; // io_uring before 6.11
          assert.equal(errors, 0, String(op.outError));
          assert.equal(aio.parseAddress(aio.posix.getsockname(s)).address, "127.0.0.1");
        },
        cleanup: () => closeAll(s),
      };
    },
  },
  {
    name: "openAt (path as a string, then as bytes ending in NUL)",
    make(dir, path, tag) {
      const a = aio.openAt({ dir, path: `open-${tag}`, flags: { mode: "write_only", create: true }, link: "hard" });
      const b = aio.openAt({ dir, path: enc.encode(`open-b-${tag}\0`), flags: { mode: "read_only", create: true } });
      return {
        ops: [a, b],
        drop: () => {
          a.path = `decoy-${tag}`;
          b.path = enc.encode(`decoy-b-${tag}\0`);
        },
        async check(errors) {
          assert.equal(errors, 0, `${a.outError} ${b.outError}`);
          closeAll(a.outFile, b.outFile);
          assert.ok(await exists(`${path}/open-${tag}`));
          assert.ok(await exists(`${path}/open-b-${tag}`));
          assert.ok(!(await exists(`${path}/decoy-${tag}`)));
          assert.ok(!(await exists(`${path}/decoy-b-${tag}`)));
        },
      };
    },
  },
  {
    name: "mkdirAt, renameAt, unlinkAt (paths)",
    async make(dir, path, tag) {
      await Deno.writeTextFile(`${path}/old-${tag}`, "x");
      await Deno.writeTextFile(`${path}/gone-${tag}`, "x");
      await Deno.writeTextFile(`${path}/keep-${tag}`, "x");
      const mk = aio.mkdirAt({ dir, path: enc.encode(`dir-${tag}`), link: "hard" });
      const mv = aio.renameAt({ oldDir: dir, oldPath: `old-${tag}`, newDir: dir, newPath: `new-${tag}`, link: "hard" });
      const rm = aio.unlinkAt({ dir, path: `gone-${tag}` });
      return {
        ops: [mk, mv, rm],
        drop: () => {
          mk.path = enc.encode(`decoy-${tag}`);
          mv.oldPath = `keep-${tag}`;
          mv.newPath = `decoy2-${tag}`;
          rm.path = `keep-${tag}`; // were it read now, the file that must stay would go
        },
        async check(errors) {
          assert.equal(errors, 0, `${mk.outError} ${mv.outError} ${rm.outError}`);
          assert.ok((await Deno.stat(`${path}/dir-${tag}`)).isDirectory);
          assert.ok(await exists(`${path}/new-${tag}`));
          assert.ok(!(await exists(`${path}/old-${tag}`)));
          assert.ok(!(await exists(`${path}/gone-${tag}`)));
          assert.ok(await exists(`${path}/keep-${tag}`));
          for (const d of [`decoy-${tag}`, `decoy2-${tag}`]) assert.ok(!(await exists(`${path}/${d}`)));
        },
      };
    },
  },
  {
    name: "symlinkAt (target and link path)",
    // Wine 8's CreateSymbolicLinkW is a stub that answers success and makes nothing.
    ignore: WINE,
    make(dir, path, tag) {
      const op = aio.symlinkAt({ dir, target: `target-${tag}`, linkPath: enc.encode(`link-${tag}\0`) });
      return Promise.resolve({
        ops: [op],
        drop: () => {
          op.target = `decoy-${tag}`;
          op.linkPath = `decoy-link-${tag}`;
        },
        async check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.equal(await Deno.readLink(`${path}/link-${tag}`), `target-${tag}`);
          assert.ok(!(await exists(`${path}/decoy-link-${tag}`)));
        },
      });
    },
  },
  {
    name: "timeout and a linkTimeout that cancels a recv (timespecs in scratch)",
    make() {
      const [a, b] = aio.posix.socketpair();
      const t = aio.timeout({ ns: 1_000_000, link: "hard" });
      const recv = aio.recv({ socket: b, buffer: filled(64, 0xee), link: "soft" });
      const lt = aio.linkTimeout({ ns: 2_000_000 });
      const ref = new WeakRef(recv.buffer);
      return {
        ops: [t, recv, lt],
        drop: () => recv.buffer = filled(64, 0x5a),
        check() {
          assert.equal(t.outError, null);
          assert.equal(recv.outError?.code, "Canceled");
          assert.equal(lt.outError?.code, "Expired");
          assert.ok(deref(ref, "buffer").every((x) => x === 0xee), "a canceled recv wrote");
        },
        cleanup: () => closeAll(a, b),
      };
    },
  },
  {
    name: "childExit (siginfo in scratch)",
    // Starting a Windows deno to wait for costs seconds under Wine; ops_test covers it there.
    ignore: WINDOWS,
    make() {
      const op = aio.childExit({ child: aio.posix.spawn(["sh", "-c", "exit 7"]) });
      return Promise.resolve({
        ops: [op],
        drop: () => {},
        check(errors) {
          assert.equal(errors, 0, String(op.outError));
          assert.deepEqual(op.outTerm, { kind: "exited", code: 7 });
        },
      });
    },
  },
];

for (const kind of KINDS) {
  Deno.test({
    name: `GC between submit and completion: ${kind.name}`,
    ignore: kind.ignore,
    async fn(t) {
      requireGc();
      for (const mode of MODES) {
        await t.step(mode, async () => {
          await runCase(kind, mode);
        });
      }
    },
  });
}

Deno.test("GC stress: write-then-read chains whose buffers only the queue holds, collected while in flight", async () => {
  const gc = requireGc();
  await withTempDir(async (path, dir) => {
    const f = await openFile(dir, "chains");
    const N = WINDOWS ? 60 : 240;
    const len = (i: number) => 1 + (i * 37) % 300;
    const refs: WeakRef<Uint8Array>[] = [];
    const got: (Uint8Array | undefined)[] = [];
    // The read buffers are looked at the moment each read completes: a buffer collected while
    // its read was in flight is gone by then. (Later, with the read done, it may rightly go.)
    using work = new aio.Dynamic({
      capacity: 64,
      handler: {
        aioComplete(_id, i) {
          if (typeof i === "number") got[i] = deref(refs[i], `read ${i}`).slice();
        },
      },
    });
    let offset = 0;
    for (let i = 0; i < N; i++) {
      // The write's pattern and the read's buffer are made here and held only by the queue.
      const write = aio.write({ file: f, buffer: pattern(i, len(i)), offset, link: "hard" });
      const read = aio.read({ file: f, buffer: filled(len(i), 0xee), offset, userdata: i });
      while (work.inFlight + 2 > work.capacity) await work.completeAsync();
      work.queue([write, read]);
      refs.push(new WeakRef(read.buffer));
      read.buffer = filled(len(i), 0x5a);
      write.buffer = filled(len(i), 0x5b);
      offset += len(i);
      if (i % 8 === 0) gc({ type: "minor" });
      if (i % 64 === 0) gc();
      if (i % 3 === 0) work.complete("nonblocking");
    }
    assert.equal(await work.completeAllAsync(), 0);
    for (let i = 0; i < N; i++) assert.deepEqual(got[i], pattern(i, len(i)), `read ${i}`);
    const file = await Deno.readFile(`${path}/chains`);
    for (let i = 0, o = 0; i < N; o += len(i), i++) assert.deepEqual(file.subarray(o, o + len(i)), pattern(i, len(i)));
    closeAll(f);
  });
});
