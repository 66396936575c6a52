// The agent's side of the inventory: profile bindings that follow it, the
// retained inventory message when it changes, and the control route.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Core } from "../../agent/src/core/core.js";
import { InventorySession, INVENTORY_PUBLISH_INTERVAL_MS } from "../../agent/src/inventory/session.js";
import { loadProfiles } from "../../agent/src/profiles/profiles.js";
import { BoundedAlerts, Inventory } from "../../agent/src/control/inventory.js";
import { ControlServer } from "../../agent/src/control/server.js";
import { getJson } from "../../agent/src/control/client.js";
import { silentLogger } from "../../agent/src/log.js";
import type { RecordJson } from "../../agent/src/publish/record.js";
import { startBroker } from "../../agent/src/publish/embedded-broker.js";
import { topicFor } from "../../agent/src/publish/mqtt.js";
import { Publisher } from "../../agent/src/publish/publisher.js";
import { subscribe, temporaryDir, until } from "../transport/helpers.js";

function record(fields: Partial<RecordJson>): RecordJson {
  return {
    type: "modbus", ts: "2026-01-01T00:00:00.000000Z", src: { ip: "10.2.0.1", port: 40000 }, dst: { ip: "10.2.0.2", port: 502 },
    flow_id: 1, server_to_client: false, pdu_type: "request", unit_id: 1, function_code: 3, start_address: 0, quantity: 2, ...fields,
  } as RecordJson;
}

test("session publishes when the inventory changes", async () => {
  const core = await Core.load();
  const inventory = new Inventory(100, 100);
  const session = new InventorySession(loadProfiles(), inventory.ot);
  session.attach(core);
  const published: ReturnType<InventorySession["snapshot"]>[] = [];
  const publish = (snapshot: ReturnType<InventorySession["snapshot"]>) => { published.push(snapshot); };

  inventory.addRecord(record({}));
  assert.ok(session.tick(1_000_000, publish));
  assert.equal(published[0].devices.map((d) => d.ip), ["10.2.0.1", "10.2.0.2"]);
  // The same poll again, later: nothing changed, nothing published.
  inventory.addRecord(record({ ts: "2026-01-01T00:00:02.000000Z" }));
  assert.not.ok(session.tick(1_000_000 + INVENTORY_PUBLISH_INTERVAL_MS, publish));
  // The device reports an M221 identity: its profile binds at once, and the
  // inventory is published again once the interval since the last message
  // has passed.
  inventory.addRecord(record({ pdu_type: "response", server_to_client: true, function_code: 43, vendor_name: "Schneider Electric", product_code: "TM221CE16R", revision: "1.6.2.0" }));
  assert.not.ok(session.tick(1_000_000 + INVENTORY_PUBLISH_INTERVAL_MS / 2, publish));
  assert.equal(session.bindingSummaries().filter((b) => b.ip === "10.2.0.2"), [{ profile: "schneider-modicon-m221", ip: "10.2.0.2", unit_id: 1, reason: "identity", advisories: [] }]);
  assert.ok(session.tick(1_000_000 + 2 * INVENTORY_PUBLISH_INTERVAL_MS, publish));
  assert.is(published.length, 2);
  assert.equal(published[1].devices.find((d) => d.ip === "10.2.0.2")?.profiles, ["schneider-modicon-m221"]);
  assert.is(core.exportFunction("profileDeviceCount")(), session.bindings.length);
});

test("control route returns the inventory", async () => {
  const inventory = new Inventory(100, 100);
  inventory.addRecord(record({}));
  const socket = join(mkdtempSync(join(tmpdir(), "fieldsense-control-")), "agent.sock");
  const control = await ControlServer.listen(socket, { status: () => ({}), alerts: new BoundedAlerts(10), inventory }, silentLogger);
  try {
    const snapshot = await getJson<{ devices: { ip: string; roles: string[] }[]; polling: unknown[] }>(socket, "/v1/inventory");
    assert.equal(snapshot.devices.map((d) => [d.ip, d.roles]), [["10.2.0.1", ["master"]], ["10.2.0.2", ["server"]]]);
    assert.is(snapshot.polling.length, 1);
  } finally {
    await control.close();
  }
});

// The embedded broker (aedes) keeps the retained inventory: a subscriber
// that comes later gets the latest one.
test("inventory published retained", async () => {
  const broker = await startBroker();
  const tmp = temporaryDir("inventory");
  let publisher: Publisher | undefined;
  try {
    const url = `mqtt://127.0.0.1:${broker.port}`;
    publisher = await Publisher.start({ url, site: "plant-a", gateway: "gw-1", outboxDir: join(tmp.dir, "outbox") });
    // Before the connection: the body waits and goes out once connected.
    publisher.publishInventory({ devices: [{ ip: "10.2.0.2" }], revision: 1 });
    await publisher.whenConnected();
    publisher.publishInventory({ devices: [{ ip: "10.2.0.2" }, { ip: "10.2.0.3" }], revision: 2 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { client, messages } = await subscribe(url, topicFor("plant-a", "gw-1", "inventory"));
    await until(() => messages.length > 0, "the retained inventory");
    assert.is(messages[0].packet.retain, true);
    assert.is(JSON.parse(messages[0].payload.toString()).revision, 2);
    await client.endAsync();
  } finally {
    await publisher?.close();
    await broker.close();
    tmp.remove();
  }
});

test.run();
