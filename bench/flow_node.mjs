// The Node.js anchor for bench/flow.ts: the same UDP flow with node:dgram, sender and receiver in
// one process, 512-byte datagrams over 127.0.0.1. The sender sends the next datagram from the
// previous send's callback (one in flight, as the other ports); the receiver counts "message"
// events. After the count the sender sends a 1-byte end marker every millisecond until the
// receiver has stopped (at the count or at an end marker), so a run ends even when packets are
// dropped. As in flow_deno.ts, an untimed warm-up flow (min(5000, packets)) runs first, on its
// own sockets.
//
// Usage: node bench/flow_node.mjs [packets]   (default 100000)
// Prints one JSON line: {"sent":N,"received":R,"dropped":D,"seconds":S,"pps":X}
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import process from "node:process";

const PACKET_SIZE = 512;
const count = Number(process.argv[2] ?? 100_000);
if (!Number.isSafeInteger(count) || count < 1) {
  console.error("flow_node: packets must be a positive integer");
  process.exit(2);
}

function bound(socket) {
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve(socket));
  });
}

async function runFlow(packets) {
  const rx = await bound(dgram.createSocket("udp4"));
  const tx = await bound(dgram.createSocket("udp4"));
  const { port } = rx.address();
  const packet = Buffer.alloc(PACKET_SIZE, "P");
  const marker = packet.subarray(0, 1);
  let received = 0;
  let done = false;
  let start = 0n;
  let end = 0n;
  return await new Promise((resolve, reject) => {
    const finish = () => {
      done = true;
      rx.close();
      tx.close();
      const seconds = Number(end - start) / 1e9;
      resolve({ sent: packets, received, dropped: packets - received, seconds, pps: received / seconds });
    };
    rx.on("message", (msg) => {
      if (done) return;
      if (msg.length < PACKET_SIZE) return finish(); // An end marker: the rest was dropped.
      received += Math.floor(msg.length / PACKET_SIZE);
      end = process.hrtime.bigint();
      if (received >= packets) finish();
    });
    rx.on("error", reject);
    tx.on("error", reject);
    let sent = 0;
    const sendMarker = () => {
      if (done) return;
      tx.send(marker, port, "127.0.0.1", () => setTimeout(sendMarker, 1));
    };
    const sendNext = (err) => {
      if (err) return reject(err);
      if (done) return;
      if (sent === packets) return sendMarker();
      sent++;
      // The callback of a send that went out at once runs before the event loop polls again:
      // sending the next from it directly would never let the receiver read (all but a few
      // hundred datagrams dropped). setImmediate gives the receiver its turn between sends.
      tx.send(packet, port, "127.0.0.1", afterSend);
    };
    const afterSend = (err) => {
      if (err) return reject(err);
      setImmediate(sendNext);
    };
    start = process.hrtime.bigint();
    end = start;
    sendNext();
  });
}

await runFlow(Math.min(5_000, count));
console.log(JSON.stringify(await runFlow(count)));
