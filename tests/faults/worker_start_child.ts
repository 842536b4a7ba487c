// Child of faults_test.ts (posix): the program is near its fd limit when its first path call
// starts the pool's first Worker, and at once opens every fd it may. The Worker needs fds of its
// own to start (Deno panics without them), so the pool must have them before the program goes on.
// Prints one JSON line.
import { aio } from "../../mod.ts";

const libc = Deno.dlopen("libc.so.6", {
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
});
const RLIMIT_NOFILE = 7;
const EFD_CLOEXEC = 0o2000000;
const margin = Number(Deno.args[0] ?? 40);

using work = new aio.Dynamic({ capacity: 8 });
// The queue's own fds are open (epoll, eventfd, timerfd); now a limit that leaves exactly `margin`
// numbers free, counting the holes below the highest fd open (the parent may have left any).
let free = 0;
let limit = 0;
while (free < margin) if (libc.symbols.fcntl(limit++, 1, 0) < 0) free++;
if (
  libc.symbols.setrlimit(RLIMIT_NOFILE, new Uint8Array(new BigUint64Array([BigInt(limit), BigInt(limit)]).buffer)) !== 0
) {
  throw new Error("setrlimit failed");
}
// What the pool will count: the fds this process may still open.
const probe: number[] = [];
for (let fd; (fd = libc.symbols.eventfd(0, EFD_CLOEXEC)) >= 0;) probe.push(fd);
for (const fd of probe) libc.symbols.close(fd);
const open = aio.openAt({ dir: aio.cwd, path: "/dev/null" });
work.queue(open);
work.complete("nonblocking"); // the first pool job: the first Worker starts here
// Every fd the limit allows, at once, on this thread.
const taken: number[] = [];
for (;;) {
  const fd = libc.symbols.eventfd(0, EFD_CLOEXEC);
  if (fd < 0) break;
  taken.push(fd);
}
await work.completeAllAsync();
// A pool call that needs no fd: only a running Worker can say the path does not exist.
const unlink = aio.unlinkAt({ dir: aio.cwd, path: "/nonexistent/aio-worker-start" });
work.queue(unlink);
await work.completeAllAsync();
for (const fd of taken) libc.symbols.close(fd);
if (open.outError === null) aio.posix.close(open.outFile);
console.log(JSON.stringify({
  backend: work.backend,
  limit,
  free: probe.length,
  taken: taken.length,
  openAt: open.outError?.code ?? null,
  unlinkAt: unlink.outError?.code ?? null,
}));
