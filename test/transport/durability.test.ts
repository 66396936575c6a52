import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { topicFor } from "../../agent/src/publish/mqtt.js";
import { Outbox } from "../../agent/src/publish/outbox.js";
import { Publisher } from "../../agent/src/publish/publisher.js";
import { Correlator } from "../../correlator/src/service.js";
import { mosquittoAvailable, startTransportBroker } from "./broker.js";
import { numberedAlert, temporaryDir, until } from "./helpers.js";

const OUTAGE_MS = 30_000;
const CHILD = fileURLToPath(new URL("./agent-child.ts", import.meta.url));

test("broker outage mid-replay delivers each alert once", async () => {
  if (!mosquittoAvailable()) return;
  const tmp = temporaryDir("durability");
  const broker = await startTransportBroker({ dir: tmp.dir, persistence: true });
  const outboxDir = join(tmp.dir, "outbox");
  const count = 2000;
  let correlator: Correlator | undefined;
  let publisher: Publisher | undefined;
  try {
    // The journal an agent left behind when it stopped during a long outage.
    const journal = new Outbox({ dir: outboxDir });
    for (let i = 0; i < count; i++) journal.append(topicFor("plant-a", "gw-1", "alerts"), Buffer.from(JSON.stringify(numberedAlert(i))), 50);
    journal.close();

    correlator = await Correlator.start({ url: broker.url, dbPath: join(tmp.dir, "c.db"), clientId: "correlator-outage" });
    publisher = await Publisher.start({
      url: broker.url, site: "plant-a", gateway: "gw-1", outboxDir, maxInFlight: 10, reconnectMinMs: 500, reconnectMaxMs: 4000,
    });
    const running = publisher;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (running.stats.alertsAcknowledged >= 200) {
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    await broker.stop();
    const leftAtStop = publisher.outbox.depth;
    assert.ok(leftAtStop > 0, "the replay finished before the broker stopped");
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    assert.ok(!publisher.connected);
    assert.is(publisher.outbox.depth, leftAtStop, "alerts left the outbox while the broker was down");
    await broker.restart();

    await publisher.drain();
    assert.ok(publisher.stats.reconnects >= 1, "no reconnect counted");
    const store = correlator;
    await until(async () => (await store.store.countAlerts()) === count, `${count} alerts in the store`, 60_000);
    for (let i = 0; i < count; i++) assert.ok((await store.store.hasAlert(numberedAlert(i).id)), `alert ${i} missing`);
    // Copies come from the publisher's window (10) and from the broker's
    // window towards the correlator (Mosquitto's max_inflight_messages, 20 by
    // default), both resent after the restart; insert-or-ignore keeps one.
    assert.ok(store.stats.alertsDuplicate <= 30, `duplicates ${store.stats.alertsDuplicate} exceed the two windows of 10 and 20`);
  } finally {
    await publisher?.close(1000);
    await correlator?.stop();
    await broker.stop();
    tmp.remove();
  }
});

test("agent killed mid-publish loses nothing journaled", async () => {
  if (!mosquittoAvailable()) return;
  const tmp = temporaryDir("durability");
  const broker = await startTransportBroker({ dir: tmp.dir, persistence: true });
  const outboxDir = join(tmp.dir, "outbox");
  const count = 1500;
  let correlator: Correlator | undefined;
  try {
    correlator = await Correlator.start({ url: broker.url, dbPath: join(tmp.dir, "c.db"), clientId: "correlator-kill" });
    const store = correlator;

    const first = runChild(["publish", broker.url, outboxDir, String(count)]);
    try {
      await until(() => store.stats.alertsStored >= 200 || first.child.exitCode !== null, "200 alerts from the first agent", 60_000);
    } catch (error) {
      first.child.kill("SIGKILL");
      throw new Error(`${(error as Error).message}; agent output: ${first.errors() || "none"}`);
    }
    assert.is(first.child.exitCode, null, `the first agent exited early: ${first.errors()}`);
    first.child.kill("SIGKILL");
    await first.exited;
    const lastJournaled = first.lastJournaled();
    assert.ok(lastJournaled < count - 1, "the agent finished before it was killed");
    assert.ok(!first.output().includes("done"));

    const second = runChild(["replay", broker.url, outboxDir]);
    const code = await second.exited;
    assert.is(code, 0, `replay child failed: ${second.errors()}`);
    assert.match(second.output(), "drained");

    // Every journaled alert arrives; nothing beyond the journal was sent.
    await until(async () => (await store.store.countAlerts()) >= lastJournaled + 1, `alerts 0..${lastJournaled}`, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stored = (await store.store.countAlerts());
    for (let i = 0; i < stored; i++) assert.ok((await store.store.hasAlert(numberedAlert(i).id)), `alert ${i} missing`);
    assert.ok(stored <= count, `stored ${stored}`);
    // Copies come only from the agent's window open at the kill (50 messages).
    assert.ok(store.stats.alertsDuplicate <= 50, `duplicates ${store.stats.alertsDuplicate}`);
    assert.is(store.stats.alertsStored, stored);
  } finally {
    await correlator?.stop();
    await broker.stop();
    tmp.remove();
  }
});

function runChild(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => stdout,
    errors: () => stderr,
    lastJournaled: () => Math.max(-1, ...[...stdout.matchAll(/journaled (\d+)\n/g)].map((match) => Number(match[1]))),
  };
}

test.run();
