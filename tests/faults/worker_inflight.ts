/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
// Worker of faults_test.ts: queues operations that never complete on its own queue (on the
// parent's pipe and its own), parks, and says so; the parent then terminates it.
import { aio } from "../../mod.ts";

self.onmessage = async (e: MessageEvent<{ read: number; fifo?: string }>) => {
  const work = new aio.Dynamic({ capacity: 16 });
  const [r, w] = aio.posix.pipe();
  work.queue([
    aio.read({ file: e.data.read, buffer: new Uint8Array(64) }),
    aio.read({ file: r, buffer: new Uint8Array(64) }),
    aio.timeout({ ns: 60e9 }),
  ]);
  // A call that blocks where it runs (posix: a pool Worker; io_uring: the kernel's io-wq).
  if (e.data.fifo) work.queue(aio.openAt({ dir: aio.cwd, path: e.data.fifo }));
  work.complete("nonblocking");
  const parked = work.completeAllAsync();
  self.postMessage({ own: [r, w] });
  await parked;
};
