/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
// Worker side of event_source_test.ts: its own isolate, libc and ring, the same eventfds.
import { aio } from "../../mod.ts";

self.onmessage = async (e: MessageEvent<{ fd: number; back: number; count: number }>) => {
  const source = aio.EventSource.fromFd(e.data.fd);
  const back = aio.EventSource.fromFd(e.data.back);
  for (let i = 0; i < e.data.count; i++) {
    await aio.single(aio.notifyEventSource({ source }));
    back.wait(); // blocking is fine in a Worker: it has no one else to serve
  }
  self.postMessage("done");
};
