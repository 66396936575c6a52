import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { startMosquitto } from "../correlator/mosquitto.js";
import { demoCapturePath } from "../../agent/src/config/paths.js";
import { startBroker } from "../../agent/src/publish/embedded-broker.js";

const RUNNER = join(repoRoot, "test", "cli", "run-cli.mts");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`correlator stops cleanly on ${signal}`, async () => {
    const broker = await startMosquitto();
    if (!broker) return;
    const dir = mkdtempSync(join(tmpdir(), "fieldsense-signal-"));
    try {
      const child = spawn(process.execPath, ["--import", "tsx", RUNNER, "correlator", "--broker", broker.url, "--db", join(dir, "c.db")], {
        cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

      const deadline = Date.now() + 15_000;
      while (!stderr.includes("correlator running") && child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(stderr, "correlator running", `the correlator did not start: ${stderr}`);
      child.kill(signal);
      assert.is(await exited, 0, stderr);
      assert.match(stderr, "correlator stopped");
      assert.ok(existsSync(join(dir, "c.db")));
    } finally {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// plant-scene.pcap spans 75 s of packet time and raises its first alert at
// 40 s, so at --speed 4 the replay is still running, about 9 s before its end,
// when the signal comes after that alert.
for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
  test(`replay to a broker stops on ${signal} with a summary`, async () => {
    const broker = await startBroker();
    try {
      const child = spawn(process.execPath, ["--import", "tsx", RUNNER, "replay", demoCapturePath(), "--speed", "4", "--broker", `mqtt://127.0.0.1:${broker.port}`], {
        cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
      child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));

      // The first alert shows that the replay runs and publishes.
      const deadline = Date.now() + 30_000;
      while (!stdout.includes("score") && child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(stdout, "score", `the replay printed no alert: ${stderr}`);
      child.kill(signal);
      assert.is(await exited, code, stderr);
      assert.match(stderr, `${signal} received: stopping the replay`);
      assert.match(stderr, /records: \d+/, "the summary is printed");
      assert.match(stderr, /published to mqtt:\/\/127\.0\.0\.1:\d+: \d+ alerts and \d+ records acknowledged, 0 failed, 0 unacknowledged/);
      assert.match(stderr, `replay stopped by ${signal} before the end of the captures`);
    } finally {
      await broker.close();
    }
  });
}

test.run();
