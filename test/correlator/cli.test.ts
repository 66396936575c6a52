// `fieldsense correlator` as a process: its exit code and the files it writes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { GatewayPublisher } from "../../agent/src/publish/mqtt.js";
import { repoRoot } from "../helpers/captures.js";
import { sampleAlert } from "../publish/samples.js";
import { startMosquitto } from "./mosquitto.js";

const RUNNER = join(repoRoot, "test", "cli", "run-cli.mts");
// tsx by file URL: the child runs in a temporary folder, where the package
// name would not resolve.
const TSX = pathToFileURL(join(repoRoot, "node_modules", "tsx", "dist", "loader.mjs")).href;

test("correlator exits 1 after losing alerts", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-correlator-cli-"));
  const dbPath = join(dir, "missing", "sub", "c.db");
  try {
    const child = spawn(process.execPath, ["--import", TSX, RUNNER, "correlator", "--broker", broker.url, "--db", dbPath], {
      cwd: dir, stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 15_000;
      while (!stderr.includes(text) && child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(stderr, text, `no "${text}" from the correlator: ${stderr}`);
    };
    await waitFor("correlator running");
    assert.match(stderr, `reports in ${join(dir, "missing", "sub", "reports")}`);
    assert.ok(existsSync(join(dir, "missing", "sub", "reports")), "reports folder not created beside the store");
    assert.not.ok(existsSync(join(dir, ".fieldsense")), "reports folder created in the working directory");

    // Another connection makes every alert insert fail with a constraint
    // error, which no retry can change.
    const db = new Database(dbPath);
    db.exec("CREATE TRIGGER fail_inserts BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'rejected by test'); END");
    db.close();
    const alert = sampleAlert("plant-a", "gw-1");
    const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
    await publisher.publishAlert(alert);
    await publisher.close();
    await waitFor(`store rejected alert ${alert.id}`);

    child.kill("SIGTERM");
    assert.is(await exited, 1, stderr);
    assert.match(stderr, `correlator lost 1 alert(s) that store ${dbPath} rejected; the log names each one`);
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
