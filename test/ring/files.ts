// Shared by the ring tests: temporary folders removed after the suite, and
// the packets of a capture file with the flow key of each.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCapture } from "../../agent/src/capture/index.js";
import { flowKey, packetFlow } from "../../agent/src/ring/flow-key.js";

const dirs: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface FilePacket {
  tsSec: number;
  linkType: number;
  bytes: Uint8Array;
  // Flow key (flow-key.ts), or undefined for a packet that is not IP.
  key: string | undefined;
}

export async function packetsOf(path: string): Promise<FilePacket[]> {
  const out: FilePacket[] = [];
  for await (const batch of readCapture(path)) {
    const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.byteLength);
    let at = 0;
    for (let i = 0; i < batch.count; i++) {
      const caplen = view.getUint32(at + 8, true);
      const bytes = batch.bytes.slice(at + 16, at + 16 + caplen);
      const flow = packetFlow(batch.linkType, bytes);
      out.push({ tsSec: view.getUint32(at, true), linkType: batch.linkType, bytes, key: flow && flowKey(flow.transport, flow.a, flow.b) });
      at += 16 + caplen;
    }
  }
  return out;
}
