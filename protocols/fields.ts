// Record types and field ids shared by every dissector and by the host.
//
// A record is a protocol fact (a Modbus PDU, an SMB command, a DCE-RPC call).
// Each field in a record carries a numeric id; the host learns the JSON name
// of every id once at start-up through the core's `fieldName` export, so the
// snake_case names used in records and alerts are defined here and nowhere
// else. Ids are grouped in ranges so that each protocol folder owns its own
// table and adding a field never renumbers another protocol's fields:
//
//   0-99      common to all records (this file)
//   100-199   Modbus            protocols/modbus/fields.ts
//   200-299   SMB1/SMB2         protocols/smb/fields.ts
//   300-399   DCE-RPC           protocols/dcerpc/fields.ts
//   400-449   NTLMSSP           protocols/ntlm/fields.ts
//   450-499   Kerberos          protocols/kerberos/fields.ts
//   500-599   models and alerts wasm-core/assembly/model-fields.ts
//   600-699   S7comm            protocols/s7comm/fields.ts
//   700-799   DNP3              protocols/dnp3/fields.ts
//   800-899   EtherNet/IP, CIP  protocols/enip/fields.ts
//   900-949   HTTP              protocols/http/fields.ts
//   950-979   FTP               protocols/ftp/fields.ts
//   980-989   Telnet            protocols/telnet/fields.ts
//   990-999   VNC (RFB)         protocols/vnc/fields.ts
//   1000-1019 RDP               protocols/rdp/fields.ts
//   1020-1039 SSH               protocols/ssh/fields.ts
//   1100-1149 file objects      protocols/file/fields.ts
//   1150-1199 connection starts wasm-core/assembly/conn.ts
//
// A field id may appear more than once in one record; the host then turns its
// values into a JSON array (for example the interface UUIDs of a bind).

import { modbusFieldName } from "./modbus/fields";
import { smbFieldName } from "./smb/fields";
import { dcerpcFieldName } from "./dcerpc/fields";
import { ntlmFieldName } from "./ntlm/fields";
import { kerberosFieldName } from "./kerberos/fields";
import { s7FieldName } from "./s7comm/fields";
import { enipFieldName } from "./enip/fields";
import { fileFieldName } from "./file/fields";
import { modelFieldName } from "../wasm-core/assembly/model-fields";
import { connFieldName } from "../wasm-core/assembly/conn-fields";
import { dnp3FieldName } from "./dnp3/fields";
import { accessFieldName } from "./access-fields";

// Record types. The host maps them to the `type` of a JSON record.
export namespace RecordType {
  @inline export const MODBUS: u16 = 1;
  @inline export const SMB: u16 = 2;
  @inline export const DCERPC: u16 = 3;
  @inline export const NTLM: u16 = 4;
  @inline export const KERBEROS: u16 = 5;
  @inline export const S7COMM: u16 = 6;
  @inline export const DNP3: u16 = 7;
  @inline export const ENIP: u16 = 8;
  @inline export const HTTP: u16 = 9;
  @inline export const FTP: u16 = 10;
  @inline export const TELNET: u16 = 11;
  @inline export const VNC: u16 = 12;
  @inline export const RDP: u16 = 13;
  @inline export const SSH: u16 = 14;
  @inline export const FILE: u16 = 15;
  // A TCP connection seen starting (wasm-core/assembly/conn.ts).
  @inline export const CONN: u16 = 16;
  // A model fired on the record written just before this one.
  @inline export const ALERT: u16 = 64;
  @inline export const MAX: u16 = 64;
}

export function recordTypeName(type: u16): string {
  switch (type) {
    case RecordType.MODBUS: return "modbus";
    case RecordType.SMB: return "smb";
    case RecordType.DCERPC: return "dcerpc";
    case RecordType.NTLM: return "ntlm";
    case RecordType.KERBEROS: return "kerberos";
    case RecordType.S7COMM: return "s7comm";
    case RecordType.DNP3: return "dnp3";
    case RecordType.ENIP: return "enip";
    case RecordType.HTTP: return "http";
    case RecordType.FTP: return "ftp";
    case RecordType.TELNET: return "telnet";
    case RecordType.VNC: return "vnc";
    case RecordType.RDP: return "rdp";
    case RecordType.SSH: return "ssh";
    case RecordType.FILE: return "file";
    case RecordType.CONN: return "conn";
    case RecordType.ALERT: return "alert";
  }
  return "";
}

// Value types of a field on the wire between core and host.
export namespace ValueType {
  @inline export const U64: u8 = 1;    // 8 bytes little-endian, unsigned
  @inline export const STR: u8 = 2;    // UTF-8 text
  @inline export const BYTES: u8 = 3;  // raw bytes; the host renders them as hex
  @inline export const BOOL: u8 = 4;   // 1 byte, 0 or 1
  @inline export const I64: u8 = 5;    // 8 bytes little-endian, signed
}

// Common fields, usable by every protocol.
export namespace Field {
  @inline export const PDU_TYPE: u16 = 1;        // "request" or "response"
  @inline export const TRUNCATED: u16 = 2;       // the PDU was cut short in the capture
  @inline export const RTT_US: u16 = 3;          // request to response, microseconds
  @inline export const USER: u16 = 4;            // account name, as sent
  @inline export const DOMAIN: u16 = 5;          // account domain, as sent
  @inline export const WORKSTATION: u16 = 6;     // client host name, as sent
  @inline export const ACCOUNT: u16 = 7;         // DOMAIN\user, when both are known
  @inline export const ANOMALY: u16 = 8;         // anomaly name observed in this PDU
  @inline export const MAX_COMMON: u16 = 99;
}

export function commonFieldName(id: u16): string {
  switch (id) {
    case Field.PDU_TYPE: return "pdu_type";
    case Field.TRUNCATED: return "truncated";
    case Field.RTT_US: return "rtt_us";
    case Field.USER: return "user";
    case Field.DOMAIN: return "domain";
    case Field.WORKSTATION: return "workstation";
    case Field.ACCOUNT: return "account";
    case Field.ANOMALY: return "anomaly";
  }
  return "";
}

// Returns the JSON name of a field id, or "" when the id is unassigned.
export function fieldName(id: u16): string {
  if (id < 100) return commonFieldName(id);
  if (id < 200) return modbusFieldName(id);
  if (id < 300) return smbFieldName(id);
  if (id < 400) return dcerpcFieldName(id);
  if (id < 450) return ntlmFieldName(id);
  if (id < 500) return kerberosFieldName(id);
  if (id >= 500 && id < 600) return modelFieldName(id);
  if (id >= 600 && id < 700) return s7FieldName(id);
  if (id >= 700 && id < 800) return dnp3FieldName(id);
  if (id >= 800 && id < 900) return enipFieldName(id);
  if (id >= 900 && id < 1040) return accessFieldName(id);
  if (id >= 1100 && id < 1150) return fileFieldName(id);
  if (id >= 1150 && id < 1200) return connFieldName(id);
  return "";
}

// One past the highest id the host needs to ask about; covers the ranges
// assigned up to 1199.
@inline export const FIELD_ID_LIMIT: u16 = 1200;
