// Modbus records from public captures, compared with the logs Zeek and its
// ICSNPP plugin wrote for the same captures: rows are counted by function,
// PDU type and exception, the way Zeek's modbus.log names them.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { capture, expectedOutput } from "../helpers/captures.js";
import { countRecords, countZeekRows, readZeekModbusLog, runCapture } from "./run.js";

// Zeek's default tcp_inactivity_timeout: a TCP connection idle this long ends.
const ZEEK_TCP_INACTIVITY_SECONDS = 300;

test("modbus and non-modbus on port 502", async () => {
  // zeek_modbus-and-non-modbus-p502.pcap: one Modbus client (10.0.0.9, FC1,
  // FC3, FC5, FC6 to unit 10) beside DCE-RPC, TLS, HTTP, RDP and scanner
  // connections to port 502 that must not be taken for Modbus.
  const pcap = capture("modbus/zeek_modbus-and-non-modbus-p502.pcap");
  const log = expectedOutput("modbus/zeek_modbus-and-non-modbus-p502.modbus.log");
  if (!pcap || !log) return;
  const { modbus, counters, anomalies } = await runCapture(pcap);

  assert.equal(countRecords(modbus), countZeekRows(readZeekModbusLog(log)));
  assert.equal([...new Set(modbus.map((r) => `${r.src.ip}:${r.src.port}`))], ["10.0.0.9:3082"]);
  assert.is(counters["flows.modbus"], 1);
  // conn.log lists seven other connections to port 502; six carry payload
  // (the second one from 198.74.56.135:60293 has none), one anomaly each.
  assert.is(anomalies["modbus.non_modbus_on_port_502"], 6);
});

test("modbus gaps and bogus IP frame", async () => {
  // zeek_fuzz-1011_gaps_bogus_ip.pcap: six FC4 frames on one 5-tuple with
  // missing segments, a sequence number that jumps back and a frame whose IP
  // version is bogus. The frames are minutes apart, so Zeek split them into
  // four connections; the core gets Zeek's idle timeout to do the same.
  const pcap = capture("modbus/zeek_fuzz-1011_gaps_bogus_ip.pcap");
  const log = expectedOutput("modbus/zeek_fuzz-1011_gaps_bogus_ip.modbus.log");
  if (!pcap || !log) return;
  const { modbus } = await runCapture(pcap, { flowIdleTimeoutSec: ZEEK_TCP_INACTIVITY_SECONDS });

  assert.equal(countRecords(modbus), countZeekRows(readZeekModbusLog(log)));
  assert.equal(modbus.map((r) => r.fields.transaction_id), [1119, 2606, 6714, 12993, 17667]);
  assert.equal(modbus.filter((r) => r.fields.pdu_type === "request").map((r) => [r.fields.start_address, r.fields.quantity]), [[900, 147], [400, 100]]);
});

test("modbus icsnpp many function codes", async () => {
  // icsnpp_modbus_example_many_fc.pcap: nearly every public function code on
  // 127.0.0.1 and one FC3 exception ILLEGAL_DATA_ADDRESS. ICSNPP's modbus.log
  // comes from a Zeek script that writes a row only for responses ("Only log
  // upon replies"), so it is compared with our responses.
  const pcap = capture("modbus/icsnpp_modbus_example_many_fc.pcap");
  const log = expectedOutput("modbus/icsnpp_modbus_example_many_fc.modbus.log");
  if (!pcap || !log) return;
  const { modbus } = await runCapture(pcap);
  const responses = modbus.filter((r) => r.fields.pdu_type === "response");

  assert.equal(countRecords(responses), countZeekRows(readZeekModbusLog(log)));
  const requests = modbus.filter((r) => r.fields.pdu_type === "request");
  assert.ok(requests.length >= responses.length - 1, `${requests.length} requests for ${responses.length} responses`);
});

test("modbus icsnpp mask write and read/write registers", async () => {
  // Same capture: FC22 and FC23 values as ICSNPP's detail logs list them.
  const pcap = capture("modbus/icsnpp_modbus_example_many_fc.pcap");
  if (!pcap) return;
  const { modbus } = await runCapture(pcap);
  const maskWrites = modbus.filter((r) => r.fields.function_code === 22 && r.fields.pdu_type === "request");
  const readWrites = modbus.filter((r) => r.fields.function_code === 23 && r.fields.pdu_type === "request");

  assert.equal(maskWrites.map((r) => [r.fields.transaction_id, r.fields.start_address, r.fields.and_mask, r.fields.or_mask]), [[18, 10, 57005, 0], [19, 10, 65535, 57005]]);
  assert.equal(readWrites.map((r) => [r.fields.transaction_id, r.fields.read_start_address, r.fields.read_quantity, r.fields.write_start_address, r.fields.write_quantity]), [[20, 1, 1, 2, 1], [21, 1, 4, 2, 3]]);
});

test("modbus plant1 normal polling", async () => {
  // iti_plant1_modbus_normal_polling.pcap: one master polls 13 outstations
  // with FC1, FC2, FC4, FC15 and FC16, many ADUs per segment. The capture was
  // taken on the master, so every packet it sent carries a wrong IPv4 header
  // checksum and a wrong TCP checksum (checksum offload). Zeek drops packets
  // with a bad IP checksum unless run with -C, so its log (conn.log: 0
  // originator packets) has no REQ row at all. The core does not verify
  // checksums: our responses match Zeek's rows, and the requests come on top.
  const pcap = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  const log = expectedOutput("modbus/iti_plant1_modbus_normal_polling.modbus.log");
  if (!pcap || !log) return;
  const { modbus, anomalies } = await runCapture(pcap);
  const responses = modbus.filter((r) => r.fields.pdu_type === "response");
  const requests = modbus.filter((r) => r.fields.pdu_type === "request");
  const zeekRows = readZeekModbusLog(log);

  assert.ok(zeekRows.every((row) => row.pduType === "RESP"));
  assert.equal(countRecords(responses), countZeekRows(zeekRows));
  // A request is matched, still pending at the end, evicted from a full
  // table or replaced by a request with its transaction id. A response is
  // matched or unmatched.
  const unanswered = anomalies["modbus.unanswered_request"] ?? 0;
  const evicted = anomalies["modbus.pending_overflow"] ?? 0;
  const replaced = anomalies["modbus.duplicate_transaction_id"] ?? 0;
  const unmatched = anomalies["modbus.unmatched_response"] ?? 0;
  assert.is(requests.length - responses.length, unanswered + evicted + replaced - unmatched);
  assert.ok(requests.length > 7000, `${requests.length} requests`);
  assert.is(anomalies["modbus.length_mismatch"], undefined);
});

test("modbus suricata FC8 diagnostics and exceptions", async () => {
  // suricata_modbus_fc8_diag_fc43.pcap: FC8 sub-functions 4 (force listen
  // only), 1 (restart communications) and 10 (clear counters) to 10.0.0.3,
  // four of them answered with exception 11. Also FC17 twice, and FC43/14
  // twice without a response.
  const pcap = capture("modbus/suricata_modbus_fc8_diag_fc43.pcap");
  if (!pcap) return;
  const { modbus } = await runCapture(pcap);
  const diagnostics = modbus.filter((r) => r.fields.function_code === 8 && r.fields.pdu_type === "request");
  const count = (values: unknown[]) => values.reduce<Record<string, number>>((m, v) => ({ ...m, [String(v)]: (m[String(v)] ?? 0) + 1 }), {});

  assert.equal(count(diagnostics.map((r) => r.fields.sub_function_name)), {
    FORCE_LISTEN_ONLY_MODE: 3, RESTART_COMMUNICATIONS_OPTION: 3, CLEAR_COUNTERS_AND_DIAGNOSTIC_REGISTER: 2,
  });
  const exceptions = modbus.filter((r) => r.fields.exception_code !== undefined);
  const diagnosticsExceptions = exceptions.filter((r) => r.fields.function_code === 0x88);
  assert.equal(count(diagnosticsExceptions.map((r) => r.fields.exception)), { GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND: 4 });
  assert.ok(exceptions.every((r) => r.fields.pdu_type === "response"));
  assert.is(modbus.filter((r) => r.fields.function === "REPORT_SLAVE_ID").length, 4);
  assert.is(modbus.filter((r) => r.fields.function_code === 43 && r.fields.mei_type === 14).length, 2);
});

test("modbus server opened the connection", async () => {
  // Same capture: 10.0.0.8 opens a connection from port 502 to 10.0.0.57
  // and sends five exception 6 (busy) responses to FC1.
  const pcap = capture("modbus/suricata_modbus_fc8_diag_fc43.pcap");
  if (!pcap) return;
  const { modbus } = await runCapture(pcap);
  const busy = modbus.filter((r) => r.fields.function_code === 0x81);

  assert.is(busy.length, 5);
  assert.ok(busy.every((r) => r.fields.pdu_type === "response"));
  assert.ok(busy.every((r) => r.fields.exception === "SLAVE_DEVICE_BUSY"));
  assert.ok(busy.every((r) => r.src.ip === "10.0.0.8" && r.src.port === 502));
});

test("modbus 4SICS length mismatch", async () => {
  // zeek_4SICS-min_length_mismatch.pcap: an FC23 request with MBAP length
  // 254 whose byte count (191) matches neither its write quantity nor the
  // bytes present, answered with exception 10.
  const pcap = capture("modbus/zeek_4SICS-min_length_mismatch.pcap");
  if (!pcap) return;
  const { modbus, anomalies } = await runCapture(pcap);

  assert.is(modbus.length, 2);
  assert.is(modbus[0].fields.function, "READ_WRITE_MULTIPLE_REGISTERS");
  assert.is(modbus[0].fields.byte_count, 191);
  assert.is(modbus[0].fields.anomaly, "modbus.length_mismatch");
  assert.is(modbus[1].fields.exception, "GATEWAY_PATH_UNAVAILABLE");
  assert.is(anomalies["modbus.length_mismatch"], 1);
});

test("modbus FC43/14 device identification capture", async () => {
  // zeek_modbus-eit_fc43_device_id.pcap: two basic device identification
  // requests; the first reply has no objects (and four stray bytes), the
  // second is exception 4.
  const pcap = capture("modbus/zeek_modbus-eit_fc43_device_id.pcap");
  if (!pcap) return;
  const { modbus } = await runCapture(pcap);

  assert.equal(modbus.map((r) => [r.fields.pdu_type, r.fields.unit_id, r.fields.function]), [
    ["request", 0, "ENCAP_INTERFACE_TRANSPORT"],
    ["response", 0, "ENCAP_INTERFACE_TRANSPORT"],
    ["request", 255, "ENCAP_INTERFACE_TRANSPORT"],
    ["response", 255, "ENCAP_INTERFACE_TRANSPORT_EXCEPTION"],
  ]);
  assert.is(modbus[0].fields.read_device_id_code, 1);
  assert.is(modbus[3].fields.exception, "SLAVE_DEVICE_FAILURE");
});

test("modbus small coils against zeek events", async () => {
  // zeek_modbusSmall_coils.pcap: 16 connections where client and server
  // share one address, each one FC15 or FC1 exchange. Zeek's test printed
  // one modbus_message event per PDU with the originator port, transaction
  // id, function code and whether the originator sent it.
  const pcap = capture("modbus/zeek_modbusSmall_coils.pcap");
  const events = expectedOutput("modbus/zeek_modbusSmall_coils.output.txt");
  if (!pcap || !events) return;
  const { modbus } = await runCapture(pcap);

  const expected: string[] = [];
  for (const line of readFileSync(events, "utf8").split("\n")) {
    const m = /^1 modbus_message, .*orig_p=(\d+)\/tcp.*\[tid=(\d+), pid=0, uid=(\d+), function_code=(\d+), len=\d+\], ([TF])$/.exec(line);
    if (m) expected.push(`${m[1]} ${m[2]} ${m[3]} ${m[4]} ${m[5] === "T" ? "request" : "response"}`);
  }
  const ours = modbus.map((r) => `${r.src.port} ${r.fields.transaction_id} ${r.fields.unit_id} ${r.fields.function_code} ${r.fields.pdu_type}`);
  assert.is(expected.length, 32);
  assert.equal(ours.sort(), expected.sort());
});

test.run();
