// The agent capturing live on a veth pair. A modbus-serial ServerTCP runs in
// a network namespace the test creates. modbus-serial clients in the root
// namespace poll it, then write a register from a second address, and the
// agent captures on the root namespace's end of the pair. The write becomes
// an alert that status, alerts and assets of the running agent show. The
// namespace and the veth pair are removed at the end, also on failure.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  missingLivePrerequisite, nobodyUid, POLL_INTERVAL_MS, POLLS, runCli as run, runCliOnTerminal, startAgent, trackChild, uidOf, waitFor, writeAgentConfig,
} from "./live-agent.js";

const require = createRequire(import.meta.url);
// modbus-serial 8 is CommonJS and ships no types, so this declares only the
// calls the test makes.
interface ModbusSerialClient {
  connectTCP(ip: string, options: { port: number; localAddress: string }): Promise<void>;
  setID(unitId: number): void;
  setTimeout(ms: number): void;
  readHoldingRegisters(address: number, quantity: number): Promise<{ data: number[] }>;
  writeRegister(address: number, value: number): Promise<{ address: number; value: number }>;
  close(callback: () => void): void;
}
const ModbusRTU = require("modbus-serial") as new () => ModbusSerialClient;

const UNIT_ID = 1;
const WRITE_ADDRESS = 40;
const WRITE_VALUE = 1234;

// Runs `ip ARGS...` and returns its stdout. A failure raises an error that
// contains ip's stderr.
function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

// A /24 from 198.18.0.0/15 (RFC 2544 benchmarking addresses) that no
// interface of the root namespace uses, as "198.18.N" or "198.19.N".
function freeBenchmarkSubnet(): string {
  const used = ip("-4", "-o", "address", "show");
  for (let attempt = 0; attempt < 50; attempt++) {
    const prefix = `198.${18 + Math.floor(Math.random() * 2)}.${Math.floor(Math.random() * 256)}`;
    if (!used.includes(` ${prefix}.`)) return prefix;
  }
  throw new Error("no free /24 in 198.18.0.0/15 after 50 attempts; remove stale test interfaces (ip -4 address show)");
}

// The device: a modbus-serial ServerTCP in the namespace. Holding register N
// reads as 100 + N until written, and each write is printed as a JSON line.
function serverScript(modbusSerialPath: string, host: string): string {
  return `import { createRequire } from "node:module";
const require = createRequire(${JSON.stringify(pathToFileURL(modbusSerialPath).href)});
const { ServerTCP } = require(${JSON.stringify(modbusSerialPath)});
const registers = new Map();
const vector = {
  getHoldingRegister: (address) => registers.get(address) ?? 100 + address,
  setRegister: (address, value, unitId) => {
    registers.set(address, value);
    console.log(JSON.stringify({ write: { address, value, unitId } }));
  },
};
const server = new ServerTCP(vector, { host: ${JSON.stringify(host)}, port: 502, unitID: ${UNIT_ID} });
server.on("initialized", () => console.log(JSON.stringify({ listening: ${JSON.stringify(host)} })));
server.on("serverError", (error) => { console.error(error.message); process.exit(1); });
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;
}

async function connectClient(host: string, localAddress: string): Promise<ModbusSerialClient> {
  const client = new ModbusRTU();
  await client.connectTCP(host, { port: 502, localAddress });
  client.setID(UNIT_ID);
  client.setTimeout(5000);
  return client;
}

// Closes a client. The 2 s bound keeps cleanup going when the connection is
// already gone, because close() may then never call back.
function closeClient(client: ModbusSerialClient): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    client.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

test("agent live on veth pair", async () => {
  const missing = missingLivePrerequisite();
  if (missing) {
    console.log(`  skipped agent live on veth pair: ${missing}`);
    return;
  }
  const suffix = randomBytes(3).toString("hex");
  const namespace = `fs-test-${suffix}`;
  // Interface names have at most 15 characters (IFNAMSIZ - 1).
  const hostEnd = `fsh-${suffix}`;
  const deviceEnd = `fsd-${suffix}`;
  try {
    ip("netns", "add", namespace);
  } catch (error) {
    console.log(`  skipped agent live on veth pair: "ip netns add ${namespace}" is not permitted here (${String((error as { stderr?: string }).stderr ?? error).trim()}); run the tests as root with CAP_SYS_ADMIN to include it`);
    return;
  }

  const dir = mkdtempSync(join(tmpdir(), "fieldsense-veth-"));
  let agent: ChildProcess | undefined;
  let device: ChildProcess | undefined;
  const clients: ModbusSerialClient[] = [];
  try {
    const subnet = freeBenchmarkSubnet();
    const masterAddress = `${subnet}.1`;
    const deviceAddress = `${subnet}.2`;
    const rogueAddress = `${subnet}.3`;
    ip("link", "add", hostEnd, "type", "veth", "peer", "name", deviceEnd);
    ip("link", "set", deviceEnd, "netns", namespace);
    ip("address", "add", `${masterAddress}/24`, "dev", hostEnd);
    ip("address", "add", `${rogueAddress}/24`, "dev", hostEnd);
    ip("link", "set", hostEnd, "up");
    ip("-n", namespace, "address", "add", `${deviceAddress}/24`, "dev", deviceEnd);
    ip("-n", namespace, "link", "set", deviceEnd, "up");
    ip("-n", namespace, "link", "set", "lo", "up");

    // Port 502 is free in a namespace that this test has just created.
    const script = join(dir, "device.mjs");
    writeFileSync(script, serverScript(require.resolve("modbus-serial"), deviceAddress));
    device = trackChild(spawn("ip", ["netns", "exec", namespace, process.execPath, script], { stdio: ["ignore", "pipe", "pipe"] }));
    let deviceOutput = "";
    device.stdout!.on("data", (chunk: Buffer) => { deviceOutput += chunk.toString(); });
    device.stderr!.on("data", (chunk: Buffer) => { deviceOutput += chunk.toString(); });
    await waitFor("the device in the namespace to listen", () => deviceOutput.includes('"listening"') || device!.exitCode !== null);
    assert.match(deviceOutput, '"listening"', `device did not start: ${deviceOutput}`);

    const { config, socket } = writeAgentConfig(dir, [
      "site: lab",
      "gateway: veth-test",
      "capture:",
      `  interface: ${hostEnd}`,
      `  filter: "host ${deviceAddress} and tcp port 502"`,
      "  batch_interval_ms: 50",
    ]);

    const running = await startAgent(["--config", config]);
    agent = running.child;
    assert.match(running.stdout(), '"agent running"', `agent did not start: ${running.stdout()}${running.stderr()}`);
    const nobody = nobodyUid()!;
    assert.is(uidOf(agent.pid!), nobody);

    const master = await connectClient(deviceAddress, masterAddress);
    clients.push(master);
    for (let i = 0; i < POLLS; i++) {
      const read = await master.readHoldingRegisters(0, 4);
      assert.equal(read.data, [100, 101, 102, 103]);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    const rogue = await connectClient(deviceAddress, rogueAddress);
    clients.push(rogue);
    const written = await rogue.writeRegister(WRITE_ADDRESS, WRITE_VALUE);
    assert.is(written.address, WRITE_ADDRESS);
    assert.is(written.value, WRITE_VALUE);
    await waitFor("the device to log the write", () => deviceOutput.includes('"write"'));
    assert.match(deviceOutput, JSON.stringify({ write: { address: WRITE_ADDRESS, value: WRITE_VALUE, unitId: UNIT_ID } }));
    await closeClient(master);
    await closeClient(rogue);
    clients.length = 0;

    await waitFor("the alert", async () => {
      const status = await run("status", "--socket", socket, "--json");
      return status.code === 0 && (JSON.parse(status.stdout) as { core: { alerts: number } }).core.alerts >= 1;
    });

    const status = await run("status", "--socket", socket, "--json");
    assert.is(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as {
      agent: { uid: number; gateway: string };
      capture: { interface: string; filter: string; packets: number; dropped: number };
      core: { alerts: number; records_by_type: Record<string, number> };
    };
    assert.is(parsed.agent.uid, nobody);
    assert.is(parsed.agent.gateway, "veth-test");
    assert.is(parsed.capture.interface, hostEnd);
    assert.is(parsed.capture.filter, `host ${deviceAddress} and tcp port 502`);
    // Each poll is a request and a response, and the handshakes add more.
    assert.ok(parsed.capture.packets >= POLLS * 2 + 2, `only ${parsed.capture.packets} packets captured`);
    assert.is(parsed.capture.dropped, 0);
    assert.is(parsed.core.alerts, 1);
    assert.ok((parsed.core.records_by_type.modbus ?? 0) >= POLLS * 2 + 2, JSON.stringify(parsed.core));

    const alerts = await run("alerts", "--socket", socket, "--json");
    assert.is(alerts.code, 0, alerts.stderr);
    const lines = alerts.stdout.trim().split("\n").map((line) => JSON.parse(line) as {
      model: string; src: { ip: string }; dst: { ip: string; port: number }; evidence: Record<string, unknown>;
    });
    assert.is(lines.length, 1, alerts.stdout);
    assert.is(lines[0].model, "modbus-write-not-master");
    assert.is(lines[0].src.ip, rogueAddress);
    assert.is(lines[0].dst.ip, deviceAddress);
    assert.is(lines[0].dst.port, 502);
    assert.is(lines[0].evidence.function_code, 6);

    const assets = await run("assets", "--socket", socket, "--json");
    assert.is(assets.code, 0, assets.stderr);
    const list = JSON.parse(assets.stdout) as { ip: string; server_ports: number[]; protocols: string[]; modbus?: { role: string[]; unit_ids: number[]; function_codes: number[] } }[];
    const deviceAsset = list.find((asset) => asset.ip === deviceAddress);
    assert.ok(deviceAsset, assets.stdout);
    assert.equal(deviceAsset!.server_ports, [502]);
    assert.equal(deviceAsset!.modbus?.role, ["device"]);
    assert.equal(deviceAsset!.modbus?.unit_ids, [UNIT_ID]);
    assert.equal(deviceAsset!.modbus?.function_codes, [3, 6]);
    const masterAsset = list.find((asset) => asset.ip === masterAddress);
    assert.equal(masterAsset?.modbus?.role, ["master"]);
    assert.equal(masterAsset?.modbus?.function_codes, [3]);
    const rogueAsset = list.find((asset) => asset.ip === rogueAddress);
    assert.equal(rogueAsset?.modbus?.role, ["master"]);
    assert.equal(rogueAsset?.modbus?.function_codes, [6]);

    // Colour only on a terminal, and never with NO_COLOR set.
    const savedNoColour = process.env.NO_COLOR;
    try {
      for (const command of ["status", "alerts", "assets"]) {
        delete process.env.NO_COLOR;
        assert.match(await runCliOnTerminal(command, "--socket", socket), "\x1b[", `${command} on a terminal has no colour`);
        assert.not.match((await run(command, "--socket", socket)).stdout, "\x1b[", `${command} in a pipe has colour`);
        process.env.NO_COLOR = "1";
        assert.not.match(await runCliOnTerminal(command, "--socket", socket), "\x1b[", `${command} has colour with NO_COLOR=1`);
      }
    } finally {
      if (savedNoColour === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = savedNoColour;
    }

    agent.kill("SIGTERM");
    assert.is(await running.exited, 0, `${running.stdout()}${running.stderr()}`);
    assert.match(running.stdout(), '"agent stopped"');
  } finally {
    for (const client of clients) await closeClient(client);
    if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill("SIGKILL");
    if (device && device.exitCode === null && device.signalCode === null) {
      const deviceExited = new Promise((resolve) => device!.once("exit", resolve));
      device.kill("SIGTERM");
      await deviceExited;
    }
    // Deleting the namespace deletes the end inside it, and the pair goes
    // with either end. The host end is also deleted on its own, because the
    // pair may exist while its other end was never moved.
    try { ip("netns", "delete", namespace); } catch (error) { console.error(`cleanup: ip netns delete ${namespace} failed: ${(error as Error).message}`); }
    try { ip("link", "delete", hostEnd); } catch { /* gone with the namespace, or never created */ }
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
