// Runs the whole test suite once per backend that can run here, with identical expectations,
// and ends with one line `N passed, M failed`.
//
//   deno task test                      every available backend
//   AIO_REQUIRE_BACKENDS=io_uring ...   fail when a listed backend cannot run (CI)
//   deno task test --filter links       extra arguments go to `deno test`
import { Dynamic } from "../aio/dynamic.ts";
import type { BackendName } from "../aio/backend.ts";

// The backends built so far; posix and iocp join this list when they land.
const BACKENDS: BackendName[] = ["io_uring"];

function available(name: BackendName): string | undefined {
  try {
    new Dynamic({ backend: name, capacity: 1 }).close();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const required = (Deno.env.get("AIO_REQUIRE_BACKENDS") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const unknown = required.filter((r) => !BACKENDS.includes(r as BackendName));
let passed = 0;
let failed = 0;
const problems: string[] = [];
for (const u of unknown) problems.push(`AIO_REQUIRE_BACKENDS names ${u}, which this build does not have`);

for (const backend of BACKENDS) {
  const reason = available(backend);
  if (reason !== undefined) {
    console.log(`${backend}: skipped, ${reason}`);
    if (required.includes(backend)) problems.push(`${backend} is required but could not run: ${reason}`);
    continue;
  }
  console.log(`\n=== backend ${backend} ===`);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
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
    ],
    env: { AIO_BACKEND: backend, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    await Deno.stdout.write(chunk);
    tail = (tail + text).slice(-4000);
  }
  const status = await child.status;
  const m = tail.match(/(\d+) passed.*?\| (\d+) failed/);
  if (!m) {
    problems.push(`${backend}: deno test printed no summary (exit ${status.code})`);
    failed++;
    continue;
  }
  passed += Number(m[1]);
  failed += Number(m[2]);
  if (!status.success && Number(m[2]) === 0) problems.push(`${backend}: deno test exited ${status.code}`);
  console.log(`${backend}: ${m[1]} passed, ${m[2]} failed`);
}

for (const p of problems) console.log(`error: ${p}`);
if (passed + failed === 0) problems.push("no test ran");
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 || problems.length > 0 ? 1 : 0);
