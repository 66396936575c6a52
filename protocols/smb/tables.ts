// Names for SMB numbers: SMB2 commands (MS-SMB2 2.2.1), SMB1 commands
// (MS-CIFS 2.2.2.1), NT status codes (MS-ERREF 2.3.1), create dispositions
// and actions, dialects and FSCTL codes. Each function returns a static
// literal, or "" when the number has no name here; callers then write the
// number in hex.

export function smb2CommandName(command: u16): string {
  switch (command) {
    case 0x00: return "NEGOTIATE";
    case 0x01: return "SESSION_SETUP";
    case 0x02: return "LOGOFF";
    case 0x03: return "TREE_CONNECT";
    case 0x04: return "TREE_DISCONNECT";
    case 0x05: return "CREATE";
    case 0x06: return "CLOSE";
    case 0x07: return "FLUSH";
    case 0x08: return "READ";
    case 0x09: return "WRITE";
    case 0x0a: return "LOCK";
    case 0x0b: return "IOCTL";
    case 0x0c: return "CANCEL";
    case 0x0d: return "ECHO";
    case 0x0e: return "QUERY_DIRECTORY";
    case 0x0f: return "CHANGE_NOTIFY";
    case 0x10: return "QUERY_INFO";
    case 0x11: return "SET_INFO";
    case 0x12: return "OPLOCK_BREAK";
    case 0x13: return "SERVER_TO_CLIENT_NOTIFICATION";
  }
  return "";
}

export function smb1CommandName(command: u8): string {
  switch (command) {
    case 0x00: return "SMB_COM_CREATE_DIRECTORY";
    case 0x01: return "SMB_COM_DELETE_DIRECTORY";
    case 0x02: return "SMB_COM_OPEN";
    case 0x03: return "SMB_COM_CREATE";
    case 0x04: return "SMB_COM_CLOSE";
    case 0x05: return "SMB_COM_FLUSH";
    case 0x06: return "SMB_COM_DELETE";
    case 0x07: return "SMB_COM_RENAME";
    case 0x08: return "SMB_COM_QUERY_INFORMATION";
    case 0x09: return "SMB_COM_SET_INFORMATION";
    case 0x0a: return "SMB_COM_READ";
    case 0x0b: return "SMB_COM_WRITE";
    case 0x0c: return "SMB_COM_LOCK_BYTE_RANGE";
    case 0x0d: return "SMB_COM_UNLOCK_BYTE_RANGE";
    case 0x10: return "SMB_COM_CHECK_DIRECTORY";
    case 0x12: return "SMB_COM_SEEK";
    case 0x24: return "SMB_COM_LOCKING_ANDX";
    case 0x25: return "SMB_COM_TRANSACTION";
    case 0x26: return "SMB_COM_TRANSACTION_SECONDARY";
    case 0x2b: return "SMB_COM_ECHO";
    case 0x2d: return "SMB_COM_OPEN_ANDX";
    case 0x2e: return "SMB_COM_READ_ANDX";
    case 0x2f: return "SMB_COM_WRITE_ANDX";
    case 0x32: return "SMB_COM_TRANSACTION2";
    case 0x33: return "SMB_COM_TRANSACTION2_SECONDARY";
    case 0x34: return "SMB_COM_FIND_CLOSE2";
    case 0x70: return "SMB_COM_TREE_CONNECT";
    case 0x71: return "SMB_COM_TREE_DISCONNECT";
    case 0x72: return "SMB_COM_NEGOTIATE";
    case 0x73: return "SMB_COM_SESSION_SETUP_ANDX";
    case 0x74: return "SMB_COM_LOGOFF_ANDX";
    case 0x75: return "SMB_COM_TREE_CONNECT_ANDX";
    case 0xa0: return "SMB_COM_NT_TRANSACT";
    case 0xa1: return "SMB_COM_NT_TRANSACT_SECONDARY";
    case 0xa2: return "SMB_COM_NT_CREATE_ANDX";
    case 0xa4: return "SMB_COM_NT_CANCEL";
    case 0xa5: return "SMB_COM_NT_RENAME";
  }
  return "";
}

// NT status values seen in SMB traffic (MS-ERREF 2.3.1).
export function ntStatusName(status: u32): string {
  switch (status) {
    case 0x00000000: return "STATUS_SUCCESS";
    case 0x00000103: return "STATUS_PENDING";
    case 0x0000010c: return "STATUS_NOTIFY_ENUM_DIR";
    case 0x80000005: return "STATUS_BUFFER_OVERFLOW";
    case 0x80000006: return "STATUS_NO_MORE_FILES";
    case 0x8000002d: return "STATUS_STOPPED_ON_SYMLINK";
    case 0xc0000001: return "STATUS_UNSUCCESSFUL";
    case 0xc0000002: return "STATUS_NOT_IMPLEMENTED";
    case 0xc0000003: return "STATUS_INVALID_INFO_CLASS";
    case 0xc0000004: return "STATUS_INFO_LENGTH_MISMATCH";
    case 0xc0000008: return "STATUS_INVALID_HANDLE";
    case 0xc000000d: return "STATUS_INVALID_PARAMETER";
    case 0xc000000e: return "STATUS_NO_SUCH_DEVICE";
    case 0xc000000f: return "STATUS_NO_SUCH_FILE";
    case 0xc0000010: return "STATUS_INVALID_DEVICE_REQUEST";
    case 0xc0000011: return "STATUS_END_OF_FILE";
    case 0xc0000016: return "STATUS_MORE_PROCESSING_REQUIRED";
    case 0xc0000022: return "STATUS_ACCESS_DENIED";
    case 0xc0000023: return "STATUS_BUFFER_TOO_SMALL";
    case 0xc0000033: return "STATUS_OBJECT_NAME_INVALID";
    case 0xc0000034: return "STATUS_OBJECT_NAME_NOT_FOUND";
    case 0xc0000035: return "STATUS_OBJECT_NAME_COLLISION";
    case 0xc000003a: return "STATUS_OBJECT_PATH_NOT_FOUND";
    case 0xc000003b: return "STATUS_OBJECT_PATH_SYNTAX_BAD";
    case 0xc0000043: return "STATUS_SHARING_VIOLATION";
    case 0xc000004f: return "STATUS_EAS_NOT_SUPPORTED";
    case 0xc0000055: return "STATUS_LOCK_NOT_GRANTED";
    case 0xc0000056: return "STATUS_DELETE_PENDING";
    case 0xc0000061: return "STATUS_PRIVILEGE_NOT_HELD";
    case 0xc0000064: return "STATUS_NO_SUCH_USER";
    case 0xc000006a: return "STATUS_WRONG_PASSWORD";
    case 0xc000006d: return "STATUS_LOGON_FAILURE";
    case 0xc000006e: return "STATUS_ACCOUNT_RESTRICTION";
    case 0xc000006f: return "STATUS_INVALID_LOGON_HOURS";
    case 0xc0000070: return "STATUS_INVALID_WORKSTATION";
    case 0xc0000071: return "STATUS_PASSWORD_EXPIRED";
    case 0xc0000072: return "STATUS_ACCOUNT_DISABLED";
    case 0xc000007e: return "STATUS_RANGE_NOT_LOCKED";
    case 0xc000007f: return "STATUS_DISK_FULL";
    case 0xc000009a: return "STATUS_INSUFFICIENT_RESOURCES";
    case 0xc00000ac: return "STATUS_PIPE_NOT_AVAILABLE";
    case 0xc00000ad: return "STATUS_INVALID_PIPE_STATE";
    case 0xc00000ae: return "STATUS_PIPE_BUSY";
    case 0xc00000b0: return "STATUS_PIPE_DISCONNECTED";
    case 0xc00000b1: return "STATUS_PIPE_CLOSING";
    case 0xc00000b5: return "STATUS_IO_TIMEOUT";
    case 0xc00000ba: return "STATUS_FILE_IS_A_DIRECTORY";
    case 0xc00000bb: return "STATUS_NOT_SUPPORTED";
    case 0xc00000c9: return "STATUS_NETWORK_NAME_DELETED";
    case 0xc00000cc: return "STATUS_BAD_NETWORK_NAME";
    case 0xc00000d0: return "STATUS_REQUEST_NOT_ACCEPTED";
    case 0xc00000d4: return "STATUS_NOT_SAME_DEVICE";
    case 0xc00000d9: return "STATUS_PIPE_EMPTY";
    case 0xc0000101: return "STATUS_DIRECTORY_NOT_EMPTY";
    case 0xc0000103: return "STATUS_NOT_A_DIRECTORY";
    case 0xc0000120: return "STATUS_CANCELLED";
    case 0xc0000128: return "STATUS_FILE_CLOSED";
    case 0xc000014b: return "STATUS_PIPE_BROKEN";
    case 0xc000019c: return "STATUS_FS_DRIVER_REQUIRED";
    case 0xc0000203: return "STATUS_USER_SESSION_DELETED";
    case 0xc0000224: return "STATUS_PASSWORD_MUST_CHANGE";
    case 0xc0000225: return "STATUS_NOT_FOUND";
    case 0xc0000234: return "STATUS_ACCOUNT_LOCKED_OUT";
    case 0xc0000275: return "STATUS_NOT_A_REPARSE_POINT";
    case 0xc000035c: return "STATUS_NETWORK_SESSION_EXPIRED";
  }
  return "";
}

// CreateDisposition (MS-SMB2 2.2.13, MS-CIFS 2.2.4.64.1).
export function createDispositionName(disposition: u32): string {
  switch (disposition) {
    case 0: return "FILE_SUPERSEDE";
    case 1: return "FILE_OPEN";
    case 2: return "FILE_CREATE";
    case 3: return "FILE_OPEN_IF";
    case 4: return "FILE_OVERWRITE";
    case 5: return "FILE_OVERWRITE_IF";
  }
  return "";
}

// CreateAction (MS-SMB2 2.2.14, MS-CIFS 2.2.4.64.2).
export function createActionName(action: u32): string {
  switch (action) {
    case 0: return "FILE_SUPERSEDED";
    case 1: return "FILE_OPENED";
    case 2: return "FILE_CREATED";
    case 3: return "FILE_OVERWRITTEN";
  }
  return "";
}

// DialectRevision (MS-SMB2 2.2.4).
export function smb2DialectName(dialect: u16): string {
  switch (dialect) {
    case 0x0202: return "2.0.2";
    case 0x0210: return "2.1";
    case 0x0300: return "3.0";
    case 0x0302: return "3.0.2";
    case 0x0311: return "3.1.1";
    case 0x02ff: return "2.???";
  }
  return "";
}

// ShareType of a TREE_CONNECT response (MS-SMB2 2.2.10).
export function shareTypeName(shareType: u8): string {
  switch (shareType) {
    case 1: return "DISK";
    case 2: return "PIPE";
    case 3: return "PRINT";
  }
  return "";
}

// CtlCode values of SMB2 IOCTL (MS-SMB2 2.2.31) and MS-FSCC 2.3.
export function ctlCodeName(ctlCode: u32): string {
  switch (ctlCode) {
    case 0x00060194: return "FSCTL_DFS_GET_REFERRALS";
    case 0x000601b0: return "FSCTL_DFS_GET_REFERRALS_EX";
    case 0x0011400c: return "FSCTL_PIPE_PEEK";
    case 0x00110018: return "FSCTL_PIPE_WAIT";
    case 0x0011c017: return "FSCTL_PIPE_TRANSCEIVE";
    case 0x001440f2: return "FSCTL_SRV_COPYCHUNK";
    case 0x001480f2: return "FSCTL_SRV_COPYCHUNK_WRITE";
    case 0x00144064: return "FSCTL_SRV_ENUMERATE_SNAPSHOTS";
    case 0x00140078: return "FSCTL_SRV_REQUEST_RESUME_KEY";
    case 0x001441bb: return "FSCTL_SRV_READ_HASH";
    case 0x001401d4: return "FSCTL_LMR_REQUEST_RESILIENCY";
    case 0x001401fc: return "FSCTL_QUERY_NETWORK_INTERFACE_INFO";
    case 0x000900a4: return "FSCTL_SET_REPARSE_POINT";
    case 0x000900a8: return "FSCTL_GET_REPARSE_POINT";
    case 0x00098208: return "FSCTL_FILE_LEVEL_TRIM";
    case 0x00140204: return "FSCTL_VALIDATE_NEGOTIATE_INFO";
  }
  return "";
}

// SMB_COM_TRANSACTION2 subcommands, Setup[0] ([MS-CIFS] 2.2.6).
export function trans2SubcommandName(subcommand: u32): string {
  switch (subcommand) {
    case 0x0000: return "TRANS2_OPEN2";
    case 0x0001: return "TRANS2_FIND_FIRST2";
    case 0x0002: return "TRANS2_FIND_NEXT2";
    case 0x0003: return "TRANS2_QUERY_FS_INFORMATION";
    case 0x0004: return "TRANS2_SET_FS_INFORMATION";
    case 0x0005: return "TRANS2_QUERY_PATH_INFORMATION";
    case 0x0006: return "TRANS2_SET_PATH_INFORMATION";
    case 0x0007: return "TRANS2_QUERY_FILE_INFORMATION";
    case 0x0008: return "TRANS2_SET_FILE_INFORMATION";
    case 0x0009: return "TRANS2_FSCTL";
    case 0x000a: return "TRANS2_IOCTL2";
    case 0x000b: return "TRANS2_FIND_NOTIFY_FIRST";
    case 0x000c: return "TRANS2_FIND_NOTIFY_NEXT";
    case 0x000d: return "TRANS2_CREATE_DIRECTORY";
    case 0x000e: return "TRANS2_SESSION_SETUP";
    case 0x0010: return "TRANS2_GET_DFS_REFERRAL";
    case 0x0011: return "TRANS2_REPORT_DFS_INCONSISTENCY";
  }
  return "";
}

// SMB_COM_NT_TRANSACT functions ([MS-CIFS] 2.2.7).
export function ntTransactFunctionName(fn: u32): string {
  switch (fn) {
    case 0x0001: return "NT_TRANSACT_CREATE";
    case 0x0002: return "NT_TRANSACT_IOCTL";
    case 0x0003: return "NT_TRANSACT_SET_SECURITY_DESC";
    case 0x0004: return "NT_TRANSACT_NOTIFY_CHANGE";
    case 0x0005: return "NT_TRANSACT_RENAME";
    case 0x0006: return "NT_TRANSACT_QUERY_SECURITY_DESC";
    case 0x0007: return "NT_TRANSACT_QUERY_QUOTA";
    case 0x0008: return "NT_TRANSACT_SET_QUOTA";
  }
  return "";
}

// SMB_COM_TRANSACTION subcommands on named pipes, Setup[0] ([MS-CIFS] 2.2.5).
export function transSubcommandName(subcommand: u32): string {
  switch (subcommand) {
    case 0x0001: return "TRANS_SET_NMPIPE_STATE";
    case 0x0011: return "TRANS_RAW_READ_NMPIPE";
    case 0x0021: return "TRANS_QUERY_NMPIPE_STATE";
    case 0x0022: return "TRANS_QUERY_NMPIPE_INFO";
    case 0x0023: return "TRANS_PEEK_NMPIPE";
    case 0x0026: return "TRANS_TRANSACT_NMPIPE";
    case 0x0031: return "TRANS_RAW_WRITE_NMPIPE";
    case 0x0036: return "TRANS_READ_NMPIPE";
    case 0x0037: return "TRANS_WRITE_NMPIPE";
    case 0x0053: return "TRANS_WAIT_NMPIPE";
    case 0x0054: return "TRANS_CALL_NMPIPE";
  }
  return "";
}
