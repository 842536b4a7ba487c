// The per-OS ABI tables (ffi/abi.ts): Linux's checked against this machine's headers by the C
// compiler; macOS's and FreeBSD's against the header values they cite, and for consistency.
import { assert, dec } from "./_helpers.ts";
import { runs } from "./_helpers.ts";
import { type Abi, abiFor, DARWIN, FREEBSD, linuxAbi } from "../ffi/abi.ts";
import { ERRNO, MSG, O, O_LARGEFILE, POLL, SOCK } from "../ffi/linux.ts";

const source = new URL("./c/abi_linux.c", import.meta.url).pathname;
const haveCc = await runs("cc", ["--version"]);

function flatten(abi: Abi): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const [key, value] of Object.entries(abi)) {
    if (typeof value === "number") out.set(key, value);
    else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) out.set(`${key}.${k}`, v as number | null);
    }
  }
  return out;
}

Deno.test({
  name: "ABI: the Linux table matches this machine's headers (compiled with cc)",
  ignore: !haveCc || Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const exe = `${dir}/abi`;
      const cc = await new Deno.Command("cc", { args: ["-O0", "-o", exe, source] }).output();
      assert.ok(cc.success, dec.decode(cc.stderr));
      const truth = JSON.parse(dec.decode((await new Deno.Command(exe).output()).stdout)) as Record<string, number>;
      const table = flatten(linuxAbi(Deno.build.arch));
      let checked = 0;
      for (const [key, value] of Object.entries(truth)) {
        assert.equal(table.get(key), value, key);
        checked++;
      }
      assert.ok(checked >= 70, `${checked} values checked`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("ABI: the constants the backends use agree with the Linux table", () => {
  const abi = linuxAbi(Deno.build.arch);
  for (const k of ["CREAT", "EXCL", "NOCTTY", "TRUNC", "APPEND", "NONBLOCK", "DIRECTORY", "CLOEXEC"] as const) {
    assert.equal(O[k], abi.O[k], `O_${k}`);
  }
  assert.equal(O_LARGEFILE, Deno.build.arch === "aarch64" ? 0o400000 : 0o100000);
  for (const k of ["OOB", "PEEK", "DONTROUTE", "TRUNC", "DONTWAIT", "EOR", "WAITALL", "NOSIGNAL"] as const) {
    assert.equal(MSG[k], abi.MSG[k], `MSG_${k}`);
  }
  assert.equal(SOCK.NONBLOCK, abi.SOCK.NONBLOCK);
  assert.equal(SOCK.CLOEXEC, abi.SOCK.CLOEXEC);
  for (const k of ["IN", "PRI", "OUT", "ERR", "HUP"] as const) assert.equal(POLL[k], abi.POLL[k]);
  for (const [name, value] of Object.entries(abi.errno)) assert.equal(ERRNO[name], value, name);
});

Deno.test("ABI: macOS and FreeBSD tables hold their headers' values and are consistent", () => {
  for (const [name, abi] of [["darwin", DARWIN], ["freebsd", FREEBSD]] as const) {
    assert.equal(abiFor(name), abi);
    assert.equal(abi.errnoSymbol, "__error");
    // 4.4BSD's sockaddr_in: sin_len, sin_family (one byte each), port, address; 16 bytes.
    assert.deepEqual(
      [abi.sockaddrIn.hasLen, abi.sockaddrIn.family, abi.sockaddrIn.familySize, abi.sockaddrIn.size],
      [1, 1, 1, 16],
    );
    // int msg_iovlen and socklen_t msg_controllen: 48 bytes, flags at 44.
    assert.equal(abi.msghdr.size, 48);
    assert.equal(abi.msghdr.flags, 44);
    assert.equal(abi.SOL_SOCKET, 0xffff);
    assert.equal(abi.SO.ERROR, 0x1007);
    assert.equal(abi.O.NONBLOCK, 0x4);
    assert.equal(abi.MSG.DONTWAIT, 0x80);
    assert.equal(abi.errno.EAGAIN, 35);
    assert.equal(abi.errno.EINPROGRESS, 36);
    // Every flag a distinct bit.
    const flags = Object.entries(abi.O).filter(([k]) => !["RDONLY", "WRONLY", "RDWR"].includes(k)).map(([, v]) => v);
    assert.equal(flags.reduce((a, b) => a | b, 0).toString(2).split("1").length - 1, flags.length);
  }
  assert.equal(DARWIN.readinessEvent.size, 32); // struct kevent
  assert.equal(FREEBSD.readinessEvent.size, 64); // struct kevent with ext[4] (FreeBSD 12+)
  assert.equal(DARWIN.AF.INET6, 30);
  assert.equal(FREEBSD.AF.INET6, 28);
  assert.equal(DARWIN.SOCK.CLOEXEC, null); // macOS's socket(2) takes no type flags
  assert.equal(FREEBSD.SOCK.CLOEXEC, 0x10000000);
  assert.equal(DARWIN.errno.EOPNOTSUPP, 102);
  assert.equal(FREEBSD.errno.EOPNOTSUPP, 45);
  assert.equal(FREEBSD.errno.ETIME, null);
  assert.deepEqual([DARWIN.SO.NOSIGPIPE, FREEBSD.SO.NOSIGPIPE], [0x1022, 0x800]);
});
