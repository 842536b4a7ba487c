/**
 * TCP ping-pong latency: a port of zig-aio's `bench/ping_pongs.zig`. A server task and a client
 * task share one `coro.Scheduler`; per round trip the client sends 64 bytes soft-linked to a recv
 * (one `coro.io.multi`), the server recvs and sends back what it read (two `coro.io.single`), all
 * over 127.0.0.1 with TCP_NODELAY. The rate is round trips per second, timed from the connect to
 * the last pong, as in zig-aio.
 *
 * Anchors, each a fresh process timed from inside: `deno_native` (`ping_pongs_deno.ts`,
 * `Deno.listen`/`Deno.connect`), `c_liburing` (`ping_pongs.c`, one ring and one thread, with
 * zig-aio's `ping_pongs_uring.zig` techniques), and `node` (`ping_pongs_node.mjs`, `node:net`)
 * when `node` is on PATH.
 *
 * Run alone: `deno run --allow-ffi --allow-read bench/ping_pongs.ts [round_trips]`.
 *
 * @module
 */
import { aio, coro } from "../mod.ts";
import {
  type Anchor,
  type Bench,
  type BenchOptions,
  commandAvailable,
  compileC,
  type Group,
  ROOT,
  runJsonLine,
  type Sample,
} from "./harness.ts";

const { AF, SOCK, IPPROTO, SOL, SO } = aio.constants;
/** `TCP_NODELAY` from `<netinet/tcp.h>`, at level `IPPROTO_TCP`. */
const TCP_NODELAY = 1;
/** The message size, both ways. */
const MSG_SIZE = 64;
/** The receive buffer, as in zig-aio. */
const RECV_SIZE = 1024;
/** The unit of the results: thousands of round trips per second. */
const UNIT = "k round trips/s";

/** Options for {@linkcode measureCoroPingPongs}. */
export interface PingPongsOptions {
  /** Round trips to time. */
  roundTrips: number;
  /** The scheduler's wait mode; `undefined` for its default (`adaptive`). */
  wait?: coro.WaitMode;
  /** The backend (default `auto`). */
  backend?: aio.BackendName;
}

function newSocket(): aio.Socket {
  return aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
}

async function closeSocket(socket: aio.Fd): Promise<void> {
  await coro.io.single(aio.closeSocket({ socket }));
}

/** Shared between the two tasks. */
interface Exchange {
  startup: coro.ResetEvent;
  /** The listening port, 0 until the server has bound (or when it failed before). */
  port: number;
  roundTrips: number;
  /** The timed part's duration; 0 until the client has finished it. */
  seconds: number;
  /** Canceled by a client that fails, so that the server does not wait in accept forever. */
  server?: coro.Task<void>;
}

/** The server's loop: echo what arrives until the client closes its end. */
async function echo(conn: aio.Fd): Promise<void> {
  const buf = new Uint8Array(RECV_SIZE);
  const recv = aio.recv({ socket: conn, buffer: buf });
  // The operations are requeued once completed (the API allows it), as the C loop reuses its
  // buffers: the bench measures the scheduler, not the allocator.
  const send = aio.send({ socket: conn, buffer: buf.subarray(0, MSG_SIZE) });
  for (;;) {
    await coro.io.single(recv);
    const len = recv.outRead;
    if (len === 0) return; // The client closed its end.
    if (len === MSG_SIZE) {
      await coro.io.single(send);
      if (send.outWritten === MSG_SIZE) continue;
    }
    // A message split by TCP, or a short send: send the rest by hand.
    await sendRest(conn, buf, len === MSG_SIZE ? send.outWritten : 0, len);
  }
}

async function sendRest(conn: aio.Fd, buf: Uint8Array, off: number, end: number): Promise<void> {
  while (off < end) {
    const send = aio.send({ socket: conn, buffer: buf.subarray(off, end) });
    await coro.io.single(send);
    off += send.outWritten;
  }
}

async function server(ex: Exchange): Promise<void> {
  const socket = newSocket();
  try {
    await coro.io.single(socket);
  } catch (err) {
    ex.startup.set();
    throw err;
  }
  try {
    try {
      aio.posix.setsockopt(socket.outSocket, SOL.SOCKET, SO.REUSEADDR, 1);
      // Port 0: the kernel picks a free one, which getsockname tells.
      aio.posix.bind(socket.outSocket, aio.ipv4("127.0.0.1", 0));
      aio.posix.listen(socket.outSocket, 128);
      ex.port = aio.parseAddress(aio.posix.getsockname(socket.outSocket)).port;
    } finally {
      // Also on failure, so that the client stops waiting (it sees port 0).
      ex.startup.set();
    }
    const accept = aio.accept({ socket: socket.outSocket });
    await coro.io.single(accept);
    const conn = accept.outSocket;
    try {
      aio.posix.setsockopt(conn, IPPROTO.TCP, TCP_NODELAY, 1);
      await echo(conn);
    } finally {
      await closeSocket(conn);
    }
  } finally {
    await closeSocket(socket.outSocket);
  }
}

/** The client's loop: `count` pings, each sent once the previous pong is complete. */
async function pingLoop(fd: aio.Fd, count: number): Promise<number> {
  const ping = new Uint8Array(MSG_SIZE).fill(0x69);
  const buf = new Uint8Array(RECV_SIZE);
  const send = aio.send({ socket: fd, buffer: ping, link: "soft" });
  const recv = aio.recv({ socket: fd, buffer: buf });
  const both = [send, recv];
  let pending = 0;
  let pongs = 0;
  while (pongs < count) {
    // A pong split by TCP: wait for the rest of it before the next ping.
    if (pending === 0) await coro.io.multi(both);
    else await coro.io.single(recv);
    if (recv.outRead === 0) throw new Error("ping_pongs: the server closed the connection");
    if (pending === 0 && send.outWritten !== MSG_SIZE) throw new Error("ping_pongs: short send");
    pending += recv.outRead;
    pongs += Math.floor(pending / MSG_SIZE);
    pending %= MSG_SIZE;
  }
  return pongs;
}

async function client(ex: Exchange): Promise<void> {
  const socket = newSocket();
  await coro.io.single(socket);
  const fd = socket.outSocket;
  try {
    await ex.startup.wait();
    if (ex.port === 0) throw new Error("ping_pongs: the server could not listen");
    await coro.io.single(aio.connect({ socket: fd, addr: aio.ipv4("127.0.0.1", ex.port) }));
    aio.posix.setsockopt(fd, IPPROTO.TCP, TCP_NODELAY, 1);
    const start = performance.now();
    ex.roundTrips = await pingLoop(fd, ex.roundTrips);
    ex.seconds = (performance.now() - start) / 1000;
  } finally {
    // The server sees the end of the stream and returns; unless the client never connected.
    await closeSocket(fd);
    if (ex.seconds === 0) ex.server?.cancel();
  }
}

/**
 * Runs the ping-pong once (server and client tasks on one scheduler) and returns thousands of
 * round trips per second with the backend it ran on.
 *
 * @example
 * ```ts
 * import { measureCoroPingPongs } from "./ping_pongs.ts";
 * console.log((await measureCoroPingPongs({ roundTrips: 1000, wait: "block" })).backend); // "io_uring"
 * ```
 */
export async function measureCoroPingPongs(options: PingPongsOptions): Promise<Sample> {
  const { roundTrips, wait, backend } = options;
  if (!Number.isSafeInteger(roundTrips) || roundTrips < 1) {
    throw new RangeError(`roundTrips must be a positive integer, got ${roundTrips}`);
  }
  await using scheduler = new coro.Scheduler({ wait, backend });
  const ex: Exchange = { startup: new coro.ResetEvent(), port: 0, roundTrips, seconds: 0 };
  // zig-aio spawns the client first.
  const clientTask = scheduler.spawn(client, [ex]);
  ex.server = scheduler.spawn(server, [ex]);
  await scheduler.run("wait");
  await clientTask.complete("wait");
  await ex.server.complete("wait");
  return { value: ex.roundTrips / ex.seconds / 1e3, backend: scheduler.io.backend };
}

/** Reads the `rtps` of an anchor's JSON line, in the bench's unit. */
function rtpsOf(line: Record<string, unknown>, name: string): number {
  const rtps = line.rtps;
  if (typeof rtps !== "number") throw new Error(`${name} printed no rtps`);
  return rtps / 1e3;
}

function anchors(roundTrips: number): Anchor[] {
  const n = String(roundTrips);
  const built = compileC("ping_pongs.c", "ping_pongs");
  const denoScript = `${ROOT}/bench/ping_pongs_deno.ts`;
  return [
    {
      name: "deno_native",
      run: (): number =>
        rtpsOf(runJsonLine(Deno.execPath(), ["run", "--allow-net=127.0.0.1", denoScript, n]), "ping_pongs_deno.ts"),
    },
    "path" in built
      ? { name: "c_liburing", run: (): number => rtpsOf(runJsonLine(built.path, [n, "multishot"]), "ping_pongs.c") }
      : { name: "c_liburing", unavailable: built.error },
    commandAvailable("node")
      ? {
        name: "node",
        run: (): number => rtpsOf(runJsonLine("node", [`${ROOT}/bench/ping_pongs_node.mjs`, n]), "ping_pongs_node.mjs"),
      }
      : { name: "node", unavailable: "node is not on PATH" },
  ];
}

/** The `ping_pongs` bench for `run.ts`. */
export const pingPongs: Bench = {
  name: "ping_pongs",
  groups(options: BenchOptions): Group[] {
    const roundTrips = options.quick ? 20_000 : 100_000;
    return [{
      bench: "ping_pongs",
      label: "64B",
      unit: UNIT,
      anchors: anchors(roundTrips),
      variants: [
        ...(["adaptive", "park", "block"] as const).map((wait) => ({
          variant: `wait=${wait}`,
          run: () => measureCoroPingPongs({ roundTrips, wait }),
        })),
        ...(["adaptive", "block"] as const).map((wait) => ({
          variant: `wait=${wait},posix`,
          run: () => measureCoroPingPongs({ roundTrips, wait, backend: "posix" }),
        })),
      ],
    }];
  },
};

if (import.meta.main) {
  const roundTrips = Number(Deno.args[0] ?? 100_000);
  for (const wait of ["adaptive", "park", "block"] as const) {
    const sample = await measureCoroPingPongs({ roundTrips, wait });
    console.log(JSON.stringify({ wait, roundTrips, krtps: Number(sample.value.toFixed(3)) }));
  }
}
