// A stand-in gateway agent for the SIGKILL test, run as a child process:
//   publish URL OUTBOX_DIR COUNT  journals and publishes COUNT numbered alerts,
//                                 printing "journaled N" after each append
//   replay URL OUTBOX_DIR         sends what the journal holds, then exits
import { Publisher } from "../../agent/src/publish/publisher.js";
import { numberedAlert } from "./helpers.js";

const [mode, url, outboxDir, countText] = process.argv.slice(2);
if (!url || !outboxDir || (mode !== "publish" && mode !== "replay")) {
  console.error("usage: agent-child.ts publish|replay URL OUTBOX_DIR [COUNT]");
  process.exit(2);
}

const publisher = await Publisher.start({ url, site: "plant-a", gateway: "gw-1", outboxDir, maxInFlight: 50, fsync: "never" });
if (mode === "publish") {
  const count = Number(countText);
  for (let i = 0; i < count; i++) {
    publisher.publish(numberedAlert(i));
    // Pipes to the parent are written synchronously on Linux, so a line
    // printed here is never lost by the SIGKILL that follows.
    process.stdout.write(`journaled ${i}\n`);
    // Pauses let PUBACKs arrive while alerts are still being journaled.
    if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await publisher.drain();
  process.stdout.write("done\n");
} else {
  process.stdout.write(`replaying ${publisher.outbox.depth}\n`);
  await publisher.drain();
  process.stdout.write("drained\n");
}
await publisher.close();
