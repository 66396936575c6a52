// HTTP on byte-built conversations: NTLM and Digest accounts, pipelined
// requests answered in order, chunked bodies, a login page shown again after
// a failed form login, interim 100 responses, a multipart firmware upload
// and a request line found by content on an unusual port.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runFramesThroughCore } from "../helpers/core-run.js";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { avPairs, ntlmAuthenticate, ntlmChallenge, ntlmNegotiate } from "../dcerpc/build.js";
import { close, conversation, text } from "./build.js";

async function run(frames: Uint8Array[]): Promise<{ http: CoreRecord[]; ntlm: CoreRecord[]; anomalies: Record<string, number> }> {
  const result = await runFramesThroughCore(frames);
  return {
    http: result.records.filter((r) => r.type === "http"),
    ntlm: result.records.filter((r) => r.type === "ntlm"),
    anomalies: result.anomalies,
  };
}

const b64 = (bytes: number[]) => Buffer.from(bytes).toString("base64");
const response = (status: string, headers: string[], body = "") =>
  text(`HTTP/1.1 ${status}\r\n${[...headers, `Content-Length: ${body.length}`].join("\r\n")}\r\n\r\n${body}`);

test("http ntlm handshake names the account", async () => {
  const c = conversation(80)
    .fromClient(text(`GET /hmi/ HTTP/1.1\r\nHost: hmi01\r\nAuthorization: NTLM ${b64(ntlmNegotiate())}\r\n\r\n`))
    .fromServer(response("401 Unauthorized", [`WWW-Authenticate: NTLM ${b64(ntlmChallenge("PLANT", avPairs([[1, "HMI01"], [2, "PLANT"]])))}`]))
    .fromClient(text(`GET /hmi/ HTTP/1.1\r\nHost: hmi01\r\nAuthorization: NTLM ${b64(ntlmAuthenticate({ user: "operator", domain: "PLANT", workstation: "ENG-2" }))}\r\n\r\n`))
    .fromServer(response("200 OK", [], "<html></html>"));
  const { http, ntlm } = await run(close(c).frames);
  assert.equal(ntlm.map((r) => r.fields.message), ["NEGOTIATE", "CHALLENGE", "AUTHENTICATE"]);
  assert.is(ntlm[2].fields.transport, "http");
  assert.is(http.length, 2);
  const [challenge, accepted] = http;
  assert.is(challenge.fields.status_code, 401);
  assert.is(challenge.fields.login_result, undefined, "the NEGOTIATE step is no login attempt");
  assert.is(challenge.fields.auth_scheme, "ntlm");
  assert.is(accepted.fields.user, "operator");
  assert.is(accepted.fields.domain, "PLANT");
  assert.is(accepted.fields.account, "PLANT\\operator");
  assert.is(accepted.fields.login_result, "success");
});

test("http digest username and 403", async () => {
  const c = conversation(8080)
    .fromClient(text('GET /cfg HTTP/1.1\r\nHost: rtu4\r\nAuthorization: Digest realm="rtu", username="eng1", nonce="abc", uri="/cfg", response="00"\r\n\r\n'))
    .fromServer(response("403 Forbidden", []));
  const { http } = await run(c.frames);
  assert.is(http[0].fields.auth_scheme, "digest");
  assert.is(http[0].fields.user, "eng1");
  assert.is(http[0].fields.login_result, "failure");
});

test("http pipelined requests answered in order", async () => {
  const requests = ["/a", "/b", "/c"].map((p) => `GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`).join("");
  const c = conversation(80)
    .fromClient(text(requests))
    .fromServer([...response("200 OK", [], "aa"), ...text("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), ...response("304 Not Modified", [])]);
  const { http } = await run(c.frames);
  assert.equal(http.map((r) => `${r.fields.uri} ${r.fields.status_code}`), ["/a 200", "/b 404", "/c 304"]);
});

test("http login page shown again is a failure guess", async () => {
  const page = '<form><input type="password" name="pw"></form>';
  const c = conversation(80)
    .fromClient(text("POST /signin HTTP/1.1\r\nHost: hmi\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\nuser=op%40plant&pwd=letmein"))
    .fromServer(text(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${page.length.toString(16)}\r\n${page}\r\n0\r\n\r\n`));
  const { http } = await run(c.frames);
  const [r] = http;
  assert.is(r.fields.auth_scheme, "form");
  assert.is(r.fields.user, "op@plant");
  assert.is(r.fields.login_result, "failure");
  assert.match(String(r.fields.login_guess), /password field again/);
  assert.not.ok(JSON.stringify(http).includes("letmein"));
});

test("http 100 continue and multipart upload", async () => {
  const body = '--X\r\nContent-Disposition: form-data; name="fw"; filename="plc-v2.7.hex"\r\n\r\n:10000000\r\n--X--\r\n';
  const c = conversation(80)
    .fromClient(text(`POST /update HTTP/1.1\r\nHost: plc\r\nContent-Type: multipart/form-data; boundary=X\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`))
    .fromServer(text("HTTP/1.1 100 Continue\r\n\r\n"))
    .fromClient(text(body))
    .fromServer(response("200 OK", [], "ok"));
  const { http } = await run(c.frames);
  assert.is(http.length, 1);
  assert.is(http[0].fields.status_code, 200);
  assert.is(http[0].fields.file_name, "plc-v2.7.hex");
  assert.is(http[0].fields.request_body_length, body.length);
});

test("http request line by content on port 9000", async () => {
  const c = conversation(9000)
    .fromClient(text("GET /status HTTP/1.0\r\nUser-Agent: curl/8.5\r\n\r\n"))
    .fromServer(text("HTTP/1.0 200 OK\r\nServer: GoAhead-Webs\r\n\r\nrunning"));
  const { http } = await run(close(c).frames);
  assert.is(http.length, 1);
  assert.is(http[0].fields.version, "1.0");
  assert.is(http[0].fields.server, "GoAhead-Webs");
  assert.is(http[0].fields.user_agent, "curl/8.5");
});

test("http unanswered request reported at close", async () => {
  const c = conversation(80).fromClient(text("GET /x HTTP/1.1\r\nAuthorization: Basic Zm9vOmJhcg==\r\n\r\n"));
  const { http } = await run(close(c).frames);
  assert.is(http.length, 1);
  assert.is(http[0].fields.status_code, undefined);
  assert.is(http[0].fields.user, "foo");
  assert.is(http[0].fields.login_result, "unknown");
});

test("http over-long line counted", async () => {
  const c = conversation(80).fromClient(text(`GET /${"a".repeat(9000)} HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n`)).fromServer(response("200 OK", []));
  const { http, anomalies } = await run(c.frames);
  assert.is(anomalies["http.line_too_long"], 1);
  assert.is(http[0]?.fields.uri, "/ok");
});

test.run();
