// S7comm on ISO-on-TCP: the public captures compared with the logs CISA's
// ICSNPP-S7comm plugin wrote for them, the PLC STOP detection, and
// byte-built conversations for the framing corners (concatenated COTP
// TPDUs, COTP segmentation, S7comm-plus) and malformed input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { capture, expectedOutput } from "../helpers/captures.js";
import { readZeekLog } from "../helpers/core-run.js";
import { TcpConversation } from "../helpers/frames.js";
import {
  bareTpdu, connectionTpdu, dt, plcControl, plcStop, requestDownload, s7, s7plus, setupCommunication, tpkt,
  userDataData, userDataParameter, variableParameter,
} from "./build.js";
import { anomaliesOf, runCaptureWithModels, runFramesWithModels } from "./run.js";

const SNAP7 = "s7comm/icsnpp_s7comm_snap7.pcap";
const STOP = "s7comm/iti_step7_s300_plc_stop.pcap";

// ICSNPP-S7comm prints the PDU reference with its bytes swapped (Snap7
// counts in little-endian), so 0x0100 on the wire is its 1.
const icsnppReference = (reference: number): number => ((reference & 0xff) << 8) | (reference >> 8);
const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, "0")}`;
const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, "0")}`;

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

let nextPort = 49200;
function plc(serverPort = 102): TcpConversation {
  nextPort++;
  return new TcpConversation("10.3.0.20", nextPort, "10.3.0.10", serverPort).handshake();
}

const s7Records = (records: CoreRecord[]) => records.filter((r) => r.fields.protocol_variant === "s7comm");

test("s7comm snap7 functions match icsnpp", async () => {
  // icsnpp_s7comm_snap7.pcap: a Snap7 client reads SZLs, lists blocks,
  // uploads system data blocks, reads and sets the clock, reads and writes
  // variables, stops and restarts the PLC. ICSNPP writes one s7comm.log row
  // per job, ack-data and user-data PDU, but none for the one plain ack (the
  // start upload of OB 0 the PLC refused). Of the two-part SZL 0x001c response
  // it keeps only the follow-up's response, logged under the follow-up
  // request's reference, so the first part and the follow-up request are
  // left out of the comparison.
  const pcap = capture(SNAP7);
  const log = expectedOutput("s7comm/icsnpp_s7comm_snap7.s7comm.log");
  if (!pcap || !log) return;
  const { records, anomalies } = await runCaptureWithModels("s7comm", pcap);
  const pdus = s7Records(records);
  const rows = readZeekLog(log);

  const acks = pdus.filter((r) => r.fields.rosctr === 2);
  assert.is(acks.length, 1);
  assert.is(acks[0].fields.error_class, 0xd2);
  const multiPart = (r: CoreRecord) => r.fields.last_data_unit === false
    || (r.fields.pdu_type === "request" && r.fields.data_unit_reference !== undefined);
  assert.is(pdus.filter(multiPart).length, 2);
  const logged = pdus.filter((r) => r.fields.rosctr !== 2 && !multiPart(r));
  const ours = countBy(logged, (r) => `${r.fields.rosctr}/${hex2(r.fields.function_code as number)}`);
  const theirs = countBy(rows, (row) => `${row.rosctr_code}/${row.function_code}`);
  assert.equal(ours, theirs);
  assert.equal(logged.map((r) => icsnppReference(r.fields.pdu_reference as number)), rows.map((row) => Number(row.pdu_reference)));
  // Every response but the refused upload's matches a request by reference.
  assert.equal(anomaliesOf(anomalies, "s7comm."), {});
});

test("s7comm snap7 read szl matches icsnpp", async () => {
  // ICSNPP's s7comm_read_szl.log lists requests, and responses whose last
  // data unit arrived; the first part of the multi-part 0x001c response is
  // not in it.
  const pcap = capture(SNAP7);
  const log = expectedOutput("s7comm/icsnpp_s7comm_snap7.s7comm_read_szl.log");
  if (!pcap || !log) return;
  const { records } = await runCaptureWithModels("s7comm", pcap);
  const szl = records.filter((r) => r.fields.szl_id !== undefined && r.fields.last_data_unit !== false);
  const rows = readZeekLog(log);
  assert.equal(
    szl.map((r) => [r.fields.pdu_type === "request" ? "Request" : "Response", hex4(r.fields.szl_id as number), hex4(r.fields.szl_index as number)]),
    rows.map((row) => [row.method, row.szl_id, row.szl_index]),
  );
});

test("s7comm snap7 uploads match icsnpp", async () => {
  const pcap = capture(SNAP7);
  const log = expectedOutput("s7comm/icsnpp_s7comm_snap7.s7comm_upload_download.log");
  if (!pcap || !log) return;
  const { records } = await runCaptureWithModels("s7comm", pcap);
  const transfers = s7Records(records).filter((r) => r.fields.rosctr !== 2 && [0x1d, 0x1e, 0x1f].includes(r.fields.function_code as number));
  const rows = readZeekLog(log);
  assert.is(transfers.length, rows.length);

  const jobs = transfers.filter((r) => r.fields.rosctr === 1 && r.fields.function_code === 0x1d);
  const jobRows = rows.filter((row) => row.rosctr === "Job-Request" && row.function_name === "Start Upload");
  assert.equal(jobs.map((r) => r.fields.filename), jobRows.map((row) => row.filename));
  assert.equal(jobs.map((r) => r.fields.block_type), ["SDB", "SDB", "SDB", "SDB", "OB"]);
  assert.equal(jobs.map((r) => r.fields.block_number), jobRows.map((row) => Number(row.block_number)));
  assert.equal(jobs.map((r) => r.fields.destination_filesystem), jobRows.map(() => "A"));

  const started = transfers.filter((r) => r.fields.rosctr === 3 && r.fields.function_code === 0x1d);
  const startedRows = rows.filter((row) => row.rosctr === "ACK-Data" && row.function_name === "Start Upload");
  assert.equal(started.map((r) => [r.fields.upload_id, r.fields.block_length]), startedRows.map((row) => [Number(row.session_id), Number(row.blocklength)]));
});

test("s7comm snap7 identity from szl", async () => {
  // SZL 0x0011 names the order number and firmware, 0x001c the module,
  // its serial number and the "Original Siemens Equipment" copyright.
  const pcap = capture(SNAP7);
  if (!pcap) return;
  const { records } = await runCaptureWithModels("s7comm", pcap);
  const module = records.find((r) => r.fields.szl_id === 0x11 && r.fields.pdu_type === "response");
  assert.ok(module);
  assert.is(module.fields.product_code, "6ES7 315-2EH14-0AB0");
  assert.is(module.fields.revision, "3.2.7");
  const component = records.find((r) => r.fields.szl_id === 0x1c && r.fields.pdu_type === "response");
  assert.ok(component);
  assert.is(component.fields.vendor_name, "Siemens");
  assert.is(component.fields.product_name, "CPU 315-2 PN/DP");
  assert.is(component.fields.serial_number, "S C-B1U393142011");
  assert.is(component.fields.device_name, "PLC_1");
  assert.is(component.serverToClient, true);
});

test("s7comm snap7 variable item addresses", async () => {
  // The five-item write: MB0 as bytes, IW0 and QW0 as words, timer and counter.
  const pcap = capture(SNAP7);
  if (!pcap) return;
  const { records } = await runCaptureWithModels("s7comm", pcap);
  const write = records.find((r) => r.fields.function_code === 0x05 && r.fields.rosctr === 1 && r.fields.item_count === 5);
  assert.ok(write);
  assert.equal(write.fields.area_name, ["M", "I", "Q", "T", "C"]);
  assert.equal(write.fields.transport_size, [4, 2, 2, 29, 28]);
  assert.equal(write.fields.item_length, [16, 16, 16, 8, 8]);
  assert.equal(write.fields.start_byte, [0, 0, 0, 0, 0]);
  const reply = records.find((r) => r.fields.function_code === 0x05 && r.fields.rosctr === 3 && r.fields.item_count === 5);
  assert.ok(reply);
  assert.equal(reply.fields.return_code, [0xff, 0xff, 0xff, 3, 3]);
  assert.type(reply.fields.rtt_us, "number");
});

test("s7comm snap7 models fire", async () => {
  const pcap = capture(SNAP7);
  if (!pcap) return;
  const { alerts } = await runCaptureWithModels("s7comm", pcap);
  const fired = countBy(alerts, (a) => a.model);
  assert.is(fired["s7-plc-stop"], 1);
  assert.is(fired["s7-plc-start"], 1);
  assert.is(fired["s7-program-upload"], 5);
  // Two 0x0011 reads and one 0x001c read.
  assert.is(fired["s7-szl-identity-read"], 3);
  assert.is(fired["s7-block-delete"], undefined);
});

test("s7comm plc stop capture fires the stop model", async () => {
  // iti_step7_s300_plc_stop.pcap: STEP 7 on 134.249.62.199 stops an S7-300
  // (134.249.61.163); the PLC acknowledges and pushes its mode change.
  const pcap = capture(STOP);
  if (!pcap) return;
  const { records, alerts } = await runCaptureWithModels("s7comm", pcap);
  assert.is(records.length, 4);
  const stop = records[0];
  assert.is(stop.fields.function, "plc_stop");
  assert.is(stop.fields.pi_service, "P_PROGRAM");
  assert.equal(records.map((r) => r.fields.rosctr_name), ["job", "ack_data", "user_data", "user_data"]);
  assert.is(records[3].fields.function_group_name, "mode_transition");
  assert.is(records[3].fields.function, "stop");

  const stops = alerts.filter((a) => a.model === "s7-plc-stop");
  assert.is(stops.length, 1);
  assert.is(stops[0].record.src.ip, "134.249.62.199");
  assert.is(stops[0].record.dst.ip, "134.249.61.163");
  assert.is(stops[0].record.fields.function_code, 0x29);
});

test("s7comm cotp connection tsaps", async () => {
  // PG connection to rack 0, slot 2: called TSAP 0x0102.
  const c = plc()
    .fromClient(tpkt(connectionTpdu(0xe0, 0x0100, 0x0102)))
    .fromServer(tpkt(connectionTpdu(0xd0, 0x0100, 0x0102)))
    .fromClient(tpkt(dt(s7(1, 0x0400, setupCommunication(960)))))
    .fromServer(tpkt(dt(s7(3, 0x0400, setupCommunication(480)))));
  const { records, counters } = await runFramesWithModels("s7comm", c.frames);
  assert.is(counters["flows.s7comm"], 1);
  assert.equal(records.map((r) => r.fields.cotp_pdu ?? r.fields.function), ["CR", "CC", "setup_communication", "setup_communication"]);
  assert.is(records[0].fields.src_tsap, 0x0100);
  assert.is(records[0].fields.dst_tsap, 0x0102);
  assert.is(records[0].fields.rack, 0);
  assert.is(records[0].fields.slot, 2);
  assert.is(records[1].serverToClient, true);
  assert.is(records[2].fields.pdu_length, 960);
  assert.is(records[3].fields.pdu_length, 480);
  assert.is(records[3].fields.pdu_reference, 0x0400);
  assert.type(records[3].fields.rtt_us, "number");
});

test("s7comm two tpdus in one tpkt", async () => {
  // RFC 905 concatenation: a TPDU without data, then a DT whose data runs
  // to the end of the TPKT.
  const read = s7(1, 7, variableParameter(0x04, [{ area: 0x84, db: 12, byte: 34, bit: 5, transportSize: 1, count: 1 }]));
  const c = plc().fromClient(tpkt(bareTpdu(0x60), dt(read)));
  const { records } = await runFramesWithModels("s7comm", c.frames);
  assert.equal(records.map((r) => r.fields.cotp_pdu ?? r.fields.function), ["AK", "read_var"]);
  assert.is(records[1].fields.area_name, "DB");
  assert.is(records[1].fields.db_number, 12);
  assert.is(records[1].fields.start_byte, 34);
  assert.is(records[1].fields.start_bit, 5);
  assert.is(records[1].fields.transport_size, 1);
});

test("s7comm two tpkts in one segment", async () => {
  const first = tpkt(dt(s7(1, 1, plcControl("_INSE", [0, 0, 0, 0, 0, 0, 0xfd, 0, 0x0a, 0x01, 0x00, 0x30, 0x38, 0x30, 0x30, 0x30, 0x30, 0x31, 0x50]))));
  const second = tpkt(dt(s7(1, 2, plcControl("_DELE"))));
  const c = plc().fromClient([...first, ...second]);
  const { records, alerts } = await runFramesWithModels("s7comm", c.frames);
  assert.equal(records.map((r) => r.fields.pi_service), ["_INSE", "_DELE"]);
  assert.equal(alerts.map((a) => a.model), ["s7-block-delete"]);
});

test("s7comm cotp segments reassembled", async () => {
  // A request download split over three DT TPDUs, the last with EOT, each
  // TPKT in its own segment and the second TPKT split across two segments.
  const pdu = s7(1, 0x0900, requestDownload("_0800001P"));
  const parts = [pdu.slice(0, 7), pdu.slice(7, 20), pdu.slice(20)];
  const tpkts = parts.map((part, i) => tpkt(dt(part, i === parts.length - 1)));
  const c = plc().fromClient(tpkts[0]).fromClient(tpkts[1].slice(0, 5)).fromClient(tpkts[1].slice(5)).fromClient(tpkts[2]);
  const { records, alerts } = await runFramesWithModels("s7comm", c.frames);
  assert.is(records.length, 1);
  assert.is(records[0].fields.function, "request_download");
  assert.is(records[0].fields.filename, "_0800001P");
  assert.is(records[0].fields.block_type, "OB");
  assert.is(records[0].fields.block_number, 1);
  assert.is(records[0].fields.destination_filesystem, "P");
  assert.equal(alerts.map((a) => a.model), ["s7-program-download"]);
});

test("s7comm cotp reassembly limit", async () => {
  // Over 8 KiB of DT data without EOT is dropped; the next TSDU decodes.
  const c = plc();
  for (let i = 0; i < 10; i++) c.fromClient(tpkt(dt(new Array(1000).fill(0x32), false)));
  c.fromClient(tpkt(dt([0x32], true)));
  c.fromClient(tpkt(dt(s7(1, 3, plcStop()))));
  const { records, anomalies, alerts } = await runFramesWithModels("s7comm", c.frames);
  assert.is(anomalies["s7comm.cotp_reassembly_limit"], 1);
  assert.equal(records.map((r) => r.fields.function), ["plc_stop"]);
  assert.equal(alerts.map((a) => a.model), ["s7-plc-stop"]);
});

test("s7comm long tpkt parsed from its prefix", async () => {
  // A 6000-byte write var job in one TPKT: its header and items are decoded
  // from the first 4096 bytes, the rest is skipped, and the next PDU decodes.
  const write = s7(1, 0x20, variableParameter(0x05, [{ area: 0x84, db: 1, byte: 0, count: 5900 }]), [0x00, 0x04, ...[0x5c, 0xe0], ...new Array(5900).fill(0x11)]);
  const c = plc();
  const bytes = tpkt(dt(write));
  for (let at = 0; at < bytes.length; at += 1400) c.fromClient(bytes.slice(at, at + 1400));
  c.fromClient(tpkt(dt(s7(1, 0x21, plcStop()))));
  const { records, anomalies } = await runFramesWithModels("s7comm", c.frames);
  assert.is(anomalies["s7comm.tpkt_prefix_only"], 1);
  assert.equal(records.map((r) => r.fields.function), ["write_var", "plc_stop"]);
  assert.is(records[0].fields.db_number, 1);
  assert.is(records[0].fields.item_length, 5900);
  assert.is(records[0].fields.truncated, true);
});

test("s7comm security and szl user data", async () => {
  const password = s7(7, 0x10, userDataParameter(4, 5, 1), userDataData([0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27]));
  const szl = s7(7, 0x11, userDataParameter(4, 4, 1), userDataData([0x00, 0x1c, 0x00, 0x00]));
  const c = plc().fromClient(tpkt(dt(password))).fromClient(tpkt(dt(szl)));
  const { records, alerts } = await runFramesWithModels("s7comm", c.frames);
  assert.equal(records.map((r) => r.fields.function), ["set_password", "read_szl"]);
  assert.is(records[0].fields.function_group_name, "security");
  assert.is(records[1].fields.szl_id, 0x1c);
  assert.equal(alerts.map((a) => a.model), ["s7-password", "s7-szl-identity-read"]);
});

test("s7comm plus session recognised", async () => {
  // S7-1200/1500 session: COTP connection with a text TSAP, then S7comm-plus
  // version 1 create-object request and response, and a version 3 PDU with
  // its integrity part.
  const c = plc()
    .fromClient(tpkt(connectionTpdu(0xe0, 0x0600, 0x0600)))
    .fromServer(tpkt(connectionTpdu(0xd0, 0x0600, 0x0600)))
    .fromClient(tpkt(dt(s7plus(1, 0x31, 0x04ca, 1))))
    .fromServer(tpkt(dt(s7plus(1, 0x32, 0x04ca, 1))))
    .fromClient(tpkt(dt(s7plus(3, 0x31, 0x0542, 2, true))));
  const { records, anomalies } = await runFramesWithModels("s7comm", c.frames);
  const plus = records.filter((r) => r.fields.protocol_variant === "s7comm-plus");
  assert.is(plus.length, 3);
  assert.equal(plus.map((r) => r.fields.plus_version), [1, 1, 3]);
  assert.equal(plus.map((r) => r.fields.plus_opcode), [0x31, 0x32, 0x31]);
  assert.equal(plus.map((r) => r.fields.plus_function), [0x04ca, 0x04ca, 0x0542]);
  assert.equal(plus.map((r) => r.fields.pdu_type), ["request", "response", "request"]);
  assert.equal(anomaliesOf(anomalies, "s7comm."), {});
});

test("s7comm probe off port 102", async () => {
  // An S7comm DT on another port is claimed by content; an RDP connection
  // request (TPKT, COTP CR with a cookie) on 3389 is not.
  const s7Flow = plc(40102).fromClient(tpkt(dt(s7(1, 5, plcStop()))));
  const cookie = [..."Cookie: mstshash=admin\r\n"].map((ch) => ch.charCodeAt(0));
  const rdpCr = [6 + cookie.length, 0xe0, 0, 0, 0, 0, 0, ...cookie];
  const rdp = plc(3389).fromClient(tpkt(rdpCr)).fromClient(tpkt(dt([0x32, 0x01, 0x00])));
  const { records, counters } = await runFramesWithModels("s7comm", [...s7Flow.frames, ...rdp.frames]);
  assert.is(counters["flows.s7comm"], 1);
  assert.is(records.length, 1);
  assert.is(records[0].fields.function, "plc_stop");
  assert.is(records[0].dst.port, 40102);
});

test("s7comm truncated pdus do not trap", async () => {
  const c = plc()
    // S7 header cut after 6 bytes.
    .fromClient(tpkt(dt([0x32, 1, 0, 0, 0, 9])))
    // Parameter length beyond the PDU.
    .fromClient(tpkt(dt([0x32, 1, 0, 0, 0, 10, 0x01, 0x00, 0, 0, 0x04, 0x01])))
    // 200 items announced, one present.
    .fromClient(tpkt(dt(s7(1, 11, [0x04, 200, 0x12, 0x0a, 0x10, 2, 0, 1, 0, 1, 0x84, 0, 0, 0]))))
    // PI service length beyond the parameter.
    .fromClient(tpkt(dt(s7(1, 12, [0x29, 0, 0, 0, 0, 0, 40, 0x50]))))
    // Unknown protocol id in a DT, then an unknown ROSCTR.
    .fromClient(tpkt(dt([0x99, 1, 2, 3])))
    .fromClient(tpkt(dt(s7(5, 13, [0x04]))))
    // A second concatenated TPDU whose LI runs past the TPKT.
    .fromClient(tpkt(bareTpdu(0x60), [40, 0xf0, 0x80]))
    // The first LI beyond the TPKT: not a TPKT at all, so the stream ends here.
    .fromClient([3, 0, 0, 8, 30, 0xf0, 0x80, 0x32])
    .fromClient(tpkt(dt(s7(1, 14, plcStop()))));
  const { records, anomalies } = await runFramesWithModels("s7comm", c.frames);
  assert.is(anomalies["s7comm.pdu_truncated"], 2);
  assert.is(anomalies["s7comm.item_limit"], 1);
  assert.is(anomalies["s7comm.parameter_truncated"], 2);
  assert.is(anomalies["s7comm.unknown_protocol_id"], 1);
  assert.is(anomalies["s7comm.rosctr_unknown"], 1);
  assert.is(anomalies["s7comm.cotp_length_invalid"], 1);
  assert.is(anomalies["s7comm.tpkt_invalid"], 1);
  assert.equal(records.map((r) => r.fields.pdu_reference ?? r.fields.cotp_pdu), [10, 11, 12, 13, "AK"]);
  assert.is(records[0].fields.truncated, true);
  assert.is(records[1].fields.area_name, "DB");
});

test("s7comm garbage on port 102 is rejected", async () => {
  // Bytes that are not TPKT: the stream is rejected after one anomaly, and
  // random bytes afterwards are not parsed.
  const random = Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) & 0xff);
  const c = plc().fromClient([3, 0, 0, 30, 2, 0xf0, 0x80, 0x32, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    .fromClient(random).fromServer(random);
  const { records, anomalies } = await runFramesWithModels("s7comm", c.frames);
  assert.ok((anomalies["s7comm.tpkt_invalid"] ?? 0) >= 1);
  assert.ok(records.length <= 1);
});

test.run();
