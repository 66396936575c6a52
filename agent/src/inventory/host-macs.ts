// Reads the Ethernet addresses the core learned for the hosts its records
// name (wasm-core/assembly/host-macs.ts).
import { ipToText } from "../core/records.js";

// The Core functions this needs (agent/src/core/core.ts provides them).
export interface MacSource {
  exportFunction(name: string): (...args: number[]) => number;
  readMemory(ptr: number, length: number): Uint8Array;
}

// Bytes of one exported slot: 16 bytes IP address, 6 bytes Ethernet
// address, u8 IP version.
const SLOT_EXPORT_BYTES = 23;

// Returns IP address text -> Ethernet address ("00:1d:9c:c7:b0:70").
export function readHostMacs(core: MacSource): Map<string, string> {
  const slots = core.exportFunction("hostMacSlots")();
  const read = core.exportFunction("hostMacRead");
  const scratch = core.exportFunction("scratchPtr")();
  const macs = new Map<string, string>();
  for (let i = 0; i < slots; i++) {
    if (read(i) !== 1) continue;
    const bytes = core.readMemory(scratch, SLOT_EXPORT_BYTES);
    const ip = ipToText(bytes, 0, bytes[22]);
    const mac = [...bytes.subarray(16, 22)].map((b) => b.toString(16).padStart(2, "0")).join(":");
    macs.set(ip, mac);
  }
  return macs;
}
