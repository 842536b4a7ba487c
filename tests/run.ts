// Runs the whole test suite once per backend that can run here, with identical expectations,
// and ends with one line `N passed, M failed`.
//
//   deno task test                      every available backend
//   AIO_REQUIRE_BACKENDS=io_uring,posix,posix-poll,fallback,iocp ...
//                                       fail when a listed run cannot happen (CI); "fallback" is
//                                       the suite under auto with io_uring blocked by seccomp,
//                                       "posix-poll" posix with poll() instead of epoll, "iocp"
//                                       on Linux the Windows deno under Wine
//   deno task test --filter links       extra arguments go to `deno test`
import { Dynamic } from "../aio/dynamic.ts";
import type { BackendName } from "../aio/backend.ts";

const BACKENDS: BackendName[] = ["io_uring", "posix", "iocp"];

// One more run: the whole suite with io_uring refused by a seccomp filter (Docker's default) and
// AIO_BACKEND=auto, which must fall back to posix. Named in AIO_REQUIRE_BACKENDS as "fallback".
const FALLBACK = "fallback";
const POSIX_POLL = "posix-poll";
const blocker = new URL("../../shared/tools/no-io-uring/run", import.meta.url).pathname;
// On Linux, iocp runs under Wine: the Windows deno.exe, through the shared tool (its README says
// how to install it, and what differs from real Windows).
const windeno = new URL("../../shared/tools/windows/windeno", import.meta.url).pathname;

async function wineAvailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "Wine runs the Windows deno on Linux only";
  if (!(await Deno.stat(windeno).then(() => true, () => false))) return `${windeno} is missing`;
  const exe = `${Deno.env.get("WINDENO_DIR") ?? "/opt/windeno"}/deno.exe`;
  if (!(await Deno.stat(exe).then(() => true, () => false))) {
    return `${exe} is missing: run ../shared/tools/windows/setup.sh`;
  }
  return undefined;
}

function available(name: BackendName): string | undefined {
  try {
    new Dynamic({ backend: name, capacity: 1, debug: false }).close();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

async function fallbackAvailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "io_uring exists only on Linux";
  if (!(await Deno.stat(blocker).then(() => true, () => false))) return `${blocker} is missing`;
  const cc = await new Deno.Command("cc", { args: ["--version"] }).output().then((o) => o.success, () => false);
  return cc ? undefined : "the seccomp filter needs cc to build";
}

const required = (Deno.env.get("AIO_REQUIRE_BACKENDS") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const unknown = required.filter((r) => r !== FALLBACK && r !== POSIX_POLL && !BACKENDS.includes(r as BackendName));
let passed = 0;
let failed = 0;
const problems: string[] = [];
for (const u of unknown) problems.push(`AIO_REQUIRE_BACKENDS names ${u}, which this build does not have`);

const runs: { name: string; reason: string | undefined; command: string[]; env: Record<string, string> }[] = BACKENDS
  .map((backend) => ({
    name: backend,
    reason: available(backend),
    command: [Deno.execPath()],
    env: { AIO_BACKEND: backend },
  }));
const iocp = runs.find((r) => r.name === "iocp")!;
if (iocp.reason !== undefined && Deno.build.os !== "windows") {
  const why = await wineAvailable();
  if (why === undefined) iocp.command = [windeno];
  iocp.reason = why === undefined ? undefined : `${iocp.reason}, and not under Wine: ${why}`;
}
// posix again with poll(), the portable readiness floor (what a POSIX system without epoll or
// kqueue would use), so that it is tested here too.
runs.push({
  name: POSIX_POLL,
  reason: runs.find((r) => r.name === "posix")?.reason,
  command: [Deno.execPath()],
  env: { AIO_BACKEND: "posix", AIO_POSIX_READINESS: "poll" },
});
runs.push({
  name: FALLBACK,
  reason: await fallbackAvailable(),
  command: [blocker, "--", Deno.execPath()],
  env: { AIO_BACKEND: "auto", AIO_EXPECT_BACKEND: "posix" },
});

for (const run of runs) {
  if (run.reason !== undefined) {
    console.log(`${run.name}: skipped, ${run.reason}`);
    if (required.includes(run.name)) problems.push(`${run.name} is required but could not run: ${run.reason}`);
    continue;
  }
  const title = run.name === FALLBACK
    ? "auto with io_uring blocked by seccomp"
    : run.name === POSIX_POLL
    ? "backend posix, poll() readiness"
    : run.command[0] === windeno
    ? "backend iocp, the Windows deno under Wine"
    : `backend ${run.name}`;
  console.log(`\n=== ${title} ===`);
  const args = [
    "test",
    "--allow-ffi",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-net",
    "--v8-flags=--expose-gc",
    ...Deno.args,
    "tests/",
  ];
  const [program, ...prefix] = run.command;
  const child = new Deno.Command(program, {
    args: [...prefix, ...args],
    env: { ...run.env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  const reader = child.stdout.getReader();
  const copied = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      await Deno.stdout.write(value);
      tail = (tail + decoder.decode(value, { stream: true })).slice(-4000);
    }
  })();
  const status = await child.status;
  // Under Wine the wineserver may keep the pipe open after the process exits: stop reading once
  // what was written has had time to arrive.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([copied, new Promise((r) => timer = setTimeout(r, 3000))]);
  clearTimeout(timer);
  await reader.cancel().catch(() => {});
  await copied.catch(() => {});
  const m = tail.match(/(\d+) passed.*?\| (\d+) failed/);
  if (!m) {
    problems.push(`${run.name}: deno test printed no summary (exit ${status.code})`);
    failed++;
    continue;
  }
  passed += Number(m[1]);
  failed += Number(m[2]);
  if (!status.success && Number(m[2]) === 0) problems.push(`${run.name}: deno test exited ${status.code}`);
  console.log(`${run.name}: ${m[1]} passed, ${m[2]} failed`);
}

for (const p of problems) console.log(`error: ${p}`);
if (passed + failed === 0) problems.push("no test ran");
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 || problems.length > 0 ? 1 : 0);
