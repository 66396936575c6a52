// The agent capturing live on the loopback interface: a Modbus master polls
// a device, a second client writes a register, the agent raises an alert,
// and the CLI reports status, alerts and assets from the running agent. One
// agent process serves every check, because starting one loads the core.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModbusClient, startModbusServer, type ModbusServer } from "./modbus-peers.js";
import {
  missingLivePrerequisite, nobodyUid, POLL_INTERVAL_MS, POLLS, runCli as run, spawnCli, startAgent, uidOf, waitFor, writeAgentConfig,
} from "./live-agent.js";

// A loopback address of its own per run, so that parallel runs and other
// tests using port 502 on 127.0.0.1 do not meet.
async function freeLoopbackBase(): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once("error", () => resolve(false));
      probe.listen(502, `${base}.2`, () => probe.close(() => resolve(true)));
    });
    if (free) return base;
  }
  throw new Error("no free loopback address for port 502 after 20 attempts");
}

test("agent live on loopback", async () => {
  const missing = missingLivePrerequisite();
  if (missing) {
    console.log(`  skipped agent live on loopback: ${missing}`);
    return;
  }
  const base = await freeLoopbackBase();
  const device = `${base}.2`;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-live-"));
  const { config, socket } = writeAgentConfig(dir, [
    "site: lab",
    "gateway: live-test",
    "capture:",
    "  interface: lo",
    `  filter: "host ${device} and tcp port 502"`,
    "  batch_interval_ms: 50",
  ]);

  let agent: ChildProcess | undefined;
  let server: ModbusServer | undefined;
  try {
    server = await startModbusServer(device);
    const running = await startAgent(["--config", config]);
    agent = running.child;
    const stdout = running.stdout;
    assert.match(stdout(), '"agent running"', `agent did not start: ${stdout()}${running.stderr()}`);

    // Privilege drop: the capture is open, and the process runs as nobody.
    const nobody = nobodyUid()!;
    assert.is(uidOf(agent.pid!), nobody);

    const master = await ModbusClient.connect(device, 502, `${base}.3`);
    for (let i = 0; i < POLLS; i++) {
      await master.readHoldingRegisters(1, 0, 4);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    const rogue = await ModbusClient.connect(device, 502, `${base}.4`);
    const echo = await rogue.writeSingleRegister(1, 40, 1234);
    assert.is(echo[7], 6, "the device echoes the write");
    await master.close();
    await rogue.close();

    await waitFor("the alert", async () => {
      const status = await run("status", "--socket", socket, "--json");
      return status.code === 0 && (JSON.parse(status.stdout) as { core: { alerts: number } }).core.alerts >= 1;
    });
    await waitFor("the broker's acknowledgement", async () => {
      const status = await run("status", "--socket", socket, "--json");
      return (JSON.parse(status.stdout) as { broker: { alerts_acknowledged: number } }).broker.alerts_acknowledged >= 1;
    });

    const status = await run("status", "--socket", socket, "--json");
    assert.is(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as {
      agent: { uid: number; gateway: string };
      capture: { interface: string; packets: number; received: number; dropped: number };
      broker: { embedded: boolean; connected: boolean; alerts_acknowledged: number; outbox: number };
      core: { records_by_type: Record<string, number> };
      ring: { enabled: boolean; packets: number; responder: boolean };
    };
    assert.is(parsed.agent.uid, nobody);
    assert.is(parsed.agent.gateway, "live-test");
    assert.is(parsed.capture.interface, "lo");
    assert.ok(parsed.capture.packets >= POLLS * 2 + 2, `only ${parsed.capture.packets} packets captured`);
    assert.ok(parsed.capture.received >= parsed.capture.packets, "libpcap counts at least the packets handed on");
    assert.is(parsed.capture.dropped, 0);
    assert.is(parsed.broker.embedded, true);
    assert.is(parsed.broker.connected, true);
    assert.is(parsed.broker.alerts_acknowledged, 1);
    assert.is(parsed.broker.outbox, 0);
    assert.ok((parsed.core.records_by_type.modbus ?? 0) >= POLLS * 2 + 2, JSON.stringify(parsed.core));
    // The packet ring keeps what the agent captured, and the alert's packets
    // can be cut out of it while the agent runs.
    assert.is(parsed.ring.enabled, true);
    assert.is(parsed.ring.packets, parsed.capture.packets);
    const alertId = (JSON.parse((await run("alerts", "--socket", socket, "--json")).stdout.trim().split("\n")[0]) as { id: string }).id;
    const slice = join(dir, "alert.pcapng");
    const cut = await run("pcap", "--config", config, "--alert", alertId, "-o", slice);
    assert.is(cut.code, 0, cut.stderr);
    assert.match(cut.stdout, /wrote \d+ packets to /);

    const text = await run("status", "--socket", socket);
    assert.is(text.code, 0);
    assert.match(text.stdout, "capture   lo filter");
    assert.not.match(text.stdout, "\x1b[", "no colour outside a terminal");

    const alerts = await run("alerts", "--socket", socket, "--json");
    assert.is(alerts.code, 0, alerts.stderr);
    const lines = alerts.stdout.trim().split("\n").map((line) => JSON.parse(line) as { model: string; src: { ip: string }; dst: { ip: string; port: number }; evidence: Record<string, unknown> });
    assert.is(lines.length, 1, alerts.stdout);
    assert.is(lines[0].model, "modbus-write-not-master");
    assert.is(lines[0].src.ip, `${base}.4`);
    assert.is(lines[0].dst.ip, device);
    assert.is(lines[0].evidence.function_code, 6);

    const future = await run("alerts", "--socket", socket, "--json", "--since", "2099-01-01T00:00:00Z");
    assert.is(future.stdout, "");

    const follow = spawnCli(["alerts", "--follow", "--json", "--socket", socket]);
    let followed = "";
    follow.stdout!.on("data", (chunk: Buffer) => { followed += chunk.toString(); });
    const followExit = new Promise<number | null>((resolve) => follow.once("exit", (code) => resolve(code)));
    await waitFor("alerts --follow output", () => followed.includes("\n"));
    follow.kill("SIGINT");
    assert.is(await followExit, 0);
    assert.match(followed, "modbus-write-not-master");

    const assets = await run("assets", "--socket", socket, "--json");
    assert.is(assets.code, 0, assets.stderr);
    const list = JSON.parse(assets.stdout) as { ip: string; server_ports: number[]; protocols: string[]; modbus?: { role: string[]; unit_ids: number[]; function_codes: number[] } }[];
    const deviceAsset = list.find((asset) => asset.ip === device);
    assert.ok(deviceAsset, assets.stdout);
    assert.equal(deviceAsset!.server_ports, [502]);
    assert.equal(deviceAsset!.protocols, ["modbus"]);
    assert.equal(deviceAsset!.modbus?.role, ["device"]);
    assert.equal(deviceAsset!.modbus?.unit_ids, [1]);
    assert.equal(deviceAsset!.modbus?.function_codes, [3, 6]);
    const rogueAsset = list.find((asset) => asset.ip === `${base}.4`);
    assert.equal(rogueAsset?.modbus?.role, ["master"]);
    assert.equal(rogueAsset?.modbus?.function_codes, [6]);

    // SIGHUP reloads models and configuration; the agent keeps running.
    agent.kill("SIGHUP");
    await waitFor("the reload", () => stdout().includes('"configuration and models reloaded"'));
    const afterReload = JSON.parse((await run("status", "--socket", socket, "--json")).stdout) as { agent: { reloads: number } };
    assert.is(afterReload.agent.reloads, 1);

    // A broken file on SIGHUP is logged, and the agent keeps its configuration.
    writeFileSync(config, "capture:\n  snap_length: 1\n");
    agent.kill("SIGHUP");
    await waitFor("the failed reload", () => stdout().includes("reload failed: configuration not loaded"));
    assert.match(stdout(), "capture.snap_length: 1 is out of range");
    const afterBadReload = await run("status", "--socket", socket, "--json");
    assert.is(afterBadReload.code, 0, afterBadReload.stderr);
    assert.is((JSON.parse(afterBadReload.stdout) as { capture: { snap_length: number } }).capture.snap_length, 65535);

    // SIGTERM: flush, snapshot, socket removed, exit code 0.
    agent.kill("SIGTERM");
    assert.is(await running.exited, 0, `${stdout()}${running.stderr()}`);
    assert.match(stdout(), '"agent stopped"');
    assert.ok(existsSync(join(dir, "data", "baselines.snapshot")), "baseline snapshot written at shutdown");
    assert.not.ok(existsSync(socket), "control socket removed");
    const gone = await run("status", "--socket", socket);
    assert.is(gone.code, 1);
    assert.match(gone.stderr, "no running agent is listening");
  } finally {
    if (agent && agent.exitCode === null) agent.kill("SIGKILL");
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
