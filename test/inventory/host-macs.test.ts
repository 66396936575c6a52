// The Ethernet addresses the core learns for the hosts its records name
// (wasm-core/assembly/host-macs.ts), from hand-built Modbus/TCP frames.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Core, type CoreRecord } from "../../agent/src/core/core.js";
import { readHostMacs } from "../../agent/src/inventory/host-macs.js";
import { batchOf, timed, TcpConversation } from "../helpers/frames.js";

const SERVER = "10.9.0.2";
// tcpFrame's Ethernet addresses: the client's ends in 01, the server's in 02.
const CLIENT_MAC = "02:00:00:00:00:01";
const SERVER_MAC = "02:00:00:00:00:02";

// Read Holding Registers, 1 register from 0 (MBAP: transaction id, protocol
// id 0, length, unit id 1), and its response with one zero register.
const REQUEST = [0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1];
const RESPONSE = [0, 1, 0, 0, 0, 5, 1, 3, 2, 0, 0];

// Frames of one polling exchange from `client`, whose frames carry the
// source Ethernet address `clientMac` (the server's frames are addressed to it).
function exchange(client: string, port: number, clientMac: string): Uint8Array[] {
  const frames = new TcpConversation(client, port, SERVER, 502).handshake().fromClient(REQUEST).fromServer(RESPONSE).frames;
  const mac = clientMac.split(":").map((b) => parseInt(b, 16));
  for (const frame of frames) {
    // Ethernet destination, then source: the client's side is the source of
    // its own frames and the destination of the server's.
    const fromClient = frame[11] === 0x01;
    frame.set(mac, fromClient ? 6 : 0);
  }
  return frames;
}

async function feed(core: Core, frames: Uint8Array[], startSec: number): Promise<void> {
  const records: CoreRecord[] = [];
  core.process(batchOf(timed(frames, startSec)), (r) => { records.push(r); });
  assert.ok(records.some((r) => r.type === "modbus"), "the frames closed Modbus records");
}

test("host macs follow a changed address", async () => {
  const core = await Core.load();
  await feed(core, exchange("10.9.0.1", 40001, CLIENT_MAC), 1_700_000_000);
  let macs = readHostMacs(core);
  assert.is(macs.get("10.9.0.1"), CLIENT_MAC);
  assert.is(macs.get(SERVER), SERVER_MAC);

  // The same host behind a new interface, then another host, then the first
  // again with a third address: each record stores its frame's address.
  await feed(core, exchange("10.9.0.1", 40002, "02:00:00:00:00:09"), 1_700_000_010);
  assert.is(readHostMacs(core).get("10.9.0.1"), "02:00:00:00:00:09");
  await feed(core, exchange("10.9.0.3", 40003, "02:00:00:00:00:03"), 1_700_000_020);
  await feed(core, exchange("10.9.0.1", 40004, "02:00:00:00:00:0a"), 1_700_000_030);
  macs = readHostMacs(core);
  assert.is(macs.get("10.9.0.1"), "02:00:00:00:00:0a");
  assert.is(macs.get("10.9.0.3"), "02:00:00:00:00:03");
  assert.is(macs.get(SERVER), SERVER_MAC);
  assert.is(macs.size, 3);
});

test("host macs relearned after reset", async () => {
  const core = await Core.load();
  await feed(core, exchange("10.9.0.1", 40001, CLIENT_MAC), 1_700_000_000);
  core.exportFunction("resetBaselines")();
  assert.is(readHostMacs(core).size, 0, "the reset empties the table");

  await feed(core, exchange("10.9.0.1", 40002, "02:00:00:00:00:09"), 1_700_000_010);
  const macs = readHostMacs(core);
  assert.is(macs.get("10.9.0.1"), "02:00:00:00:00:09");
  assert.is(macs.get(SERVER), SERVER_MAC);
  assert.is(macs.size, 2);
});

test.run();
