// Incidents built from the shared captures replayed through the agent.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { openStore } from "../../correlator/src/store.js";
import { renderIncidentReport } from "../../correlator/src/report.js";
import { capture } from "../helpers/captures.js";
import { replayCaptures, storeReplayed } from "./replay-store.js";

const NET_USER = "dcerpc/401trg_smb_net_user_samr_lsarpc.pcap";
const PSEXEC = "dcerpc/401trg_smb_psexec_add_user_svcctl.pcap";
const POLLING = "modbus/iti_plant1_modbus_normal_polling.pcap";

test("net user then psexec one incident", async () => {
  const netUser = capture(NET_USER);
  const psexec = capture(PSEXEC);
  if (!netUser || !psexec) return;
  const discovery = await replayCaptures([netUser]);
  const lateral = await replayCaptures([psexec]);
  // The two captures share their hosts: the same client and DC1.
  const pairs = (alerts: typeof discovery.alerts) => new Set(alerts.map((a) => `${a.src.ip}>${a.dst.ip}`));
  assert.equal([...pairs(discovery.alerts)], ["192.168.10.31>192.168.10.10"]);
  assert.equal([...pairs(lateral.alerts)], ["192.168.10.31>192.168.10.10"]);

  const store = await openStore(":memory:");
  try {
    await storeReplayed(store, discovery);
    await storeReplayed(store, lateral);
    const incidents = await store.rankedIncidents();
    assert.is(incidents.length, 1);
    const incident = incidents[0];
    assert.is(incident.alertCount, discovery.alerts.length + lateral.alerts.length);
    assert.equal(incident.hosts, ["192.168.10.10", "192.168.10.31"]);
    assert.equal(incident.progression, ["discovery", "lateral_movement", "execution"]);
    assert.ok(incident.why.some((factor) => factor.factor === "progression" && factor.reason === "progression Discovery -> Lateral Movement -> Execution"));
    assert.is(incident.pivot, false);

    const timeline = await store.timeline(incident.id);
    assert.is(timeline[0].alert.model, "it-discovery-burst");
    assert.ok(timeline[0].tactics.some((tactic) => tactic.id === "TA0007"));
    assert.ok(timeline.slice(1).every((entry) => entry.alert.ts > timeline[0].alert.ts));

    const nodes = await store.entities(incident.id);
    const dc = nodes.find((node) => node.id === "host:192.168.10.10");
    assert.ok(dc, "no node for the domain controller");
    // Names from the share paths \\dc1\ADMIN$ and \\DC1.contoso.local\IPC$.
    assert.equal(dc!.facts.names, ["DC1.contoso.local", "dc1"]);
    assert.is(dc!.label, "DC1.contoso.local (192.168.10.10)");
    assert.ok(nodes.some((node) => node.id === "file:path:\\\\dc1\\admin$\\psexesvc.exe"), JSON.stringify(nodes.map((n) => n.id)));
    const edges = await store.edges(incident.id);
    const alertEdge = edges.find((edge) => edge.kind === "alert" && edge.from === "host:192.168.10.31" && edge.to === "host:192.168.10.10");
    assert.is(alertEdge?.alertIds.length, incident.alertCount);
    assert.ok(edges.some((edge) => edge.kind === "file_write" && edge.to === "file:path:\\\\dc1\\admin$\\psexesvc.exe"));

    const report = (await renderIncidentReport(store, incident.id))!;
    assert.match(report, "- Progression: Discovery -> Lateral Movement -> Execution");
    assert.match(report, "## Timeline");
    assert.match(report, "- T1021.002 Remote Services: SMB/Windows Admin Shares: Lateral Movement TA0008 (Enterprise)");
    assert.match(report, "service_name=PSEXESVC, binary_path=%SystemRoot%\\PSEXESVC.exe");
    assert.not.match(report, "command=CREATE (");
    assert.match(report, "| PSEXESVC.exe |");
    assert.match(report, "- Lateral Movement (TA0008): Isolate the destination host");
    assert.match(report, "- Remote service created, changed or started over svcctl (PsExec style) (`remote-service-svcctl`): Check the service's binary path");
  } finally {
    await store.close();
  }
});

test("at job command in report", async () => {
  const at = capture("dcerpc/401trg_smb_at_schedule_atsvc.pcap");
  if (!at) return;
  const store = await openStore(":memory:");
  try {
    await storeReplayed(store, await replayCaptures([at]));
    const [incident] = await store.rankedIncidents();
    const report = (await renderIncidentReport(store, incident.id))!;
    assert.match(report, "Services and tasks created, with what they run:");
    assert.match(report, "- On 192.168.10.30: `command=c:\\mimikatz.exe` (Remote scheduled task created over ATSVC (at.exe))");
    assert.not.match(report, "command=CREATE (");
  } finally {
    await store.close();
  }
});

test("plant polling no incident", async () => {
  const polling = capture(POLLING);
  if (!polling) return;
  const replayed = await replayCaptures([polling]);
  assert.ok(replayed.alerts.length > 0, "the polling capture no longer raises learning alerts; this test then checks nothing");
  const store = await openStore(":memory:");
  try {
    await storeReplayed(store, replayed);
    assert.is(await store.countAlerts(), replayed.alerts.length);
    assert.equal(await store.rankedIncidents(), []);
  } finally {
    await store.close();
  }
});

test.run();
