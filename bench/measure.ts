// Runs commands under GNU time and summarises repeated runs. Each comparison
// runs its sides alternately within one run of the benchmark (A B C, B C A,
// C A B, ...) so that load from other programs falls on every side.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ProcessSample {
  wallSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  maxRssKiB: number;        // peak resident set size of the command, from wait4 via GNU time
  outputBytes: number;
  outputLines: number;
  stderrTail: string;
}

export interface Command {
  label: string;
  argv: string[];
  env?: Record<string, string>;
  // Shell form printed in BENCHMARKS.md, beside the figure.
  display: string;
}

let sequence = 0;

function countLines(path: string): number {
  const bytes = readFileSync(path);
  let lines = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines += 1;
  return lines;
}

// Runs one command with its stdout written to a temporary file (every side
// pays for writing its output), and returns the times GNU time measured.
export async function runTimed(timeCommand: string, command: Command, cwd: string): Promise<ProcessSample> {
  sequence += 1;
  const base = join(tmpdir(), `fieldsense-bench-${process.pid}-${sequence}`);
  const statsPath = `${base}.time`;
  const outputPath = `${base}.out`;
  const outputFd = openSync(outputPath, "w");
  const started = performance.now();
  let stderr = "";
  const exitCode = await new Promise<number>((done, fail) => {
    const child = spawn(timeCommand, ["-f", "%e %U %S %M", "-o", statsPath, ...command.argv], {
      cwd,
      env: { ...process.env, ...command.env },
      stdio: ["ignore", outputFd, "pipe"],
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on("error", fail);
    child.on("close", (code) => done(code ?? 1));
  });
  const wallSeconds = (performance.now() - started) / 1000;
  closeSync(outputFd);
  try {
    const statsText = readFileSync(statsPath, "utf8").trim().split("\n").pop() ?? "";
    const [, user, system, rss] = statsText.split(/\s+/).map(Number);
    if (exitCode !== 0) {
      throw new Error(`${command.label} failed with exit code ${exitCode}: ${command.display}\n${stderr.trim().split("\n").slice(-5).join("\n")}`);
    }
    if (![user, system, rss].every(Number.isFinite)) {
      throw new Error(`unexpected GNU time output for ${command.label}: "${statsText}"`);
    }
    return {
      wallSeconds, userSeconds: user, systemSeconds: system, maxRssKiB: rss,
      outputBytes: statSync(outputPath).size, outputLines: countLines(outputPath),
      stderrTail: stderr.trim().split("\n").slice(-2).join(" | "),
    };
  } finally {
    rmSync(statsPath, { force: true });
    rmSync(outputPath, { force: true });
  }
}

// Runs every command `runs` times, rotating the order on each round.
export async function alternate(timeCommand: string, commands: Command[], runs: number, cwd: string): Promise<Map<string, ProcessSample[]>> {
  const samples = new Map<string, ProcessSample[]>(commands.map((c) => [c.label, []]));
  for (let run = 0; run < runs; run++) {
    for (let k = 0; k < commands.length; k++) {
      const command = commands[(run + k) % commands.length];
      const sample = await runTimed(timeCommand, command, cwd);
      samples.get(command.label)!.push(sample);
      console.error(`bench:   run ${run + 1}/${runs} ${command.label}: ${sample.wallSeconds.toFixed(2)} s, ${Math.round(sample.maxRssKiB / 1024)} MiB peak RSS`);
    }
  }
  return samples;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarise(values: number[]): Summary {
  if (values.length === 0) throw new Error("cannot summarise an empty list of measurements");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

// Spread as the range of the runs relative to the median, in percent.
export function spreadPercent(summary: Summary): number {
  return summary.median === 0 ? 0 : ((summary.max - summary.min) / summary.median) * 100;
}

// Quotes an argument list for display as one shell command line.
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
