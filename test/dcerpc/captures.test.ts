// DCE-RPC on public captures: call records compared row for row with Zeek's
// dce_rpc.log (endpoint and operation, per connection, in order), and the
// operation evidence of the lateral-movement captures.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { capture, expectedOutput } from "../helpers/captures.js";
import { calls, readZeekLog, runCapture } from "./run.js";
import type { CoreRecord } from "../../agent/src/core/core.js";

interface Row { connection: string; endpoint: string; operation: string; rtt: string }

function zeekRows(log: string): Row[] {
  return readZeekLog(log).map((r) => ({
    connection: `${r["id.orig_h"]}:${r["id.orig_p"]}-${r["id.resp_h"]}:${r["id.resp_p"]}`,
    endpoint: r.endpoint, operation: r.operation, rtt: r.rtt,
  }));
}

// Calls whose interface came from an ept_map response have no row in Zeek,
// which names an interface only from a captured bind.
function ourRows(records: CoreRecord[]): Row[] {
  return calls(records).filter((r) => r.fields.endpoint_mapped !== true).map((r) => ({
    connection: `${r.src.ip}:${r.src.port}-${r.dst.ip}:${r.dst.port}`,
    endpoint: String(r.fields.interface ?? `unknown-${r.fields.interface_uuid}`),
    operation: String(r.fields.operation ?? `unknown-${r.fields.opnum}`),
    rtt: r.fields.rtt_us === undefined ? "-" : String(r.fields.rtt_us),
  }));
}

function byConnection(rows: Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const row of rows) {
    const list = out.get(row.connection) ?? [];
    list.push(row);
    out.set(row.connection, list);
  }
  return out;
}

// Compares per connection, in order. For a request still unanswered when the
// connection ends, Zeek writes the previous call's row a second time (same
// operation and rtt), so such a row is matched by endpoint only.
function assertParity(expected: Row[], actual: Row[], name: string, ignoredPorts: number[]): void {
  const want = byConnection(expected);
  const got = byConnection(actual.filter((row) => !ignoredPorts.includes(Number(row.connection.split(":").pop()))));
  assert.equal([...got.keys()].sort(), [...want.keys()].sort(), `${name}: connections with calls`);
  for (const [connection, rows] of want) {
    const ours = got.get(connection) ?? [];
    assert.is(ours.length, rows.length, `${name} ${connection}: number of calls`);
    rows.forEach((row, i) => {
      assert.is(ours[i].endpoint, row.endpoint, `${name} ${connection} call ${i}: endpoint`);
      const zeekRepeat = i > 0 && ours[i].rtt === "-" && row.operation === rows[i - 1].operation && row.rtt === rows[i - 1].rtt;
      if (!zeekRepeat) assert.is(ours[i].operation, row.operation, `${name} ${connection} call ${i}: operation`);
    });
  }
}

// [capture, Zeek log, responder ports whose calls the Zeek log leaves out]
const parityCases: [string, string, number[]][] = [
  // DRSUAPI over TCP port 1024: bind, alter_context, DRSBind, DRSCrackNames, DRSUnbind (domain join).
  ["dcerpc/zeek_cs_window7-join_stream092_drsuapi.pcap", "dcerpc/zeek_cs_window7-join_stream092_drsuapi.dce_rpc.log", []],
  // pcapng, one netlogon NetrLogonSamLogonWithFlags over TCP, the capture starts without a handshake.
  ["dcerpc/zeek_dce_rpc_netlogon.pcapng", "dcerpc/zeek_dce_rpc_netlogon.dce_rpc.log", []],
  // Exchange MAPI over TCP: epmapper ept_map/ept_lookup, nspi, exchange_mapi with NTLM binds. The
  // capture also contains lsarpc calls over SMB1 on port 139 that Zeek's baseline has no rows for.
  ["dcerpc/zeek_mapi_tcp.pcap", "dcerpc/zeek_mapi_tcp.dce_rpc.log", [139]],
  // SMB1 transaction on the \lsarpc pipe carrying dssetup DsRolerGetPrimaryDomainInformation.
  ["dcerpc/zeek_smb1_trans_dssetup.cap", "dcerpc/zeek_smb1_trans_dssetup.dce_rpc.log", []],
];

for (const [file, log, ignoredPorts] of parityCases) {
  test(`dcerpc parity with Zeek: ${file}`, async () => {
    const path = capture(file);
    const expected = expectedOutput(log);
    if (!path || !expected) return;
    const result = await runCapture(path);
    assertParity(zeekRows(expected), ourRows(result.records), file, ignoredPorts);
  });
}

test("dcerpc drsuapi tcp names pipe from bind_ack", async () => {
  // Same capture as the parity case: the bind_ack secondary address is \PIPE\drsuapi.
  const path = capture("dcerpc/zeek_cs_window7-join_stream092_drsuapi.pcap");
  if (!path) return;
  const result = await runCapture(path);
  const rows = calls(result.records);
  assert.is(rows[0].fields.named_pipe, "\\PIPE\\drsuapi");
  assert.is(rows[0].fields.interface_uuid, "e3514235-4b06-11d1-ab04-00c04fc2dcd2");
  assert.is(rows[0].fields.opnum, 0);
  assert.ok(Number(rows[0].fields.rtt_us) > 5000, "DRSBind rtt near Zeek's 0.005544 s");
  assert.ok(Number(rows[0].fields.rtt_us) < 6000, "DRSBind rtt near Zeek's 0.005544 s");
});

test("dcerpc mapi calls carry the NTLM account", async () => {
  // Exchange MAPI capture: the exchange_mapi bind authenticates CNAMIS\ALeonard with NTLMSSP.
  const path = capture("dcerpc/zeek_mapi_tcp.pcap");
  if (!path) return;
  const result = await runCapture(path);
  const mapi = calls(result.records).filter((r) => r.fields.interface === "exchange_mapi" && r.fields.endpoint_mapped !== true);
  assert.ok(mapi.length > 0, "exchange_mapi calls present");
  for (const call of mapi) assert.is(call.fields.account, "CNAMIS\\ALeonard");
});

test("dcerpc mapi port learnt from ept_map", async () => {
  // Same capture: ept_map on port 135 maps exchange_mapi to 192.168.0.2:1032, and a
  // later connection to port 1032 starts before its bind was captured.
  const path = capture("dcerpc/zeek_mapi_tcp.pcap");
  if (!path) return;
  const result = await runCapture(path);
  const mapped = calls(result.records).filter((r) => r.fields.endpoint_mapped === true);
  assert.ok(mapped.length > 0, "calls recognised through the endpoint mapper");
  for (const call of mapped) {
    assert.is(call.dst.port, 1032);
    assert.is(call.fields.interface, "exchange_mapi");
    assert.is(call.fields.operation, "EcDoRpc");
    assert.is(call.fields.account, undefined, "no bind, so no NTLM account");
  }
  assert.ok((result.anomalies["dcerpc.context_unknown"] ?? 0) > 0, "calls before the ept_map response stay unnamed");
});

test("dcerpc atsvc NetrJobAdd command over smb2", async () => {
  // Remote AT job over SMB2 (NDR64 transfer syntax): NetrJobAdd schedules c:\mimikatz.exe.
  const path = capture("dcerpc/401trg_smb_at_schedule_atsvc.pcap");
  if (!path) return;
  const result = await runCapture(path);
  const jobs = calls(result.records).filter((r) => r.fields.operation === "NetrJobAdd");
  assert.is(jobs.length, 1);
  assert.is(jobs[0].fields.interface_uuid, "1ff70682-0a51-30e8-076d-740be8cee98b");
  assert.is(jobs[0].fields.command, "c:\\mimikatz.exe");
  assert.is(jobs[0].fields.named_pipe, "atsvc");
});

test("dcerpc psexec CreateServiceWOW64W evidence", async () => {
  // PsExec over SMB2: svcctl OpenSCManagerW, CreateServiceWOW64W (PSEXESVC), StartServiceW, and PsExec's own non-RPC pipes.
  const path = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (!path) return;
  const result = await runCapture(path);
  const created = calls(result.records).filter((r) => r.fields.operation === "CreateServiceWOW64W");
  assert.is(created.length, 1);
  assert.is(created[0].fields.service_name, "PSEXESVC");
  assert.ok(String(created[0].fields.binary_path).endsWith("PSEXESVC.exe"), `binary_path ${created[0].fields.binary_path}`);
  const started = calls(result.records).filter((r) => r.fields.operation === "StartServiceW");
  assert.is(started.length, 1);
});
test.run();
