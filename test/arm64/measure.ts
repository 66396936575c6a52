// Measures the agent's start-up time and memory natively and under arm64
// emulation, for the sizing section of docs/gateway.md. Prints a Markdown
// table with the median of RUNS runs of each command.
//
// Usage: npx tsx test/arm64/measure.ts [CAPTURE]   (after `npm run build`)
//   CAPTURE defaults to dcerpc/401trg_smb_at_schedule_atsvc.pcap under the
//   captures folder; give a path to measure another file.
import { cpus } from "node:os";
import { join } from "node:path";
import { capturesDir, repoRoot } from "../helpers/captures.js";
import { describeExit, prepareEmulator, runNode, type Emulator } from "./emulator.js";

const RUNS = 3;
const CLI = join(repoRoot, "bin/fieldsense.js");
const REPORT_USAGE = join(repoRoot, "test/arm64/report-usage.cjs");

interface Usage {
  rssBytes: number;
  maxRssBytes: number;
  heapUsedBytes: number;
  arrayBuffersBytes: number;
  wasmMemoryBytes: number;
  uptimeMs: number;
}

interface Sample {
  wallMs: number;
  usage: Usage;
}

async function sample(args: string[], emulator?: Emulator): Promise<Sample> {
  const run = await runNode(["--require", REPORT_USAGE, CLI, ...args], emulator);
  if (run.exitCode !== 0) throw new Error(describeExit(emulator ? "emulated" : "native", run));
  const line = run.stderr.split("\n").find((text) => text.startsWith('{"fieldsenseUsage"'));
  if (!line) throw new Error(`no usage line on stderr of fieldsense ${args.join(" ")}; stderr:\n${run.stderr}`);
  return { wallMs: run.wallMs, usage: (JSON.parse(line) as { fieldsenseUsage: Usage }).fieldsenseUsage };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mebibytes = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);
const seconds = (ms: number): string => (ms / 1000).toFixed(2);

async function measure(label: string, args: string[], emulator?: Emulator): Promise<string> {
  const samples: Sample[] = [];
  for (let run = 0; run < RUNS; run++) samples.push(await sample(args, emulator));
  const pick = (get: (s: Sample) => number) => median(samples.map(get));
  return `| ${label} | ${emulator ? "arm64, emulated" : `${process.arch}, native`} | ${seconds(pick((s) => s.wallMs))} | ` +
    `${mebibytes(pick((s) => s.usage.maxRssBytes))} | ${mebibytes(pick((s) => s.usage.heapUsedBytes))} | ` +
    `${mebibytes(pick((s) => s.usage.wasmMemoryBytes))} |`;
}

async function main(): Promise<void> {
  const preparation = prepareEmulator();
  if ("skipReason" in preparation) {
    console.error(preparation.skipReason);
    process.exit(1);
  }
  const { emulator } = preparation;
  const capture = process.argv[2] ?? join(capturesDir, "dcerpc/401trg_smb_at_schedule_atsvc.pcap");
  const replay = ["replay", capture, "--json", "--records", "--site", "measure", "--gateway", "measure"];

  console.log(`Host: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores; Node ${process.versions.node}; ` +
    `emulator ${emulator.qemu} -cpu ${emulator.cpu}; median of ${RUNS} runs\n`);
  console.log("| command | processor | wall time (s) | max RSS (MiB) | JS heap used (MiB) | wasm linear memory (MiB) |");
  console.log("|---|---|---|---|---|---|");
  for (const emulated of [undefined, emulator]) {
    console.log(await measure("`fieldsense --help`", ["--help"], emulated));
    console.log(await measure(`\`fieldsense replay\` ${capture.split("/").at(-1)}`, replay, emulated));
  }
}

await main();
