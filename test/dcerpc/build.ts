// Byte builders for DCE-RPC and NTLMSSP fixtures: connection-oriented PDUs
// (C706 chapter 12), NDR strings (C706 14.3.4), NTLMSSP messages (MS-NLMP
// 2.2.1) and their SPNEGO wrappers (RFC 4178). Integers are little-endian
// unless a builder takes `bigEndian`.

export const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
export const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const be16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

export function utf16(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) out.push(...le16(text.charCodeAt(i)));
  return out;
}

export function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

export const PduType = {
  REQUEST: 0, RESPONSE: 2, FAULT: 3, BIND: 11, BIND_ACK: 12, ALTER_CONTEXT: 14, ALTER_CONTEXT_RESP: 15, AUTH3: 16,
} as const;

export const FIRST_FRAG = 0x01;
export const LAST_FRAG = 0x02;
export const OBJECT_UUID = 0x80;

export const Uuid = {
  atsvc: "1ff70682-0a51-30e8-076d-740be8cee98b",
  svcctl: "367abb81-9844-35f1-ad32-98f038001003",
  taskScheduler: "86d35949-83c9-4044-b424-db363231fd0c",
  sasec: "378e52b0-c0a9-11cf-822d-00aa0051e40f",
  epmapper: "e1af8308-5d1f-11c9-91a4-08002b14a0fa",
  ndrTransferSyntax: "8a885d04-1ceb-11c9-9fe8-08002b104860",
} as const;

// A UUID in its wire layout: time_low, time_mid, time_hi_and_version in the
// PDU's integer representation, then clock_seq and node as bytes.
export function uuidBytes(text: string, bigEndian = false): number[] {
  const hex = text.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`invalid UUID in test fixture: ${text}`);
  const d1 = parseInt(hex.slice(0, 8), 16), d2 = parseInt(hex.slice(8, 12), 16), d3 = parseInt(hex.slice(12, 16), 16);
  const rest: number[] = [];
  for (let i = 16; i < 32; i += 2) rest.push(parseInt(hex.slice(i, i + 2), 16));
  return bigEndian ? [...be32(d1), ...be16(d2), ...be16(d3), ...rest] : [...le32(d1), ...le16(d2), ...le16(d3), ...rest];
}

export interface AuthVerifier {
  authType: number;       // 10 NTLMSSP, 9 SPNEGO
  authLevel?: number;
  value: number[];
}

export interface PduOptions {
  ptype: number;
  callId: number;
  flags?: number;         // default FIRST_FRAG | LAST_FRAG
  bigEndian?: boolean;
  body: number[];         // the bytes after the 16-byte common header
  auth?: AuthVerifier;
  fragLength?: number;    // override, for malformed fixtures
}

// Common header (12.6.3.1), body, and the auth verifier (13.2.6.1) padded to
// a 4-byte boundary.
export function pdu(o: PduOptions): number[] {
  const w16 = o.bigEndian ? be16 : le16;
  const w32 = o.bigEndian ? be32 : le32;
  let body = [...o.body];
  let authBytes: number[] = [];
  if (o.auth) {
    const pad = (4 - ((16 + body.length) % 4)) % 4;
    body = [...body, ...new Array(pad).fill(0)];
    authBytes = [o.auth.authType, o.auth.authLevel ?? 2, pad, 0, ...le32(0), ...o.auth.value];
  }
  const authLength = o.auth ? o.auth.value.length : 0;
  const total = 16 + body.length + authBytes.length;
  return [
    5, 0, o.ptype, o.flags ?? FIRST_FRAG | LAST_FRAG,
    o.bigEndian ? 0x00 : 0x10, 0, 0, 0,
    ...w16(o.fragLength ?? total), ...w16(authLength), ...w32(o.callId),
    ...body, ...authBytes,
  ];
}

export interface PresentationContext {
  contextId: number;
  uuid: string;
  versionMajor: number;
  versionMinor?: number;
}

// bind / alter_context (12.6.4.3): max_xmit_frag, max_recv_frag,
// assoc_group_id, then the presentation context list.
export function bind(callId: number, contexts: PresentationContext[], auth?: AuthVerifier, ptype: number = PduType.BIND, bigEndian = false): number[] {
  const w16 = bigEndian ? be16 : le16;
  const w32 = bigEndian ? be32 : le32;
  const body = [...w16(5840), ...w16(5840), ...w32(0), contexts.length, 0, 0, 0];
  for (const c of contexts) {
    body.push(...w16(c.contextId), 1, 0, ...uuidBytes(c.uuid, bigEndian), ...w16(c.versionMajor), ...w16(c.versionMinor ?? 0));
    body.push(...uuidBytes(Uuid.ndrTransferSyntax, bigEndian), ...w32(2));
  }
  return pdu({ ptype, callId, body, auth, bigEndian });
}

// bind_ack (12.6.4.4) with a secondary address and one accepted result per context.
export function bindAck(callId: number, secondaryAddress: string, results: number, auth?: AuthVerifier): number[] {
  const address = secondaryAddress === "" ? [] : [...ascii(secondaryAddress), 0];
  const body = [...le16(5840), ...le16(5840), ...le32(0x1234), ...le16(address.length), ...address];
  while ((16 + body.length) % 4 !== 0) body.push(0);
  body.push(results, 0, 0, 0);
  for (let i = 0; i < results; i++) body.push(...le16(0), ...le16(0), ...uuidBytes(Uuid.ndrTransferSyntax), ...le32(2));
  return pdu({ ptype: PduType.BIND_ACK, callId, body, auth });
}

export interface RequestOptions {
  callId: number;
  contextId: number;
  opnum: number;
  stub: number[];
  flags?: number;
  objectUuid?: string;
  bigEndian?: boolean;
  allocHint?: number;
}

// request (12.6.4.9): alloc_hint, p_cont_id, opnum, optional object UUID, stub.
export function request(o: RequestOptions): number[] {
  const w16 = o.bigEndian ? be16 : le16;
  const w32 = o.bigEndian ? be32 : le32;
  let flags = o.flags ?? FIRST_FRAG | LAST_FRAG;
  const body = [...w32(o.allocHint ?? o.stub.length), ...w16(o.contextId), ...w16(o.opnum)];
  if (o.objectUuid) {
    flags |= OBJECT_UUID;
    body.push(...uuidBytes(o.objectUuid, o.bigEndian));
  }
  body.push(...o.stub);
  return pdu({ ptype: PduType.REQUEST, callId: o.callId, flags, body, bigEndian: o.bigEndian });
}

// response (12.6.4.10) with a stub of `stubLength` zero bytes.
export function response(callId: number, contextId: number, stubLength = 8, flags = FIRST_FRAG | LAST_FRAG): number[] {
  return pdu({ ptype: PduType.RESPONSE, callId, flags, body: [...le32(stubLength), ...le16(contextId), 0, 0, ...new Array(stubLength).fill(0)] });
}

// fault (12.6.4.7) carrying `status`.
export function fault(callId: number, contextId: number, status: number): number[] {
  return pdu({ ptype: PduType.FAULT, callId, body: [...le32(0), ...le16(contextId), 0, 0, ...le32(status), ...le32(0)] });
}

// Splits a request stub into fragments of at most `size` stub bytes each.
export function fragmentedRequest(o: RequestOptions, size: number): number[][] {
  const out: number[][] = [];
  for (let at = 0; at < o.stub.length; at += size) {
    let flags = 0;
    if (at === 0) flags |= FIRST_FRAG;
    if (at + size >= o.stub.length) flags |= LAST_FRAG;
    out.push(request({ ...o, stub: o.stub.slice(at, at + size), flags, allocHint: o.stub.length - at }));
  }
  return out;
}

// ---------------------------------------------------------------------------
// NDR (little-endian transfer syntax, C706 14.2 and 14.3)

export class Ndr {
  readonly bytes: number[] = [];
  private referent = 0x00020000;

  align(n: number): this {
    while (this.bytes.length % n !== 0) this.bytes.push(0);
    return this;
  }

  u32(v: number): this {
    this.align(4);
    this.bytes.push(...le32(v));
    return this;
  }

  raw(b: number[]): this {
    this.bytes.push(...b);
    return this;
  }

  // A unique pointer's referent id; null when `present` is false.
  pointer(present: boolean): this {
    this.referent += 4;
    return this.u32(present ? this.referent : 0);
  }

  // Conformant varying wide string with its terminating NUL.
  wideString(text: string): this {
    const count = text.length + 1;
    this.u32(count).u32(0).u32(count);
    this.bytes.push(...utf16(text), 0, 0);
    return this;
  }

  // Conformant varying byte string with its terminating NUL.
  narrowString(text: string): this {
    const count = text.length + 1;
    this.u32(count).u32(0).u32(count);
    this.bytes.push(...ascii(text), 0);
    return this;
  }
}

// NetrJobAdd ([MS-TSCH] 3.2.5.2.1) with AT_INFO.Command = `command`.
export function netrJobAddStub(server: string, command: string): number[] {
  return new Ndr()
    .pointer(true).wideString(server)
    .u32(0x0036ee80).u32(0).raw([0, 0x10]).pointer(true)
    .wideString(command).bytes;
}

// RCreateServiceW ([MS-SCMR], opnum 12).
export function createServiceWStub(serviceName: string, displayName: string, binaryPath: string, startName?: string): number[] {
  const n = new Ndr().raw(new Array(20).fill(0x11))
    .wideString(serviceName)
    .pointer(true).wideString(displayName)
    .u32(0xf01ff).u32(0x10).u32(3).u32(0)
    .wideString(binaryPath)
    .pointer(false).pointer(false).pointer(false).u32(0);
  if (startName !== undefined) n.pointer(true).wideString(startName); else n.pointer(false);
  return n.pointer(false).u32(0).bytes;
}

// ---------------------------------------------------------------------------
// NTLMSSP (MS-NLMP 2.2.1)

const SIGNATURE = [...ascii("NTLMSSP"), 0];
export const NEGOTIATE_UNICODE = 0x00000001;
export const NEGOTIATE_OEM = 0x00000002;

export function ntlmNegotiate(flags = 0xe2088297): number[] {
  return [...SIGNATURE, ...le32(1), ...le32(flags), ...le16(0), ...le16(0), ...le32(0), ...le16(0), ...le16(0), ...le32(0)];
}

// AV pairs ([MS-NLMP] 2.2.2.1); `terminated` false leaves out MsvAvEOL.
export function avPairs(pairs: [number, string][], terminated = true): number[] {
  const out: number[] = [];
  for (const [id, text] of pairs) {
    const value = utf16(text);
    out.push(...le16(id), ...le16(value.length), ...value);
  }
  if (terminated) out.push(...le16(0), ...le16(0));
  return out;
}

// CHALLENGE_MESSAGE with a UTF-16 target name and `targetInfo` as given.
export function ntlmChallenge(targetName: string, targetInfo: number[], targetInfoLengthOverride?: number): number[] {
  const name = utf16(targetName);
  const nameOffset = 56;
  const infoOffset = nameOffset + name.length;
  return [
    ...SIGNATURE, ...le32(2),
    ...le16(name.length), ...le16(name.length), ...le32(nameOffset),
    ...le32(0x628a8215),
    1, 2, 3, 4, 5, 6, 7, 8,
    0, 0, 0, 0, 0, 0, 0, 0,
    ...le16(targetInfoLengthOverride ?? targetInfo.length), ...le16(targetInfo.length), ...le32(infoOffset),
    6, 1, 0xb1, 0x1d, 0, 0, 0, 0x0f,
    ...name, ...targetInfo,
  ];
}

export interface AuthenticateOptions {
  user: string;
  domain: string;
  workstation: string;
  unicode?: boolean;          // default true
  ntResponseLength?: number;  // 24 for NTLMv1; default 48 (NTLMv2)
  userOffsetOverride?: number;
}

// AUTHENTICATE_MESSAGE with a 72-byte fixed part (Version and MIC included).
export function ntlmAuthenticate(o: AuthenticateOptions): number[] {
  const unicode = o.unicode ?? true;
  const text = (s: string) => (unicode ? utf16(s) : ascii(s));
  const domain = text(o.domain), user = text(o.user), workstation = text(o.workstation);
  const lm = new Array(24).fill(0x4c), nt = new Array(o.ntResponseLength ?? 48).fill(0x4e);
  let at = 88;
  const field = (b: number[], override?: number) => {
    const f = [...le16(b.length), ...le16(b.length), ...le32(override ?? at)];
    at += b.length;
    return f;
  };
  const header = [
    ...SIGNATURE, ...le32(3),
    ...field(lm), ...field(nt), ...field(domain), ...field(user, o.userOffsetOverride), ...field(workstation), ...field([]),
    ...le32(unicode ? 0xe2888215 : 0xe2888216),
    6, 1, 0xb1, 0x1d, 0, 0, 0, 0x0f,
    ...new Array(16).fill(0),
  ];
  return [...header, ...lm, ...nt, ...domain, ...user, ...workstation];
}

// DER TLV with a definite length (X.690 8.1.3).
export function der(tag: number, content: number[]): number[] {
  const n = content.length;
  if (n < 0x80) return [tag, n, ...content];
  if (n < 0x100) return [tag, 0x81, n, ...content];
  return [tag, 0x82, n >> 8, n & 0xff, ...content];
}

const SPNEGO_OID = [0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
const NTLMSSP_OID = [0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

// GSS-API InitialContextToken with a negTokenInit carrying `token` as mechToken.
export function spnegoInit(token: number[]): number[] {
  const negTokenInit = der(0x30, [...der(0xa0, der(0x30, NTLMSSP_OID)), ...der(0xa2, der(0x04, token))]);
  return der(0x60, [...SPNEGO_OID, ...der(0xa0, negTokenInit)]);
}

// negTokenResp carrying `token` as responseToken.
export function spnegoResponse(token: number[]): number[] {
  return der(0xa1, der(0x30, [...der(0xa0, [0x0a, 0x01, 0x01]), ...der(0xa2, der(0x04, token))]));
}

// RChangeServiceConfigW ([MS-SCMR], opnum 11) changing the binary path and display name.
export function changeServiceConfigWStub(binaryPath: string, displayName: string): number[] {
  return new Ndr().raw(new Array(20).fill(0x22))
    .u32(0xffffffff).u32(0xffffffff).u32(0xffffffff)
    .pointer(true).wideString(binaryPath)
    .pointer(false).pointer(false).pointer(false).u32(0)
    .pointer(false).pointer(false).u32(0)
    .pointer(true).wideString(displayName).bytes;
}

// SchRpcRegisterTask ([MS-TSCH], opnum 1): path, task XML, flags, sddl, logon type, credentials.
export function schRpcRegisterTaskStub(path: string, xml: string): number[] {
  return new Ndr().pointer(true).wideString(path).wideString(xml)
    .u32(6).pointer(false).u32(3).u32(0).pointer(false).bytes;
}

// SASetAccountInformation ([MS-TSCH], opnum 0): handle, job name, account, password, flags.
export function saSetAccountInformationStub(jobName: string, account: string): number[] {
  return new Ndr().pointer(false).wideString(jobName).wideString(account).pointer(false).u32(0).bytes;
}

// ---------------------------------------------------------------------------
// Presentation results, the endpoint mapper and sealed requests

// p_result_t result values (C706 12.6.3.1).
export const Result = { ACCEPTANCE: 0, USER_REJECTION: 1, PROVIDER_REJECTION: 2 } as const;

// bind_ack or alter_context_resp (12.6.4.4, 12.6.4.2) with one result per
// entry of `results`, in the order the contexts were offered.
export function bindAckWithResults(callId: number, secondaryAddress: string, results: number[], ptype: number = PduType.BIND_ACK): number[] {
  const address = secondaryAddress === "" ? [] : [...ascii(secondaryAddress), 0];
  const body = [...le16(5840), ...le16(5840), ...le32(0x1234), ...le16(address.length), ...address];
  while ((16 + body.length) % 4 !== 0) body.push(0);
  body.push(results.length, 0, 0, 0);
  for (const result of results) {
    // A rejection carries reason 2, "proposed transfer syntaxes not supported", and a null syntax.
    const syntax = result === Result.ACCEPTANCE ? [...uuidBytes(Uuid.ndrTransferSyntax), ...le32(2)] : new Array(20).fill(0);
    body.push(...le16(result), ...le16(result === Result.ACCEPTANCE ? 0 : 2), ...syntax);
  }
  return pdu({ ptype, callId, body });
}

// response (12.6.4.10) carrying `stub`.
export function responseWithStub(callId: number, contextId: number, stub: number[]): number[] {
  return pdu({ ptype: PduType.RESPONSE, callId, body: [...le32(stub.length), ...le16(contextId), 0, 0, ...stub] });
}

// A request with an auth verifier at `authLevel` (6: packet privacy, the stub
// is sealed; 5: packet integrity, the stub is clear). The stub is padded to
// 4 bytes before the sec_trailer (13.2.6.1).
export function authenticatedRequest(callId: number, contextId: number, opnum: number, stub: number[], authLevel: number): number[] {
  const signature = [1, 0, 0, 0, ...new Array(12).fill(0x5a)];
  return pdu({
    ptype: PduType.REQUEST, callId,
    body: [...le32(stub.length), ...le16(contextId), ...le16(opnum), ...stub],
    auth: { authType: 10, authLevel, value: signature },
  });
}

const be16b = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];

// A TCP/IP protocol tower (C706 appendix L): interface floor, NDR transfer
// syntax floor, connection-oriented RPC, TCP port, IPv4 address.
export function tcpTower(interfaceUuid: string, versionMajor: number, port: number, ipv4: string): number[] {
  const floor = (lhs: number[], rhs: number[]) => [...le16(lhs.length), ...lhs, ...le16(rhs.length), ...rhs];
  return [
    ...le16(5),
    ...floor([0x0d, ...uuidBytes(interfaceUuid), ...le16(versionMajor)], le16(0)),
    ...floor([0x0d, ...uuidBytes(Uuid.ndrTransferSyntax), ...le16(2)], le16(0)),
    ...floor([0x0b], le16(0)),
    ...floor([0x07], be16b(port)),
    ...floor([0x09], ipv4.split(".").map(Number)),
  ];
}

// ept_map response stub (C706 appendix L, opnum 3): entry_handle, num_towers,
// the conformant varying array of tower pointers, the towers, status.
export function eptMapResponseStub(towers: number[][]): number[] {
  const n = new Ndr().raw(new Array(20).fill(0)).u32(towers.length).u32(4).u32(0).u32(towers.length);
  for (let i = 0; i < towers.length; i++) n.pointer(true);
  for (const tower of towers) n.u32(tower.length).u32(tower.length).raw(tower).align(4);
  return n.u32(0).bytes;
}

// ---------------------------------------------------------------------------
// Stubs of the calls whose evidence the dissector reads

// A path-only task call: SchRpcRun (12), SchRpcDelete (13) or SchRpcEnableTask (19) ([MS-TSCH] 3.2.5.4).
export function taskPathStub(opnum: number, path: string, enabled = 1): number[] {
  const n = new Ndr().wideString(path);
  if (opnum === 12) return n.u32(0).pointer(false).u32(0).u32(0).pointer(false).bytes;
  if (opnum === 13) return n.u32(0).bytes;
  return n.u32(enabled).bytes;
}

// NetrJobAdd with an explicit time (ms after midnight) and day masks.
export function netrJobAddAtStub(command: string, jobTimeMs: number, daysOfMonth: number, daysOfWeek: number): number[] {
  return new Ndr().pointer(false)
    .u32(jobTimeMs).u32(daysOfMonth).raw([daysOfWeek, 0x01]).pointer(true)
    .wideString(command).bytes;
}

// RChangeServiceConfigW changing only the start type.
export function changeStartTypeStub(startType: number): number[] {
  return new Ndr().raw(new Array(20).fill(0x22))
    .u32(0xffffffff).u32(startType).u32(0xffffffff)
    .pointer(false)
    .pointer(false).pointer(false).pointer(false).u32(0)
    .pointer(false).pointer(false).u32(0)
    .pointer(false).bytes;
}

// RRP_UNICODE_STRING / RPC_UNICODE_STRING ([MS-RRP] 2.2.4): lengths in bytes
// with the terminating NUL, a unique pointer, then the characters.
function unicodeString(n: Ndr, text: string): Ndr {
  const bytes = (text.length + 1) * 2;
  n.align(4);
  n.raw(le16(bytes)).raw(le16(bytes)).pointer(true);
  return n.wideString(text);
}

// winreg calls taking a key handle and one string: BaseRegOpenKey (15),
// BaseRegCreateKey (6), BaseRegDeleteKey (7), BaseRegDeleteValue (8),
// BaseRegSetValue (22), BaseRegSaveKey (20).
export function winregStub(opnum: number, text: string): number[] {
  const n = unicodeString(new Ndr().raw(new Array(20).fill(0x33)), text);
  if (opnum === 15) return n.u32(0).u32(0x20019).bytes;
  if (opnum === 22) return n.u32(1).u32(4).raw([0x41, 0, 0, 0]).u32(4).bytes;
  if (opnum === 20) return n.pointer(false).bytes;
  return n.bytes;
}

// BaseInitiateSystemShutdownEx ([MS-RRP] 3.1.5.30) or BaseInitiateShutdownEx ([MS-RSP] 3.2.4.3).
export function shutdownStub(message: string, timeoutSeconds: number): number[] {
  const n = new Ndr().pointer(true).raw(le16(0x5c)).pointer(true);
  return unicodeString(n, message).u32(timeoutSeconds).raw([1, 1]).u32(0x80000000).bytes;
}

// ElfrOpenELW ([MS-EVEN] 3.1.4.3): server name (null), ModuleName, RegModuleName, versions.
export function elfrOpenElwStub(logName: string): number[] {
  const n = unicodeString(new Ndr().pointer(false), logName);
  return unicodeString(n, "").u32(1).u32(1).bytes;
}

// ElfrClearELFW ([MS-EVEN] 3.1.4.9): log handle, optional backup file.
export function elfrClearElfwStub(backupFile?: string): number[] {
  const n = new Ndr().raw(new Array(20).fill(0x44));
  if (backupFile === undefined) return n.pointer(false).bytes;
  return unicodeString(n.pointer(true), backupFile).bytes;
}

// EvtRpcClearLog ([MS-EVEN6] 3.1.4.16): control handle, channel path, backup path, flags.
export function evtRpcClearLogStub(channel: string): number[] {
  return new Ndr().raw(new Array(20).fill(0x55)).wideString(channel).pointer(false).u32(0).bytes;
}

// IDL_DRSGetNCChanges request, version 8 ([MS-DRSR] 4.1.10.2.11), asking for
// the naming context `dn`: hDrs, dwInVersion, the union switch, then
// DRS_MSG_GETCHGREQ_V8 with its DSNAME referent after the structure.
export function drsGetNcChangesStub(dn: string): number[] {
  const n = new Ndr().raw(new Array(20).fill(0x77)).u32(8).u32(8);
  n.align(8).raw(new Array(16).fill(0x11)).raw(new Array(16).fill(0x22)).pointer(true);
  n.align(8).raw(new Array(24).fill(0));              // usnvecFrom
  n.pointer(false).u32(0x00201000).u32(1000).u32(10_000_000).u32(0);
  n.align(8).raw(new Array(8).fill(0));               // liFsmoInfo
  n.pointer(false).pointer(false).u32(0).pointer(false);
  // DSNAME (5.50): conformance first, then the fixed part and the name.
  const chars = dn.length + 1;
  n.u32(chars).u32(56 + chars * 2).u32(0).raw(new Array(16).fill(0x33)).raw(new Array(28).fill(0)).u32(dn.length);
  return n.raw([...utf16(dn), 0, 0]).align(4).bytes;
}
