// Terminal behaviour: the replay progress bar appears on a terminal (tmux)
// and not in a pipe; colour follows the terminal and NO_COLOR.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { useColour } from "../../agent/src/cli/args.js";
import { ProgressBar } from "../../agent/src/cli/progress.js";

const RUNNER = join(repoRoot, "test", "cli", "run-cli.mts");
// Built by test/fixtures/demo/make-sample.ts: 125 packets of Modbus, SMB and
// DCE-RPC traffic of a small plant over 75 seconds.
const SAMPLE = join(repoRoot, "test", "fixtures", "demo", "plant-scene.pcap");

test("progress bar shows rate and time left", () => {
  let now = 1_000;
  const bar = new ProgressBar(10_000_000, () => undefined, () => now);
  now += 2_000;
  const line = bar.render(4_000_000, now);
  assert.match(line, "[############..................]  40%");
  assert.match(line, "2.0 MB/s");
  assert.match(line, "0:03 left");
  assert.match(bar.render(0, now), "--:-- left");
});

test("progress bar redraws at most every 200 ms", () => {
  let now = 1_000;
  const writes: string[] = [];
  const bar = new ProgressBar(100, (text) => writes.push(text), () => now);
  bar.update(10);
  now += 50;
  bar.update(20);
  now += 200;
  bar.update(30);
  assert.is(writes.length, 2);
  bar.finish();
  assert.is(writes[2], "\r\x1b[K");
});

test("colour only on a terminal without NO_COLOR", () => {
  assert.is(useColour(true, {}), true);
  assert.is(useColour(false, {}), false);
  assert.is(useColour(undefined, {}), false);
  assert.is(useColour(true, { NO_COLOR: "1" }), false);
  // no-color.org: an empty NO_COLOR does not disable colour.
  assert.is(useColour(true, { NO_COLOR: "" }), true);
});

test("replay progress bar absent in a pipe", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", RUNNER, "replay", SAMPLE], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.is(code, 0, stderr);
  assert.not.match(stderr, "MB/s");
  assert.not.match(stderr, "\r");
});

test("replay progress bar on a terminal", async () => {
  if (spawnSync("tmux", ["-V"]).status !== 0) {
    console.log("  skipped replay progress bar on a terminal: tmux is not installed (Debian package tmux)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-tty-"));
  const server = join(dir, "tmux.sock");
  const go = join(dir, "go");
  const log = join(dir, "pane.log");
  const script = join(dir, "run.sh");
  // The command waits for `go`, so that pipe-pane records from its first byte.
  writeFileSync(script, [
    "#!/bin/sh",
    `while [ ! -f '${go}' ]; do sleep 0.05; done`,
    `cd '${repoRoot}' && '${process.execPath}' --import tsx '${RUNNER}' replay '${SAMPLE}' >/dev/null`,
    `echo "exit=$?"`,
    "sleep 0.3",
  ].join("\n") + "\n", { mode: 0o755 });
  const tmux = (...args: string[]) => execFileSync("tmux", ["-S", server, ...args], { encoding: "utf8" });
  try {
    tmux("new-session", "-d", "-s", "replay", "-x", "120", "-y", "20", script);
    tmux("pipe-pane", "-o", "-t", "replay", `cat >> '${log}'`);
    writeFileSync(go, "");
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && spawnSync("tmux", ["-S", server, "has-session", "-t", "replay"]).status === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const output = existsSync(log) ? readFileSync(log, "utf8") : "";
    assert.match(output, "exit=0", output);
    assert.match(output, "MB/s");
    assert.match(output, " left");
    assert.match(output, "\r\x1b[K", "the bar is cleared before the summary");
    assert.match(output, "packets");
  } finally {
    spawnSync("tmux", ["-S", server, "kill-server"]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
