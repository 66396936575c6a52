// Logins recorded on loopback with real servers and clients (vsftpd, Node's
// HTTP server and client, a Telnet-style login server, the OpenSSH client):
// test/fixtures/access/generate.ts records them afresh when tcpdump may
// capture on lo, and the committed copies are replayed otherwise.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { generateCaptures } from "../fixtures/access/generate.js";
import { replayOnPort } from "./replay.js";

const committed = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/access");
let captures = committed;
let scratch: string | undefined;

test.before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "fieldsense-access-"));
  try {
    await generateCaptures(scratch);
    captures = scratch;
  } catch (error) {
    console.log(`skipped live capture (${(error as Error).message}); replaying the committed captures`);
  }
});

test.after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const PASSWORDS = ["guest@plant.example", "correct-horse", "guess1", "wrong", "not-it", "plc-service"];

function assertNoPassword(records: CoreRecord[]): void {
  const text = JSON.stringify(records.map((r) => r.fields));
  for (const password of PASSWORDS) assert.not.ok(text.includes(password), `a record contains the password "${password}"`);
}

test("vsftpd anonymous-only logins and file commands", async () => {
  const records = (await replayOnPort(join(captures, "ftp-vsftpd.pcap"), 21)).filter((r) => r.type === "ftp");
  const commands = records.map((r) => `${r.fields.command} ${r.fields.reply_code}`);
  assert.equal(commands, ["USER 530", "USER 530", "USER 331", "PASS 230", "SIZE 213", "STOR 550"]);
  const [admin, engineer, anonymous, pass, size, stor] = records;
  assert.is(admin.fields.user, "admin");
  assert.is(admin.fields.login_result, "failure");
  assert.is(admin.fields.auth_scheme, "password");
  assert.is(engineer.fields.account, "engineer");
  assert.is(anonymous.fields.login_result, undefined);
  assert.is(pass.fields.login_result, "success");
  assert.is(pass.fields.auth_scheme, "anonymous");
  assert.is(pass.fields.user, "anonymous");
  assert.is(pass.fields.argument, undefined);
  assert.is(size.fields.file_name, "readme.txt");
  assert.is(stor.fields.file_name, "plc-firmware-2.7.bin");
  assert.is(stor.fields.reply_text, "Permission denied.");
  assertNoPassword(records);
});

test("node http basic and form logins", async () => {
  const records = (await replayOnPort(join(captures, "http-logins.pcap"), 80)).filter((r) => r.type === "http");
  const lines = records.map((r) => `${r.fields.method} ${r.fields.uri} ${r.fields.status_code}`);
  assert.equal(lines, [
    "GET /api/tanks 401", "GET /api/tanks 200", "GET /login 200", "POST /login 302", "POST /login 302",
    "PUT /firmware/hmi-panel-4.2.img 201",
  ]);
  const [basicFailed, basicAccepted, page, formFailed, formAccepted, upload] = records;
  assert.is(basicFailed.fields.auth_scheme, "basic");
  assert.is(basicFailed.fields.user, "operator");
  assert.is(basicFailed.fields.login_result, "failure");
  assert.is(basicFailed.fields.challenge, "basic");
  assert.is(basicFailed.fields.user_agent, "fieldsense-test/1.0");
  assert.ok(String(basicFailed.fields.host).startsWith("127.0.0.1:"));
  assert.is(basicAccepted.fields.login_result, "success");
  assert.is(page.fields.login_result, undefined);
  assert.is(formFailed.fields.auth_scheme, "form");
  assert.is(formFailed.fields.user, "operator");
  assert.is(formFailed.fields.login_result, "failure");
  assert.is(formFailed.fields.location, "/login?error=1");
  assert.match(String(formFailed.fields.login_guess), /redirect back to a login page/);
  assert.is(formAccepted.fields.login_result, "success");
  assert.match(String(formAccepted.fields.login_guess), /redirect away/);
  assert.is(upload.fields.file_name, "hmi-panel-4.2.img");
  assert.is(upload.fields.request_body_length, 576);
  assertNoPassword(records);
});

test("telnet login prompts, a wrong password, then a shell", async () => {
  const records = (await replayOnPort(join(captures, "telnet-login.pcap"), 23)).filter((r) => r.type === "telnet");
  assert.equal(records.map((r) => r.fields.session_event), ["start", "login", "login", "end"]);
  const [, failed, succeeded, end] = records;
  assert.is(failed.fields.user, "maint");
  assert.is(failed.fields.login_result, "failure");
  assert.match(String(failed.fields.login_guess), /incorrect/);
  assert.is(failed.fields.auth_scheme, "password");
  assert.is(succeeded.fields.login_result, "success");
  assert.match(String(succeeded.fields.login_guess), /command prompt/);
  assert.is(end.fields.user, "maint");
  assertNoPassword(records);
});

test("openssh client banner", async () => {
  const records = (await replayOnPort(join(captures, "ssh-banner.pcap"), 22)).filter((r) => r.type === "ssh");
  const start = records.find((r) => r.fields.session_event === "start");
  assert.ok(start);
  assert.match(String(start.fields.client_software), /^OpenSSH_\d/);
  assert.is(start.fields.server_software, "FieldsenseTestServer_1.0");
  assert.is(start.fields.client_protocol_version, "2.0");
  const end = records.find((r) => r.fields.session_event === "end");
  assert.ok(end);
  assert.is(end.fields.encrypted, false);
});

test.run();
