// The agent's control socket answers requests it cannot parse with 400 and
// keeps serving: a bad request target must never end the agent.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BoundedAlerts, Inventory } from "../../agent/src/control/inventory.js";
import { ControlServer } from "../../agent/src/control/server.js";
import { silentLogger } from "../../agent/src/log.js";

function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET" }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => { body += chunk.toString(); });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("control socket rejects an invalid target and keeps serving", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-control-"));
  const socket = join(dir, "agent.sock");
  const control = await ControlServer.listen(socket, { status: () => ({ state: "running" }), alerts: new BoundedAlerts(10), inventory: new Inventory(10, 10) }, silentLogger);
  try {
    const bad = await get(socket, "//");
    assert.is(bad.status, 400);
    assert.match((JSON.parse(bad.body) as { error: string }).error, /invalid request target "\/\/"; ask for a path such as \/v1\/status/);
    const status = await get(socket, "/v1/status");
    assert.is(status.status, 200);
    assert.equal(JSON.parse(status.body), { state: "running" });
  } finally {
    await control.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
