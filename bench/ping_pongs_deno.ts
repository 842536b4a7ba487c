/**
 * The `deno_native` anchor for `ping_pongs.ts`: the same TCP ping-pong with `Deno.listen` and
 * `Deno.connect`, server and client in one process, 64-byte messages over 127.0.0.1,
 * `setNoDelay(true)` on both ends. Run as a child process by the driver (which itself has no
 * `--allow-net`), after an untimed warm-up exchange on the same connection.
 *
 * Run alone: `deno run --allow-net=127.0.0.1 bench/ping_pongs_deno.ts [round_trips]`; prints one
 * JSON line `{"roundtrips":N,"seconds":S,"rtps":X}`.
 *
 * @module
 */

/** The message size, as in the other ports. */
const MSG_SIZE = 64;

/** The outcome of one timed exchange. */
export interface DenoPingPongs {
  /** Round trips completed in the timed part. */
  roundtrips: number;
  /** Its duration. */
  seconds: number;
  /** `roundtrips / seconds`. */
  rtps: number;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) off += await conn.write(bytes.subarray(off));
}

async function serve(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      await writeAll(conn, buf.subarray(0, n));
    }
  } finally {
    conn.close();
  }
}

/** Sends `count` pings and waits for each pong before the next. */
async function exchange(conn: Deno.Conn, ping: Uint8Array, buf: Uint8Array, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await writeAll(conn, ping);
    let got = 0;
    while (got < MSG_SIZE) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("ping_pongs_deno: the server closed the connection");
      got += n;
    }
  }
}

/**
 * Runs `warmup` untimed round trips, then `roundtrips` timed ones, on one connection.
 *
 * @example
 * ```ts
 * import { runDenoPingPongs } from "./ping_pongs_deno.ts";
 * console.log((await runDenoPingPongs(1000, 100)).roundtrips); // 1000
 * ```
 */
export async function runDenoPingPongs(roundtrips: number, warmup: number): Promise<DenoPingPongs> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = listener.accept().then(serve);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  try {
    conn.setNoDelay(true);
    const ping = new Uint8Array(MSG_SIZE).fill(0x69);
    const buf = new Uint8Array(1024);
    await exchange(conn, ping, buf, warmup);
    const start = performance.now();
    await exchange(conn, ping, buf, roundtrips);
    const seconds = (performance.now() - start) / 1000;
    return { roundtrips, seconds, rtps: roundtrips / seconds };
  } finally {
    conn.close();
    await served;
  }
}

if (import.meta.main) {
  const count = Number(Deno.args[0] ?? 100_000);
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError("round_trips must be a positive integer");
  console.log(JSON.stringify(await runDenoPingPongs(count, Math.min(5_000, count))));
}
