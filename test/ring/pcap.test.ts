// Packets on demand end to end: a replay fills the ring, `fieldsense pcap`
// cuts the AT-job alert's session out of it, and a correlator fetches the
// same packets from a gateway through a real Mosquitto broker.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import type { Alert } from "../../agent/src/publish/alert.js";
import { PacketRing } from "../../agent/src/ring/ring.js";
import { flowKey } from "../../agent/src/ring/flow-key.js";
import { PcapResponder } from "../../agent/src/ring/responder.js";
import { fetchPcap, PcapResponseError } from "../../agent/src/ring/requester.js";
import { openStore } from "../../correlator/src/store.js";
import { capture } from "../helpers/captures.js";
import { startMosquitto } from "../correlator/mosquitto.js";
import { packetsOf, removeTempDirs, tempDir as newTempDir } from "./files.js";

const AT_JOB = "dcerpc/401trg_smb_at_schedule_atsvc.pcap";
const tempDir = () => newTempDir("fieldsense-pcap-");
test.after(removeTempDirs);

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

// Replays the AT-job capture into a new ring; returns the ring folder and the alert.
async function replayIntoRing(): Promise<{ ring: string; alert: Alert } | undefined> {
  const file = capture(AT_JOB);
  if (!file) return undefined;
  const ring = tempDir();
  const replay = await run(["replay", file, "--ring", ring, "--json"]);
  assert.is(replay.code, 0, replay.stderr);
  const alert = replay.stdout.trim().split("\n").map((line) => JSON.parse(line) as Alert).find((a) => a.model === "remote-task-atsvc");
  assert.ok(alert, "the AT-job capture raises remote-task-atsvc");
  return { ring, alert: alert! };
}

test("fieldsense pcap --alert writes exactly the alert's session", async () => {
  const filled = await replayIntoRing();
  if (!filled) return;
  const out = join(tempDir(), "at-job.pcapng");
  const result = await run(["pcap", "--ring", filled.ring, "--alert", filled.alert.id, "-o", out]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`wrote \\d+ packets to ${out} \\(Fieldsense packet ring: alert ${filled.alert.id} \\(model remote-task-atsvc`));

  const key = flowKey(filled.alert.transport, filled.alert.src, filled.alert.dst);
  const original = (await packetsOf(capture(AT_JOB)!)).filter((p) => p.key === key).map((p) => Buffer.from(p.bytes).toString("hex"));
  const written = (await packetsOf(out)).map((p) => Buffer.from(p.bytes).toString("hex"));
  assert.ok(original.length > 0);
  assert.equal(written, original);

  // tshark reads the file and lists the same packets as the original session.
  if (existsSync("/usr/bin/tshark")) {
    const filter = `tcp.port == ${filled.alert.src.port} && ip.addr == ${filled.alert.dst.ip}`;
    const fromOriginal = execFileSync("tshark", ["-r", capture(AT_JOB)!, "-Y", filter, "-T", "fields", "-e", "frame.len"], { encoding: "utf8" });
    const fromExport = execFileSync("tshark", ["-r", out, "-T", "fields", "-e", "frame.len", "-e", "frame.comment"], { encoding: "utf8" });
    assert.equal(fromExport.trim().split("\n").map((l) => l.split("\t")[0]), fromOriginal.trim().split("\n"));
    assert.match(fromExport, /Fieldsense packet ring: alert/);
  } else {
    console.log("  skipped: tshark check (tshark not installed)");
  }
});

test("fieldsense pcap says what the ring holds when nothing matches", async () => {
  const filled = await replayIntoRing();
  if (!filled) return;
  const out = join(tempDir(), "none.pcapng");
  const unknown = await run(["pcap", "--ring", filled.ring, "--alert", "0123abcd", "-o", out]);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /alert 0123abcd is not in the packet ring of .*; ask with --flow and --from\/--to instead/);
  const outside = await run(["pcap", "--ring", filled.ring, "--host", "192.168.10.31", "--from", "2030-01-01T00:00:00Z", "-o", out]);
  assert.is(outside.code, 1);
  assert.match(outside.stderr, /no packets in the packet ring match the request \(the ring holds 2017-10-20T18:43:\d\d\.000Z to 2017-10-20T18:43:\d\d\.000Z\)/);
  assert.not.ok(existsSync(out), "no file is left behind");
  const usage = await run(["pcap", "--ring", filled.ring, "-o", out]);
  assert.is(usage.code, 2);
  assert.match(usage.stderr, /needs a selection: --alert ID, --flow FLOW, --host IP or --from\/--to/);
  const intoRing = await run(["pcap", "--ring", filled.ring, "--host", "192.168.10.31", "-o", join(filled.ring, "00000001.seg")]);
  assert.is(intoRing.code, 2);
  assert.match(intoRing.stderr, /lies inside the packet ring .*; write the pcapng somewhere else/);
  assert.is(PacketRing.open(filled.ring, undefined, { readOnly: true }).stats().packetsStored, 20, "the ring is intact");
  const badTime = await run(["pcap", "--ring", filled.ring, "--from", "yesterday", "-o", out]);
  assert.match(badTime.stderr, /invalid --from "yesterday": give an ISO 8601 time/);
});

test("a correlator fetches an alert's packets from the gateway over Mosquitto", async () => {
  const filled = await replayIntoRing();
  if (!filled) return;
  const broker = await startMosquitto();
  if (!broker) return;
  const ring = PacketRing.open(filled.ring);
  const site = filled.alert.site;
  const gateway = filled.alert.gateway;
  // Small chunks, so that the response comes in several messages.
  const responder = await PcapResponder.start(broker.url, {}, ring, { site, gateway, requesters: ["correlator"], chunkBytes: 4096 });
  try {
    const fetched = await fetchPcap({ url: broker.url, site, gateway, requester: "correlator", request: { alert: filled.alert.id }, timeoutMs: 10_000 });
    const out = join(tempDir(), "fetched.pcapng");
    const local = await run(["pcap", "--ring", filled.ring, "--alert", filled.alert.id, "-o", out]);
    assert.is(local.code, 0);
    assert.ok(fetched.bytes.length > 4096, "more than one chunk");
    assert.equal(fetched.bytes, readFileSync(out), "the same pcapng as fieldsense pcap writes");

    // Refused: a requester the gateway does not name.
    try {
      await fetchPcap({ url: broker.url, site, gateway, requester: "intruder", request: { alert: filled.alert.id }, timeoutMs: 10_000 });
      assert.unreachable("an unnamed requester is refused");
    } catch (error) {
      assert.instance(error, PcapResponseError);
      assert.is((error as PcapResponseError).status, "refused");
      assert.match((error as Error).message, /requester "intruder" may not ask gateway .* for packets; add it to pcap_requests\.requesters/);
    }
    // Packets the gateway no longer has.
    try {
      await fetchPcap({ url: broker.url, site, gateway, requester: "correlator", request: { alert: "00ff00ff" }, timeoutMs: 10_000 });
      assert.unreachable("an unknown alert is not found");
    } catch (error) {
      assert.is((error as PcapResponseError).status, "not_found");
    }

    // Through the correlator's command: the capture lands beside the store.
    const data = tempDir();
    const db = join(data, "fieldsense.db");
    const store = await openStore(db);
    await store.insertAlert(filled.alert);
    const incidentId = (await store.alert(filled.alert.id))!.incidentId;
    await store.close();
    const stored = await run(["correlator", "pcap", filled.alert.id, "--db", db, "--broker", broker.url, "--json"]);
    assert.is(stored.code, 0, stored.stderr);
    const meta = JSON.parse(stored.stdout);
    assert.is(meta.file, join(data, "captures", `incident-${incidentId}`, `${filled.alert.id}.pcapng`));
    assert.equal(readFileSync(meta.file), readFileSync(out));
    assert.is(meta.sha256, fetched.sha256);
    const refused = await run(["correlator", "pcap", filled.alert.id, "--db", db, "--broker", broker.url, "--requester", "intruder"]);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /answered refused/);
  } finally {
    await responder.close();
    ring.close();
    await broker.stop();
  }
});

test.run();
