// The it-task-file-transfer model on file records of scheduled-task files.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type CoreRecord } from "../../agent/src/core/core.js";
import { framesFeed, runWithModels } from "../helpers/core-run.js";
import { ascii, jobFile, taskXml, type Transfer, transferConversation } from "./build.js";

async function alertsFor(t: Transfer): Promise<CoreRecord[]> {
  const { alerts } = await runWithModels(["it-task-file-transfer.yaml"], framesFeed(transferConversation(t).frames));
  return alerts.map((a) => a.alert);
}

test("job file written fires", async () => {
  const job = jobFile({ application: "c:\\mimikatz.exe", parameters: "", workingDirectory: "c:\\", author: "CORP\\admin" });
  const alerts = await alertsFor({ share: "\\\\admin-pc\\ADMIN$", name: "Tasks\\At1.job", pieces: [{ offset: 0, data: job }] });
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.task_command, "c:\\mimikatz.exe");
  assert.is(alerts[0].fields.direction, "to_server");
});

test("task xml read fires", async () => {
  const xml = taskXml("C:\\Windows\\System32\\defrag.exe", "-c", "Microsoft Corporation", "S-1-5-18");
  const alerts = await alertsFor({ share: "\\\\host7\\C$", name: "Windows\\System32\\Tasks\\Microsoft\\Defrag", pieces: [{ offset: 0, data: xml }], read: true });
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.direction, "from_server");
});

test("ordinary file stays silent", async () => {
  const alerts = await alertsFor({ share: "\\\\host7\\data", name: "report.txt", pieces: [{ offset: 0, data: ascii("quarterly numbers\n") }] });
  assert.is(alerts.length, 0);
});

test.run();
