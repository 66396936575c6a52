// The beaconing scorer in the real core. A PLC that starts Modbus/TCP
// connections to an external address every 60 s is found, but plant masters
// polling their devices are not.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadModelSet } from "../../agent/src/core/models.js";
import { readCapture } from "../../agent/src/capture/index.js";
import { batchOf, TcpConversation, type TimedFrame } from "../helpers/frames.js";
import { capture, repoRoot } from "../helpers/captures.js";

type CoreRecord = import("../../agent/src/core/core.js").CoreRecord;

const PLC = "10.20.0.10";
const HMI = "10.20.0.2";
const EXTERNAL = "203.0.113.50";
const T0 = 1_700_000_000;
// Seconds added to each 60 s interval: small and symmetric, as a beacon's
// jitter is.
const JITTER = [0, 2, -2, 1, -1, 3, -3, 0, 1, -1, 2, -2];

const mbap = (transactionId: number, unitId: number, pdu: number[]) =>
  [transactionId >> 8, transactionId & 0xff, 0, 0, 0, pdu.length + 1, unitId, ...pdu];
const readHoldingRegisters = [0x03, 0x00, 0x00, 0x00, 0x02];
const readResponse = [0x03, 0x04, 0x00, 0x01, 0x00, 0x02];

function timed(frames: Uint8Array[], startSec: number): TimedFrame[] {
  return frames.map((bytes, i) => ({ tsSec: startSec, tsFrac: i * 1000, bytes }));
}

// The HMI polls the PLC once a second for `seconds`, so the PLC is known as a
// Modbus server.
function polling(seconds: number): TimedFrame[] {
  const hmi = new TcpConversation(HMI, 49152, PLC, 502).handshake();
  const frames: TimedFrame[] = [];
  for (let i = 0; i < seconds; i++) {
    const before = hmi.frames.length;
    hmi.fromClient(mbap(i + 1, 1, readHoldingRegisters));
    hmi.fromServer(mbap(i + 1, 1, readResponse));
    frames.push(...timed(hmi.frames.slice(before), T0 + i));
  }
  return [...timed(hmi.frames.slice(0, 3), T0 - 1), ...frames];
}

// The PLC opens a new connection to the external address about every 60 s.
function beacons(count: number, startSec: number): TimedFrame[] {
  const frames: TimedFrame[] = [];
  let at = startSec;
  for (let i = 0; i < count; i++) {
    const plc = new TcpConversation(PLC, 40000 + i, EXTERNAL, 502).handshake();
    plc.fromClient(mbap(1, 1, readHoldingRegisters));
    plc.fromServer(mbap(1, 1, readResponse));
    frames.push(...timed(plc.frames, at));
    at += 60 + JITTER[i % JITTER.length];
  }
  return frames;
}

// The PLC opens a TCP connection to the external address's port 443 about
// every 60 s and closes it: no payload, so no dissector writes a record.
function connections(count: number, startSec: number): TimedFrame[] {
  const frames: TimedFrame[] = [];
  let at = startSec;
  for (let i = 0; i < count; i++) {
    const plc = new TcpConversation(PLC, 41000 + i, EXTERNAL, 443).handshake();
    frames.push(...timed(plc.frames, at));
    at += 60 + JITTER[i % JITTER.length];
  }
  return frames;
}

// Records of every type the host received while `feed` ran.
const received: string[] = [];

async function run(feed: (process: (frames: TimedFrame[]) => void) => void, path?: string, modelId = "ot-beaconing"): Promise<CoreRecord[] | undefined> {
  if (!existsSync(join(repoRoot, "build/core.wasm"))) {
    console.log("  skipped: build/core.wasm not found (run npm run build:core)");
    return undefined;
  }
  const { Core } = await import("../../agent/src/core/core.js");
  const core = await Core.load();
  const models = await loadModelSet();
  models.install(core, { learningSeconds: 0 });
  const beaconing = models.models.find((m) => m.id === modelId);
  assert.ok(beaconing, `the ${modelId} model is shipped`);
  const alerts: CoreRecord[] = [];
  received.length = 0;
  const onRecord = (r: CoreRecord) => {
    received.push(r.type);
    if (r.type === "alert" && r.fields.model_index === beaconing!.index) alerts.push(r);
  };
  if (path) for await (const batch of readCapture(path)) core.process(batch, onRecord);
  feed((frames) => core.process(batchOf(frames), onRecord));
  core.finish(onRecord);
  return alerts;
}

test("plc beaconing to an external address", async () => {
  const alerts = await run((process) => {
    process(polling(30));
    process(beacons(12, T0 + 40));
  });
  if (!alerts) return;
  assert.is(alerts.length, 1, "one alert per pair and service");
  const [alert] = alerts;
  assert.is(alert.src.ip, PLC);
  assert.is(alert.dst.ip, EXTERNAL);
  assert.ok((alert.fields.periodicity as number) >= 80, `periodicity ${alert.fields.periodicity}`);
  assert.ok(Math.abs((alert.fields.median_interval as number) - 60) <= 2, `median interval ${alert.fields.median_interval}`);
  assert.ok((alert.fields.factor as number[]).includes(9), "the beaconing factor is listed");
});

test("beacon confined to one late hour", async () => {
  const alerts = await run((process) => {
    process(polling(30));
    // Regular, but only for 12 minutes after 10 days of watching.
    process(beacons(12, T0 + 10 * 86400));
  });
  if (!alerts) return;
  assert.is(alerts.length, 0, "spread over the day and duration keep the periodicity below 80");
});

test("irregular connections are no beacon", async () => {
  const alerts = await run((process) => {
    process(polling(30));
    const frames: TimedFrame[] = [];
    let at = T0 + 40;
    for (const gap of [40, 300, 75, 900, 31, 500, 120, 2000, 45, 60, 700]) {
      frames.push(...beacons(1, at));
      at += gap;
    }
    process(frames);
  });
  if (!alerts) return;
  assert.is(alerts.length, 0);
});

test("unknown source is no OT device", async () => {
  const alerts = await run((process) => process(beacons(12, T0)));
  if (!alerts) return;
  assert.is(alerts.length, 0, "the PLC was never seen answering Modbus requests");
});

test("plant polling raises no beaconing", async () => {
  // iti_plant1_modbus_normal_polling.pcap: a plant's Modbus masters polling
  // their devices every few hundred milliseconds, with no attack.
  const path = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!path) return;
  const alerts = await run(() => {}, path);
  if (!alerts) return;
  assert.is(alerts.length, 0);
});

test("plc beaconing over connections without payload", async () => {
  const alerts = await run((process) => {
    process(polling(30));
    process(connections(12, T0 + 40));
  }, undefined, "ot-beaconing-connections");
  if (!alerts) return;
  assert.is(alerts.length, 1, "one alert per pair and port");
  const [alert] = alerts;
  assert.is(alert.src.ip, PLC);
  assert.is(alert.dst.ip, EXTERNAL);
  assert.is(alert.dst.port, 443);
  assert.ok(Math.abs((alert.fields.median_interval as number) - 60) <= 2, `median interval ${alert.fields.median_interval}`);
  // The connection start that fired reaches the host just before its alert;
  // the other connection starts stay in the core.
  assert.is(received.filter((type) => type === "conn").length, 1);
  assert.is(received[received.indexOf("alert") - 1], "conn");
});

test("irregular connections without payload are no beacon", async () => {
  const alerts = await run((process) => {
    process(polling(30));
    let at = T0 + 40;
    for (const gap of [40, 300, 75, 900, 31, 500, 120, 2000, 45, 60, 700]) {
      process(connections(1, at));
      at += gap;
    }
  }, undefined, "ot-beaconing-connections");
  if (!alerts) return;
  assert.is(alerts.length, 0);
  assert.is(received.filter((type) => type === "conn").length, 0, "connection starts stay in the core");
});

test("plant polling raises no connection beaconing", async () => {
  const path = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!path) return;
  const alerts = await run(() => {}, path, "ot-beaconing-connections");
  if (!alerts) return;
  assert.is(alerts.length, 0);
});

test.run();
