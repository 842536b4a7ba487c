// Child of faults_test.ts: leaves operations pending and ends the process in the way named by
// Deno.args[0]. The parent checks the exit code and that the process ended by itself.
import { aio } from "../../mod.ts";

const mode = Deno.args[0];
const work = new aio.Dynamic({ capacity: 16 });
const [r, w] = aio.posix.pipe();
const { fd: listener } = await (async () => {
  const s = aio.socket({
    domain: aio.constants.AF.INET,
    flags: aio.constants.SOCK.STREAM | aio.constants.SOCK.CLOEXEC,
    protocol: aio.constants.IPPROTO.TCP,
  });
  await aio.single(s);
  aio.posix.bind(s.outSocket, aio.ipv4("127.0.0.1", 0));
  aio.posix.listen(s.outSocket, 8);
  return { fd: s.outSocket };
})();
// Never completed: a read nobody writes to, an accept nobody connects to, a long timeout.
work.queue([
  aio.read({ file: r, buffer: new Uint8Array(16) }),
  aio.accept({ socket: listener }),
  aio.timeout({ ns: 60e9 }),
]);
work.complete("nonblocking");
// The immediate API too, with a pending operation of its own; awaiting it parks, which keeps the
// process alive (as any pending I/O promise does), so "return" leaves it out.
if (mode !== "return") void aio.single(aio.timeout({ ns: 60e9 })).catch(() => {});
void w;

switch (mode) {
  case "exit": // Deno.exit while parked
    void work.completeAllAsync();
    setTimeout(() => Deno.exit(7), 20);
    break;
  case "exit-sync": // Deno.exit straight after queueing, nothing parked
    Deno.exit(5);
    break;
  case "throw": // an uncaught error while parked
    void work.completeAllAsync();
    setTimeout(() => {
      throw new Error("uncaught on purpose");
    }, 20);
    break;
  case "return": // main returns; only the immediate API's park would keep it alive
    break;
}
