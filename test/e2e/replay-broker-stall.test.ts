// `fieldsense replay --broker` against a mock MQTT server on 127.0.0.1 that
// the test starts itself (node:net). One server replies to CONNECT with
// CONNACK and never sends a PUBACK, the other never replies at all. The replay
// must end within its timeouts, print the summary and exit with 1. The
// capture is the project's sample, test/fixtures/demo/plant-scene.pcap
// (Modbus polls, an SMB2 logon that starts a service, 5 alerts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server, type Socket } from "node:net";
import { main } from "../../agent/src/cli/main.js";
import { demoCapturePath } from "../../agent/src/config/paths.js";
import { GatewayPublisher } from "../../agent/src/publish/mqtt.js";
import { sampleAlert } from "../publish/samples.js";

const SAMPLE = demoCapturePath();
// Bounds each replay, so that a regression fails here instead of hanging the suite.
const TEST_DEADLINE_MS = 20_000;

// "connack-only" replies to CONNECT only; "first-puback" also acknowledges
// the first PUBLISH (the retained online status) and then stops.
type Behaviour = "connack-only" | "first-puback" | "silent";

interface MockBroker {
  url: string;
  connects: number;
  publishes: number;
  close: () => Promise<void>;
}

// MQTT control packet types: the high 4 bits of a packet's first byte.
const PACKET_CONNECT = 1;
const PACKET_PUBLISH = 3;

// Starts a server that reads MQTT packets. Unless "silent", it replies to each
// CONNECT with a CONNACK "accepted" in the client's protocol version.
async function startMockBroker(behaviour: Behaviour): Promise<MockBroker> {
  const sockets = new Set<Socket>();
  const broker: MockBroker = { url: "", connects: 0, publishes: 0, close: async () => undefined };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const packet = nextPacket(pending);
        if (!packet) break;
        pending = pending.subarray(packet.totalBytes);
        if (packet.type === PACKET_PUBLISH) {
          broker.publishes++;
          if (behaviour === "first-puback" && broker.publishes === 1) socket.write(pubackFor(packet.body));
          continue;
        }
        if (packet.type !== PACKET_CONNECT) continue;
        broker.connects++;
        if (behaviour === "silent") continue;
        // Variable header: protocol name (2-byte length + "MQTT"), then the protocol level.
        const level = packet.body[6];
        socket.write(level === 5 ? Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]) : Buffer.from([0x20, 0x02, 0x00, 0x00]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the mock broker has no TCP address");
  broker.url = `mqtt://127.0.0.1:${address.port}`;
  broker.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return broker;
}

// Splits one packet off the front of `bytes`: the fixed header's type and its
// remaining length (a variable byte integer), or undefined while incomplete.
function nextPacket(bytes: Buffer): { type: number; body: Buffer; totalBytes: number } | undefined {
  if (bytes.length < 2) return undefined;
  let length = 0;
  let multiplier = 1;
  let at = 1;
  for (;;) {
    if (at >= bytes.length || at > 4) return undefined;
    const byte = bytes[at++];
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) break;
  }
  if (bytes.length < at + length) return undefined;
  return { type: bytes[0] >> 4, body: bytes.subarray(at, at + length), totalBytes: at + length };
}

// PUBACK for a QoS 1 PUBLISH body: topic name (2-byte length, then the
// name) and the 2-byte packet identifier. A remaining length of 2 means
// "success" in MQTT 5 and is the whole PUBACK in 3.1.1.
function pubackFor(publishBody: Buffer): Buffer {
  const topicLength = publishBody.readUInt16BE(0);
  const packetId = publishBody.readUInt16BE(2 + topicLength);
  return Buffer.from([0x40, 0x02, packetId >> 8, packetId & 0xff]);
}

async function runWithin(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`fieldsense ${argv.join(" ")} still running after ${TEST_DEADLINE_MS} ms`)), TEST_DEADLINE_MS);
  });
  try {
    const code = await Promise.race([main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } }), deadline]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

test("replay broker never acknowledges", async () => {
  const broker = await startMockBroker("connack-only");
  try {
    const result = await runWithin(["replay", SAMPLE, "--broker", broker.url, "--timeout-ms", "300", "--site", "s", "--gateway", "g"]);
    assert.is(result.code, 1, result.stderr);
    assert.ok(broker.connects >= 1, "the replay never sent CONNECT");
    assert.ok(broker.publishes >= 1, "the replay never sent PUBLISH");
    assert.match(result.stderr, "125 packets", "no summary");
    assert.match(result.stderr, "alerts: 5");
    assert.match(result.stderr, "5 alerts were not acknowledged");
    assert.match(result.stderr, "within 300 ms");
    assert.match(result.stderr, "0 alerts and 0 records acknowledged");
    assert.match(result.stdout, "remote-service-svcctl", "the alerts are still printed");
  } finally {
    await broker.close();
  }
});

test("replay broker never answers connect", async () => {
  const broker = await startMockBroker("silent");
  try {
    const result = await runWithin(["replay", SAMPLE, "--broker", broker.url, "--timeout-ms", "300"]);
    assert.is(result.code, 1, result.stderr);
    assert.ok(broker.connects >= 1, "the replay never sent CONNECT");
    assert.match(result.stderr, "cannot connect to MQTT broker");
    assert.match(result.stderr, /connack timeout|no CONNACK within 300 ms/i);
  } finally {
    await broker.close();
  }
});

test("publisher window drains when stalled", async () => {
  const broker = await startMockBroker("first-puback");
  // One slot and six alerts: five wait for the slot while the first times out.
  const publisher = await GatewayPublisher.connect({ url: broker.url, site: "s", gateway: "g", maxInFlight: 1, ackTimeoutMs: 200 });
  try {
    const outcomes = Promise.allSettled(Array.from({ length: 6 }, () => publisher.publishAlert(sampleAlert("s", "g"))));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"hung">((resolve) => { timer = setTimeout(() => resolve("hung"), TEST_DEADLINE_MS); });
    const settled = await Promise.race([outcomes, deadline]);
    clearTimeout(timer);
    assert.is.not(settled, "hung", "alerts waiting for a window slot never settled");
    assert.is(publisher.stats.alertsUnacknowledged, 6);
    assert.is(publisher.stats.alertsPublished, 0);
  } finally {
    await publisher.close(300);
    await broker.close();
  }
});

test("replay timeout option validated", async () => {
  const result = await runWithin(["replay", SAMPLE, "--broker", "mqtt://127.0.0.1:1", "--timeout-ms", "0"]);
  assert.is(result.code, 2);
  assert.match(result.stderr, 'invalid --timeout-ms "0"');
});

test.run();
