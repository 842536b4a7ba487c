/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
// Worker side of the cross-Worker primitives test.
import { aio, coro } from "../../mod.ts";

self.onmessage = async (e: MessageEvent) => {
  const { n, rounds } = e.data;
  const mutex = coro.Mutex.from(e.data.mutex);
  const rw = coro.RwLock.from(e.data.rw);
  const queue = coro.Queue.from<{ worker: number; i: number }>(e.data.queue);
  const counter = new Int32Array(e.data.counter);
  await using scheduler = new coro.Scheduler();
  const task = scheduler.spawn(async () => {
    for (let i = 0; i < rounds; i++) {
      await mutex.lock();
      const v = counter[0];
      await coro.io.single(aio.nop()); // let others run while holding it
      counter[0] = v + 1;
      mutex.unlock();
      if (i % 2 === 0) {
        await rw.lock();
        Atomics.add(counter, 1, 1000); // a writer marks the second counter...
        await coro.io.single(aio.nop());
        Atomics.sub(counter, 1, 1000); // ...and unmarks it before it lets readers in
        rw.unlock();
      } else {
        await rw.lockShared();
        if (Atomics.load(counter, 1) !== 0) throw new Error("a reader saw a writer inside");
        rw.unlockShared();
      }
      queue.send({ worker: n, i });
    }
  }, []);
  await task.complete("wait");
  self.postMessage("done");
};
