// io_uring refused by seccomp, as Docker's default profile does: io_uring alone is a typed error
// that says why, and `auto` falls back to posix and says so.
import { aio, assert, dec } from "./_helpers.ts";
import { runs } from "./_helpers.ts";

const tool = new URL("../../shared/tools/no-io-uring/run", import.meta.url).pathname;
const haveTool = await Deno.stat(tool).then(() => true, () => false);
const haveCc = await runs("cc", ["--version"]);
// Without liburing the io_uring backend fails to load before any syscall: nothing to refuse.
const haveLiburing = await import("../ffi/liburing.ts").then((m) => {
  try {
    m.openLiburing();
    return true;
  } catch {
    return false;
  }
});

Deno.test({
  name: "io_uring refused by seccomp (EPERM): BackendError PermissionDenied; auto falls back to posix, saying why",
  ignore: !haveTool || !haveCc || !haveLiburing || Deno.build.os !== "linux",
  async fn() {
    const code = `import { aio } from "${new URL("../mod.ts", import.meta.url)}";
      for (const backend of ["io_uring", "auto"]) {
        try {
          const work = new aio.Dynamic({ backend });
          const op = aio.nop();
          work.queue(op);
          work.completeAll();
          console.log(JSON.stringify({ backend: work.backend, ok: op.outError === null }));
          work.close();
        } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, errno: e.errno, message: e.message })); }
      }`;
    const out = await new Deno.Command(tool, {
      args: ["--", Deno.execPath(), "eval", code],
      env: { AIO_DEBUG: "" },
    }).output();
    const [forced, auto] = dec.decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(forced.name, "BackendError");
    assert.equal(forced.code, "PermissionDenied");
    assert.equal(forced.errno, "EPERM");
    assert.match(forced.message, /seccomp/);
    assert.deepEqual(auto, { backend: "posix", ok: true });
    // One line on stderr says that auto fell back, and why.
    const said = dec.decode(out.stderr).split("\n").filter((l) => l.startsWith("aio: "));
    assert.equal(said.length, 1, dec.decode(out.stderr));
    assert.match(said[0], /backend posix \(auto\): io_uring is unavailable: .*PermissionDenied \(EPERM\)/);
  },
});

// tests/run.ts also runs the whole suite with io_uring blocked and AIO_BACKEND=auto, expecting
// posix: this checks that the choice was the one expected.
const expected = Deno.env.get("AIO_EXPECT_BACKEND");
Deno.test({
  name: "auto chose the backend this run expects",
  ignore: expected === undefined,
  fn() {
    assert.equal(aio.currentBackend(), expected);
  },
});
