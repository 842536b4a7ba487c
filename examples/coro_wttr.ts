// Port of zig-aio's examples/coro_wttr.zig: several HTTP requests at once, each a task doing raw
// socket I/O through coro, plus a loader task animating progress with coro timeouts.
//
//   deno run --allow-ffi --allow-net examples/coro_wttr.ts                 # a local server it starts
//   deno run --allow-ffi examples/coro_wttr.ts http://127.0.0.1:8080/oulu  # URLs of your own
//
// zig-aio fetches wttr.in and ziglang.org; this machine has no internet, so by default the example
// starts a small Deno.serve on 127.0.0.1 that answers in their place. Plain http:// only, and the
// host must be an IPv4 literal or localhost (no DNS, no TLS: raw sockets).
import { aio, coro } from "../mod.ts";

const { AF, SOCK, IPPROTO } = aio.constants;
const enc = new TextEncoder();
const dec = new TextDecoder();

let completed = 0;

async function httpGet(url: string): Promise<string> {
  try {
    const u = new URL(url);
    if (u.protocol !== "http:") throw new Error(`only http:// is supported, got ${u.protocol}`);
    const host = u.hostname === "localhost" ? "127.0.0.1" : u.hostname;
    const sock = aio.socket({ domain: AF.INET, flags: SOCK.STREAM | SOCK.CLOEXEC, protocol: IPPROTO.TCP });
    await coro.io.single(sock);
    const fd = sock.outSocket;
    try {
      await coro.io.single(aio.connect({ socket: fd, addr: aio.ipv4(host, Number(u.port || 80)) }));
      const request =
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: curl\r\nConnection: close\r\n\r\n`;
      await coro.io.single(aio.send({ socket: fd, buffer: enc.encode(request) }));
      const chunks: Uint8Array[] = [];
      for (;;) {
        const buf = new Uint8Array(16384);
        const recv = aio.recv({ socket: fd, buffer: buf });
        await coro.io.single(recv);
        if (recv.outRead === 0) break;
        chunks.push(buf.subarray(0, recv.outRead));
      }
      const response = dec.decode(concat(chunks));
      const [head, ...body] = response.split("\r\n\r\n");
      const status = head.split("\r\n")[0];
      if (!/ 200 /.test(status)) throw new Error(status);
      return dechunk(head, body.join("\r\n\r\n"));
    } finally {
      await coro.io.single(aio.closeSocket({ socket: fd }));
    }
  } finally {
    completed++;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function dechunk(head: string, body: string): string {
  if (!/transfer-encoding:\s*chunked/i.test(head)) return body;
  let out = "";
  let rest = body;
  for (;;) {
    const nl = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, nl), 16);
    if (!size) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

async function getWeather(base: string, city: string, lang: string): Promise<string> {
  return await httpGet(`${base}/${city}?AF&lang=${lang}`);
}

async function getLatestZig(base: string): Promise<string> {
  const index = JSON.parse(await httpGet(`${base}/download/index.json`));
  return index.master.version;
}

async function loader(max: number): Promise<void> {
  const frames = ["▰▱▱▱▱▱▱", "▰▰▱▱▱▱▱", "▰▰▰▱▱▱▱", "▰▰▰▰▱▱▱", "▰▰▰▰▰▱▱", "▰▰▰▰▰▰▱", "▰▰▰▰▰▰▰", "▰▱▱▱▱▱▱"];
  try {
    for (let idx = 0;; idx++) {
      await coro.io.single(aio.timeout({ ns: 80_000_000 }));
      await Deno.stderr.write(
        enc.encode(`  ${frames[idx % frames.length]} ${completed}/${max} loading that juicy info\r`),
      );
    }
  } finally {
    await Deno.stderr.write(enc.encode("                                     \r"));
  }
}

// The stand-in for wttr.in and ziglang.org, slow enough for the loader to show.
function localServer(): { base: string; close: () => Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
    const url = new URL(req.url);
    if (url.pathname === "/download/index.json") return Response.json({ master: { version: "0.16.0-dev.local" } });
    const city = url.pathname.slice(1);
    return new Response(
      `Weather report: ${city} (lang=${
        url.searchParams.get("lang")
      })\n  \\  /  Partly cloudy\n   _ /"".-.   +12(10) °C\n`,
    );
  });
  return { base: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

const urls = Deno.args;
const local = urls.length === 0 ? localServer() : undefined;

await using scheduler = new coro.Scheduler();
const tasks = local
  ? [
    scheduler.spawn(getWeather, [local.base, "oulu", "fi"]),
    scheduler.spawn(getWeather, [local.base, "tokyo", "ja"]),
    scheduler.spawn(getWeather, [local.base, "portland", "en"]),
    scheduler.spawn(getLatestZig, [local.base]),
  ]
  : urls.map((url) => scheduler.spawn(httpGet, [url]));
const ltask = scheduler.spawn(loader, [tasks.length]);

const results = await Promise.allSettled(tasks.map((t) => t.complete("wait")));
// Cancel the loader, so that its finally clears the progress line.
await ltask.complete("cancel");

for (const [idx, result] of results.entries()) {
  if (result.status === "fulfilled") {
    if (local && idx === 3) console.log("\nAaand the current master zig version is... ");
    console.log(result.value);
  } else {
    console.log(`request ${idx} failed with: ${result.reason}`);
  }
}
console.log("\nThat's all folks");
await local?.close();
