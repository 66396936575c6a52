// EtherNet/IP and CIP: the public captures compared with the logs of CISA's
// ICSNPP-ENIP plugin and the suricata-verify expectations, with the set
// attribute and ListIdentity detections. Byte-built conversations cover
// Multiple Service Packet, Unconnected Send, Forward Open, UDP discovery and
// I/O, and malformed input.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { capture, expectedOutput } from "../helpers/captures.js";
import { TcpConversation, udpFrame } from "../helpers/frames.js";
import { anomaliesOf, runCaptureWithModels, runFramesWithModels, runTimedWithModels } from "../s7comm/run.js";
import {
  Command, encapsulation, forwardOpen, identity, le16, le32, listIdentityReply, logicalPath, multipleServices,
  registerSession, request, response, sendRRData, sendUnitData, unconnectedSend,
} from "./build.js";

const SET_ATTRIBUTE = "mixed/icsnpp_enip_set_attribute_single.pcapng";
const LIST_IDENTITY = "mixed/suricata_enip_list_identity.pcap";
const SESSION = 0x12345678;

let nextPort = 50200;
function device(): TcpConversation {
  nextPort++;
  return new TcpConversation("10.4.0.30", nextPort, "10.4.0.5", 44818).handshake();
}

// Columns of an ICSNPP log whose #fields line the baseline dropped: the
// Zeek connection columns, then the plugin's own, in its record order.
function icsnppRows(path: string, columns: string[]): Record<string, string>[] {
  return readFileSync(path, "utf8").split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((line) => {
    const values = line.split("\t").slice(11);
    return Object.fromEntries(columns.map((name, i) => [name, values[i]]));
  });
}

test("enip set attribute capture matches icsnpp", async () => {
  // icsnpp_enip_set_attribute_single.pcapng: one SendUnitData carrying a
  // connected CIP Set_Attribute_Single to the identity object, class 1
  // instance 0, from 10.100.90.51 to 10.100.40.11.
  const pcap = capture(SET_ATTRIBUTE);
  const enipLog = expectedOutput("mixed/icsnpp_enip_set_attribute_single.enip.log");
  const cipLog = expectedOutput("mixed/icsnpp_enip_set_attribute_single.cip.log");
  if (!pcap || !enipLog || !cipLog) return;
  const { records, alerts } = await runCaptureWithModels("enip", pcap);
  const [enipRow] = icsnppRows(enipLog, ["command", "command_name", "length", "session_handle", "status", "sender_context", "options"]);
  const [cipRow] = icsnppRows(cipLog, ["sequence", "direction", "service", "service_name", "status", "status_name", "extended", "extended_name", "class_id", "class_name", "instance_id"]);

  assert.is(records.length, 1);
  const r = records[0].fields;
  assert.is(r.command, Number(enipRow.command));
  assert.is(r.command_name, "send_unit_data");
  assert.is(r.length, Number(enipRow.length));
  assert.is(r.session_handle, Number(enipRow.session_handle));
  assert.is(r.status, 0);
  assert.is(`0x${r.sender_context}`, enipRow.sender_context);
  assert.is(r.options, Number(enipRow.options));
  assert.is(r.connected, true);
  assert.is(r.sequence_number, Number(cipRow.sequence));
  assert.is(r.pdu_type, cipRow.direction);
  assert.is(r.service_code, Number(cipRow.service));
  assert.is(r.service, "set_attribute_single");
  assert.is(r.class_id, Number(cipRow.class_id));
  assert.is(r.instance_id, Number(cipRow.instance_id));

  assert.equal(alerts.map((a) => a.model), ["enip-set-attribute"]);
  assert.is(alerts[0].record.src.ip, "10.100.90.51");
});

test("enip list identity capture matches suricata", async () => {
  // suricata_enip_list_identity.pcap: ListIdentity over TCP from
  // 172.25.23.1; the 1756-ENBT/A at 172.25.23.2 replies. suricata-verify
  // expects two alerts on enip_command 99: the request and the reply.
  const pcap = capture(LIST_IDENTITY);
  const yaml = expectedOutput("mixed/suricata_enip_list_identity.test.yaml");
  if (!pcap || !yaml) return;
  const expectedCount = Number(/count:\s*(\d+)/.exec(readFileSync(yaml, "utf8"))?.[1]);
  const { records, alerts } = await runCaptureWithModels("enip", pcap);
  assert.is(records.filter((r) => r.fields.command === Command.LIST_IDENTITY).length, expectedCount);

  const reply = records.find((r) => r.fields.pdu_type === "response");
  assert.ok(reply);
  assert.is(reply.fields.vendor_id, 1);
  assert.is(reply.fields.device_type, 12);
  assert.is(reply.fields.product_code, "58");
  assert.is(reply.fields.revision, "4.3");
  assert.is(reply.fields.serial_number, "00524d8e");
  assert.is(reply.fields.product_name, "1756-ENBT/A");
  assert.is(reply.fields.socket_address, "10.1.1.164:44818");
  assert.is(reply.fields.device_state, 3);

  assert.equal(alerts.map((a) => a.model), ["enip-list-identity"]);
  assert.is(alerts[0].record.src.ip, "172.25.23.1");
});

test("enip multiple service packet", async () => {
  // Three services in one packet to the message router (class 2, instance
  // 1), and the reply with three embedded responses.
  const services = [
    request(0x0e, logicalPath(1, 1, 7)),
    request(0x0e, logicalPath(0xf5, 1, 5)),
    request(0x10, logicalPath(0x300, 2, 3), [0x2a, 0x00]),
  ];
  const replies = [
    response(0x0e, 0, [11, ...[..."1756-L71"].map((c) => c.charCodeAt(0))]),
    response(0x0e, 0x14),
    response(0x10, 0),
  ];
  const c = device()
    .fromClient(registerSession()).fromServer(registerSession(SESSION))
    .fromClient(sendRRData(SESSION, request(0x0a, logicalPath(2, 1), multipleServices(services))))
    .fromServer(sendRRData(SESSION, response(0x0a, 0, multipleServices(replies))));
  const { records, alerts, anomalies } = await runFramesWithModels("enip", c.frames);

  assert.equal(records.map((r) => r.fields.command_name), [
    "register_session", "register_session", "send_rr_data", "send_rr_data", "send_rr_data", "send_rr_data",
    "send_rr_data", "send_rr_data", "send_rr_data", "send_rr_data",
  ]);
  const outer = records[2].fields;
  assert.is(outer.service, "multiple_service_packet");
  assert.is(outer.service_count, 3);
  assert.is(outer.class_id, 2);

  const embedded = records.slice(3, 6).map((r) => r.fields);
  assert.equal(embedded.map((f) => f.embedded), ["multiple_service_packet", "multiple_service_packet", "multiple_service_packet"]);
  assert.equal(embedded.map((f) => f.class_id), [1, 0xf5, 0x300]);
  assert.equal(embedded.map((f) => f.attribute_id), [7, 5, 3]);
  assert.equal(embedded.map((f) => f.service), ["get_attribute_single", "get_attribute_single", "set_attribute_single"]);

  assert.is(records[6].fields.pdu_type, "response");
  assert.is(records[6].fields.service_count, 3);
  assert.is(records[6].fields.class_id, 2);
  assert.equal(records.slice(7).map((r) => r.fields.general_status), [0, 0x14, 0]);
  assert.equal(alerts.map((a) => [a.model, a.record.fields.class_id]), [["enip-set-attribute", 0x300]]);
  assert.equal(anomaliesOf(anomalies, "enip."), {});
});

test("enip unconnected send to identity", async () => {
  // Get_Attributes_All of the identity object in a controller in slot 0,
  // routed through the adapter; the reply names the controller.
  const embedded = request(0x01, logicalPath(1, 1));
  const c = device()
    .fromClient(sendRRData(SESSION, unconnectedSend(embedded, 0)))
    .fromServer(sendRRData(SESSION, response(0x01, 0, identity(1, 14, 0x6c, 33, 11, 0xc0ffee01, "1756-L83E/B"))));
  const { records, anomalies } = await runFramesWithModels("enip", c.frames);
  assert.is(records.length, 3);
  assert.is(records[0].fields.service, "unconnected_send");
  assert.is(records[0].fields.route_path, "0100");
  assert.is(records[1].fields.embedded, "unconnected_send");
  assert.is(records[1].fields.service, "get_attributes_all");
  assert.is(records[1].fields.class_id, 1);
  const reply = records[2].fields;
  assert.is(reply.service, "get_attributes_all");
  assert.is(reply.class_id, 1);
  assert.is(reply.vendor_id, 1);
  assert.is(reply.device_type, 14);
  assert.is(reply.product_code, "108");
  assert.is(reply.revision, "33.11");
  assert.is(reply.serial_number, "c0ffee01");
  assert.is(reply.product_name, "1756-L83E/B");
  assert.equal(anomaliesOf(anomalies, "enip."), {});
});

test("enip forward open and close", async () => {
  const path = [0x01, 0x00, 0x20, 0x02, 0x24, 0x01];
  const open = { otConnectionId: 0, toConnectionId: 0x11223344, serial: 0x0102, vendor: 0x1337, originatorSerial: 0xcafe0001, otRpiUs: 20000, toRpiUs: 50000, path };
  const openReply = response(0x54, 0, [...le32(0x55667788), ...le32(0x11223344), ...le16(0x0102), ...le16(0x1337), ...le32(0xcafe0001), ...le32(20000), ...le32(50000), 0, 0]);
  const close = request(0x4e, logicalPath(6, 1), [0x07, 0xe9, ...le16(0x0102), ...le16(0x1337), ...le32(0xcafe0001), path.length / 2, 0, ...path]);
  const c = device()
    .fromClient(sendRRData(SESSION, forwardOpen(open)))
    .fromServer(sendRRData(SESSION, openReply))
    .fromClient(sendRRData(SESSION, forwardOpen({ ...open, serial: 0x0103 }, true)))
    .fromClient(sendRRData(SESSION, close));
  const { records, alerts } = await runFramesWithModels("enip", c.frames);
  assert.equal(records.map((r) => r.fields.service), ["forward_open", "forward_open", "large_forward_open", "forward_close"]);
  const request0 = records[0].fields;
  assert.is(request0.to_connection_id, 0x11223344);
  assert.is(request0.connection_serial, 0x0102);
  assert.is(request0.originator_vendor_id, 0x1337);
  assert.is(request0.originator_serial, 0xcafe0001);
  assert.is(request0.ot_rpi_us, 20000);
  assert.is(request0.to_rpi_us, 50000);
  assert.is(request0.connection_path, "010020022401");
  assert.is(records[1].fields.ot_connection_id, 0x55667788);
  assert.is(records[2].fields.to_rpi_us, 50000);
  assert.is(records[2].fields.connection_serial, 0x0103);
  assert.is(records[3].fields.connection_path, "010020022401");
  assert.equal(alerts.map((a) => a.model), ["enip-forward-open", "enip-forward-open"]);
});

test("enip identity reset fires the model", async () => {
  const c = device()
    .fromClient(sendRRData(SESSION, request(0x05, logicalPath(1, 1), [0])))
    .fromServer(sendRRData(SESSION, response(0x05, 0)))
    // A Reset of another class is not a device restart.
    .fromClient(sendRRData(SESSION, request(0x05, logicalPath(0xf5, 1))));
  const { records, alerts } = await runFramesWithModels("enip", c.frames);
  assert.equal(records.map((r) => [r.fields.service, r.fields.class_id]), [["reset", 1], ["reset", 1], ["reset", 0xf5]]);
  assert.equal(alerts.map((a) => a.model), ["enip-identity-reset"]);
  assert.is(alerts[0].record.fields.pdu_type, "request");
});

test("enip set attribute judged against established clients", async () => {
  // The controller 10.4.0.30 reads an attribute of the device once a second
  // for 12 s, which makes it an established client; its own set is no alert.
  // A set from 10.4.0.31, which never talked to the device, is one.
  const controller = device();
  const frames: { tsSec: number; tsFrac: number; bytes: Uint8Array }[] = [];
  const add = (c: TcpConversation, from: number, tsSec: number) => {
    frames.push(...c.frames.slice(from).map((bytes, i) => ({ tsSec, tsFrac: i * 1000, bytes })));
  };
  add(controller, 0, 1_700_000_000);
  for (let i = 1; i <= 12; i++) {
    const before = controller.frames.length;
    controller.fromClient(sendRRData(SESSION, request(0x0e, logicalPath(1, 1, 7))));
    controller.fromServer(sendRRData(SESSION, response(0x0e, 0)));
    add(controller, before, 1_700_000_000 + i);
  }
  const before = controller.frames.length;
  controller.fromClient(sendRRData(SESSION, request(0x10, logicalPath(0xf5, 1, 3), [1, 0, 0, 0])));
  add(controller, before, 1_700_000_020);
  const stranger = new TcpConversation("10.4.0.31", 50999, "10.4.0.5", 44818).handshake()
    .fromClient(sendRRData(SESSION, request(0x10, logicalPath(0xf5, 1, 3), [2, 0, 0, 0])));
  add(stranger, 0, 1_700_000_030);
  const { alerts } = await runTimedWithModels("enip", frames);
  const sets = alerts.filter((a) => a.model === "enip-set-attribute");
  assert.is(sets.length, 1);
  assert.is(sets[0].record.src.ip, "10.4.0.31");
});

test("enip path segments", async () => {
  // Port segment with an extended link address, 16-bit class and instance,
  // an electronic key, and a symbolic tag read on connected data.
  const key = [0x34, 0x04, ...le16(1), ...le16(14), ...le16(0x6c), 33, 11];
  const portSegment = [0x12, 9, ...[..."10.0.0.9"].map((ch) => ch.charCodeAt(0)), 0, 0];
  const symbol = [0x91, 5, ...[..."Speed"].map((ch) => ch.charCodeAt(0)), 0];
  const c = device()
    .fromClient(sendRRData(SESSION, request(0x0e, [...portSegment.slice(0, 12), ...key, ...logicalPath(0x1234, 0x200, 1)])))
    .fromClient(sendUnitData(SESSION, 0xabcd0001, 7, request(0x4c, symbol, le16(1))));
  const { records, anomalies } = await runFramesWithModels("enip", c.frames);
  assert.is(records[0].fields.class_id, 0x1234);
  assert.is(records[0].fields.instance_id, 0x200);
  assert.is(records[0].fields.attribute_id, 1);
  assert.is(records[1].fields.symbol, "Speed");
  assert.is(records[1].fields.connection_id, 0xabcd0001);
  assert.is(records[1].fields.sequence_number, 7);
  assert.is(records[1].fields.service_code, 0x4c);
  assert.is(records[1].fields.service, undefined);
  assert.equal(anomaliesOf(anomalies, "enip."), {});
});

test("enip udp list identity and io", async () => {
  // A ListIdentity broadcast, a device's reply, and a class 1 I/O datagram.
  const query = encapsulation(Command.LIST_IDENTITY, []);
  const reply = listIdentityReply([10, 4, 0, 5], identity(1, 12, 58, 4, 3, 0x00524d8e, "1756-ENBT/A"));
  const io = [...le16(2), ...le16(0x8002), ...le16(8), ...le32(0x00a10001), ...le32(42), ...le16(0x00b1), ...le16(6), ...le16(42), 1, 2, 3, 4];
  const frames = [
    udpFrame({ src: "10.4.0.30", dst: "10.4.0.255", srcPort: 50000, dstPort: 44818, payload: query }),
    udpFrame({ src: "10.4.0.5", dst: "10.4.0.30", srcPort: 44818, dstPort: 50000, payload: reply }),
    udpFrame({ src: "10.4.0.5", dst: "10.4.0.30", srcPort: 2222, dstPort: 2222, payload: io }),
  ];
  const { records, alerts } = await runFramesWithModels("enip", frames);
  assert.equal(records.map((r) => r.fields.pdu_type), ["request", "response", "io"]);
  assert.is(records[1].fields.product_name, "1756-ENBT/A");
  assert.is(records[1].fields.socket_address, "10.4.0.5:44818");
  assert.is(records[1].src.ip, "10.4.0.30");
  assert.is(records[1].serverToClient, true);
  assert.is(records[2].fields.connection_id, 0x00a10001);
  assert.is(records[2].fields.sequence_number, 42);
  assert.equal(alerts.map((a) => a.model), ["enip-list-identity"]);
});

test("enip items past the datagram end", async () => {
  // An I/O datagram whose connected data item claims 40 bytes but carries 4,
  // and a ListIdentity reply whose only item claims more than the message.
  const io = [...le16(2), ...le16(0x8002), ...le16(8), ...le32(0x00a10002), ...le32(7), ...le16(0x00b1), ...le16(40), ...le16(7), 1, 2];
  const reply = encapsulation(Command.LIST_IDENTITY, [...le16(1), ...le16(0x0c), ...le16(60), ...new Array(24).fill(0)]);
  const frames = [
    udpFrame({ src: "10.4.0.5", dst: "10.4.0.30", srcPort: 2222, dstPort: 2222, payload: io }),
    udpFrame({ src: "10.4.0.5", dst: "10.4.0.30", srcPort: 44818, dstPort: 50000, payload: reply }),
  ];
  const { records, anomalies } = await runFramesWithModels("enip", frames);
  assert.equal(records.map((r) => r.fields.pdu_type), ["io", "response"]);
  assert.is(records[0].fields.item_type, 0x8002);
  assert.is(records[0].fields.connection_id, 0x00a10002);
  assert.is(records[0].fields.sequence_number, 7);
  assert.is(records[1].fields.item_type, undefined);
  assert.is(records[1].fields.product_name, undefined);
  assert.is(anomalies["enip.item_truncated"], 2);
});

test("enip session and list services", async () => {
  // RegisterSession, ListServices with its "Communications" item, then
  // UnRegisterSession.
  const name = [..."Communications"].map((ch) => ch.charCodeAt(0));
  const servicesItem = [...le16(1), ...le16(0x0120), ...name, ...new Array(16 - name.length).fill(0)];
  const c = device()
    .fromClient(registerSession()).fromServer(registerSession(SESSION))
    .fromClient(encapsulation(0x04, [], SESSION))
    .fromServer(encapsulation(0x04, [...le16(1), ...le16(0x100), ...le16(servicesItem.length), ...servicesItem], SESSION))
    .fromClient(encapsulation(0x66, [], SESSION));
  const { records } = await runFramesWithModels("enip", c.frames);
  assert.equal(records.map((r) => r.fields.command_name), ["register_session", "register_session", "list_services", "list_services", "unregister_session"]);
  assert.equal(records.map((r) => r.fields.session_handle), [0, SESSION, SESSION, SESSION, SESSION]);
  assert.is(records[1].fields.protocol_version, 1);
  assert.is(records[3].fields.service_name, "Communications");
  assert.is(records[3].fields.capability_flags, 0x0120);
  assert.is(records[3].fields.item_type, 0x100);
});

test("enip long message parsed from its prefix", async () => {
  // A 6000-byte Set_Attribute_Single: decoded from its first 4096 bytes, the
  // rest skipped, and the next message decodes.
  const big = sendRRData(SESSION, request(0x10, logicalPath(0x64, 1, 3), new Array(6000).fill(0x42)));
  const c = device();
  for (let at = 0; at < big.length; at += 1400) c.fromClient(big.slice(at, at + 1400));
  c.fromClient(sendRRData(SESSION, request(0x0e, logicalPath(1, 1, 1))));
  const { records, anomalies } = await runFramesWithModels("enip", c.frames);
  assert.is(anomalies["enip.message_prefix_only"], 1);
  assert.equal(records.map((r) => r.fields.service), ["set_attribute_single", "get_attribute_single"]);
  assert.equal(records.map((r) => r.fields.class_id), [0x64, 1]);
});

test("enip malformed cip does not trap", async () => {
  const c = device()
    // Path size beyond the message.
    .fromClient(sendRRData(SESSION, [0x0e, 20, 0x20, 0x01]))
    // Multiple Service Packet with an offset past its end, then one too small.
    .fromClient(sendRRData(SESSION, request(0x0a, logicalPath(2, 1), [...le16(2), ...le16(6), ...le16(200), 0x0e, 0x00])))
    // Reserved logical format 3.
    .fromClient(sendRRData(SESSION, request(0x0e, [0x23, 0x00, 0x00, 0x00])))
    // Unconnected Send whose embedded size runs past the data.
    .fromClient(sendRRData(SESSION, request(0x52, logicalPath(6, 1), [0x07, 0xe9, ...le16(300), 0x0e])))
    // A CPF item longer than the message.
    .fromClient(encapsulation(Command.SEND_RR_DATA, [...le32(0), ...le16(0), ...le16(1), ...le16(0xb2), ...le16(80), 0x0e]))
    // Identity reply cut inside the product name.
    .fromServer(encapsulation(Command.LIST_IDENTITY, [...le16(1), ...le16(0x0c), ...le16(20), ...new Array(20).fill(0)]));
  const { records, anomalies } = await runFramesWithModels("enip", c.frames);
  assert.is(anomalies["enip.cip_truncated"], 2);
  // Both services of the packet: the first ends past the data, the second starts there.
  assert.is(anomalies["enip.service_offset_invalid"], 2);
  assert.is(anomalies["enip.path_segment_unknown"], 1);
  assert.is(anomalies["enip.item_truncated"], 2);
  // One record per message; the bad embedded services and items add none.
  assert.is(records.length, 6);
  assert.is(records[0].fields.truncated, true);
});

test("enip unknown command rejects the stream", async () => {
  const random = Array.from({ length: 2000 }, (_, i) => (i * 2654435761) & 0xff);
  const c = device().fromClient([0x99, 0x99, ...new Array(30).fill(0)]).fromClient(random);
  const { records, anomalies, counters } = await runFramesWithModels("enip", c.frames);
  assert.is(records.length, 0);
  assert.is(counters["flows.enip"] ?? 0, 0);
  assert.is(anomalies["enip.command_unknown"] ?? 0, 0);

  // After a valid message the same bytes end the dissection with an anomaly.
  const valid = device().fromClient(registerSession()).fromClient([0x99, 0x99, ...new Array(30).fill(0)]).fromClient(random);
  const after = await runFramesWithModels("enip", valid.frames);
  assert.is(after.records.length, 1);
  assert.is(after.counters["flows.enip"], 1);
  assert.is(after.anomalies["enip.command_unknown"], 1);
});

test.run();
