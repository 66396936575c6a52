// NTLMSSP in DCE-RPC auth verifiers: public captures compared with Zeek's
// ntlm.log, and hand-built messages (raw, SPNEGO-wrapped, malformed) carried
// in bind / alter_context / auth3 PDUs over TCP.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { capture, expectedOutput } from "../helpers/captures.js";
import { readZeekLog, rpcConversation, runCapture, runFrames } from "../dcerpc/run.js";
import {
  avPairs, bind, bindAck, ntlmAuthenticate, ntlmChallenge, ntlmNegotiate, pdu, PduType, spnegoInit, spnegoResponse, Uuid,
} from "../dcerpc/build.js";

const NTLMSSP = 10;
const SPNEGO = 9;

test("ntlm mapi AUTHENTICATE matches Zeek", async () => {
  // Exchange MAPI over TCP: two NTLMSSP logons of CNAMIS\ALeonard from ALEONARD-XP to server SATURN.
  const path = capture("dcerpc/zeek_mapi_tcp.pcap");
  const log = expectedOutput("dcerpc/zeek_mapi_tcp.ntlm.log");
  if (!path || !log) return;
  const result = await runCapture(path);
  const authenticate = result.ntlm.filter((r) => r.fields.message === "AUTHENTICATE");
  const rows = readZeekLog(log);
  assert.is(authenticate.length, rows.length);
  const ours = authenticate.map((r) => `${r.dst.port} ${r.fields.user} ${r.fields.workstation} ${r.fields.domain}`).sort();
  const zeek = rows.map((r) => `${r["id.resp_p"]} ${r.username} ${r.hostname} ${r.domainname}`).sort();
  assert.equal(ours, zeek);
  const challenges = result.ntlm.filter((r) => r.fields.message === "CHALLENGE");
  for (const c of challenges) assert.is(c.fields.server_nb_name, rows[0].server_nb_computer_name);
  for (const r of authenticate) assert.is(r.fields.transport, "dcerpc");
});

test("ntlm dce_rpc spnego CHALLENGE names match Zeek", async () => {
  // pcapng, DCOM callback: SPNEGO in bind/alter_context, CHALLENGE from CBTH-WS-2 and an NTLMv2 AUTHENTICATE.
  const path = capture("ntlm/zeek_dce_rpc_ntlm.pcapng");
  const log = expectedOutput("ntlm/zeek_dce_rpc_ntlm.ntlm.log");
  if (!path || !log) return;
  const result = await runCapture(path);
  const [row] = readZeekLog(log);
  const challenge = result.ntlm.find((r) => r.fields.message === "CHALLENGE");
  assert.ok(challenge, "CHALLENGE record");
  assert.is(challenge!.fields.server_nb_name, row.server_nb_computer_name);
  assert.is(challenge!.fields.server_dns_name, row.server_dns_computer_name);
  assert.is(challenge!.fields.server_tree_name, row.server_tree_name);
  // Zeek's log has no user for this trace; the AUTHENTICATE in the second alter_context names one.
  const authenticate = result.ntlm.find((r) => r.fields.message === "AUTHENTICATE");
  assert.ok(authenticate, "AUTHENTICATE record");
  assert.is(authenticate!.fields.account, "BLACKCLOVER\\Administrator");
  assert.is(authenticate!.fields.workstation, "CBTH-WS-1");
  assert.is(authenticate!.fields.ntlm_version, 2);
});

test("ntlm unterminated AV pairs counted", async () => {
  // Malformed CHALLENGE: the AV pair list runs past the message and has no MsvAvEOL (Zeek: "NTLM AV Pair loop underflow").
  const path = capture("ntlm/zeek_ntlm-unterminated-av-sequence_malformed.pcap");
  if (!path) return;
  const result = await runCapture(path);
  assert.is(result.anomalies["ntlm.av_pair_unterminated"], 1);
  assert.is(result.anomalies["ntlm.field_out_of_bounds"], 1);
  const challenge = result.ntlm.find((r) => r.fields.message === "CHALLENGE");
  assert.ok(challenge, "CHALLENGE record");
  assert.is(challenge!.fields.server_nb_name, "SATURN");
});

// Bind with `blob` in its auth verifier, followed by a bind_ack.
function bindWith(authType: number, blob: number[]): Uint8Array[] {
  return rpcConversation()
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.epmapper, versionMajor: 3 }], { authType, value: blob }))
    .fromServer(bindAck(2, "135", 1))
    .frames;
}

test("ntlm raw AUTHENTICATE in auth3", async () => {
  const conversation = rpcConversation()
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.epmapper, versionMajor: 3 }], { authType: NTLMSSP, value: ntlmNegotiate() }))
    .fromServer(bindAck(2, "135", 1, { authType: NTLMSSP, value: ntlmChallenge("PLANT", avPairs([[2, "PLANT"], [1, "HIST01"], [4, "plant.local"], [3, "hist01.plant.local"]])) }))
    .fromClient(pdu({ ptype: PduType.AUTH3, callId: 2, body: [0, 0, 0, 0], auth: { authType: NTLMSSP, value: ntlmAuthenticate({ user: "operator", domain: "PLANT", workstation: "HMI-3" }) } }));
  const result = await runFrames(conversation.frames);
  assert.equal(result.ntlm.map((r) => r.fields.message), ["NEGOTIATE", "CHALLENGE", "AUTHENTICATE"]);
  const [, challenge, authenticate] = result.ntlm;
  assert.is(challenge.serverToClient, true);
  assert.is(challenge.fields.server_nb_name, "HIST01");
  assert.is(challenge.fields.server_dns_name, "hist01.plant.local");
  assert.is(challenge.fields.server_nb_domain, "PLANT");
  assert.is(authenticate.fields.user, "operator");
  assert.is(authenticate.fields.domain, "PLANT");
  assert.is(authenticate.fields.workstation, "HMI-3");
  assert.is(authenticate.fields.account, "PLANT\\operator");
  assert.is(authenticate.fields.transport, "dcerpc");
  assert.is(result.anomalies["ntlm.av_pair_unterminated"], undefined);
});

test("ntlm spnego negTokenInit and negTokenResp", async () => {
  const init = await runFrames(bindWith(SPNEGO, spnegoInit(ntlmNegotiate())));
  assert.equal(init.ntlm.map((r) => r.fields.message), ["NEGOTIATE"]);
  const response = await runFrames(bindWith(SPNEGO, spnegoResponse(ntlmAuthenticate({ user: "svc_backup", domain: "CORP", workstation: "ENG-7" }))));
  assert.equal(response.ntlm.map((r) => r.fields.account), ["CORP\\svc_backup"]);
});

test("ntlm OEM AUTHENTICATE and NTLMv1", async () => {
  const result = await runFrames(bindWith(NTLMSSP, ntlmAuthenticate({ user: "maint", domain: "WG", workstation: "PLC-PC", unicode: false, ntResponseLength: 24 })));
  const [authenticate] = result.ntlm;
  assert.is(authenticate.fields.user, "maint");
  assert.is(authenticate.fields.workstation, "PLC-PC");
  assert.is(authenticate.fields.ntlm_version, 1);
});

test("ntlm user field out of bounds", async () => {
  const result = await runFrames(bindWith(NTLMSSP, ntlmAuthenticate({ user: "x", domain: "D", workstation: "W", userOffsetOverride: 0xfff0 })));
  assert.is(result.anomalies["ntlm.field_out_of_bounds"], 1);
  const [authenticate] = result.ntlm;
  assert.is(authenticate.fields.user, undefined);
  assert.is(authenticate.fields.domain, "D");
});

test("ntlm unterminated AV pair list in fixture", async () => {
  const info = avPairs([[1, "HIST01"]], false);
  const result = await runFrames(bindWith(NTLMSSP, ntlmChallenge("PLANT", info)));
  assert.is(result.anomalies["ntlm.av_pair_unterminated"], 1);
  assert.is(result.ntlm[0].fields.server_nb_name, "HIST01");
});

test("ntlm truncated and garbage blobs never trap", async () => {
  const full = ntlmAuthenticate({ user: "operator", domain: "PLANT", workstation: "HMI-3" });
  const challenge = ntlmChallenge("PLANT", avPairs([[1, "HIST01"]]));
  const frames: Uint8Array[] = [];
  for (const message of [full, challenge, spnegoInit(full)]) {
    for (let cut = 1; cut < message.length; cut += 7) {
      frames.push(...bindWith(NTLMSSP, message.slice(0, cut)));
    }
  }
  // DER with lengths that point past the token.
  frames.push(...bindWith(SPNEGO, [0x60, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06]));
  frames.push(...bindWith(SPNEGO, [0xa1, 0x82, 0x01, 0x00, 0x30, 0x03]));
  const result = await runFrames(frames);
  assert.ok(result.anomalies["ntlm.message_truncated"] > 0, "truncated messages counted");
  assert.ok(result.anomalies["ntlm.spnego_malformed"] > 0, "bad DER lengths counted");
});

test.run();
