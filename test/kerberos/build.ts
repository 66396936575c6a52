// Byte builders for Kerberos V5 fixtures (RFC 4120 section 5, DER per
// X.690): KDC-REQ, KDC-REP and KRB-ERROR with the fields the dissector
// reads, and the TCP record marker of RFC 4120 7.2.2.

// DER element with a definite length (short or long form).
export function der(tag: number, content: number[]): number[] {
  const n = content.length;
  let length: number[];
  if (n < 0x80) length = [n];
  else if (n < 0x100) length = [0x81, n];
  else if (n < 0x10000) length = [0x82, n >> 8, n & 0xff];
  else length = [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return [tag, ...length, ...content];
}

export const context = (n: number, content: number[]): number[] => der(0xa0 | n, content);
export const application = (n: number, content: number[]): number[] => der(0x60 | n, content);
export const sequence = (...items: number[][]): number[] => der(0x30, items.flat());

// INTEGER in two's complement, minimal length.
export function integer(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v !== 0 && v !== -1);
  if (value >= 0 && (bytes[0] & 0x80) !== 0) bytes.unshift(0);
  if (value < 0 && (bytes[0] & 0x80) === 0) bytes.unshift(0xff);
  return der(0x02, bytes);
}

export const generalString = (text: string): number[] => der(0x1b, [...text].map((c) => c.charCodeAt(0)));
const generalizedTime = (text: string): number[] => der(0x18, [...text].map((c) => c.charCodeAt(0)));
const octetString = (bytes: number[]): number[] => der(0x04, bytes);
const bitString = (bytes: number[]): number[] => der(0x03, [0, ...bytes]);

// PrincipalName (5.2.2): name-type 1 (NT-PRINCIPAL) or 2 (NT-SRV-INST).
export function principal(name: string, nameType = name.includes("/") ? 2 : 1): number[] {
  return sequence(context(0, integer(nameType)), context(1, sequence(...name.split("/").map(generalString))));
}

export const Etype = { AES256: 18, AES128: 17, RC4: 23, DES_MD5: 3 } as const;

export interface RequestOptions {
  type: "AS" | "TGS";
  client?: string;             // cname; absent in a TGS-REQ
  realm: string;
  service: string;             // sname
  etypes: number[];
  encryptedTimestamp?: boolean; // PA-ENC-TIMESTAMP (padata-type 2)
  padding?: number;            // extra PA-DATA bytes, to make a long message
}

// AS-REQ [APPLICATION 10] or TGS-REQ [APPLICATION 12] (5.4.1).
export function kdcRequest(o: RequestOptions): number[] {
  const padata: number[][] = [];
  if (o.encryptedTimestamp) padata.push(sequence(context(1, integer(2)), context(2, octetString(new Array(48).fill(0x3c)))));
  // PA-TGS-REQ (1) carries the AP-REQ; its content is opaque here.
  if (o.type === "TGS") padata.push(sequence(context(1, integer(1)), context(2, octetString(new Array(200 + (o.padding ?? 0)).fill(0x6e)))));
  else if (o.padding) padata.push(sequence(context(1, integer(128)), context(2, octetString(new Array(o.padding).fill(0x30)))));
  const body = [
    context(0, bitString([0x40, 0x81, 0x00, 0x10])),
    ...(o.client ? [context(1, principal(o.client))] : []),
    context(2, generalString(o.realm)),
    context(3, principal(o.service)),
    context(5, generalizedTime("20370913024805Z")),
    context(7, integer(0x12345678)),
    context(8, sequence(...o.etypes.map(integer))),
  ];
  const fields = [context(1, integer(5)), context(2, integer(o.type === "AS" ? 10 : 12))];
  if (padata.length) fields.push(context(3, sequence(...padata)));
  fields.push(context(4, sequence(...body)));
  return application(o.type === "AS" ? 10 : 12, sequence(...fields));
}

// AS-REP [APPLICATION 11] or TGS-REP [APPLICATION 13] (5.4.2) with a ticket
// for `service` encrypted with `ticketEtype`.
export function kdcReply(type: "AS" | "TGS", clientRealm: string, client: string, service: string, ticketEtype: number): number[] {
  const ticket = application(1, sequence(
    context(0, integer(5)),
    context(1, generalString(clientRealm)),
    context(2, principal(service)),
    context(3, sequence(context(0, integer(ticketEtype)), context(1, integer(2)), context(2, octetString(new Array(64).fill(0xaa))))),
  ));
  return application(type === "AS" ? 11 : 13, sequence(
    context(0, integer(5)),
    context(1, integer(type === "AS" ? 11 : 13)),
    context(3, generalString(clientRealm)),
    context(4, principal(client)),
    context(5, ticket),
    context(6, sequence(context(0, integer(Etype.AES256)), context(2, octetString(new Array(32).fill(0xbb))))),
  ));
}

// KRB-ERROR [APPLICATION 30] (5.9.1).
export function krbError(code: number, realm: string, service: string, clientRealm?: string, client?: string): number[] {
  const fields = [
    context(0, integer(5)),
    context(1, integer(30)),
    context(4, generalizedTime("20261204210000Z")),
    context(5, integer(12345)),
    context(6, integer(code)),
  ];
  if (clientRealm) fields.push(context(7, generalString(clientRealm)));
  if (client) fields.push(context(8, principal(client)));
  fields.push(context(9, generalString(realm)), context(10, principal(service)));
  return application(30, sequence(...fields));
}

// TCP record marker (7.2.2): 4-byte big-endian length, high bit reserved.
export function tcpRecord(message: number[]): number[] {
  const n = message.length;
  return [(n >>> 24) & 0x7f, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff, ...message];
}
