// Real Modbus/TCP traffic from modbus-serial on the loopback interface
// (test/ot/loopback.ts): polling by the configured master, then writes, an
// FC 43 unit-id scan and an FC 90 request from a second host.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { INTRUDER, LOOPBACK_FIXTURE, MASTER, SERVER, SITE_PROFILE, recordLoopbackCapture, tcpdumpUnavailable } from "./loopback.js";
import { replayOt, type OtRun } from "./run.js";
import { main } from "../../agent/src/cli/main.js";

function checkScenario(run: OtRun): void {
  const { byModel, records, session } = run;
  const count = (model: string) => (byModel.get(model) ?? []).length;
  // The intruder's FC 6, FC 16 and FC 90 requests: commands from a host the
  // site profile does not list.
  const unauthorized = byModel.get("ot-unauthorized-command-profile") ?? [];
  assert.equal(unauthorized.map((a) => a.evidence.function_code), [6, 16, 90]);
  assert.ok(unauthorized.every((a) => a.src.ip === INTRUDER && a.dst.ip === SERVER));
  // Only the FC 16 write at register 500 is outside holding registers 0-99.
  const outside = byModel.get("ot-write-outside-profile") ?? [];
  assert.equal(outside.map((a) => a.evidence.start_address), [500]);
  // The learned master scorer has established the polling master by now.
  const notMaster = byModel.get("modbus-write-not-master") ?? [];
  assert.is(notMaster.length, 2);
  assert.ok(notMaster.every((a) => !a.learning && a.score >= 70));
  assert.is(count("ot-device-identification"), 3);
  assert.is(count("ot-identification-scan"), 1);
  // FC 90 is not among the profile's function codes.
  assert.equal((byModel.get("ot-function-not-in-profile") ?? []).map((a) => a.evidence.function_code), [90]);
  // NOTE: the UMAS models (models/ot-umas-*.yaml.pending) need the dissector's
  // umas_function field; until then the FC 90 request is a record only.
  assert.ok(records.some((r) => r.function_code === 90 && r.pdu_type === "request"));
  // No alert names the polling master.
  assert.not.ok(run.alerts.some((a) => a.src.ip === MASTER && a.model !== "modbus-write-not-master"));

  const server = session.inventory.find(SERVER);
  assert.equal(server?.roles, ["server"]);
  assert.equal(server?.masters, [MASTER, INTRUDER]);
  assert.equal(server?.profiles, ["test-loopback-plc"]);
  const polling = session.inventory.listPolling().find((p) => p.master === MASTER);
  const period = polling?.period_s ?? 0;
  assert.ok(period > 0.2, `period ${period}`);
  assert.ok(period < 0.5, `period ${period}`);
}

test("loopback fixture raises the OT alerts", async () => {
  checkScenario(await replayOt([LOOPBACK_FIXTURE], [SITE_PROFILE]));
});

test("live loopback traffic raises the OT alerts", async () => {
  const reason = tcpdumpUnavailable();
  if (reason) {
    console.log(`  skipped: ${reason}`);
    return;
  }
  const { file, port } = await recordLoopbackCapture();
  if (port !== 502) {
    console.log(`  skipped: port 502 is taken on ${SERVER}, and Modbus on port ${port} is found only by content`);
    return;
  }
  checkScenario(await replayOt([file], [SITE_PROFILE]));
});

test("replay command applies a site profile", async () => {
  let stdout = "";
  let stderr = "";
  const code = await main(["replay", LOOPBACK_FIXTURE, "--profiles", SITE_PROFILE, "--json"], { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  assert.is(code, 0, stderr);
  const models = stdout.trim().split("\n").map((line) => (JSON.parse(line) as { model: string }).model);
  assert.is(models.filter((m) => m === "ot-unauthorized-command-profile").length, 3);
  assert.is(models.filter((m) => m === "ot-write-outside-profile").length, 1);
});

test.run();
