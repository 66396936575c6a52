// Byte builders for EtherNet/IP fixtures: the encapsulation header (CIP
// Vol 2 section 2-3), common packet format items (2-6), and CIP message
// router requests and responses (Vol 1 section 2-4) with the services the
// dissector decodes. Integers are little-endian.

export const le16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
export const le32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

export const Command = { LIST_IDENTITY: 0x63, REGISTER_SESSION: 0x65, SEND_RR_DATA: 0x6f, SEND_UNIT_DATA: 0x70 } as const;

export function encapsulation(command: number, data: number[], session = 0, status = 0, context = [1, 2, 3, 4, 5, 6, 7, 8]): number[] {
  return [...le16(command), ...le16(data.length), ...le32(session), ...le32(status), ...context, ...le32(0), ...data];
}

const item = (type: number, data: number[]): number[] => [...le16(type), ...le16(data.length), ...data];

// SendRRData: interface handle 0, timeout 10, null address and unconnected data.
export const sendRRData = (session: number, cip: number[]): number[] =>
  encapsulation(Command.SEND_RR_DATA, [...le32(0), ...le16(10), ...le16(2), ...item(0, []), ...item(0xb2, cip)], session);

// SendUnitData: connected address and connected data with a sequence count.
export const sendUnitData = (session: number, connectionId: number, sequence: number, cip: number[]): number[] =>
  encapsulation(Command.SEND_UNIT_DATA, [...le32(0), ...le16(0), ...le16(2), ...item(0xa1, le32(connectionId)), ...item(0xb1, [...le16(sequence), ...cip])], session);

export const registerSession = (session = 0): number[] => encapsulation(Command.REGISTER_SESSION, [...le16(1), ...le16(0)], session);

// Logical path: class, instance, optional attribute, 8-bit or 16-bit each.
export function logicalPath(classId: number, instance?: number, attribute?: number): number[] {
  const segment = (type: number, value: number): number[] =>
    value < 0x100 ? [0x20 | (type << 2), value] : [0x21 | (type << 2), 0, ...le16(value)];
  return [...segment(0, classId), ...(instance !== undefined ? segment(1, instance) : []), ...(attribute !== undefined ? segment(4, attribute) : [])];
}

export function request(service: number, path: number[], data: number[] = []): number[] {
  return [service, path.length / 2, ...path, ...data];
}

export function response(service: number, generalStatus: number, data: number[] = [], extended: number[] = []): number[] {
  return [service | 0x80, 0, generalStatus, extended.length, ...extended.flatMap(le16), ...data];
}

// Multiple Service Packet data: count, offsets from the count, services.
export function multipleServices(services: number[][]): number[] {
  const header = 2 + 2 * services.length;
  const offsets: number[] = [];
  let at = header;
  for (const s of services) {
    offsets.push(at);
    at += s.length;
  }
  return [...le16(services.length), ...offsets.flatMap(le16), ...services.flat()];
}

// Unconnected Send to the connection manager: the embedded request and a
// route path (backplane port 1, slot).
export function unconnectedSend(embedded: number[], slot: number): number[] {
  const pad = embedded.length % 2 === 1 ? [0] : [];
  const route = [0x01, slot];
  return request(0x52, logicalPath(6, 1), [0x07, 0xe9, ...le16(embedded.length), ...embedded, ...pad, route.length / 2, 0, ...route]);
}

export interface ForwardOpen {
  otConnectionId: number;
  toConnectionId: number;
  serial: number;
  vendor: number;
  originatorSerial: number;
  otRpiUs: number;
  toRpiUs: number;
  path: number[];
}

// Forward Open (0x54) or Large Forward Open (0x5b) request data.
export function forwardOpen(o: ForwardOpen, large = false): number[] {
  const parameters = (size: number): number[] => (large ? le32(0x42000000 | size) : le16(0x4200 | size));
  const data = [
    0x07, 0xe9, ...le32(o.otConnectionId), ...le32(o.toConnectionId), ...le16(o.serial), ...le16(o.vendor),
    ...le32(o.originatorSerial), 3, 0, 0, 0, ...le32(o.otRpiUs), ...parameters(500), ...le32(o.toRpiUs), ...parameters(500),
    0xa3, o.path.length / 2, ...o.path,
  ];
  return request(large ? 0x5b : 0x54, logicalPath(6, 1), data);
}

// Identity object attributes 1-7, as Get_Attributes_All and ListIdentity carry them.
export function identity(vendor: number, deviceType: number, productCode: number, major: number, minor: number, serial: number, name: string): number[] {
  return [...le16(vendor), ...le16(deviceType), ...le16(productCode), major, minor, ...le16(0x0030), ...le32(serial), name.length, ...ascii(name)];
}

// ListIdentity reply with one identity item for the device at ip:44818.
export function listIdentityReply(ip: number[], body: number[]): number[] {
  const socket = [0, 2, 0xaf, 0x12, ...ip, 0, 0, 0, 0, 0, 0, 0, 0];
  return encapsulation(Command.LIST_IDENTITY, [...le16(1), ...item(0x0c, [...le16(1), ...socket, ...body, 3])]);
}
