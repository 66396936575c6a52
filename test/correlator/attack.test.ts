// The ATT&CK table, progressions, OT command detection and the rank formula.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModelSet } from "../../agent/src/core/models.js";
import {
  isItEntryAlert, isOtCommandAlert, isOtCommandRecord, longestProgression, MODEL_NEXT_STEPS, stagesOf, tacticsOf,
  type Stage, type StageSpan,
} from "../../correlator/src/attack.js";
import { explainRank, rankIncident, type RankInputs } from "../../correlator/src/rank.js";

test("every model technique has tactics", async () => {
  const { models } = await loadModelSet();
  assert.ok(models.length > 10, `${models.length} models loaded`);
  for (const model of models) {
    for (const technique of model.mitre) {
      assert.ok(tacticsOf([technique]).length > 0, `${model.id}: technique ${technique} has no tactic in the table`);
    }
    assert.type(MODEL_NEXT_STEPS[model.id], "string", `${model.id} has no next step`);
  }
});

test("sub-technique falls back to parent", () => {
  assert.equal(tacticsOf(["T1021.099"]).map((t) => t.id), ["TA0008"]);
  assert.equal(tacticsOf(["T0855.001"]).map((t) => t.id), ["TA0106"]);
  assert.equal(tacticsOf(["T9999"]), []);
});

test("ics and enterprise stages merge", () => {
  assert.equal(stagesOf(["TA0102", "TA0007", "TA0109"]), ["discovery", "lateral_movement"]);
});

test("progression cases", () => {
  const spans = (entries: Array<[Stage, number, number]>) =>
    new Map<Stage, StageSpan>(entries.map(([stage, firstMs, lastMs]) => [stage, { firstMs, lastMs }]));
  const cases: Array<[Array<[Stage, number, number]>, Stage[]]> = [
    [[["discovery", 0, 0]], []],
    [[["discovery", 0, 10], ["lateral_movement", 20, 20], ["execution", 30, 30]], ["discovery", "lateral_movement", "execution"]],
    // Execution before lateral movement: only discovery then one of them.
    [[["discovery", 0, 0], ["lateral_movement", 30, 30], ["execution", 20, 20]], ["discovery", "lateral_movement"]],
    // Credential access spans the lateral movement: its last alert follows it.
    [[["lateral_movement", 10, 10], ["credential_access", 5, 15], ["execution", 20, 20]], ["credential_access", "lateral_movement", "execution"]],
    [[["execution", 0, 0], ["discovery", 10, 10]], []],
    [[["discovery", 0, 0], ["credential_access", 1, 1], ["lateral_movement", 2, 2], ["execution", 3, 3]],
      ["discovery", "credential_access", "lateral_movement", "execution"]],
  ];
  for (const [entries, expected] of cases) {
    assert.equal(longestProgression(spans(entries)), expected, JSON.stringify(entries));
  }
});

test("ot command detection", () => {
  assert.ok(isOtCommandAlert("modbus", ["T0855"]));
  assert.not.ok(isOtCommandAlert("modbus", ["T0869"]), "C2 over an OT protocol is no command");
  assert.not.ok(isOtCommandAlert("dcerpc", ["T0855"]));
  assert.ok(isItEntryAlert("dcerpc", ["T1569.002"]));
  assert.ok(isItEntryAlert("smb", ["T1021.002"]));
  assert.not.ok(isItEntryAlert("smb", ["T1135"]));
  assert.not.ok(isItEntryAlert("modbus", ["T0886"]));
  const modbus = (functionCode: number, pduType = "request") => ({ type: "modbus", pdu_type: pduType, function_code: functionCode });
  for (const code of [5, 6, 15, 16, 21, 22, 23]) assert.ok(isOtCommandRecord(modbus(code)), `function code ${code}`);
  for (const code of [1, 3, 8, 43]) assert.not.ok(isOtCommandRecord(modbus(code)), `function code ${code}`);
  assert.not.ok(isOtCommandRecord(modbus(16, "response")));
  assert.ok(isOtCommandRecord({ type: "s7comm", function: "WRITE_VAR" }));
  assert.ok(isOtCommandRecord({ type: "dnp3", function: "DIRECT_OPERATE" }));
  assert.ok(isOtCommandRecord({ type: "enip", service: "Set_Attribute_Single" }));
  assert.not.ok(isOtCommandRecord({ type: "s7comm", function: "READ_VAR" }));
  assert.not.ok(isOtCommandRecord({ type: "smb", command: "WRITE" }));
});

test("rank formula and routine cut", () => {
  const base: RankInputs = {
    score: 80, tactics: ["Execution TA0002"], stageSpans: new Map(), pivot: false, criticalHosts: [], otDevices: 0, alerts: 4, routineAlerts: 0,
  };
  assert.is(rankIncident(base).rank, 80);
  const full = rankIncident({
    ...base,
    tactics: ["Discovery TA0007", "Lateral Movement TA0008", "Execution TA0002", "Persistence TA0003", "Privilege Escalation TA0004", "Impair Process Control TA0106"],
    stageSpans: new Map<Stage, StageSpan>([["discovery", { firstMs: 0, lastMs: 0 }], ["lateral_movement", { firstMs: 5, lastMs: 5 }]]),
    pivot: true, criticalHosts: ["10.0.0.1", "10.0.0.2", "10.0.0.3"], otDevices: 5,
  });
  // 80 + 20 (tactics, capped) + 10 (two stages) + 30 + 30 (critical, capped) + 15 (devices, capped).
  assert.is(full.rank, 185);
  assert.equal(full.why.map((factor) => factor.points), [80, 20, 10, 30, 30, 15]);
  // Half of the alerts routine: a quarter of the sum is cut.
  const routine = rankIncident({ ...base, routineAlerts: 2 });
  assert.is(routine.rank, 60);
  assert.is(explainRank(routine), "60 = +80 incident score 80; -20 2 of 4 alert(s) seen before or routine");
});

test.run();
