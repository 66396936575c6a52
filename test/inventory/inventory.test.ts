// The OT asset inventory: roles, polling periods, registers, identities and
// its bounds, from public captures and from records built in the test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { main } from "../../agent/src/cli/main.js";
import { demoCapturePath } from "../../agent/src/config/paths.js";
import { OtInventory, rolesOf } from "../../agent/src/inventory/ot-inventory.js";
import { recordToJson, type RecordJson } from "../../agent/src/publish/record.js";
import { runCaptureThroughCore } from "../helpers/core-run.js";
import { replayOt } from "../ot/run.js";

const PLANT_SERVERS = [
  "141.81.0.24", "141.81.0.26", "141.81.0.44", "141.81.0.46", "141.81.0.64", "141.81.0.66", "141.81.0.84",
  "141.81.0.86", "141.81.0.104", "141.81.0.143", "141.81.0.144", "141.81.0.163", "141.81.0.164",
];

function record(fields: Partial<RecordJson> & { type?: string }, ts = "2026-01-01T00:00:00.000000Z"): RecordJson {
  return {
    type: "modbus", ts, src: { ip: "10.1.0.1", port: 40000 }, dst: { ip: "10.1.0.2", port: 502 }, flow_id: 1, server_to_client: false,
    ...fields,
  } as RecordJson;
}

// ITI plant capture: one master, 141.81.0.10, polls 13 outstations.
test("inventory of the plant capture", async () => {
  const file = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!file) return;
  const { session } = await replayOt([file]);
  const devices = session.inventory.listDevices();
  assert.equal(devices.map((d) => d.ip), ["141.81.0.10", ...PLANT_SERVERS]);
  const master = devices[0];
  assert.equal(master.roles, ["master"]);
  assert.equal(master.servers, PLANT_SERVERS);
  assert.equal(master.function_codes, [1, 2, 4, 15, 16]);
  assert.is(master.mac, "78:e7:d1:e0:02:5e");
  for (const server of devices.slice(1)) {
    assert.equal(server.roles, ["server"], server.ip);
    assert.equal(server.masters, ["141.81.0.10"], server.ip);
    assert.equal(server.unit_ids, [255], server.ip);
    assert.match(server.mac ?? "", /^00:0[34]:/, server.ip);
    assert.ok(server.registers.some((r) => r.space === "coils" && r.access === "write"), server.ip);
  }
  const polling = session.inventory.listPolling();
  assert.equal(polling.map((p) => p.server), PLANT_SERVERS);
  for (const pair of polling) {
    assert.is(pair.master, "141.81.0.10");
    const period = pair.period_s ?? 0;
    assert.ok(period > 0.9, `${pair.server} period ${period}`);
    assert.ok(period < 2.1, `${pair.server} period ${period}`);
  }
  const period = (ip: string) => polling.find((p) => p.server === ip)!.period_s!;
  assert.ok(Math.abs(period("141.81.0.66") - 1.0) < 0.05, `141.81.0.66 period ${period("141.81.0.66")}`);
  assert.ok(Math.abs(period("141.81.0.24") - 1.5) < 0.05, `141.81.0.24 period ${period("141.81.0.24")}`);
  assert.ok(Math.abs(period("141.81.0.104") - 2.0) < 0.05, `141.81.0.104 period ${period("141.81.0.104")}`);
  assert.equal(session.inventory.dropped, { devices: 0, poll_keys: 0, pairs: 0, registers: 0, peers: 0, identities: 0 });

  const validate = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(join(repoRoot, "schemas/inventory.schema.json"), "utf8")));
  assert.ok(validate(session.snapshot()), JSON.stringify(validate.errors?.[0]));
});

// suricata-verify's FC 8 capture starts some connections in the middle:
// 10.0.0.8 sends exception responses on a flow whose first packet came from
// port 502.
test("inventory roles from mid-stream flows", async () => {
  const file = capture("modbus/suricata_modbus_fc8_diag_fc43.pcap");
  if (!file) return;
  const { session } = await replayOt([file]);
  const answering = session.inventory.find("10.0.0.8");
  assert.equal(answering?.roles, ["server"]);
  assert.is(answering?.exceptions, 5);
  assert.equal(session.inventory.find("10.0.0.3")?.masters, ["10.0.0.9", "10.0.0.57"]);
  assert.equal(session.inventory.find("10.0.0.57")?.roles, ["master"]);
});

test("inventory roles of a record", () => {
  assert.equal(rolesOf(record({ pdu_type: "request" })), { master: "10.1.0.1", server: "10.1.0.2" });
  assert.equal(rolesOf(record({ pdu_type: "response", server_to_client: true })), { master: "10.1.0.1", server: "10.1.0.2" });
  // A flow whose originator is the server (the capture began mid-stream).
  assert.equal(rolesOf(record({ pdu_type: "response", src: { ip: "10.1.0.2", port: 502 }, dst: { ip: "10.1.0.1", port: 40000 } })), { master: "10.1.0.1", server: "10.1.0.2" });
  assert.equal(rolesOf(record({ type: "enip" })), { master: "10.1.0.1", server: "10.1.0.2" });
});

test("inventory identity from any protocol", () => {
  const inventory = new OtInventory();
  inventory.addRecord(record({ type: "enip", pdu_type: "response", server_to_client: true, vendor_name: "Rockwell Automation/Allen-Bradley", vendor_id: 1, product_name: "1756-L81E/B", revision: "32.11", serial_number: "0x60c3a1b2", device_type: 14 }));
  inventory.addRecord(record({ type: "s7comm", src: { ip: "10.1.0.1", port: 40001 }, dst: { ip: "10.1.0.3", port: 102 }, pdu_type: "response", server_to_client: true, product_code: "6ES7 315-2EH14-0AB0", revision: "3.2.6" }));
  // A protocol without a dissector role table still gives its identity.
  inventory.addRecord(record({ type: "http", src: { ip: "10.1.0.1", port: 40002 }, dst: { ip: "10.1.0.4", port: 80 }, vendor_name: "Moxa", product_code: "MGate MB3180" }));
  const enip = inventory.find("10.1.0.2")!;
  assert.equal(enip.roles, ["server"]);
  assert.equal(enip.protocols, ["enip"]);
  assert.equal(enip.identities.map((i) => [i.source, i.vendor_name, i.vendor_id, i.product_name, i.revision, i.serial_number, i.device_type]), [
    ["enip", "Rockwell Automation/Allen-Bradley", 1, "1756-L81E/B", "32.11", "0x60c3a1b2", 14],
  ]);
  assert.is(inventory.find("10.1.0.3")!.identities[0].product_code, "6ES7 315-2EH14-0AB0");
  const gateway = inventory.find("10.1.0.4")!;
  assert.equal(gateway.roles, []);
  assert.is(gateway.identities[0].vendor_name, "Moxa");
  assert.equal(inventory.listDevices().map((d) => d.ip), ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"]);
});

test("inventory register ranges merge", () => {
  const inventory = new OtInventory();
  const request = (fields: Partial<RecordJson>) => inventory.addRecord(record({ pdu_type: "request", unit_id: 1, ...fields }));
  request({ function_code: 3, start_address: 0, quantity: 10 });
  request({ function_code: 3, start_address: 10, quantity: 10 });
  request({ function_code: 3, start_address: 5, quantity: 2 });
  request({ function_code: 16, start_address: 100, quantity: 5 });
  request({ function_code: 6, start_address: 105 });
  request({ function_code: 23, read_start_address: 200, read_quantity: 2, write_start_address: 300, write_quantity: 3 });
  request({ function_code: 1, start_address: 65530, quantity: 100 });
  assert.equal(inventory.find("10.1.0.2")!.registers, [
    { space: "coils", access: "read", first: 65530, last: 65535 },
    { space: "holding_registers", access: "read", first: 0, last: 19 },
    { space: "holding_registers", access: "read", first: 200, last: 201 },
    { space: "holding_registers", access: "write", first: 100, last: 105 },
    { space: "holding_registers", access: "write", first: 300, last: 302 },
  ]);
});

test("inventory polling period is a median", () => {
  const inventory = new OtInventory();
  const times = [0, 2, 4, 6, 8, 30, 32];
  for (const t of times) {
    const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, t)).toISOString();
    inventory.addRecord(record({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: 0, quantity: 4 }, ts));
    inventory.addRecord(record({ pdu_type: "request", unit_id: 1, function_code: 4, start_address: 0, quantity: 4 }, ts));
  }
  const [pair] = inventory.listPolling();
  assert.is(pair.requests, 14);
  assert.is(pair.request_kinds, 2);
  assert.is(pair.unit_id, 1);
  assert.is(pair.period_s, 2);
});

test("inventory tables stay bounded", () => {
  const inventory = new OtInventory({ devices: 2, pollKeys: 1 });
  inventory.addRecord(record({ pdu_type: "request", function_code: 3, start_address: 0, quantity: 1 }));
  inventory.addRecord(record({ pdu_type: "request", function_code: 3, start_address: 1, quantity: 1 }));
  inventory.addRecord(record({ pdu_type: "request", function_code: 3, dst: { ip: "10.1.0.9", port: 502 } }));
  assert.is(inventory.listDevices().length, 2);
  assert.is(inventory.dropped.devices, 1);
  assert.is(inventory.dropped.poll_keys, 1);
});

test("inventory pair table stays bounded", () => {
  const inventory = new OtInventory({ devices: 10, pollKeys: 10, pairs: 2 });
  for (const server of ["10.1.0.2", "10.1.0.3", "10.1.0.4"]) {
    inventory.addRecord(record({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: 0, quantity: 1, dst: { ip: server, port: 502 } }));
  }
  assert.equal(inventory.listPolling().map((p) => p.server), ["10.1.0.2", "10.1.0.3"]);
  assert.is(inventory.dropped.pairs, 1);
  // The third server is still a device; only its polling statistics are gone.
  assert.equal(inventory.find("10.1.0.4")?.roles, ["server"]);
});

test("inventory master polling several servers", () => {
  const inventory = new OtInventory();
  // 10.1.0.1 polls three servers every 2 s, then 10.1.0.5 polls the first every 5 s.
  for (const t of [0, 2, 4]) {
    const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, t)).toISOString();
    for (const server of ["10.1.0.20", "10.1.0.3", "10.1.0.10"]) {
      inventory.addRecord(record({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: 0, quantity: 2, dst: { ip: server, port: 502 } }, ts));
    }
  }
  for (const t of [0, 5]) {
    const ts = new Date(Date.UTC(2026, 0, 1, 0, 1, t)).toISOString();
    inventory.addRecord(record({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: 0, quantity: 2, src: { ip: "10.1.0.5", port: 40000 }, dst: { ip: "10.1.0.3", port: 502 } }, ts));
  }
  const polling = inventory.listPolling();
  assert.equal(polling.map((p) => `${p.master}>${p.server}`), ["10.1.0.1>10.1.0.3", "10.1.0.1>10.1.0.10", "10.1.0.1>10.1.0.20", "10.1.0.5>10.1.0.3"]);
  assert.equal(polling.map((p) => p.requests), [3, 3, 3, 2]);
  assert.equal(polling.map((p) => p.period_s), [2, 2, 2, 5]);
  assert.equal(inventory.find("10.1.0.1")?.servers, ["10.1.0.3", "10.1.0.10", "10.1.0.20"]);
  assert.equal(inventory.find("10.1.0.3")?.masters, ["10.1.0.1", "10.1.0.5"]);
});

test("inventory device members in order set", () => {
  const inventory = new OtInventory();
  inventory.addRecord(record({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: 0, quantity: 2 }));
  inventory.setProfiles("10.1.0.2", ["plc-b", "plc-a", "plc-b"]);
  inventory.setMacs(new Map([["10.1.0.1", "02:00:00:00:00:01"], ["10.1.0.2", "02:00:00:00:00:02"]]));
  const keys = (ip: string) => Object.keys(inventory.find(ip) ?? {}).slice(-2);
  assert.equal(keys("10.1.0.2"), ["profiles", "mac"]);
  assert.equal(inventory.find("10.1.0.2")?.profiles, ["plc-a", "plc-b"]);
  inventory.setProfiles("10.1.0.1", ["plc-c"]);
  assert.equal(keys("10.1.0.1"), ["mac", "profiles"]);
  // Profiles removed and set again come after the address.
  inventory.setProfiles("10.1.0.2", []);
  assert.is(inventory.find("10.1.0.2")?.profiles, undefined);
  inventory.setProfiles("10.1.0.2", ["plc-a"]);
  assert.equal(keys("10.1.0.2"), ["mac", "profiles"]);
});

test("inventory request kinds outside the Modbus ranges stay apart", () => {
  const inventory = new OtInventory();
  const request = (fields: Partial<RecordJson>) => inventory.addRecord(record({ pdu_type: "request", function_code: 3, ...fields }));
  request({ unit_id: 1, start_address: 0, quantity: 4 });
  request({ unit_id: 1, start_address: 0, quantity: 4 });
  request({ unit_id: 300, start_address: 0, quantity: 4 });
  request({ unit_id: 1, start_address: 70000, quantity: 4 });
  request({ unit_id: 1, sub_function: 0 });
  request({ unit_id: 1, sub_function: 0, start_address: 0 });
  request({ unit_id: 1 });
  assert.is(inventory.listPolling()[0].request_kinds, 6);
});

// Replay and the agent feed the inventory differently: decoded core records
// and their JSON. Both must give the same inventory. The captures hold
// Modbus polls with FC 43 identities, and S7comm and EtherNet/IP identities.
test("inventory same from core records and JSON", async () => {
  const files = ["modbus/iti_plant1_modbus_normal_polling.pcap", "modbus/zeek_modbus-eit_fc43_device_id.pcap",
    "modbus/suricata_modbus_fc8_diag_fc43.pcap", "s7comm/icsnpp_s7comm_snap7.pcap", "mixed/suricata_enip_list_identity.pcap"];
  for (const name of files) {
    const file = capture(name);
    if (!file) continue;
    const fromCore = new OtInventory();
    const fromJson = new OtInventory();
    const run = await runCaptureThroughCore(file);
    for (const r of run.records) {
      fromCore.addCoreRecord(r);
      fromJson.addRecord(recordToJson(r));
    }
    assert.ok(fromCore.listDevices().length > 0, name);
    assert.equal(fromCore.snapshot(), fromJson.snapshot(), name);
  }
});

test("inventory revision ignores repeats", () => {
  const inventory = new OtInventory();
  const poll = record({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: 0, quantity: 4 });
  inventory.addRecord(poll);
  const revision = inventory.revision;
  inventory.addRecord({ ...poll, ts: "2026-01-01T00:00:01.000000Z" });
  assert.is(inventory.revision, revision);
  inventory.addRecord(record({ pdu_type: "request", unit_id: 2, function_code: 3, start_address: 0, quantity: 4 }));
  assert.ok(inventory.revision > revision);
});

// The same records with and without flow ids: only records with a flow id
// can take the path for a record that repeats the last one of its flow.
test("inventory repeated polls count as before", () => {
  const withFlows = new OtInventory();
  const withoutFlows = new OtInventory();
  const add = (fields: Partial<RecordJson>, second: number) => {
    const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
    withFlows.addRecord(record(fields, ts));
    withoutFlows.addRecord(record({ ...fields, flow_id: undefined }, ts));
  };
  // 128 ranges fill the server's register table; each later new range is dropped.
  for (let i = 0; i < 128; i++) add({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: i * 10, quantity: 1 }, 0);
  for (let second = 1; second <= 3; second++) {
    add({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: 5000, quantity: 2 }, second);
    add({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: 5000, quantity: 2 }, second);
    add({ pdu_type: "response", unit_id: 1, function_code: 0x83, server_to_client: true }, second);
    add({ pdu_type: "request", unit_id: 1, function_code: 3, start_address: 0, quantity: 1 }, second);
    add({ pdu_type: "request", unit_id: 2, function_code: 3, start_address: 0, quantity: 1, flow_id: 2 }, second);
  }
  assert.is(withFlows.dropped.registers, 6);
  assert.is(withFlows.find("10.1.0.2")!.exceptions, 3);
  assert.equal(withFlows.snapshot(), withoutFlows.snapshot());
});

test("assets command on a capture", async () => {
  const file = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!file) return;
  let stdout = "";
  let stderr = "";
  const output = { stdout: (t: string) => { stdout += t; }, stderr: (t: string) => { stderr += t; } };
  assert.is(await main(["assets", "--capture", file, "--json"], output), 0, stderr);
  const snapshot = JSON.parse(stdout) as { devices: { ip: string; roles: string[] }[]; polling: { server: string; period_s: number }[] };
  assert.is(snapshot.devices.length, 14);
  assert.is(snapshot.polling.length, 13);
  stdout = "";
  assert.is(await main(["assets", "--capture", file], output), 0, stderr);
  assert.match(stdout, /141\.81\.0\.66\s+255\s+0\.999/);
  assert.match(stdout, /^141\.81\.0\.10\s+78:e7:d1:e0:02:5e\s+master/m);
});

// README and --help write "--capture FILE...": the files after one --capture
// count as repeated --capture, for assets and for profiles match.
test("capture option takes several files", async () => {
  const files = [demoCapturePath(), join(repoRoot, "test/fixtures/ot/hostile-identity.pcapng")];
  for (const command of [["assets"], ["profiles", "match"]]) {
    const runs: { code: number; stdout: string; stderr: string }[] = [];
    for (const argv of [["--capture", ...files], ["--capture", files[0], "--capture", files[1]]]) {
      let stdout = "";
      let stderr = "";
      const code = await main([...command, ...argv, "--json"], { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
      runs.push({ code, stdout, stderr });
    }
    assert.is(runs[0].code, 0, `${command.join(" ")}: ${runs[0].stderr}`);
    assert.is(runs[0].stdout, runs[1].stdout, command.join(" "));
    assert.ok(runs[0].stdout.length > 2, command.join(" "));
  }
});

test("inventory identities from s7comm and enip", async () => {
  // S7comm SZL 0x0011/0x001c answers (Snap7 capture) and an EtherNet/IP
  // ListIdentity reply name their devices; the inventory keeps both, each
  // with the protocol it came from.
  const s7 = capture("s7comm/icsnpp_s7comm_snap7.pcap");
  const enip = capture("mixed/suricata_enip_list_identity.pcap");
  if (!s7 || !enip) return;
  const { session } = await replayOt([s7, enip]);
  const devices = session.snapshot().devices;
  const identityOf = (ip: string) => devices.find((d) => d.ip === ip)?.identities[0];
  const plc = identityOf("134.217.61.211");
  assert.is(plc?.source, "s7comm");
  assert.is(plc?.product_code, "6ES7 315-2EH14-0AB0");
  assert.is(plc?.vendor_name, "Siemens");
  assert.is(plc?.revision, "3.2.7");
  const adapter = identityOf("172.25.23.2");
  assert.is(adapter?.source, "enip");
  assert.is(adapter?.product_name, "1756-ENBT/A");
  assert.is(adapter?.revision, "4.3");
  assert.is(adapter?.vendor_id, 1);
});


test("inventory text escapes control bytes a device reports", async () => {
  // A Modbus device on loopback answered FC 43/14 with identification
  // objects holding escape sequences (clear screen, colours, a window title),
  // a bell and a carriage return with a fake table line, captured on
  // loopback (test/fixtures/ot/hostile-identity.pcapng).
  let stdout = "";
  const output = { stdout: (t: string) => { stdout += t; }, stderr: () => {} };
  assert.is(await main(["assets", "--capture", join(repoRoot, "test/fixtures/ot/hostile-identity.pcapng")], output), 0);
  assert.not.match(stdout, /[\u0000-\u0008\u000b-\u001f\u007f]/, "no control byte reaches the terminal");
  assert.match(stdout, "\\u001b[2J\\u001b[31mEVIL");
  assert.match(stdout, "\\u000d\\u000afake line");
});

test.run();
