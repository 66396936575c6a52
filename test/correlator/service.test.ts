import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import pino from "pino";
import { GatewayPublisher, topicFor } from "../../agent/src/publish/mqtt.js";
import { Correlator, subscriptionFilters } from "../../correlator/src/service.js";
import { openStore } from "../../correlator/src/store.js";
import { modbusAlertRecord, sampleAlert, smbCopyRecords } from "../publish/samples.js";
import { startMosquitto } from "./mosquitto.js";

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
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

test("correlator drops invalid and misaddressed alerts", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-correlator-"));
  let correlator: Correlator | undefined;
  try {
    correlator = await Correlator.start({ url: broker.url, dbPath: join(dir, "c.db") });
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
  } finally {
    await correlator?.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("correlator receives alerts sent while stopped", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-correlator-"));
  const options = { url: broker.url, dbPath: join(dir, "c.db"), clientId: "fieldsense-correlator-test" };
  let correlator: Correlator | undefined;
  try {
    // The first start creates the persistent session and its subscriptions.
    await (await Correlator.start(options)).stop();
    const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
    const alert = sampleAlert("plant-a", "gw-1");
    await publisher.publishAlert(alert);
    await publisher.close();

    correlator = await Correlator.start(options);
    const stored = correlator;
    await until(async () => (await stored.store.hasAlert(alert.id)), "the alert queued by the broker");
    assert.is(stored.stats.alertsStored, 1);
  } finally {
    await correlator?.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("correlator counts alerts the store fails to write", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-correlator-"));
  const logLines: Array<{ level: number; msg: string; alertsLost?: number; db?: string }> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => { logLines.push(JSON.parse(line)); } });
  let correlator: Correlator | undefined;
  try {
    correlator = await Correlator.start({ url: broker.url, dbPath: join(dir, "c.db"), logger });
    // Fails every insert as a full disk or an I/O error would.
    correlator.store.db.exec("CREATE TRIGGER fail_inserts BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
    await publisher.publishAlert(sampleAlert("plant-a", "gw-1"));
    await publisher.publishAlert(sampleAlert("plant-a", "gw-1", modbusAlertRecord()));
    await publisher.close();

    const running = correlator;
    await until(() => running.stats.alertsLost === 2, "2 lost alerts");
    assert.is(running.stats.alertsStored, 0);
    assert.ok(running.failed);
    const errors = logLines.filter((line) => line.level >= 50);
    assert.equal(errors.map((line) => line.alertsLost), [1, 2]);
    assert.match(errors[0].msg, "storing an alert failed; 1 alerts lost so far");
    assert.is(errors[0].db, join(dir, "c.db"));
    await running.stop();
    const stopped = logLines[logLines.length - 1];
    assert.is(stopped.level, 50);
    assert.match(stopped.msg, "correlator stopped after losing 2 alert(s)");
  } finally {
    await correlator?.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// An alert is acknowledged to the broker only once it is committed: the
// broker sends the alert the store failed to write again when the same
// session reconnects, and not the alert that was stored.
test("correlator acknowledges an alert after storing it", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-correlator-"));
  const options = { url: broker.url, dbPath: join(dir, "c.db"), clientId: "fieldsense-correlator-ack", protocolVersion: 5 as const };
  let correlator: Correlator | undefined;
  try {
    correlator = await Correlator.start(options);
    const first = correlator;
    const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
    const stored = sampleAlert("plant-a", "gw-1");
    await publisher.publishAlert(stored);
    await until(() => first.stats.alertsStored === 1, "the first alert stored");
    first.store.db.exec("CREATE TRIGGER fail_inserts BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    const failed = sampleAlert("plant-a", "gw-1", modbusAlertRecord());
    await publisher.publishAlert(failed);
    await publisher.close();
    await until(() => first.stats.alertsLost === 1, "the second alert lost");
    first.store.db.exec("DROP TRIGGER fail_inserts");
    await first.stop();

    correlator = await Correlator.start(options);
    const second = correlator;
    await until(async () => await second.store.hasAlert(failed.id), "the unacknowledged alert sent again");
    await second.idle();
    assert.is(second.stats.alertsStored, 1);
    // The stored alert was acknowledged, so the broker did not send it again.
    assert.is(second.stats.alertsDuplicate, 0);
    assert.is(await second.store.countAlerts(), 2);
  } finally {
    await correlator?.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("correlator warns about the mosquitto queue", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-correlator-"));
  const logLines: Array<{ level: number; msg: string; setting?: string; brokerVersion?: string }> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => { logLines.push(JSON.parse(line)); } });
  let correlator: Correlator | undefined;
  try {
    correlator = await Correlator.start({ url: broker.url, dbPath: join(dir, "c.db"), logger });
    await until(() => logLines.some((line) => line.setting === "max_queued_messages"), "the max_queued_messages warning");
    const warning = logLines.find((line) => line.setting === "max_queued_messages")!;
    assert.is(warning.level, 40);
    assert.match(warning.brokerVersion!, /^mosquitto version \d/);
    assert.match(warning.msg, "default 1000");
    // The version message is no rejected alert.
    assert.is(correlator.stats.rejected.unexpected_topic, 0);
  } finally {
    await correlator?.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("correlator applies retention at start", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-correlator-"));
  let correlator: Correlator | undefined;
  try {
    const dbPath = join(dir, "c.db");
    const store = await openStore(dbPath);
    await store.insertAlert(sampleAlert(), new Date(Date.now() - 40 * 86_400_000));
    await store.insertAlert(sampleAlert("plant-a", "gw-1", modbusAlertRecord()));
    await store.close();
    correlator = await Correlator.start({ url: broker.url, dbPath, retention: { maxAgeMs: 30 * 86_400_000 } });
    await correlator.idle();
    assert.is(await correlator.store.countAlerts(), 1);
    const incidents = await correlator.store.incidents();
    assert.is(incidents.length, 1);
    assert.equal(incidents[0].models, ["modbus-write-not-master"]);
  } finally {
    await correlator?.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("subscription filters with a share group", () => {
  assert.equal(subscriptionFilters(), ["fieldsense/v1/+/+/alerts", "fieldsense/v1/+/+/records"]);
  assert.equal(subscriptionFilters("corr"), ["$share/corr/fieldsense/v1/+/+/alerts", "$share/corr/fieldsense/v1/+/+/records"]);
});

test.run();
