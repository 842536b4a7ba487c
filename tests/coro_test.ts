// coro: tasks, their I/O through one queue, yields, cancellation, primitives and the thread pool.
import { aio, assert, closeAll, openFds, since, tcpPair } from "./_helpers.ts";
import { coro } from "../mod.ts";

const MODES: coro.WaitMode[] = ["park", "adaptive", "block"];

Deno.test("spawn runs at once until the first suspension; complete returns the result", async () => {
  await using scheduler = new coro.Scheduler();
  const trace: string[] = [];
  const task = scheduler.spawn(
    async (a: number, b: number) => {
      trace.push("start");
      await coro.io.single(aio.nop());
      trace.push("after io");
      return a + b;
    },
    [20, 22],
    { name: "adder" },
  );
  assert.deepEqual(trace, ["start"]);
  assert.equal(task.name, "adder");
  assert.equal(await task.complete("wait"), 42);
  assert.ok(task.isComplete);
  assert.deepEqual(trace, ["start", "after io"]);
});

Deno.test("every wait mode runs the same I/O", async (t) => {
  for (const wait of MODES) {
    await t.step(wait, async () => {
      await using scheduler = new coro.Scheduler({ wait });
      const tasks = Array.from({ length: 20 }, (_, i) =>
        scheduler.spawn(async () => {
          for (let j = 0; j < 5; j++) await coro.io.single(aio.timeout({ ns: (i % 3) * 100_000 }));
          return i;
        }, []));
      await scheduler.run("wait");
      assert.deepEqual(
        await Promise.all(tasks.map((x) => x.complete("wait"))),
        Array.from({ length: 20 }, (_, i) => i),
      );
    });
  }
});

Deno.test("errors: a task's exception comes out of complete; coro.io.single throws the op's error", async () => {
  await using scheduler = new coro.Scheduler();
  const task = scheduler.spawn(async () => {
    await coro.io.single(aio.openAt({ dir: aio.cwd, path: "/nonexistent/x" }));
  }, []);
  await assert.rejects(task.complete("wait"), (e: aio.OperationError) => e.code === "FileNotFound");
  const multi = scheduler.spawn(
    () => coro.io.multi([aio.openAt({ dir: aio.cwd, path: "/nonexistent" }), aio.nop()]),
    [],
  );
  await assert.rejects(multi.complete("wait"), aio.SomeOperationFailedError);
  const counted = scheduler.spawn(
    () => coro.io.complete([aio.openAt({ dir: aio.cwd, path: "/nonexistent" }), aio.nop()]),
    [],
  );
  assert.equal(await counted.complete("wait"), 1);
});

Deno.test("cancel: in-flight I/O is canceled, the task sees CanceledError, partial results", async () => {
  const { server, client, listener } = await tcpPair();
  await using scheduler = new coro.Scheduler();
  let progress = 0;
  const recv = aio.recv({ socket: server, buffer: new Uint8Array(8) });
  const task = scheduler.spawn(async () => {
    progress = 1;
    try {
      await coro.io.single(recv);
    } catch (e) {
      if (e instanceof coro.CanceledError) return "partial";
      throw e;
    }
    return "full";
  }, []);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(await task.complete("cancel"), "partial");
  assert.equal(progress, 1);
  assert.equal(recv.outError?.code, "Canceled");
  assert.equal(scheduler.io.inFlight, 0);

  // A task that lets CanceledError escape gives undefined to complete("cancel").
  const plain = scheduler.spawn(() => coro.io.single(aio.timeout({ ns: 10e9 })), []);
  assert.equal(await plain.complete("cancel"), undefined);
  // And rejects for complete("wait") afterwards? No: cancel() then wait() sees the error.
  const waited = scheduler.spawn(() => coro.io.single(aio.timeout({ ns: 10e9 })), []);
  waited.cancel();
  await assert.rejects(waited.complete("wait"), coro.CanceledError);
  closeAll(server, client, listener);
});

Deno.test("cancel: the caller's array may change while its call is in flight", async () => {
  await using scheduler = new coro.Scheduler({ wait: "park" });
  const long = aio.timeout({ ns: 30e9 });
  const ops: aio.Operation[] = [long];
  const task = scheduler.spawn(() => coro.io.complete(ops), []);
  await new Promise((r) => setTimeout(r, 10));
  ops.length = 0; // reused by the caller: the call must still know what it has in flight
  const t0 = performance.now();
  await task.complete("cancel");
  assert.ok(since(t0) < 5_000, `the cancel took ${since(t0).toFixed(0)} ms`);
  assert.equal(long.outError?.code, "Canceled");
});

Deno.test("cancel: tasks waiting for room in a full queue are all canceled", async () => {
  // Two slots, twenty tasks with two-operation calls: most wait for room. A canceled waiter passes
  // the room it was woken for to the next, or the rest would wait forever once nothing is in flight.
  await using scheduler = new coro.Scheduler({ wait: "park", ioQueueEntries: 2 });
  for (let i = 0; i < 20; i++) {
    scheduler.spawn(async () => {
      const ops = [aio.timeout({ ns: 5e6 }), aio.timeout({ ns: i % 3 === 0 ? 30e9 : 1e6 })];
      for (let k = 0; k < 5; k++) await coro.io.complete(ops);
    }, []);
  }
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  await scheduler.run("cancel");
  assert.ok(since(t0) < 5_000, `run("cancel") took ${since(t0).toFixed(0)} ms`);
  assert.equal(scheduler.liveTasks, 0);
  assert.equal(scheduler.io.inFlight, 0);
});

Deno.test("yield and wakeup: state, wakeupIf, and errors for a wrong wakeup", async () => {
  await using scheduler = new coro.Scheduler();
  const task = scheduler.spawn(async () => {
    await coro.yield(5);
    await coro.yield(6);
    return "woken twice";
  }, []);
  assert.equal(task.state(), 5);
  task.wakeupIf(6); // not its state: nothing happens
  assert.equal(task.state(), 5);
  task.wakeupIf(5);
  assert.equal(task.state(), 0); // reset at once, as in zig-aio
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(task.state(), 6);
  task.wakeup();
  assert.equal(await task.complete("wait"), "woken twice");
  assert.throws(() => task.wakeup(), (e: coro.CoroError) => e.code === "NotYielded");

  const io = scheduler.spawn(() => coro.io.single(aio.timeout({ ns: 20_000_000 })), []);
  assert.throws(() => io.wakeup(), (e: coro.CoroError) => e.code === "NotYielded"); // in I/O, not yielded
  await io.complete("wait");

  const zero = scheduler.spawn(() => coro.yield(0), []);
  await assert.rejects(zero.complete("wait"), (e: coro.CoroError) => e.code === "InvalidArgument");
  await assert.rejects(coro.yield(1), (e: coro.CoroError) => e.code === "NotInTask");

  const canceled = scheduler.spawn(() => coro.yield(1), []);
  canceled.cancel();
  await assert.rejects(canceled.complete("wait"), coro.CanceledError);
});

Deno.test("current() and setCancelable", async () => {
  await using scheduler = new coro.Scheduler();
  assert.equal(coro.current(), undefined);
  let inside: unknown;
  const task = scheduler.spawn(async () => {
    inside = coro.current();
    coro.setCancelable(false);
    await coro.io.single(aio.timeout({ ns: 20_000_000 })); // not cut short by the cancel below
    coro.setCancelable(true); // throws: the cancel arrived meanwhile
    return "unreachable";
  }, []);
  assert.equal(inside, task);
  const t0 = performance.now();
  assert.equal(await task.complete("cancel"), undefined);
  assert.ok(since(t0) >= 15);
  assert.throws(() => coro.setCancelable(true), (e: coro.CoroError) => e.code === "NotInTask");
});

Deno.test("coro.io outside a task is aio's immediate API", async () => {
  assert.equal(await coro.io.complete([aio.nop()]), 0);
  await coro.io.single(aio.nop());
  await coro.io.multi([aio.nop()]);
});

Deno.test("a task awaiting another task, and foreign promises: no deadlock", async () => {
  await using scheduler = new coro.Scheduler({ wait: "adaptive" });
  const child = scheduler.spawn(async () => {
    await new Promise((r) => setTimeout(r, 20)); // foreign: a timer
    await coro.io.single(aio.nop());
    return "child";
  }, []);
  const parent = scheduler.spawn(async () => `${await child.complete("wait")} via parent`, []);
  // Meanwhile another task does I/O; it must not wait for the timer-bound one.
  const busy = scheduler.spawn(async () => {
    await coro.io.single(aio.timeout({ ns: 100_000 })); // the first park creates the wake-up socket
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) await coro.io.single(aio.timeout({ ns: 100_000 }));
    return since(t0);
  }, []);
  const fetched = scheduler.spawn(async () => {
    const resolved = await Promise.resolve("foreign");
    await coro.io.single(aio.nop());
    return resolved;
  }, []);
  assert.equal(await parent.complete("wait"), "child via parent");
  const busyMs = await busy.complete("wait");
  assert.ok(busyMs < 15, `I/O of one task waited for another task's timer: ${busyMs} ms`);
  assert.equal(await fetched.complete("wait"), "foreign");
});

Deno.test("event loop stays live: a 10 ms timer fires within 50 ms, Deno.serve answers", async (t) => {
  for (const wait of ["park", "adaptive"] as const) {
    await t.step(wait, async () => {
      await using scheduler = new coro.Scheduler({ wait });
      let stop = false;
      let ops = 0;
      for (let i = 0; i < 4; i++) {
        scheduler.spawn(async () => {
          while (!stop) {
            await coro.io.single(aio.timeout({ ns: 200_000 }));
            ops++;
          }
        }, []);
      }
      const fired = await new Promise<number>((resolve) => {
        const t0 = performance.now();
        setTimeout(() => resolve(since(t0)), 10);
      });
      assert.ok(fired < 50, `timer fired after ${fired} ms`);
      const http = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => new Response("ok"));
      const res = await fetch(`http://127.0.0.1:${http.addr.port}/`);
      assert.equal(await res.text(), "ok");
      await http.shutdown();
      stop = true;
      await scheduler.run("wait");
      assert.ok(ops > 10);
    });
  }
});

Deno.test("cancel storm: 1000 tasks with I/O in flight, all canceled, nothing leaked", async () => {
  const fds0 = openFds();
  const { server, client, listener } = await tcpPair();
  {
    await using scheduler = new coro.Scheduler({ ioQueueEntries: 2048 });
    const tasks = Array.from({ length: 1000 }, (_, i) =>
      scheduler.spawn(async () => {
        await coro.io.single(
          i % 2 === 0 ? aio.recv({ socket: server, buffer: new Uint8Array(4) }) : aio.timeout({ ns: 60e9 }),
        );
      }, []));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(scheduler.io.inFlight, 1000);
    await scheduler.run("cancel");
    assert.equal(scheduler.io.inFlight, 0);
    assert.equal(scheduler.liveTasks, 0);
    for (const task of tasks) assert.equal(await task.complete("cancel"), undefined);
  }
  closeAll(server, client, listener);
  assert.equal(openFds(), fds0);
});

Deno.test("ResetEvent and Semaphore coordinate tasks", async () => {
  await using scheduler = new coro.Scheduler();
  const event = new coro.ResetEvent();
  const order: string[] = [];
  const waiters = [1, 2, 3].map((i) =>
    scheduler.spawn(async () => {
      await event.wait();
      order.push(`w${i}`);
    }, [])
  );
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(order, []);
  event.set();
  await Promise.all(waiters.map((w) => w.complete("wait")));
  assert.equal(order.length, 3);
  assert.ok(event.isSet);
  event.reset();
  assert.equal(event.isSet, false);

  const sem = new coro.Semaphore();
  let inside = 0;
  let most = 0;
  const workers = Array.from({ length: 5 }, () =>
    scheduler.spawn(async () => {
      await sem.lock();
      inside++;
      most = Math.max(most, inside);
      await coro.io.single(aio.timeout({ ns: 500_000 }));
      inside--;
      sem.unlock();
    }, []));
  await Promise.all(workers.map((w) => w.complete("wait")));
  assert.equal(most, 1);

  // A canceled waiter leaves the event's list.
  const e2 = new coro.ResetEvent();
  const w = scheduler.spawn(() => e2.wait(), []);
  assert.equal(await w.complete("cancel"), undefined);
});

Deno.test("Mutex, RwLock and Queue across Workers", async () => {
  using mutex = new coro.Mutex();
  using rw = new coro.RwLock();
  using queue = new coro.Queue<{ worker: number; i: number }>({ capacity: 4096 });
  const counter = new Int32Array(new SharedArrayBuffer(8));
  const workers = [0, 1].map(() =>
    new Worker(new URL("./workers/sync_worker.ts", import.meta.url), { type: "module" })
  );
  const done = workers.map((w) =>
    new Promise<unknown>((resolve, reject) => {
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => reject(e.message);
    })
  );
  workers.forEach((w, n) =>
    w.postMessage({ n, mutex: mutex.shared, rw: rw.shared, queue: queue.shared, counter: counter.buffer, rounds: 50 })
  );
  // Here too: take the mutex around a non-atomic read-modify-write.
  await using scheduler = new coro.Scheduler();
  const local = scheduler.spawn(async () => {
    for (let i = 0; i < 50; i++) {
      await mutex.lock();
      const v = counter[0];
      await coro.io.single(aio.nop());
      counter[0] = v + 1;
      mutex.unlock();
    }
  }, []);
  const received: string[] = [];
  for (let i = 0; i < 100; i++) {
    const msg = await queue.recv();
    received.push(`${msg.worker}:${msg.i}`);
  }
  await local.complete("wait");
  assert.deepEqual(await Promise.all(done), ["done", "done"]);
  workers.forEach((w) => w.terminate());
  assert.equal(counter[0], 150); // no lost update
  assert.equal(counter[1], 0); // no writer ever overlapped a reader (checked by the workers)
  assert.equal(new Set(received).size, 100);
  assert.equal(queue.tryRecv(), undefined);
  // RwLock here: shared locks coexist, an exclusive one waits.
  await rw.lockShared();
  assert.ok(rw.tryLockShared());
  assert.equal(rw.tryLock(), false);
  rw.unlockShared();
  rw.unlockShared();
  assert.ok(rw.tryLock());
  rw.unlock();
});

Deno.test("ThreadPool: a module function on a Worker and a direct function, while the task yields", async () => {
  await using scheduler = new coro.Scheduler();
  const pool = new coro.ThreadPool({ maxThreads: 2 });
  try {
    const work = { module: new URL("./workers/blocking.ts", import.meta.url).href, fn: "blockingCode" };
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    const task = scheduler.spawn(() => pool.yieldForCompletion(work, [100]), []);
    const other = scheduler.spawn(async () => {
      for (let i = 0; i < 10; i++) await coro.io.single(aio.timeout({ ns: 1_000_000 }));
      return "ran meanwhile";
    }, []);
    assert.equal(await other.complete("wait"), "ran meanwhile");
    assert.equal(await task.complete("wait"), 69);
    clearInterval(iv);
    assert.ok(ticks >= 5, "the event loop ran while the Worker blocked");
    const spawned = pool.spawnForCompletion(scheduler, work, [1]);
    assert.equal(await spawned.complete("wait"), 69);
    const direct = scheduler.spawn(() => pool.yieldForCompletion((x: number) => Promise.resolve(x + 1), [41]), []);
    assert.equal(await direct.complete("wait"), 42);
    const failing = scheduler.spawn(() => pool.yieldForCompletion({ module: work.module, fn: "fails" }, []), []);
    await assert.rejects(failing.complete("wait"), /boom/);
  } finally {
    pool.close();
  }
});

Deno.test("ThreadPool: a blocking FFI call (nonblocking symbol) while other tasks do I/O", async () => {
  // A call that blocks its thread for 50 ms: usleep, or kernel32's Sleep on Windows.
  const libc = Deno.build.os === "windows"
    ? (() => {
      const k = Deno.dlopen("kernel32.dll", { Sleep: { parameters: ["u32"], result: "void", nonblocking: true } });
      return { symbols: { usleep: (us: number) => k.symbols.Sleep(us / 1000).then(() => 0) }, close: () => k.close() };
    })()
    : Deno.dlopen("libc.so.6", { usleep: { parameters: ["u32"], result: "i32", nonblocking: true } });
  try {
    await using scheduler = new coro.Scheduler();
    const pool = new coro.ThreadPool({ maxThreads: 1 });
    const sleeper = scheduler.spawn(
      () => pool.yieldForCompletion((us: number) => libc.symbols.usleep(us), [50_000]),
      [],
    );
    let ios = 0;
    const busy = scheduler.spawn(async () => {
      while (!sleeper.isComplete) {
        await coro.io.single(aio.timeout({ ns: 1_000_000 }));
        ios++;
      }
    }, []);
    const t0 = performance.now();
    assert.equal(await sleeper.complete("wait"), 0);
    assert.ok(since(t0) >= 45);
    await busy.complete("wait");
    assert.ok(ios >= 10, `other tasks ran ${ios} I/O rounds while the call blocked a pool thread`);
    pool.close();
  } finally {
    libc.close();
  }
});

Deno.test("event loop stays live when completions are always ready (no microtask starvation)", async (t) => {
  for (const wait of MODES) {
    await t.step(wait, async () => {
      await using scheduler = new coro.Scheduler({ wait });
      let stop = false;
      let rounds = 0;
      // NOPs complete inside the submitting call, so without a budget the scheduler would chain
      // microtask steps forever and starve Deno's timers.
      for (let i = 0; i < 2; i++) {
        scheduler.spawn(async () => {
          while (!stop) {
            await coro.io.single(aio.nop());
            rounds++;
          }
        }, []);
      }
      const fired = await new Promise<number>((resolve) => {
        const t0 = performance.now();
        setTimeout(() => resolve(since(t0)), 10);
      });
      stop = true;
      await scheduler.run("wait");
      assert.ok(fired < 50, `a 10 ms timer fired after ${fired.toFixed(1)} ms`);
      assert.ok(rounds > 100, `${rounds} rounds`);
    });
  }
});
