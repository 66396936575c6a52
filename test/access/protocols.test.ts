// Remote-access dissectors on byte-built conversations: RDP negotiation and
// its cookie, the RFB handshake with each security result, SSH banners up to
// the start of encryption, and garbage on their ports that must not trap.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Core, type CoreRecord } from "../../agent/src/core/core.js";
import { runFramesThroughCore } from "../helpers/core-run.js";
import { batchOf, type TcpConversation } from "../helpers/frames.js";
import { close, conversation, rdpConnectionConfirm, rdpConnectionRequest, rfbVersion, text, u32be } from "./build.js";

async function recordsOf(type: string, frames: Uint8Array[]): Promise<{ records: CoreRecord[]; anomalies: Record<string, number> }> {
  const run = await runFramesThroughCore(frames);
  return { records: run.records.filter((r) => r.type === type), anomalies: run.anomalies };
}

test("rdp cookie and CredSSP negotiation", async () => {
  const c = conversation(3389)
    .fromClient(rdpConnectionRequest({ cookie: "operator", requestedProtocols: 0x0b }))
    .fromServer(rdpConnectionConfirm(2, 2))
    .fromClient([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
  const { records } = await recordsOf("rdp", close(c).frames);
  assert.is(records.length, 2);
  const [start, end] = records;
  assert.is(start.fields.session_event, "start");
  assert.is(start.fields.cookie, "operator");
  assert.is(start.fields.user, "operator");
  assert.is(start.fields.requested_protocols, 0x0b);
  assert.equal(start.fields.requested_protocol, ["tls", "credssp", "credssp_early_user_auth"]);
  assert.is(start.fields.selected_protocols, 2);
  assert.is(start.fields.selected_protocol, "credssp");
  assert.is(start.fields.auth_scheme, "credssp");
  assert.is(start.fields.login_result, "unknown");
  assert.is(end.fields.session_event, "end");
  assert.is(end.fields.user, "operator");
  assert.ok(typeof end.fields.duration_ms === "number");
});

// Records of `type` when every frame but the two closing FINs is seen at
// 1700000000.9 s and the FINs at 1700000002.2 s: any session lasts 1300 ms.
async function sessionOver1300Ms(type: string, c: TcpConversation): Promise<CoreRecord[]> {
  const dataFrames = c.frames.length;
  const frames = close(c).frames.map((bytes, i) => (i < dataFrames
    ? { tsSec: 1_700_000_000, tsFrac: 900_000, bytes }
    : { tsSec: 1_700_000_002, tsFrac: 200_000, bytes }));
  const core = await Core.load();
  const records: CoreRecord[] = [];
  core.process(batchOf(frames), (r) => records.push(r));
  core.finish((r) => records.push(r));
  return records.filter((r) => r.type === type);
}

test("session duration across a second boundary", async () => {
  const rdp = await sessionOver1300Ms("rdp", conversation(3389)
    .fromClient(rdpConnectionRequest({ cookie: "operator", requestedProtocols: 0 }))
    .fromServer(rdpConnectionConfirm(2, 0)));
  const ssh = await sessionOver1300Ms("ssh", conversation(22)
    .fromServer(text("SSH-2.0-OpenSSH_9.2p1\r\n"))
    .fromClient(text("SSH-2.0-PuTTY_Release_0.81\r\n")));
  const vnc = await sessionOver1300Ms("vnc", conversation(5900)
    .fromServer(rfbVersion(8)).fromClient(rfbVersion(8)));
  const telnet = await sessionOver1300Ms("telnet", conversation(23)
    .fromServer(text("login: ")).fromClient(text("root\r\n")));
  for (const [name, records] of [["rdp", rdp], ["ssh", ssh], ["vnc", vnc], ["telnet", telnet]] as const) {
    const end = records.find((r) => r.fields.session_event === "end");
    assert.ok(end, `${name} wrote no session end record`);
    assert.is(end.fields.duration_ms, 1300, `${name} duration_ms`);
  }
});

test("rdp negotiation failure code", async () => {
  const c = conversation(3389)
    .fromClient(rdpConnectionRequest({ requestedProtocols: 0 }))
    .fromServer(rdpConnectionConfirm(3, 5));
  const { records } = await recordsOf("rdp", c.frames);
  const start = records.find((r) => r.fields.session_event === "start");
  assert.ok(start);
  assert.equal(start.fields.requested_protocol, "rdp");
  assert.is(start.fields.failure_code, 5);
  assert.is(start.fields.failure, "HYBRID_REQUIRED_BY_SERVER");
  assert.is(start.fields.user, undefined);
});

test("vnc 3.8 authentication failed with reason", async () => {
  const reason = "Authentication failure";
  const c = conversation(5900)
    .fromServer(rfbVersion(8))
    .fromClient(rfbVersion(8))
    .fromServer([2, 2, 16])
    .fromClient([2])
    .fromServer(new Array(16).fill(0x41))
    .fromClient(new Array(16).fill(0x42))
    .fromServer([...u32be(1), ...u32be(reason.length), ...text(reason)]);
  const { records } = await recordsOf("vnc", close(c).frames);
  const start = records.find((r) => r.fields.session_event === "start");
  assert.ok(start);
  assert.is(start.fields.server_version, "003.008");
  assert.is(start.fields.client_version, "003.008");
  assert.equal(start.fields.security_types, ["vnc_authentication", "tight"]);
  assert.is(start.fields.security_type, "vnc_authentication");
  assert.is(start.fields.security_result, 1);
  assert.is(start.fields.reason, reason);
  assert.is(start.fields.login_result, "failure");
  assert.ok(records.some((r) => r.fields.session_event === "end"));
});

test("vnc 3.8 authentication succeeds", async () => {
  const c = conversation(5901)
    .fromServer(rfbVersion(8)).fromClient(rfbVersion(8))
    .fromServer([1, 2]).fromClient([2])
    .fromServer(new Array(16).fill(1)).fromClient(new Array(16).fill(2))
    .fromServer(u32be(0)).fromClient([1]);
  const { records } = await recordsOf("vnc", c.frames);
  const start = records.find((r) => r.fields.session_event === "start");
  assert.ok(start);
  assert.is(start.fields.security_result, 0);
  assert.is(start.fields.login_result, "success");
  assert.is(start.fields.auth_scheme, "vnc_authentication");
});

test("vnc 3.3 server picks no authentication", async () => {
  const c = conversation(6100)
    .fromServer(rfbVersion(3)).fromClient(rfbVersion(3))
    .fromServer(u32be(1)).fromClient([1]);
  const { records } = await recordsOf("vnc", c.frames);
  const start = records.find((r) => r.fields.session_event === "start");
  assert.ok(start, "found by the RFB content probe on a port outside 5900-5910");
  assert.is(start.fields.security_type, "none");
  assert.is(start.fields.login_result, "success");
  assert.is(start.fields.security_types, undefined);
});

test("vnc 3.8 server refuses with no types", async () => {
  const reason = "Too many security failures";
  const c = conversation(5900)
    .fromServer(rfbVersion(8)).fromClient(rfbVersion(8))
    .fromServer([0, ...u32be(reason.length), ...text(reason)]);
  const { records } = await recordsOf("vnc", c.frames);
  const start = records.find((r) => r.fields.session_event === "start");
  assert.ok(start);
  assert.is(start.fields.reason, reason);
  assert.is(start.fields.login_result, "failure");
});

test("ssh banners and skip after NEWKEYS", async () => {
  // packet_length counts padding_length, payload and padding.
  const kexinit = [...u32be(12), 4, 20, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0];
  const newkeys = [...u32be(12), 10, 21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const c = conversation(22)
    .fromServer(text("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"))
    .fromClient(text("SSH-2.0-PuTTY_Release_0.81\r\n"))
    .fromClient(kexinit).fromServer(kexinit)
    .fromClient(newkeys).fromServer(newkeys)
    .fromClient(new Array(300).fill(0xee)).fromServer(new Array(300).fill(0xdd));
  const { records, anomalies } = await recordsOf("ssh", close(c).frames);
  assert.is(records.length, 2);
  const [start, end] = records;
  assert.is(start.fields.session_event, "start");
  assert.is(start.fields.client_software, "PuTTY_Release_0.81");
  assert.is(start.fields.server_software, "OpenSSH_9.2p1");
  assert.is(start.fields.server_banner, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
  assert.is(start.fields.client_protocol_version, "2.0");
  assert.is(end.fields.session_event, "end");
  assert.is(end.fields.encrypted, true);
  assert.is(anomalies["ssh.packet_length_invalid"], undefined);
});

test("ssh banner on another port by content", async () => {
  const c = conversation(2222)
    .fromClient(text("SSH-2.0-Go\r\n"))
    .fromServer(text("SSH-2.0-dropbear_2022.83\r\n"));
  const { records } = await recordsOf("ssh", c.frames);
  assert.is(records[0]?.fields.server_software, "dropbear_2022.83");
});

test("ssh banners split across segments", async () => {
  // A pre-banner line and the version line arrive a few bytes at a time, so
  // each line is read only once its LF is in. The first server segment
  // has 7 bytes, because the probe needs 6 to match text that is not "SSH-".
  const c = conversation(22)
    .segmented(false, text("Authorised use only\r\nSSH-2.0-OpenSSH_9.6 Ubuntu-3\r\n"), 7)
    .segmented(true, text("SSH-2.0-PuTTY_Release_0.81\r\n"), 3);
  const { records, anomalies } = await recordsOf("ssh", close(c).frames);
  assert.is(records.length, 2);
  assert.is(records[0].fields.server_banner, "SSH-2.0-OpenSSH_9.6 Ubuntu-3");
  assert.is(records[0].fields.server_software, "OpenSSH_9.6");
  assert.is(records[0].fields.client_banner, "SSH-2.0-PuTTY_Release_0.81");
  assert.is(anomalies["ssh.banner_too_long"], undefined);
});

test("ssh banner at and over 255 bytes", async () => {
  // RFC 4253 4.2: 255 bytes with CR LF is the longest version line.
  const longest = `SSH-2.0-${"a".repeat(245)}\r\n`;
  assert.is(longest.length, 255);
  const accepted = conversation(22).fromServer(text(longest)).fromClient(text("SSH-2.0-B\r\n"));
  const first = await recordsOf("ssh", accepted.frames);
  assert.is(first.records[0]?.fields.server_software, "a".repeat(245));
  assert.is(first.anomalies["ssh.banner_too_long"], undefined);

  const tooLong = `SSH-2.0-${"a".repeat(246)}\r\n`;
  const rejected = conversation(22).segmented(false, text(tooLong), 100).fromClient(text("SSH-2.0-B\r\n"));
  const second = await recordsOf("ssh", close(rejected).frames);
  assert.is(second.anomalies["ssh.banner_too_long"], 1);
  assert.not.ok(second.records.some((r) => r.fields.server_banner !== undefined));
});

test("vnc reason length past the segment end", async () => {
  // The SecurityResult and reason-length arrive before the reason itself.
  const reason = "Authentication failure, wait 10 s";
  const c = conversation(5900)
    .fromServer(rfbVersion(8)).fromClient(rfbVersion(8))
    .fromServer([1, 2]).fromClient([2])
    .fromServer(new Array(16).fill(1)).fromClient(new Array(16).fill(2))
    .fromServer([...u32be(1), ...u32be(reason.length), ...text(reason.slice(0, 6))])
    .fromServer(text(reason.slice(6)));
  const { records } = await recordsOf("vnc", c.frames);
  const start = records.find((r) => r.fields.session_event === "start");
  assert.ok(start);
  assert.is(start.fields.security_result, 1);
  assert.is(start.fields.reason, reason);
  assert.is(start.fields.login_result, "failure");
});

test("vnc reason length over 4096 bytes", async () => {
  // After a SecurityResult the failure is kept without its reason. With no
  // security types offered there is no result at all.
  const failed = conversation(5900)
    .fromServer(rfbVersion(8)).fromClient(rfbVersion(8))
    .fromServer([1, 2]).fromClient([2])
    .fromServer(new Array(16).fill(1)).fromClient(new Array(16).fill(2))
    .fromServer([...u32be(1), ...u32be(5000), ...text("never read")]);
  const first = (await recordsOf("vnc", failed.frames)).records.find((r) => r.fields.session_event === "start");
  assert.ok(first);
  assert.is(first.fields.security_result, 1);
  assert.is(first.fields.reason, undefined);
  assert.is(first.fields.login_result, "failure");

  const refused = conversation(5900)
    .fromServer(rfbVersion(8)).fromClient(rfbVersion(8))
    .fromServer([0, ...u32be(4097), ...text("never read")]);
  const second = (await recordsOf("vnc", refused.frames)).records.find((r) => r.fields.session_event === "start");
  assert.ok(second);
  assert.is(second.fields.security_result, undefined);
  assert.is(second.fields.login_result, "unknown");
});

test("rdp cookie split and truncated", async () => {
  // The Connection Request arrives in 10-byte segments, and its 80-byte
  // user name is cut to the 64 bytes the record keeps.
  const user = "u".repeat(80);
  const c = conversation(3389)
    .segmented(true, rdpConnectionRequest({ cookie: user, requestedProtocols: 1 }), 10)
    .fromServer(rdpConnectionConfirm(2, 1));
  const { records, anomalies } = await recordsOf("rdp", c.frames);
  const start = records.find((r) => r.fields.session_event === "start");
  assert.ok(start);
  assert.is(start.fields.cookie, user.slice(0, 64));
  assert.is(start.fields.requested_protocols, 1);
  assert.is(anomalies["rdp.cookie_truncated"], 1);
});

test("rdp routing token is not a user", async () => {
  const token = text("Cookie: msts=3640205228.15629.0000\r\n");
  const c = conversation(3389)
    .fromClient([3, 0, 0, 4 + 7 + token.length + 8, 6 + token.length + 8, 0xe0, 0, 0, 0, 0, 0, ...token, 1, 0, 8, 0, 3, 0, 0, 0])
    .fromServer(rdpConnectionConfirm(2, 1));
  const { records } = await recordsOf("rdp", c.frames);
  const start = records.find((r) => r.fields.session_event === "start");
  assert.ok(start);
  assert.is(start.fields.cookie, undefined);
  assert.is(start.fields.user, undefined);
  assert.is(start.fields.requested_protocols, 3);
});

test("ftp multi-line greeting and AUTH TLS", async () => {
  const c = conversation(21)
    .fromServer(text("220-Welcome to the line PLC\r\n220-Authorised users only\r\n220 Ready\r\n"))
    .fromClient(text("AUTH TLS\r\n"))
    .fromServer(text("234 Proceed with negotiation.\r\n"))
    .fromClient([0x16, 0x03, 0x01, 0x00, 0x20, ...new Array(32).fill(7)])
    .fromClient(text("USER hidden\r\n"));
  const { records } = await recordsOf("ftp", c.frames);
  assert.is(records.length, 1);
  assert.is(records[0].fields.command, "AUTH");
  assert.is(records[0].fields.reply_code, 234);
  assert.is(records[0].fields.auth_scheme, "tls");
});

test("ftp rename pair and site command", async () => {
  const c = conversation(21)
    .fromServer(text("220 ok\r\n"))
    .fromClient(text("RNFR prog.stu\r\n")).fromServer(text("350 Ready for RNTO.\r\n"))
    .fromClient(text("RNTO prog-old.stu\r\n")).fromServer(text("250 Rename successful.\r\n"))
    .fromClient(text("SITE CHMOD 755 run.sh\r\n")).fromServer(text("200 SITE CHMOD command ok.\r\n"))
    .fromClient(text("PWD\r\n")).fromServer(text("257 \"/\"\r\n"));
  const { records } = await recordsOf("ftp", c.frames);
  assert.equal(records.map((r) => `${r.fields.command} ${r.fields.reply_code} ${r.fields.file_name ?? "-"}`),
    ["RNFR 350 prog.stu", "RNTO 250 prog-old.stu", "SITE 200 -"]);
  assert.is(records[2].fields.argument, "CHMOD 755 run.sh");
});

test("telnet options, backspace and a denied login", async () => {
  const c = conversation(23)
    .fromServer([255, 253, 24, 255, 251, 1, ...text("\r\nUser name: ")])
    .fromClient([255, 252, 24, ...text("admx"), 0x7f, ...text("in\r\n")])
    .fromServer(text("admin\r\nPassword: "))
    .fromClient(text("hunter2\r\n"))
    .fromServer(text("\r\n% Access denied\r\n\r\nUser name: "));
  const { records } = await recordsOf("telnet", close(c).frames);
  const logins = records.filter((r) => r.fields.session_event === "login");
  assert.is(logins.length, 1);
  assert.is(logins[0].fields.user, "admin");
  assert.is(logins[0].fields.login_result, "failure");
  assert.not.ok(JSON.stringify(records).includes("hunter2"));
});

test("mutated handshakes never trap", async () => {
  let seed = 99;
  const random = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
  type Step = [boolean, number[]];
  const scripts: [number, Step[]][] = [
    [3389, [[true, rdpConnectionRequest({ cookie: "op", requestedProtocols: 3 })], [false, rdpConnectionConfirm(2, 1)]]],
    [5900, [[false, rfbVersion(8)], [true, rfbVersion(8)], [false, [2, 2, 16]], [true, [2]], [false, new Array(16).fill(1)],
      [true, new Array(16).fill(2)], [false, [...u32be(1), ...u32be(4), ...text("fail")]]]],
    [22, [[false, text("SSH-2.0-A\r\n")], [true, text("SSH-2.0-B\r\n")], [true, [...u32be(12), 10, 21, ...new Array(10).fill(0)]]]],
    [21, [[false, text("220 ok\r\n")], [true, text("USER a\r\n")], [false, text("331 p\r\n")], [true, text("PASS b\r\n")], [false, text("530 no\r\n")]]],
    [23, [[false, [255, 251, 1, ...text("login: ")]], [true, text("root\r\n")], [false, text("Password: ")], [true, text("x\r\n")], [false, text("Login incorrect\r\n")]]],
    [80, [[true, text("POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nuser=a&p=b")],
      [false, text("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]]],
  ];
  const frames: Uint8Array[] = [];
  for (let round = 0; round < 120; round++) {
    for (const [port, steps] of scripts) {
      const c = conversation(port);
      const mutated = steps.map(([fromClient, bytes]) => [fromClient, [...bytes]] as Step);
      const target = mutated[random(mutated.length)][1];
      const edits = 1 + random(4);
      for (let e = 0; e < edits; e++) target[random(target.length)] = random(256);
      if (random(4) === 0) target.length = random(target.length + 1);
      for (const [fromClient, bytes] of mutated) {
        if (bytes.length === 0) continue;
        if (fromClient) c.fromClient(bytes); else c.fromServer(bytes);
      }
      frames.push(...close(c).frames);
    }
  }
  const run = await runFramesThroughCore(frames);
  assert.ok(run.counters["stream.dissector_calls"] <= run.counters["stream.bytes_delivered"], "every dissector call consumed bytes");
  assert.ok(run.records.length > 0);
});

test("garbage on access ports never traps", async () => {
  let seed = 7;
  const random = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 24; };
  const frames: Uint8Array[] = [];
  for (const port of [21, 22, 23, 80, 3389, 5900, 8080]) {
    for (let round = 0; round < 20; round++) {
      const c = conversation(port);
      for (let i = 0; i < 6; i++) {
        const bytes = Array.from({ length: 1 + (random() % 200) }, random);
        if (i % 2 === 0) c.fromClient(bytes); else c.fromServer(bytes);
      }
      frames.push(...close(c).frames);
    }
  }
  const run = await runFramesThroughCore(frames);
  assert.ok(run.counters.packets > 0);
});

test.run();
