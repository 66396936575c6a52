// Real Modbus/TCP traffic on the loopback interface, for the OT detection
// tests. A modbus-serial client on MASTER polls a modbus-serial ServerTCP on
// SERVER. Then a second host (INTRUDER) writes inside and outside the
// writable range, sweeps three unit ids with FC 43/14 and sends one FC 90
// (UMAS STOP_PLC) request. recordLoopbackCapture() records it with tcpdump.
// Each role has its own 127.0.50.x address (Linux accepts the whole of
// 127.0.0.0/8 on lo), so the masters differ by address as on a plant network,
// and the server can take port 502 on its own address without disturbing a
// server on 127.0.0.1:502.
//
// Regenerate the committed fixture (as root, with tcpdump installed) with
//   npx tsx test/ot/loopback.ts
import { spawn } from "node:child_process";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ModbusRTU from "modbus-serial";
import { repoRoot } from "../helpers/captures.js";
import { adu, u16 } from "../modbus/run.js";

export const LOOPBACK_FIXTURE = join(repoRoot, "test/fixtures/ot/loopback-modbus.pcap");
export const SITE_PROFILE = join(repoRoot, "test/fixtures/ot/site-profile.yaml");
export const SERVER = "127.0.50.2";
export const MASTER = "127.0.50.1";
export const INTRUDER = "127.0.50.3";
const MODBUS_PORT = 502;
// Polling: one FC 3 request every POLL_INTERVAL_MS for POLL_COUNT requests,
// enough for the learned modbus_master scorer (10 requests over 5 s).
const POLL_INTERVAL_MS = 250;
const POLL_COUNT = 28;

// Returns MODBUS_PORT when it was free on SERVER a moment ago, else another
// free port. NOTE: on another port the core finds Modbus only by content,
// which the dissector may not do, so the tests then print why and skip.
export async function freePort(): Promise<number> {
  for (const candidate of [MODBUS_PORT, 0]) {
    const probe = createServer();
    const port = await new Promise<number | undefined>((resolve) => {
      probe.once("error", () => resolve(undefined));
      probe.listen(candidate, SERVER, () => resolve((probe.address() as AddressInfo).port));
    });
    await new Promise<void>((resolve) => (port === undefined ? resolve() : probe.close(() => resolve())));
    if (port !== undefined) return port;
  }
  throw new Error(`no free TCP port on ${SERVER}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Sends one ADU from `client` and resolves with the response bytes.
function exchange(client: Socket, bytes: number[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no response from the loopback server within 2 s")), 2000);
    client.once("data", (data) => { clearTimeout(timer); resolve(data); });
    client.write(Buffer.from(bytes));
  });
}

// Runs the scenario against a new server on `port` and stops everything it
// started before it returns.
export async function runLoopbackScenario(port: number): Promise<void> {
  const holding = new Array<number>(100).fill(0);
  const server = new ModbusRTU.ServerTCP({
    getHoldingRegister: (address: number) => holding[address] ?? 0,
    setRegister: (address: number, value: number) => { holding[address] = value; },
    readDeviceIdentification: () => ({ 0x00: "Fieldsense Test", 0x01: "LOOP-PLC", 0x02: "1.0" }),
  }, { host: SERVER, port, unitID: 255 });
  server.on("socketError", () => undefined);
  await new Promise<void>((resolve) => server.on("initialized", () => resolve()));
  const master = new ModbusRTU();
  let intruder: Socket | undefined;
  try {
    await master.connectTCP(SERVER, { port, localAddress: MASTER });
    master.setID(1);
    master.setTimeout(2000);
    for (let i = 0; i < POLL_COUNT; i++) {
      await master.readHoldingRegisters(0, 10);
      await sleep(POLL_INTERVAL_MS);
    }

    intruder = connect({ host: SERVER, port, localAddress: INTRUDER });
    await new Promise<void>((resolve, reject) => { intruder!.once("connect", resolve); intruder!.once("error", reject); });
    // FC 6 inside the writable range, FC 16 outside it (register 500).
    await exchange(intruder, adu(1, 1, [6, ...u16(5), ...u16(42)]));
    await exchange(intruder, adu(2, 1, [16, ...u16(500), ...u16(2), 4, 0, 1, 0, 2]));
    // FC 43/14 basic identification for unit ids 1, 2 and 3.
    for (const unit of [1, 2, 3]) await exchange(intruder, adu(10 + unit, unit, [0x2b, 0x0e, 1, 0]));
    // FC 90, UMAS session 0, function 0x41 STOP_PLC.
    await exchange(intruder, adu(20, 1, [0x5a, 0x00, 0x41]));
  } finally {
    intruder?.destroy();
    await new Promise<void>((resolve) => master.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// Why tcpdump cannot record on this machine, or undefined when it can.
export function tcpdumpUnavailable(): string | undefined {
  if (process.platform !== "linux") return "tcpdump -i lo is set up for Linux only";
  if (process.getuid?.() !== 0) return "capturing on lo needs root (or CAP_NET_RAW for tcpdump)";
  return undefined;
}

// Records the scenario with tcpdump on lo into a new file and returns its
// path and the server port.
export async function recordLoopbackCapture(): Promise<{ file: string; port: number }> {
  const port = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), "fieldsense-ot-")), "loopback.pcap");
  const tcpdump = spawn("tcpdump", ["-i", "lo", "-n", "-U", "--immediate-mode", "-s", "0", "-w", file, "host", SERVER, "and", "tcp", "port", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<number | null>((resolve) => tcpdump.on("close", (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      let stderr = "";
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start within 5 s: ${stderr}`)), 5000);
      tcpdump.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/listening on/.test(stderr)) { clearTimeout(timer); resolve(); }
      });
      tcpdump.on("error", (error) => { clearTimeout(timer); reject(error); });
      tcpdump.on("close", (code) => { clearTimeout(timer); reject(new Error(`tcpdump exited with ${code}: ${stderr}`)); });
    });
    await runLoopbackScenario(port);
    // Let the last FIN segments reach the capture before it stops.
    await sleep(500);
  } finally {
    tcpdump.kill("SIGINT");
    await exited;
  }
  return { file, port };
}

async function writeFixture(): Promise<void> {
  const reason = tcpdumpUnavailable();
  if (reason) throw new Error(`cannot record the fixture: ${reason}`);
  const { file, port } = await recordLoopbackCapture();
  if (port !== MODBUS_PORT) throw new Error(`port ${MODBUS_PORT} is taken on ${SERVER}; free it so the fixture uses the Modbus port`);
  copyFileSync(file, LOOPBACK_FIXTURE);
  console.log(`wrote ${LOOPBACK_FIXTURE}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFixture().catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
