#!/usr/bin/env -S node --max-semi-space-size=2
// Loads the compiled CLI from dist/; `npm run build` produces it.
//
// --max-semi-space-size=2 caps each of V8's young-generation semi-spaces at
// 2 MiB (by default V8 sizes them from the heap limit). Measured with `/usr/bin/time -v
// node [FLAG] bin/fieldsense.js replay --json FILE` on the 2-core benchmark
// machine under load from other jobs: peak RSS 358-374 MiB -> 246 MiB on
// bench/corpus/many-flows-100000.pcap and 195-222 MiB -> 171-174 MiB on
// plant-mix-300000.pcap; user CPU time 3.7-4.0 s against 3.4-3.8 s on the
// plant mix, inside the spread of that load. V8 reads heap flags only at
// startup, so they cannot be set from this file. `env -S` needs GNU coreutils
// 8.30 or later. A plain `node bin/fieldsense.js`, as the systemd unit starts
// the agent, runs without the flag unless NODE_OPTIONS or the command line
// carries it.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/agent/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(`fieldsense: ${fileURLToPath(entry)} not found; run "npm run build" in the package folder first\n`);
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
