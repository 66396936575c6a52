// SMB1 and SMB2 field ids (200-299) and anomaly ids (200-299).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.

export namespace SmbField {
  @inline export const VERSION: u16 = 200;            // 1, 2 or 3 (SMB 3.x dialects)
  @inline export const COMMAND: u16 = 201;            // MS-SMB2 name (CREATE) or SMB_COM_* name
  @inline export const STATUS: u16 = 202;             // NT status name, or 0x%08x
  @inline export const SESSION_ID: u16 = 203;         // SMB2 SessionId or SMB1 UID
  @inline export const TREE_ID: u16 = 204;            // SMB2 TreeId or SMB1 TID
  @inline export const MESSAGE_ID: u16 = 205;         // SMB2 MessageId or SMB1 MID
  @inline export const SHARE: u16 = 206;              // \\server\share as connected
  @inline export const PATH: u16 = 207;               // file or pipe name relative to the share
  @inline export const NAMED_PIPE: u16 = 208;         // the file name when the file is a named pipe
  @inline export const OFFSET: u16 = 209;             // READ/WRITE file offset, bytes
  @inline export const LENGTH: u16 = 210;             // bytes read or written (requested, when the response failed)
  @inline export const FILE_SIZE: u16 = 211;          // end of file from a CREATE or CLOSE response, bytes
  @inline export const CREATE_DISPOSITION: u16 = 212; // FILE_OPEN, FILE_CREATE, ...
  @inline export const DIALECT: u16 = 213;            // negotiated dialect: "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1", "NT LM 0.12"
  @inline export const SHARE_TYPE: u16 = 214;         // DISK, PIPE or PRINT
  @inline export const CTL_CODE: u16 = 215;           // IOCTL control code name (FSCTL_PIPE_TRANSCEIVE) or 0x%08x
  @inline export const CREATE_ACTION: u16 = 216;      // FILE_OPENED, FILE_CREATED, ...
  @inline export const FILE_ID: u16 = 217;            // SMB2 FileId (16 bytes) or SMB1 FID (2 bytes), as on the wire
  @inline export const INFO_TYPE: u16 = 218;          // QUERY_INFO/SET_INFO InfoType (1 file, 2 filesystem, 3 security, 4 quota)
  @inline export const INFO_CLASS: u16 = 219;         // QUERY_INFO/SET_INFO/QUERY_DIRECTORY FileInformationClass
  @inline export const CREATE_OPTIONS: u16 = 220;     // CREATE CreateOptions bit field
  @inline export const DESIRED_ACCESS: u16 = 221;     // CREATE DesiredAccess mask
  @inline export const SUBCOMMAND: u16 = 222;         // SMB1 transaction setup word 0 (0x26 TransactNmPipe)
  @inline export const CREDIT_CHARGE: u16 = 223;      // SMB2 CreditCharge of the response header: credits a large READ or WRITE consumed
  @inline export const CHANNEL_SEQUENCE: u16 = 224;   // SMB 3.x request ChannelSequence (the request's Status field)
  @inline export const SUBCOMMAND_NAME: u16 = 225;    // TRANS_TRANSACT_NMPIPE, TRANS2_FIND_FIRST2, NT_TRANSACT_CREATE, ...
  @inline export const SECONDARY_REQUESTS: u16 = 226; // SMB1 *_SECONDARY requests that continued the transaction
}

export function smbFieldName(id: u16): string {
  switch (id) {
    case SmbField.VERSION: return "version";
    case SmbField.COMMAND: return "command";
    case SmbField.STATUS: return "status";
    case SmbField.SESSION_ID: return "session_id";
    case SmbField.TREE_ID: return "tree_id";
    case SmbField.MESSAGE_ID: return "message_id";
    case SmbField.SHARE: return "share";
    case SmbField.PATH: return "path";
    case SmbField.NAMED_PIPE: return "named_pipe";
    case SmbField.OFFSET: return "offset";
    case SmbField.LENGTH: return "length";
    case SmbField.FILE_SIZE: return "file_size";
    case SmbField.CREATE_DISPOSITION: return "create_disposition";
    case SmbField.DIALECT: return "dialect";
    case SmbField.SHARE_TYPE: return "share_type";
    case SmbField.CTL_CODE: return "ctl_code";
    case SmbField.CREATE_ACTION: return "create_action";
    case SmbField.FILE_ID: return "file_id";
    case SmbField.INFO_TYPE: return "info_type";
    case SmbField.INFO_CLASS: return "info_class";
    case SmbField.CREATE_OPTIONS: return "create_options";
    case SmbField.DESIRED_ACCESS: return "desired_access";
    case SmbField.SUBCOMMAND: return "subcommand";
    case SmbField.CREDIT_CHARGE: return "credit_charge";
    case SmbField.CHANNEL_SEQUENCE: return "channel_sequence";
    case SmbField.SUBCOMMAND_NAME: return "subcommand_name";
    case SmbField.SECONDARY_REQUESTS: return "secondary_requests";
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol:
// "smb.length_mismatch", never a verdict.
export namespace SmbAnomaly {
  @inline export const NBSS_UNKNOWN_TYPE: u16 = 200;
  @inline export const NBSS_LENGTH_INVALID: u16 = 201;
  @inline export const HEADER_INVALID: u16 = 202;
  @inline export const COMPOUND_OFFSET_INVALID: u16 = 203;
  @inline export const COMPOUND_LIMIT: u16 = 204;
  @inline export const ANDX_OFFSET_INVALID: u16 = 205;
  @inline export const ANDX_LIMIT: u16 = 206;
  @inline export const ENCRYPTED_MESSAGE: u16 = 207;
  @inline export const COMPRESSED_MESSAGE: u16 = 208;
  @inline export const PENDING_TABLE_FULL: u16 = 209;
  @inline export const SESSION_TABLE_FULL: u16 = 210;
  @inline export const TREE_TABLE_FULL: u16 = 211;
  @inline export const FILE_TABLE_FULL: u16 = 212;
  @inline export const PIPE_TABLE_FULL: u16 = 213;
  @inline export const RESPONSE_WITHOUT_REQUEST: u16 = 214;
  @inline export const BODY_TRUNCATED: u16 = 215;
  @inline export const RESYNC_SKIPPED_BYTES: u16 = 216;
  @inline export const MESSAGE_CUT: u16 = 217;
  @inline export const NAME_TRUNCATED: u16 = 218;
  @inline export const PIPE_DATA_CUT: u16 = 219;
  @inline export const UNKNOWN_COMMAND: u16 = 220;
  @inline export const TRANSACTION_SECONDARY: u16 = 221;
  // A *_SECONDARY request whose displacement does not continue the bytes
  // received, or that has no pending transaction.
  @inline export const SECONDARY_OUT_OF_ORDER: u16 = 222;
  // A transaction took more secondary requests than MAX_SECONDARY_REQUESTS.
  @inline export const SECONDARY_LIMIT: u16 = 223;
}

export function smbAnomalyName(id: u16): string {
  switch (id) {
    case SmbAnomaly.NBSS_UNKNOWN_TYPE: return "smb.nbss_unknown_type";
    case SmbAnomaly.NBSS_LENGTH_INVALID: return "smb.nbss_length_invalid";
    case SmbAnomaly.HEADER_INVALID: return "smb.header_invalid";
    case SmbAnomaly.COMPOUND_OFFSET_INVALID: return "smb.compound_offset_invalid";
    case SmbAnomaly.COMPOUND_LIMIT: return "smb.compound_limit";
    case SmbAnomaly.ANDX_OFFSET_INVALID: return "smb.andx_offset_invalid";
    case SmbAnomaly.ANDX_LIMIT: return "smb.andx_limit";
    case SmbAnomaly.ENCRYPTED_MESSAGE: return "smb.encrypted_message";
    case SmbAnomaly.COMPRESSED_MESSAGE: return "smb.compressed_message";
    case SmbAnomaly.PENDING_TABLE_FULL: return "smb.pending_table_full";
    case SmbAnomaly.SESSION_TABLE_FULL: return "smb.session_table_full";
    case SmbAnomaly.TREE_TABLE_FULL: return "smb.tree_table_full";
    case SmbAnomaly.FILE_TABLE_FULL: return "smb.file_table_full";
    case SmbAnomaly.PIPE_TABLE_FULL: return "smb.pipe_table_full";
    case SmbAnomaly.RESPONSE_WITHOUT_REQUEST: return "smb.response_without_request";
    case SmbAnomaly.BODY_TRUNCATED: return "smb.body_truncated";
    case SmbAnomaly.RESYNC_SKIPPED_BYTES: return "smb.resync_skipped_bytes";
    case SmbAnomaly.MESSAGE_CUT: return "smb.message_cut";
    case SmbAnomaly.NAME_TRUNCATED: return "smb.name_truncated";
    case SmbAnomaly.PIPE_DATA_CUT: return "smb.pipe_data_cut";
    case SmbAnomaly.UNKNOWN_COMMAND: return "smb.unknown_command";
    case SmbAnomaly.TRANSACTION_SECONDARY: return "smb.transaction_secondary";
    case SmbAnomaly.SECONDARY_OUT_OF_ORDER: return "smb.secondary_out_of_order";
    case SmbAnomaly.SECONDARY_LIMIT: return "smb.secondary_limit";
  }
  return "";
}
