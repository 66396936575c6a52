// Telnet field ids (980-989) and anomaly ids (980-989).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// The user name typed at the login prompt is written as the common fields
// `user` and `account`.

export namespace TelnetField {
  @inline export const SESSION_EVENT: u16 = 980;  // "start" (first bytes), "login" (a login attempt ended), "end"
  @inline export const LOGIN_RESULT: u16 = 981;   // "success", "failure" or "unknown", guessed from server text
  @inline export const LOGIN_GUESS: u16 = 982;    // the text the guess was made from, in words
  @inline export const AUTH_SCHEME: u16 = 983;    // "password": typed in cleartext
  @inline export const DURATION_MS: u16 = 984;    // "end": first to last packet of the session
}

export function telnetFieldName(id: u16): string {
  switch (id) {
    case TelnetField.SESSION_EVENT: return "session_event";
    case TelnetField.LOGIN_RESULT: return "login_result";
    case TelnetField.LOGIN_GUESS: return "login_guess";
    case TelnetField.AUTH_SCHEME: return "auth_scheme";
    case TelnetField.DURATION_MS: return "duration_ms";
  }
  return "";
}

export namespace TelnetAnomaly {
  // A user name longer than the 48 bytes the dissector keeps.
  @inline export const USER_TRUNCATED: u16 = 980;
}

export function telnetAnomalyName(id: u16): string {
  switch (id) {
    case TelnetAnomaly.USER_TRUNCATED: return "telnet.user_truncated";
  }
  return "";
}
