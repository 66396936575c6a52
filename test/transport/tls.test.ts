import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { Publisher } from "../../agent/src/publish/publisher.js";
import { Correlator } from "../../correlator/src/service.js";
import { mosquittoAvailable, startTransportBroker } from "./broker.js";
import { makeCertificateAuthority, opensslAvailable } from "./certificates.js";
import { numberedAlert, temporaryDir, until } from "./helpers.js";

const ACL = readFileSync(new URL("../../deploy/mosquitto/acl.example", import.meta.url), "utf8");

test("tls client certificates and gateway acl", async () => {
  if (!mosquittoAvailable() || !opensslAvailable()) return;
  const tmp = temporaryDir("tls");
  const authority = makeCertificateAuthority(tmp.dir);
  const server = authority.issue("broker", { ip: "127.0.0.1" });
  const gateway = authority.issue("gw-1");
  const correlatorIdentity = authority.issue("correlator");
  const broker = await startTransportBroker({
    dir: tmp.dir, acl: ACL,
    tls: { caFile: authority.caFile, certFile: server.certFile, keyFile: server.keyFile, requireCertificate: true },
  });
  let correlator: Correlator | undefined;
  let honest: Publisher | undefined;
  let impostor: Publisher | undefined;
  try {
    assert.match(broker.url, /^mqtts:\/\//);
    correlator = await Correlator.start({ url: broker.url, ...correlatorIdentity, dbPath: join(tmp.dir, "c.db"), clientId: "correlator-tls" });

    honest = await Publisher.start({ url: broker.url, ...gateway, site: "plant-a", gateway: "gw-1", outboxDir: join(tmp.dir, "outbox-1") });
    const ownAlert = numberedAlert(1, "plant-a", "gw-1");
    honest.publish(ownAlert);
    await honest.drain();
    assert.is(honest.protocolVersion, 5);
    assert.is(honest.stats.alertsAcknowledged, 1);

    // gw-1's certificate used to publish as gw-2: the ACL denies the topic and
    // Mosquitto replies with PUBACK reason code 0x87 (not authorized).
    impostor = await Publisher.start({ url: broker.url, ...gateway, site: "plant-a", gateway: "gw-2", outboxDir: join(tmp.dir, "outbox-2") });
    impostor.publish(numberedAlert(2, "plant-a", "gw-2"));
    await impostor.drain();
    assert.is(impostor.stats.alertsRejected, 1);
    assert.is(impostor.stats.alertsAcknowledged, 0);
    assert.is(impostor.outbox.depth, 0);

    const store = correlator;
    await until(async () => (await store.store.hasAlert(ownAlert.id)), "the alert of gw-1");
    // One more round trip through the broker, so a leaked gw-2 alert would have arrived.
    const marker = numberedAlert(3, "plant-a", "gw-1");
    honest.publish(marker);
    await until(async () => (await store.store.hasAlert(marker.id)), "the marker alert");
    assert.not.ok((await store.store.hasAlert(numberedAlert(2).id)), "alert published under another gateway's topic was stored");
    assert.is((await store.store.countAlerts()), 2);

    // Without a client certificate the TLS handshake fails.
    const anonymous = mqtt.connectAsync(broker.url, { ca: readFileSync(authority.caFile), reconnectPeriod: 0, connectTimeout: 3000 });
    let refused = false;
    try {
      const client = await anonymous;
      await client.endAsync();
    } catch {
      refused = true;
    }
    assert.ok(refused, "a client without a certificate connected");
  } finally {
    await impostor?.close(500);
    await honest?.close(1000);
    await correlator?.stop();
    await broker.stop();
    tmp.remove();
  }
});

test.run();
