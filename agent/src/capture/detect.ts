// Identifies a capture format from the first bytes of a file. For common files
// that are no captures it names the format and the command that converts it.
import { hex32 } from "./errors.js";

export type Identification =
  | { format: "pcap"; littleEndian: boolean; nanoseconds: boolean }
  | { format: "pcapng" }
  | { format: "other"; magic: number; description: string; advice: string };

// The first four bytes read as a little-endian u32. A pcap file written on a
// little-endian host stores 0xa1b2c3d4 as d4 c3 b2 a1, so it reads back as is.
const PCAP_MICROSECONDS = 0xa1b2c3d4;
const PCAP_NANOSECONDS = 0xa1b23c4d;
const PCAP_MODIFIED = 0xa1b2cd34; // Alexey Kuznetzov's patched libpcap, 24-byte record headers
const PCAPNG_SECTION_HEADER = 0x0a0d0d0a; // the same in both byte orders

export const MAGIC_BYTES = 4;

export function identifyMagic(head: Uint8Array): Identification {
  const magic = head.length >= 4 ? new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) : 0;
  switch (magic) {
    case PCAP_MICROSECONDS: return { format: "pcap", littleEndian: true, nanoseconds: false };
    case swap32(PCAP_MICROSECONDS): return { format: "pcap", littleEndian: false, nanoseconds: false };
    case PCAP_NANOSECONDS: return { format: "pcap", littleEndian: true, nanoseconds: true };
    case swap32(PCAP_NANOSECONDS): return { format: "pcap", littleEndian: false, nanoseconds: true };
    case PCAPNG_SECTION_HEADER: return { format: "pcapng" };
    case PCAP_MODIFIED:
    case swap32(PCAP_MODIFIED):
      return other(magic, "a modified pcap file (Kuznetzov format, 24-byte record headers)", "convert it with `editcap -F pcap`");
  }
  return describeForeign(head, magic);
}

function describeForeign(head: Uint8Array, magic: number): Identification & { format: "other" } {
  if (head.length < 4) {
    return other(magic, `a file of ${head.length} bytes, shorter than any capture file header`, "give a pcap or pcapng file");
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    return other(magic, "a gzip-compressed file", "decompress it first (`gunzip -k FILE`)");
  }
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    return other(magic, "a zstd-compressed file", "decompress it first (`zstd -d FILE`)");
  }
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58) {
    return other(magic, "an xz-compressed file", "decompress it first (`xz -dk FILE`)");
  }
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    return other(magic, "a zip archive", "extract the capture from it first");
  }
  if (startsWithText(head, "snoop")) {
    return other(magic, "a Solaris snoop capture", "convert it with `editcap -F pcap`");
  }
  if (startsWithText(head, "GMBU") || startsWithText(head, "RTSS")) {
    return other(magic, "a Microsoft Network Monitor capture", "convert it with `editcap -F pcap`");
  }
  if (head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) {
    return other(magic, "a text file", "give a pcap or pcapng capture, not a log or a hex dump");
  }
  return other(magic, "no known capture format", "give a pcap or pcapng file written by tcpdump, dumpcap or Wireshark");
}

function other(magic: number, description: string, advice: string): Identification & { format: "other" } {
  return { format: "other", magic, description, advice };
}

function startsWithText(head: Uint8Array, text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (head[i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

export function swap32(value: number): number {
  return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
}

// The magic as it appears in the file, for messages.
export function magicText(head: Uint8Array): string {
  const bytesShown = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return head.length >= 4 ? `${hex32(new DataView(head.buffer, head.byteOffset, 4).getUint32(0, false))} (bytes ${bytesShown})` : `bytes ${bytesShown || "none"}`;
}
