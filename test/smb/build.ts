// Byte builders for SMB1 and SMB2 fixtures: NBSS framing, the 64-byte SMB2 header,
// compound chains and the command bodies the tests need ([MS-SMB2] 2.2).
// Integers are little-endian as on the wire.

export const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
export const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
export const le64 = (v: bigint | number): number[] => {
  const b = BigInt(v);
  return [...le32(Number(b & 0xffffffffn)), ...le32(Number((b >> 32n) & 0xffffffffn))];
};

export function utf16(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) out.push(...le16(text.charCodeAt(i)));
  return out;
}

// NetBIOS session message: type 0 and a 24-bit big-endian length.
export function nbss(message: number[], length = message.length): number[] {
  return [0, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff, ...message];
}

export const Command = {
  NEGOTIATE: 0x00, SESSION_SETUP: 0x01, LOGOFF: 0x02, TREE_CONNECT: 0x03, TREE_DISCONNECT: 0x04,
  CREATE: 0x05, CLOSE: 0x06, READ: 0x08, WRITE: 0x09, IOCTL: 0x0b, QUERY_INFO: 0x10,
} as const;

export interface HeaderOptions {
  command: number;
  messageId: number;
  sessionId?: bigint | number;
  treeId?: number;
  status?: number;
  response?: boolean;
  related?: boolean;
  nextCommand?: number;
  creditCharge?: number;
}

// SMB2 sync header (2.2.1.2).
export function header(o: HeaderOptions): number[] {
  let flags = 0;
  if (o.response) flags |= 0x1;
  if (o.related) flags |= 0x4;
  return [
    0xfe, 0x53, 0x4d, 0x42, ...le16(64), ...le16(o.creditCharge ?? 1),
    ...le32(o.status ?? 0),
    ...le16(o.command), ...le16(1),
    ...le32(flags), ...le32(o.nextCommand ?? 0),
    ...le64(o.messageId),
    ...le32(0), ...le32(o.treeId ?? 0),
    ...le64(o.sessionId ?? 0),
    ...Array(16).fill(0),
  ];
}

// One SMB2 command: header then body.
export function smb2(o: HeaderOptions, body: number[]): number[] {
  return [...header(o), ...body];
}

// Chains commands into one compound message: pads each but the last to 8
// bytes and sets its NextCommand (2.2.1.2).
export function compound(commands: number[][]): number[] {
  const out: number[] = [];
  commands.forEach((command, i) => {
    const bytes = command.slice();
    if (i < commands.length - 1) {
      while (bytes.length % 8 !== 0) bytes.push(0);
      bytes.splice(20, 4, ...le32(bytes.length));
    }
    out.push(...bytes);
  });
  return out;
}

export const FILE_ID_RELATED = Array(16).fill(0xff);
export const fileId = (n: number): number[] => [...le64(n), ...le64(0x1000 + n)];

// TREE_CONNECT request (2.2.9): path at offset 72.
export function treeConnectRequest(path: string): number[] {
  const name = utf16(path);
  return [...le16(9), ...le16(0), ...le16(72), ...le16(name.length), ...name];
}

// TREE_CONNECT response (2.2.10).
export function treeConnectResponse(shareType: number): number[] {
  return [...le16(16), shareType, 0, ...le32(0), ...le32(0), ...le32(0x1f01ff)];
}

// CREATE request (2.2.13): name at offset 120.
export function createRequest(path: string, disposition = 1, options = 0x40): number[] {
  const name = utf16(path);
  return [
    ...le16(57), 0, 0, ...le32(2), ...le64(0), ...le64(0),
    ...le32(0x12019f), ...le32(0x80), ...le32(7), ...le32(disposition), ...le32(options),
    ...le16(120), ...le16(name.length), ...le32(0), ...le32(0),
    ...name,
  ];
}

// CREATE response (2.2.14).
export function createResponse(id: number[], endOfFile: number, action = 1): number[] {
  return [
    ...le16(89), 0, 0, ...le32(action),
    ...le64(0), ...le64(0), ...le64(0), ...le64(0),
    ...le64(endOfFile), ...le64(endOfFile), ...le32(0x80), ...le32(0),
    ...id, ...le32(0), ...le32(0),
  ];
}

// WRITE request (2.2.21): data at offset 112.
export function writeRequest(id: number[], offset: number, data: number[], length = data.length): number[] {
  return [...le16(49), ...le16(112), ...le32(length), ...le64(offset), ...id, ...le32(0), ...le32(0), ...le16(0), ...le16(0), ...le32(0), ...data];
}

// WRITE response (2.2.22).
export function writeResponse(count: number): number[] {
  return [...le16(17), ...le16(0), ...le32(count), ...le32(0), ...le16(0), ...le16(0)];
}

// READ request (2.2.19).
export function readRequest(id: number[], offset: number, length: number): number[] {
  return [...le16(49), 0, 0, ...le32(length), ...le64(offset), ...id, ...le32(0), ...le32(0), ...le32(0), ...le16(0), ...le16(0), 0];
}

// READ response (2.2.20): data at offset 80; `length` may exceed the bytes
// given, for a message whose payload is sent separately.
export function readResponse(data: number[], length = data.length): number[] {
  return [...le16(17), 80, 0, ...le32(length), ...le32(0), ...le32(0), ...data];
}

// CLOSE request (2.2.15) and response with POSTQUERY_ATTRIB (2.2.16).
export function closeRequest(id: number[]): number[] {
  return [...le16(24), ...le16(1), ...le32(0), ...id];
}
export function closeResponse(endOfFile: number): number[] {
  return [...le16(60), ...le16(1), ...le32(0), ...le64(0), ...le64(0), ...le64(0), ...le64(0), ...le64(endOfFile), ...le64(endOfFile), ...le32(0x80)];
}

// IOCTL request (2.2.31): input at offset 120.
export function ioctlRequest(id: number[], ctlCode: number, input: number[]): number[] {
  return [
    ...le16(57), ...le16(0), ...le32(ctlCode), ...id,
    ...le32(input.length ? 120 : 0), ...le32(input.length), ...le32(0),
    ...le32(0), ...le32(0), ...le32(4280), ...le32(1), ...le32(0),
    ...input,
  ];
}

// IOCTL response (2.2.32): output at offset 112.
export function ioctlResponse(id: number[], ctlCode: number, output: number[]): number[] {
  return [
    ...le16(49), ...le16(0), ...le32(ctlCode), ...id,
    ...le32(112), ...le32(0), ...le32(112), ...le32(output.length), ...le32(0), ...le32(0),
    ...output,
  ];
}

// SMB2 ERROR response body (2.2.2).
export function errorResponse(): number[] {
  return [...le16(9), 0, 0, ...le32(0), 0];
}

// ------------------------------------------------------------------- SMB1
// [MS-CIFS] 2.2.3.1 header; every message here sets SMB_FLAGS2_UNICODE and
// SMB_FLAGS2_NT_STATUS.

export interface Smb1Options {
  command: number;
  mid: number;
  uid?: number;
  tid?: number;
  status?: number;
  response?: boolean;
}

export function smb1Header(o: Smb1Options): number[] {
  return [
    0xff, 0x53, 0x4d, 0x42, o.command, ...le32(o.status ?? 0),
    o.response ? 0x98 : 0x18, ...le16(0xc001), ...le16(0), ...Array(8).fill(0), ...le16(0),
    ...le16(o.tid ?? 0), ...le16(0x1234), ...le16(o.uid ?? 0), ...le16(o.mid),
  ];
}

// One command block: WordCount, the words, ByteCount and the bytes.
export function smb1Block(words: number[], bytes: number[]): number[] {
  return [words.length / 2, ...words, ...le16(bytes.length), ...bytes];
}

// The AndX words (2.2.3.4) that start the words of a chainable command.
export const andX = (command = 0xff, offset = 0): number[] => [command, 0, ...le16(offset)];

// A null-terminated UTF-16LE string, preceded by a pad byte when `at`
// (its offset from the header) is odd.
export function smb1String(text: string, at: number): number[] {
  return [...(at % 2 === 1 ? [0] : []), ...utf16(text), 0, 0];
}
