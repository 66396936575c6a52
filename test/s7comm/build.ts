// Byte builders for S7comm fixtures: TPKT (RFC 1006 section 6), COTP class 0
// TPDUs (RFC 905 section 13), S7comm job, ack-data and user-data PDUs, and
// the S7comm-plus header. Integers are big-endian.

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

// TPKT around one or more COTP TPDUs.
export function tpkt(...tpdus: number[][]): number[] {
  const body = tpdus.flat();
  return [3, 0, ...u16(4 + body.length), ...body];
}

// COTP DT: LI 2, code 0xf0, EOT bit and TPDU-NR 0, then the user data.
export function dt(data: number[], eot = true): number[] {
  return [2, 0xf0, eot ? 0x80 : 0x00, ...data];
}

// COTP CR (0xe0) or CC (0xd0) with the TPDU size, calling and called TSAPs.
export function connectionTpdu(code: 0xe0 | 0xd0, callingTsap: number, calledTsap: number): number[] {
  const variable = [0xc0, 1, 0x0a, 0xc1, 2, ...u16(callingTsap), 0xc2, 2, ...u16(calledTsap)];
  const fixed = [code, ...u16(code === 0xe0 ? 0 : 0x0001), ...u16(code === 0xe0 ? 0x0001 : 0x0002), 0x00];
  return [fixed.length + variable.length, ...fixed, ...variable];
}

// A COTP TPDU without user data (AK, DR, DC): LI, code, dst-ref, and the
// rest of a fixed part of `li` bytes.
export function bareTpdu(code: number, li = 4): number[] {
  return [li, code, ...new Array(li - 1).fill(0)];
}

// S7 header plus parameter and data; ack and ack-data carry the error bytes.
export function s7(rosctr: number, reference: number, parameter: number[], data: number[] = [], error = [0, 0]): number[] {
  const header = [0x32, rosctr, 0, 0, ...u16(reference), ...u16(parameter.length), ...u16(data.length)];
  return [...header, ...(rosctr === 2 || rosctr === 3 ? error : []), ...parameter, ...data];
}

export const setupCommunication = (pduLength: number): number[] => [0xf0, 0, ...u16(1), ...u16(1), ...u16(pduLength)];

export interface Item {
  area: number;          // 0x84 DB, 0x83 M, 0x81 I, 0x82 Q, ...
  db?: number;
  byte: number;
  bit?: number;
  transportSize?: number; // 2 byte, 1 bit, ...
  count: number;
}

// Read var (0x04) or write var (0x05) parameter with S7ANY items.
export function variableParameter(functionCode: 0x04 | 0x05, items: Item[]): number[] {
  const specs = items.flatMap((i) => {
    const address = i.byte * 8 + (i.bit ?? 0);
    return [0x12, 0x0a, 0x10, i.transportSize ?? 2, ...u16(i.count), ...u16(i.db ?? 0), i.area, (address >> 16) & 0xff, (address >> 8) & 0xff, address & 0xff];
  });
  return [functionCode, items.length, ...specs];
}

// PLC control (0x28): 7 reserved bytes, parameter block, PI service name.
export function plcControl(piService: string, block: number[] = []): number[] {
  return [0x28, 0, 0, 0, 0, 0, 0, 0xfd, ...u16(block.length), ...block, piService.length, ...ascii(piService)];
}

// PLC stop (0x29): 5 reserved bytes, PI service name.
export const plcStop = (): number[] => [0x29, 0, 0, 0, 0, 0, 9, ...ascii("P_PROGRAM")];

// Request download (0x1a): status, 2 + 4 reserved bytes, file name, and the
// length part ("1", load memory length and MC7 length as 6 digits each).
export function requestDownload(filename: string): number[] {
  const lengths = ascii("1000256000128");
  return [0x1a, 0, 0, 0, 0, 0, 0, 0, filename.length, ...ascii(filename), lengths.length, ...lengths];
}

// User-data parameter (head 00 01 12) for a request (type 4) or response (8).
export function userDataParameter(type: 4 | 8, group: number, subFunction: number, sequence = 0): number[] {
  if (type === 4) return [0x00, 0x01, 0x12, 4, 0x11, (type << 4) | group, subFunction, sequence];
  return [0x00, 0x01, 0x12, 8, 0x12, (type << 4) | group, subFunction, sequence, 0, 0, 0, 0];
}

// User-data data: return code, transport size 9 (octet string), length, body.
export const userDataData = (body: number[], returnCode = 0xff): number[] => [returnCode, 0x09, ...u16(body.length), ...body];

// S7comm-plus version 1 PDU: header, opcode, reserved, function, reserved,
// sequence number, some payload, and the 4-byte trailer.
export function s7plus(version: number, opcode: number, functionCode: number, sequence: number, integrity = false): number[] {
  const body = [opcode, 0, 0, ...u16(functionCode), 0, 0, ...u16(sequence), 0x00, 0x00, 0x00, 0x20, 0x36];
  const digest = integrity ? [0x20, ...new Array(32).fill(0xa5)] : [];
  return [0x72, version, ...u16(digest.length + body.length), ...digest, ...body, 0x72, version, 0, 0];
}

export { ascii, u16, u32 };
