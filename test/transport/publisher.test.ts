import { suite } from "uvu";
import * as assert from "uvu/assert";
import { request } from "node:http";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Aedes } from "aedes";
import pino from "pino";
import { startBroker } from "../../agent/src/publish/embedded-broker.js";
import { topicFor } from "../../agent/src/publish/mqtt.js";
import { Publisher, publisherClientId } from "../../agent/src/publish/publisher.js";
import { loadValidators } from "../../agent/src/publish/schemas.js";
import { mosquittoAvailable, startTransportBroker, type TransportBroker } from "./broker.js";
import { alertIndex, numberedAlert, subscribe, temporaryDir, until } from "./helpers.js";

const mosquitto = suite("publisher with mosquitto");

mosquitto("mqtt 5 properties status and metrics", () => withMosquitto(async (broker, { outboxDir, defer }) => {
  const { client, messages } = await subscribe(broker.url, "fieldsense/v1/plant-a/gw-1/#", { protocolVersion: 5 });
  const publisher = await Publisher.start({
    url: broker.url, site: "plant-a", gateway: "gw-1", outboxDir,
    version: "9.8.7", metricsIntervalMs: 200, metricsPort: 0, counters: () => ({ packets: 1234 }),
  });
  defer(() => publisher.close(1000));
  await publisher.whenConnected();
  assert.is(publisher.protocolVersion, 5);
  const alert = numberedAlert(1);
  assert.ok(publisher.publish(alert));
  await publisher.drain();

  await until(() => messages.some((m) => m.topic.endsWith("/alerts")), "the alert");
  const received = messages.find((m) => m.topic === topicFor("plant-a", "gw-1", "alerts"))!;
  const body = JSON.parse(received.payload.toString());
  assert.equal(body, alert);
  assert.ok(loadValidators().alert(body).valid, "alert on the wire does not match the schema");
  assert.is(received.packet.qos, 1);
  assert.is(received.packet.properties?.contentType, "application/json");
  assert.is(received.packet.properties?.payloadFormatIndicator, true);
  assert.is(received.packet.properties?.userProperties?.schema, "fieldsense.alert");
  assert.is(received.packet.properties?.userProperties?.schema_version, "1");
  const expiry = received.packet.properties?.messageExpiryInterval ?? 0;
  assert.ok(expiry > 7 * 24 * 3600 - 60, `message expiry ${expiry}`);
  assert.ok(expiry <= 7 * 24 * 3600, `message expiry ${expiry}`);

  await until(() => messages.some((m) => m.topic.endsWith("/metrics")), "a metrics message");
  const metrics = JSON.parse(messages.find((m) => m.topic.endsWith("/metrics"))!.payload.toString());
  assert.is(metrics.alerts_acknowledged, 1);
  assert.is(metrics.outbox_depth, 0);
  assert.is(metrics.packets, 1234);

  const status = JSON.parse(messages.filter((m) => m.topic.endsWith("/status")).at(-1)!.payload.toString());
  assert.is(status.state, "online");
  assert.is(status.version, "9.8.7");
  assert.type(status.uptime_s, "number");
  assert.type(status.counters.reconnects, "number");

  const text = await httpGet(`http://127.0.0.1:${publisher.metricsPort}/metrics`);
  assert.match(text, '# TYPE fieldsense_alerts_acknowledged_total counter');
  assert.match(text, 'fieldsense_alerts_acknowledged_total{site="plant-a",gateway="gw-1"} 1');
  assert.match(text, 'fieldsense_outbox_depth{site="plant-a",gateway="gw-1"} 0');
  assert.match(text, 'fieldsense_packets_total{site="plant-a",gateway="gw-1"} 1234');
  assert.match(text, 'fieldsense_broker_connected{site="plant-a",gateway="gw-1"} 1');
  await client.endAsync();
}));

mosquitto("close leaves unacknowledged in journal", () => withMosquitto(async (broker, { outboxDir }) => {
  const offline = await Publisher.start({ url: broker.url, site: "plant-a", gateway: "gw-1", outboxDir, reconnectMinMs: 50 });
  await offline.whenConnected();
  await broker.stop();
  for (let i = 0; i < 5; i++) offline.publish(numberedAlert(i));
  assert.is(await offline.close(100), 5);

  await broker.restart();
  const { client, messages } = await subscribe(broker.url, topicFor("plant-a", "gw-1", "alerts"));
  const online = await Publisher.start({ url: broker.url, site: "plant-a", gateway: "gw-1", outboxDir });
  assert.is(online.outbox.stats.replayed, 5);
  await online.drain();
  assert.is(await online.close(), 0);
  await until(() => messages.length === 5, "the 5 journaled alerts");
  assert.equal(messages.map((m) => alertIndex(JSON.parse(m.payload.toString()).id)), [0, 1, 2, 3, 4]);
  await client.endAsync();
}));

mosquitto("burst of 100000 alerts", () => withMosquitto(async (broker, { outboxDir, defer }) => {
  const count = 100_000;
  const maxInFlight = 500;
  const { client, messages } = await subscribe(broker.url, topicFor("plant-a", "gw-1", "alerts"));
  const publisher = await Publisher.start({
    url: broker.url, site: "plant-a", gateway: "gw-1", outboxDir,
    maxInFlight, outboxMaxBytes: 256 * 1024 * 1024, fsync: "interval",
  });
  defer(() => publisher.close(1000));
  await publisher.whenConnected();
  for (let i = 0; i < count; i++) assert.ok(publisher.publish(numberedAlert(i)));
  // More than 65,535 acknowledgements pass through one connection: mqtt.js
  // reuses packet ids, which works only while fewer than 65,535 are open.
  await publisher.drain();
  assert.is(publisher.stats.alertsAcknowledged, count);
  assert.ok(publisher.stats.peakInFlight <= maxInFlight, `peak in flight ${publisher.stats.peakInFlight}`);
  assert.ok(publisher.stats.peakInFlight > 1, "the window was never used");
  assert.is(publisher.stats.reconnects, 0);
  assert.is(publisher.outbox.depth, 0);
  assert.ok(publisher.outbox.stats.compactions > 0, "journal never compacted");
  await until(() => messages.length >= count, `${count} alerts at the subscriber`, 60_000);
  const seen = new Set(messages.map((m) => alertIndex(JSON.parse(m.payload.toString()).id)));
  assert.is(seen.size, count);
  await client.endAsync();
}));

mosquitto("half-open link detected by keep-alive", () => withMosquitto(async (broker, { outboxDir, defer }) => {
  const proxy = await startFreezableProxy(broker.port);
  defer(() => proxy.close());
  const publisher = await Publisher.start({
    url: `mqtt://127.0.0.1:${proxy.port}`, site: "plant-a", gateway: "gw-1", outboxDir,
    keepaliveSec: 1, reconnectMinMs: 100, reconnectMaxMs: 200,
  });
  defer(() => publisher.close(1000));
  await publisher.whenConnected();
  // Bytes stop flowing both ways but no FIN or RST arrives: a half-open link.
  proxy.freeze();
  const frozenAt = Date.now();
  publisher.publish(numberedAlert(1));
  await until(() => publisher.stats.keepaliveTimeouts === 1, "the keep-alive timeout", 5000);
  const detectedMs = Date.now() - frozenAt;
  // 1.5 intervals after the last packet received, plus slack for timers
  // delayed on a loaded machine.
  assert.ok(detectedMs <= 2500, `half-open link found after ${detectedMs} ms with keep-alive 1 s`);
  proxy.thaw();
  await until(() => publisher.stats.reconnects === 1 && publisher.outbox.depth === 0, "reconnect and delivery");
}));

mosquitto("same gateway name at two sites", () => withMosquitto(async (broker, { outboxDir, defer }) => {
  const { client, messages } = await subscribe(broker.url, "fieldsense/v1/+/gw-1/alerts");
  defer(() => client.endAsync());
  const start = async (site: string) => {
    const publisher = await Publisher.start({ url: broker.url, site, gateway: "gw-1", outboxDir: join(outboxDir, site), reconnectMinMs: 50 });
    defer(() => publisher.close(1000));
    await publisher.whenConnected();
    return publisher;
  };
  const east = await start("plant-east");
  const west = await start("plant-west");
  for (let i = 0; i < 20; i++) {
    east.publish(numberedAlert(i, "plant-east"));
    west.publish(numberedAlert(i, "plant-west"));
    await new Promise((done) => setTimeout(done, 10));
  }
  await until(() => messages.length === 40, "20 alerts from each site");
  // One shared client id would make the broker end one session each time the other connects.
  assert.is(east.stats.reconnects, 0);
  assert.is(west.stats.reconnects, 0);
}));

mosquitto.run();

const clientIds = suite("publisher client id");

clientIds("distinct per site and gateway", () => {
  assert.is(publisherClientId("plant-a", "gw-1"), "fieldsense/plant-a/gw-1");
  assert.is.not(publisherClientId("a-b", "c"), publisherClientId("a", "b-c"));
});

clientIds("long names stay distinct within 64", () => {
  const site = "s".repeat(60);
  const first = publisherClientId(site, "gateway-1");
  const second = publisherClientId(site, "gateway-2");
  assert.ok(first.length <= 64, `${first.length} characters`);
  assert.is.not(first, second);
});

clientIds.run();

const aedes = suite("publisher with aedes");

aedes("mqtt 3.1.1 fallback delivers journaled alerts", () => withCleanup(async ({ outboxDir, defer }) => {
  const broker = await startBroker();
  defer(() => broker.close());
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const { client, messages } = await subscribe(url, topicFor("plant-a", "gw-1", "alerts"));
  const publisher = await Publisher.start({ url, site: "plant-a", gateway: "gw-1", outboxDir });
  defer(() => publisher.close(1000));
  for (let i = 0; i < 50; i++) publisher.publish(numberedAlert(i));
  await publisher.drain();
  assert.is(publisher.protocolVersion, 4);
  await until(() => messages.length === 50, "50 alerts");
  assert.equal(messages.map((m) => alertIndex(JSON.parse(m.payload.toString()).id)), Array.from({ length: 50 }, (_, i) => i));
  assert.is(messages[0].packet.properties, undefined);
  await client.endAsync();
}));

aedes("outbox full counted in status", () => withCleanup(async ({ outboxDir, defer }) => {
  const broker = await startBroker();
  defer(() => broker.close());
  // No broker reachable at first: port 1 on loopback refuses connections.
  const publisher = await Publisher.start({
    url: "mqtt://127.0.0.1:1", site: "plant-a", gateway: "gw-1", outboxDir,
    outboxMaxBytes: 4096, reconnectMinMs: 10_000,
  });
  defer(() => publisher.close(100));
  let accepted = 0;
  for (let i = 0; i < 20; i++) if (publisher.publish(numberedAlert(i))) accepted++;
  const counters = publisher.counters();
  assert.ok(counters.alerts_dropped_outbox_full > 0, "no drop counted");
  assert.is(counters.alerts_dropped_outbox_full + counters.outbox_depth, 20);
  assert.ok(counters.outbox_bytes <= 4096, `outbox bytes ${counters.outbox_bytes}`);
  assert.ok(accepted >= counters.outbox_depth);
  // The highest scores stay: numberedAlert scores 40 + index % 60.
  const kept = [...publisher.outbox.waiting()].map((entry) => entry.score);
  assert.ok(Math.min(...kept) >= 40 + 20 - counters.outbox_depth, `kept scores ${kept}`);
}));

aedes("password sent but never logged", async () => {
  const secret = "pl4nt-s3cret-password";
  const received: Array<{ username?: string; password?: string }> = [];
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      received.push({ username, password: password?.toString() });
      done(null, username === "gw-1" && password?.toString() === secret);
    },
  });
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tmp = temporaryDir("publisher");
  let log = "";
  const logger = pino({ level: "trace" }, new Writable({ write(chunk: Buffer, _encoding, done) { log += chunk.toString(); done(); } }));
  let publisher: Publisher | undefined;
  process.env.FIELDSENSE_TEST_MQTT_PASSWORD = secret;
  try {
    publisher = await Publisher.start({
      url, site: "plant-a", gateway: "gw-1", outboxDir: join(tmp.dir, "outbox"), logger,
      username: "gw-1", passwordEnv: "FIELDSENSE_TEST_MQTT_PASSWORD",
    });
    await publisher.whenConnected();
    publisher.publish(numberedAlert(1));
    await publisher.drain();
    await publisher.close();
    publisher = undefined;
    assert.equal(received.at(-1), { username: "gw-1", password: secret });
    assert.match(log, "connected to MQTT broker");
    assert.not.match(log, secret);
  } finally {
    delete process.env.FIELDSENSE_TEST_MQTT_PASSWORD;
    await publisher?.close(100);
    await new Promise<void>((resolve) => broker.close(() => server.close(() => resolve())));
    tmp.remove();
  }
});

aedes("close ends a pending dial", async () => {
  // A server that accepts TCP connections and never sends a CONNACK.
  const sockets: Socket[] = [];
  let closed = 0;
  const silent = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.on("close", () => { closed++; });
    // Reading lets the end of the stream arrive.
    socket.resume();
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
  const tmp = temporaryDir("publisher");
  try {
    const publisher = await Publisher.start({
      url: `mqtt://127.0.0.1:${(silent.address() as AddressInfo).port}`, site: "plant-a", gateway: "gw-1",
      outboxDir: join(tmp.dir, "outbox"), connectTimeoutMs: 60_000,
    });
    publisher.publish(numberedAlert(1));
    await until(() => sockets.length === 1, "the dial");
    assert.is(await publisher.close(50), 1);
    await until(() => closed === 1, "the dialled socket to close", 2000);
    assert.not.ok(publisher.connected);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    tmp.remove();
  }
});

aedes("invalid settings rejected", async () => {
  const tmp = temporaryDir("publisher");
  try {
    const base = { url: "mqtt://127.0.0.1:1", site: "plant-a", gateway: "gw-1", outboxDir: tmp.dir };
    await assertRejects(Publisher.start({ ...base, maxInFlight: 70_000 }), "invalid maxInFlight 70000");
    await assertRejects(Publisher.start({ ...base, gateway: "gw/1" }), 'invalid gateway "gw/1"');
    await assertRejects(Publisher.start({ ...base, keepaliveSec: 0 }), "invalid keepaliveSec 0");
    await assertRejects(Publisher.start({ ...base, url: "mqtt://gw:secret@broker.plant:1883" }), "contains a password");
  } finally {
    tmp.remove();
  }
});

aedes.run();

interface TestScope {
  outboxDir: string;
  // Adds a cleanup step. The steps run in reverse order after the test
  // body, whether it passed or failed.
  defer(step: () => unknown): void;
}

// Runs a test body with an outbox folder in a new temporary folder, then
// its cleanup steps, then removes the folder.
async function withCleanup(body: (scope: TestScope) => Promise<void>): Promise<void> {
  const tmp = temporaryDir("publisher");
  const steps: Array<() => unknown> = [];
  try {
    await body({ outboxDir: join(tmp.dir, "outbox"), defer: (step) => { steps.push(step); } });
  } finally {
    for (const step of steps.reverse()) await step();
    tmp.remove();
  }
}

// Runs a test body against a new Mosquitto broker, stopped after the
// body's own cleanup steps. Does nothing where Mosquitto is not installed.
async function withMosquitto(body: (broker: TransportBroker, scope: TestScope) => Promise<void>): Promise<void> {
  if (!mosquittoAvailable()) return;
  await withCleanup(async (scope) => {
    const broker = await startTransportBroker();
    scope.defer(async () => {
      await broker.stop();
      broker.cleanUp();
    });
    await body(broker, scope);
  });
}

async function assertRejects(promise: Promise<unknown>, message: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.match((error as Error).message, message);
    return;
  }
  assert.unreachable(`accepted settings that should fail with "${message}"`);
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => { body += chunk.toString(); });
      response.on("end", () => resolve(body));
    }).on("error", reject).end();
  });
}

// A TCP proxy on loopback that can stop forwarding without closing sockets,
// which looks to both ends like a link that went silent.
async function startFreezableProxy(targetPort: number): Promise<{ port: number; freeze(): void; thaw(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    if (frozen) {
      inbound.destroy();
      return;
    }
    const outbound = new (inbound.constructor as typeof Socket)();
    outbound.connect(targetPort, "127.0.0.1");
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => { sockets.delete(socket); inbound.destroy(); outbound.destroy(); });
    }
    inbound.on("data", (chunk) => { if (!frozen) outbound.write(chunk); });
    outbound.on("data", (chunk) => { if (!frozen) inbound.write(chunk); });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => { frozen = true; },
    thaw: () => {
      frozen = false;
      // The silent connections stay dead, as after a real outage.
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
