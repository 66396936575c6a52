// The lateral-movement models (models/it-*.yaml) on the shared captures and
// on hand-built calls: each fires on the behaviour it names, with the
// evidence an analyst needs, and stays silent on the benign captures.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { type CoreRecord } from "../../agent/src/core/core.js";
import { capture } from "../helpers/captures.js";
import { captureFeed as fromCapture, framesFeed as fromFrames, PACKAGE_MODELS, runWithModels, type Feed } from "../helpers/core-run.js";
import {
  bind, bindAck, elfrClearElfwStub, evtRpcClearLogStub, request, response, shutdownStub, taskPathStub, Uuid, winregStub,
} from "./build.js";
import { rpcConversation } from "./run.js";

// The IT models that report a host acting on another host (all but discovery).
const LATERAL_MOVEMENT_IT = readdirSync(PACKAGE_MODELS).filter((f) => /^it-.*\.yaml$/.test(f) && f !== "it-discovery-burst.yaml");

// Installs the models of `files` (from `dir`) in a fresh core, feeds it, and
// returns the alerts with the id of the model that fired each.
async function alertsOf(dir: string, files: string[], feed: Feed): Promise<{ id: string; alert: CoreRecord }[]> {
  return (await runWithModels(files, feed, dir)).alerts;
}

// Alerts of one staged model.
async function staged(file: string, feed: Feed): Promise<CoreRecord[]> {
  return (await alertsOf(PACKAGE_MODELS, [file], feed)).map((a) => a.alert);
}

// Ids of the staged lateral-movement models and the package models that fire.
async function lateralMovementIds(feed: Feed): Promise<string[]> {
  const fired = new Set<string>();
  for (const file of LATERAL_MOVEMENT_IT) for (const a of await alertsOf(PACKAGE_MODELS, [file], feed)) fired.add(a.id);
  const packaged = readdirSync(PACKAGE_MODELS).filter((f) => /^remote-.*\.yaml$/.test(f));
  for (const a of await alertsOf(PACKAGE_MODELS, packaged, feed)) fired.add(a.id);
  return [...fired].sort();
}

// Public captures -----------------------------------------------------------

test("psexec capture raises pipe and admin share models", async () => {
  // 401trg_smb_psexec_add_user_svcctl.pcap: PsExec on 192.168.10.31 copies
  // PSEXESVC.exe to \\dc1\ADMIN$, starts it over svcctl and talks to it over
  // the PSEXESVC pipes to add a user.
  const path = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (!path) return;
  const pipes = await staged("it-psexec-pipes.yaml", fromCapture(path));
  assert.ok(pipes.length >= 1, "pipe model fired");
  assert.ok(pipes.some((a) => a.fields.named_pipe === "PSEXESVC"), "the PSEXESVC pipe");
  for (const alert of pipes) assert.is(alert.src.ip, "192.168.10.31");
  const writes = await staged("it-admin-share-executable.yaml", fromCapture(path));
  // The second open of PSEXESVC.exe requests DELETE only, without write bits.
  assert.is(writes.length, 1);
  assert.is(writes[0].fields.path, "PSEXESVC.exe");
  assert.is(writes[0].fields.share, "\\\\dc1\\ADMIN$");
  assert.is(writes[0].fields.create_disposition, "FILE_OVERWRITE_IF");
  assert.is((await staged("it-discovery-burst.yaml", fromCapture(path))).length, 0);
});

test("at job capture raises no it model", async () => {
  // 401trg_smb_at_schedule_atsvc.pcap: at.exe on 192.168.10.31 schedules
  // c:\mimikatz.exe on admin-pc (192.168.10.30) through NetrJobAdd, which
  // remote-task-atsvc reports; the job's time is now part of the evidence.
  const path = capture("dcerpc/401trg_smb_at_schedule_atsvc.pcap");
  if (!path) return;
  const at = await alertsOf(PACKAGE_MODELS, ["remote-task-atsvc.yaml"], fromCapture(path));
  assert.ok(at.length >= 1, "remote-task-atsvc fired");
  assert.is(at[0].alert.fields.command, "c:\\mimikatz.exe");
  assert.match(String(at[0].alert.fields.job_time), /^\d\d:\d\d:\d\d$/);
  assert.equal((await lateralMovementIds(fromCapture(path))).filter((id) => id.startsWith("it-")), []);
  assert.is((await staged("it-discovery-burst.yaml", fromCapture(path))).length, 0);
});

test("net user capture is discovery, not lateral movement", async () => {
  // 401trg_smb_net_user_samr_lsarpc.pcap: "net user" against the domain
  // controller from 192.168.10.31: samr and lsarpc lookups and enumerations.
  const path = capture("dcerpc/401trg_smb_net_user_samr_lsarpc.pcap");
  if (!path) return;
  const discovery = await staged("it-discovery-burst.yaml", fromCapture(path));
  assert.is(discovery.length, 1);
  assert.is(discovery[0].src.ip, "192.168.10.31");
  assert.equal(await lateralMovementIds(fromCapture(path)), []);
});

test("domain join capture raises no DCSync", async () => {
  // zeek_cs_window7-join_stream092_drsuapi.pcap: a Windows 7 domain join
  // calls DRSBind, DRSCrackNames and DRSUnbind, not DRSGetNCChanges.
  const path = capture("dcerpc/zeek_cs_window7-join_stream092_drsuapi.pcap");
  if (!path) return;
  assert.equal(await staged("it-dcsync.yaml", fromCapture(path)), []);
});

// Hand-built calls ----------------------------------------------------------

// One bound call on a fresh TCP connection.
function call(uuid: string, versionMajor: number, opnum: number, stub: number[]): Feed {
  return fromFrames(rpcConversation(49680)
    .fromClient(bind(2, [{ contextId: 0, uuid, versionMajor }]))
    .fromServer(bindAck(2, "49680", 1))
    .fromClient(request({ callId: 3, contextId: 0, opnum, stub }))
    .fromServer(response(3, 0)).frames);
}

const DRSUAPI = "e3514235-4b06-11d1-ab04-00c04fc2dcd2";
const WINREG = "338cd001-2244-31f1-aaaa-900038001003";

test("DRSGetNCChanges raises DCSync", async () => {
  const alerts = await staged("it-dcsync.yaml", call(DRSUAPI, 4, 3, new Array(64).fill(0)));
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.operation, "DRSGetNCChanges");
});

test("DRSCrackNames raises no DCSync", async () => {
  assert.equal(await staged("it-dcsync.yaml", call(DRSUAPI, 4, 12, new Array(64).fill(0))), []);
});

test("registry set value raises the registry model", async () => {
  const alerts = await staged("it-remote-registry-write.yaml", call(WINREG, 1, 22, winregStub(22, "Updater")));
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.value_name, "Updater");
});

test("registry open key raises nothing", async () => {
  assert.equal(await staged("it-remote-registry-write.yaml", call(WINREG, 1, 15, winregStub(15, "SOFTWARE"))), []);
});

test("event log clears raise the clearing models", async () => {
  const even = await staged("it-eventlog-clear.yaml", call("82273fdc-e32a-18c3-3f78-827929dc23ea", 0, 0, elfrClearElfwStub()));
  assert.is(even.length, 1);
  const even6 = await staged("it-eventlog-clear-even6.yaml", call("f6beaff7-1e19-4fbb-9f8f-b89e2018337c", 1, 6, evtRpcClearLogStub("Security")));
  assert.is(even6.length, 1);
  assert.is(even6[0].fields.log_name, "Security");
});

test("remote shutdowns raise the shutdown models", async () => {
  const viaWinreg = await staged("it-remote-shutdown-winreg.yaml", call(WINREG, 1, 30, shutdownStub("Patching", 30)));
  assert.is(viaWinreg.length, 1);
  assert.is(viaWinreg[0].fields.shutdown_message, "Patching");
  const viaInitShutdown = await staged("it-remote-shutdown-initshutdown.yaml", call("894de0c0-0d55-11d3-a322-00c04fa321a1", 1, 0, shutdownStub("bye", 0)));
  assert.is(viaInitShutdown.length, 1);
  // A registry write is not a shutdown.
  assert.equal(await staged("it-remote-shutdown-winreg.yaml", call(WINREG, 1, 22, winregStub(22, "x"))), []);
});

test("task run, delete and enable raise the task model", async () => {
  for (const opnum of [12, 13, 19]) {
    const alerts = await staged("it-remote-task-control.yaml", call(Uuid.taskScheduler, 1, opnum, taskPathStub(opnum, "\\Updater")));
    assert.is(alerts.length, 1, `opnum ${opnum}`);
    assert.is(alerts[0].fields.task_name, "\\Updater");
  }
});

test.run();
