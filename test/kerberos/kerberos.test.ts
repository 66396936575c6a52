// Kerberos over TCP port 88 on hand-built conversations (no public Kerberos
// capture is in the shared set): AS and TGS exchanges paired into one record,
// the errors that matter for password guessing and unknown accounts, long
// messages parsed from their prefix, and malformed DER that must never trap.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { batchOf, TcpConversation, timed, udpFrame } from "../helpers/frames.js";
import { Core } from "../../agent/src/core/core.js";
import { loadModelSet } from "../../agent/src/core/models.js";
import { runFrames } from "../dcerpc/run.js";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { Etype, kdcReply, kdcRequest, krbError, tcpRecord } from "./build.js";

let nextPort = 52000;
function kdc(): TcpConversation {
  nextPort++;
  return new TcpConversation("10.2.0.15", nextPort, "10.2.0.2", 88).handshake();
}

async function kerberosRecords(frames: Uint8Array[]): Promise<{ records: CoreRecord[]; anomalies: Record<string, number> }> {
  const result = await runFrames(frames);
  return { records: result.records.filter((r) => r.type === "kerberos"), anomalies: result.anomalies };
}

const asRequest = (preauth: boolean) => kdcRequest({
  type: "AS", client: "alice", realm: "CORP.LOCAL", service: "krbtgt/CORP.LOCAL",
  etypes: [Etype.AES256, Etype.AES128, Etype.RC4], encryptedTimestamp: preauth,
});

test("kerberos AS-REQ answered by PREAUTH_REQUIRED", async () => {
  const c = kdc().fromClient(tcpRecord(asRequest(false))).fromServer(tcpRecord(krbError(25, "CORP.LOCAL", "krbtgt/CORP.LOCAL")));
  const { records } = await kerberosRecords(c.frames);
  assert.is(records.length, 1);
  const [r] = records;
  assert.is(r.serverToClient, true);
  assert.is(r.fields.request_type, "AS");
  assert.is(r.fields.client, "alice");
  assert.is(r.fields.realm, "CORP.LOCAL");
  assert.is(r.fields.service, "krbtgt/CORP.LOCAL");
  assert.equal(r.fields.encryption_type, ["aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96", "rc4-hmac"]);
  assert.is(r.fields.preauth, false);
  assert.is(r.fields.reply, "KRB-ERROR");
  assert.is(r.fields.success, false);
  assert.is(r.fields.error_code, 25);
  assert.is(r.fields.error, "KDC_ERR_PREAUTH_REQUIRED");
  assert.is(r.fields.rtt_us, 1000);
  assert.is(r.fields.account, "CORP.LOCAL\\alice");
});

test("kerberos AS exchange with preauth succeeds", async () => {
  const c = kdc().fromClient(tcpRecord(asRequest(true)))
    .fromServer(tcpRecord(kdcReply("AS", "CORP.LOCAL", "alice", "krbtgt/CORP.LOCAL", Etype.AES256)));
  const { records } = await kerberosRecords(c.frames);
  const [r] = records;
  assert.is(r.fields.preauth, true);
  assert.is(r.fields.reply, "AS-REP");
  assert.is(r.fields.success, true);
  assert.is(r.fields.cipher, "aes256-cts-hmac-sha1-96");
  assert.is(r.fields.client_realm, "CORP.LOCAL");
  assert.is(r.fields.user, "alice");
  assert.is(r.fields.domain, "CORP.LOCAL");
  assert.is(r.fields.error, undefined);
});

test("kerberos failed and unknown principals named", async () => {
  const cases: [number, string][] = [[24, "KDC_ERR_PREAUTH_FAILED"], [6, "KDC_ERR_C_PRINCIPAL_UNKNOWN"], [18, "KDC_ERR_CLIENT_REVOKED"]];
  for (const [code, name] of cases) {
    const c = kdc().fromClient(tcpRecord(asRequest(true)))
      .fromServer(tcpRecord(krbError(code, "CORP.LOCAL", "krbtgt/CORP.LOCAL", "CORP.LOCAL", "alice")));
    const { records } = await kerberosRecords(c.frames);
    assert.is(records[0].fields.error_code, code);
    assert.is(records[0].fields.error, name);
    assert.is(records[0].fields.client, "alice");
  }
});

test("kerberos TGS client taken from the reply", async () => {
  // A TGS-REQ names its client only inside the encrypted authenticator.
  const request = kdcRequest({ type: "TGS", realm: "CORP.LOCAL", service: "cifs/fs01.corp.local", etypes: [Etype.RC4] });
  const c = kdc().fromClient(tcpRecord(request))
    .fromServer(tcpRecord(kdcReply("TGS", "CORP.LOCAL", "svc_backup", "cifs/fs01.corp.local", Etype.RC4)));
  const { records } = await kerberosRecords(c.frames);
  const [r] = records;
  assert.is(r.fields.request_type, "TGS");
  assert.is(r.fields.service, "cifs/fs01.corp.local");
  assert.is(r.fields.client, "svc_backup");
  assert.is(r.fields.cipher, "rc4-hmac");
  assert.is(r.fields.account, "CORP.LOCAL\\svc_backup");
});

test("kerberos split marker and two messages per segment", async () => {
  const first = tcpRecord(asRequest(false));
  const second = tcpRecord(asRequest(true));
  const c = kdc()
    .fromClient(first.slice(0, 2)).fromClient(first.slice(2))
    .fromServer(tcpRecord(krbError(25, "CORP.LOCAL", "krbtgt/CORP.LOCAL")))
    .fromClient(second)
    .fromServer([...tcpRecord(kdcReply("AS", "CORP.LOCAL", "alice", "krbtgt/CORP.LOCAL", Etype.AES256))]);
  const { records } = await kerberosRecords(c.frames);
  assert.equal(records.map((r) => r.fields.reply), ["KRB-ERROR", "AS-REP"]);
});

test("kerberos over UDP pairs request and reply", async () => {
  // Windows sends small Kerberos messages over UDP 88 without the TCP record
  // marker; a retried request replaces the earlier copy.
  const client = { src: "10.2.0.15", dst: "10.2.0.2", srcPort: 61000, dstPort: 88 };
  const reply = { src: "10.2.0.2", dst: "10.2.0.15", srcPort: 88, dstPort: 61000 };
  const frames = [
    udpFrame({ ...client, payload: asRequest(false) }),
    udpFrame({ ...client, payload: asRequest(false) }),
    udpFrame({ ...reply, payload: krbError(24, "CORP.LOCAL", "krbtgt/CORP.LOCAL") }),
  ];
  const { records } = await kerberosRecords(frames);
  assert.is(records.length, 1);
  const [r] = records;
  assert.is(r.transport, "udp");
  assert.equal(r.src, { ip: "10.2.0.15", port: 61000 });
  assert.equal(r.dst, { ip: "10.2.0.2", port: 88 });
  assert.is(r.fields.client, "alice");
  assert.is(r.fields.error, "KDC_ERR_PREAUTH_FAILED");
  assert.is(r.fields.success, false);
});

test("kerberos failed logon burst model fires once", async () => {
  // Six wrong passwords from one host within seconds: the frequency window
  // ("> 4 in 5 min") fires on the fifth error and then restarts.
  const c = kdc();
  for (let i = 0; i < 6; i++) c.fromClient(tcpRecord(asRequest(true))).fromServer(tcpRecord(krbError(24, "CORP.LOCAL", "krbtgt/CORP.LOCAL")));
  const core = await Core.load();
  const models = await loadModelSet();
  models.install(core);
  const alerts: CoreRecord[] = [];
  const onRecord = (r: CoreRecord) => { if (r.type === "alert") alerts.push(r); };
  core.process(batchOf(timed(c.frames)), onRecord);
  core.finish(onRecord);
  const burst = alerts.filter((a) => models.byIndex(a.fields.model_index as number)?.id === "it-kerberos-failed-logon-burst");
  assert.is(burst.length, 1);
  assert.is(burst[0].src.ip, "10.2.0.15");
  assert.is(burst[0].fields.error, "KDC_ERR_PREAUTH_FAILED");
});

test("kerberos unanswered request reported at close", async () => {
  // No reply: the record is written when the core finishes and closes the flow.
  const c = kdc().fromClient(tcpRecord(asRequest(true)));
  const { records } = await kerberosRecords(c.frames);
  assert.is(records.length, 1);
  assert.is(records[0].fields.reply, undefined);
  assert.is(records[0].fields.client, "alice");
  assert.is(records[0].serverToClient, false);
});

test("kerberos long TGS-REQ parsed from its prefix", async () => {
  const request = kdcRequest({ type: "TGS", realm: "CORP.LOCAL", service: "host/ws07.corp.local", etypes: [Etype.AES256], padding: 6000 });
  const marked = tcpRecord(request);
  const c = kdc();
  for (let at = 0; at < marked.length; at += 1400) c.fromClient(marked.slice(at, at + 1400));
  c.fromServer(tcpRecord(kdcReply("TGS", "CORP.LOCAL", "bob", "host/ws07.corp.local", Etype.AES256)));
  const { records, anomalies } = await kerberosRecords(c.frames);
  assert.is(records.length, 1);
  assert.is(records[0].fields.request_type, "TGS");
  assert.is(records[0].fields.client, "bob");
  // The request body lies past the prefix, so the service comes from nowhere.
  assert.is(records[0].fields.service, undefined);
  assert.is(anomalies["kerberos.message_prefix_only"], 1);
});

test("kerberos reply without request still recorded", async () => {
  const c = kdc().fromServer(tcpRecord(krbError(6, "CORP.LOCAL", "krbtgt/CORP.LOCAL", "CORP.LOCAL", "mallory")));
  const { records, anomalies } = await kerberosRecords(c.frames);
  assert.is(records.length, 1);
  assert.is(records[0].fields.error, "KDC_ERR_C_PRINCIPAL_UNKNOWN");
  assert.is(records[0].fields.client, "mallory");
  assert.is(anomalies["kerberos.response_without_request"], 1);
});

test("kerberos truncated and garbage DER never traps", async () => {
  const message = asRequest(true);
  const frames: Uint8Array[] = [];
  // Each prefix sent as a whole message: inner lengths then run past the end.
  for (let cut = 1; cut < message.length; cut += 7) frames.push(...kdc().fromClient(tcpRecord(message.slice(0, cut))).frames);
  // Indefinite length, 5-byte length, high tag number, reserved marker bit.
  frames.push(...kdc().fromClient(tcpRecord([0x6a, 0x80, 0x30, 0x00, 0x00, 0x00])).frames);
  frames.push(...kdc().fromClient(tcpRecord([0x6a, 0x85, 1, 0, 0, 0, 0, 0x30])).frames);
  frames.push(...kdc().fromClient(tcpRecord([0x6a, 0x03, 0x1f, 0x81, 0x00])).frames);
  frames.push(...kdc().fromClient([0x80, 0, 0, 5, 0x6a, 0, 0, 0, 0]).frames);
  let seed = 7;
  for (let i = 0; i < 40; i++) {
    const junk = message.map((b) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % 13 === 0 ? seed & 0xff : b;
    });
    frames.push(...kdc().fromClient(tcpRecord(junk)).fromServer(tcpRecord(krbError(24, "X", "krbtgt/X"))).frames);
  }
  const { records, anomalies } = await kerberosRecords(frames);
  assert.ok((anomalies["kerberos.der_invalid"] ?? 0) > 0, "malformed DER counted");
  assert.ok(records.length > 0, "records still written");
});

test.run();
