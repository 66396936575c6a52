// Helpers shared by the live-capture tests: prerequisites, the CLI run in
// this process, and the agent run as a child process from its sources.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { loadPcap } from "../../agent/src/capture/live.js";
import { main } from "../../agent/src/cli/main.js";

const RUNNER = join(repoRoot, "test", "cli", "run-cli.mts");

// The modbus-write-not-master model establishes a master after 10 requests
// over 5 seconds (models/modbus-write-not-master.yaml); 16 polls 450 ms
// apart span about 7 seconds.
export const POLLS = 16;
export const POLL_INTERVAL_MS = 450;

// Reasons this machine cannot run a live-capture test, or undefined.
export function missingLivePrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return "live capture needs root (or CAP_NET_RAW) and the privilege drop needs root";
  try {
    loadPcap();
  } catch (error) {
    return (error as Error).message;
  }
  if (nobodyUid() === undefined) return "no user nobody in /etc/passwd";
  return undefined;
}

// User id of nobody, the user the agent switches to in these tests.
export function nobodyUid(): number | undefined {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((entry) => entry.startsWith("nobody:"));
  return line === undefined ? undefined : Number(line.split(":")[2]);
}

// Writes `dir`/agent.yaml: the given lines, then user nobody, a data folder
// and a control socket inside `dir`. The folder and the file are made
// readable by all, because the agent rereads its configuration on SIGHUP
// after it has switched to nobody.
export function writeAgentConfig(dir: string, lines: string[]): { config: string; socket: string } {
  const socket = join(dir, "run", "agent.sock");
  const config = join(dir, "agent.yaml");
  writeFileSync(config, [
    ...lines,
    "user: nobody",
    `data_dir: ${join(dir, "data")}`,
    "control:",
    `  socket: ${socket}`,
  ].join("\n") + "\n");
  chmodSync(dir, 0o755);
  chmodSync(config, 0o644);
  return { config, socket };
}

// Effective user id of a running process.
export function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("Uid:"));
  // Uid: real effective saved filesystem
  return Number(line?.split(/\s+/)[2]);
}

export async function runCli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

// Runs a command whose stdout claims to be a terminal, and returns its stdout.
export async function runCliOnTerminal(...argv: string[]): Promise<string> {
  let stdout = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: () => undefined, stdoutIsTTY: true });
  if (code !== 0) throw new Error(`fieldsense ${argv.join(" ")} exited with ${code}`);
  return stdout;
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface AgentProcess {
  child: ChildProcess;
  // Everything the agent wrote so far (stdout carries its pino log lines).
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

// Child processes still running, stopped when the test process exits or is
// interrupted, so that an interrupted run leaves no agent behind.
const runningChildren = new Set<ChildProcess>();
let cleanupInstalled = false;

function stopRunningChildren(): void {
  for (const child of runningChildren) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  runningChildren.clear();
}

// Registers `child` to be killed with SIGKILL when this process exits or gets
// SIGINT, SIGTERM or SIGHUP. Returns the child.
export function trackChild<T extends ChildProcess>(child: T): T {
  runningChildren.add(child);
  child.once("exit", () => runningChildren.delete(child));
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.on("exit", stopRunningChildren);
    for (const [signal, number] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]] as const) {
      process.on(signal, () => {
        stopRunningChildren();
        process.exit(128 + number);
      });
    }
  }
  return child;
}

// Starts `fieldsense agent ARGS...` and waits for its "agent running" log
// line, or for its exit. `wrapper` is a command line that runs node, such as
// ["ip", "netns", "exec", NAME] or a setpriv(1) call.
export async function startAgent(args: string[], wrapper: string[] = []): Promise<AgentProcess> {
  const command = [...wrapper, process.execPath, "--import", "tsx", RUNNER, "agent", ...args];
  const child = trackChild(spawn(command[0], command.slice(1), { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] }));
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await waitFor("the agent to run", () => stdout.includes('"agent running"') || child.exitCode !== null, 60_000);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

// Spawns a `fieldsense` command as its own process (for --follow, which runs
// until a signal).
export function spawnCli(args: string[]): ChildProcess {
  return trackChild(spawn(process.execPath, ["--import", "tsx", RUNNER, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] }));
}
