// Mistakes a new user makes on the command line. Each one gets a message that
// names the value, the option or file, and the fix, never a raw Node error,
// and usage errors exit with 2.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import { createFolders, FolderError } from "../../agent/src/config/folders.js";
import { demoCapturePath } from "../../agent/src/config/paths.js";
import { repoRoot } from "../helpers/captures.js";

const dir = mkdtempSync(join(tmpdir(), "fieldsense-user-errors-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const SAMPLE = demoCapturePath();
const RUNNER = join(repoRoot, "test/cli/run-cli.mts");
// Node 20's recursive mkdir under /proc loops without end, so the commands
// that create folders there run in a child that a timeout can stop.
const CHILD_TIMEOUT_MS = 60_000;

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

function runChild(...argv: string[]): { code: number | null; stderr: string } {
  const child = spawnSync(process.execPath, ["--import", "tsx", RUNNER, ...argv], { cwd: repoRoot, encoding: "utf8", timeout: CHILD_TIMEOUT_MS });
  return { code: child.status, stderr: child.stderr };
}

test("negative speed and timeout", async () => {
  for (const option of ["--speed", "--timeout-ms"]) {
    const { code, stderr } = await run("replay", SAMPLE, option, "-5");
    assert.is(code, 2, option);
    assert.match(stderr, `invalid ${option} "-5": must be 0 or more`);
    assert.not.match(stderr, "ambiguous");
  }
});

test("dash value names equals form", async () => {
  const { code, stderr } = await run("replay", SAMPLE, "--site", "-north");
  assert.is(code, 2);
  assert.match(stderr, '"--site=-north"');
});

test("models option naming a file", async () => {
  const { code, stderr } = await run("replay", SAMPLE, "--models", SAMPLE);
  assert.is(code, 2);
  assert.match(stderr, `invalid --models "${SAMPLE}": it is a file, not a folder`);
  assert.not.match(stderr, "ENOTDIR");
});

test("ring option naming a file", async () => {
  const { code, stderr } = await run("replay", SAMPLE, "--ring", "/dev/null");
  assert.is(code, 1);
  assert.match(stderr, "invalid packet ring folder /dev/null: it is a file, not a folder");
  assert.not.match(stderr, "scandir");
});

test("config check of a folder", async () => {
  const { code, stderr } = await run("config", "check", dir);
  assert.is(code, 1);
  assert.match(stderr, `cannot read configuration file ${dir}: it is a folder`);
  assert.not.match(stderr, "--config");
});

test("config check port range", async () => {
  const file = join(dir, "port.yaml");
  writeFileSync(file, "ring:\n  truncate:\n    - port: 70000\n");
  const { code, stderr } = await run("config", "check", file);
  assert.is(code, 1);
  assert.match(stderr, "line 3: ring.truncate[0].port: 70000 is out of range; it must be at most 65535");
  assert.not.match(stderr, "- to -");
});

test("config check missing broker files", async () => {
  const present = join(dir, "present.pem");
  writeFileSync(present, "not a real certificate, only present\n");
  const keys = ["ca_file", "cert_file", "key_file", "password_file"];
  for (const [index, key] of keys.entries()) {
    const file = join(dir, `broker-${key}.yaml`);
    const others = keys.filter((other) => other !== key && other !== "password_file").map((other) => `  ${other}: ${present}\n`).join("");
    writeFileSync(file, `broker:\n  url: mqtts://127.0.0.1:8883\n${others}  ${key}: ${join(dir, "missing", `${index}.pem`)}\n`);
    const { code, stderr } = await run("config", "check", file);
    assert.is(code, 1, key);
    assert.match(stderr, `line ${others.split("\n").length + 2}: broker.${key}: ${join(dir, "missing", `${index}.pem`)} not found`);
  }

  const good = join(dir, "broker-good.yaml");
  writeFileSync(good, `broker:\n  url: mqtts://127.0.0.1:8883\n  ca_file: ${present}\n`);
  assert.is((await run("config", "check", good)).code, 0);
});

test("config check alias bomb", async () => {
  const file = join(dir, "bomb.yaml");
  let text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (let level = 1; level <= 8; level++) text += `a${level}: &a${level} [${Array(9).fill(`*a${level - 1}`).join(", ")}]\n`;
  writeFileSync(file, text);
  const { code, stderr } = await run("config", "check", file);
  assert.is(code, 1);
  assert.match(stderr, `${file} line 1: invalid YAML: its aliases (*name) expand`);
  assert.not.match(stderr, "resource exhaustion");
});

test("config check deep nesting", async () => {
  const file = join(dir, "deep.yaml");
  writeFileSync(file, `site: ${"[".repeat(5000)}${"]".repeat(5000)}\n`);
  const { code, stderr } = await run("config", "check", file);
  assert.is(code, 1);
  assert.match(stderr, `${file} line 1: invalid YAML: its lists or maps are nested too deeply`);
  assert.not.match(stderr, "call stack");
});

test("pcap invalid host and range", async () => {
  const host = await run("pcap", "--host", "999.1.1.1", "--ring", dir, "-o", join(dir, "x.pcapng"));
  assert.is(host.code, 2);
  assert.match(host.stderr, 'invalid --host "999.1.1.1"');

  const range = await run("pcap", "--from", "2030-01-01T00:00:00Z", "--to", "2020-01-01T00:00:00Z", "--ring", dir, "-o", join(dir, "x.pcapng"));
  assert.is(range.code, 2);
  assert.match(range.stderr, "--from 2030-01-01T00:00:00Z is after --to 2020-01-01T00:00:00Z");
});

test("pcap output folder or missing parent", async () => {
  const ring = join(dir, "ring");
  mkdirSync(ring);
  const folder = await run("pcap", "--host", "10.0.0.1", "--ring", ring, "-o", tmpdir());
  assert.is(folder.code, 2);
  assert.match(folder.stderr, `invalid -o ${tmpdir()}: it is a folder`);
  assert.not.match(folder.stderr, "EISDIR");

  const missingParent = join(dir, "absent", "x.pcapng");
  const missing = await run("pcap", "--host", "10.0.0.1", "--ring", ring, "-o", missingParent);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, `the folder ${join(dir, "absent")} does not exist`);
  assert.not.match(missing.stderr, "ENOENT");
});

test("folder under a file", () => {
  const file = join(dir, "plain-file");
  writeFileSync(file, "");
  try {
    createFolders(join(file, "a", "b"));
    assert.unreachable("a folder under a file was created");
  } catch (error) {
    assert.instance(error, FolderError);
    assert.is((error as FolderError).path, file);
    assert.match((error as FolderError).message, `${file} is a file, not a folder`);
  }
  createFolders(join(dir, "made", "deep"));
  createFolders(join(dir, "made", "deep"));
});

test("folders under /proc fail fast", () => {
  const cases: [string[], string][] = [
    [["demo", "--data", "/proc/fieldsense-x/data"], 'invalid --data "/proc/fieldsense-x/data": /proc cannot contain new folders'],
    [["extract", SAMPLE, "--out", "/proc/fieldsense-x"], 'invalid --out "/proc/fieldsense-x": /proc cannot contain new folders'],
    [["replay", SAMPLE, "--ring", "/proc/fieldsense-x"], "cannot create packet ring folder /proc/fieldsense-x: /proc cannot contain new folders"],
  ];
  for (const [argv, expected] of cases) {
    const { code, stderr } = runChild(...argv);
    assert.ok(code !== null, `${argv.join(" ")} did not end within ${CHILD_TIMEOUT_MS} ms`);
    assert.ok(code === 1 || code === 2, `${argv.join(" ")} exit code ${code}`);
    assert.match(stderr, expected);
  }
});

test.run();
