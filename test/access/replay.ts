// Replays the loopback captures of test/fixtures/access through the core as
// if their server had listened on the protocol's standard port: the
// generator's servers take a free port, while FTP and Telnet are dispatched
// by port (21, 23). Only the TCP port fields change; the core does not
// verify checksums.
import { readFileSync } from "node:fs";
import { Core, type CoreRecord } from "../../agent/src/core/core.js";
import { batchOf, type TimedFrame } from "../helpers/frames.js";

const ETHERNET_HEADER_BYTES = 14;

// Frames of a classic little-endian pcap file with Ethernet framing (what
// `tcpdump -i lo -w` writes on Linux).
export function readPcapFrames(path: string): TimedFrame[] {
  const file = readFileSync(path);
  const magic = file.readUInt32LE(0);
  if (magic !== 0xa1b2c3d4) throw new Error(`${path}: magic 0x${magic.toString(16)} is not a little-endian microsecond pcap; record it again with test/fixtures/access/generate.ts`);
  const linkType = file.readUInt32LE(20);
  if (linkType !== 1) throw new Error(`${path}: link type ${linkType} is not Ethernet (1)`);
  const frames: TimedFrame[] = [];
  for (let at = 24; at + 16 <= file.length;) {
    const caplen = file.readUInt32LE(at + 8);
    frames.push({ tsSec: file.readUInt32LE(at), tsFrac: file.readUInt32LE(at + 4), bytes: Uint8Array.from(file.subarray(at + 16, at + 16 + caplen)) });
    at += 16 + caplen;
  }
  return frames;
}

function tcpOffset(bytes: Uint8Array): number | undefined {
  if (bytes.length < ETHERNET_HEADER_BYTES + 20 || bytes[12] !== 0x08 || bytes[13] !== 0x00) return undefined;
  if (bytes[ETHERNET_HEADER_BYTES + 9] !== 6) return undefined;
  return ETHERNET_HEADER_BYTES + (bytes[ETHERNET_HEADER_BYTES] & 0x0f) * 4;
}

// The server's port: the lowest destination port of a SYN. The generator's
// readiness canary uses the port above it.
export function serverPortOf(frames: TimedFrame[]): number {
  let lowest = Infinity;
  for (const { bytes } of frames) {
    const tcp = tcpOffset(bytes);
    if (tcp === undefined) continue;
    const flags = bytes[tcp + 13];
    if ((flags & 0x12) === 0x02) lowest = Math.min(lowest, (bytes[tcp + 2] << 8) | bytes[tcp + 3]);
  }
  if (lowest === Infinity) throw new Error("the capture holds no TCP SYN; record it again with test/fixtures/access/generate.ts");
  return lowest;
}

export function remapPort(frames: TimedFrame[], from: number, to: number): TimedFrame[] {
  return frames.map((frame) => {
    const bytes = Uint8Array.from(frame.bytes);
    const tcp = tcpOffset(bytes);
    if (tcp !== undefined) {
      for (const offset of [tcp, tcp + 2]) {
        if (((bytes[offset] << 8) | bytes[offset + 1]) === from) {
          bytes[offset] = to >> 8;
          bytes[offset + 1] = to & 0xff;
        }
      }
    }
    return { ...frame, bytes };
  });
}

// Runs a capture through a fresh core with its server moved to `port`.
export async function replayOnPort(path: string, port: number): Promise<CoreRecord[]> {
  const frames = readPcapFrames(path);
  const moved = remapPort(frames, serverPortOf(frames), port);
  const core = await Core.load();
  const records: CoreRecord[] = [];
  core.process(batchOf(moved), (r) => records.push(r));
  core.finish((r) => records.push(r));
  return records;
}
