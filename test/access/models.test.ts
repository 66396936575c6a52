// The remote-access models on byte-built logins with chosen times. A brute
// force that ends in a success gives one alert, and so does a spray over
// many accounts. The same burst every morning for ten days turns routine.
// New remote sessions, cleartext credentials and firmware uploads follow.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Core, type CoreRecord } from "../../agent/src/core/core.js";
import { loadModelSet, type ModelSet } from "../../agent/src/core/models.js";
import { batchOf, timed, type TimedFrame } from "../helpers/frames.js";
import { isForwardedRecord, recordToJson } from "../../agent/src/publish/record.js";
import { close, conversation, rdpConnectionConfirm, rdpConnectionRequest, text } from "./build.js";

const ATTACKER = "10.20.0.5";
const HMI = "10.30.0.7";
const DAY = 86400;
// 2026-11-02 00:00:00 UTC, a Monday.
const START = 1_794_096_000;

interface Alert { model: string; fields: CoreRecord["fields"]; record: CoreRecord }

let models: ModelSet;

async function run(frames: TimedFrame[]): Promise<{ records: CoreRecord[]; alerts: Alert[] }> {
  models ??= await loadModelSet();
  const core = await Core.load();
  models.install(core);
  const records: CoreRecord[] = [];
  core.process(batchOf(frames), (r) => records.push(r));
  core.finish((r) => records.push(r));
  const alerts = records.filter((r) => r.type === "alert").map((record) => ({
    model: models.byIndex(Number(record.fields.model_index))?.id ?? "?", fields: record.fields, record,
  }));
  return { records, alerts };
}

// One FTP connection: USER, PASS answered by 530 or 230, then the close.
function ftpLogin(user: string, accepted: boolean, client = ATTACKER, server = HMI): Uint8Array[] {
  const c = conversation(21, client, server)
    .fromServer(text("220 PLC FTP server ready\r\n"))
    .fromClient(text(`USER ${user}\r\n`)).fromServer(text("331 Password required\r\n"))
    .fromClient(text("PASS Winter2026!\r\n"))
    .fromServer(text(accepted ? "230 User logged in\r\n" : "530 Login incorrect\r\n"));
  return close(c).frames;
}

function at(tsSec: number, frames: Uint8Array[]): TimedFrame[] {
  return timed(frames, tsSec);
}

const burstAlerts = (alerts: Alert[]) => alerts.filter((a) => a.model === "access-login-burst-ftp");

test("brute force then success gives one alert", async () => {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 20; i++) frames.push(...ftpLogin("operator", false));
  frames.push(...ftpLogin("operator", true));
  const { alerts } = await run(at(START + 10 * 3600, frames));
  const bursts = burstAlerts(alerts);
  assert.is(bursts.length, 1);
  const [alert] = bursts;
  assert.is(alert.fields.login_failures, 20);
  assert.is(alert.fields.login_account_count, 1);
  assert.is(alert.fields.login_accounts, "operator");
  assert.is(alert.fields.login_succeeded, true);
  assert.is(alert.record.src.ip, ATTACKER);
  assert.is(alert.record.dst.ip, HMI);
  assert.is(alert.fields.login_result, "success", "the alert sits on the successful login");
  assert.is(alert.fields.seen_before, false);
  assert.ok(Number(alert.fields.score) > 60, "a new pair scores above the base");
  assert.equal(alerts.map((a) => a.model).sort(), ["access-cleartext-credentials-ftp", "access-login-burst-ftp"],
    "besides the burst, only the accepted cleartext password is reported");
});

test("failures from three hosts on one target", async () => {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    for (const source of ["10.20.0.11", "10.20.0.12", "10.20.0.13"]) frames.push(...ftpLogin("admin", false, source));
  }
  const { alerts } = await run(at(START + 5 * 3600, frames));
  const target = alerts.filter((a) => a.model === "access-login-burst-target-ftp");
  assert.is(target.length, 1);
  assert.is(target[0].fields.login_failures, 36);
  assert.is(target[0].record.dst.ip, HMI);
  assert.is(burstAlerts(alerts).length, 3, "one burst per source");
});

test("failures without success alert at the end", async () => {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) frames.push(...ftpLogin("admin", false));
  const { alerts } = await run(at(START + 3600, frames));
  const bursts = burstAlerts(alerts);
  assert.is(bursts.length, 1);
  assert.is(bursts[0].fields.login_failures, 12);
  assert.is(bursts[0].fields.login_succeeded, false);
});

test("nine failures stay below the burst", async () => {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 9; i++) frames.push(...ftpLogin("admin", false));
  frames.push(...ftpLogin("admin", true));
  const { alerts } = await run(at(START + 3600, frames));
  assert.is(burstAlerts(alerts).length, 0);
});

test("password spray across accounts", async () => {
  const accounts = ["admin", "operator", "engineer", "maint", "service", "guest", "root", "plc", "scada", "hmi", "vendor", "backup"];
  const frames: Uint8Array[] = [];
  for (const account of accounts) frames.push(...ftpLogin(account, false));
  const { alerts } = await run(at(START + 7200, frames));
  const spray = alerts.filter((a) => a.model === "access-password-spray-ftp");
  assert.is(spray.length, 1);
  assert.is(spray[0].record.src.ip, ATTACKER);
  const bursts = burstAlerts(alerts);
  assert.is(bursts.length, 1);
  assert.is(bursts[0].fields.login_account_count, 12);
  assert.equal(bursts[0].fields.login_accounts, accounts.slice(0, 8));
});

test("daily burst at the same hour turns routine", async () => {
  const frames: TimedFrame[] = [];
  for (let day = 0; day < 10; day++) {
    const burst: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) burst.push(...ftpLogin("historian", false, "10.40.0.9"));
    burst.push(...ftpLogin("historian", true, "10.40.0.9"));
    frames.push(...at(START + day * DAY + 6 * 3600, burst));
  }
  const { alerts } = await run(frames);
  const bursts = burstAlerts(alerts);
  assert.is(bursts.length, 10);
  const first = bursts[0];
  const last = bursts[9];
  assert.is(first.fields.routine, false);
  assert.is(last.fields.routine, true);
  assert.is(last.fields.seen_before, true);
  assert.ok(Number(last.fields.score) < Number(first.fields.score) / 2, `day 10 scores ${last.fields.score}, day 1 ${first.fields.score}`);
  assert.ok(Number(last.fields.score) <= 20);
});

test("new rdp session then the same pair again", async () => {
  const session = (client: string) => close(conversation(3389, client, HMI)
    .fromClient(rdpConnectionRequest({ cookie: "vendor", requestedProtocols: 3 }))
    .fromServer(rdpConnectionConfirm(2, 1))).frames;
  const frames = [...at(START + 8 * 3600, session("10.50.0.3")), ...at(START + 8 * 3600 + 2 * 3600, session("10.50.0.3")),
    ...at(START + 8 * 3600 + 3 * 3600, session("10.60.0.4"))];
  const { alerts } = await run(frames);
  const novel = alerts.filter((a) => a.model === "access-new-remote-session-rdp");
  assert.equal(novel.map((a) => a.record.src.ip), ["10.50.0.3", "10.60.0.4"]);
  assert.is(novel[0].fields.user, "vendor");
});

test("cleartext passwords and firmware uploads", async () => {
  const upload = close(conversation(21, "10.20.0.8", HMI)
    .fromServer(text("220 ready\r\n"))
    .fromClient(text("USER plc\r\n")).fromServer(text("331 Password required\r\n"))
    .fromClient(text("PASS secret\r\n")).fromServer(text("230 Logged in\r\n"))
    .fromClient(text("STOR /flash/cpu-fw-4.1.bin\r\n")).fromServer(text("150 Opening data connection\r\n"))
    .fromServer(text("226 Transfer complete\r\n"))).frames;
  const { alerts, records } = await run(at(START + 9 * 3600, upload));
  const ids = alerts.map((a) => a.model).sort();
  assert.equal(ids, ["access-cleartext-credentials-ftp", "access-firmware-upload-ftp"]);
  const cleartext = alerts.find((a) => a.model === "access-cleartext-credentials-ftp")!;
  assert.ok(Number(cleartext.fields.score) <= 45, "a hygiene finding scores low even on a new pair");
  const stor = records.find((r) => r.type === "ftp" && r.fields.command === "STOR")!;
  assert.is(stor.fields.reply_code, 226);
  assert.is(stor.fields.file_name, "/flash/cpu-fw-4.1.bin");
  assert.not.ok(JSON.stringify(records).includes("secret"));
});

test("rdp session at an unusual hour", async () => {
  const session = () => close(conversation(3389, "10.50.0.3", HMI)
    .fromClient(rdpConnectionRequest({ cookie: "vendor", requestedProtocols: 3 }))
    .fromServer(rdpConnectionConfirm(2, 1))).frames;
  const frames: TimedFrame[] = [];
  for (let day = 0; day < 10; day++) frames.push(...at(START + day * DAY + 8 * 3600, session()));
  frames.push(...at(START + 10 * DAY + 20 * 3600, session()));
  const { alerts } = await run(frames);
  const novel = alerts.filter((a) => a.model === "access-new-remote-session-rdp");
  assert.is(novel.length, 2, "the first session and the one at 20:00");
  const late = novel[1];
  assert.is(late.record.ts.slice(11, 13), "20");
  assert.is(late.fields.seen_before, true);
  assert.is(late.fields.usual_hour, 8);
  assert.ok(Number(late.fields.score) > 50, "the unusual hour adds to the base score");
});

test("access records forwarded to the correlator", () => {
  const cases: [string, CoreRecord["fields"], boolean][] = [
    ["http", { method: "GET", uri: "/", status_code: 200 }, false],
    ["http", { method: "GET", auth_scheme: "basic", login_result: "failure", user: "op" }, true],
    ["http", { method: "PUT", file_name: "fw.bin" }, true],
    ["ftp", { command: "PASS", login_result: "success" }, true],
    ["ftp", { command: "SIZE", file_name: "a.txt" }, true],
    ["telnet", { session_event: "start" }, false],
    ["telnet", { session_event: "login", login_result: "failure" }, true],
    ["rdp", { session_event: "start", cookie: "vendor" }, true],
    ["rdp", { session_event: "end" }, false],
    ["ssh", { session_event: "start" }, true],
  ];
  for (const [type, fields, expected] of cases) {
    const json = recordToJson({
      type, tsSec: START, tsNsec: 0, ts: "2026-11-02T00:00:00.000000Z", flowId: 1, transport: "tcp", serverToClient: false,
      truncated: false, src: { ip: ATTACKER, port: 50000 }, dst: { ip: HMI, port: 80 }, fields,
    });
    assert.is(isForwardedRecord(json), expected, `${type} ${JSON.stringify(fields)}`);
  }
});

test.run();
