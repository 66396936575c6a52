// The live-test helper stops the agents it started when the test process is
// interrupted, so that an interrupted `npm test` leaves none running.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { waitFor } from "./live-agent.js";

// A stand-in for a test file: it starts a long-running child through
// trackChild, prints the child's pid, and waits to be interrupted.
const SCRIPT = `
import { spawn } from "node:child_process";
import { trackChild } from ${JSON.stringify(join(repoRoot, "test/agent/live-agent.ts"))};
const child = trackChild(spawn("sleep", ["300"], { stdio: "ignore" }));
console.log("child " + child.pid);
setInterval(() => {}, 1000);
`;

// True while `pid` runs; a zombie that its new parent has not reaped yet
// counts as ended.
function isRunning(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    const state = readFileSync(stat, "utf8").replace(/^.*\) /s, "")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`tracked child killed on ${signal}`, async () => {
    const parent = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", SCRIPT], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    parent.stdout!.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
    parent.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => parent.once("exit", (code) => resolve(code)));
    let childPid = 0;
    try {
      await waitFor("the stand-in test to start its child", () => /child \d+/.test(stdout) || parent.exitCode !== null, 60_000);
      childPid = Number(/child (\d+)/.exec(stdout)?.[1]);
      assert.ok(childPid > 0, `no child pid in ${JSON.stringify(stdout)} ${stderr}`);
      assert.ok(isRunning(childPid), "the child runs before the interrupt");

      parent.kill(signal);
      const code = await exited;
      assert.is(code, 128 + (signal === "SIGTERM" ? 15 : 2), stderr);
      await waitFor(`child ${childPid} to end`, () => !isRunning(childPid), 10_000);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL");
      if (childPid > 0 && isRunning(childPid)) process.kill(childPid, "SIGKILL");
    }
  });
}

test.run();
