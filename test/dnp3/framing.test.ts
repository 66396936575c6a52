// DNP3 link, transport and application layers on hand-built conversations:
// CRC checks, several frames per TCP segment and frames across segments,
// transport reassembly and its bounds, object header walking, control
// points, UDP datagrams, and garbage that must never trap the core.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { runFramesThroughCore, type CoreRun } from "../helpers/core-run.js";
import { TcpConversation, udpFrame } from "../helpers/frames.js";
import {
  allObjects, analog16, attribute, crcDnp, crob, fileCommand, framesOf, FROM_MASTER, FROM_OUTSTATION, indexed, linkFrame, ranged, request,
  response,
} from "./build.js";

const MASTER = { control: FROM_MASTER, destination: 10, source: 1 };
const OUTSTATION = { control: FROM_OUTSTATION, destination: 1, source: 10 };

let nextPort = 40000;
function session(serverPort = 20000): TcpConversation {
  nextPort++;
  return new TcpConversation("10.20.0.5", nextPort, "10.20.0.9", serverPort).handshake();
}

async function run(frames: Uint8Array[]): Promise<CoreRun & { dnp3: CoreRecord[] }> {
  const result = await runFramesThroughCore(frames);
  return { ...result, dnp3: result.records.filter((r) => r.type === "dnp3") };
}

const flat = (frames: number[][]): number[] => frames.flat();

test("dnp3 crc helper matches the published check value", () => {
  // 0xEA82 is the standard check value of CRC-16/DNP: the CRC of the ASCII digits 1-9.
  assert.is(crcDnp([...Buffer.from("123456789")]), 0xea82);
});

test("dnp3 direct operate of a CROB answered and matched", async () => {
  const operate = request(3, 0x05, indexed(12, 1, [[7, crob(0x41, 1, 500, 0)]]));
  const echo = response(3, 0x0000, indexed(12, 1, [[7, crob(0x41, 1, 500, 0)]]));
  const c = session().fromClient(flat(framesOf(MASTER, operate))).fromServer(flat(framesOf(OUTSTATION, echo)));
  const { dnp3, anomalies } = await run(c.frames);
  assert.is(dnp3.length, 2);
  const [req, rsp] = dnp3;
  assert.is(req.fields.pdu_type, "request");
  assert.is(req.fields.function, "DIRECT_OPERATE");
  assert.is(req.fields.source_address, 1);
  assert.is(req.fields.destination_address, 10);
  assert.is(req.fields.link_dir, true);
  assert.is(req.fields.sequence, 3);
  assert.is(req.fields.point_index, 7);
  assert.is(req.fields.control_code, 0x41);
  assert.is(req.fields.operation_type, "PULSE_ON");
  assert.is(req.fields.trip_close_code, "CLOSE");
  assert.is(req.fields.on_time, 500);
  assert.is(rsp.serverToClient, true);
  assert.is(rsp.fields.function, "RESPONSE");
  assert.is(rsp.fields.request_function, "DIRECT_OPERATE");
  assert.is(rsp.fields.source_address, 10);
  assert.is(rsp.fields.rtt_us, 1000);
  assert.is(rsp.fields.iin, 0);
  assert.is(anomalies["dnp3.unmatched_response"] ?? 0, 0);
});

test("dnp3 analog output block with index prefix", async () => {
  const operate = request(4, 0x05, indexed(41, 2, [[2, analog16(1500)], [3, analog16(0xfff6)]]));
  const { dnp3 } = await run(session().fromClient(flat(framesOf(MASTER, operate))).frames);
  assert.equal(dnp3[0].fields.point_index, [2, 3]);
  // 0xfff6 is -10 in the 16-bit variation.
  assert.equal(dnp3[0].fields.analog_value, [1500, -10]);
  assert.equal(dnp3[0].fields.control_status, [0, 0]);
});

test("dnp3 internal indications as a number and named bits", async () => {
  const restartIin = 0x8000 | 0x1000 | 0x0001; // DEVICE_RESTART, NEED_TIME, NO_FUNC_CODE_SUPPORT
  const c = session().fromClient(flat(framesOf(MASTER, request(0, 0x0d))))
    .fromServer(flat(framesOf(OUTSTATION, response(0, restartIin))));
  const { dnp3 } = await run(c.frames);
  assert.is(dnp3[1].fields.iin, restartIin);
  assert.equal(dnp3[1].fields.iin_flag, ["DEVICE_RESTART", "NEED_TIME", "NO_FUNC_CODE_SUPPORT"]);
  assert.is(dnp3[1].fields.request_function, "COLD_RESTART");
});

test("dnp3 frame with a bad header CRC is dropped and counted", async () => {
  const bad = linkFrame(MASTER, [0xc0, ...request(1, 0x0d)]);
  bad[8] ^= 0xff; // header CRC
  const good = flat(framesOf(MASTER, request(2, 0x01, allObjects(60, 1))));
  const { dnp3, anomalies } = await run(session().fromClient([...bad, ...good]).frames);
  assert.is(anomalies["dnp3.link_header_crc_mismatch"], 1);
  assert.is(dnp3.length, 1);
  assert.is(dnp3[0].fields.function, "READ");
  assert.is(dnp3[0].fields.dropped_frames, 1);
  assert.ok(anomalies["dnp3.resync_bytes_skipped"] >= 1);
});

test("dnp3 frame with a bad data block CRC is dropped and counted", async () => {
  const bad = linkFrame(MASTER, [0xc0, ...request(1, 0x0d)]);
  bad[bad.length - 1] ^= 0x01; // CRC of the only user data block
  const good = flat(framesOf(MASTER, request(2, 0x0e)));
  const { dnp3, anomalies } = await run(session().fromClient(bad).fromClient(good).frames);
  assert.is(anomalies["dnp3.link_data_crc_mismatch"], 1);
  assert.is(anomalies["dnp3.resync_bytes_skipped"] ?? 0, 0);
  assert.is(dnp3.length, 1);
  assert.is(dnp3[0].fields.function, "WARM_RESTART");
  assert.is(dnp3[0].fields.dropped_frames, 1);
});

test("dnp3 application fragment split across transport segments", async () => {
  // 120 analog inputs, 32-bit with flag (g30v1, 5 octets each): 600 octets of objects.
  const values = Array.from({ length: 120 }, (_, i) => [0x01, i, 0, 0, 0]).flat();
  const fragment = response(5, 0, ranged(30, 1, 0, 119, values));
  const frames = framesOf(OUTSTATION, fragment, 249, 17);
  assert.is(frames.length, 3);
  const c = session().fromClient(flat(framesOf(MASTER, request(5, 0x01, allObjects(60, 1))))).fromServer(flat(frames));
  const { dnp3, anomalies } = await run(c.frames);
  assert.is(dnp3.length, 2);
  const rsp = dnp3[1];
  assert.is(rsp.fields.transport_segments, 3);
  assert.is(rsp.fields.fragment_bytes, fragment.length);
  assert.is(rsp.fields.object_group, 30);
  assert.is(rsp.fields.object_count, 120);
  assert.is(rsp.fields.object_range_stop, 119);
  assert.is(rsp.fields.objects_not_walked, undefined);
  assert.is(rsp.fields.request_function, "READ");
  assert.is(anomalies["dnp3.transport_sequence_error"] ?? 0, 0);
});

test("dnp3 transport sequence error drops the fragment", async () => {
  const fragment = response(6, 0, ranged(30, 1, 0, 119, new Array(600).fill(0)));
  const frames = framesOf(OUTSTATION, fragment, 249, 0);
  // Rewrite the sequence of the last segment from 2 to 3 (and its block CRC).
  const last = framesOf(OUTSTATION, fragment, 249, 1)[2];
  const { dnp3, anomalies } = await run(session().fromServer([...frames[0], ...frames[1], ...last]).frames);
  assert.is(dnp3.length, 0);
  assert.is(anomalies["dnp3.transport_sequence_error"], 1);
});

test("dnp3 segments without their first segment are counted once", async () => {
  const frames = framesOf(OUTSTATION, response(6, 0, new Array(600).fill(0)), 249, 0);
  assert.is(frames.length, 3);
  const next = flat(framesOf(OUTSTATION, response(7, 0x0010), 249, 3));
  const { dnp3, anomalies } = await run(session().fromServer([...frames[1], ...frames[2], ...next]).frames);
  assert.equal(dnp3.map((r) => r.fields.iin), [0x0010]);
  assert.is(anomalies["dnp3.transport_no_first_segment"], 1);
  assert.is(anomalies["dnp3.transport_fragment_abandoned"] ?? 0, 0);
});

test("dnp3 repeated transport segment is ignored", async () => {
  const values = Array.from({ length: 120 }, (_, i) => [0x01, i, 0, 0, 0]).flat();
  const frames = framesOf(OUTSTATION, response(8, 0, ranged(30, 1, 0, 119, values)));
  const { dnp3, anomalies } = await run(session().fromServer([...frames[0], ...frames[1], ...frames[1], ...frames[2]]).frames);
  assert.is(dnp3.length, 1);
  assert.is(dnp3[0].fields.transport_segments, 3);
  assert.is(dnp3[0].fields.object_count, 120);
  assert.is(anomalies["dnp3.transport_sequence_error"] ?? 0, 0);
});

test("dnp3 reassembly slots give way to the oldest", async () => {
  // Five outstations start multi-segment responses at once; the flow has four slots.
  const firsts: number[] = [];
  const rests: number[] = [];
  for (let source = 1; source <= 5; source++) {
    const frames = framesOf({ control: FROM_OUTSTATION, destination: 1, source }, response(source, 0, new Array(300).fill(0)));
    firsts.push(...frames[0]);
    rests.push(...frames[1]);
  }
  const { dnp3, anomalies } = await run(session().fromServer([...firsts, ...rests]).frames);
  assert.is(anomalies["dnp3.reassembly_slots_full"], 1);
  assert.equal(dnp3.map((r) => r.fields.source_address), [2, 3, 4, 5]);
  assert.is(anomalies["dnp3.transport_no_first_segment"], 1);
});

test("dnp3 pending requests bounded and counted at close", async () => {
  const c = session();
  for (let outstation = 1; outstation <= 9; outstation++) {
    c.fromClient(flat(framesOf({ control: FROM_MASTER, destination: outstation, source: 100 }, request(1, 0x01, allObjects(60, 1)))));
  }
  const { anomalies } = await run(c.frames);
  assert.is(anomalies["dnp3.pending_overflow"], 1);
  assert.is(anomalies["dnp3.unanswered_request"], 8);
});

test("dnp3 fragment above 2048 octets is cut and marked truncated", async () => {
  const values = new Array(2400 - 9).fill(0);
  const fragment = response(7, 0, ranged(110, 255, 0, 9, values)); // ten 255-octet strings: 2550 > what is kept
  const frames = framesOf(OUTSTATION, fragment);
  const { dnp3, anomalies } = await run(session().fromServer(flat(frames)).frames);
  assert.is(dnp3.length, 1);
  assert.is(dnp3[0].fields.truncated, true);
  assert.is(dnp3[0].fields.fragment_bytes, 2048);
  assert.is(dnp3[0].fields.objects_not_walked, "truncated");
  assert.is(anomalies["dnp3.fragment_too_large"], 1);
});

test("dnp3 several link frames in one TCP segment", async () => {
  const read = flat(framesOf(MASTER, request(1, 0x01, [...allObjects(60, 2), ...allObjects(60, 3), ...allObjects(60, 4), ...allObjects(60, 1)])));
  const disable = flat(framesOf(MASTER, request(2, 0x15, [...allObjects(60, 2), ...allObjects(60, 3)])));
  const { dnp3 } = await run(session().fromClient([...read, ...disable]).frames);
  assert.equal(dnp3.map((r) => r.fields.function), ["READ", "DISABLE_UNSOLICITED"]);
  assert.equal(dnp3[0].fields.object_variation, [2, 3, 4, 1]);
  assert.equal(dnp3[0].fields.object_qualifier, [6, 6, 6, 6]);
});

test("dnp3 link frame split across TCP segments", async () => {
  const frame = flat(framesOf(MASTER, request(9, 0x12, ranged(90, 1, 0, 0))));
  const c = session().fromClient(frame.slice(0, 1)).fromClient(frame.slice(1, 9)).fromClient(frame.slice(9, 14)).fromClient(frame.slice(14));
  const { dnp3 } = await run(c.frames);
  assert.is(dnp3.length, 1);
  assert.is(dnp3[0].fields.function, "STOP_APPL");
  assert.is(dnp3[0].fields.object_group, 90);
});

test("dnp3 unknown object size stops the walk and says so", async () => {
  // g70v5 (file transport) under a start-stop range: its size is not in the table.
  const write = request(1, 0x02, [...ranged(80, 1, 7, 7, [0x00]), ...ranged(70, 5, 0, 0, [1, 2, 3, 4]), ...allObjects(60, 1)]);
  const { dnp3, anomalies } = await run(session().fromClient(flat(framesOf(MASTER, write))).frames);
  assert.equal(dnp3[0].fields.object_group, [80, 70]);
  assert.is(dnp3[0].fields.objects_not_walked, "unknown_object_size");
  assert.is(anomalies["dnp3.unknown_object_size"], 1);
});

test("dnp3 size-prefixed file object walked", async () => {
  // OPEN_FILE with one g70v3 object behind a 2-octet size prefix (qualifier 0x5B),
  // then a second header that is only reached when the first was walked.
  const body = new Array(30).fill(0x41);
  const open = request(2, 0x19, [70, 3, 0x5b, 1, body.length & 0xff, body.length >> 8, ...body, ...allObjects(60, 1)]);
  const { dnp3 } = await run(session().fromClient(flat(framesOf(MASTER, open))).frames);
  assert.is(dnp3[0].fields.function, "OPEN_FILE");
  assert.equal(dnp3[0].fields.object_group, [70, 60]);
  assert.is(dnp3[0].fields.objects_not_walked, undefined);
});

test("dnp3 device attributes fill the identity fields", async () => {
  const read = request(1, 0x01, allObjects(0, 254));
  const uint16Attribute = [0, 240, 0x00, 0, 0, 2, 2, 0x00, 0x08]; // maximum transmit fragment size, not text
  const answer = response(1, 0, [
    ...attribute(252, "ACME Controls"), ...attribute(250, "RTU-5 model 9"), ...attribute(248, "SN-0042"),
    ...uint16Attribute, ...attribute(242, "2.7"), ...attribute(247, "Feeder 3"),
  ]);
  const c = session().fromClient(flat(framesOf(MASTER, read))).fromServer(flat(framesOf(OUTSTATION, answer)));
  const { dnp3 } = await run(c.frames);
  const r = dnp3[1];
  assert.is(r.fields.vendor_name, "ACME Controls");
  assert.is(r.fields.product_name, "RTU-5 model 9");
  assert.is(r.fields.serial_number, "SN-0042");
  assert.is(r.fields.revision, "2.7");
  assert.is(r.fields.device_name, "Feeder 3");
  assert.equal(r.fields.object_variation, [252, 250, 248, 240, 242, 247]);
  assert.is(r.fields.objects_not_walked, undefined);
  assert.is(r.fields.source_address, 10);
});

test("dnp3 file command names the file", async () => {
  const open = request(2, 0x19, fileCommand("config/relay.cfg", 2, 4096));
  const { dnp3 } = await run(session().fromClient(flat(framesOf(MASTER, open))).frames);
  assert.is(dnp3[0].fields.function, "OPEN_FILE");
  assert.is(dnp3[0].fields.file_name, "config/relay.cfg");
  assert.is(dnp3[0].fields.file_mode, "WRITE");
  assert.is(dnp3[0].fields.file_size, 4096);
});

test("dnp3 over UDP: a request and its response, two frames in one datagram", async () => {
  const confirm = linkFrame(MASTER, [0xc0, ...request(3, 0x00)]);
  const read = flat(framesOf(MASTER, request(4, 0x01, allObjects(60, 1))));
  const answer = flat(framesOf(OUTSTATION, response(4, 0x0002)));
  const frames = [
    udpFrame({ src: "10.30.0.1", dst: "10.30.0.2", srcPort: 20000, dstPort: 20000, payload: [...confirm, ...read] }),
    udpFrame({ src: "10.30.0.2", dst: "10.30.0.1", srcPort: 20000, dstPort: 20000, payload: answer }),
  ];
  const { dnp3 } = await run(frames);
  assert.equal(dnp3.map((r) => r.fields.function), ["CONFIRM", "READ", "RESPONSE"]);
  assert.ok(dnp3.every((r) => r.transport === "udp"));
  assert.is(dnp3[2].fields.request_function, "READ");
  assert.equal(dnp3[2].fields.iin_flag, "OBJECT_UNKNOWN");
  assert.is(dnp3[2].src.ip, "10.30.0.1");
});

test("dnp3 UDP datagram ending inside a frame is counted", async () => {
  const read = flat(framesOf(MASTER, request(4, 0x01, allObjects(60, 1))));
  const { dnp3, anomalies } = await run([udpFrame({ src: "10.30.0.1", dst: "10.30.0.2", srcPort: 50000, dstPort: 20000, payload: read.slice(0, 14) })]);
  assert.is(dnp3.length, 0);
  assert.is(anomalies["dnp3.udp_frame_truncated"], 1);
});

test("dnp3 found by content on another port", async () => {
  const { dnp3, counters } = await run(session(30000).fromClient(flat(framesOf(MASTER, request(1, 0x0e)))).frames);
  assert.is(dnp3.length, 1);
  assert.is(counters["flows.dnp3"], 1);
});

test("dnp3 garbage before a frame is skipped within the bound", async () => {
  const garbage = [0x05, 0x00, 0x64, 0x05, 0x64, 0x03, 0xff, 0x12];
  const good = flat(framesOf(MASTER, request(1, 0x0d)));
  const { dnp3, anomalies } = await run(session().fromClient([...good, ...garbage, ...good]).frames);
  assert.is(dnp3.length, 2);
  assert.ok(anomalies["dnp3.resync_bytes_skipped"] >= 1);
});

test("dnp3 stream of garbage is rejected after the resynchronisation limit", async () => {
  const c = session();
  c.fromClient(flat(framesOf(MASTER, request(1, 0x0d))));
  for (let i = 0; i < 6; i++) c.fromClient(new Array(500).fill(0x55));
  c.fromClient(flat(framesOf(MASTER, request(2, 0x0e))));
  const { dnp3, anomalies } = await run(c.frames);
  assert.is(dnp3.length, 1);
  assert.is(anomalies["dnp3.resync_limit_reached"], 1);
});

test("dnp3 junk repeating the start octets reaches the limit too", async () => {
  // Each fake header passes the start check and fails its CRC.
  const c = session();
  c.fromClient(flat(framesOf(MASTER, request(1, 0x0d))));
  for (let i = 0; i < 40; i++) c.fromClient(Array.from({ length: 25 }, () => [0x05, 0x64, 0x10, 0xc4]).flat());
  c.fromClient(flat(framesOf(MASTER, request(2, 0x0e))));
  const { dnp3, anomalies } = await run(c.frames);
  assert.is(dnp3.length, 1);
  assert.is(anomalies["dnp3.resync_limit_reached"], 1);
  assert.ok(anomalies["dnp3.link_header_crc_mismatch"] > 100);
});

test("dnp3 hostile lengths, counts and truncations never trap", async () => {
  const cases: number[][] = [
    request(1, 0x01, [1, 2, 0x09, 0xff, 0xff, 0xff, 0xff]),        // 4-octet count of 2^32 - 1
    request(1, 0x02, [1, 2, 0x02, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), // 4-octet range 0 to 2^32 - 1
    request(1, 0x02, [1, 2, 0x01, 9, 0, 1, 0]),                    // stop below start
    request(1, 0x02, [12, 1, 0x78, 1, 0]),                         // reserved prefix 7
    request(1, 0x02, [12, 1, 0x0c]),                               // reserved range code
    request(1, 0x19, [70, 3, 0x5b, 200, 0xff, 0xff]),              // size prefix past the end
    request(1, 0x05, [12, 1, 0x28, 0xff, 0xff, 0, 0]),             // 65535 CROBs announced
    response(1, 0, [1]),                                           // header cut after the group
    [0xc0],                                                        // one octet of application data
    response(1, 0).slice(0, 3),                                    // response without IIN2
  ];
  const c = session();
  for (const fragment of cases) c.fromClient(flat(framesOf(MASTER, fragment)));
  // Fake headers from the outstation, below the resynchronisation limit in all.
  for (let i = 0; i < 60; i++) {
    const length = 5 + ((i * 37) % 251);
    c.fromServer([0x05, 0x64, length, i & 0xff, ...Array.from({ length: (i * 13) % 40 }, (_, k) => (k * i) & 0xff)]);
  }
  c.fromClient(flat(framesOf(MASTER, request(2, 0x0d))));
  const { dnp3, anomalies } = await run(c.frames);
  // Every case but the single octet makes a record, and so does the final request.
  assert.is(dnp3.length, cases.length);
  assert.is(dnp3[dnp3.length - 1].fields.function, "COLD_RESTART");
  assert.ok(anomalies["dnp3.objects_truncated"] >= 2);
  assert.is(anomalies["dnp3.object_range_invalid"], 1);
  assert.is(anomalies["dnp3.qualifier_reserved"], 2);
  assert.is(anomalies["dnp3.application_truncated"], 2);
});

test.run();
