import { test } from "uvu";
import * as assert from "uvu/assert";
import { AlertIdentity } from "../../agent/src/publish/alert.js";
import { renderIncidentReport } from "../../correlator/src/report.js";
import { Store } from "../../correlator/src/store.js";
import { alertRecord, OFFICE, sampleAlert, smbCopyRecords, WORKSTATION } from "../publish/samples.js";

const DAY = 86_400;
const T0 = 1_773_129_640;

test("report routine from stored history", () => {
  const store = new Store(":memory:");
  // The same service creation on three earlier days, as a deployment tool would.
  for (const daysBack of [3, 2, 1]) {
    const record = alertRecord({ tsSec: T0 - daysBack * DAY });
    record.fields = { ...record.fields, seen_before: daysBack < 3, first_seen: T0 - 3 * DAY };
    store.insertAlert(sampleAlert("plant-a", "gw-1", record, new AlertIdentity()));
  }
  store.insertRecord("plant-a", "gw-1", smbCopyRecords("2026-03-08T08:00:40")[1]);
  const today = alertRecord({ tsSec: T0 });
  today.fields = { ...today.fields, seen_before: true, first_seen: T0 - 3 * DAY };
  const inserted = store.insertAlert(sampleAlert("plant-a", "gw-1", today, new AlertIdentity()));
  assert.ok(inserted.stored);
  if (!inserted.stored) return;

  const report = renderIncidentReport(store, inserted.incidentId)!;
  assert.match(report, "seen before by the gateway, first on 2026-03-07T08:00:40.000Z");
  assert.match(report, `${OFFICE} and ${WORKSTATION}: before 2026-03-10T07:00:40.660Z the store contains 3 alert(s) and 1 record(s) between these hosts over 3 day(s), the first on 2026-03-07T08:00:40.660000Z`);
  store.close();
});

test("report without smb records", () => {
  const store = new Store(":memory:");
  const inserted = store.insertAlert(sampleAlert());
  assert.ok(inserted.stored);
  if (!inserted.stored) return;
  const report = renderIncidentReport(store, inserted.incidentId)!;
  assert.match(report, "No SMB records between these hosts were forwarded around this time");
  assert.not.match(report, "Spans IT and OT");
  store.close();
});

test("report pipes listed apart from files", () => {
  const store = new Store(":memory:");
  const inserted = store.insertAlert(sampleAlert());
  const [tree, create] = smbCopyRecords();
  store.insertRecord("plant-a", "gw-1", tree);
  store.insertRecord("plant-a", "gw-1", { ...create, path: "svcctl", named_pipe: "svcctl", ts: "2026-03-10T08:00:40.410000Z" });
  if (!inserted.stored) return;
  const report = renderIncidentReport(store, inserted.incidentId)!;
  assert.match(report, "SMB traffic between these hosts named no files around this time.");
  assert.match(report, `Named pipes opened: svcctl on ${WORKSTATION}.`);
  store.close();
});

test("report for unknown incident", () => {
  const store = new Store(":memory:");
  assert.is(renderIncidentReport(store, 42), undefined);
  store.close();
});

test.run();
