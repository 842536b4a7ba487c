// Child of faults_test.ts: ignores SIGXFSZ (whose default action kills), lowers RLIMIT_FSIZE,
// and writes past it. Prints one JSON line.
import { aio } from "../../mod.ts";

const libc = Deno.dlopen("libc.so.6", {
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  signal: { parameters: ["i32", "usize"], result: "usize" },
});
const RLIMIT_FSIZE = 1;
const SIGXFSZ = 25;
const SIG_IGN = 1n;
const LIMIT = 4096;

const path = Deno.args[0];
libc.symbols.signal(SIGXFSZ, SIG_IGN);
const rl = new BigUint64Array([BigInt(LIMIT), BigInt(LIMIT)]);
if (libc.symbols.setrlimit(RLIMIT_FSIZE, new Uint8Array(rl.buffer)) !== 0) throw new Error("setrlimit failed");

const out: Record<string, unknown> = { backend: aio.currentBackend() };
using work = new aio.Dynamic({ capacity: 8 });
const open = aio.openAt({ dir: aio.cwd, path, flags: { mode: "write_only", create: true, truncate: true } });
work.queue(open);
await work.completeAllAsync();
const fd = open.outFile;
const big = aio.write({ file: fd, buffer: new Uint8Array(2 * LIMIT).fill(7), offset: 0 });
const past = aio.write({ file: fd, buffer: new Uint8Array(16), offset: LIMIT });
const pastv = aio.writev({ file: fd, iov: [new Uint8Array(8), new Uint8Array(8)], offset: LIMIT + 100 });
work.queue(big);
await work.completeAllAsync();
work.queue([past, pastv]);
await work.completeAllAsync();
out.big = { written: big.outWritten, error: big.outError?.code ?? null };
out.past = { written: past.outWritten, error: past.outError?.code ?? null, errno: past.outError?.errno ?? null };
out.pastv = { error: pastv.outError?.code ?? null };
const within = aio.write({ file: fd, buffer: new Uint8Array(16), offset: 0 });
work.queue([within, aio.fsync({ file: fd })]);
await work.completeAllAsync();
out.within = { written: within.outWritten, error: within.outError?.code ?? null };
aio.posix.close(fd);
out.size = Deno.statSync(path).size;
console.log(JSON.stringify(out));
