// examples/coro.ts prints the seed's exchange in the seed's order, with at most zig-aio's
// published count of io_uring_enter calls (6).
import { aio, assert, dec } from "./_helpers.ts";
import { runs, WINDOWS } from "./_helpers.ts";

const example = new URL("../examples/coro.ts", import.meta.url).href;
const SEED = [
  /^warning\(coro_aio\): got reply from server: hey /,
  /how cool is that\? $/,
  /^warning\(coro_aio\): got reply from client: dude, I don't care$/,
  /^warning\(coro_aio\): got final words from server: ok bye$/,
];

Deno.test("examples/coro.ts prints the seed's exchange in order", async () => {
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "--allow-ffi", example] }).output();
  assert.ok(out.success, dec.decode(out.stderr));
  // Lines from the library itself ("aio: ...", e.g. a fallback from io_uring) are not the example's.
  const lines = dec.decode(out.stderr).trim().split("\n").filter((l) => !l.startsWith("aio: "));
  // The client may get the three sends in one recv or in several: the server's lines come last.
  assert.match(lines[0], SEED[0]);
  assert.match(lines.at(-3)!, SEED[1]);
  assert.match(lines.at(-2)!, SEED[2]);
  assert.match(lines.at(-1)!, SEED[3]);
});

const strace = await runs("strace", ["-V"]);

Deno.test({
  name: "examples/coro.ts makes at most 6 io_uring_enter calls (zig-aio's count)",
  ignore: !strace || aio.currentBackend() !== "io_uring",
  async fn() {
    const out = await new Deno.Command("strace", {
      args: ["-f", "-c", "-e", "trace=io_uring_enter", Deno.execPath(), "run", "--allow-ffi", example],
    }).output();
    const report = dec.decode(out.stderr);
    // strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall.
    const row = report.split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f.at(-1) === "io_uring_enter");
    assert.ok(row, report);
    const calls = Number(row[3]);
    assert.ok(calls >= 1 && calls <= 6, `io_uring_enter called ${calls} times`);
  },
});

Deno.test("examples/coro_wttr.ts: HTTP over raw sockets through coro, against its own local server", async () => {
  const wttr = new URL("../examples/coro_wttr.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "--allow-ffi", "--allow-net", wttr] }).output();
  const text = dec.decode(out.stdout);
  assert.ok(out.success, dec.decode(out.stderr));
  for (const city of ["oulu", "tokyo", "portland"]) assert.match(text, new RegExp(`Weather report: ${city}`));
  assert.match(text, /master zig version is\.\.\. \n0\.16\.0-dev\.local/);
  assert.match(text, /That's all folks/);
});

Deno.test({
  name: "examples/thread_per_core.ts: 2 Workers share a port (SO_REUSEPORT), echo for 16 clients, then exit",
  // Windows has no SO_REUSEPORT balancing, and Wine refuses the second bind (EACCES): the example says so and exits.
  ignore: WINDOWS,
  async fn() {
    const url = new URL("../examples/thread_per_core.ts", import.meta.url).href;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-ffi", "--allow-read", "--allow-env", url, "2"],
    }).output();
    assert.ok(out.success, dec.decode(out.stderr));
    const text = dec.decode(out.stdout);
    assert.match(text, /^2 workers listening on 127\.0\.0\.1:\d+ \(SO_REUSEPORT\)$/m);
    const rows = [...text.matchAll(/^worker (\d): (\d+) connections, (\d+) bytes echoed$/gm)];
    assert.equal(rows.length, 2);
    let bytes = 0;
    for (let n = 0; n < 16; n++) for (let i = 0; i < 100; i++) bytes += `client ${n} message ${i}`.length;
    assert.equal(rows.reduce((s, r) => s + Number(r[2]), 0), 16);
    assert.equal(rows.reduce((s, r) => s + Number(r[3]), 0), bytes);
  },
});
