// OT models on public captures and on byte-built Modbus conversations.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { capture } from "../helpers/captures.js";
import { pcapFile, TcpConversation, timed } from "../helpers/frames.js";
import { adu, u16 } from "../modbus/run.js";
import { replayOt, tempFile, tempYaml } from "./run.js";

// Models whose ids start with these are the OT models (models/ot-*.yaml and
// models/modbus-*.yaml).
const isOtModel = (id: string) => id.startsWith("ot-") || id.startsWith("modbus-");

// suricata-verify's modbus FC 8 capture: 10.0.0.57 sends Force Listen Only
// Mode (sub-function 4) three times and Restart Communications Option
// (sub-function 1) twice to 10.0.0.3, then FC 43 and FC 17 requests.
test("diagnostics restart and listen-only", async () => {
  const file = capture("modbus/suricata_modbus_fc8_diag_fc43.pcap");
  if (!file) return;
  const { byModel } = await replayOt([file]);
  const listenOnly = byModel.get("ot-diagnostics-listen-only") ?? [];
  const restart = byModel.get("ot-diagnostics-restart") ?? [];
  assert.is(listenOnly.length, 3);
  assert.is(restart.length, 3);
  for (const alert of [...listenOnly, ...restart]) {
    assert.is(alert.src.ip, "10.0.0.57");
    assert.is(alert.dst.ip, "10.0.0.3");
    assert.ok(alert.score >= 80, `${alert.model} scored ${alert.score}`);
    assert.is(alert.learning, false);
  }
  assert.equal(listenOnly[0].mitre, ["T0814"]);
  assert.equal(restart[0].mitre, ["T0816"]);
  assert.is(listenOnly[0].evidence.sub_function, 4);
  assert.is(restart[0].evidence.sub_function, 1);
});

// Zeek's FC 43 capture: 192.168.2.42 reads the basic device identification
// of 192.168.88.100 for unit id 0, then for unit id 255.
test("device identification scan", async () => {
  const file = capture("modbus/zeek_modbus-eit_fc43_device_id.pcap");
  if (!file) return;
  const { byModel } = await replayOt([file]);
  const requests = byModel.get("ot-device-identification") ?? [];
  assert.is(requests.length, 2);
  assert.equal(requests.map((a) => a.evidence.unit_id), [0, 255]);
  const scan = byModel.get("ot-identification-scan") ?? [];
  assert.is(scan.length, 1);
  assert.is(scan[0].src.ip, "192.168.2.42");
  assert.is(scan[0].dst.ip, "192.168.88.100");
  assert.equal(scan[0].mitre, ["T0846", "T0888"]);
  assert.ok(scan[0].score >= 70, `scan scored ${scan[0].score}`);
});

// ITI plant capture: one master (141.81.0.10) polls 13 outstations with
// FC 1, 2, 4 and writes with FC 15 and 16: normal operation only.
test("plant polling raises no OT alert of 50", async () => {
  const file = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!file) return;
  const { alerts } = await replayOt([file]);
  const high = alerts.filter((a) => isOtModel(a.model) && a.score >= 50);
  assert.equal(high.map((a) => `${a.model} ${a.score} ${a.dst.ip}`), []);
});

// The same capture with a site profile for 141.81.0.44 that names another
// master and narrower writable ranges. Every write of the real master is a
// command from an unlisted host. The writes outside coils 0-2 and holding
// registers 100-108 break the register map.
test("site profile drives master and range checks", async () => {
  const file = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!file) return;
  const profile = tempYaml("plant-44.yaml", `
id: plant-44
name: Plant outstation 44
protocol: modbus
match:
  addresses: ["141.81.0.44"]
registers:
  coils:
    writable: [{ first: 0, last: 2 }]
  holding_registers:
    writable: [{ first: 100, last: 108 }]
expected_masters: ["141.81.0.200"]
sources:
  - { title: test profile, url: "https://example.invalid/plant-44" }
`);
  const { byModel, records } = await replayOt([file], [profile]);
  const writes = records.filter((r) => r.dst.ip === "141.81.0.44" && r.pdu_type === "request" && (r.function_code === 15 || r.function_code === 16));
  const outside = writes.filter((r) => {
    const first = r.start_address as number;
    const last = first + (r.quantity as number) - 1;
    return r.function_code === 15 ? last > 2 : first < 100 || last > 108;
  });
  assert.ok(outside.length > 0, `${outside.length} of ${writes.length} writes outside`);
  assert.ok(outside.length < writes.length, `${outside.length} of ${writes.length} writes outside`);

  const unauthorized = byModel.get("ot-unauthorized-command-profile") ?? [];
  assert.is(unauthorized.length, writes.length);
  assert.ok(unauthorized.every((a) => a.dst.ip === "141.81.0.44" && a.src.ip === "141.81.0.10"));
  assert.equal(unauthorized[0].mitre, ["T0855"]);
  const outsideAlerts = byModel.get("ot-write-outside-profile") ?? [];
  assert.is(outsideAlerts.length, outside.length);
  assert.equal(outsideAlerts[0].mitre, ["T0836"]);
  assert.ok(outsideAlerts[0].why.some((w) => w.factor === "profile"));
});

// A device reports a Modicon M221 identity (FC 43/14) in the first file. The
// second file sends it FC 20, which the M221 profile does not list. Profiles
// bind after each batch, so only the FC 20 request after the identity fires.
test("identity binds a profile mid-replay", async () => {
  const plc = "10.9.0.5";
  const ascii = (text: string) => [...Buffer.from(text, "ascii")];
  const objects = [[0, "Schneider Electric"], [1, "TM221CE16R"], [2, "1.5.1.0"]] as const;
  const identification = [0x2b, 0x0e, 1, 0x01, 0, 0, objects.length, ...objects.flatMap(([id, text]) => [id, text.length, ...ascii(text)])];
  const readFileRecord = [20, 7, 6, ...u16(1), ...u16(0), ...u16(1)];

  const first = new TcpConversation("10.9.0.1", 40001, plc, 502).handshake();
  first.fromClient(adu(1, 1, readFileRecord)).fromServer(adu(1, 1, [0x94, 0x01]));
  first.fromClient(adu(2, 1, [0x2b, 0x0e, 1, 0])).fromServer(adu(2, 1, identification));
  const second = new TcpConversation("10.9.0.1", 40002, plc, 502).handshake();
  second.fromClient(adu(3, 1, readFileRecord)).fromServer(adu(3, 1, [0x94, 0x01]));

  const files = [tempFile("identify.pcap", pcapFile(timed(first.frames, 1_733_000_000))), tempFile("probe.pcap", pcapFile(timed(second.frames, 1_733_000_010)))];
  const { byModel, session } = await replayOt(files);
  const bindings = session.bindingSummaries().filter((b) => b.ip === plc);
  assert.equal(bindings, [{ profile: "schneider-modicon-m221", ip: plc, unit_id: 1, reason: "identity", advisories: ["ICSA-18-240-01", "ICSA-18-240-02"] }]);
  const notInProfile = byModel.get("ot-function-not-in-profile") ?? [];
  assert.is(notInProfile.length, 1);
  assert.is(notInProfile[0].src.port, 40002);
  assert.is(notInProfile[0].evidence.function_code, 20);
  const device = session.inventory.find(plc);
  assert.equal(device?.profiles, ["schneider-modicon-m221"]);
  assert.is(device?.identities[0].product_code, "TM221CE16R");
});

// Eight function codes from one host to one device within a minute.
test("function-code scan", async () => {
  const c = new TcpConversation("10.9.1.1", 40100, "10.9.1.2", 502).handshake();
  [1, 2, 3, 4, 7, 11, 12, 17].forEach((code, i) => {
    c.fromClient(adu(i + 1, 1, [code, ...u16(0), ...u16(1)]));
    c.fromServer(adu(i + 1, 1, [code | 0x80, 0x01]));
  });
  const { byModel } = await replayOt([tempFile("scan.pcap", pcapFile(timed(c.frames, 1_733_000_100)))]);
  const scan = byModel.get("ot-function-code-scan") ?? [];
  assert.is(scan.length, 1);
  assert.is(scan[0].evidence.function_code, 17);
  const illegal = byModel.get("ot-illegal-function-burst") ?? [];
  assert.is(illegal.length, 1);
});

// Twenty-five reads that get ILLEGAL DATA ADDRESS: two register sweeps of
// ten, and an exception storm at twenty.
test("register sweep and exception storm", async () => {
  const c = new TcpConversation("10.9.2.1", 40200, "10.9.2.2", 502).handshake();
  for (let i = 0; i < 25; i++) {
    c.fromClient(adu(i + 1, 1, [3, ...u16(1000 * (i + 1)), ...u16(10)]));
    c.fromServer(adu(i + 1, 1, [0x83, 0x02]));
  }
  const { byModel } = await replayOt([tempFile("sweep.pcap", pcapFile(timed(c.frames, 1_733_000_200)))]);
  assert.is((byModel.get("ot-register-sweep") ?? []).length, 2);
  assert.is((byModel.get("ot-exception-storm") ?? []).length, 1);
  assert.equal(byModel.get("ot-register-sweep")![0].mitre, ["T0861", "T0846"]);
});

// Eight unit ids behind one gateway address.
test("unit-id sweep", async () => {
  const c = new TcpConversation("10.9.3.1", 40300, "10.9.3.2", 502).handshake();
  for (let unit = 1; unit <= 8; unit++) {
    c.fromClient(adu(unit, unit, [3, ...u16(0), ...u16(1)]));
    c.fromServer(adu(unit, unit, [0x83, 0x0b]));
  }
  const { byModel } = await replayOt([tempFile("units.pcap", pcapFile(timed(c.frames, 1_733_000_300)))]);
  const sweep = byModel.get("ot-unit-id-sweep") ?? [];
  assert.is(sweep.length, 1);
  assert.is(sweep[0].evidence.unit_id, 8);
});

// A master polls for two hours. Then a new master and a new device appear,
// and the polled device opens a Modbus connection to a host never seen in a
// Modbus role.
test("new master, new device and OT outbound", async () => {
  const start = 1_733_100_000;
  const frames: { tsSec: number; tsFrac: number; bytes: Uint8Array }[] = [];
  const add = (c: TcpConversation, tsSec: number) => { for (const bytes of c.frames) frames.push({ tsSec, tsFrac: frames.length, bytes }); };
  const poll = new TcpConversation("10.9.4.1", 40400, "10.9.4.2", 502).handshake();
  add(poll, start);
  for (let minute = 0; minute <= 120; minute += 10) {
    const c = new TcpConversation("10.9.4.1", 40401 + minute, "10.9.4.2", 502).handshake();
    c.fromClient(adu(1, 1, [3, ...u16(0), ...u16(4)])).fromServer(adu(1, 1, [3, 8, 0, 0, 0, 0, 0, 0, 0, 0]));
    add(c, start + minute * 60);
  }
  const rogue = new TcpConversation("10.9.4.9", 40600, "10.9.4.2", 502).handshake();
  rogue.fromClient(adu(1, 1, [3, ...u16(0), ...u16(4)])).fromServer(adu(1, 1, [3, 8, 0, 0, 0, 0, 0, 0, 0, 0]));
  add(rogue, start + 7300);
  const newcomer = new TcpConversation("10.9.4.1", 40601, "10.9.4.7", 502).handshake();
  newcomer.fromClient(adu(1, 1, [3, ...u16(0), ...u16(4)])).fromServer(adu(1, 1, [3, 8, 0, 0, 0, 0, 0, 0, 0, 0]));
  add(newcomer, start + 7310);
  const outbound = new TcpConversation("10.9.4.2", 40700, "10.20.0.5", 502).handshake();
  outbound.fromClient(adu(1, 1, [3, ...u16(0), ...u16(1)])).fromServer(adu(1, 1, [3, 2, 0, 0]));
  outbound.fromClient(adu(2, 1, [3, ...u16(0), ...u16(1)])).fromServer(adu(2, 1, [3, 2, 0, 0]));
  add(outbound, start + 7320);

  const { byModel } = await replayOt([tempFile("newcomers.pcap", pcapFile(frames))]);
  // The device that opens a connection of its own is a new master too.
  assert.equal((byModel.get("ot-new-master") ?? []).map((a) => a.src.ip), ["10.9.4.9", "10.9.4.2"]);
  assert.equal((byModel.get("ot-new-device") ?? []).map((a) => a.dst.ip), ["10.9.4.7", "10.20.0.5"]);
  const toIt = byModel.get("ot-device-to-it") ?? [];
  assert.equal(toIt.map((a) => `${a.src.ip}>${a.dst.ip}`), ["10.9.4.2>10.20.0.5"]);
  assert.ok(toIt[0].why.some((w) => w.factor === "ot_outbound"));
});

test.run();
