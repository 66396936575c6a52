// The core's layers below the dissectors: link types, IPv4 and IPv6 with
// extension headers and fragments, the flow table, and the batch loop.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation, tcpFrame, udpFrame, batchOf, timed } from "../helpers/frames.js";
import { Command, nbss, smb2, treeConnectRequest } from "../smb/build.js";
import type { CoreRecord } from "../../agent/src/core/core.js";
import {
  runFrames, runTimed, loadCore, modbusRecords, readHoldingRequest, readHoldingResponse,
  stripEthernet, withVlanTags, sllFrame, sll2Frame, nullFrame, ipv4Fragments, ipv6WithExtensions, ipv6Fragments,
} from "./run.js";

// One Modbus request and response over a fresh connection; the reference
// traffic for the link-layer tests.
function modbusExchange(client = "10.1.0.1", server = "10.1.0.2", clientPort = 40001): Uint8Array[] {
  const c = new TcpConversation(client, clientPort, server, 502).handshake();
  c.fromClient(readHoldingRequest(1, 10, 2)).fromServer(readHoldingResponse(1, [3, 4]));
  return c.frames;
}

async function assertTwoModbusRecords(frames: Uint8Array[], linkType: number, client = "10.1.0.1"): Promise<void> {
  const run = await runFrames(frames, { linkType });
  const records = modbusRecords(run);
  assert.is(records.length, 2, `records for link type ${linkType}`);
  assert.is(records[0].src.ip, client);
  assert.is(records[0].dst.port, 502);
}

test("ethernet with one 802.1Q tag", async () => {
  await assertTwoModbusRecords(modbusExchange().map((f) => withVlanTags(f, [[0x8100, 12]])), 1);
});

test("ethernet with QinQ tags", async () => {
  await assertTwoModbusRecords(modbusExchange().map((f) => withVlanTags(f, [[0x88a8, 100], [0x8100, 12]])), 1);
});

test("too many VLAN tags are counted", async () => {
  const tags: Array<[number, number]> = [[0x88a8, 1], [0x8100, 2], [0x8100, 3], [0x8100, 4], [0x8100, 5]];
  const run = await runFrames(modbusExchange().map((f) => withVlanTags(f, tags)));
  assert.is(modbusRecords(run).length, 0);
  assert.is(run.anomalies["link.vlan_too_deep"], 5);
});

test("linux cooked capture v1", async () => {
  await assertTwoModbusRecords(modbusExchange().map(sllFrame), 113);
});

test("linux cooked capture v2", async () => {
  await assertTwoModbusRecords(modbusExchange().map(sll2Frame), 276);
});

test("raw IP link types", async () => {
  for (const linkType of [101, 12, 14, 228]) {
    await assertTwoModbusRecords(modbusExchange().map(stripEthernet), linkType);
  }
  const v6 = modbusExchange("fd00::1", "fd00::2");
  await assertTwoModbusRecords(v6.map(stripEthernet), 229, "fd00::1");
  await assertTwoModbusRecords(v6.map(stripEthernet), 101, "fd00::1");
});

test("null and loop link types", async () => {
  await assertTwoModbusRecords(modbusExchange().map((f) => nullFrame(f, 2, false)), 0);
  await assertTwoModbusRecords(modbusExchange().map((f) => nullFrame(f, 2, true)), 0);
  await assertTwoModbusRecords(modbusExchange().map((f) => nullFrame(f, 2, true)), 108);
  for (const family of [24, 28, 30]) {
    await assertTwoModbusRecords(modbusExchange("fd00::1", "fd00::2").map((f) => nullFrame(f, family, false)), 0, "fd00::1");
  }
});

test("unknown link type is counted", async () => {
  const run = await runFrames(modbusExchange(), { linkType: 147 });
  assert.is(run.counters["link.unsupported"], 5);
  assert.is(run.anomalies["link.unsupported_type"], 5);
  assert.is(run.counters["tcp.segments"], undefined);
});

test("ipv6 extension headers walked", async () => {
  const hopByHop: [number, number[]] = [0, [1, 4, 0, 0, 0, 0]];          // PadN option
  const routing: [number, number[]] = [43, [0, 0, 0, 0, 0, 0]];          // type 0, segments left 0
  const destination: [number, number[]] = [60, [1, 4, 0, 0, 0, 0]];
  const frames = modbusExchange("fd00::1", "fd00::2").map((f) => ipv6WithExtensions(f, [hopByHop, routing, destination]));
  const run = await runFrames(frames);
  assert.is(modbusRecords(run).length, 2);
  assert.is(run.counters["ipv6.packets"], 5);
});

test("ipv6 extension chain too long", async () => {
  const option: [number, number[]] = [60, [1, 4, 0, 0, 0, 0]];
  const frames = modbusExchange("fd00::1", "fd00::2").map((f) => ipv6WithExtensions(f, Array(9).fill(option)));
  const run = await runFrames(frames);
  assert.is(modbusRecords(run).length, 0);
  assert.is(run.anomalies["ipv6.extension_chain_too_long"], 5);
});

test("ipv4 fragments reassembled in any order", async () => {
  const c = new TcpConversation("10.2.0.1", 40002, "10.2.0.2", 502).handshake();
  const payload = Array.from({ length: 20 }, (_, i) => readHoldingRequest(100 + i, i, 1)).flat();
  c.fromClient(payload);
  const dataFrame = c.frames.pop()!;
  const fragments = ipv4Fragments(dataFrame, 64);
  const run = await runFrames([...c.frames, ...fragments.reverse()]);

  assert.is(modbusRecords(run).length, 20);
  assert.is(run.counters["ip.fragments"], fragments.length);
  assert.is(run.counters["ip.reassembled"], 1);
  assert.is(run.anomalies["ip.fragment_overlap"], undefined);
});

test("ipv4 overlapping fragment", async () => {
  const c = new TcpConversation("10.2.0.1", 40003, "10.2.0.2", 502).handshake();
  c.fromClient([...readHoldingRequest(1, 77, 1), ...readHoldingRequest(2, 78, 1)]);
  const dataFrame = c.frames.pop()!;
  const fragments = ipv4Fragments(dataFrame, 16);
  // Resend the second fragment with its last byte changed.
  const altered = Uint8Array.from(fragments[1]);
  altered[altered.length - 1] ^= 0xff;
  const run = await runFrames([...c.frames, fragments[0], fragments[1], altered, ...fragments.slice(2)]);

  assert.equal(modbusRecords(run).map((r) => r.fields.start_address), [77, 78]);
  assert.is(run.anomalies["ip.fragment_overlap"], 1);
});

test("ipv4 fragment limits counted", async () => {
  const c = new TcpConversation("10.2.1.1", 40010, "10.2.1.2", 502).handshake();
  c.fromClient(Array.from({ length: 10 }, (_, i) => readHoldingRequest(i, i, 1)).flat());
  const [first, second] = ipv4Fragments(c.frames.pop()!, 64);
  // A fragment whose offset puts its end past 65,535 bytes.
  const beyond = Uint8Array.from(second);
  new DataView(beyond.buffer).setUint16(14 + 6, 0x2000 | 8190);
  const frames = [
    { tsSec: 100, tsFrac: 0, bytes: first },
    { tsSec: 100, tsFrac: 1, bytes: beyond },
    // The rest of the datagram arrives after the 30-second reassembly
    // timeout, as the first fragment of a new datagram.
    { tsSec: 200, tsFrac: 0, bytes: second },
  ];
  const run = await runTimed(frames);

  assert.is(run.anomalies["ip.fragment_too_large"], 1);
  assert.is(run.anomalies["ip.fragment_timeout"], 1);
  assert.is(run.counters["ip.reassembled"], undefined);
});

test("ipv6 fragments reassembled", async () => {
  const c = new TcpConversation("fd00::1", 40004, "fd00::2", 502).handshake();
  c.fromClient(Array.from({ length: 10 }, (_, i) => readHoldingRequest(i, i, 1)).flat());
  const dataFrame = c.frames.pop()!;
  const fragments = ipv6Fragments(dataFrame, 48, 0x1234);
  const run = await runFrames([...c.frames, fragments[1], fragments[0], ...fragments.slice(2)]);

  assert.is(modbusRecords(run).length, 10);
  assert.is(run.counters["ip.reassembled"], 1);
});

test("ipv4 padding trimmed by total length", async () => {
  const c = new TcpConversation("10.3.0.1", 40005, "10.3.0.2", 502).handshake();
  c.fromClient(readHoldingRequest(1, 5, 1));
  // Ethernet padding after the IP packet must not reach the dissector.
  const padded = c.frames.map((f) => Uint8Array.from([...f, 0, 0, 0, 0, 0, 0]));
  const run = await runFrames(padded);
  assert.is(modbusRecords(run).length, 1);
  assert.is(run.counters["stream.bytes_delivered"], 12);
});

test("ipv4 header errors counted", async () => {
  const good = tcpFrame({ src: "10.4.0.1", dst: "10.4.0.2", srcPort: 40006, dstPort: 502, seq: 1, payload: readHoldingRequest(1, 1, 1) });
  const badVersion = Uint8Array.from(good); badVersion[14] = 0x55;
  const badHeaderLength = Uint8Array.from(good); badHeaderLength[14] = 0x44;
  const badTotalLength = Uint8Array.from(good); badTotalLength[16] = 0; badTotalLength[17] = 10;
  const run = await runFrames([badVersion, badHeaderLength, badTotalLength]);
  assert.is(run.anomalies["ipv4.bad_version"], 1);
  assert.is(run.anomalies["ipv4.bad_header_length"], 1);
  assert.is(run.anomalies["ipv4.bad_total_length"], 1);
  assert.is(run.counters["tcp.segments"], undefined);
});

test("udp datagrams counted", async () => {
  const run = await runFrames([
    udpFrame({ src: "10.5.0.1", dst: "10.5.0.2", srcPort: 40000, dstPort: 40001, payload: [5, 0x64, 1, 2] }),
    udpFrame({ src: "fd00::5", dst: "fd00::6", srcPort: 53, dstPort: 5353, payload: [1, 2, 3] }),
  ]);
  assert.is(run.counters["udp.datagrams"], 2);
  assert.is(run.counters["udp.undissected"], 2);
});

test("flow table eviction under small maxFlows", async () => {
  const frames = [1, 2, 3].flatMap((i) => modbusExchange(`10.6.0.${i}`, "10.6.0.100", 41000 + i));
  const run = await runFrames(frames, { limits: { maxFlows: 2, appStateSlots: 2 } });

  assert.is(run.counters["flows.created"], 3);
  assert.is(run.counters["flows.evicted"], 1);
  assert.is(run.anomalies["flow.table_full_eviction"], 1);
  assert.is(modbusRecords(run).length, 6);
});

test("large dissector state exhausted", async () => {
  // SMB takes a 32 KiB state area from the appStateSlots pool: with one
  // area, the second SMB flow is not dissected.
  const frames = [1, 2].flatMap((i) => {
    const c = new TcpConversation(`10.7.0.${i}`, 42000 + i, "10.7.0.100", 445).handshake();
    c.fromClient(nbss(smb2({ command: Command.TREE_CONNECT, messageId: i }, treeConnectRequest("\\\\server\\share"))));
    return c.frames;
  });
  const run = await runFrames(frames, { limits: { maxFlows: 4, appStateSlots: 1 } });

  const smb = run.records.filter((r) => r.type === "smb");
  assert.ok(smb.length > 0, "the first SMB flow gives records");
  assert.ok(smb.every((r) => r.src.ip === "10.7.0.1"), "only the first SMB flow gives records");
  assert.is(run.anomalies["flow.app_state_exhausted"], 1);
});

test("large dissector state reused after reset", async () => {
  // With one 32 KiB area, the first SMB flow's reset returns it to the pool
  // and the second SMB flow takes it, cleared: its records name only its
  // own share.
  const frames = [1, 2].flatMap((i) => {
    const c = new TcpConversation(`10.7.3.${i}`, 42200 + i, "10.7.3.100", 445).handshake();
    c.fromClient(nbss(smb2({ command: Command.TREE_CONNECT, messageId: i }, treeConnectRequest(`\\\\server\\share${i}`))));
    c.frames.push(tcpFrame({ src: c.client, dst: c.server, srcPort: c.clientPort, dstPort: c.serverPort, seq: c.clientSeq, flags: "R" }));
    return c.frames;
  });
  const run = await runFrames(frames, { limits: { maxFlows: 4, appStateSlots: 1 } });
  const shares = run.records.filter((r) => r.type === "smb" && r.fields.share !== undefined);

  assert.is(run.anomalies["flow.app_state_exhausted"], undefined);
  assert.equal(shares.map((r) => r.src.ip), ["10.7.3.1", "10.7.3.2"]);
  assert.equal(shares.map((r) => r.fields.share), ["\\\\server\\share1", "\\\\server\\share2"]);
  assert.is(run.counters["flows.closed"], 2);
});

test("modbus flows ignore appStateSlots", async () => {
  // Modbus takes a small state area, one per flow of the flow table, so
  // appStateSlots does not limit it.
  const frames = [1, 2, 3].flatMap((i) => modbusExchange(`10.7.1.${i}`, "10.7.1.100", 42100 + i));
  const run = await runFrames(frames, { limits: { maxFlows: 3, appStateSlots: 1 } });

  assert.is(modbusRecords(run).length, 6);
  assert.is(run.anomalies["flow.app_state_exhausted"], undefined);
});

// A Modbus flow that sends `requests` requests before the first response.
function pipelinedModbus(client: string, clientPort: number, requests: number): Uint8Array[] {
  const c = new TcpConversation(client, clientPort, "10.7.2.100", 502).handshake();
  for (let tid = 1; tid <= requests; tid++) c.fromClient(readHoldingRequest(tid, tid * 10, 1));
  for (let tid = 1; tid <= requests; tid++) c.fromServer(readHoldingResponse(tid, [tid]));
  return c.frames;
}

test("modbus pipelined requests take an extension", async () => {
  // 4 pending requests fit the flow's own state area; the rest go to a
  // pending extension, and every response still finds its request.
  const run = await runFrames(pipelinedModbus("10.7.2.1", 42201, 10));
  const responses = modbusRecords(run).filter((r) => r.fields.pdu_type === "response");

  assert.is(responses.length, 10);
  assert.equal(responses.map((r) => r.fields.start_address), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.is(run.anomalies["modbus.pending_overflow"], undefined);
  assert.is(run.anomalies["modbus.unmatched_response"], undefined);
});

test("modbus extensions released at flow end", async () => {
  // 2,100 flows one after another, each with 6 requests in flight, through a
  // table of 8 flows: more flows than the 2,048 extensions, so each evicted
  // flow must give its extension back.
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 2100; i++) frames.push(...pipelinedModbus(`10.7.${3 + (i >> 8)}.${i & 0xff}`, 43000 + (i % 1000), 6));
  const run = await runFrames(frames, { limits: { maxFlows: 8, appStateSlots: 1 } });

  assert.is(modbusRecords(run).length, 2100 * 12);
  assert.is(run.anomalies["modbus.pending_overflow"], undefined);
  assert.is(run.anomalies["modbus.unanswered_request"], undefined);
});

test("idle flows expire by packet time", async () => {
  const first = modbusExchange("10.8.0.1", "10.8.0.2", 43001);
  const second = modbusExchange("10.8.0.3", "10.8.0.2", 43002);
  const frames = [
    ...first.map((bytes) => ({ tsSec: 1000, tsFrac: 0, bytes })),
    ...second.map((bytes) => ({ tsSec: 1100, tsFrac: 0, bytes })),
  ];
  const run = await runTimed(frames, { limits: { flowIdleTimeoutSec: 60 } });

  assert.is(run.counters["flows.expired"], 1);
  assert.is(run.counters["flows.closed"], 1);
  assert.is(modbusRecords(run).length, 4);
});

test("tick expires flows by host time", async () => {
  const core = await loadCore({ flowIdleTimeoutSec: 60 });
  const records: CoreRecord[] = [];
  const c = new TcpConversation("10.8.1.1", 43101, "10.8.1.2", 502).handshake();
  // A request with no response: the dissector reports it when the flow ends.
  c.fromClient(readHoldingRequest(9, 1, 1));
  core.process(batchOf(c.frames.map((bytes) => ({ tsSec: 1000, tsFrac: 0, bytes }))), (r) => records.push(r));
  const before = records.length;
  core.tick(1030, (r) => records.push(r));
  const afterEarlyTick = core.stats().counters["flows.expired"];
  core.tick(1100, (r) => records.push(r));

  assert.is(before, 1);
  assert.is(afterEarlyTick, undefined);
  assert.is(core.stats().counters["flows.expired"], 1);
  assert.is(core.stats().anomalies["modbus.unanswered_request"], 1);
});

test("port reuse after close starts a new flow", async () => {
  const first = new TcpConversation("10.8.2.1", 43201, "10.8.2.2", 502, 1000).handshake();
  first.fromClient(readHoldingRequest(1, 1, 1)).fromServer(readHoldingResponse(1, [1]));
  first.frames.push(tcpFrame({ src: "10.8.2.1", dst: "10.8.2.2", srcPort: 43201, dstPort: 502, seq: first.clientSeq, flags: "FA" }));
  first.frames.push(tcpFrame({ src: "10.8.2.2", dst: "10.8.2.1", srcPort: 502, dstPort: 43201, seq: first.serverSeq, flags: "FA" }));
  const second = new TcpConversation("10.8.2.1", 43201, "10.8.2.2", 502, 900000).handshake();
  second.fromClient(readHoldingRequest(2, 2, 1));
  const run = await runFrames([...first.frames, ...second.frames]);
  const records = modbusRecords(run);

  assert.is(run.counters["flows.created"], 2);
  assert.equal(records.map((r) => r.fields.transaction_id), [1, 1, 2]);
  assert.is(records[0].flowId === records[2].flowId, false);
  assert.is(run.anomalies["tcp.seq_gap"], undefined);
});

test("snap length truncation accepted", async () => {
  // caplen below wirelen: the IP total length exceeds the captured bytes
  // without being malformed.
  const frame = tcpFrame({ src: "10.8.3.1", dst: "10.8.3.2", srcPort: 43301, dstPort: 502, seq: 1, payload: readHoldingRequest(1, 1, 1) });
  const cut = frame.subarray(0, frame.length - 4);
  const run = await runTimed([{ tsSec: 1, tsFrac: 0, bytes: cut, wireLength: frame.length }]);

  assert.is(run.anomalies["ipv4.bad_total_length"], undefined);
  assert.is(run.counters["tcp.segments"], 1);
  assert.is(run.counters["tcp.payload_bytes"], 8);
});

test("batch larger than scratch is split", async () => {
  // About 6 MiB of frames, more than the 4 MiB scratch region.
  const c = new TcpConversation("10.9.0.1", 44001, "10.9.0.2", 502).handshake();
  const adu = readHoldingRequest(1, 1, 1);
  const segment = Array.from({ length: 120 }, () => adu).flat();
  for (let i = 0; i < 4200; i++) c.fromClient(segment);
  const run = await runFrames(c.frames);

  assert.is(run.counters["packets"], c.frames.length);
  assert.is(modbusRecords(run).length, 4200 * 120);
});

test("event buffer drained when it fills", async () => {
  // The smallest event buffer makes the core stop and resume many times.
  const c = new TcpConversation("10.10.0.1", 45001, "10.10.0.2", 502).handshake();
  for (let i = 0; i < 3000; i++) c.fromClient(readHoldingRequest(i, i, 1));
  const run = await runFrames(c.frames, { limits: { eventBufferBytes: 131072 } });
  const ids = modbusRecords(run).map((r) => r.fields.transaction_id);

  assert.is(ids.length, 3000);
  assert.equal(ids.slice(0, 3), [0, 1, 2]);
  assert.is(ids[2999], 2999);
  assert.is(run.anomalies["event.buffer_full"], undefined);
});

test("caplen past the batch end stops the batch", async () => {
  const batch = batchOf(timed(modbusExchange()));
  // Claim the last record is longer than the bytes present.
  let at = 0;
  for (let i = 0; i < batch.count - 1; i++) at += 16 + new DataView(batch.bytes.buffer).getUint32(at + 8, true);
  new DataView(batch.bytes.buffer).setUint32(at + 8, 5000, true);
  const core = await loadCore();
  const records: CoreRecord[] = [];
  core.process(batch, (r) => records.push(r));
  core.finish((r) => records.push(r));
  const stats = core.stats();

  assert.is(stats.counters["packets"], batch.count - 1);
  assert.is(stats.anomalies["pcap.record_length_invalid"], 1);
});

test("record timestamps in nanoseconds", async () => {
  const frames = modbusExchange().map((bytes, i) => ({ tsSec: 1_500_000_000, tsFrac: 123_456_789 + i, bytes }));
  const core = await loadCore();
  const records: CoreRecord[] = [];
  core.process(batchOf(frames, 1, 1_000_000_000), (r) => records.push(r));
  core.finish((r) => records.push(r));

  assert.is(records[0].tsSec, 1_500_000_000);
  assert.is(records[0].tsNsec, 123_456_789 + 3);
  assert.is(records[0].ts, "2017-07-14T02:40:00.123456Z");
});

test.run();
