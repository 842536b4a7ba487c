// `deno task stress`: the long integrity and soak runs (issue #7), once per backend, each in a
// process of its own. Figures are recorded in tests/stress/README.md.
//
//   deno task stress                          io_uring and posix on Linux (iocp on Windows),
//                                             1 GiB each way and 10 million operations
//   AIO_BACKEND=posix deno task stress        one backend
//   deno task stress --bytes=N --ops=N        smaller (or larger) runs; also --seed=N, --only=tcp|file
//                                             (integrity), --sample=N (soak), --skip=integrity|soak
//
// Exits non-zero when any run finds a mismatch or growth beyond its bounds.
const here = new URL(".", import.meta.url).pathname.replace(/^\/([A-Za-z]:)/, "$1");
const chosen = Deno.env.get("AIO_BACKEND");
const backends = chosen && chosen !== "auto"
  ? [chosen]
  : Deno.build.os === "windows"
  ? ["iocp"]
  : ["io_uring", "posix"];
const integrityArgs = Deno.args.filter((a) => /^--(bytes|seed|only)=/.test(a));
const soakArgs = Deno.args.filter((a) => /^--(ops|sample)=/.test(a));
const skip = Deno.args.find((a) => a.startsWith("--skip="))?.slice(7);
for (const a of Deno.args) {
  if (!/^--(bytes|seed|only|ops|sample|skip)=/.test(a)) throw new Error(`unknown argument ${a}`);
}

const failed: string[] = [];
for (const backend of backends) {
  for (const [name, args] of [["integrity", integrityArgs], ["soak", soakArgs]] as const) {
    if (skip === name) continue;
    console.log(`\n=== ${name}, backend ${backend} ===`);
    const status = await new Deno.Command(Deno.execPath(), {
      // -A: Deno 2 wants every permission for reading /proc/self.
      args: [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        `${here}${name}.ts`,
        ...args,
      ],
      // No update check: it would open sockets and files of its own in the middle of the soak.
      env: { AIO_BACKEND: backend, DENO_NO_UPDATE_CHECK: "1" },
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) failed.push(`${name} on ${backend} (exit ${status.code})`);
  }
}
console.log(failed.length === 0 ? "\nstress: all passed" : `\nstress: FAILED: ${failed.join(", ")}`);
Deno.exit(failed.length === 0 ? 0 : 1);
