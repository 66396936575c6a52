import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { brokerClientOptions, BrokerSettingsError, isLoopback } from "../../agent/src/publish/broker-settings.js";
import { temporaryDir } from "./helpers.js";

function rejects(run: () => unknown, message: string): void {
  try {
    run();
  } catch (error) {
    assert.instance(error, BrokerSettingsError);
    assert.match((error as Error).message, message);
    return;
  }
  assert.unreachable(`accepted settings that should fail with "${message}"`);
}

test("password in url rejected", () => {
  rejects(() => brokerClientOptions({ url: "mqtts://gw-1:secret@broker.plant:8883" }), "contains a password");
  // The message names the broker without the secret.
  try {
    brokerClientOptions({ url: "mqtts://gw-1:secret@broker.plant:8883" });
  } catch (error) {
    assert.not.match((error as Error).message, "secret");
  }
});

test("plaintext password to remote broker refused", () => {
  const env = { FIELDSENSE_MQTT_PASSWORD: "s3cret" };
  rejects(() => brokerClientOptions({ url: "mqtt://broker.plant:1883", username: "gw-1", passwordEnv: "FIELDSENSE_MQTT_PASSWORD" }, env), "refusing to send a password in clear text");
  const allowed = brokerClientOptions({ url: "mqtt://broker.plant:1883", username: "gw-1", passwordEnv: "FIELDSENSE_MQTT_PASSWORD", allowPlaintextCredentials: true }, env);
  assert.is(allowed.password, "s3cret");
  const loopback = brokerClientOptions({ url: "mqtt://127.0.0.1:1883", username: "gw-1", passwordEnv: "FIELDSENSE_MQTT_PASSWORD" }, env);
  assert.is(loopback.username, "gw-1");
  assert.is(loopback.password, "s3cret");
  const secure = brokerClientOptions({ url: "mqtts://broker.plant:8883", username: "gw-1", passwordEnv: "FIELDSENSE_MQTT_PASSWORD" }, env);
  assert.is(secure.password, "s3cret");
  assert.is(secure.rejectUnauthorized, true);
});

test("password file and environment", () => {
  const tmp = temporaryDir("settings");
  try {
    const file = join(tmp.dir, "password");
    writeFileSync(file, "from-file\nignored second line\n");
    assert.is(brokerClientOptions({ url: "mqtts://broker.plant:8883", username: "gw-1", passwordFile: file }).password, "from-file");
    writeFileSync(file, "");
    rejects(() => brokerClientOptions({ url: "mqtts://broker.plant:8883", username: "gw-1", passwordFile: file }), "is empty");
    rejects(() => brokerClientOptions({ url: "mqtts://broker.plant:8883", username: "gw-1", passwordFile: join(tmp.dir, "missing") }), "cannot read passwordFile");
    rejects(() => brokerClientOptions({ url: "mqtts://broker.plant:8883", username: "gw-1", passwordEnv: "UNSET_VARIABLE" }, {}), "UNSET_VARIABLE named by passwordEnv is not set");
    rejects(() => brokerClientOptions({ url: "mqtts://broker.plant:8883", username: "gw-1", passwordEnv: "A", passwordFile: file }, { A: "x" }), "both set");
    rejects(() => brokerClientOptions({ url: "mqtts://broker.plant:8883", passwordEnv: "A" }, { A: "x" }), "no username");
  } finally {
    tmp.remove();
  }
});

test("tls files need mqtts", () => {
  const tmp = temporaryDir("settings");
  try {
    const pem = join(tmp.dir, "ca.crt");
    writeFileSync(pem, "-----BEGIN CERTIFICATE-----\n");
    rejects(() => brokerClientOptions({ url: "mqtt://broker.plant:1883", caFile: pem }), "need an mqtts:// or wss:// broker URL");
    rejects(() => brokerClientOptions({ url: "mqtts://broker.plant:8883", certFile: pem }), "certFile and keyFile must be set together");
    rejects(() => brokerClientOptions({ url: "mqtts://broker.plant:8883", caFile: join(tmp.dir, "none.crt") }), "cannot read caFile");
    const options = brokerClientOptions({ url: "mqtts://broker.plant:8883", caFile: pem, certFile: pem, keyFile: pem });
    assert.ok(Buffer.isBuffer(options.ca));
    assert.ok(Buffer.isBuffer(options.cert));
    assert.ok(Buffer.isBuffer(options.key));
    rejects(() => brokerClientOptions({ url: "http://broker.plant" }), 'unsupported broker URL scheme "http:"');
    rejects(() => brokerClientOptions({ url: "not a url" }), 'invalid broker URL "not a url"');
  } finally {
    tmp.remove();
  }
});

test("loopback hosts recognised", () => {
  assert.ok(isLoopback("127.0.0.1"));
  assert.ok(isLoopback("127.8.9.10"));
  assert.ok(isLoopback("[::1]"));
  assert.ok(isLoopback("localhost"));
  assert.not.ok(isLoopback("10.0.0.1"));
  assert.not.ok(isLoopback("127.example.com"));
});

test.run();
