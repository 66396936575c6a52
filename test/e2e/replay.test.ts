// End-to-end runs of the `fieldsense` commands on the project's sample
// capture, test/fixtures/demo/plant-scene.pcap (built by make-sample.ts).
// It contains Modbus polls of a PLC and an SMB2/NTLMSSP logon that copies
// upd4te.exe to ADMIN$ and then creates and starts a service over svcctl.
// It ends with a Modbus write from the office host.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import { demoCapturePath } from "../../agent/src/config/paths.js";
import type { Alert } from "../../agent/src/publish/alert.js";
import { loadValidators } from "../../agent/src/publish/schemas.js";
import { Correlator } from "../../correlator/src/service.js";
import { startMosquitto } from "../correlator/mosquitto.js";

const SAMPLE = demoCapturePath();
const validators = loadValidators();

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

function lines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Record<string, unknown>);
}

test("replay sample raises service and modbus alerts", async () => {
  const result = await run("replay", SAMPLE, "--json", "--site", "plant-a", "--gateway", "gw-1");
  assert.is(result.code, 0, result.stderr);
  const alerts = lines(result.stdout) as unknown as Alert[];
  for (const alert of alerts) {
    const check = validators.alert(alert);
    assert.ok(check.valid, `alert ${alert.model}: ${check.firstError}`);
  }
  const create = alerts.find((a) => a.model === "remote-service-svcctl" && a.evidence.opnum === 12);
  assert.ok(create, "no svcctl CreateServiceW alert");
  assert.is(create!.evidence.operation, "CreateServiceW");
  assert.is(create!.evidence.service_name, "UpdSvc4");
  assert.is(create!.evidence.binary_path, "%SystemRoot%\\upd4te.exe");
  assert.is(create!.account, "PLANT\\m.keller");
  assert.equal(create!.src, { ip: "10.10.0.55", port: 50112 });
  assert.equal(create!.dst, { ip: "10.10.1.20", port: 445 });
  assert.ok(alerts.some((a) => a.model === "remote-service-svcctl" && a.evidence.opnum === 19), "no StartServiceW alert");
  const write = alerts.find((a) => a.model === "modbus-write-not-master");
  assert.ok(write, "no Modbus master alert");
  assert.is(write!.evidence.function_code, 16);
  assert.is(write!.src.ip, "10.10.0.55");
  assert.is(write!.dst.ip, "10.10.2.10");
  assert.is(write!.learning, false);
  const drop = alerts.find((a) => a.model === "it-admin-share-executable");
  assert.ok(drop, "no alert for the executable written to ADMIN$");
  assert.is(drop!.evidence.file, "upd4te.exe");
  // The same source writes upd4te.exe to ADMIN$ and then creates the service.
  const sequence = alerts.find((a) => a.model === "it-write-then-execute");
  assert.ok(sequence, "no alert for the write followed by the service creation");
  assert.match(String(sequence!.context.written_file), /ADMIN\$\\upd4te\.exe$/);
  assert.match(result.stderr, "125 packets");
  assert.match(result.stderr, "alerts: 5");
});

test("replay ids equal across runs", async () => {
  const first = lines((await run("replay", SAMPLE, "--json", "--site", "s", "--gateway", "g")).stdout);
  const second = lines((await run("replay", SAMPLE, "--json", "--site", "s", "--gateway", "g")).stdout);
  assert.ok(first.length > 0);
  assert.equal(second.map((a) => a.id), first.map((a) => a.id));
  assert.is(new Set(first.map((a) => a.id)).size, first.length);
});

test("replay json and records share one stream", async () => {
  const result = await run("replay", SAMPLE, "--json", "--records");
  assert.is(result.code, 0, result.stderr);
  const all = lines(result.stdout);
  const types = new Set(all.map((line) => line.type));
  for (const type of ["alert", "modbus", "smb", "ntlm", "dcerpc"]) assert.ok(types.has(type), `no ${type} line`);
  for (const line of all) {
    const check = line.type === "alert" ? validators.alert(line) : validators.record(line);
    assert.ok(check.valid, `${String(line.type)} line: ${check.firstError}`);
  }
  const recordsOnly = lines((await run("replay", SAMPLE, "--records")).stdout);
  assert.ok(recordsOnly.every((line) => line.type !== "alert"));
  assert.is(recordsOnly.length, all.filter((line) => line.type !== "alert").length);
});

test("replay text output for people", async () => {
  const result = await run("replay", SAMPLE);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, "10.10.0.55:50112 -> 10.10.1.20:445  account PLANT\\m.keller");
  assert.match(result.stdout, "operation=CreateServiceW");
  assert.match(result.stdout, "function=WRITE_MULTIPLE_REGISTERS");
});

test("replay bad file reported, others still run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-e2e-"));
  try {
    const missing = join(dir, "missing.pcap");
    const result = await run("replay", missing, SAMPLE, "--json");
    assert.is(result.code, 1);
    assert.match(result.stderr, "missing.pcap");
    assert.ok(lines(result.stdout).length >= 3, "the second file produced no alerts");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("replay publishes to mosquitto correlator", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-e2e-"));
  const reportsDir = join(dir, "reports");
  let correlator: Correlator | undefined;
  try {
    correlator = await Correlator.start({ url: broker.url, dbPath: join(dir, "c.db"), reportsDir });
    const args = ["replay", SAMPLE, "--json", "--broker", broker.url, "--site", "plant-a", "--gateway", "gw-1"];
    const first = await run(...args);
    assert.is(first.code, 0, first.stderr);
    const published = lines(first.stdout);
    // The same capture again: the alerts keep their ids and are stored once.
    const second = await run(...args);
    assert.is(second.code, 0, second.stderr);

    const stats = correlator.stats;
    const deadline = Date.now() + 5000;
    while (stats.alertsStored + stats.alertsDuplicate < 2 * published.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.is(stats.alertsStored, published.length);
    assert.is(stats.alertsDuplicate, published.length);
    assert.is(stats.alertsInvalid, 0);
    assert.ok(stats.recordsStored > 0, "no records forwarded");
    for (const alert of published) assert.ok(correlator.store.hasAlert(String(alert.id)));
  } finally {
    await correlator?.stop();
    await broker.stop();
  }
  try {
    const reports = readdirSync(reportsDir).sort();
    assert.equal(reports, ["incident-1.html", "incident-1.md"]);
    const report = readFileSync(join(reportsDir, "incident-1.md"), "utf8");
    assert.match(report, "Remote service created, changed or started over svcctl");
    assert.match(report, "Modbus write or diagnostics from a host that is not the device's master");
    assert.match(report, "`PLANT\\m.keller`");
    assert.match(report, /\| upd4te\.exe \| `\\\\10\.10\.1\.20\\ADMIN\$` \| 10\.10\.0\.55 -> 10\.10\.1\.20 \| 6144 \| 0 \|/);
    assert.match(report, "Named pipes opened: svcctl on 10.10.1.20.");
    assert.match(report, "this pair is new");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
