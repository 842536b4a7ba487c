// The Node.js anchor for bench/fs.ts, with node:fs/promises FileHandle:
//
//   read_buf: total 4 KiB reads of /dev/zero with handle.read(buf, 0, 4096, null), awaited one
//             at a time (zig-aio's bench/fs.zig loop).
//   random:   random 4 KiB reads at queue depth 32 from <path>: 32 lanes under Promise.all on one
//             FileHandle, each read positional (handle.read(buf, 0, 4096, position)), at the
//             offsets of the xorshift32 sequence every port shares, until total reads. Each read
//             is checked: 4096 bytes, and the block's index in its first 4 bytes. The optional
//             last argument `callback` uses fs.read with a callback (one promise per read) on the
//             handle's fd instead, for comparison; the driver runs the FileHandle version.
//
// Both run an untimed warm-up first (a tenth of total, at most 20000 reads), as fs_deno.ts does.
// Node's reads run on libuv's thread pool (UV_THREADPOOL_SIZE, default 4).
//
// Usage: node bench/fs_node.mjs read_buf [total]                      (default 300000)
//        node bench/fs_node.mjs random <path> [total] [filehandle|callback]  (default 200000)
// Prints one JSON line: {"mode":"random","reads":N,"seconds":S,"rate":X} (rate: reads per second)
import { Buffer } from "node:buffer";
import fs from "node:fs";
import { open } from "node:fs/promises";
import process from "node:process";

const BLOCK = 4096;
const DEPTH = 32;
// The xorshift32 seed shared with fs.c, fs.ts and fs_deno.ts.
const SEED = 0x9e3779b9;

function fail(message) {
  console.error(`fs_node: ${message}`);
  process.exit(2);
}

function parseTotal(arg, fallback) {
  const total = Number(arg ?? fallback);
  if (!Number.isSafeInteger(total) || total < 1) fail("total must be a positive integer");
  return total;
}

function warmupCount(total) {
  return Math.min(20_000, Math.ceil(total / 10));
}

function seconds(start) {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function readBufLoop(handle, buf, count) {
  for (let i = 0; i < count; i++) {
    const { bytesRead } = await handle.read(buf, 0, BLOCK, null);
    if (bytesRead !== BLOCK) throw new Error(`a read of /dev/zero returned ${bytesRead}`);
  }
}

async function readBuf(total) {
  const handle = await open("/dev/zero", "r");
  try {
    const buf = Buffer.alloc(BLOCK);
    await readBufLoop(handle, buf, warmupCount(total));
    const start = process.hrtime.bigint();
    await readBufLoop(handle, buf, total);
    const s = seconds(start);
    return { mode: "read_buf", reads: total, seconds: s, rate: total / s };
  } finally {
    await handle.close();
  }
}

function nextBlock(state) {
  let x = state.rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  state.rng = x >>> 0;
  return state.rng % state.blocks;
}

function readCallback(fd, buf, position) {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, 0, BLOCK, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

async function lane(state, handle, viaCallback) {
  const buf = Buffer.alloc(BLOCK);
  while (state.issued < state.total) {
    state.issued++;
    const block = nextBlock(state);
    const n = viaCallback
      ? await readCallback(handle.fd, buf, block * BLOCK)
      : (await handle.read(buf, 0, BLOCK, block * BLOCK)).bytesRead;
    if (n !== BLOCK || buf.readUInt32LE(0) !== block) {
      throw new Error(`a read of block ${block} returned ${n} bytes or another block`);
    }
  }
}

function randomLoop(state, handle, viaCallback) {
  return Promise.all(Array.from({ length: DEPTH }, () => lane(state, handle, viaCallback)));
}

async function random(path, total, viaCallback) {
  const handle = await open(path, "r");
  try {
    const blocks = Math.floor((await handle.stat()).size / BLOCK);
    // The warm-up uses another part of the sequence; the timed part starts from the seed.
    await randomLoop(
      { blocks, rng: (SEED ^ 0x5bd1e995) >>> 0, issued: 0, total: warmupCount(total) },
      handle,
      viaCallback,
    );
    const state = { blocks, rng: SEED, issued: 0, total };
    const start = process.hrtime.bigint();
    await randomLoop(state, handle, viaCallback);
    const s = seconds(start);
    return { mode: "random", reads: total, seconds: s, rate: total / s };
  } finally {
    await handle.close();
  }
}

const [mode, ...rest] = process.argv.slice(2);
let result;
try {
  if (mode === "read_buf" && rest.length <= 1) {
    result = await readBuf(parseTotal(rest[0], 300_000));
  } else if (mode === "random" && rest.length >= 1 && rest.length <= 3) {
    const how = rest[2] ?? "filehandle";
    if (how !== "filehandle" && how !== "callback") fail("the read method must be filehandle or callback");
    result = await random(rest[0], parseTotal(rest[1], 200_000), how === "callback");
  } else {
    fail("usage: fs_node.mjs read_buf [total] | fs_node.mjs random <path> [total] [filehandle|callback]");
  }
} catch (err) {
  console.error(`fs_node: ${err.message}`);
  process.exit(1);
}
console.log(JSON.stringify(result));
