// Blocking code for the ThreadPool test: zig-aio's docs example (sleeps, then returns 69).
export function blockingCode(ms: number): number {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: a real blocking call
  }
  return 69;
}

export function fails(): never {
  throw new Error("boom");
}

export function throwsUncloneable(): never {
  throw { fn() {} }; // a function inside: structured clone fails on it
}
