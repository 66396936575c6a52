// `fieldsense extract CAPTURE --out DIR`: files written from real captures,
// checked with node:crypto against the core's SHA-256, the index, safe
// names, and no overwrite without --force.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { extractCommand } from "../../agent/src/cli/inspect.js";
import { type ExtractedFile, sanitiseName } from "../../agent/src/cli/extract.js";
import { capture } from "../helpers/captures.js";
import { withTmpfs } from "../helpers/tmpfs.js";

function quietOutput() {
  const lines = { stdout: "", stderr: "" };
  return { lines, output: { stdout: (t: string) => { lines.stdout += t; }, stderr: (t: string) => { lines.stderr += t; } } };
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

// 401trg_smb_psexec_add_user_svcctl.pcap: PSEXESVC.exe written to ADMIN$,
// then PsExec's stdout and stderr pipes.
test("extract psexec capture", async () => {
  const path = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (!path) return;
  const out = mkdtempSync(join(tmpdir(), "fieldsense-extract-"));
  try {
    const { lines, output } = quietOutput();
    const code = await extractCommand([path, "--out", out, "--json"], output);
    assert.is(code, 0);
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as ExtractedFile[];
    assert.equal(JSON.parse(lines.stdout), index);
    const binary = index.find((e) => e.path.endsWith("PSEXESVC.exe"));
    assert.ok(binary);
    assert.is(binary.file, "PSEXESVC.exe");
    assert.is(binary.type, "pe");
    assert.is(binary.share, "\\\\dc1\\ADMIN$");
    assert.is(binary.flow.dst.endsWith(":445"), true);
    const bytes = readFileSync(join(out, "PSEXESVC.exe"));
    assert.is(bytes.length, 145568);
    assert.is(sha256(bytes), binary.sha256);
    for (const entry of index.filter((e) => e.file !== undefined)) {
      assert.is(sha256(readFileSync(join(out, entry.file!))), entry.sha256);
    }
    // Only the written files and the index remain: no partial files.
    assert.equal(readdirSync(out).sort(), [...index.filter((e) => e.file).map((e) => e.file!), "index.json"].sort());
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// zeek_smb2readwrite.pcap: "pythonfile" read and "pythonfile2" written.
test("extract refuses overwrite without force", async () => {
  const path = capture("smb/zeek_smb2readwrite.pcap");
  if (!path) return;
  const out = mkdtempSync(join(tmpdir(), "fieldsense-extract-"));
  try {
    writeFileSync(join(out, "pythonfile"), "keep me");
    const first = quietOutput();
    assert.is(await extractCommand([path, "--out", out], first.output), 1);
    assert.is(readFileSync(join(out, "pythonfile"), "utf8"), "keep me");
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as ExtractedFile[];
    assert.is(index.find((e) => e.path === "pythonfile")?.skipped, "exists (use --force)");
    assert.is(index.find((e) => e.path === "pythonfile2")?.file, "pythonfile2");

    const again = quietOutput();
    try {
      await extractCommand([path, "--out", out], again.output);
      assert.unreachable("a second run without --force must fail");
    } catch (error) {
      assert.match((error as Error).message, /index\.json already exists/);
    }

    const forced = quietOutput();
    assert.is(await extractCommand([path, "--out", out, "--force"], forced.output), 0);
    assert.is(readFileSync(join(out, "pythonfile")).length, 16);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("extract options need captures", async () => {
  const { output } = quietOutput();
  try {
    await extractCommand(["--out", "/tmp/x"], output);
    assert.unreachable("--out without captures must fail");
  } catch (error) {
    assert.match((error as Error).message, /need capture files/);
  }
});

const names: [string, string][] = [
  ["..\\..\\Windows\\evil.exe", "evil.exe"],
  ["/etc/passwd", "passwd"],
  ["..", "file"],
  ["dir\\.bashrc", "bashrc"],
  ["Tasks\\a:b*c?.job", "a_b_c_.job"],
  ["", "file"],
  ["x".repeat(300), "x".repeat(200)],
];

for (const [path, expected] of names) {
  test(`sanitise name ${JSON.stringify(path.slice(0, 30))}`, () => {
    const name = sanitiseName(path);
    assert.is(name, expected);
    assert.not.match(name, /[\\/]/);
  });
}

test("extract keeps empty folder clean on bad capture", async () => {
  const out = mkdtempSync(join(tmpdir(), "fieldsense-extract-"));
  const bad = join(out, "bad.pcap");
  writeFileSync(bad, "not a capture at all");
  try {
    const { output } = quietOutput();
    await extractCommand([bad, "--out", join(out, "files")], output).then(
      () => assert.unreachable("an unreadable capture must fail"),
      (error: Error) => assert.match(error.message, /bad\.pcap/),
    );
    assert.is(existsSync(join(out, "files", "index.json")), false);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// The same psexec capture into a tmpfs of 100 KiB, too small for the
// 145,568 bytes of PSEXESVC.exe. Skipped where a tmpfs cannot be mounted.
test("extract on a full disk keeps the index", async () => {
  const path = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (!path) return;
  await withTmpfs("100k", async (out) => {
    const { lines, output } = quietOutput();
    const code = await extractCommand([path, "--out", out], output);
    assert.is(code, 1);
    assert.match(lines.stderr, `fieldsense: extraction stopped: writing ${out}/.fieldsense-partial-`);
    assert.match(lines.stderr, "ENOSPC");
    assert.match(lines.stderr, "give --out a folder on another disk");
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as ExtractedFile[];
    assert.match(lines.stderr, `index.json lists the ${index.filter((e) => e.file).length} files written before the failure`);
    // No partial file is left to take the space.
    assert.equal(readdirSync(out).sort(), [...index.filter((e) => e.file).map((e) => e.file!), "index.json"].sort());
  });
});

test.run();
