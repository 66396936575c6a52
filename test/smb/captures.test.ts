// SMB dissector on public captures, compared with Zeek's logs where the
// capture has them (expected/smb/*.log).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { capture, expectedOutput } from "../helpers/captures.js";
import { byCommand, readZeekLog, runCapture } from "./run.js";

const sum = (values: unknown[]) => values.reduce<number>((total, v) => total + Number(v), 0);

// zeek_smb2.pcap: a Windows client logs on with NTLM, maps \\10.0.0.12\smb2
// and IPC$, calls srvsvc over a pipe and uploads WP_SMBPlugin.pdf (1.5 MB).
test("zeek_smb2 logon, tree connects and upload", async () => {
  const path = capture("smb/zeek_smb2.pcap");
  const mapping = expectedOutput("smb/zeek_smb2.smb_mapping.log");
  const files = expectedOutput("smb/zeek_smb2.files.log");
  if (!path || !mapping || !files) return;
  const { smb, records } = await runCapture(path);

  const connects = byCommand(smb, "TREE_CONNECT");
  assert.equal(connects.map((r) => r.fields.share), readZeekLog(mapping).map((row) => row.path));
  assert.equal(connects.map((r) => r.fields.share_type), readZeekLog(mapping).map((row) => row.share_type));

  const setups = byCommand(smb, "SESSION_SETUP").filter((r) => r.fields.status === "STATUS_SUCCESS");
  assert.is(setups.length, 1);
  assert.is(setups[0].fields.user, "Administrator");
  assert.is(setups[0].fields.domain, "CONTOSO");
  assert.is(setups[0].fields.account, "CONTOSO\\Administrator");
  const authenticate = records.filter((r) => r.type === "ntlm" && r.fields.message_type === 3);
  assert.is(authenticate.length, 1);

  const upload = readZeekLog(files)[0];
  const writes = byCommand(smb, "WRITE").filter((r) => r.fields.path === upload.filename);
  assert.ok(writes.length > 1);
  assert.is(sum(writes.map((r) => r.fields.length)), Number(upload.seen_bytes));
  for (const w of writes) assert.is(w.fields.share, "\\\\10.0.0.12\\smb2");
  const close = byCommand(smb, "CLOSE").find((r) => r.fields.path === upload.filename);
  assert.is(close?.fields.file_size, Number(upload.seen_bytes));

  const pipeWrites = byCommand(smb, "WRITE").filter((r) => r.fields.named_pipe === "srvsvc");
  assert.ok(pipeWrites.length > 0);
});

// zeek_smb2_compound_payroll.pcap: CREATE/QUERY_INFO/CLOSE compound chains
// that browse a share and read "Test\2009-12 Payroll.xlsx".
test("zeek_smb2_compound_payroll compound chains", async () => {
  const path = capture("smb/zeek_smb2_compound_payroll.pcap");
  const expected = expectedOutput("smb/zeek_smb2_compound_payroll.smb_files.log");
  if (!path || !expected) return;
  const { smb, anomalies } = await runCapture(path);

  const creates = byCommand(smb, "CREATE");
  const paths = new Set(creates.map((r) => r.fields.path ?? "<share_root>"));
  for (const row of readZeekLog(expected)) assert.ok(paths.has(row.name), `missing CREATE of ${row.name}`);
  const payroll = creates.filter((r) => r.fields.path === "Test\\2009-12 Payroll.xlsx");
  assert.ok(payroll.length > 0);
  for (const r of payroll) assert.is(r.fields.file_size, 25940);
  const reads = byCommand(smb, "READ").filter((r) => r.fields.path === "Test\\2009-12 Payroll.xlsx");
  assert.is(sum(reads.map((r) => r.fields.length)), 25940);
  // Commands after a CREATE in a chain name the file through the related FileId.
  assert.ok(byCommand(smb, "QUERY_INFO").some((r) => r.fields.path === "Test\\2009-12 Payroll.xlsx"));
  assert.is(anomalies["smb.compound_offset_invalid"], undefined);
});

// zeek_smb2readwrite.pcap: starts after the logon and tree connect; a file is
// read (pythonfile) and another written (pythonfile2).
test("zeek_smb2readwrite midstream file names", async () => {
  const path = capture("smb/zeek_smb2readwrite.pcap");
  const expected = expectedOutput("smb/zeek_smb2readwrite.smb_files.log");
  const files = expectedOutput("smb/zeek_smb2readwrite.files.log");
  if (!path || !expected || !files) return;
  const { smb } = await runCapture(path);

  const created = new Set(byCommand(smb, "CREATE").map((r) => r.fields.path ?? "<share_root>"));
  for (const row of readZeekLog(expected)) assert.ok(created.has(row.name), `missing CREATE of ${row.name}`);
  for (const row of readZeekLog(files)) {
    const command = row.is_orig === "T" ? "WRITE" : "READ";
    const transfers = byCommand(smb, command).filter((r) => r.fields.path === row.filename);
    assert.is(sum(transfers.map((r) => r.fields.length)), Number(row.seen_bytes), `${command} bytes of ${row.filename}`);
  }
});

// zeek_smb3.pcap: SMB 3.0 NTLM logon as SUSE\administrator, two tree
// connects, then only encrypted (transform header) messages.
test("zeek_smb3 logon and encrypted messages", async () => {
  const path = capture("smb/zeek_smb3.pcap");
  const mapping = expectedOutput("smb/zeek_smb3.smb_mapping.log");
  if (!path || !mapping) return;
  const { smb, anomalies } = await runCapture(path);

  assert.is(byCommand(smb, "NEGOTIATE")[0]?.fields.dialect, "3.0");
  const connects = byCommand(smb, "TREE_CONNECT");
  assert.equal(connects.map((r) => r.fields.share), readZeekLog(mapping).map((row) => row.path));
  for (const r of smb) assert.is(r.fields.version, 3);
  const setup = byCommand(smb, "SESSION_SETUP").find((r) => r.fields.status === "STATUS_SUCCESS");
  assert.is(setup?.fields.account, "SUSE\\administrator");
  assert.ok((anomalies["smb.encrypted_message"] ?? 0) > 0);
});

// zeek_smb1_trans_dssetup.cap: SMB1 NT_CREATE_ANDX of \lsarpc, then
// SMB_COM_TRANSACTION TransactNmPipe calls carrying DCE-RPC (dssetup).
test("zeek_smb1_trans_dssetup pipe transactions", async () => {
  const path = capture("dcerpc/zeek_smb1_trans_dssetup.cap");
  if (!path) return;
  const { smb, records } = await runCapture(path);

  const create = byCommand(smb, "SMB_COM_NT_CREATE_ANDX");
  assert.is(create.length, 1);
  assert.is(create[0].fields.named_pipe, "\\lsarpc");
  const transactions = byCommand(smb, "SMB_COM_TRANSACTION");
  assert.is(transactions.length, 2);
  for (const t of transactions) {
    assert.is(t.fields.named_pipe, "\\lsarpc");
    assert.is(t.fields.subcommand, 0x26);
    assert.is(t.fields.version, 1);
  }
  const calls = records.filter((r) => r.type === "dcerpc" && r.fields.pdu_type === "request");
  assert.equal(calls.map((r) => r.fields.operation), ["DsRolerGetPrimaryDomainInformation"]);
  assert.is(calls[0].fields.interface, "dssetup");
});

// zeek_raw_ntlm_in_smb.pcap: SMB1 with raw NTLMSSP (no SPNEGO) session setup,
// IPC$ and a disk share, srvsvc and lsarpc pipes.
test("zeek_raw_ntlm_in_smb SMB1 trees and pipes", async () => {
  const path = capture("ntlm/zeek_raw_ntlm_in_smb.pcap");
  if (!path) return;
  const { smb, records } = await runCapture(path);

  const shares = byCommand(smb, "SMB_COM_TREE_CONNECT_ANDX").map((r) => r.fields.share);
  assert.ok(shares.includes("\\\\192.168.56.101\\IPC$"));
  assert.ok(shares.includes("\\\\192.168.56.101\\MY PICTURES"));
  const pipes = new Set(smb.map((r) => r.fields.named_pipe).filter((p) => p !== undefined));
  assert.ok(pipes.has("\\srvsvc"));
  assert.ok(pipes.has("\\lsarpc"));
  assert.ok(records.some((r) => r.type === "ntlm" && r.fields.message_type === 3));
});

// 401trg_smb_at_schedule_atsvc.pcap: starts at the CREATE of the atsvc pipe
// (no tree connect), then ATSVC NetrJobAdd schedules c:\mimikatz.exe.
test("401trg atsvc NetrJobAdd over a midstream pipe", async () => {
  const path = capture("dcerpc/401trg_smb_at_schedule_atsvc.pcap");
  if (!path) return;
  const { smb, records } = await runCapture(path);

  const writes = byCommand(smb, "WRITE");
  assert.ok(writes.length > 0);
  assert.is(writes[0].fields.named_pipe, "atsvc");
  const ioctl = byCommand(smb, "IOCTL");
  assert.is(ioctl[0]?.fields.ctl_code, "FSCTL_PIPE_TRANSCEIVE");
  const jobAdd = records.filter((r) => r.type === "dcerpc" && r.fields.operation === "NetrJobAdd");
  assert.is(jobAdd.length, 1);
  assert.is(jobAdd[0].fields.command, "c:\\mimikatz.exe");
  assert.is(jobAdd[0].fields.interface_uuid, "1ff70682-0a51-30e8-076d-740be8cee98b");
});

// 401trg_smb_psexec_add_user_svcctl.pcap: PsExec copies PSEXESVC.exe to
// ADMIN$, creates the service over svcctl and talks over its own pipes.
test("401trg psexec pipes without DCE-RPC", async () => {
  const path = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (!path) return;
  const { smb, records, anomalies } = await runCapture(path);

  const upload = byCommand(smb, "WRITE").filter((r) => r.fields.path === "PSEXESVC.exe");
  assert.ok(upload.length > 0);
  for (const w of upload) assert.is(w.fields.share, "\\\\dc1\\ADMIN$");
  const pipes = new Set(smb.map((r) => r.fields.named_pipe).filter((p) => p !== undefined));
  assert.ok(pipes.has("svcctl"));
  assert.ok(pipes.has("PSEXESVC-VICTIM-PC-2412-stdout"));
  // Only svcctl carries DCE-RPC; PsExec's own pipes are not handed to it.
  assert.ok(records.some((r) => r.type === "dcerpc" && r.fields.interface === "svcctl"));
  assert.is(anomalies["dcerpc.header_invalid"], undefined);
});

test.run();
