// io_uring refused by seccomp, as Docker's default profile does: a typed error that says why.
import { aio, assert, dec } from "./_helpers.ts";

const tool = new URL("../../shared/tools/no-io-uring/run", import.meta.url).pathname;
const haveTool = await Deno.stat(tool).then(() => true, () => false);
const haveCc = await new Deno.Command("cc", { args: ["--version"] }).output().then((o) => o.success, () => false);

Deno.test({
  name: "io_uring refused by seccomp (EPERM): BackendError PermissionDenied, and auto says why",
  ignore: !haveTool || !haveCc || aio.currentBackend() !== "io_uring",
  async fn() {
    const code = `import { aio } from "${new URL("../mod.ts", import.meta.url)}";
      for (const backend of ["io_uring", "auto"]) {
        try { new aio.Dynamic({ backend }); console.log("created"); }
        catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, errno: e.errno, message: e.message })); }
      }`;
    const out = await new Deno.Command(tool, { args: ["--", Deno.execPath(), "eval", code] }).output();
    const [forced, auto] = dec.decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(forced.name, "BackendError");
    assert.equal(forced.code, "PermissionDenied");
    assert.equal(forced.errno, "EPERM");
    assert.match(forced.message, /seccomp/);
    // No fallback backend is built yet, so auto fails too, naming the reason.
    assert.equal(auto.name, "BackendError");
    assert.match(auto.message, /io_uring is unavailable .*PermissionDenied \(EPERM\)/);
  },
});
