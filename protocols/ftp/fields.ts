// FTP field ids (950-979) and anomaly ids (950-979).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// The session's user name is written as the common fields `user` and `account`.

export namespace FtpField {
  @inline export const COMMAND: u16 = 950;       // command verb in upper case, such as "STOR"
  @inline export const ARGUMENT: u16 = 951;      // its argument; never written for PASS and ACCT
  @inline export const REPLY_CODE: u16 = 952;    // final reply code (2xx-5xx); absent when unanswered
  @inline export const REPLY_TEXT: u16 = 953;    // text of the reply's first line
  @inline export const LOGIN_RESULT: u16 = 954;  // USER and PASS: "success" (230) or "failure" (530)
  @inline export const AUTH_SCHEME: u16 = 955;   // "password" (cleartext), "anonymous" or "tls"
  @inline export const FILE_NAME: u16 = 956;     // path argument of a file command (STOR, RETR, DELE, ...)
}

export function ftpFieldName(id: u16): string {
  switch (id) {
    case FtpField.COMMAND: return "command";
    case FtpField.ARGUMENT: return "argument";
    case FtpField.REPLY_CODE: return "reply_code";
    case FtpField.REPLY_TEXT: return "reply_text";
    case FtpField.LOGIN_RESULT: return "login_result";
    case FtpField.AUTH_SCHEME: return "auth_scheme";
    case FtpField.FILE_NAME: return "file_name";
  }
  return "";
}

export namespace FtpAnomaly {
  // A command or reply line longer than the dissector reads (MAX_LINE_BYTES).
  @inline export const LINE_TOO_LONG: u16 = 950;
  // A reply line that does not start with three digits.
  @inline export const REPLY_MALFORMED: u16 = 951;
  // A command was sent before the reply to the previous one.
  @inline export const COMMAND_UNANSWERED: u16 = 952;
}

export function ftpAnomalyName(id: u16): string {
  switch (id) {
    case FtpAnomaly.LINE_TOO_LONG: return "ftp.line_too_long";
    case FtpAnomaly.REPLY_MALFORMED: return "ftp.reply_malformed";
    case FtpAnomaly.COMMAND_UNANSWERED: return "ftp.command_unanswered";
  }
  return "";
}
