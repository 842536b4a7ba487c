// The Node.js anchor for bench/spawn.ts: zig-aio's spawn10 loop (tokio's basic_scheduler_spawn10)
// with plain async functions, as spawn.ts's deno_native anchor: a round starts 10 async functions
// that each await a promise the main side resolves, then the main side resolves each and awaits
// its result. An untimed warm-up (a tenth of the rounds, at least one) runs first.
//
// Usage: node bench/spawn_node.mjs [rounds]   (default 60000)
// Prints one JSON line: {"tasks":N,"seconds":S,"rate":X} (rate: tasks per second)
import process from "node:process";

const TASK_COUNT = 10;
const rounds = Number(process.argv[2] ?? 60_000);
if (!Number.isSafeInteger(rounds) || rounds < 1) {
  console.error("spawn_node: rounds must be a positive integer");
  process.exit(2);
}

async function plainWork(gate) {
  const val = 1 + 1;
  await gate;
  return val;
}

async function loop(count) {
  const wakes = new Array(TASK_COUNT);
  const results = new Array(TASK_COUNT);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < TASK_COUNT; i++) {
      // Promise.withResolvers is missing before Node 22.
      let wake;
      const gate = new Promise((resolve) => (wake = resolve));
      wakes[i] = wake;
      results[i] = plainWork(gate);
    }
    for (let i = 0; i < TASK_COUNT; i++) {
      wakes[i]();
      if ((await results[i]) !== 2) throw new Error("a function returned the wrong value");
    }
  }
}

await loop(Math.max(1, Math.floor(rounds / 10)));
const start = process.hrtime.bigint();
await loop(rounds);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const tasks = rounds * TASK_COUNT;
console.log(JSON.stringify({ tasks, seconds, rate: tasks / seconds }));
