import { test } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { join } from "node:path";
import mqtt from "mqtt";
import pino from "pino";
import { topicFor } from "../../agent/src/publish/mqtt.js";
import { Publisher } from "../../agent/src/publish/publisher.js";
import { Correlator } from "../../correlator/src/service.js";
import { mosquittoAvailable, startTransportBroker } from "./broker.js";
import { numberedAlert, temporaryDir, until } from "./helpers.js";

function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, sink), lines };
}

test("malformed oversized and forged rejected", async () => {
  if (!mosquittoAvailable()) return;
  const broker = await startTransportBroker();
  const tmp = temporaryDir("correlator");
  const { logger, lines } = capturingLogger();
  let correlator: Correlator | undefined;
  try {
    correlator = await Correlator.start({ url: broker.url, dbPath: join(tmp.dir, "c.db"), clientId: "correlator-reject", logger });
    const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const ownTopic = topicFor("plant-a", "gw-1", "alerts");
    const sends: Array<[string, string | Buffer]> = [
      [ownTopic, "{not json"],
      [ownTopic, "{also not json"],
      [ownTopic, Buffer.alloc(100 * 1024, 0x20)],
      [ownTopic, JSON.stringify({ ...numberedAlert(1), score: 500 })],
      // Forged: gw-1 publishes an alert that claims to come from gw-2.
      [ownTopic, JSON.stringify(numberedAlert(2, "plant-a", "gw-2"))],
      [ownTopic, JSON.stringify(numberedAlert(3, "plant-b", "gw-1"))],
      [topicFor("plant-a", "gw-1", "records"), JSON.stringify({ type: "smb" })],
    ];
    for (const [topic, payload] of sends) await client.publishAsync(topic, payload, { qos: 1 });
    // The service keeps running: a valid alert after all of that is stored.
    const valid = numberedAlert(4);
    await client.publishAsync(ownTopic, JSON.stringify(valid), { qos: 1 });
    await client.endAsync();

    const running = correlator;
    await until(() => running.stats.alertsStored === 1, "the valid alert");
    assert.is((await running.store.countAlerts()), 1);
    assert.ok((await running.store.hasAlert(valid.id)));
    assert.is(running.stats.rejected.invalid_json, 2);
    assert.is(running.stats.rejected.oversized, 1);
    assert.is(running.stats.rejected.invalid_alert, 1);
    assert.is(running.stats.rejected.topic_mismatch, 2);
    assert.is(running.stats.rejected.invalid_record, 1);
    assert.is(running.stats.recordsStored, 0);

    const warnings = lines.filter((line) => line.msg === "message rejected; later rejections of this kind are logged at debug level and counted");
    assert.equal(warnings.map((line) => line.kind).sort(), ["invalid_alert", "invalid_json", "invalid_record", "oversized", "topic_mismatch"]);
    const forged = warnings.find((line) => line.kind === "topic_mismatch")!;
    assert.match(String(forged.reason), 'names site "plant-a" and gateway "gw-2"');
  } finally {
    await correlator?.stop();
    await broker.stop();
    broker.cleanUp();
    tmp.remove();
  }
});

test("correlator restart receives queued alerts", async () => {
  if (!mosquittoAvailable()) return;
  const broker = await startTransportBroker();
  const tmp = temporaryDir("correlator");
  const options = { url: broker.url, dbPath: join(tmp.dir, "c.db"), clientId: "correlator-restart" };
  let correlator: Correlator | undefined;
  let publisher: Publisher | undefined;
  try {
    correlator = await Correlator.start(options);
    publisher = await Publisher.start({ url: broker.url, site: "plant-a", gateway: "gw-1", outboxDir: join(tmp.dir, "outbox") });
    for (let i = 0; i < 100; i++) publisher.publish(numberedAlert(i));
    const first = correlator;
    await until(() => first.stats.alertsStored >= 20, "the first alerts");
    // Stopped in the middle: the broker queues the rest in the persistent session.
    await correlator.stop();
    correlator = undefined;
    for (let i = 100; i < 300; i++) publisher.publish(numberedAlert(i));
    await publisher.drain();

    correlator = await Correlator.start(options);
    const second = correlator;
    await until(async () => (await second.store.countAlerts()) === 300, "all 300 alerts in the store");
    for (let i = 0; i < 300; i++) assert.ok((await second.store.hasAlert(numberedAlert(i).id)), `alert ${i} missing`);
  } finally {
    await publisher?.close(1000);
    await correlator?.stop();
    await broker.stop();
    broker.cleanUp();
    tmp.remove();
  }
});

test.run();
