// Child of faults_test.ts: lowers RLIMIT_NOFILE for itself, exhausts fds through socket, accept and
// openAt, then checks that the queue keeps working once fds are freed. Prints one JSON line.
import { aio } from "../../mod.ts";

const libc = Deno.dlopen("libc.so.6", {
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
});
const RLIMIT_NOFILE = 7;
const { AF, SOCK, IPPROTO } = aio.constants;

function highestFd(): number {
  let top = 0;
  for (let fd = 0; fd < 4096; fd++) if (libc.symbols.fcntl(fd, 1, 0) >= 0) top = fd;
  return top;
}

const out: Record<string, unknown> = { backend: aio.currentBackend() };
using work = new aio.Dynamic({ capacity: 64 });
const run = async (op: aio.Operation) => {
  work.queue(op);
  await work.completeAllAsync();
  return op.outError?.code ?? null;
};
// A listener with a connection waiting in its backlog, made while fds are plenty.
const listen = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
await run(listen);
aio.posix.bind(listen.outSocket, aio.ipv4("127.0.0.1", 0));
aio.posix.listen(listen.outSocket, 8);
// Two, so that the accept after the fault finds one whether or not the first accept failed.
const clients: number[] = [];
for (let i = 0; i < 2; i++) {
  const client = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
  await run(client);
  await run(aio.connect({ socket: client.outSocket, addr: aio.posix.getsockname(listen.outSocket) }));
  clients.push(client.outSocket);
}
await run(aio.timeout({ ns: 1e6 })); // parking machinery set up before the limit
// "warm": a pool Worker runs already (posix), so a path call under the limit reaches the kernel.
if (Deno.args[0] === "warm") {
  const warm = aio.openAt({ dir: aio.cwd, path: "/dev/null" });
  await run(warm);
  aio.posix.close(warm.outFile);
}
// The lower free numbers fill first, so the limit is set above the highest fd open now. The free
// numbers below it depend on what the parent left open (a harness may hold a high fd, leaving
// hundreds of holes; CI leaves none), so 32 more are added: the sockets below always fill at least
// 32, enough for the 24 freed later.
const limit = highestFd() + 1 + 32;
const rl = new BigUint64Array([BigInt(limit), BigInt(limit)]);
if (libc.symbols.setrlimit(RLIMIT_NOFILE, new Uint8Array(rl.buffer)) !== 0) throw new Error("setrlimit failed");
out.limit = limit;

const opened: number[] = [];
let socketError: string | null = null;
for (let i = 0; i < 4096 && socketError === null; i++) {
  const s = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
  socketError = await run(s);
  if (socketError === null) opened.push(s.outSocket);
}
out.socket = socketError;
out.opened = opened.length;
const acc = aio.accept({ socket: listen.outSocket });
out.accept = await run(acc);
const open = aio.openAt({ dir: aio.cwd, path: new URL(import.meta.url).pathname });
out.openAt = await run(open);
out.nop = await run(aio.nop());
// A new queue needs fds of its own (a ring; or epoll, eventfd, timerfd): a typed error.
// `auto` too: running out of fds is not a reason to fall back from io_uring.
for (const [key, backend] of [["newQueue", undefined], ["newQueueAuto", "auto"]] as const) {
  try {
    new aio.Dynamic({ capacity: 4, backend, debug: false }).close();
    out[key] = null;
  } catch (err) {
    out[key] = `${(err as aio.AioError).name}:${(err as aio.AioError).code}:${(err as aio.AioError).errno}`;
  }
}
out.timeout = await run(aio.timeout({ ns: 1e6 }));
// Free some fds: the same calls succeed again on the same queue (on posix the first path call
// starts a pool Worker, which needs 16 free fds).
for (const fd of opened.splice(0, 24)) aio.posix.close(fd);
const acc2 = aio.accept({ socket: listen.outSocket });
out.acceptAfter = await run(acc2);
const open2 = aio.openAt({ dir: aio.cwd, path: new URL(import.meta.url).pathname });
out.openAtAfter = await run(open2);
const s2 = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
out.socketAfter = await run(s2);
const auto = new aio.Dynamic({ capacity: 4, backend: "auto", debug: false });
out.autoAfter = auto.backend;
auto.close();
for (const fd of [...opened, acc2.outSocket, open2.outFile, s2.outSocket, ...clients, listen.outSocket]) {
  if (fd > 0) aio.posix.close(fd);
}
console.log(JSON.stringify(out));
