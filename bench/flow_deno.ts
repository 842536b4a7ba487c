/**
 * The `deno_native` anchor for `flow.ts`: the same UDP flow with `Deno.listenDatagram`, sender
 * and receiver in one process, 512-byte datagrams over 127.0.0.1. The sender awaits each
 * `send` before the next; the receiver awaits `receive` into one buffer. After the count the
 * sender sends a 1-byte end marker every millisecond until the receiver has stopped (at the count
 * or at an end marker), so a run ends even when packets are dropped. An untimed warm-up flow
 * (min(5000, packets)) runs first, on its own sockets.
 *
 * `Deno.listenDatagram` is unstable in Deno 2: run with `--unstable-net`, as the driver does (it
 * itself has no `--allow-net`):
 * `deno run --unstable-net --allow-net=127.0.0.1 bench/flow_deno.ts [packets]`; prints one JSON
 * line `{"sent":N,"received":R,"dropped":D,"seconds":S,"pps":X}`.
 *
 * @module
 */
/// <reference lib="deno.unstable" />

/** The datagram size, as in the other ports. */
const PACKET_SIZE = 512;

/** The outcome of one timed flow. */
export interface DenoFlow {
  /** Datagrams sent. */
  sent: number;
  /** Datagrams of 512 bytes received. */
  received: number;
  /** `sent - received`. */
  dropped: number;
  /** From the first send to the last data packet received. */
  seconds: number;
  /** `received / seconds`. */
  pps: number;
}

function udp(): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
}

/**
 * Sends `packets` datagrams from one socket to another and counts what arrives.
 *
 * @example
 * ```ts
 * import { runDenoFlow } from "./flow_deno.ts";
 * const r = await runDenoFlow(1000);
 * console.log(r.received + r.dropped); // 1000
 * ```
 */
export async function runDenoFlow(packets: number): Promise<DenoFlow> {
  const rx = udp();
  const tx = udp();
  try {
    return await flow(rx, tx, packets);
  } finally {
    rx.close();
    tx.close();
  }
}

async function flow(rx: Deno.DatagramConn, tx: Deno.DatagramConn, packets: number): Promise<DenoFlow> {
  const to = rx.addr as Deno.NetAddr;
  let done = false;
  let received = 0;
  let end = 0;
  const receiving = (async () => {
    const buf = new Uint8Array(2048);
    try {
      while (received < packets) {
        const [data] = await rx.receive(buf);
        if (data.byteLength < PACKET_SIZE) break; // An end marker: the rest was dropped.
        received += Math.floor(data.byteLength / PACKET_SIZE);
        end = performance.now();
      }
    } finally {
      done = true;
    }
  })();
  const packet = new Uint8Array(PACKET_SIZE).fill(0x50);
  const marker = packet.subarray(0, 1);
  const start = performance.now();
  for (let sent = 0; sent < packets; sent++) {
    if (await tx.send(packet, to) !== PACKET_SIZE) throw new Error("flow_deno: short send");
  }
  while (!done) {
    await tx.send(marker, to);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await receiving;
  const seconds = (end - start) / 1000;
  return { sent: packets, received, dropped: packets - received, seconds, pps: received / seconds };
}

if (import.meta.main) {
  const count = Number(Deno.args[0] ?? 100_000);
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError("packets must be a positive integer");
  await runDenoFlow(Math.min(5_000, count));
  console.log(JSON.stringify(await runDenoFlow(count)));
}
