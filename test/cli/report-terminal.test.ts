// `fieldsense report` on a terminal prints plain text: no Markdown escapes
// and no backticks, and control characters from the wire shown as escapes.
// Redirected to a file, the same report stays Markdown.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import { markdownToPlainText } from "../../correlator/src/markdown.js";
import { openStore } from "../../correlator/src/store.js";
import { sampleAlert } from "../publish/samples.js";

const dir = mkdtempSync(join(tmpdir(), "fieldsense-report-terminal-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function run(tty: boolean, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdoutIsTTY: tty });
  return { code, stdout, stderr };
}

test("plain text conversion", () => {
  assert.is(markdownToPlainText("check 'seen\\_before' -\\> `PLANT\\m.keller \\| x`"), "check 'seen_before' -> PLANT\\m.keller | x");
  assert.is(markdownToPlainText("| a | b |\n# Heading"), "| a | b |\n# Heading");
});

test("report on terminal and file", async () => {
  const db = join(dir, "c.db");
  const store = await openStore(db);
  const alert = sampleAlert();
  alert.name = "Service created_remotely -> \u001b[2Jcleared";
  await store.insertAlert(alert);
  await store.close();

  const file = await run(false, "report", "--db", db, "--incident", "1");
  assert.is(file.code, 0, file.stderr);
  assert.match(file.stdout, "created\\_remotely -\\>");

  const terminal = await run(true, "report", "--db", db, "--incident", "1");
  assert.is(terminal.code, 0, terminal.stderr);
  assert.match(terminal.stdout, "Service created_remotely -> \\u001b[2Jcleared");
  assert.not.match(terminal.stdout, "\\_");
  assert.not.match(terminal.stdout, "-\\>");
  assert.not.match(terminal.stdout, "`");
  assert.not.match(terminal.stdout, "\u001b");
  assert.match(terminal.stdout, /^# Incident 1: score \d+$/m);
});

test.run();
