/**
 * UDP packet flow: a port of zig-aio's `bench/flow.zig`. A sender task and a receiver task share
 * one `coro.Scheduler`; the sender sends 512-byte datagrams to 127.0.0.1, one `sendMsg` at a time
 * (each awaited with `coro.io.single`), and the receiver counts what arrives, one `recvMsg` at a
 * time. The rate is packets **received** per second, timed from the sender's first send to the
 * receiver's last data packet.
 *
 * UDP may drop packets when the receiver falls behind, so unlike zig-aio (whose sender sends twice
 * the count and whose receiver stops at the count) the sender sends exactly `packets` datagrams
 * and then, every millisecond, a 1-byte end marker until the receiver has seen one; the receiver
 * stops at the count or at the first end marker. The run always ends, and `dropped` is
 * `packets - received`.
 *
 * Anchors, each a fresh process timed from inside: `c_liburing` (`flow.c`, one ring and one
 * thread), `deno_native` (`flow_deno.ts`, `Deno.listenDatagram`, needs `--unstable-net`) and
 * `node` (`flow_node.mjs`, `node:dgram`) when `node` is on PATH.
 *
 * Run alone: `deno run --allow-ffi --allow-read bench/flow.ts [packets]`.
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

const { AF, SOCK, IPPROTO } = aio.constants;
/** The datagram size, as in zig-aio. */
const PACKET_SIZE = 512;
/** The receive buffer: room for one datagram and more, so that a larger one would show. */
const RECV_SIZE = 2048;
/** How long the sender waits between end markers. */
const END_INTERVAL_NS = 1_000_000;
/** The unit of the results: thousands of packets per second. */
const UNIT = "k packets/s";

/** Options for {@linkcode measureFlow}. */
export interface FlowOptions {
  /** Datagrams to send. */
  packets: number;
  /** The backend (default `auto`). */
  backend?: aio.BackendName;
}

/** The outcome of one run. */
export interface FlowResult {
  /** Datagrams sent (always `packets`). */
  sent: number;
  /** Datagrams of 512 bytes received. */
  received: number;
  /** `sent - received`: lost in the kernel (a full receive buffer). */
  dropped: number;
  /** From the first send to the last data packet received. */
  seconds: number;
  /** `received / seconds`. */
  pps: number;
  /** The backend the scheduler ran on. */
  backend: string;
}

/** Shared between the two tasks. */
interface Flow {
  startup: coro.ResetEvent;
  /** The receiver's port; 0 until it has bound (or when it failed before). */
  port: number;
  packets: number;
  received: number;
  /** `performance.now()` at the first send, and at the last data packet. */
  start: number;
  end: number;
  /** Set by the receiver when it stops: the sender stops sending end markers. */
  done: boolean;
  receiverTask?: coro.Task<void>;
}

function udpSocket(): aio.Socket {
  return aio.socket({ domain: AF.INET, flags: SOCK.DGRAM | SOCK.CLOEXEC, protocol: IPPROTO.UDP });
}

async function receiver(flow: Flow): Promise<void> {
  const socket = udpSocket();
  try {
    await coro.io.single(socket);
  } catch (err) {
    flow.startup.set();
    throw err;
  }
  const fd = socket.outSocket;
  try {
    try {
      aio.posix.bind(fd, aio.ipv4("127.0.0.1", 0));
      flow.port = aio.parseAddress(aio.posix.getsockname(fd)).port;
    } finally {
      flow.startup.set();
    }
    const msg = aio.messageHeader({ name: new Uint8Array(16), iov: [new Uint8Array(RECV_SIZE)] });
    // Requeued once completed, as zig-aio's loop reuses its buffers.
    const recv = aio.recvMsg({ socket: fd, outMsg: msg });
    let received = 0;
    while (received < flow.packets) {
      await coro.io.single(recv);
      const size = recv.outRead;
      if (size < PACKET_SIZE) break; // An end marker: the sender is done, the rest was dropped.
      received += Math.floor(size / PACKET_SIZE);
      flow.end = performance.now();
    }
    flow.received = received;
  } finally {
    flow.done = true;
    await coro.io.single(aio.closeSocket({ socket: fd }));
  }
}

async function sender(flow: Flow): Promise<void> {
  const socket = udpSocket();
  await coro.io.single(socket);
  const fd = socket.outSocket;
  try {
    await flow.startup.wait();
    if (flow.port === 0) throw new Error("flow: the receiver could not bind");
    const to = aio.ipv4("127.0.0.1", flow.port);
    const packet = new Uint8Array(PACKET_SIZE).fill(0x50); // 'P', as in zig-aio
    const send = aio.sendMsg({ socket: fd, msg: aio.messageHeader({ name: to, iov: [packet] }) });
    const pause = aio.timeout({ ns: 50 });
    flow.start = performance.now();
    let sent = 0;
    while (sent < flow.packets) {
      try {
        await coro.io.single(send);
      } catch (err) {
        // zig-aio's answer to a full send queue: wait a little and send again.
        if (err instanceof aio.OperationError && err.code === "SystemResources") {
          await coro.io.single(pause);
          continue;
        }
        throw err;
      }
      if (send.outWritten !== PACKET_SIZE) throw new Error(`flow: sent ${send.outWritten} bytes`);
      sent++;
    }
    const end = aio.sendMsg({ socket: fd, msg: aio.messageHeader({ name: to, iov: [packet.subarray(0, 1)] }) });
    const wait = aio.timeout({ ns: END_INTERVAL_NS });
    while (!flow.done) {
      // Losing an end marker is harmless: another follows.
      await coro.io.complete([end]);
      if (flow.done) break;
      await coro.io.single(wait);
    }
  } finally {
    await coro.io.single(aio.closeSocket({ socket: fd }));
    // A sender that failed leaves the receiver waiting for packets that never come.
    if (!flow.done) flow.receiverTask?.cancel();
  }
}

/**
 * Runs the flow once (receiver and sender tasks on one scheduler).
 *
 * @example
 * ```ts
 * import { measureFlow } from "./flow.ts";
 * const r = await measureFlow({ packets: 1000 });
 * console.log(r.sent, r.received + r.dropped); // 1000 1000
 * ```
 */
export async function measureFlow(options: FlowOptions): Promise<FlowResult> {
  const { packets, backend } = options;
  if (!Number.isSafeInteger(packets) || packets < 1) {
    throw new RangeError(`packets must be a positive integer, got ${packets}`);
  }
  await using scheduler = new coro.Scheduler({ backend });
  const flow: Flow = {
    startup: new coro.ResetEvent(),
    port: 0,
    packets,
    received: 0,
    start: 0,
    end: 0,
    done: false,
  };
  // zig-aio spawns the receiver (its "server") first.
  flow.receiverTask = scheduler.spawn(receiver, [flow]);
  const senderTask = scheduler.spawn(sender, [flow]);
  await scheduler.run("wait");
  await flow.receiverTask.complete("wait");
  await senderTask.complete("wait");
  if (flow.received === 0) throw new Error("flow: no packet arrived");
  const seconds = (flow.end - flow.start) / 1000;
  return {
    sent: packets,
    received: flow.received,
    dropped: packets - flow.received,
    seconds,
    pps: flow.received / seconds,
    backend: scheduler.io.backend,
  };
}

/** Warns on stderr about a run that lost packets (the rate still counts only what arrived). */
function noteDrops(who: string, sent: number, received: number): void {
  if (received < sent) console.error(`flow: ${who} dropped ${sent - received} of ${sent} packets`);
}

async function sample(packets: number, backend?: aio.BackendName): Promise<Sample> {
  const r = await measureFlow({ packets, backend });
  noteDrops(backend ?? "default", r.sent, r.received);
  return { value: r.pps / 1e3, backend: r.backend };
}

/** Reads an anchor's JSON line: its rate in the bench's unit, after noting its drops. */
function ppsOf(line: Record<string, unknown>, name: string): number {
  const { pps, sent, received } = line;
  if (typeof pps !== "number" || typeof sent !== "number" || typeof received !== "number") {
    throw new Error(`${name} printed no pps, sent or received`);
  }
  noteDrops(name, sent, received);
  return pps / 1e3;
}

/**
 * The anchors; `deno_native` and `node` send half the packets (they run at 40-75 k packets/s
 * against 100-130 k for ours and C; the rate does not depend on the count).
 */
function anchors(packets: number): Anchor[] {
  const n = String(packets);
  const half = String(Math.ceil(packets / 2));
  const built = compileC("flow.c", "flow");
  const denoScript = `${ROOT}/bench/flow_deno.ts`;
  return [
    "path" in built
      ? { name: "c_liburing", run: (): number => ppsOf(runJsonLine(built.path, [n]), "flow.c") }
      : { name: "c_liburing", unavailable: built.error },
    {
      name: "deno_native",
      run: (): number =>
        ppsOf(
          runJsonLine(Deno.execPath(), ["run", "--unstable-net", "--allow-net=127.0.0.1", denoScript, half]),
          "flow_deno.ts",
        ),
    },
    commandAvailable("node")
      ? {
        name: "node",
        run: (): number => ppsOf(runJsonLine("node", [`${ROOT}/bench/flow_node.mjs`, half]), "flow_node.mjs"),
      }
      : { name: "node", unavailable: "node is not on PATH" },
  ];
}

/** The `flow` bench for `run.ts`. */
export const flow: Bench = {
  name: "flow",
  groups(options: BenchOptions): Group[] {
    const packets = options.quick ? 20_000 : 80_000;
    return [{
      bench: "flow",
      label: "udp_512B",
      unit: UNIT,
      anchors: anchors(packets),
      variants: [
        { variant: "udp_512B", run: () => sample(packets) },
        { variant: "udp_512B,posix", run: () => sample(packets, "posix") },
      ],
    }];
  },
};

if (import.meta.main) {
  const packets = Number(Deno.args[0] ?? 80_000);
  for (const backend of ["io_uring", "posix"] as const) {
    const r = await measureFlow({ packets, backend });
    console.log(JSON.stringify({ ...r, seconds: Number(r.seconds.toFixed(6)), pps: Math.round(r.pps) }));
  }
}
