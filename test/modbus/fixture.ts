// Builds test/fixtures/modbus/pipelined-wraparound.pcap: one Modbus/TCP
// connection whose client sequence numbers cross 2^32, with two requests
// pipelined in one segment, a response split across three segments, and an
// exception response. Regenerate the file with
//   npx tsx test/modbus/fixture.ts
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { pcapFile, TcpConversation, timed } from "../helpers/frames.js";
import { adu, u16 } from "./run.js";

export const FIXTURE_PATH = join(repoRoot, "test/fixtures/modbus/pipelined-wraparound.pcap");

export function pipelinedWraparoundPcap(): Uint8Array {
  const c = new TcpConversation("192.168.10.5", 49152, "192.168.10.20", 502, 0xffff_fff0, 7000).handshake();
  // FC3 for 2 registers at 100 and FC1 for 10 coils at 0, in one segment
  // that crosses 2^32 in the client's sequence space.
  c.fromClient([...adu(1, 17, [3, ...u16(100), ...u16(2)]), ...adu(2, 17, [1, ...u16(0), ...u16(10)])]);
  const registers = adu(1, 17, [3, 4, 0x00, 0x2a, 0x01, 0x00]);
  c.fromServer(registers.slice(0, 4)).fromServer(registers.slice(4, 9)).fromServer(registers.slice(9));
  c.fromServer(adu(2, 17, [1, 2, 0b1010_0101, 0b0000_0011]));
  // FC6 write to a register the server rejects with ILLEGAL_DATA_ADDRESS.
  c.fromClient(adu(3, 17, [6, ...u16(9999), ...u16(1)]));
  c.fromServer(adu(3, 17, [0x86, 0x02]));
  return pcapFile(timed(c.frames, 1_733_300_000));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(FIXTURE_PATH, pipelinedWraparoundPcap());
  console.log(`wrote ${FIXTURE_PATH}`);
}
