#!/usr/bin/env -S node --max-semi-space-size=2
// Loads the compiled CLI from dist/; `npm run build` produces it.
//
// --max-semi-space-size=2 caps each of V8's young-generation semi-spaces at
// 2 MiB (by default V8 sizes them from the heap limit). Measured with `/usr/bin/time -v
// node [FLAG] bin/fieldsense.js replay --json FILE` on the 2-core benchmark
// machine under load from other jobs: peak RSS 358-374 MiB -> 246 MiB on
// bench/corpus/many-flows-100000.pcap and 195-222 MiB -> 171-174 MiB on
// plant-mix-300000.pcap; user CPU time 3.7-4.0 s against 3.4-3.8 s on the
// plant mix, inside the spread of that load. V8 sizes the semi-spaces only
// at startup, so this flag cannot be set from this file. `env -S` needs GNU
// coreutils 8.30 or later. A plain `node bin/fieldsense.js`, as the systemd
// unit starts the agent, runs without the flag unless NODE_OPTIONS or the
// command line carries it.
//
// --heap-growing-percent=100 lets the old generation grow to twice the live
// heap of the last full collection before the next one. V8 otherwise picks
// a factor of up to 4 when collections are cheap, so the records and alerts
// of each batch that were promoted into the old generation pile up as
// garbage. Measured with `/usr/bin/time -f '%M KB %U'` on the same machine
// under load: peak RSS 282 -> 205 MiB on many-flows-100000.pcap, and
// 184-189 -> 148 MiB on plant-mix-300000.pcap with 3.1-3.2 s -> 3.2-3.3 s
// user CPU time (50 would save another 14 MiB there for 15% more CPU time).
// V8 reads the flag each time it sets the limit of the next collection:
// set here at run time it took effect as measured (Node 20.20.2), and it
// reaches a plain `node bin/fieldsense.js agent` as well.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";

setFlagsFromString("--heap-growing-percent=100");

const entry = new URL("../dist/agent/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(`fieldsense: ${fileURLToPath(entry)} not found; run "npm run build" in the package folder first\n`);
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
