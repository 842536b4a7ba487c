// The Node.js anchor for bench/ping_pongs.ts: the same TCP ping-pong with node:net, server and
// client in one process, 64-byte messages over 127.0.0.1, TCP_NODELAY on both ends. As in
// ping_pongs_deno.ts, an untimed warm-up exchange (min(5000, round_trips)) runs first on the same
// connection.
//
// Usage: node bench/ping_pongs_node.mjs [round_trips]   (default 100000)
// Prints one JSON line: {"roundtrips":N,"seconds":S,"rtps":X}
import { Buffer } from "node:buffer";
import net from "node:net";
import process from "node:process";

const MSG_SIZE = 64;
const count = Number(process.argv[2] ?? 100_000);
if (!Number.isSafeInteger(count) || count < 1) {
  console.error("ping_pongs_node: round_trips must be a positive integer");
  process.exit(2);
}

const warmup = Math.min(5_000, count);
const ping = Buffer.alloc(MSG_SIZE, "i");

const server = net.createServer({ noDelay: true }, (conn) => {
  conn.setNoDelay(true);
  // Echo what arrives, as the other ports do.
  conn.on("data", (chunk) => conn.write(chunk));
  conn.on("error", () => conn.destroy());
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const client = net.connect({ host: "127.0.0.1", port, noDelay: true }, () => {
    client.setNoDelay(true);
    let pending = 0;
    let pongs = 0;
    let start = process.hrtime.bigint();
    client.on("data", (chunk) => {
      pending += chunk.length;
      while (pending >= MSG_SIZE) {
        pending -= MSG_SIZE;
        pongs++;
        if (pongs === warmup) start = process.hrtime.bigint();
        if (pongs < warmup + count) {
          client.write(ping);
        } else {
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          console.log(JSON.stringify({ roundtrips: count, seconds, rtps: count / seconds }));
          client.destroy();
          server.close();
          return;
        }
      }
    });
    client.write(ping);
  });
  client.on("error", (err) => {
    console.error(`ping_pongs_node: ${err.message}`);
    process.exit(1);
  });
});
