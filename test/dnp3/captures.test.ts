// DNP3 on the public captures: record parity with Zeek's dnp3.log, and the
// DNP3 models on the behaviour each capture shows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { capture, expectedOutput } from "../helpers/captures.js";
import { captureFeed, readZeekLog, runCaptureThroughCore, runWithModels, type Feed } from "../helpers/core-run.js";
import { batchOf, TcpConversation, timed } from "../helpers/frames.js";
import { crob, framesOf, FROM_MASTER, indexed, request } from "./build.js";

const DNP3_MODELS = [
  "dnp3-restart.yaml", "dnp3-stop-application.yaml", "dnp3-disable-unsolicited.yaml",
  "dnp3-control-not-master.yaml", "dnp3-file-operation.yaml",
];

// Runs the DNP3 models with no learning period on what `feed` gives.
const withModels = (feed: Feed) => runWithModels(DNP3_MODELS, feed);

test("dnp3 select/operate parity with Zeek dnp3.log", async () => {
  // zeek_dnp3_select_operate.pcap: a master selects then operates one CROB
  // (point 1, latch on) on outstation 2, and both requests get a response.
  const path = capture("dnp3/zeek_dnp3_select_operate.pcap");
  const log = expectedOutput("dnp3/zeek_dnp3_select_operate.dnp3.log");
  if (!path || !log) return;

  const { records, anomalies } = await runCaptureThroughCore(path);
  const dnp3 = records.filter((r) => r.type === "dnp3");
  const responses = dnp3.filter((r) => r.fields.pdu_type === "response");
  const rows = readZeekLog(log);
  assert.equal(
    responses.map((r) => [r.src.ip, r.src.port, r.dst.ip, r.dst.port, r.fields.request_function, r.fields.function, r.fields.iin]),
    rows.map((z) => [z["id.orig_h"], Number(z["id.orig_p"]), z["id.resp_h"], Number(z["id.resp_p"]), z.fc_request, z.fc_reply, Number(z.iin)]),
  );

  // Per function counts over every record.
  const counts: Record<string, number> = {};
  for (const r of dnp3) counts[r.fields.function as string] = (counts[r.fields.function as string] ?? 0) + 1;
  assert.equal(counts, { SELECT: 1, OPERATE: 1, RESPONSE: 2 });

  for (const r of dnp3) {
    assert.is(r.fields.object_group, 12);
    assert.is(r.fields.object_variation, 1);
    assert.is(r.fields.object_qualifier, 0x28);
    assert.is(r.fields.object_count, 1);
    assert.is(r.fields.point_index, 1);
    assert.is(r.fields.operation_type, "LATCH_ON");
    assert.is(r.fields.execute_count, 1);
    assert.is(r.fields.on_time, 100);
    assert.is(r.fields.off_time, 100);
  }
  assert.equal(dnp3.filter((r) => r.fields.pdu_type === "request").map((r) => [r.fields.source_address, r.fields.destination_address]), [[3, 2], [3, 2]]);
  const dnp3Anomalies = Object.entries(anomalies).filter(([name, n]) => name.startsWith("dnp3.") && n > 0);
  assert.equal(dnp3Anomalies, []);
});

test("dnp3 cold restart capture decoded with its IIN", async () => {
  // iti_dnp3_cold_restart.pcap: 192.168.60.1 sends COLD_RESTART to outstation
  // 10 at 192.168.60.130, which answers NO_FUNC_CODE_SUPPORT (IIN 0x0001).
  const path = capture("dnp3/iti_dnp3_cold_restart.pcap");
  if (!path) return;
  const { records } = await runCaptureThroughCore(path);
  const dnp3 = records.filter((r) => r.type === "dnp3");
  assert.equal(dnp3.map((r) => r.fields.function), ["COLD_RESTART", "RESPONSE"]);
  assert.is(dnp3[0].src.ip, "192.168.60.1");
  assert.is(dnp3[0].fields.destination_address, 10);
  assert.is(dnp3[1].fields.iin, 1);
  assert.is(dnp3[1].fields.iin_flag, "NO_FUNC_CODE_SUPPORT");
  assert.is(dnp3[1].fields.request_function, "COLD_RESTART");
});

test("dnp3 cold restart fires the restart model", async () => {
  const path = capture("dnp3/iti_dnp3_cold_restart.pcap");
  if (!path) return;
  const { alerts } = await withModels(captureFeed(path));
  assert.equal(alerts.map((a) => a.id), ["dnp3-restart"]);
  assert.ok(alerts[0].score >= 50, `score ${alerts[0].score}`);
  assert.is(alerts[0].alert.fields.function, "COLD_RESTART");
  assert.is(alerts[0].alert.src.ip, "192.168.60.1");
});

test("dnp3 select/operate from the only master stays below 50", async () => {
  // The capture's master is the only host that commands the outstation, so
  // no alert may reach 50: the control model is still learning the master.
  const path = capture("dnp3/zeek_dnp3_select_operate.pcap");
  if (!path) return;
  const { records, alerts } = await withModels(captureFeed(path));
  assert.is(records.filter((r) => r.type === "dnp3").length, 4);
  assert.equal(alerts.filter((a) => a.score >= 50), []);
  // SELECT and OPERATE each leave a learning alert at 70 x 0.4.
  assert.equal(alerts.map((a) => a.score), [28, 28]);
  assert.ok(alerts.every((a) => a.id === "dnp3-control-not-master" && a.alert.fields.learning === true));
});

test("dnp3 direct operate from a second host after an established master fires", async () => {
  // The master at .5 polls outstation 10 for 12 seconds; then .66 operates a CROB.
  const frames: Uint8Array[] = [];
  const master = new TcpConversation("10.40.0.5", 41000, "10.40.0.9", 20000).handshake();
  for (let i = 0; i < 12; i++) master.fromClient(framesOf({ control: FROM_MASTER, destination: 10, source: 1 }, request(i, 0x01, [60, 1, 0x06])).flat());
  frames.push(...master.frames);
  const operate = request(0, 0x05, indexed(12, 1, [[4, crob(0x81, 1, 0, 0)]]));
  const intruder = new TcpConversation("10.40.0.66", 41001, "10.40.0.9", 20000).handshake().fromClient(framesOf({ control: FROM_MASTER, destination: 10, source: 1 }, operate).flat());
  frames.push(...intruder.frames);
  // One second apart, so the master's requests span more than 5 seconds.
  const { alerts } = await withModels(async (core, onRecord) => {
    core.process(batchOf(timed(frames).map((f, i) => ({ ...f, tsSec: 1_700_000_000 + i }))), onRecord);
  });
  const fired = alerts.filter((a) => a.id === "dnp3-control-not-master");
  assert.is(fired.length, 1);
  assert.is(fired[0].alert.src.ip, "10.40.0.66");
  assert.ok(fired[0].score >= 70, `score ${fired[0].score}`);
  assert.is(fired[0].alert.fields.trip_close_code, "TRIP");
});

test("dnp3 stop application, disable unsolicited and file operations fire their models", async () => {
  const c = new TcpConversation("10.41.0.5", 41100, "10.41.0.9", 20000).handshake();
  const link = { control: FROM_MASTER, destination: 10, source: 1 };
  c.fromClient(framesOf(link, request(1, 0x12, [90, 1, 0x00, 0, 0])).flat());
  c.fromClient(framesOf(link, request(2, 0x15, [60, 2, 0x06, 60, 3, 0x06, 60, 4, 0x06])).flat());
  c.fromClient(framesOf(link, request(3, 0x1b, [70, 3, 0x5b, 1, 4, 0, 1, 2, 3, 4])).flat());
  const { alerts } = await withModels(async (core, onRecord) => { core.process(batchOf(timed(c.frames)), onRecord); });
  assert.equal(alerts.map((a) => a.id).sort(), ["dnp3-disable-unsolicited", "dnp3-file-operation", "dnp3-stop-application"]);
});

test.run();
