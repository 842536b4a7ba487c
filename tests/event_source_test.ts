// EventSource: semaphore semantics, and the same counter seen from Workers.
import { aio, assert } from "./_helpers.ts";

Deno.test("semaphore semantics: each notify admits one wait", async () => {
  using source = new aio.EventSource();
  assert.equal(source.waitNonBlocking(), false);
  source.notify();
  source.notify();
  assert.equal(source.waitNonBlocking(), true);
  assert.equal(source.waitNonBlocking(), true);
  assert.equal(source.waitNonBlocking(), false);
  source.notify();
  source.wait();
  // waitEventSource waits (without blocking the event loop) until a notify arrives.
  const wait = aio.waitEventSource({ source });
  let done = false;
  const pending = aio.single(wait).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(done, false);
  source.notify();
  await pending;
  assert.equal(source.waitNonBlocking(), false);
});

Deno.test("across Workers: notifications from a Worker wake waiters here, and back", async () => {
  using source = new aio.EventSource();
  using back = new aio.EventSource();
  const worker = new Worker(new URL("./workers/event_source_worker.ts", import.meta.url), { type: "module" });
  try {
    const ready = new Promise<unknown>((resolve) => (worker.onmessage = (e) => resolve(e.data)));
    worker.postMessage({ fd: source.fd, back: back.fd, count: 100 });
    // The Worker notifies 100 times; each waitEventSource here consumes one.
    for (let i = 0; i < 100; i++) {
      await aio.single(aio.waitEventSource({ source }));
      back.notify();
    }
    assert.equal(await ready, "done");
    assert.equal(source.waitNonBlocking(), false);
  } finally {
    worker.terminate();
  }
});
