// Port of zig-aio's examples/aio_immediate.zig: read two files in one batch.
//   deno run --allow-ffi --allow-read examples/aio_immediate.ts
import { aio } from "../mod.ts";

const dir = new URL("..", import.meta.url).pathname;
const f = aio.openAt({ dir: aio.cwd, path: `${dir}deno.json` });
const f2 = aio.openAt({ dir: aio.cwd, path: `${dir}LICENSE` });
await aio.multi([f, f2]);

const buf = new Uint8Array(4096);
const buf2 = new Uint8Array(4096);
const read = aio.read({ file: f.outFile, buffer: buf });
const read2 = aio.read({ file: f2.outFile, buffer: buf2 });
const numErrors = await aio.complete([read, read2]);

const text = new TextDecoder();
console.log(text.decode(buf.subarray(0, read.outRead)));
console.log(text.decode(buf2.subarray(0, read2.outRead)));
console.log(numErrors);
await aio.multi([aio.closeFile({ file: f.outFile }), aio.closeFile({ file: f2.outFile })]);
