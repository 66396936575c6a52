// UMAS models (models/ot-umas-*): program download, upload and stop
// through Modbus FC 90. They need the dissector's umas_function field, so
// on a core without it the tests print why and return.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Core } from "../../agent/src/core/core.js";
import { fieldIdsOf, parseModelFile } from "../../agent/src/core/models.js";
import { repoRoot } from "../helpers/captures.js";
import { pcapFile, TcpConversation, timed } from "../helpers/frames.js";
import { adu } from "../modbus/run.js";
import { LOOPBACK_FIXTURE, SITE_PROFILE } from "./loopback.js";
import { replayWithInventory } from "../../agent/src/inventory/session.js";
import { loadProfiles } from "../../agent/src/profiles/profiles.js";
import type { Alert } from "../../agent/src/publish/alert.js";
import { tempFile } from "./run.js";


// A models folder with the shipped models and the UMAS models, or undefined
// after printing why the test is skipped.
async function umasModels(): Promise<string | undefined> {
  const core = await Core.load();
  if (!fieldIdsOf(core).has("umas_function")) {
    console.log("  skipped: this core's Modbus dissector writes no umas_function field yet");
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-umas-"));
  for (const name of readdirSync(join(repoRoot, "models"))) {
    if (/\.(yaml|json)$/.test(name)) cpSync(join(repoRoot, "models", name), join(dir, name));
  }
  return dir;
}

async function alertsOf(files: string[], modelsDir: string, profiles: string[] = []): Promise<Alert[]> {
  return (await replayWithInventory(files, loadProfiles(profiles.length > 0 ? profiles : undefined), { modelsDir })).alerts;
}

// The schema and the conditions, checked without a core.
test("umas models validate", () => {
  const umas = readdirSync(join(repoRoot, "models")).filter((name) => name.startsWith("ot-umas-"));
  assert.equal(umas.sort(), ["ot-umas-program-download.yaml", "ot-umas-program-upload.yaml", "ot-umas-stop.yaml"]);
  for (const name of umas) {
    const file = join(repoRoot, "models", name);
    const model = parseModelFile(file, readFileSync(file, "utf8"));
    assert.is(model.info.record, "modbus");
    assert.ok(model.info.conditions.some((c) => c.field === "umas_function"), name);
  }
});

test("umas stop in the loopback capture", async () => {
  const modelsDir = await umasModels();
  if (!modelsDir) return;
  const alerts = await alertsOf([LOOPBACK_FIXTURE], modelsDir, [SITE_PROFILE]);
  const stop = alerts.filter((a) => a.model === "ot-umas-stop");
  assert.is(stop.length, 1);
  assert.equal(stop[0].mitre, ["T0881", "T0858"]);
});

// A program transfer to the PLC (0x30, 0x31 x 3, 0x32) and one from it
// (0x33, 0x34, 0x35): one alert each, on the request that opens the transfer.
test("umas program download and upload", async () => {
  const modelsDir = await umasModels();
  if (!modelsDir) return;
  const c = new TcpConversation("10.9.5.1", 40500, "10.9.5.2", 502).handshake();
  [0x30, 0x31, 0x31, 0x31, 0x32, 0x33, 0x34, 0x35].forEach((umas, i) => {
    c.fromClient(adu(i + 1, 1, [0x5a, 0x01, umas, 0, 0]));
    c.fromServer(adu(i + 1, 1, [0x5a, 0x01, 0xfe]));
  });
  const alerts = await alertsOf([tempFile("umas.pcap", pcapFile(timed(c.frames, 1_733_000_400)))], modelsDir);
  assert.equal(alerts.filter((a) => a.model.startsWith("ot-umas")).map((a) => a.model), ["ot-umas-program-download", "ot-umas-program-upload"]);
});

test.run();
