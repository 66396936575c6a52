import { test } from "uvu";
import * as assert from "uvu/assert";
import { AlertIdentity } from "../../agent/src/publish/alert.js";
import { renderIncidentReport, REPORT_MAX_ALERT_LINES } from "../../correlator/src/report.js";
import { openStore } from "../../correlator/src/store.js";
import { alertRecord, modbusAlertRecord, OFFICE, sampleAlert, smbCopyRecords, WORKSTATION } from "../publish/samples.js";

const DAY = 86_400;
const T0 = 1_773_129_640;

test("report routine from stored history", async () => {
  const store = await openStore(":memory:");
  // The same service creation on three earlier days, as a deployment tool would.
  for (const daysBack of [3, 2, 1]) {
    const record = alertRecord({ tsSec: T0 - daysBack * DAY });
    record.fields = { ...record.fields, seen_before: daysBack < 3, first_seen: T0 - 3 * DAY };
    await store.insertAlert(sampleAlert("plant-a", "gw-1", record, new AlertIdentity()));
  }
  await store.insertRecord("plant-a", "gw-1", smbCopyRecords("2026-03-08T08:00:40")[1]);
  const today = alertRecord({ tsSec: T0 });
  today.fields = { ...today.fields, seen_before: true, first_seen: T0 - 3 * DAY };
  const inserted = await store.insertAlert(sampleAlert("plant-a", "gw-1", today, new AlertIdentity()));
  assert.ok(inserted.stored);
  if (!inserted.stored) return;

  const report = (await renderIncidentReport(store, inserted.incidentId!))!;
  assert.match(report, "seen before by the gateway, first on 2026-03-07T08:00:40.000Z");
  assert.match(report, `${OFFICE} and ${WORKSTATION}: before 2026-03-10T04:00:40.660Z the store contains 3 alert(s) and 1 record(s) between these hosts over 3 day(s), the first on 2026-03-07T08:00:40.660000Z`);
  await store.close();
});

test("report without smb records", async () => {
  const store = await openStore(":memory:");
  const inserted = await store.insertAlert(sampleAlert());
  assert.ok(inserted.stored);
  if (!inserted.stored) return;
  const report = (await renderIncidentReport(store, inserted.incidentId!))!;
  assert.match(report, "No SMB records between these hosts were forwarded around this time");
  assert.not.match(report, "Spans IT and OT");
  await store.close();
});

test("report pipes listed apart from files", async () => {
  const store = await openStore(":memory:");
  const inserted = await store.insertAlert(sampleAlert());
  const [tree, create] = smbCopyRecords();
  await store.insertRecord("plant-a", "gw-1", tree);
  await store.insertRecord("plant-a", "gw-1", { ...create, path: "svcctl", named_pipe: "svcctl", ts: "2026-03-10T08:00:40.410000Z" });
  if (!inserted.stored) return;
  const report = (await renderIncidentReport(store, inserted.incidentId!))!;
  assert.match(report, "SMB traffic between these hosts named no files around this time.");
  assert.match(report, `Named pipes opened: svcctl on ${WORKSTATION}.`);
  await store.close();
});

// Values an attacker controls on the wire, each trying to add a heading, a
// list item, a table row or markup to the report.
const INJECTED = "x\n# Injected heading\r\n- injected item\u2028| injected | row |\n<b>bold</b> [link](http://127.0.0.1/)";

function injectedAlert() {
  const alert = sampleAlert();
  alert.name = INJECTED;
  alert.account = `PLANT\\m.keller\n# Injected account heading`;
  alert.evidence = { ...alert.evidence, operation: INJECTED };
  return alert;
}

test("report flattens newlines from alert values", async () => {
  const store = await openStore(":memory:");
  const inserted = await store.insertAlert(injectedAlert());
  if (!inserted.stored) throw new Error("alert not stored");
  const report = (await renderIncidentReport(store, inserted.incidentId!))!;
  const headings = report.split("\n").filter((line) => line.startsWith("#"));
  assert.equal(headings.map((line) => line.split(" ")[0]), ["#", "##", "###", "##", "##", "##", "##", "##", "##"]);
  assert.not.match(report, /^# Injected/m);
  assert.not.match(report, /^- injected item/m);
  assert.not.match(report, /^\| injected/m);
  assert.not.match(report, "\u2028");
  assert.match(report, "### x \\# Injected heading - injected item \\| injected \\| row \\| \\<b\\>bold\\</b\\> \\[link\\](http://127.0.0.1/)");
  // The account keeps its backslash inside a code span.
  assert.match(report, "| `PLANT\\m.keller # Injected account heading` |");
  // Every row of the alerts table still has its 6 cells.
  const row = report.split("\n").find((line) => line.startsWith("| 2026-"))!;
  assert.is(row.split(/(?<!\\)\|/).length - 2, 6, row);
  await store.close();
});

test("report explains the incident score", async () => {
  const store = await openStore(":memory:");
  // 80 (svcctl, 2 techniques) and 70 (modbus, 2 techniques).
  await store.insertAlert(sampleAlert());
  const inserted = await store.insertAlert(sampleAlert("plant-a", "gw-1", modbusAlertRecord()));
  if (!inserted.stored) throw new Error("alert not stored");
  const report = (await renderIncidentReport(store, inserted.incidentId!))!;
  assert.match(report, "# Incident 1: score 100");
  assert.match(report, "- Score: 100 = highest alert score 80 + bonus 20 (5 x (1 extra model(s) + 3 extra ATT&CK technique(s)) = 20)");
  await store.close();
});

test("report of a large incident", async () => {
  const store = await openStore(":memory:");
  const base = sampleAlert();
  const count = REPORT_MAX_ALERT_LINES + 20;
  for (let i = 0; i < count; i++) {
    await store.insertAlert({ ...base, id: `many-${i}`, ts: new Date((T0 + i) * 1000).toISOString() });
  }
  const report = (await renderIncidentReport(store, 1))!;
  assert.match(report, `- Alerts: ${count} from gateway(s) gw-1`);
  assert.match(report, `- Fired ${count} time(s), score 80`);
  // The alerts table and the timeline each list the first alerts.
  assert.is(report.split("\n").filter((line) => line.startsWith("| 2026-")).length, 2 * REPORT_MAX_ALERT_LINES);
  assert.match(report, `The first ${REPORT_MAX_ALERT_LINES} of ${count} alerts are listed; the other 20 are in the store.`);
  await store.close();
});

test("report for unknown incident", async () => {
  const store = await openStore(":memory:");
  assert.is(await renderIncidentReport(store, 42), undefined);
  await store.close();
});

test.run();
