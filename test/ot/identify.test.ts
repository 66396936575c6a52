// `fieldsense modbus identify`: the FC 17 fallback, the identity file it
// writes, and profile matching from that file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import { parseServerId } from "../../agent/src/cli/modbus-identify.js";
import { capture } from "../helpers/captures.js";
import { parseAgentConfig } from "../../agent/src/config/agent-config.js";
import { ActiveIdentifier } from "../../agent/src/inventory/active.js";
import { InventorySession } from "../../agent/src/inventory/session.js";
import { silentLogger } from "../../agent/src/log.js";
import { DEVICE_OBJECTS, startModbusServer } from "../agent/modbus-peers.js";

const HOST = "127.0.0.1";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

// A device without FC 43: it responds to FC 43 with exception 1, and to
// FC 17 with server id 0x2a, run indicator on and the text "M221 test".
async function startFc17Device(): Promise<{ port: number; functionCodes: number[]; close: () => Promise<void> }> {
  const functionCodes: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (adu: Buffer) => {
      const code = adu[7];
      functionCodes.push(code);
      const pdu = code === 0x11
        ? Buffer.from([0x11, 11, 0x2a, 0xff, ...Buffer.from("M221 test")])
        : Buffer.from([code | 0x80, 0x01]);
      const header = Buffer.from(adu.subarray(0, 7));
      header.writeUInt16BE(pdu.length + 1, 4);
      socket.write(Buffer.concat([header, pdu]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    functionCodes,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

test("identify falls back to FC 17", async () => {
  const device = await startFc17Device();
  const file = join(mkdtempSync(join(tmpdir(), "fieldsense-identify-")), "identities.json");
  try {
    const result = await run("modbus", "identify", `${HOST}:${device.port}`, "--unit", "1", "--interval-ms", "100", "--json", "--update-inventory", file);
    assert.is(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as { method: string; server_id: string; run_indicator: boolean; objects: Record<string, string>; requests: number };
    assert.is(parsed.method, "fc17");
    assert.is(parsed.server_id, "2aff4d3232312074657374");
    assert.is(parsed.run_indicator, true);
    assert.is(parsed.objects.additional_data, "M221 test");
    assert.is(parsed.requests, 2);
    assert.equal(device.functionCodes, [0x2b, 0x11]);
    const written = JSON.parse(readFileSync(file, "utf8")) as { identities: { ip: string; unit_id: number; method: string; server_id: string }[] };
    assert.equal(written.identities.map((i) => [i.ip, i.unit_id, i.method, i.server_id]), [[HOST, 1, "fc17", "2aff4d3232312074657374"]]);
    // A second run replaces the entry of the same address and unit id.
    assert.is((await run("modbus", "identify", `${HOST}:${device.port}`, "--unit", "1", "--interval-ms", "100", "--update-inventory", file)).code, 0);
    assert.is((JSON.parse(readFileSync(file, "utf8")) as { identities: unknown[] }).identities.length, 1);
  } finally {
    await device.close();
  }
});

test("server id parsing", () => {
  const where = { host: "h", port: 502 };
  assert.equal(parseServerId(Buffer.from([0x11, 2, 0x07, 0x00]), where), { server_id: "0700", run_indicator: false, objects: {} });
  assert.throws(() => parseServerId(Buffer.from([0x91, 0x01]), where), /rejected FC 43 and FC 17/);
  assert.throws(() => parseServerId(Buffer.from([0x11, 9, 0x07]), where), /invalid FC 17 response from h:502/);
});

// An identity file binds a profile before any traffic: the plant's
// 141.81.0.44 identified as a Modicon M221 with an old firmware.
test("identities file feeds profile matching", async () => {
  const plant = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!plant) return;
  const file = join(mkdtempSync(join(tmpdir(), "fieldsense-identify-")), "identities.json");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(file, JSON.stringify({ identities: [{ ip: "141.81.0.44", unit_id: 255, seen: "2012-11-12T11:00:00Z", method: "fc43", vendor_name: "Schneider Electric", product_code: "TM221CE40T", revision: "1.3.2.0" }] }));
  const result = await run("profiles", "match", "--capture", plant, "--identities", file, "--json");
  assert.is(result.code, 0, result.stderr);
  const rows = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { profile: string; ip: string; reason: string; seen: boolean; advisories: string[] });
  const m221 = rows.find((r) => r.profile === "schneider-modicon-m221");
  assert.equal(m221, { profile: "schneider-modicon-m221", ip: "141.81.0.44", unit_id: 255, reason: "identity", seen: true, identity: "Schneider Electric TM221CE40T 1.3.2.0", advisories: ["ICSA-18-240-01", "ICSA-18-240-02"] });
  const broken = await run("profiles", "match", "--capture", plant, "--identities", join(tmpdir(), "no-such-identities.json"));
  assert.is(broken.code, 1);
  assert.match(broken.stderr, /cannot read identities file .*no-such-identities\.json/);
});

test("identify config parsing", () => {
  const config = parseAgentConfig("gateway.yaml", [
    "profiles: [site-profiles, more.yaml]",
    "identify:",
    '  hosts: ["10.0.0.5", "10.0.0.6:1502", "10.0.0.7/3"]',
    "  unit_id: 1",
    "  interval_h: 12",
  ].join("\n"));
  assert.equal(config.identify, {
    hosts: [{ host: "10.0.0.5", port: 502, unitId: 1 }, { host: "10.0.0.6", port: 1502, unitId: 1 }, { host: "10.0.0.7", port: 502, unitId: 3 }],
    intervalSec: 12 * 3600,
  });
  assert.is(config.profilePaths?.length, 2);
  assert.is(parseAgentConfig("empty.yaml", "").identify, undefined, "no identification unless configured");
  assert.throws(() => parseAgentConfig("gateway.yaml", "identify:\n  hosts: [plc.example]\n"), /identify\.hosts/);
});

// The agent's round over configured hosts: one device with FC 43/14, one
// that only has FC 17, and one address where nothing listens.
test("agent identifies configured hosts", async () => {
  const fc43 = await startModbusServer(HOST, 0, 3);
  const fc17 = await startFc17Device();
  const closed = await startFc17Device();
  await closed.close();
  try {
    const session = new InventorySession([]);
    const identifier = new ActiveIdentifier([
      { host: HOST, port: fc43.port, unitId: 255 },
      { host: HOST, port: fc17.port, unitId: 1 },
      { host: HOST, port: closed.port, unitId: 1 },
    ], 3600, session, silentLogger);
    await identifier.runRound();
    const identities = session.inventory.find(HOST)?.identities ?? [];
    assert.equal(identities.map((i) => [i.source, i.unit_id, i.vendor_name ?? i.server_id]), [["active", 255, DEVICE_OBJECTS[0]], ["active", 1, "2aff4d3232312074657374"]]);
    await identifier.stop();
  } finally {
    await fc43.close();
    await fc17.close();
  }
});

test.run();
