// What a new user sees from `fieldsense`: stdout closed or full, learning
// alerts summed up, --version, help help, and usage errors in plain words.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, copyFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BROKEN_PIPE_EXIT_CODE } from "../../agent/src/cli/args.js";
import { DEFAULT_BROKER_TIMEOUT_MS } from "../../agent/src/cli/help.js";
import { main } from "../../agent/src/cli/main.js";
import { demoCapturePath } from "../../agent/src/config/paths.js";
import { DEFAULT_ACK_TIMEOUT_MS } from "../../agent/src/publish/mqtt.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { withTmpfs } from "../helpers/tmpfs.js";

const RUNNER = join(repoRoot, "test", "cli", "run-cli.mts");
const SAMPLE = demoCapturePath();

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
    return { code, stdout, stderr };
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

// Runs the CLI in its own process with stdout on the file descriptor
// `stdout`, or on a pipe when it is undefined. `onStdout` receives the pipe,
// and destroying it plays a reader that went away.
function runProcess(argv: string[], stdout?: number, onStdout?: (pipe: NodeJS.ReadableStream & { destroy: () => void }) => void) {
  const child = spawn(process.execPath, ["--import", "tsx", RUNNER, ...argv], {
    cwd: repoRoot, stdio: ["ignore", stdout ?? "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  if (child.stdout && onStdout) onStdout(child.stdout as NodeJS.ReadableStream & { destroy: () => void });
  return new Promise<{ code: number | null; stderr: string }>((resolve) => child.once("close", (code) => resolve({ code, stderr })));
}

test("stdout reader gone stops quietly", async () => {
  // The reader closes its end before the first alert, so every write fails.
  const result = await runProcess(["replay", SAMPLE], undefined, (pipe) => pipe.destroy());
  assert.is(result.code, BROKEN_PIPE_EXIT_CODE, result.stderr);
  assert.not.match(result.stderr, "EPIPE");
  assert.not.match(result.stderr, "    at ");
});

test("stdout on a full device", async () => {
  let fd: number;
  try {
    fd = openSync("/dev/full", "w");
  } catch {
    console.log("  skipped: /dev/full cannot be opened on this system");
    return;
  }
  try {
    const result = await runProcess(["replay", SAMPLE], fd);
    assert.is(result.code, 1, result.stderr);
    assert.match(result.stderr, "fieldsense: cannot write to standard output: ENOSPC (no space left on device)");
    assert.not.match(result.stderr, "    at ", "a stack trace");
    assert.is(result.stderr.split("\n").filter((line) => line.includes("ENOSPC")).length, 1);
  } finally {
    closeSync(fd);
  }
});

test("learning alerts summed up per model", async () => {
  // iti_plant1_modbus_normal_polling.pcap: a Modbus master polling plant
  // devices, so every write comes while the masters are still being learned.
  const path = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!path) return;
  const human = await run(["replay", path]);
  assert.is(human.code, 0, human.stderr);
  assert.is(human.stdout.trim().split("\n").length, 1, human.stdout);
  assert.match(human.stdout, /^149 learning alerts of modbus-write-not-master \(score 28\), scored low because the device has no established Modbus or DNP3 master yet; --all shows them$/m);
  const all = await run(["replay", path, "--all"]);
  assert.is(all.stdout.split("\n").filter((line) => line.includes("score 28")).length, 149);
  assert.not.match(all.stdout, "--all shows them");
  const json = await run(["replay", path, "--json"]);
  assert.is(json.stdout.trim().split("\n").length, 149, "--json keeps every alert");
});

test("high-scored alerts printed in full", async () => {
  const result = await run(["replay", SAMPLE]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, "score 95  Executable or script written to an administrative share");
  assert.not.match(result.stdout, "learning alerts of");
});

test("version printed", async () => {
  const result = await run(["--version"]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /^fieldsense \d+\.\d+\.\d+\n$/);
});

test("help help explains help", async () => {
  const result = await run(["help", "help"]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, "Usage: fieldsense help [COMMAND]");
});

test("missing option value named", async () => {
  for (const option of ["--broker", "--site"]) {
    const result = await run(["replay", SAMPLE, option]);
    assert.is(result.code, 2);
    assert.match(result.stderr, `fieldsense: ${option} needs a value: write "${option} VALUE" or "${option}=VALUE"`);
    assert.not.match(result.stderr, "argument missing");
  }
});

test("invalid log level listed", async () => {
  const result = await run(["replay", SAMPLE], { FIELDSENSE_LOG_LEVEL: "loud" });
  assert.is(result.code, 1);
  assert.match(result.stderr, 'invalid FIELDSENSE_LOG_LEVEL="loud": use one of trace, debug, info, warn, error, fatal, silent');
  assert.not.match(result.stderr, "custom levels");
});

test("broker url without host rejected", async () => {
  for (const url of ["mqtt://", "mqtt:127.0.0.1", "mqtts://"]) {
    const result = await run(["replay", SAMPLE, "--broker", url]);
    assert.is(result.code, 2, url);
    assert.match(result.stderr, `invalid broker URL "${url}"`, url);
    assert.match(result.stderr, "mqtt://HOST:PORT or mqtts://HOST:PORT", url);
  }
});

test("empty model file named", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-models-"));
  try {
    const shipped = join(repoRoot, "models");
    for (const name of readdirSync(shipped)) copyFileSync(join(shipped, name), join(dir, name));
    writeFileSync(join(dir, "zz-empty.yaml"), "");
    const result = await run(["replay", SAMPLE, "--models", dir]);
    assert.is(result.code, 1);
    assert.match(result.stderr, `model file ${join(dir, "zz-empty.yaml")} is empty`);
    assert.not.match(result.stderr, "null");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("help timeout equals publisher default", () => {
  assert.is(DEFAULT_BROKER_TIMEOUT_MS, DEFAULT_ACK_TIMEOUT_MS);
});

// The demo capture into a packet ring on a tmpfs of 12 KiB, too small for
// its packets. Skipped where a tmpfs cannot be mounted.
test("replay ring on a full disk", async () => {
  await withTmpfs("12k", async (dir) => {
    const ring = join(dir, "ring");
    const result = await run(["replay", SAMPLE, "--ring", ring]);
    assert.is(result.code, 1, result.stderr);
    assert.match(result.stderr, /alerts: 5\n/, "the summary is printed");
    assert.match(result.stderr, new RegExp(`fieldsense: the packet ring in ${ring} did not store \\d+ packets, and keeps \\d+: writing failed: ENOSPC`));
    assert.match(result.stderr, "free space on that disk or give --ring a folder on another disk");
  });
});

test("timezone shifts the usual hour", async () => {
  const path = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!path) return;
  const hours = async (argv: string[]) => {
    const result = await run(["replay", path, "--json", ...argv]);
    assert.is(result.code, 0, result.stderr);
    return result.stdout.trim().split("\n").map((line) => JSON.parse(line).context.usual_hour as number | undefined);
  };
  const utc = await hours([]);
  const tokyo = await hours(["--timezone", "Asia/Tokyo"]);
  assert.is(tokyo.length, utc.length);
  assert.ok(utc.some((hour) => hour !== undefined), "some alerts carry a usual hour");
  // Japan has kept UTC+9 without daylight saving time since 1952.
  assert.equal(tokyo, utc.map((hour) => (hour === undefined ? undefined : (hour + 9) % 24)));
});

test("invalid timezone is a usage error", async () => {
  const result = await run(["replay", SAMPLE, "--timezone", "Europe/Berln"]);
  assert.is(result.code, 2);
  assert.match(result.stderr, '--timezone: invalid time zone "Europe/Berln"');
  assert.match(result.stderr, "such as Europe/Berlin or UTC");
});

test.run();
