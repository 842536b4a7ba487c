/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
// Worker side of iocp_test.ts: receives from a Queue whose event source another isolate's port owns.
import { coro } from "../../mod.ts";

self.onmessage = async (e: MessageEvent) => {
  const queue = coro.Queue.from<number>(e.data.queue);
  await using scheduler = new coro.Scheduler();
  const task = scheduler.spawn(async () => {
    let sum = 0;
    for (let i = 0; i < e.data.count; i++) sum += await queue.recv();
    return sum;
  }, []);
  self.postMessage(await task.complete("wait"));
};
