// Protocol records as JSON (schemas/record.schema.json) and the default
// selection of records that a gateway forwards to the correlator.
import type { CoreRecord, Endpoint, FieldValue } from "../core/core.js";

export interface RecordJson {
  type: string;
  ts: string;
  src: Endpoint;
  dst: Endpoint;
  flow_id: number;
  server_to_client: boolean;
  record_truncated?: boolean;
  [field: string]: FieldValue | Endpoint | undefined;
}

// Members set by the host; a core field of the same name is renamed
// `field_<name>` so that it cannot overwrite them.
const HOST_MEMBERS = new Set(["type", "ts", "src", "dst", "flow_id", "server_to_client", "record_truncated"]);

export function recordToJson(record: CoreRecord): RecordJson {
  const json: RecordJson = {
    type: record.type,
    ts: record.ts,
    src: { ip: record.src.ip, port: record.src.port },
    dst: { ip: record.dst.ip, port: record.dst.port },
    flow_id: record.flowId,
    server_to_client: record.serverToClient,
  };
  if (record.truncated) json.record_truncated = true;
  for (const [name, value] of Object.entries(record.fields)) {
    json[HOST_MEMBERS.has(name) ? `field_${name}` : name] = value;
  }
  return json;
}

// SMB commands whose records show which share and which file a client opened.
const FORWARDED_SMB_COMMANDS = new Set(["TREE_CONNECT", "CREATE", "SMB_COM_TREE_CONNECT_ANDX", "SMB_COM_NT_CREATE_ANDX"]);
// File reads and writes are forwarded too, because the correlator's report
// sums transferred bytes per file from them. Those on a named pipe are not,
// because they only carry DCE-RPC, whose calls have records of their own.
const FORWARDED_SMB_TRANSFERS = new Set(["READ", "WRITE", "SMB_COM_READ_ANDX", "SMB_COM_WRITE_ANDX"]);

// Modbus function codes that change a device or run an operation, from
// Modbus Application Protocol V1.1b3 section 6. They are 5 Write Single Coil,
// 6 Write Single Register, 8 Diagnostics, 15 Write Multiple Coils, 16 Write
// Multiple Registers, 21 Write File Record, 22 Mask Write Register and 23
// Read/Write Multiple Registers. Polls (1-4) stay on the gateway.
const FORWARDED_MODBUS_FUNCTIONS = new Set([5, 6, 8, 15, 16, 21, 22, 23]);

// S7comm job function codes that change a CPU or run an operation: 0x05
// write var, 0x1a-0x1c download, 0x1d-0x1f upload, 0x28 PLC control (start,
// delete, compress), 0x29 PLC stop. Reads (0x04) stay on the gateway.
const FORWARDED_S7_FUNCTIONS = new Set([0x05, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x28, 0x29]);
// S7comm user-data function group 5: security (protection password).
const S7_SECURITY_GROUP = 5;
// CIP services that change a device or its connections (CIP Vol 1
// appendix A and section 3-5): 0x02 Set_Attributes_All, 0x04
// Set_Attribute_List, 0x05 Reset, 0x06 Start, 0x07 Stop, 0x10
// Set_Attribute_Single, 0x4e Forward_Close, 0x54 Forward_Open, 0x5b
// Large_Forward_Open.
const FORWARDED_CIP_SERVICES = new Set([0x02, 0x04, 0x05, 0x06, 0x07, 0x10, 0x4e, 0x54, 0x5b]);
// DNP3 function codes of the polls: CONFIRM 0, READ 1 and DELAY_MEASURE 23
// (IEEE 1815-2012). Every other DNP3 request changes an outstation or its
// reporting (writes, controls, freezes, restarts, application and unsolicited
// reporting changes, class assignment, time, files, authentication) and is
// forwarded. Polls and responses stay on the gateway.
const POLL_DNP3_FUNCTIONS = new Set([0x00, 0x01, 0x17]);

// The default selection for the `records` topic: what lateral movement and
// OT changes leave behind, never every poll.
export function isForwardedRecord(record: RecordJson): boolean {
  return isForwarded(record.type, record);
}

// isForwardedRecord for a record as the core decoded it, so that the agent
// builds JSON only for the records it publishes. The fields read here have
// the same names in CoreRecord.fields as in the JSON.
export function isForwardedCoreRecord(record: CoreRecord): boolean {
  return isForwarded(record.type, record.fields);
}

function isForwarded(type: string, record: Readonly<Record<string, unknown>>): boolean {
  switch (type) {
    case "smb":
      if (typeof record.command !== "string") return false;
      if (FORWARDED_SMB_COMMANDS.has(record.command)) return true;
      return FORWARDED_SMB_TRANSFERS.has(record.command) && record.named_pipe === undefined;
    case "dcerpc":
      return record.pdu_type === "request";
    case "ntlm":
      return record.message_type === 3 || record.message === "AUTHENTICATE";
    case "file":
      // One record per file moved (path, size, SHA-256, task command); the
      // file_data records that carry content for `fieldsense extract` stay
      // on the gateway.
      return record.chunk !== true;
    case "kerberos":
      // Every exchange names an account, and a failed one is what a
      // password-guessing burst is made of.
      return true;
    case "conn":
      // Only reaches the host with an alert; the alert carries it.
      return false;
    case "s7comm":
      // Operations and protection changes, and the identity responses that
      // feed the asset inventory.
      if (record.product_code !== undefined || record.serial_number !== undefined) return true;
      if (record.pdu_type !== "request") return false;
      if (record.rosctr === 1) return typeof record.function_code === "number" && FORWARDED_S7_FUNCTIONS.has(record.function_code);
      return record.function_group === S7_SECURITY_GROUP;
    case "enip":
      if (record.product_name !== undefined || record.vendor_id !== undefined) return true;
      return record.pdu_type === "request"
        && typeof record.service_code === "number"
        && FORWARDED_CIP_SERVICES.has(record.service_code);
    case "dnp3":
      return record.pdu_type === "request"
        && typeof record.function_code === "number"
        && !POLL_DNP3_FUNCTIONS.has(record.function_code);
    case "http":
    case "ftp":
    case "telnet":
    case "vnc":
      // Logins and file transfers name accounts and files; plain page
      // requests stay on the gateway.
      return record.login_result !== undefined || record.file_name !== undefined || record.auth_scheme !== undefined;
    case "rdp":
    case "ssh":
      return record.session_event === "start";
    case "modbus":
      return record.pdu_type === "request"
        && typeof record.function_code === "number"
        && FORWARDED_MODBUS_FUNCTIONS.has(record.function_code);
  }
  return false;
}
