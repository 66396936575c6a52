import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { startMosquitto } from "../correlator/mosquitto.js";

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

test.run();
