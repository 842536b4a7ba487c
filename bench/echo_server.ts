/**
 * Our TCP echo server for `echo.ts` and `thread_per_core.ts`: on a `coro.Scheduler`, 32 tasks
 * accepting (each one `accept` at a time, requeued) and one task per connection (a `recv` into
 * 1 KiB, then a `send` of what it read soft-linked to the next `recv`, all requeued;
 * `TCP_NODELAY`), listening on 127.0.0.1 with a backlog of 1024.
 *
 * With `--workers=N` (N >= 1) it is thread-per-core, the shape monoio and glommio use: N Workers,
 * each with its own scheduler and ring, each with its own listening socket bound to the same port
 * with `SO_REUSEPORT`, so that the kernel spreads the connections over them; the main thread only
 * starts them. With `--workers=0` (the default) the main thread serves.
 *
 * Prints one JSON line `{"port":P,"backend":B}` once every listener listens, then serves until it is killed.
 *
 * Run alone: `deno run --allow-ffi --allow-read --allow-env bench/echo_server.ts [--wait=adaptive|park|block]
 * [--backend=io_uring|posix] [--workers=N]`, then `bench/.build/echo_load --port P`.
 *
 * @module
 */
import { aio, coro } from "../mod.ts";

const { AF, SOCK, IPPROTO, SOL, SO } = aio.constants;
/** `TCP_NODELAY` from `<netinet/tcp.h>`, at level `IPPROTO_TCP`. */
const TCP_NODELAY = 1;
/** The receive buffer of a connection. */
const RECV_SIZE = 1024;
/** Room for the load generator's 1000 connections arriving at once. */
const BACKLOG = 1024;
/**
 * Accepts in flight at once. With one, a server busy echoing took 5-10 s to accept 1000
 * connections (one per scheduler step, each step serving every ready connection first).
 */
const ACCEPTORS = 32;

/** How one server (one thread's scheduler) runs. */
export interface EchoServerOptions {
  /** The port; 0 lets the kernel pick one. */
  port: number;
  /** The scheduler's wait mode; `undefined` for its default (`adaptive`). */
  wait?: coro.WaitMode;
  /** The backend; `undefined` for `auto`. */
  backend?: aio.BackendName;
  /** Sets `SO_REUSEPORT` before binding, so that other threads' listeners can share the port. */
  reusePort?: boolean;
}

/**
 * Echoes what arrives until the peer closes (or resets) the connection, then closes it. Each echo
 * is a `send` of what the last `recv` read, soft-linked to the next `recv`: one `coro.io` call and
 * one wake-up of the task per round trip, as zig-aio chains operations.
 */
async function serveConnection(conn: aio.Fd): Promise<void> {
  try {
    aio.posix.setsockopt(conn, IPPROTO.TCP, TCP_NODELAY, 1);
    const buf = new Uint8Array(RECV_SIZE);
    // Made once and requeued: the bench measures the server, not the allocator. The recv that
    // follows a send may reuse the buffer: the send has copied it into the socket by then.
    const recv = aio.recv({ socket: conn, buffer: buf });
    const send = aio.send({ socket: conn, buffer: buf, link: "soft" });
    const echo = [send, recv];
    await coro.io.single(recv);
    for (;;) {
      const len = recv.outRead;
      if (len === 0) return;
      send.buffer = buf.subarray(0, len);
      await coro.io.complete(echo);
      if (send.outError !== null) throw send.outError;
      if (send.outWritten < len) {
        // A short send ended the chain (the recv was canceled): send the rest, then recv.
        let off = send.outWritten;
        while (off < len) {
          const rest = aio.send({ socket: conn, buffer: buf.subarray(off, len) });
          await coro.io.single(rest);
          off += rest.outWritten;
        }
        await coro.io.single(recv);
      } else if (recv.outError !== null) {
        throw recv.outError;
      }
    }
  } catch {
    // A reset when the load generator ends its run: the connection is over either way.
  } finally {
    await coro.io.single(aio.closeSocket({ socket: conn }));
  }
}

/** Accepts forever, one detached task per connection. */
async function acceptLoop(scheduler: coro.Scheduler, fd: aio.Fd): Promise<void> {
  const accept = aio.accept({ socket: fd });
  for (;;) {
    await coro.io.single(accept);
    scheduler.spawn(serveConnection, [accept.outSocket], { detached: true });
  }
}

/** Makes the listening socket; returns it and the port it is bound to. */
async function listenSocket(options: EchoServerOptions): Promise<{ fd: aio.Fd; port: number }> {
  const socket = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
  await coro.io.single(socket);
  const fd = socket.outSocket;
  try {
    aio.posix.setsockopt(fd, SOL.SOCKET, SO.REUSEADDR, 1);
    if (options.reusePort) aio.posix.setsockopt(fd, SOL.SOCKET, SO.REUSEPORT, 1);
    aio.posix.bind(fd, aio.ipv4("127.0.0.1", options.port));
    aio.posix.listen(fd, BACKLOG);
    return { fd, port: aio.parseAddress(aio.posix.getsockname(fd)).port };
  } catch (err) {
    await coro.io.single(aio.closeSocket({ socket: fd }));
    throw err;
  }
}

/**
 * Runs an echo server on a new scheduler on this thread until an accept fails; `onListening`
 * gets the port and the backend once it listens.
 *
 * @example
 * ```ts ignore
 * import { serveEcho } from "./echo_server.ts";
 * await serveEcho({ port: 0 }, (port) => console.log(port)); // serves until the process ends
 * ```
 */
export async function serveEcho(
  options: EchoServerOptions,
  onListening: (port: number, backend: aio.BackendName) => void,
): Promise<void> {
  await using scheduler = new coro.Scheduler({ wait: options.wait, backend: options.backend });
  const listening = await scheduler.spawn(listenSocket, [options]).complete("wait");
  if (listening === undefined) throw new Error("echo_server: the listener was canceled");
  try {
    onListening(listening.port, scheduler.io.backend);
    const acceptors = Array.from({ length: ACCEPTORS }, () => scheduler.spawn(acceptLoop, [scheduler, listening.fd]));
    // Only a failure ends an accept loop; closing the scheduler cancels the others.
    await Promise.race(acceptors.map((task) => task.complete("wait")));
  } finally {
    await scheduler.close();
    aio.posix.close(listening.fd);
  }
}

/**
 * Binds a socket to 127.0.0.1 with `SO_REUSEPORT` on a port the kernel picks, without listening:
 * it holds the port for the Workers' listeners (a socket that does not listen takes no
 * connections). Returns the socket and the port; close the socket once they listen.
 */
function reservePort(): { fd: aio.Fd; port: number } {
  const socket = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
  aio.singleSync(socket);
  const fd = socket.outSocket;
  aio.posix.setsockopt(fd, SOL.SOCKET, SO.REUSEADDR, 1);
  aio.posix.setsockopt(fd, SOL.SOCKET, SO.REUSEPORT, 1);
  aio.posix.bind(fd, aio.ipv4("127.0.0.1", 0));
  return { fd, port: aio.parseAddress(aio.posix.getsockname(fd)).port };
}

/**
 * Starts `workers` Workers, each serving echo with its own scheduler on `port` (`SO_REUSEPORT`),
 * and resolves with the backend once all of them listen. They serve until the process ends.
 */
export async function startEchoWorkers(workers: number, options: EchoServerOptions): Promise<aio.BackendName> {
  const started: Promise<aio.BackendName>[] = [];
  for (let i = 0; i < workers; i++) {
    const worker = new Worker(import.meta.url, { type: "module" });
    started.push(
      new Promise<aio.BackendName>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent) => resolve((e.data as { backend: aio.BackendName }).backend);
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`echo worker ${i}: ${e.message}`));
        };
      }),
    );
    worker.postMessage({ ...options, reusePort: true });
  }
  return (await Promise.all(started))[0];
}

function parseCli(args: readonly string[]): { workers: number; options: EchoServerOptions } {
  let workers = 0;
  const options: EchoServerOptions = { port: 0 };
  for (const arg of args) {
    const [key, value] = arg.split("=", 2);
    if (key === "--workers") workers = Number(value);
    else if (key === "--wait") options.wait = value as coro.WaitMode;
    else if (key === "--backend") options.backend = value as aio.BackendName;
    else if (key === "--port") options.port = Number(value);
    else throw new Error(`unknown argument ${arg}; usage: echo_server.ts [--workers=N] [--wait=W] [--backend=B]`);
  }
  if (!Number.isInteger(workers) || workers < 0 || workers > 256) throw new RangeError("--workers: 0 to 256");
  return { workers, options };
}

if ("WorkerGlobalScope" in globalThis) {
  // A Worker of startEchoWorkers: serve with the options it is sent.
  const scope = self as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
  scope.onmessage = (e: MessageEvent) => {
    scope.onmessage = null;
    serveEcho(e.data as EchoServerOptions, (port, backend) => scope.postMessage({ port, backend })).catch((err) => {
      // Uncaught, so that the main thread's onerror hears of it.
      setTimeout(() => {
        throw err;
      });
    });
  };
} else if (import.meta.main) {
  const { workers, options } = parseCli(Deno.args);
  if (workers === 0) {
    await serveEcho(options, (port, backend) => console.log(JSON.stringify({ port, backend })));
  } else {
    const reserved = options.port === 0 ? reservePort() : undefined;
    const port = reserved?.port ?? options.port;
    const backend = await startEchoWorkers(workers, { ...options, port });
    if (reserved !== undefined) aio.posix.close(reserved.fd);
    console.log(JSON.stringify({ port, backend }));
  }
}
