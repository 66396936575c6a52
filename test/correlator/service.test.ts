import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import pino from "pino";
import type { Alert } from "../../agent/src/publish/alert.js";
import { AlertIdentity } from "../../agent/src/publish/alert.js";
import { GatewayPublisher, topicFor } from "../../agent/src/publish/mqtt.js";
import { Correlator, subscriptionFilters } from "../../correlator/src/service.js";
import { renderIncidentReport } from "../../correlator/src/report.js";
import { search, searchDatabaseOf } from "../../correlator/src/search/run.js";
import { openStore } from "../../correlator/src/store.js";
import { alertRecord, modbusAlertRecord, sampleAlert, smbCopyRecords } from "../publish/samples.js";
import { startMosquitto, type RunningBroker } from "./mosquitto.js";

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Runs `body` with a Mosquitto broker on a free loopback port and a
// temporary folder. Afterwards it stops every correlator passed to `track`
// and the broker, and removes the folder. Without Mosquitto it returns at once.
async function withBroker(body: (broker: RunningBroker, dir: string, track: (correlator: Correlator) => Correlator) => Promise<void>): Promise<void> {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-correlator-"));
  const correlators: Correlator[] = [];
  try {
    await body(broker, dir, (correlator) => {
      correlators.push(correlator);
      return correlator;
    });
  } finally {
    for (const correlator of correlators) await correlator.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("correlator with mosquitto stores each alert once", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-correlator-"));
  const reportsDir = join(dir, "reports");
  let correlator: Correlator | undefined;
  try {
    correlator = await Correlator.start({ url: broker.url, dbPath: join(dir, "c.db"), reportsDir });
    const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
    assert.is(publisher.protocolVersion, 5);
    const alerts = [sampleAlert("plant-a", "gw-1"), sampleAlert("plant-a", "gw-1", modbusAlertRecord())];
    for (const record of smbCopyRecords()) await publisher.publishRecord(record);
    // The same alerts twice, as after a resend or a second replay.
    for (const alert of [...alerts, ...alerts]) await publisher.publishAlert(alert);
    await publisher.close();

    const stats = correlator.stats;
    await until(() => stats.alertsStored + stats.alertsDuplicate === 4 && stats.recordsStored === 3, "4 alerts and 3 records");
    assert.is(stats.alertsStored, 2);
    assert.is(stats.alertsDuplicate, 2);
    assert.is((await correlator.store.countAlerts()), 2);
    for (const alert of alerts) assert.ok((await correlator.store.hasAlert(alert.id)), `alert ${alert.id} not stored`);
    assert.is((await correlator.store.incidents()).length, 1);
  } finally {
    await correlator?.stop();
    await broker.stop();
  }

  try {
    const reportPath = join(reportsDir, "incident-1.md");
    assert.ok(existsSync(reportPath), `${reportPath} not written`);
    const report = readFileSync(reportPath, "utf8");
    if (process.env.SHOW_REPORT) console.log(report);
    // 1. What fired and its logic.
    assert.match(report, "## 1. What fired");
    assert.match(report, "Remote service created over svcctl (`remote-service-svcctl`)");
    assert.match(report, "Logic: A host asked the Service Control Manager");
    assert.match(report, "T1569.002, T1543.003");
    assert.match(report, "T0855, T0836");
    // 2. Which host did what to which host, with which account.
    assert.match(report, "## 2. Who did what");
    assert.match(report, "| 10.10.0.55:50112 | 10.10.1.20:445 | `PLANT\\m.keller` |");
    assert.match(report, "operation=CreateServiceW");
    assert.match(report, "| 10.10.0.55:50112 | 10.10.2.10:502 |");
    assert.match(report, "No account in the alerts from 10.10.0.55, but 10.10.0.55 used `PLANT\\m.keller` in this incident.");
    // 3. Which files moved.
    assert.match(report, "## 3. Files moved");
    assert.match(report, /\| upd4te\.exe \| `\\\\10\.10\.1\.20\\ADMIN\$` \| 10\.10\.0\.55 -> 10\.10\.1\.20 \| 6144 \| 0 \|/);
    // 4. Is this routine.
    assert.match(report, "## 4. Is this routine?");
    assert.match(report, "first time the gateway has seen it");
    assert.match(report, "10.10.0.55 and 10.10.1.20: the store contains nothing between these hosts before 2026-03-10T04:00:40.660Z; this pair is new");
    assert.match(report, "Spans IT and OT");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("correlator drops invalid and misaddressed alerts", () => withBroker(async (broker, dir, track) => {
  const correlator = track(await Correlator.start({ url: broker.url, dbPath: join(dir, "c.db") }));
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  const topic = topicFor("plant-a", "gw-1", "alerts");
  const { id: _id, ...withoutId } = sampleAlert("plant-a", "gw-1");
  await client.publishAsync(topic, JSON.stringify(withoutId), { qos: 1 });
  await client.publishAsync(topic, "{not json", { qos: 1 });
  await client.publishAsync(topicFor("plant-b", "gw-1", "alerts"), JSON.stringify(sampleAlert("plant-a", "gw-1")), { qos: 1 });
  await client.publishAsync(topicFor("plant-a", "gw-1", "records"), JSON.stringify({ type: "smb" }), { qos: 1 });
  await client.publishAsync(topic, JSON.stringify(sampleAlert("plant-a", "gw-1")), { qos: 1 });
  await client.endAsync();

  const stats = correlator.stats;
  await until(() => stats.alertsStored === 1, "the valid alert");
  assert.is(stats.alertsInvalid, 2);
  assert.is(stats.alertsWrongTopic, 1);
  assert.is(stats.recordsInvalid, 1);
  assert.is((await correlator.store.countAlerts()), 1);
}));

test("correlator receives alerts sent while stopped", () => withBroker(async (broker, dir, track) => {
  const options = { url: broker.url, dbPath: join(dir, "c.db"), clientId: "fieldsense-correlator-test" };
  // The first start creates the persistent session and its subscriptions.
  await (await Correlator.start(options)).stop();
  const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
  const alert = sampleAlert("plant-a", "gw-1");
  await publisher.publishAlert(alert);
  await publisher.close();

  const correlator = track(await Correlator.start(options));
  const stored = correlator;
  await until(async () => (await stored.store.hasAlert(alert.id)), "the alert queued by the broker");
  assert.is(stored.stats.alertsStored, 1);
}));

type LogLine = { level: number; msg: string; [field: string]: unknown };

function captureLog(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { lines, logger: pino({ level: "info" }, { write: (line: string) => { lines.push(JSON.parse(line)); } }) };
}

// `count` alerts with distinct ids, as one gateway sends them.
function distinctAlerts(count: number): Alert[] {
  const identity = new AlertIdentity();
  return Array.from({ length: count }, (_, i) => sampleAlert("plant-a", "gw-1", i % 2 === 0 ? alertRecord() : modbusAlertRecord(), identity));
}

// A real SQLITE_FULL: max_page_count caps the file at its current size, as a
// full file system would. The broker holds back further messages once its
// window of unacknowledged ones is full (Mosquitto's max_inflight_messages,
// 20 by default), so all 50 alerts are stored only if the correlator retries
// and acknowledges the 45 that arrived during the outage.
test("correlator retries after the disk was full", () => withBroker(async (broker, dir, track) => {
  const log = captureLog();
  const correlator = track(await Correlator.start({ url: broker.url, dbPath: join(dir, "c.db"), logger: log.logger, storeRetryMs: 20 }));
  const running = correlator;
  const db = running.store.db;
  const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
  const [first, ...alerts] = distinctAlerts(51);
  assert.is(new Set(alerts.map((alert) => alert.id)).size, 50);
  await publisher.publishAlert(first);
  await until(() => running.stats.alertsStored === 1, "the first alert stored");

  db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true }) as number}`);
  for (const alert of alerts.slice(0, 45)) await publisher.publishAlert(alert);
  await until(() => running.stats.storeOutages === 1, "the store outage");
  db.pragma("max_page_count = 1073741823");
  for (const alert of alerts.slice(45)) await publisher.publishAlert(alert);
  await publisher.close();

  await until(() => running.stats.alertsStored === 51, "all 51 alerts stored", 15_000);
  assert.is(running.stats.alertsLost, 0);
  assert.is(running.stats.storeOutages, 1);
  assert.not.ok(running.failed);
  for (const alert of alerts) assert.ok(await running.store.hasAlert(alert.id), `alert ${alert.id} not stored`);

  const unavailable = log.lines.filter((line) => line.msg.startsWith("store unavailable"));
  assert.is(unavailable.length, 1);
  assert.is(unavailable[0].level, 50);
  assert.is(unavailable[0].code, "SQLITE_FULL");
  // The first alerts may still fit in free pages of the file.
  const heldIds = unavailable[0].alertIds as string[];
  assert.ok(heldIds.length > 0);
  for (const id of heldIds) assert.ok(alerts.some((alert) => alert.id === id), `unknown alert id ${id} logged`);
  const available = log.lines.filter((line) => line.msg.startsWith("store available again"));
  assert.is(available.length, 1);
  assert.is((available[0].alertIds as string[])[0], heldIds[0]);
  await running.stop();
  assert.is(log.lines[log.lines.length - 1].msg, "correlator stopped");
}));

// An error that a retry cannot change (here a constraint that rejects one
// alert id) loses only that alert: it is acknowledged, counted and logged by
// id, and the store keeps taking the others.
test("correlator acknowledges an alert the store rejects", () => withBroker(async (broker, dir, track) => {
  const log = captureLog();
  const options = { url: broker.url, dbPath: join(dir, "c.db"), clientId: "fieldsense-correlator-reject", logger: log.logger, storeRetryMs: 20 };
  let correlator: Correlator | undefined;
  correlator = track(await Correlator.start(options));
  const running = correlator;
  const [rejected, ...stored] = distinctAlerts(3);
  running.store.db.exec(`CREATE TRIGGER reject_one BEFORE INSERT ON alerts WHEN NEW.id = '${rejected.id}' BEGIN SELECT RAISE(ABORT, 'rejected by test'); END`);
  const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
  for (const alert of [stored[0], rejected, stored[1]]) await publisher.publishAlert(alert);
  await publisher.close();

  await until(() => running.stats.alertsStored === 2 && running.stats.alertsLost === 1, "2 alerts stored and 1 lost");
  assert.is(running.stats.storeOutages, 0);
  const errors = log.lines.filter((line) => line.level >= 50);
  assert.is(errors.length, 1);
  assert.is(errors[0].alertId, rejected.id);
  assert.match(errors[0].msg, `store rejected alert ${rejected.id}`);
  assert.is(errors[0].db, join(dir, "c.db"));
  await running.stop();
  assert.ok(running.failed);
  const stopped = log.lines[log.lines.length - 1];
  assert.is(stopped.level, 50);
  assert.match(stopped.msg, "the store rejected 1 alert(s), which are lost");

  // The rejected alert was acknowledged, so the broker does not send it again.
  correlator = track(await Correlator.start(options));
  await new Promise((resolve) => setTimeout(resolve, 300));
  await correlator.idle();
  assert.is(correlator.stats.alertsStored + correlator.stats.alertsDuplicate + correlator.stats.alertsLost, 0);
}));

// An alert is acknowledged to the broker only once it is committed. Stopped
// while the store fails with an I/O error, the correlator leaves the alert
// unacknowledged, so the broker sends it again when the same session
// reconnects. The broker does not send the alert that was stored.
test("correlator stops while the store is unavailable", () => withBroker(async (broker, dir, track) => {
  const log = captureLog();
  const options = { url: broker.url, dbPath: join(dir, "c.db"), clientId: "fieldsense-correlator-ack", protocolVersion: 5 as const, storeRetryMs: 20 };
  let correlator: Correlator | undefined;
  correlator = track(await Correlator.start({ ...options, logger: log.logger }));
  const first = correlator;
  const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
  const [stored, held] = distinctAlerts(2);
  await publisher.publishAlert(stored);
  await until(() => first.stats.alertsStored === 1, "the first alert stored");
  first.store.ingest = async () => { throw new Database.SqliteError("disk I/O error", "SQLITE_IOERR_WRITE"); };
  await publisher.publishAlert(held);
  await publisher.close();
  await until(() => first.stats.storeOutages === 1, "the store outage");
  await first.stop();
  assert.is(first.stats.alertsLost, 0);
  assert.is(first.stats.alertsUnacknowledged, 1);
  assert.ok(first.failed);
  const stopped = log.lines[log.lines.length - 1];
  assert.is(stopped.level, 50);
  assert.equal(stopped.heldAlertIds, [held.id]);
  assert.match(stopped.msg, "1 alert(s) waited unacknowledged for the unavailable store");

  correlator = track(await Correlator.start(options));
  const second = correlator;
  await until(async () => await second.store.hasAlert(held.id), "the unacknowledged alert sent again");
  await second.idle();
  assert.is(second.stats.alertsStored, 1);
  // The stored alert was acknowledged, so the broker did not send it again.
  assert.is(second.stats.alertsDuplicate, 0);
  assert.is(await second.store.countAlerts(), 2);
}));

// Alerts from a gateway whose clock is years ahead (2099) or was never set
// (1970) are stored, counted, logged once per gateway and marked in the
// report. A search for the newest hits sorts the 2099 alert by the time it
// was received, so an alert received later comes first.
test("correlator flags wrong gateway clocks", () => withBroker(async (broker, dir, track) => {
  const log = captureLog();
  const correlator = track(await Correlator.start({ url: broker.url, dbPath: join(dir, "c.db"), logger: log.logger }));
  const running = correlator;
  const identity = new AlertIdentity();
  const atSecond = (tsSec: number) => sampleAlert("plant-a", "gw-1", alertRecord({ tsSec }), identity);
  const future = [atSecond(Date.UTC(2099, 0, 1) / 1000), atSecond(Date.UTC(2099, 0, 1, 1) / 1000)];
  const unset = atSecond(60);
  const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
  for (const alert of [...future, unset]) await publisher.publishAlert(alert);
  await until(() => running.stats.alertsStored === 3, "3 alerts stored");
  // Half an hour ahead is within the tolerance for clock drift.
  const later = atSecond(Math.floor(Date.now() / 1000) + 1800);
  await publisher.publishAlert(later);
  await publisher.close();
  await until(() => running.stats.alertsStored === 4, "the later alert stored");

  assert.is(running.stats.alertsClockAhead, 2);
  assert.is(running.stats.alertsClockUnset, 1);
  const ahead = log.lines.filter((line) => line.msg.startsWith("gateway clock ahead"));
  assert.is(ahead.length, 1);
  assert.is(ahead[0].level, 40);
  assert.is(ahead[0].gateway, "gw-1");
  assert.is(ahead[0].alertId, future[0].id);
  assert.ok((ahead[0].skewMs as number) > 70 * 365 * 86_400_000);
  const notSet = log.lines.filter((line) => line.msg.startsWith("gateway clock not set"));
  assert.is(notSet.length, 1);
  assert.is(notSet[0].alertId, unset.id);

  const { hits } = await search(searchDatabaseOf(running.store), "kind:alert");
  assert.equal(hits.map((hit) => hit.ref), [later.id, future[1].id, future[0].id, unset.id]);

  const incidentId = (await running.store.incidents()).find((incident) => incident.lastMs >= Date.UTC(2099, 0, 1))!.id;
  const report = (await renderIncidentReport(running.store, incidentId))!;
  assert.match(report, "- Gateway clock ahead: 2 alert(s) carry a packet time more than 1 h after the correlator received them");
}));

test("correlator warns about the mosquitto queue", () => withBroker(async (broker, dir, track) => {
  const logLines: Array<{ level: number; msg: string; setting?: string; brokerVersion?: string }> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => { logLines.push(JSON.parse(line)); } });
  const correlator = track(await Correlator.start({ url: broker.url, dbPath: join(dir, "c.db"), logger }));
  await until(() => logLines.some((line) => line.setting === "max_queued_messages"), "the max_queued_messages warning");
  const warning = logLines.find((line) => line.setting === "max_queued_messages")!;
  assert.is(warning.level, 40);
  assert.match(warning.brokerVersion!, /^mosquitto version \d/);
  assert.match(warning.msg, "default 1000");
  // The version message is no rejected alert.
  assert.is(correlator.stats.rejected.unexpected_topic, 0);
}));

test("correlator applies retention at start", () => withBroker(async (broker, dir, track) => {
  const dbPath = join(dir, "c.db");
  const store = await openStore(dbPath);
  await store.insertAlert(sampleAlert(), new Date(Date.now() - 40 * 86_400_000));
  await store.insertAlert(sampleAlert("plant-a", "gw-1", modbusAlertRecord()));
  await store.close();
  const correlator = track(await Correlator.start({ url: broker.url, dbPath, retention: { maxAgeMs: 30 * 86_400_000 } }));
  await correlator.idle();
  assert.is(await correlator.store.countAlerts(), 1);
  const incidents = await correlator.store.incidents();
  assert.is(incidents.length, 1);
  assert.equal(incidents[0].models, ["modbus-write-not-master"]);
}));

test("subscription filters with a share group", () => {
  assert.equal(subscriptionFilters(), ["fieldsense/v1/+/+/alerts", "fieldsense/v1/+/+/records"]);
  assert.equal(subscriptionFilters("corr"), ["$share/corr/fieldsense/v1/+/+/alerts", "$share/corr/fieldsense/v1/+/+/records"]);
});

test.run();
