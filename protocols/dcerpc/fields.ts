// DCE-RPC field ids (300-399) and anomaly ids (300-399).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// pdu_type, rtt_us, user, domain and account use the common fields.

export namespace DcerpcField {
  @inline export const INTERFACE_UUID: u16 = 300;     // lowercase canonical text
  @inline export const INTERFACE: u16 = 301;          // Zeek's endpoint name for the UUID
  @inline export const OPNUM: u16 = 302;
  @inline export const OPERATION: u16 = 303;          // Zeek's operation name
  @inline export const NAMED_PIPE: u16 = 304;         // pipe as opened over SMB; over TCP the bind_ack secondary address, else the responder port
  @inline export const CALL_ID: u16 = 305;
  @inline export const CONTEXT_ID: u16 = 306;
  @inline export const STATUS: u16 = 307;             // fault status, "0x%08x"
  @inline export const FAULT: u16 = 308;              // fault status name, when known
  @inline export const INTERFACE_VERSION: u16 = 309;  // major version of the abstract syntax
  @inline export const SECONDARY_ADDRESS: u16 = 310;  // bind_ack sec_addr
  @inline export const STUB_TRUNCATED: u16 = 312;     // the stub kept for evidence was cut
  @inline export const BIG_ENDIAN: u16 = 313;         // the request used big-endian integers (packed_drep)
  @inline export const STUB_SEALED: u16 = 314;        // auth level packet privacy: the stub is encrypted and not decoded
  @inline export const ENDPOINT_MAPPED: u16 = 315;    // the interface comes from an ept_map response, not a bind
  @inline export const CONTEXT_REJECTED: u16 = 316;   // the request names a context that the server rejected
  // Operation evidence taken from the request stub.
  @inline export const COMMAND: u16 = 330;            // ATSVC AT_INFO.Command; task XML <Command>
  @inline export const SERVICE_NAME: u16 = 331;
  @inline export const DISPLAY_NAME: u16 = 332;
  @inline export const BINARY_PATH: u16 = 333;
  @inline export const SERVICE_START_NAME: u16 = 334; // account a new service runs as
  @inline export const TASK_NAME: u16 = 335;
  @inline export const TASK_ACCOUNT: u16 = 336;       // SASec account a job runs as
  @inline export const COMMAND_ARGUMENTS: u16 = 337;  // task XML <Arguments>
  @inline export const RUN_AS_USER: u16 = 338;        // task XML <Principal> <UserId>
  @inline export const JOB_TIME: u16 = 339;           // AT_INFO.JobTime as "HH:MM:SS" after local midnight
  @inline export const DAYS_OF_MONTH: u16 = 340;      // AT_INFO.DaysOfMonth bitmask, bit 0 = day 1
  @inline export const DAYS_OF_WEEK: u16 = 341;       // AT_INFO.DaysOfWeek bitmask, bit 0 = Monday
  @inline export const START_TYPE: u16 = 342;         // service start type name (SERVICE_AUTO_START, ...)
  @inline export const KEY_PATH: u16 = 343;           // winreg subkey, relative to the key handle
  @inline export const VALUE_NAME: u16 = 344;         // winreg value name
  @inline export const FILE_PATH: u16 = 345;          // winreg SaveKey target file
  @inline export const LOG_NAME: u16 = 346;           // event log or channel name
  @inline export const BACKUP_FILE: u16 = 347;        // event log backup file of a clear
  @inline export const TASK_ENABLED: u16 = 348;       // SchRpcEnableTask enabled flag
  @inline export const SHUTDOWN_MESSAGE: u16 = 349;   // message shown by a remote shutdown
  @inline export const SHUTDOWN_TIMEOUT: u16 = 350;   // seconds before a remote shutdown
  @inline export const NAMING_CONTEXT: u16 = 351;     // drsuapi naming context DN, such as "DC=corp,DC=local"
  @inline export const WMI_OBJECT_PATH: u16 = 352;    // IWbemServices ExecMethod strObjectPath, such as "Win32_Process"
  @inline export const WMI_METHOD: u16 = 353;         // IWbemServices ExecMethod strMethodName, such as "Create"
}

export function dcerpcFieldName(id: u16): string {
  switch (id) {
    case DcerpcField.INTERFACE_UUID: return "interface_uuid";
    case DcerpcField.INTERFACE: return "interface";
    case DcerpcField.OPNUM: return "opnum";
    case DcerpcField.OPERATION: return "operation";
    case DcerpcField.NAMED_PIPE: return "named_pipe";
    case DcerpcField.CALL_ID: return "call_id";
    case DcerpcField.CONTEXT_ID: return "context_id";
    case DcerpcField.STATUS: return "status";
    case DcerpcField.FAULT: return "fault";
    case DcerpcField.INTERFACE_VERSION: return "interface_version";
    case DcerpcField.SECONDARY_ADDRESS: return "secondary_address";
    case DcerpcField.STUB_TRUNCATED: return "stub_truncated";
    case DcerpcField.BIG_ENDIAN: return "big_endian";
    case DcerpcField.STUB_SEALED: return "stub_sealed";
    case DcerpcField.ENDPOINT_MAPPED: return "endpoint_mapped";
    case DcerpcField.CONTEXT_REJECTED: return "context_rejected";
    case DcerpcField.COMMAND: return "command";
    case DcerpcField.SERVICE_NAME: return "service_name";
    case DcerpcField.DISPLAY_NAME: return "display_name";
    case DcerpcField.BINARY_PATH: return "binary_path";
    case DcerpcField.SERVICE_START_NAME: return "service_start_name";
    case DcerpcField.TASK_NAME: return "task_name";
    case DcerpcField.TASK_ACCOUNT: return "task_account";
    case DcerpcField.COMMAND_ARGUMENTS: return "command_arguments";
    case DcerpcField.RUN_AS_USER: return "run_as_user";
    case DcerpcField.JOB_TIME: return "job_time";
    case DcerpcField.DAYS_OF_MONTH: return "days_of_month";
    case DcerpcField.DAYS_OF_WEEK: return "days_of_week";
    case DcerpcField.START_TYPE: return "start_type";
    case DcerpcField.KEY_PATH: return "key_path";
    case DcerpcField.VALUE_NAME: return "value_name";
    case DcerpcField.FILE_PATH: return "file_path";
    case DcerpcField.LOG_NAME: return "log_name";
    case DcerpcField.BACKUP_FILE: return "backup_file";
    case DcerpcField.TASK_ENABLED: return "task_enabled";
    case DcerpcField.SHUTDOWN_MESSAGE: return "shutdown_message";
    case DcerpcField.SHUTDOWN_TIMEOUT: return "shutdown_timeout";
    case DcerpcField.NAMING_CONTEXT: return "naming_context";
    case DcerpcField.WMI_OBJECT_PATH: return "wmi_object_path";
    case DcerpcField.WMI_METHOD: return "wmi_method";
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol:
// "dcerpc.length_mismatch", never a verdict.
export namespace DcerpcAnomaly {
  // Version is not 5.0/5.1, frag_length is below the common header, or the
  // data representation is not one C706 defines.
  @inline export const HEADER_INVALID: u16 = 300;
  // frag_length is too small for the PDU type's fixed fields or its auth verifier.
  @inline export const LENGTH_MISMATCH: u16 = 301;
  @inline export const UNKNOWN_PTYPE: u16 = 302;
  // More presentation contexts than fit in the per-connection table.
  @inline export const CONTEXT_TABLE_FULL: u16 = 303;
  // More outstanding calls than fit in the pending table, so the oldest was reported without rtt.
  @inline export const PENDING_CALLS_FULL: u16 = 304;
  // A request stub longer than the evidence bound; the rest was not kept.
  @inline export const STUB_TRUNCATED: u16 = 305;
  // A middle or last request fragment with no first fragment of that call.
  @inline export const FRAGMENT_UNEXPECTED: u16 = 306;
  // A new first fragment or the end of the flow arrived before a last fragment.
  @inline export const FRAGMENT_INCOMPLETE: u16 = 307;
  // A first response or fault fragment whose call_id matches no request.
  @inline export const RESPONSE_WITHOUT_REQUEST: u16 = 308;
  // A request names a context id that no bind or alter_context offered.
  @inline export const CONTEXT_UNKNOWN: u16 = 309;
  // A request stub that the operation's NDR parser could not read to the evidence.
  @inline export const STUB_MALFORMED: u16 = 310;
  // A PDU other than a response was longer than the bytes buffered for it, so
  // only its beginning was parsed.
  @inline export const PDU_PREFIX_ONLY: u16 = 311;
  // Evidence of a call was reported early because a later pipelined call needed the slot.
  @inline export const EVIDENCE_SLOT_BUSY: u16 = 312;
  // A request stub sealed with auth level packet privacy; it is not NDR-decoded.
  @inline export const STUB_SEALED: u16 = 313;
  // A request on a presentation context that the bind_ack or alter_context_resp rejected.
  @inline export const CONTEXT_REJECTED: u16 = 314;
  // The endpoint table was full, so the oldest endpoint was overwritten.
  @inline export const ENDPOINT_TABLE_FULL: u16 = 315;
  // An ept_map response whose tower array runs past the stub.
  @inline export const TOWER_MALFORMED: u16 = 316;
  // A request carries an auth verifier that was not captured (the PDU was
  // parsed from its prefix), so its protection level is unknown and the stub
  // is not decoded.
  @inline export const AUTH_LEVEL_UNKNOWN: u16 = 317;
}

export function dcerpcAnomalyName(id: u16): string {
  switch (id) {
    case DcerpcAnomaly.HEADER_INVALID: return "dcerpc.header_invalid";
    case DcerpcAnomaly.LENGTH_MISMATCH: return "dcerpc.length_mismatch";
    case DcerpcAnomaly.UNKNOWN_PTYPE: return "dcerpc.unknown_ptype";
    case DcerpcAnomaly.CONTEXT_TABLE_FULL: return "dcerpc.context_table_full";
    case DcerpcAnomaly.PENDING_CALLS_FULL: return "dcerpc.pending_calls_full";
    case DcerpcAnomaly.STUB_TRUNCATED: return "dcerpc.stub_truncated";
    case DcerpcAnomaly.FRAGMENT_UNEXPECTED: return "dcerpc.fragment_unexpected";
    case DcerpcAnomaly.FRAGMENT_INCOMPLETE: return "dcerpc.fragment_incomplete";
    case DcerpcAnomaly.RESPONSE_WITHOUT_REQUEST: return "dcerpc.response_without_request";
    case DcerpcAnomaly.CONTEXT_UNKNOWN: return "dcerpc.context_unknown";
    case DcerpcAnomaly.STUB_MALFORMED: return "dcerpc.stub_malformed";
    case DcerpcAnomaly.PDU_PREFIX_ONLY: return "dcerpc.pdu_prefix_only";
    case DcerpcAnomaly.EVIDENCE_SLOT_BUSY: return "dcerpc.evidence_slot_busy";
    case DcerpcAnomaly.STUB_SEALED: return "dcerpc.stub_sealed";
    case DcerpcAnomaly.CONTEXT_REJECTED: return "dcerpc.context_rejected";
    case DcerpcAnomaly.ENDPOINT_TABLE_FULL: return "dcerpc.endpoint_table_full";
    case DcerpcAnomaly.TOWER_MALFORMED: return "dcerpc.tower_malformed";
    case DcerpcAnomaly.AUTH_LEVEL_UNKNOWN: return "dcerpc.auth_level_unknown";
  }
  return "";
}
