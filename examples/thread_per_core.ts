// Thread-per-core, the shape monoio and glommio use to scale: N Workers, each with its own
// coro.Scheduler (so its own ring), each with its own listening socket bound to the same port with
// SO_REUSEPORT, so that the kernel spreads incoming connections over them and no two threads
// ever share a socket or a queue. Here every Worker serves echo; the main thread then runs a
// small client (16 connections, 100 echoed messages each), prints which Worker served how many
// connections, stops the Workers and exits.
//   deno run --allow-ffi --allow-read examples/thread_per_core.ts [workers]
// (workers defaults to navigator.hardwareConcurrency; Linux only). bench/thread_per_core.ts
// measures the same shape under 1000 connections.
import { aio, coro } from "../mod.ts";

const { AF, SOCK, IPPROTO, SOL, SO } = aio.constants;
const CLIENTS = 16;
const MESSAGES = 100;

/** What a Worker reports when it stops. */
interface WorkerStats {
  id: number;
  connections: number;
  bytes: number;
}

function tcpSocket(): aio.Socket {
  return aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
}

// ---- Worker side: one scheduler, one listener, one task per connection ----

async function echo(conn: aio.Fd, stats: WorkerStats): Promise<void> {
  try {
    const buf = new Uint8Array(1024);
    const recv = aio.recv({ socket: conn, buffer: buf });
    for (;;) {
      await coro.io.single(recv);
      if (recv.outRead === 0) return; // the client closed its end
      stats.bytes += recv.outRead;
      let off = 0;
      while (off < recv.outRead) {
        const send = aio.send({ socket: conn, buffer: buf.subarray(off, recv.outRead) });
        await coro.io.single(send);
        off += send.outWritten;
      }
    }
  } finally {
    await coro.io.single(aio.closeSocket({ socket: conn }));
  }
}

async function serve(scheduler: coro.Scheduler, listener: aio.Fd, stats: WorkerStats): Promise<void> {
  const accept = aio.accept({ socket: listener });
  for (;;) {
    await coro.io.single(accept); // throws CanceledError once the scheduler closes
    stats.connections++;
    scheduler.spawn(echo, [accept.outSocket, stats], { detached: true });
  }
}

async function runWorker(id: number, port: number, post: (message: unknown) => void): Promise<() => Promise<void>> {
  const scheduler = new coro.Scheduler();
  const stats: WorkerStats = { id, connections: 0, bytes: 0 };
  const socket = tcpSocket();
  await scheduler.spawn(async () => await coro.io.single(socket), []).complete("wait");
  const listener = socket.outSocket;
  aio.posix.setsockopt(listener, SOL.SOCKET, SO.REUSEADDR, 1);
  // Every listener on the port sets it before bind: the kernel then spreads connections by hash.
  aio.posix.setsockopt(listener, SOL.SOCKET, SO.REUSEPORT, 1);
  aio.posix.bind(listener, aio.ipv4("127.0.0.1", port));
  aio.posix.listen(listener, 1024);
  scheduler.spawn(serve, [scheduler, listener, stats]);
  post({ listening: id });
  return async () => {
    await scheduler.close(); // cancels the accept and any connection still open
    aio.posix.close(listener);
    post(stats);
  };
}

// ---- Main thread ----

/** Binds (without listening, so it takes no connections) to hold a free port for the Workers. */
function reservePort(): { fd: aio.Fd; port: number } {
  const socket = tcpSocket();
  aio.singleSync(socket);
  aio.posix.setsockopt(socket.outSocket, SOL.SOCKET, SO.REUSEADDR, 1);
  aio.posix.setsockopt(socket.outSocket, SOL.SOCKET, SO.REUSEPORT, 1);
  aio.posix.bind(socket.outSocket, aio.ipv4("127.0.0.1", 0));
  return { fd: socket.outSocket, port: aio.parseAddress(aio.posix.getsockname(socket.outSocket)).port };
}

async function client(port: number, n: number): Promise<void> {
  const socket = tcpSocket();
  await coro.io.single(socket);
  const fd = socket.outSocket;
  try {
    await coro.io.single(aio.connect({ socket: fd, addr: aio.ipv4("127.0.0.1", port) }));
    const buf = new Uint8Array(1024);
    for (let i = 0; i < MESSAGES; i++) {
      const message = new TextEncoder().encode(`client ${n} message ${i}`);
      await coro.io.single(aio.send({ socket: fd, buffer: message }));
      let got = 0;
      while (got < message.length) {
        const recv = aio.recv({ socket: fd, buffer: buf.subarray(got) });
        await coro.io.single(recv);
        if (recv.outRead === 0) throw new Error("the server closed the connection");
        got += recv.outRead;
      }
      if (new TextDecoder().decode(buf.subarray(0, got)) !== `client ${n} message ${i}`) {
        throw new Error(`client ${n}: wrong echo`);
      }
    }
  } finally {
    await coro.io.single(aio.closeSocket({ socket: fd }));
  }
}

async function main(workers: number): Promise<void> {
  const reserved = reservePort();
  const list: Worker[] = [];
  const listening: Promise<unknown>[] = [];
  const stopped: Promise<WorkerStats>[] = [];
  for (let id = 0; id < workers; id++) {
    const worker = new Worker(import.meta.url, { type: "module" });
    list.push(worker);
    // The first message says it listens, the second (after "stop") carries its stats.
    const waiting: { resolve: (data: unknown) => void; reject: (err: Error) => void }[] = [];
    listening.push(new Promise((resolve, reject) => waiting.push({ resolve, reject })));
    stopped.push(new Promise((resolve, reject) => waiting.push({ resolve: (d) => resolve(d as WorkerStats), reject })));
    worker.onmessage = (e: MessageEvent) => waiting.shift()?.resolve(e.data);
    worker.onerror = (e) => {
      // Fail what waits for this Worker instead of waiting forever.
      e.preventDefault();
      for (const w of waiting.splice(0)) w.reject(new Error(`worker ${id}: ${e.message}`));
    };
    worker.postMessage({ id, port: reserved.port });
  }
  try {
    await Promise.all(listening);
  } catch (err) {
    for (const worker of list) worker.terminate();
    throw err;
  }
  aio.posix.close(reserved.fd);
  console.log(`${workers} workers listening on 127.0.0.1:${reserved.port} (SO_REUSEPORT)`);

  const start = performance.now();
  {
    await using scheduler = new coro.Scheduler();
    const tasks = Array.from({ length: CLIENTS }, (_, n) => scheduler.spawn(client, [reserved.port, n]));
    for (const task of tasks) await task.complete("wait");
  }
  const ms = performance.now() - start;
  console.log(`${CLIENTS} clients x ${MESSAGES} echoes in ${ms.toFixed(0)} ms`);

  for (const worker of list) worker.postMessage("stop");
  for (const stats of await Promise.all(stopped)) {
    console.log(`worker ${stats.id}: ${stats.connections} connections, ${stats.bytes} bytes echoed`);
  }
  for (const worker of list) worker.terminate();
}

if ("WorkerGlobalScope" in globalThis) {
  const scope = self as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
  let stop: Promise<() => Promise<void>> | undefined;
  scope.onmessage = (e: MessageEvent) => {
    if (e.data === "stop") stop?.then((fn) => fn());
    else stop = runWorker(e.data.id, e.data.port, (m) => scope.postMessage(m));
  };
} else if (Deno.build.os === "windows") {
  // Windows has no SO_REUSEPORT: its SO_REUSEADDR lets sockets share a port but does not spread
  // connections over them (and Wine refuses the second bind with EACCES).
  console.error("thread_per_core: needs SO_REUSEPORT's load balancing (Linux); nothing to show on Windows");
} else {
  const workers = Number(Deno.args[0] ?? navigator.hardwareConcurrency);
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError("workers must be a positive integer");
  await main(workers);
}
