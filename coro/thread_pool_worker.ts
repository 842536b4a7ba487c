/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
// A ThreadPool Worker: imports the named module once and calls the named export.
const modules = new Map<string, Promise<Record<string, unknown>>>();

self.onmessage = async (e: MessageEvent<{ module: string; fn: string; args: unknown[] }>) => {
  const { module, fn, args } = e.data;
  try {
    let mod = modules.get(module);
    if (mod === undefined) {
      mod = import(module);
      modules.set(module, mod);
    }
    const f = (await mod)[fn];
    if (typeof f !== "function") throw new Error(`${module} has no function export ${fn}`);
    const value = await f(...args);
    try {
      self.postMessage({ ok: true, value });
    } catch (err) {
      self.postMessage({ ok: false, value: new Error(`the result cannot be sent back: ${(err as Error).message}`) });
    }
  } catch (err) {
    try {
      self.postMessage({ ok: false, value: err });
    } catch {
      // The error does not survive structured cloning: send what describes it.
      const e = err as { name?: unknown; message?: unknown; stack?: unknown };
      self.postMessage({ ok: false, value: new Error(`${String(e?.name ?? "Error")}: ${String(e?.message ?? err)}`) });
    }
  }
};
