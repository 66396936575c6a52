import { suite } from "uvu";
import * as assert from "uvu/assert";
import mqtt, { type MqttClient, type IPublishPacket } from "mqtt";
import { startBroker } from "../../agent/src/publish/embedded-broker.js";
import { GatewayPublisher, MqttConnectError, topicFor } from "../../agent/src/publish/mqtt.js";
import { alertRecord, sampleAlert } from "./samples.js";
import { AlertIdentity } from "../../agent/src/publish/alert.js";
import { freeLoopbackPort, startMosquitto } from "../correlator/mosquitto.js";

interface Received { topic: string; payload: string; packet: IPublishPacket }

async function subscriber(url: string, filter: string, protocolVersion: 4 | 5 = 4): Promise<{ client: MqttClient; messages: Received[] }> {
  const client = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0 });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), packet }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, messages };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const aedes = suite("mqtt publisher with aedes");

aedes("aedes falls back to mqtt 3.1.1", async () => {
  const broker = await startBroker();
  const url = `mqtt://127.0.0.1:${broker.port}`;
  try {
    const { client, messages } = await subscriber(url, "fieldsense/v1/#");
    const publisher = await GatewayPublisher.connect({ url, site: "plant-a", gateway: "gw-1" });
    assert.is(publisher.protocolVersion, 4);
    const alert = sampleAlert("plant-a", "gw-1");
    await publisher.publishAlert(alert);
    await publisher.close();
    await until(() => messages.some((m) => m.topic.endsWith("/alerts")), "the alert");
    const received = messages.find((m) => m.topic === topicFor("plant-a", "gw-1", "alerts"))!;
    assert.equal(JSON.parse(received.payload), alert);
    assert.is(received.packet.qos, 1);
    await client.endAsync();
  } finally {
    await broker.close();
  }
});

aedes("status retained online then offline", async () => {
  const broker = await startBroker();
  const url = `mqtt://127.0.0.1:${broker.port}`;
  try {
    const publisher = await GatewayPublisher.connect({ url, site: "plant-a", gateway: "gw-1" });
    const online = await subscriber(url, topicFor("plant-a", "gw-1", "status"));
    await until(() => online.messages.length === 1, "the retained status");
    assert.is(JSON.parse(online.messages[0].payload).state, "online");
    assert.is(online.messages[0].packet.retain, true);
    await online.client.endAsync();
    await publisher.close();
    const later = await subscriber(url, topicFor("plant-a", "gw-1", "status"));
    await until(() => later.messages.length === 1, "the retained status after close");
    assert.is(JSON.parse(later.messages[0].payload).state, "offline");
    await later.client.endAsync();
  } finally {
    await broker.close();
  }
});

aedes("publish window caps messages in flight", async () => {
  const broker = await startBroker();
  const url = `mqtt://127.0.0.1:${broker.port}`;
  try {
    const { client, messages } = await subscriber(url, topicFor("plant-a", "gw-1", "alerts"));
    const publisher = await GatewayPublisher.connect({ url, site: "plant-a", gateway: "gw-1", maxInFlight: 3 });
    const identity = new AlertIdentity();
    const alerts = Array.from({ length: 200 }, (_, i) => sampleAlert("plant-a", "gw-1", alertRecord({ tsNsec: i * 1000 }), identity));
    await Promise.all(alerts.map((alert) => publisher.publishAlert(alert)));
    assert.is(publisher.stats.alertsPublished, 200);
    assert.ok(publisher.stats.peakInFlight <= 3, `peak in flight ${publisher.stats.peakInFlight}`);
    assert.ok(publisher.stats.peakInFlight >= 2, `peak in flight ${publisher.stats.peakInFlight}: the window was never used`);
    await publisher.close();
    await until(() => messages.length === 200, "200 alerts");
    assert.equal(messages.map((m) => JSON.parse(m.payload).id), alerts.map((a) => a.id));
    await client.endAsync();
  } finally {
    await broker.close();
  }
});

aedes("close drops unacknowledged after timeout", async () => {
  const broker = await startBroker();
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const publisher = await GatewayPublisher.connect({ url, site: "plant-a", gateway: "gw-1" });
  await broker.close();
  const pending = publisher.publishAlert(sampleAlert("plant-a", "gw-1")).catch(() => undefined);
  // Only the timeout path returns a non-zero count; without it close() would wait forever.
  const unacknowledged = await publisher.close(300);
  assert.ok(unacknowledged >= 1, `unacknowledged ${unacknowledged}`);
  assert.is(publisher.stats.alertsPublished, 0);
  await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 100))]);
});

aedes("invalid window size rejected", async () => {
  try {
    await GatewayPublisher.connect({ url: "mqtt://127.0.0.1:1", site: "s", gateway: "g", maxInFlight: 70000 });
    assert.unreachable("accepted maxInFlight 70000");
  } catch (error) {
    assert.instance(error, RangeError);
    assert.match((error as Error).message, "maxInFlight 70000");
  }
});

aedes("connection refused names the url", async () => {
  const port = await freeLoopbackPort();
  try {
    await GatewayPublisher.connect({ url: `mqtt://127.0.0.1:${port}`, site: "s", gateway: "g", connectTimeoutMs: 2000 });
    assert.unreachable("connected to a closed port");
  } catch (error) {
    assert.instance(error, MqttConnectError);
    assert.match((error as Error).message, `mqtt://127.0.0.1:${port}`);
    assert.match((error as Error).message, "check that the broker runs");
  }
});

aedes.run();

const mosquitto = suite("mqtt publisher with mosquitto");

mosquitto("mosquitto speaks mqtt 5", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  try {
    const { client, messages } = await subscriber(broker.url, topicFor("plant-a", "gw-1", "alerts"), 5);
    const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1" });
    assert.is(publisher.protocolVersion, 5);
    await publisher.publishAlert(sampleAlert("plant-a", "gw-1"));
    await publisher.close();
    await until(() => messages.length === 1, "the alert");
    assert.is(messages[0].packet.properties?.contentType, "application/json");
    await client.endAsync();
  } finally {
    await broker.stop();
  }
});

mosquitto("publisher resends after broker restart", async () => {
  const first = await startMosquitto();
  if (!first) return;
  let second: Awaited<ReturnType<typeof startMosquitto>>;
  const publisher = await GatewayPublisher.connect({ url: first.url, site: "plant-a", gateway: "gw-1" });
  try {
    await first.stop();
    // Published while the broker is down: mqtt.js keeps the message until it
    // reconnects, and the acknowledgement arrives from the new broker.
    const alert = sampleAlert("plant-a", "gw-1");
    const acknowledged = publisher.publishAlert(alert);
    second = await startMosquitto(first.port);
    const { client, messages } = await subscriber(second!.url, topicFor("plant-a", "gw-1", "alerts"));
    await acknowledged;
    assert.is(publisher.stats.alertsPublished, 1);
    // The subscriber may have connected after the resend; publish once more
    // to see the path end to end on the new broker.
    await publisher.publishAlert(alert);
    await until(() => messages.length >= 1, "an alert on the restarted broker");
    assert.is(JSON.parse(messages[0].payload).id, alert.id);
    await client.endAsync();
  } finally {
    await publisher.close();
    await second?.stop();
  }
});

mosquitto.run();
