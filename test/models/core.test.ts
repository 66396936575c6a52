// The shipped models inside the real core: byte-built Modbus/TCP traffic and
// public captures go through the packet pipeline, the dissectors and the
// model engine, and the alerts come back through the host Core API.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadModelSet, type ModelSet } from "../../agent/src/core/models.js";
import { readCapture } from "../../agent/src/capture/index.js";
import { batchOf, TcpConversation, type TimedFrame } from "../helpers/frames.js";
import { capture, repoRoot } from "../helpers/captures.js";

type CoreModule = typeof import("../../agent/src/core/core.js");
type CoreRecord = import("../../agent/src/core/core.js").CoreRecord;

const corePath = join(repoRoot, "agent/src/core/core.ts");
const wasmPath = join(repoRoot, "build/core.wasm");

async function coreModule(): Promise<CoreModule | undefined> {
  if (!existsSync(corePath)) {
    console.log(`  skipped: the host Core API ${corePath} is not in this checkout yet`);
    return undefined;
  }
  if (!existsSync(wasmPath)) {
    console.log(`  skipped: ${wasmPath} not found (run npm run build:core)`);
    return undefined;
  }
  return import("../../agent/src/core/core.js");
}

let models: ModelSet;
test.before(async () => {
  models = await loadModelSet();
});

interface Run { records: CoreRecord[]; alerts: CoreRecord[] }

async function run(feed: (process: (frames: TimedFrame[]) => void) => void | Promise<void>, path?: string): Promise<Run | undefined> {
  const mod = await coreModule();
  if (!mod) return undefined;
  const core = await mod.Core.load();
  // No learning period: these tests check the models' own scores.
  models.install(core, { learningSeconds: 0 });
  const records: CoreRecord[] = [];
  const onRecord = (r: CoreRecord) => { records.push(r); };
  if (path) {
    for await (const batch of readCapture(path)) core.process(batch, onRecord);
  }
  await feed((frames) => core.process(batchOf(frames), onRecord));
  core.finish(onRecord);
  return { records, alerts: records.filter((r) => r.type === "alert") };
}

function modelId(alert: CoreRecord): string | undefined {
  return models.byIndex(alert.fields.model_index as number)?.id;
}

// Modbus/TCP ---------------------------------------------------------------

const PLC = "10.20.0.10";
const HMI = "10.20.0.2";
const LAPTOP = "10.20.0.66";
const T0 = 1_700_000_000;

const mbap = (transactionId: number, unitId: number, pdu: number[]) =>
  [transactionId >> 8, transactionId & 0xff, 0, 0, 0, pdu.length + 1, unitId, ...pdu];
const readHoldingRegisters = [0x03, 0x00, 0x00, 0x00, 0x02];
const readResponse = [0x03, 0x04, 0x00, 0x01, 0x00, 0x02];
const writeSingleRegister = [0x06, 0x00, 0x10, 0x12, 0x34];

// Frames of a conversation, `spacingMs` apart from `startSec`.
function spaced(frames: Uint8Array[], startSec: number, spacingMs: number): TimedFrame[] {
  return frames.map((bytes, i) => {
    const ms = i * spacingMs;
    return { tsSec: startSec + Math.floor(ms / 1000), tsFrac: (ms % 1000) * 1000, bytes };
  });
}

// The HMI polls unit 1 for `seconds` seconds: one request and response every 250 ms.
function polling(seconds: number): TimedFrame[] {
  const hmi = new TcpConversation(HMI, 49152, PLC, 502).handshake();
  for (let i = 0; i < seconds * 4; i++) {
    hmi.fromClient(mbap(i + 1, 1, readHoldingRegisters));
    hmi.fromServer(mbap(i + 1, 1, readResponse));
  }
  return spaced(hmi.frames, T0, 125);
}

function laptopWrite(startSec: number): TimedFrame[] {
  const laptop = new TcpConversation(LAPTOP, 50123, PLC, 502).handshake();
  laptop.fromClient(mbap(1, 1, writeSingleRegister));
  laptop.fromServer(mbap(1, 1, writeSingleRegister));
  return spaced(laptop.frames, startSec, 10);
}

test("modbus write from a new host while learning", async () => {
  const result = await run((process) => process(laptopWrite(T0)));
  if (!result) return;
  const alerts = result.alerts.filter((a) => modelId(a) === "modbus-write-not-master");
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.learning, true);
  assert.is(alerts[0].fields.score, 28);
  assert.is(alerts[0].src.ip, LAPTOP);
  assert.is(alerts[0].dst.ip, PLC);
  assert.is(alerts[0].fields.function_code, 6);
});

test("modbus write from a host that is not the master", async () => {
  const result = await run((process) => {
    process(polling(6));
    process(laptopWrite(T0 + 7));
  });
  if (!result) return;
  const alerts = result.alerts.filter((a) => modelId(a) === "modbus-write-not-master");
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.learning, false);
  // Base 70, plus 15 and 10: the laptop never talked to the PLC before.
  assert.is(alerts[0].fields.score, 95);
  assert.is(alerts[0].src.ip, LAPTOP);
  assert.is(alerts[0].fields.unit_id, 1);
});

test("modbus write from the established master", async () => {
  const result = await run((process) => {
    const frames = polling(6);
    const hmi = new TcpConversation(HMI, 49153, PLC, 502).handshake();
    hmi.fromClient(mbap(900, 1, writeSingleRegister));
    process([...frames, ...spaced(hmi.frames, T0 + 7, 10)]);
  });
  if (!result) return;
  assert.ok(result.records.some((r) => r.type === "modbus" && r.fields.function_code === 6), "the write was dissected");
  assert.is(result.alerts.length, 0);
});

// Public captures -----------------------------------------------------------

test("atsvc capture raises the ATSVC task model", async () => {
  // 401trg_smb_at_schedule_atsvc.pcap: at.exe on 192.168.10.31 schedules
  // c:\mimikatz.exe on 192.168.10.30 through NetrJobAdd over \PIPE\atsvc.
  const path = capture("dcerpc/401trg_smb_at_schedule_atsvc.pcap");
  if (!path) return;
  const result = await run(() => {}, path);
  if (!result) return;
  const alerts = result.alerts.filter((a) => modelId(a) === "remote-task-atsvc");
  assert.ok(alerts.length >= 1, `no remote-task-atsvc alert among ${result.alerts.length} alerts`);
  const alert = alerts[0];
  assert.is(alert.src.ip, "192.168.10.31");
  assert.is(alert.dst.ip, "192.168.10.30");
  assert.is(alert.fields.operation, "NetrJobAdd");
  assert.is(alert.fields.command, "c:\\mimikatz.exe");
  // Base 80, plus 15 and 10 for a service and a pair never seen (the SMB
  // session seconds before does not make the pair known), clamped to 100.
  assert.is(alert.fields.score, 100);
  assert.equal(alert.fields.factor_points, [80, 15, 10]);
});

test("psexec capture raises the svcctl model", async () => {
  // 401trg_smb_psexec_add_user_svcctl.pcap: PsExec on 192.168.10.31 creates
  // and starts its service on 192.168.10.10 over svcctl to add a user.
  const path = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (!path) return;
  const result = await run(() => {}, path);
  if (!result) return;
  const alerts = result.alerts.filter((a) => modelId(a) === "remote-service-svcctl");
  assert.ok(alerts.length >= 1, `no remote-service-svcctl alert among ${result.alerts.length} alerts`);
  for (const alert of alerts) {
    assert.is(alert.src.ip, "192.168.10.31");
    assert.is(alert.dst.ip, "192.168.10.10");
  }
  // PsExec creates its service with RCreateServiceWOW64W (opnum 45), then starts it (19).
  const opnums = alerts.map((a) => a.fields.opnum);
  assert.ok(opnums.includes(45), `opnums in alerts: ${opnums.join(", ")}`);
  assert.ok(opnums.includes(19), `opnums in alerts: ${opnums.join(", ")}`);
  const start = alerts.find((a) => a.fields.opnum === 19);
  assert.is(start?.fields.seen_before, false, "opnum 19 is a service of its own");
  assert.is(start?.fields.times_seen, 0);
});

test("normal plant polling raises no high alert", async () => {
  // iti_plant1_modbus_normal_polling.pcap: a plant's Modbus masters polling
  // their devices, with no attack.
  const path = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!path) return;
  const result = await run(() => {}, path);
  if (!result) return;
  assert.ok(result.records.some((r) => r.type === "modbus"), "the capture produced Modbus records");
  const high = result.alerts.filter((a) => (a.fields.score as number) >= 50);
  assert.is(high.length, 0, `alerts of score 50 or more: ${JSON.stringify(high.slice(0, 3).map((a) => a.fields))}`);
});

test.run();
