// Modbus function codes field by field, on hand-built conversations: the
// addresses, quantities and values of reads and writes, diagnostics, event
// counters, server id, file records, device identification, user-defined
// codes and Schneider Electric UMAS. Section numbers refer to MODBUS
// Application Protocol Specification V1.1b3.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation } from "../helpers/frames.js";
import { adu, anomaliesOf, runFrames, u16 } from "./run.js";

function conversation(): TcpConversation {
  return new TcpConversation("10.0.0.1", 50000, "10.0.0.2", 502).handshake();
}

const text = (s: string) => Array.from(new TextEncoder().encode(s));

test("modbus FC1 coil states trimmed to quantity", async () => {
  // 10 coils from 20: two bytes, the six high bits of the second are padding.
  const c = conversation();
  c.fromClient(adu(1, 1, [1, ...u16(20), ...u16(10)]));
  c.fromServer(adu(1, 1, [1, 2, 0b1100_1101, 0b1111_1101]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[1].fields.start_address, 20);
  assert.is(modbus[1].fields.quantity, 10);
  assert.equal(modbus[1].fields.values, [1, 0, 1, 1, 0, 0, 1, 1, 1, 0]);
  assert.equal(anomaliesOf(modbus[1]), []);
});

test("modbus FC2 without request keeps every bit", async () => {
  // The request was never seen, so the padding bits cannot be recognised.
  const c = conversation();
  c.fromServer(adu(9, 1, [2, 1, 0b0000_0101]));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus[0].fields.values, [1, 0, 1, 0, 0, 0, 0, 0]);
  assert.equal(anomaliesOf(modbus[0]), ["modbus.unmatched_response"]);
});

test("modbus FC3 and FC4 register values", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [3, ...u16(100), ...u16(3)]));
  c.fromServer(adu(1, 1, [3, 6, ...u16(0), ...u16(0xabcd), ...u16(65535)]));
  c.fromClient(adu(2, 1, [4, ...u16(7), ...u16(1)]));
  c.fromServer(adu(2, 1, [4, 2, ...u16(1234)]));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus[1].fields.values, [0, 0xabcd, 65535]);
  assert.is(modbus[1].fields.start_address, 100);
  assert.is(modbus[3].fields.values, 1234);
  assert.is(modbus[3].fields.start_address, 7);
});

test("modbus FC3 byte count disagrees with quantity", async () => {
  // Three registers asked for, two returned with a consistent MBAP length.
  const c = conversation();
  c.fromClient(adu(1, 1, [3, ...u16(0), ...u16(3)]));
  c.fromServer(adu(1, 1, [3, 4, ...u16(1), ...u16(2)]));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.equal(anomaliesOf(modbus[1]), ["modbus.length_mismatch"]);
  assert.equal(modbus[1].fields.values, [1, 2]);
  assert.is(anomalies["modbus.length_mismatch"], 1);
});

test("modbus byte count beyond PDU", async () => {
  // Byte count 8, but the MBAP length leaves room for 4 bytes only: the
  // values present are written and the mismatch noted once.
  const c = conversation();
  c.fromClient(adu(1, 1, [3, ...u16(0), ...u16(4)]));
  c.fromServer(adu(1, 1, [3, 8, ...u16(5), ...u16(6)]));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.equal(modbus[1].fields.values, [5, 6]);
  assert.equal(anomaliesOf(modbus[1]), ["modbus.length_mismatch"]);
  assert.is(anomalies["modbus.length_mismatch"], 1);
});

test("modbus FC5 and FC6 write values", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [5, ...u16(33), 0xff, 0x00]));
  c.fromServer(adu(1, 1, [5, ...u16(33), 0xff, 0x00]));
  c.fromClient(adu(2, 1, [6, ...u16(17), ...u16(0x1234)]));
  c.fromServer(adu(2, 1, [6, ...u16(17), ...u16(0x1234)]));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => [r.fields.start_address, r.fields.value]), [[33, 0xff00], [33, 0xff00], [17, 0x1234], [17, 0x1234]]);
});

test("modbus FC15 coil values", async () => {
  // §6.11 example: 10 coils from 19, 0xCD 0x01.
  const c = conversation();
  c.fromClient(adu(1, 1, [15, ...u16(19), ...u16(10), 2, 0xcd, 0x01]));
  c.fromServer(adu(1, 1, [15, ...u16(19), ...u16(10)]));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus[0].fields.values, [1, 0, 1, 1, 0, 0, 1, 1, 1, 0]);
  assert.is(modbus[0].fields.quantity, 10);
  assert.is(modbus[1].fields.start_address, 19);
  assert.is(modbus[1].fields.quantity, 10);
  assert.equal(anomaliesOf(modbus[0]), []);
});

test("modbus FC16 register values", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [16, ...u16(1), ...u16(2), 4, ...u16(0x000a), ...u16(0x0102)]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[0].fields.start_address, 1);
  assert.equal(modbus[0].fields.values, [10, 258]);
  assert.equal(anomaliesOf(modbus[0]), []);
});

test("modbus FC23 written and read values", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [23, ...u16(3), ...u16(2), ...u16(14), ...u16(2), 4, ...u16(0xff), ...u16(0xfe)]));
  c.fromServer(adu(1, 1, [23, 4, ...u16(0xfe), ...u16(0xacf0)]));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus[0].fields.values, [0xff, 0xfe]);
  assert.equal(modbus[1].fields.values, [0xfe, 0xacf0]);
  assert.is(modbus[1].fields.start_address, 3);
  assert.is(modbus[1].fields.quantity, 2);
  assert.equal(anomaliesOf(modbus[1]), []);
});

test("modbus FC24 FIFO queue", async () => {
  // §6.18 example: pointer 0x04DE, two queued registers 0x01B8 and 0x1284.
  const c = conversation();
  c.fromClient(adu(1, 1, [24, ...u16(0x04de)]));
  c.fromServer(adu(1, 1, [24, ...u16(6), ...u16(2), ...u16(0x01b8), ...u16(0x1284)]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[0].fields.start_address, 0x04de);
  assert.is(modbus[1].fields.fifo_count, 2);
  assert.equal(modbus[1].fields.values, [0x01b8, 0x1284]);
  assert.equal(anomaliesOf(modbus[1]), []);
});

test("modbus values capped per record", async () => {
  // 2,000 coils read: the record keeps the first 125 states.
  const c = conversation();
  c.fromClient(adu(1, 1, [1, ...u16(0), ...u16(2000)]));
  c.fromServer(adu(1, 1, [1, 250, ...Array.from({ length: 250 }, () => 0xff)]));
  const { modbus } = await runFrames(c.frames);

  assert.is((modbus[1].fields.values as number[]).length, 125);
  assert.is(modbus[1].fields.values_truncated, true);
  assert.is(modbus[0].fields.values_truncated, undefined);
});

test("modbus FC7 exception status", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [7]));
  c.fromServer(adu(1, 1, [7, 0x6d]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[0].fields.function, "READ_EXCEPTION_STATUS");
  assert.is(modbus[1].fields.value, 0x6d);
  assert.equal(anomaliesOf(modbus[0]), []);
});

test("modbus FC8 every sub-function named", async () => {
  const names: Record<number, string> = {
    0: "RETURN_QUERY_DATA", 1: "RESTART_COMMUNICATIONS_OPTION", 2: "RETURN_DIAGNOSTIC_REGISTER",
    3: "CHANGE_ASCII_INPUT_DELIMITER", 4: "FORCE_LISTEN_ONLY_MODE", 10: "CLEAR_COUNTERS_AND_DIAGNOSTIC_REGISTER",
    11: "RETURN_BUS_MESSAGE_COUNT", 12: "RETURN_BUS_COMMUNICATION_ERROR_COUNT", 13: "RETURN_BUS_EXCEPTION_ERROR_COUNT",
    14: "RETURN_SERVER_MESSAGE_COUNT", 15: "RETURN_SERVER_NO_RESPONSE_COUNT", 16: "RETURN_SERVER_NAK_COUNT",
    17: "RETURN_SERVER_BUSY_COUNT", 18: "RETURN_BUS_CHARACTER_OVERRUN_COUNT", 20: "CLEAR_OVERRUN_COUNTER_AND_FLAG",
    5: "RESERVED", 19: "RESERVED", 21: "RESERVED",
  };
  const c = conversation();
  const codes = Object.keys(names).map(Number);
  codes.forEach((code, i) => c.fromClient(adu(i + 1, 1, [8, ...u16(code), 0, 0])));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => r.fields.sub_function_name), codes.map((code) => names[code]));
  assert.equal(modbus.map((r) => r.fields.sub_function), codes);
});

test("modbus FC8 query data as bytes", async () => {
  // Return Query Data echoes any number of bytes; more than one word goes
  // into `data`, one word into `value`.
  const c = conversation();
  c.fromClient(adu(1, 1, [8, ...u16(0), 0xa5, 0x37, 0x01]));
  c.fromClient(adu(2, 1, [8, ...u16(1), 0xff, 0x00]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[0].fields.data, "a53701");
  assert.is(modbus[0].fields.value, undefined);
  assert.is(modbus[1].fields.value, 0xff00);
});

test("modbus FC11 and FC12 event counters", async () => {
  // §6.9 and §6.10 examples.
  const c = conversation();
  c.fromClient(adu(1, 1, [11]));
  c.fromServer(adu(1, 1, [11, ...u16(0xffff), ...u16(0x0108)]));
  c.fromClient(adu(2, 1, [12]));
  c.fromServer(adu(2, 1, [12, 8, ...u16(0), ...u16(0x0108), ...u16(0x0121), 0x20, 0x00]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[1].fields.status, 0xffff);
  assert.is(modbus[1].fields.event_count, 0x0108);
  assert.is(modbus[3].fields.status, 0);
  assert.is(modbus[3].fields.event_count, 0x0108);
  assert.is(modbus[3].fields.message_count, 0x0121);
  assert.is(modbus[3].fields.data, "2000");
  assert.equal(modbus.flatMap(anomaliesOf), []);
});

test("modbus FC17 server id and run indicator", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [17]));
  c.fromServer(adu(1, 1, [17, 5, 0x42, 0xff, ...text("M1x")]));
  c.fromClient(adu(2, 1, [17]));
  c.fromServer(adu(2, 1, [17, 2, 0x07, 0x00]));
  // A text id with the run indicator last, then an id with no run indicator.
  c.fromClient(adu(3, 1, [17]));
  c.fromServer(adu(3, 1, [17, 5, ...text("PLC1"), 0xff]));
  c.fromClient(adu(4, 1, [17]));
  c.fromServer(adu(4, 1, [17, 3, ...text("abc")]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[1].fields.server_id, "42");
  assert.is(modbus[1].fields.run_indicator, true);
  assert.is(modbus[1].fields.data, "4d3178");
  assert.is(modbus[3].fields.server_id, "07");
  assert.is(modbus[3].fields.run_indicator, false);
  assert.is(modbus[5].fields.server_id, "504c4331");
  assert.is(modbus[5].fields.run_indicator, true);
  assert.is(modbus[5].fields.data, undefined);
  assert.is(modbus[7].fields.server_id, "616263");
  assert.is(modbus[7].fields.run_indicator, undefined);
  assert.equal(modbus.flatMap(anomaliesOf), []);
});

test("modbus FC20 read file record", async () => {
  // §6.14 example: two sub-requests, file 4 record 1 length 2 and file 3
  // record 9 length 2.
  const c = conversation();
  c.fromClient(adu(1, 1, [20, 14, 6, ...u16(4), ...u16(1), ...u16(2), 6, ...u16(3), ...u16(9), ...u16(2)]));
  c.fromServer(adu(1, 1, [20, 12, 5, 6, ...u16(0x0dfe), ...u16(0x0020), 5, 6, ...u16(0x33cd), ...u16(0x0040)]));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus[0].fields.reference_type, [6, 6]);
  assert.equal(modbus[0].fields.file_number, [4, 3]);
  assert.equal(modbus[0].fields.record_number, [1, 9]);
  assert.equal(modbus[0].fields.record_length, [2, 2]);
  assert.equal(modbus[1].fields.record_length, [2, 2]);
  assert.equal(modbus[1].fields.values, [0x0dfe, 0x0020, 0x33cd, 0x0040]);
  assert.equal(modbus.flatMap(anomaliesOf), []);
});

test("modbus FC21 write file record", async () => {
  // §6.15 example: file 4, record 7, three registers.
  const pdu = [21, 13, 6, ...u16(4), ...u16(7), ...u16(3), ...u16(0x06af), ...u16(0x04be), ...u16(0x100d)];
  const c = conversation();
  c.fromClient(adu(1, 1, pdu));
  c.fromServer(adu(1, 1, pdu));
  c.fromClient(adu(2, 1, [21, 9, 5, ...u16(1), ...u16(0), ...u16(1), ...u16(9)]));
  const { modbus, anomalies } = await runFrames(c.frames);

  for (const r of modbus.slice(0, 2)) {
    assert.is(r.fields.file_number, 4);
    assert.is(r.fields.record_number, 7);
    assert.is(r.fields.record_length, 3);
    assert.equal(r.fields.values, [0x06af, 0x04be, 0x100d]);
    assert.equal(anomaliesOf(r), []);
  }
  assert.is(modbus[2].fields.reference_type, 5);
  assert.equal(anomaliesOf(modbus[2]), ["modbus.file_reference_type_invalid"]);
  assert.is(anomalies["modbus.file_reference_type_invalid"], 1);
});

test("modbus FC43/14 every object", async () => {
  const object = (id: number, value: number[]) => [id, value.length, ...value];
  const c = conversation();
  c.fromClient(adu(1, 1, [0x2b, 14, 3, 0]));
  c.fromServer(adu(1, 1, [0x2b, 14, 3, 0x83, 0x00, 0x00, 9,
    ...object(0, text("Acme")), ...object(1, text("PLC-9")), ...object(2, text("V2.1")),
    ...object(3, text("www.acme.example")), ...object(4, text("Acme Control")), ...object(5, text("AC-9000")),
    ...object(6, text("Line 4")), ...object(0x80, [0xde, 0xad]), ...object(0x91, text("x"))]));
  const { modbus } = await runFrames(c.frames);
  const f = modbus[1].fields;

  assert.is(f.mei_name, "READ_DEVICE_IDENTIFICATION");
  assert.is(f.read_device_id_code, 3);
  assert.is(f.conformity_level, 0x83);
  assert.is(f.more_follows, false);
  assert.is(f.next_object_id, 0);
  assert.is(f.object_count, 9);
  assert.is(f.vendor_name, "Acme");
  assert.is(f.product_code, "PLC-9");
  assert.is(f.revision, "V2.1");
  assert.is(f.vendor_url, "www.acme.example");
  assert.is(f.product_name, "Acme Control");
  assert.is(f.model_name, "AC-9000");
  assert.is(f.user_application_name, "Line 4");
  assert.equal(f.extended_object_id, [0x80, 0x91]);
  assert.equal(f.extended_object_value, ["dead", "78"]);
  assert.equal(anomaliesOf(modbus[1]), []);
});

test("modbus FC43/14 object past PDU", async () => {
  // The second object claims 40 bytes but 3 follow.
  const c = conversation();
  c.fromClient(adu(1, 1, [0x2b, 14, 1, 0]));
  c.fromServer(adu(1, 1, [0x2b, 14, 1, 0x01, 0xff, 0x02, 2, 0, 2, ...text("AB"), 1, 40, ...text("PLC")]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[1].fields.vendor_name, "AB");
  assert.is(modbus[1].fields.product_code, undefined);
  assert.is(modbus[1].fields.more_follows, true);
  assert.is(modbus[1].fields.next_object_id, 2);
  assert.equal(anomaliesOf(modbus[1]), ["modbus.pdu_truncated"]);
});

test("modbus FC43/13 CANopen counted", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [0x2b, 13, 0x01, 0x02, 0x03]));
  c.fromServer(adu(1, 1, [0x2b, 13, 0x04]));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.is(modbus[0].fields.mei_type, 13);
  assert.is(modbus[0].fields.mei_name, "CANOPEN_GENERAL_REFERENCE");
  assert.is(modbus[0].fields.data, "010203");
  assert.is(modbus[1].fields.data, "04");
  assert.is(anomalies["modbus.mei_canopen"], 1);
  assert.equal(modbus.flatMap(anomaliesOf), []);
});

test("modbus user-defined codes counted", async () => {
  // 65-72 and 100-110 are user-defined (§5); 64, 73, 99 and 111 are not.
  const c = conversation();
  const codes = [64, 65, 72, 73, 99, 100, 110, 111];
  codes.forEach((code, i) => c.fromClient(adu(i + 1, 1, [code, 0x12, 0x34])));
  c.fromServer(adu(2, 1, [65, 0x56]));
  c.fromServer(adu(3, 1, [72 | 0x80, 1]));
  const { modbus, anomalies } = await runFrames(c.frames);
  const requests = modbus.filter((r) => r.fields.pdu_type === "request");

  assert.equal(requests.map((r) => r.fields.user_defined ?? false), [false, true, true, false, false, true, true, false]);
  assert.equal(requests.map((r) => r.fields.function), ["UNKNOWN", "USER_DEFINED", "USER_DEFINED", "UNKNOWN", "UNKNOWN", "USER_DEFINED", "USER_DEFINED", "UNKNOWN"]);
  assert.is(requests[1].fields.data, "1234");
  assert.is(modbus[8].fields.user_defined, true);
  assert.is(modbus[8].fields.data, "56");
  assert.is(modbus[9].fields.user_defined, true);
  assert.is(modbus[9].fields.function, "USER_DEFINED_EXCEPTION");
  assert.is(anomalies["modbus.user_defined_function"], 4);
});

test("modbus FC90 UMAS functions named", async () => {
  const expected: Record<number, string> = {
    0x01: "INIT_COMM", 0x02: "READ_ID", 0x03: "READ_PROJECT_INFO", 0x04: "READ_PLC_INFO", 0x06: "READ_CARD_INFO",
    0x0a: "REPEAT", 0x10: "TAKE_PLC_RESERVATION", 0x11: "RELEASE_PLC_RESERVATION", 0x12: "KEEP_ALIVE",
    0x20: "READ_MEMORY_BLOCK", 0x22: "READ_VARIABLES", 0x23: "WRITE_VARIABLES", 0x24: "READ_COILS_REGISTERS",
    0x25: "WRITE_COILS_REGISTERS", 0x30: "INITIALIZE_UPLOAD", 0x31: "UPLOAD_BLOCK", 0x32: "END_STRATEGY_UPLOAD",
    0x33: "INITIALIZE_DOWNLOAD", 0x34: "DOWNLOAD_BLOCK", 0x35: "END_STRATEGY_DOWNLOAD", 0x39: "READ_ETH_MASTER_DATA",
    0x40: "START_PLC", 0x41: "STOP_PLC", 0x50: "MONITOR_PLC", 0x58: "CHECK_PLC", 0x70: "READ_IO_OBJECT",
    0x71: "WRITE_IO_OBJECT", 0x73: "GET_STATUS_MODULE", 0x05: "UNKNOWN", 0xff: "UNKNOWN",
  };
  const codes = Object.keys(expected).map(Number);
  const c = conversation();
  codes.forEach((code, i) => c.fromClient(adu(i + 1, 1, [90, 0x00, code])));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => r.fields.umas_function), codes);
  assert.equal(modbus.map((r) => r.fields.umas_function_name), codes.map((code) => expected[code]));
  assert.ok(modbus.every((r) => r.fields.function === "UMAS"));
});

test("modbus FC90 response carries its request function", async () => {
  // STOP_PLC with session key 0x1c, answered 0xFE (success); a download
  // block answered 0xFD (error).
  const c = conversation();
  c.fromClient(adu(1, 0, [90, 0x1c, 0x41, 0xff, 0x00]));
  c.fromServer(adu(1, 0, [90, 0x1c, 0xfe]));
  c.fromClient(adu(2, 0, [90, 0x1c, 0x34, 0x01, 0x00, 0x02]));
  c.fromServer(adu(2, 0, [90, 0x1c, 0xfd, 0x81]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[0].fields.umas_session, 0x1c);
  assert.is(modbus[0].fields.data, "ff00");
  assert.is(modbus[1].fields.umas_function_name, "STOP_PLC");
  assert.is(modbus[1].fields.umas_return_code, 0xfe);
  assert.is(modbus[3].fields.umas_function, 0x34);
  assert.is(modbus[3].fields.umas_return_code, 0xfd);
  assert.is(modbus[3].fields.data, "81");
  assert.equal(modbus.flatMap(anomaliesOf), []);
});

test("modbus garbage PDUs do not trap", async () => {
  // Every function code 0-255 with 0 to 5 pseudo-random data bytes, as
  // request and response: the core must write a record for each and stop
  // nowhere. The generator is a fixed linear congruential sequence.
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  const c = conversation();
  let tid = 1;
  for (let code = 0; code < 256; code++) {
    if ((code & 0x7f) === 0) continue;
    for (let extra = 0; extra <= 5; extra++) {
      const pdu = [code, ...Array.from({ length: extra }, next)];
      c.fromClient(adu(tid, 1, pdu));
      c.fromServer(adu(tid, 1, pdu));
      tid++;
    }
  }
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus.length, (tid - 1) * 2);
});

test.run();
