// Port of zig-aio's README example (examples/coro.zig): a server and a client task exchanging
// messages over TCP, with the I/O of both merged into one queue.
//   deno run --allow-ffi examples/coro.ts
// One difference from the seed: it binds 127.0.0.1 rather than 0.0.0.0, to stay on loopback.
import { aio, coro } from "../mod.ts";

const { AF, SOCK, IPPROTO, SOL, SO } = aio.constants;
const PORT = 1327;
const enc = new TextEncoder();
const dec = new TextDecoder();
// zig's std.log.warn with scope .coro_aio prints "warning(coro_aio): ..." on stderr.
const log = { warn: (msg: string) => console.error(`warning(coro_aio): ${msg}`) };

async function server(startup: coro.ResetEvent): Promise<void> {
  const socket = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
  await coro.io.single(socket);

  const address = aio.ipv4("127.0.0.1", PORT);
  aio.posix.setsockopt(socket.outSocket, SOL.SOCKET, SO.REUSEADDR, 1);
  aio.posix.setsockopt(socket.outSocket, SOL.SOCKET, SO.REUSEPORT, 1);
  aio.posix.bind(socket.outSocket, address);
  aio.posix.listen(socket.outSocket, 128);

  startup.set();

  const accept = aio.accept({ socket: socket.outSocket });
  await coro.io.single(accept);
  const clientSock = accept.outSocket;

  const buf = new Uint8Array(1024);
  const recv = aio.recv({ socket: clientSock, buffer: buf });
  await coro.io.multi([
    aio.send({ socket: clientSock, buffer: enc.encode("hey "), link: "soft" }),
    aio.send({ socket: clientSock, buffer: enc.encode("I'm doing multiple IO ops at once "), link: "soft" }),
    aio.send({ socket: clientSock, buffer: enc.encode("how cool is that? "), link: "soft" }),
    recv,
  ]);

  log.warn(`got reply from client: ${dec.decode(buf.subarray(0, recv.outRead))}`);
  await coro.io.multi([
    aio.send({ socket: clientSock, buffer: enc.encode("ok bye"), link: "soft" }),
    aio.closeSocket({ socket: clientSock, link: "soft" }),
    aio.closeSocket({ socket: socket.outSocket }),
  ]);
}

async function client(startup: coro.ResetEvent): Promise<void> {
  const socket = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
  await coro.io.single(socket);

  await startup.wait();

  const address = aio.ipv4("127.0.0.1", PORT);
  await coro.io.single(aio.connect({ socket: socket.outSocket, addr: address }));

  while (true) {
    const buf = new Uint8Array(1024);
    const recv = aio.recv({ socket: socket.outSocket, buffer: buf });
    await coro.io.single(recv);
    const text = dec.decode(buf.subarray(0, recv.outRead));
    log.warn(`got reply from server: ${text}`);
    if (text.includes("how cool is that?")) break;
  }

  await coro.io.single(aio.send({ socket: socket.outSocket, buffer: enc.encode("dude, I don't care") }));

  const buf = new Uint8Array(1024);
  const recv = aio.recv({ socket: socket.outSocket, buffer: buf });
  await coro.io.single(recv);
  log.warn(`got final words from server: ${dec.decode(buf.subarray(0, recv.outRead))}`);
}

await using scheduler = new coro.Scheduler();
const startup = new coro.ResetEvent();
scheduler.spawn(client, [startup]);
scheduler.spawn(server, [startup]);
await scheduler.run("wait");
