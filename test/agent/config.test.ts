import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { ConfigError, loadAgentConfig, parseAgentConfig } from "../../agent/src/config/agent-config.js";
import { DEFAULT_LIMITS } from "../../agent/src/core/core.js";
import { main } from "../../agent/src/cli/main.js";

function errorOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseAgentConfig("gateway.yaml", text, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`no error for:\n${text}`);
}

test("config defaults fit a 1 GB gateway", () => {
  const config = parseAgentConfig("empty.yaml", "");
  assert.equal(config.limits, DEFAULT_LIMITS);
  assert.is(config.capture.snapLength, 65535);
  assert.is(config.capture.promiscuous, true);
  assert.is(config.capture.bufferBytes, 16 * 1024 * 1024);
  assert.is(config.controlSocket, "/run/fieldsense/agent.sock");
  assert.is(config.dataDir, "/var/lib/fieldsense");
  assert.is(config.brokerUrl, undefined);
  assert.is(config.user, undefined);
});

test("config full file maps every key", () => {
  const config = parseAgentConfig("full.yaml", [
    "site: plant-a",
    "gateway: gw-7",
    "capture:",
    "  interface: eth1",
    '  filter: "tcp port 502"',
    "  snap_length: 1514",
    "  promiscuous: false",
    "  buffer_bytes: 4194304",
    "  batch_bytes: 131072",
    "  batch_interval_ms: 100",
    "user: nobody",
    "group: nogroup",
    "data_dir: /srv/fieldsense",
    "log_level: warn",
    "broker:",
    "  url: mqtts://broker.plant.example:8883",
    "  username: ${GATEWAY_USER}",
    "  password_env: FIELDSENSE_BROKER_PASSWORD",
    "  ca_file: /etc/fieldsense/ca.pem",
    "  outbox_max_bytes: 1048576",
    "control:",
    "  socket: /run/fs/agent.sock",
    "store:",
    "  alerts: 500",
    "snapshot_interval_s: 60",
    "core:",
    "  max_flows: 4096",
    "  app_state_slots: 512",
  ].join("\n"), { GATEWAY_USER: "gw-7" });
  assert.is(config.site, "plant-a");
  assert.is(config.capture.interface, "eth1");
  assert.is(config.capture.filter, "tcp port 502");
  assert.is(config.capture.snapLength, 1514);
  assert.is(config.capture.promiscuous, false);
  assert.is(config.capture.batchIntervalMs, 100);
  assert.is(config.user, "nobody");
  assert.is(config.group, "nogroup");
  assert.is(config.broker.username, "gw-7");
  assert.is(config.broker.passwordEnv, "FIELDSENSE_BROKER_PASSWORD");
  assert.is(config.broker.caFile, "/etc/fieldsense/ca.pem");
  assert.is(config.broker.outboxMaxBytes, 1048576);
  assert.is(config.brokerUrl, "mqtts://broker.plant.example:8883");
  assert.is(config.controlSocket, "/run/fs/agent.sock");
  assert.is(config.store.alerts, 500);
  assert.is(config.store.assets, 10_000);
  assert.is(config.limits.maxFlows, 4096);
  assert.is(config.limits.appStateSlots, 512);
  assert.is(config.limits.streamBufferBytes, DEFAULT_LIMITS.streamBufferBytes);
});

test("config example in deploy is valid", () => {
  const file = join(repoRoot, "deploy", "agent.example.yaml");
  const config = loadAgentConfig(file, {});
  assert.is(config.capture.interface, "eth1");
  assert.is(config.user, "fieldsense");
  assert.is(config.broker.passwordEnv, "FIELDSENSE_BROKER_PASSWORD");
  assert.equal(config.limits, DEFAULT_LIMITS);
  const unit = readFileSync(join(repoRoot, "deploy", "fieldsense-agent.service"), "utf8");
  assert.match(unit, "agent --config /etc/fieldsense/agent.yaml");
  assert.match(unit, "ExecReload=/bin/kill -HUP $MAINPID");
});

test("config environment references", () => {
  const config = parseAgentConfig("env.yaml", "broker:\n  username: pre-${A}-$${B}\n", { A: "x" });
  assert.is(config.broker.username, "pre-x-${B}");
});

// Bad files and the message each must produce: file, line, key, and what is allowed.
const BAD_FILES: [name: string, text: string, line: number, expected: string[]][] = [
  ["unknown top-level key", "site: a\ninterface: eth0\n", 2,
    ["gateway.yaml line 2: interface: unknown key", "allowed keys here are site, gateway, capture"]],
  ["unknown nested key", "capture:\n  iface: eth0\n", 2,
    ["capture.iface: unknown key", "interface, filter, snap_length"]],
  ["snap length out of range", "capture:\n  interface: eth0\n  snap_length: 10\n", 3,
    ["capture.snap_length: 10 is out of range; allowed: 64 to 262144 bytes"]],
  ["batch interval out of range", "capture:\n  batch_interval_ms: 60000\n", 2,
    ["capture.batch_interval_ms: 60000 is out of range; allowed: 10 to 10000 milliseconds"]],
  ["promiscuous not a boolean", "capture:\n  promiscuous: maybe\n", 2,
    ["capture.promiscuous: expected boolean, found string \"maybe\""]],
  ["log level not allowed", "log_level: loud\n", 1,
    ["log_level: \"loud\" is not allowed; use one of trace, debug, info, warn, error, fatal, silent"]],
  ["site with a slash", "site: plant/a\n", 1,
    ["site: \"plant/a\" is invalid", "MQTT topic level"]],
  ["broker url scheme", "broker:\n  url: http://127.0.0.1:1883\n", 2,
    ["broker.url: invalid broker URL", "use mqtt://, mqtts://"]],
  ["missing environment variable", "broker:\n  username: ${NO_SUCH_VARIABLE}\n", 2,
    ["broker.username: environment variable NO_SUCH_VARIABLE is not set"]],
  ["invalid environment reference", "broker:\n  username: ${1X}\n", 2,
    ["broker.username: invalid environment variable reference \"${1X}\""]],
  ["password in the file", "broker:\n  password: s3cret\n", 2,
    ["broker.password: unknown key", "password_env, password_file"]],
  ["password env not a name", "broker:\n  password_env: 1PASS\n", 2,
    ["broker.password_env: \"1PASS\" is not an environment variable name"]],
  ["two password sources", "broker:\n  password_env: P\n  password_file: /etc/p\n", 3,
    ["broker.password_file and broker.password_env are both set"]],
  ["state slots above flows", "core:\n  max_flows: 100\n  app_state_slots: 200\n", 3,
    ["core.app_state_slots 200 is above core.max_flows 100"]],
  ["reassembly below one buffer", "core:\n  stream_buffer_bytes: 65536\n  reassembly_bytes_total: 8192\n", 3,
    ["core.reassembly_bytes_total 8192 is below core.stream_buffer_bytes 65536"]],
  // The core's own limit checks, which the agent runs at start.
  ["stream buffer below the core's minimum", "site: a\ncore:\n  stream_buffer_bytes: 8000\n", 3,
    ["gateway.yaml line 3: invalid core limit core.stream_buffer_bytes: 8000; expected an integer from 16388 to 67108864 bytes"]],
  ["core limits above the core's memory", "core:\n  max_flows: 16777216\n  app_state_slots: 16777216\n", 2,
    ["gateway.yaml line 2: core limits need about ", " MiB, above the core's 2048 MiB memory maximum", "lower core.app_state_slots, core.max_flows or core.reassembly_bytes_total"]],
  ["group without user", "group: nogroup\n", 1,
    ["group \"nogroup\" is set without user"]],
  ["capture not a map", "capture: eth0\n", 1,
    ["capture: expected a map of keys, found string \"eth0\""]],
  ["duplicate key", "site: a\nsite: b\n", 2,
    ["gateway.yaml line 2: invalid YAML", "unique"]],
  ["broken YAML", "capture:\n  filter: [tcp\n", 3,
    ["gateway.yaml line", "invalid YAML"]],
];

test("config baselines time zone", () => {
  assert.is(parseAgentConfig("gateway.yaml", "site: plant-a").baselines.timeZone, "UTC");
  const config = parseAgentConfig("gateway.yaml", "baselines:\n  timezone: Europe/Berlin");
  assert.is(config.baselines.timeZone, "Europe/Berlin");
  const error = errorOf("site: plant-a\nbaselines:\n  timezone: Europe/Atlantis");
  assert.is(error.line, 3);
  assert.is(error.key, "baselines.timezone");
  assert.match(error.message, 'baselines.timezone: invalid time zone "Europe/Atlantis"');
});

test("config bad files name line and key", () => {
  for (const [name, text, line, expected] of BAD_FILES) {
    const error = errorOf(text);
    for (const part of expected) {
      assert.ok(error.message.includes(part), `${name}: "${error.message}" lacks "${part}"`);
    }
    if (name !== "broken YAML") assert.is(error.line, line, `${name}: line ${error.line}, expected ${line} (${error.message})`);
    assert.is(error.file, "gateway.yaml", name);
  }
});

test("config check command exit codes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-config-"));
  const run = async (...argv: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
    return { code, stdout, stderr };
  };
  try {
    const good = join(dir, "good.yaml");
    writeFileSync(good, "capture:\n  interface: eth1\nuser: nobody\n");
    const ok = await run("config", "check", good);
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, "good.yaml: valid");

    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "capture:\n  snap_length: 1\n");
    const failed = await run("config", "check", bad, "--json");
    assert.is(failed.code, 1);
    const report = JSON.parse(failed.stdout) as { valid: boolean; line: number; key: string };
    assert.is(report.valid, false);
    assert.is(report.line, 2);
    assert.is(report.key, "capture.snap_length");
    assert.match(failed.stderr, "bad.yaml line 2: capture.snap_length");

    const missing = await run("config", "check", join(dir, "none.yaml"));
    assert.is(missing.code, 1);
    assert.match(missing.stderr, "cannot read configuration file");

    assert.is((await run("config")).code, 2);
    assert.is((await run("config", "lint", good)).code, 2);
    assert.is((await run("config", "check")).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test("config ring and pcap request keys", () => {
  const config = parseAgentConfig("ring.yaml", [
    "data_dir: /tmp/fs-data",
    "ring:",
    "  max_bytes: 67108864",
    "  max_age_s: 3600",
    "  truncate:",
    "    - host: 10.20.0.0/16",
    "      port: 502",
    "pcap_requests:",
    "  requesters: [correlator]",
  ].join("\n"));
  assert.is(config.ring.enabled, true);
  assert.is(config.ring.dir, undefined);
  // segment_bytes follows a small max_bytes down to a quarter of it.
  assert.equal({ ...config.ring.limits, truncate: undefined }, { maxBytes: 67108864, maxAgeSeconds: 3600, segmentBytes: 8388608, truncate: undefined });
  assert.equal(config.ring.limits.truncate, [{ host: "10.20.0.0/16", port: 502 }]);
  assert.equal(config.pcapRequests.requesters, ["correlator"]);
  const small = parseAgentConfig("small.yaml", "ring:\n  max_bytes: 1048576\n");
  assert.is(small.ring.limits.segmentBytes, 262144);
  // Nobody may ask by default.
  assert.equal(parseAgentConfig("empty.yaml", "").pcapRequests.requesters, []);

  const tooBig = errorOf("ring:\n  max_bytes: 1048576\n  segment_bytes: 1048576\n");
  assert.is(tooBig.line, 3);
  assert.is(tooBig.key, "ring.segment_bytes");
  assert.match(tooBig.message, "segment_bytes 1048576 is above a quarter of max_bytes 1048576");
  const badHost = errorOf("ring:\n  truncate:\n    - host: plc-7\n");
  assert.match(badHost.message, 'host "plc-7" is not an IP address or ADDRESS/PREFIX network');
  assert.is(badHost.key, "ring.truncate");
});

test.run();
