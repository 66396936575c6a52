// File-transfer objects on public captures: names, sizes and types against
// Zeek's files.log, and each SHA-256 against the file that tshark's
// `--export-objects smb` reassembles on its own (skipped without tshark).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { capture, expectedOutput } from "../helpers/captures.js";
import { readZeekLog, runCaptureThroughCore } from "../helpers/core-run.js";

async function fileRecords(path: string): Promise<CoreRecord[]> {
  const run = await runCaptureThroughCore(path);
  return run.records.filter((r) => r.type === "file");
}

// SHA-256 of every object tshark exports, by its exported name (tshark names
// a file after its path, with "\" written as %5c). Undefined without tshark.
function tsharkDigests(path: string): Map<string, string> | undefined {
  const folder = mkdtempSync(join(tmpdir(), "fieldsense-objects-"));
  try {
    const result = spawnSync("tshark", ["-r", path, "-Q", "--export-objects", `smb,${folder}`], { encoding: "utf8" });
    if (result.error || result.status !== 0) {
      console.log(`  skipped: tshark --export-objects failed or is not installed (${result.error?.message ?? result.stderr})`);
      return undefined;
    }
    const digests = new Map<string, string>();
    for (const name of readdirSync(folder)) {
      digests.set(name.replace(/%5c/gi, "\\"), createHash("sha256").update(readFileSync(join(folder, name))).digest("hex"));
    }
    return digests;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

// zeek_smb2readwrite.pcap: a client reads "pythonfile" (16 bytes) and writes
// "pythonfile2" (7,000 bytes) on one SMB2 share.
test("zeek_smb2readwrite read and write", async () => {
  const path = capture("smb/zeek_smb2readwrite.pcap");
  const log = expectedOutput("smb/zeek_smb2readwrite.files.log");
  if (!path || !log) return;
  const files = await fileRecords(path);
  const expected = readZeekLog(log);
  assert.is(files.length, expected.length);
  for (const row of expected) {
    const file = files.find((f) => f.fields.name === row.filename);
    assert.ok(file, `no file record for ${row.filename}`);
    assert.is(file.fields.bytes_seen, Number(row.seen_bytes));
    assert.is(file.fields.bytes_missing, Number(row.missing_bytes));
    assert.is(file.fields.direction, row.is_orig === "T" ? "to_server" : "from_server");
    assert.is(file.fields.file_type, "text");
    assert.is(typeof file.fields.sha256, "string");
  }
});

// zeek_smb2.pcap: WP_SMBPlugin.pdf (1,508,939 bytes) uploaded in WRITEs far
// longer than the dissector's parse window.
test("zeek_smb2 upload hashed whole", async () => {
  const path = capture("smb/zeek_smb2.pcap");
  const log = expectedOutput("smb/zeek_smb2.files.log");
  if (!path || !log) return;
  const files = await fileRecords(path);
  const upload = readZeekLog(log)[0];
  const file = files.find((f) => f.fields.name === upload.filename);
  assert.ok(file);
  assert.is(file.fields.direction, "to_server");
  assert.is(file.fields.size, Number(upload.seen_bytes));
  assert.is(file.fields.bytes_seen, Number(upload.seen_bytes));
  assert.is(file.fields.bytes_missing, 0);
  assert.is(file.fields.file_type, "pdf");
  assert.is(file.fields.share, "\\\\10.0.0.12\\smb2");
  assert.is(file.fields.account, "CONTOSO\\Administrator");
  const digests = tsharkDigests(path);
  if (digests) assert.is(file.fields.sha256, digests.get(`\\${upload.filename}`));
});

// 401trg_smb_psexec_add_user_svcctl.pcap: PsExec copies PSEXESVC.exe to
// \\dc1\ADMIN$ before it creates the service.
test("psexec service binary to ADMIN$", async () => {
  const path = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (!path) return;
  const files = await fileRecords(path);
  const binary = files.find((f) => f.fields.name === "PSEXESVC.exe");
  assert.ok(binary);
  assert.is(binary.fields.share, "\\\\dc1\\ADMIN$");
  assert.is(binary.fields.path, "\\\\dc1\\ADMIN$\\PSEXESVC.exe");
  assert.is(binary.fields.file_type, "pe");
  assert.is(binary.fields.direction, "to_server");
  assert.is(binary.fields.bytes_missing, 0);
  assert.is(binary.fields.size, 145568);
  const digests = tsharkDigests(path);
  if (digests) assert.is(binary.fields.sha256, digests.get("\\PSEXESVC.exe"));
});

test.run();
