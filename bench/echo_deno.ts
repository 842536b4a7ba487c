/**
 * The `deno_native` anchor of `echo.ts`: a TCP echo server on `Deno.listen`, one async loop per
 * connection (read into a 1 KiB buffer, write back what was read, `setNoDelay(true)`), bound to
 * 127.0.0.1 on a port the kernel picks. Prints one JSON line `{"port":P}` once it listens, then
 * serves until it is killed; the driver runs it as a child with `--allow-net=127.0.0.1` and puts
 * `bench/.build/echo_load` on it.
 *
 * Run alone: `deno run --allow-net=127.0.0.1 bench/echo_deno.ts`.
 *
 * @module
 */

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) off += await conn.write(bytes.subarray(off));
}

async function serve(conn: Deno.TcpConn): Promise<void> {
  const buf = new Uint8Array(1024);
  try {
    conn.setNoDelay(true);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      await writeAll(conn, buf.subarray(0, n));
    }
  } catch {
    // A reset by the load generator ending its run: the connection is over either way.
  } finally {
    conn.close();
  }
}

if (import.meta.main) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(JSON.stringify({ port: listener.addr.port }));
  for await (const conn of listener) serve(conn);
}
