// Byte builders for DNP3 fixtures (IEEE 1815-2012): link frames with their
// CRC-16/DNP blocks, transport segments and application fragments. The CRC
// here is computed bit by bit, apart from the core's table-driven one, so a
// fault in either shows up as a mismatch.

// CRC-16/DNP: reflected polynomial 0xA6BC (0x3D65), initial 0, complemented.
export function crcDnp(bytes: number[]): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa6bc : crc >>> 1;
  }
  return ~crc & 0xffff;
}

const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

// Link control octets: DIR | PRM | function 4, unconfirmed user data.
export const FROM_MASTER = 0xc4;
export const FROM_OUTSTATION = 0x44;

export interface FrameOptions {
  control: number;
  destination: number;
  source: number;
}

// One link frame around up to 250 octets of user data.
export function linkFrame(options: FrameOptions, userData: number[]): number[] {
  if (userData.length > 250) throw new Error(`user data of ${userData.length} octets does not fit one link frame (250 at most)`);
  const header = [0x05, 0x64, 5 + userData.length, options.control, ...le16(options.destination), ...le16(options.source)];
  const frame = [...header, ...le16(crcDnp(header))];
  for (let i = 0; i < userData.length; i += 16) {
    const block = userData.slice(i, i + 16);
    frame.push(...block, ...le16(crcDnp(block)));
  }
  return frame;
}

// Cuts an application fragment into transport segments of at most
// `segmentBytes` payload octets (249 fill a frame), numbered from `firstSequence`.
export function transportSegments(fragment: number[], segmentBytes = 249, firstSequence = 0): number[][] {
  const segments: number[][] = [];
  for (let i = 0, n = 0; i < fragment.length || i === 0; i += segmentBytes, n++) {
    const fir = i === 0 ? 0x40 : 0;
    const fin = i + segmentBytes >= fragment.length ? 0x80 : 0;
    segments.push([fin | fir | ((firstSequence + n) & 0x3f), ...fragment.slice(i, i + segmentBytes)]);
    if (fin) break;
  }
  return segments;
}

// The link frames of a whole application fragment, one frame per segment.
export function framesOf(options: FrameOptions, fragment: number[], segmentBytes = 249, firstSequence = 0): number[][] {
  return transportSegments(fragment, segmentBytes, firstSequence).map((s) => linkFrame(options, s));
}

// Application control: FIR and FIN set, sequence `sequence`.
export const control = (sequence: number, extra = 0): number => 0xc0 | extra | (sequence & 0x0f);

export function request(sequence: number, functionCode: number, objects: number[] = []): number[] {
  return [control(sequence), functionCode, ...objects];
}

export function response(sequence: number, iin: number, objects: number[] = [], functionCode = 0x81): number[] {
  return [control(sequence), functionCode, (iin >>> 8) & 0xff, iin & 0xff, ...objects];
}

// Object header with a 2-octet count and 2-octet index prefix (qualifier 0x28).
export function indexed(group: number, variation: number, points: Array<[number, number[]]>): number[] {
  const out = [group, variation, 0x28, ...le16(points.length)];
  for (const [index, value] of points) out.push(...le16(index), ...value);
  return out;
}

// Object header with a 1-octet start-stop range (qualifier 0x00) and the values.
export function ranged(group: number, variation: number, start: number, stop: number, values: number[] = []): number[] {
  return [group, variation, 0x00, start, stop, ...values];
}

// "All objects" header (qualifier 0x06), as in a class READ.
export const allObjects = (group: number, variation: number): number[] => [group, variation, 0x06];

// Control relay output block (g12v1 object, 11 octets).
export function crob(code: number, count: number, onMs: number, offMs: number, status = 0): number[] {
  return [code, count, ...le32(onMs), ...le32(offMs), status];
}

// Analog output block, 16-bit (g41v2 object, 3 octets).
export const analog16 = (value: number, status = 0): number[] => [...le16(value), status];

// Device attribute (group 0) with a visible-string value, at index 0 (qualifier 0x00).
export function attribute(variation: number, text: string): number[] {
  const value = [...Buffer.from(text, "latin1")];
  return [0, variation, 0x00, 0, 0, 1, value.length, ...value];
}

// File command object (g70v3) behind a count of 1 and a 2-octet size prefix
// (qualifier 0x5B): the name follows the 26 fixed octets.
export function fileCommand(name: string, mode: number, fileSize: number): number[] {
  const nameBytes = [...Buffer.from(name, "latin1")];
  const object = [
    ...le16(26), ...le16(nameBytes.length), 0, 0, 0, 0, 0, 0, ...le16(0o644), ...le32(0),
    ...le32(fileSize), ...le16(mode), ...le16(1024), ...le16(7), ...nameBytes,
  ];
  return [70, 3, 0x5b, 1, ...le16(object.length), ...object];
}
