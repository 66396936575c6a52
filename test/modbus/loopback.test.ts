// Modbus/TCP bytes from an independent implementation: a modbus-serial
// server and client talk on 127.0.0.1 through a relay that records each
// chunk in order, and the recorded conversation, framed as TCP segments,
// runs through the core. The records must carry what the client sent and
// received.
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRequire } from "node:module";
import type { ModbusRTU as ModbusRTUClass } from "modbus-serial/ModbusRTU.js";
import type { ServerTCP as ServerTCPClass } from "modbus-serial";
import { TcpConversation } from "../helpers/frames.js";
import { anomaliesOf, runFrames, valuesOf } from "./run.js";

// modbus-serial is CommonJS and exports the client class itself, which its
// typings declare as a default export that NodeNext does not resolve.
const require = createRequire(import.meta.url);
const ModbusRTU = require("modbus-serial") as typeof ModbusRTUClass & { ServerTCP: typeof ServerTCPClass };
const ServerTCP = ModbusRTU.ServerTCP;

const HOST = "127.0.0.1";
const UNIT = 17;

interface Chunk { fromClient: boolean; bytes: Uint8Array }

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => resolve((server.address() as AddressInfo).port));
  });
}

// Starts a relay on a free loopback port that forwards each client to
// `targetPort` and appends every chunk, in arrival order, to `chunks`.
async function startRelay(targetPort: number, chunks: Chunk[]): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const relay = createServer((client) => {
    const upstream = connect(targetPort, HOST);
    sockets.push(client, upstream);
    client.on("data", (bytes) => { chunks.push({ fromClient: true, bytes: new Uint8Array(bytes) }); upstream.write(bytes); });
    upstream.on("data", (bytes) => { chunks.push({ fromClient: false, bytes: new Uint8Array(bytes) }); client.write(bytes); });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  const port = await listen(relay);
  return {
    port,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      relay.close(() => resolve());
    }),
  };
}

// A free loopback port for the modbus-serial server, which takes a port
// number rather than 0.
async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

test("modbus loopback modbus-serial exchange", async () => {
  const holding = new Map<number, number>([[10, 0x1111], [11, 0x2222], [12, 0x3333]]);
  const coils = new Map<number, boolean>();
  const vector = {
    getHoldingRegister: (addr: number) => holding.get(addr) ?? 0,
    getInputRegister: (addr: number) => 1000 + addr,
    getCoil: (addr: number) => coils.get(addr) ?? false,
    getDiscreteInput: (addr: number) => addr % 2 === 0,
    setRegister: (addr: number, value: number) => { holding.set(addr, value); },
    setCoil: (addr: number, value: boolean) => { coils.set(addr, value); },
    readDeviceIdentification: () => ({ 0x00: "Loopback Vendor", 0x01: "LB-1", 0x02: "3.4", 0x04: "Loopback PLC", 0x80: "serial-77" }),
  };
  const serverPort = await freePort();
  const server = new ServerTCP(vector, { host: HOST, port: serverPort, unitID: UNIT });
  await new Promise<void>((resolve) => server.on("initialized", () => resolve()));
  const chunks: Chunk[] = [];
  const relay = await startRelay(serverPort, chunks);
  const client = new ModbusRTU();
  try {
    await client.connectTCP(HOST, { port: relay.port });
    client.setID(UNIT);
    client.setTimeout(2000);
    await client.readHoldingRegisters(10, 3);
    await client.writeRegisters(20, [7, 8, 9]);
    await client.writeRegister(30, 0xbeef);
    await client.writeCoils(5, [true, false, true]);
    await client.readCoils(5, 3);
    await client.writeCoil(8, true);
    await client.readDiscreteInputs(0, 4);
    await client.readInputRegisters(2, 2);
    await client.readDeviceIdentification(3, 0);
    // FC90 READ_ID, which this server does not implement: exception 1.
    await client.customFunction(90, [0x00, 0x02]).catch(() => undefined);
  } finally {
    await new Promise<void>((resolve) => client.close(() => resolve()));
    await relay.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  const c = new TcpConversation("192.0.2.10", 49500, "192.0.2.20", 502).handshake();
  for (const chunk of chunks) {
    if (chunk.fromClient) c.fromClient(chunk.bytes); else c.fromServer(chunk.bytes);
  }
  const { modbus } = await runFrames(c.frames);
  const responses = modbus.filter((r) => r.fields.pdu_type === "response");
  const byFunction = (code: number) => responses.find((r) => r.fields.function_code === code);

  assert.is(modbus.length, 20);
  assert.ok(modbus.every((r) => r.fields.unit_id === UNIT));
  assert.equal(valuesOf(byFunction(3)), [0x1111, 0x2222, 0x3333]);
  assert.is(byFunction(3)!.fields.start_address, 10);
  const fc16 = modbus.find((r) => r.fields.function_code === 16 && r.fields.pdu_type === "request")!;
  assert.equal([fc16.fields.start_address, valuesOf(fc16)], [20, [7, 8, 9]]);
  assert.equal([byFunction(6)!.fields.start_address, byFunction(6)!.fields.value], [30, 0xbeef]);
  const fc15 = modbus.find((r) => r.fields.function_code === 15 && r.fields.pdu_type === "request")!;
  assert.equal(valuesOf(fc15), [1, 0, 1]);
  assert.equal(valuesOf(byFunction(1)), [1, 0, 1]);
  assert.equal([byFunction(5)!.fields.start_address, byFunction(5)!.fields.value], [8, 0xff00]);
  assert.equal(valuesOf(byFunction(2)), [1, 0, 1, 0]);
  assert.equal(valuesOf(byFunction(4)), [1002, 1003]);
  const identity = byFunction(43)!.fields;
  assert.equal([identity.vendor_name, identity.product_code, identity.revision, identity.product_name], ["Loopback Vendor", "LB-1", "3.4", "Loopback PLC"]);
  assert.is(identity.extended_object_id, 0x80);
  assert.is(identity.extended_object_value, Buffer.from("serial-77").toString("hex"));
  const umas = responses.find((r) => r.fields.function_code === 0xda)!;
  assert.is(umas.fields.exception, "ILLEGAL_FUNCTION");
  const umasRequest = modbus.find((r) => r.fields.function_code === 90)!;
  assert.is(umasRequest.fields.umas_function_name, "READ_ID");
  assert.equal(modbus.flatMap(anomaliesOf), []);
});

test.run();
