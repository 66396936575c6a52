// The "http" record of one request and its response, and the login result
// judged from them.

import { Field, RecordType } from "../fields";
import { beginRecord, endRecord, fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { writeAccount } from "../ntlm/ntlmssp";
import { isLoginPath } from "./request";
import { HttpField } from "./fields";
import {
  AuthScheme, authSchemeName, E_AGENT, E_AGENT_LENGTH, E_AUTH, E_CONTENT_LENGTH, E_DOMAIN, E_DOMAIN_LENGTH, E_FILE,
  E_FILE_LENGTH, E_FLAGS, E_HOST, E_HOST_LENGTH, E_METHOD, E_METHOD_LENGTH, E_NTLM_TYPE, E_URI, E_URI_LENGTH, E_USER,
  E_USER_LENGTH, E_VERSION, EF_FORM_PASSWORD, EF_LOGIN_PATH, EF_URLENCODED, R_PASSWORD_FIELD, S_CHALLENGE, S_LOCATION,
  S_LOCATION_LENGTH, S_RESPONSE_FLAGS, S_SERVER, S_SERVER_LENGTH, S_STATUS,
} from "./state";

const accountScratch = memory.data(256);

// True when the request carried credentials in Authorization: any scheme
// but an NTLM NEGOTIATE message, which only starts the handshake.
function sentCredentials(entry: usize): bool {
  const auth = load<u8>(entry + E_AUTH);
  if (auth == AuthScheme.NONE) return false;
  if (auth == AuthScheme.NTLM || auth == AuthScheme.NEGOTIATE) {
    const type = load<u8>(entry + E_NTLM_TYPE);
    // Negotiate without NTLMSSP carries a Kerberos AP-REQ: credentials too.
    return type == 3 || (auth == AuthScheme.NEGOTIATE && type == 0);
  }
  return true;
}

// A POST to a login path whose form had a password field, or whose body
// could not be read as a form (JSON, for example).
function isFormLogin(entry: usize): bool {
  const flags = load<u8>(entry + E_FLAGS);
  if ((flags & EF_LOGIN_PATH) == 0 || load<u8>(entry + E_AUTH) != AuthScheme.NONE) return false;
  return (flags & EF_FORM_PASSWORD) != 0 || (flags & EF_URLENCODED) == 0;
}

// Writes the record of `entry` and, when `status` is not 0, of the response
// in the flow state.
export function writeExchange(state: usize, entry: usize, status: u16): void {
  if (!beginRecord(RecordType.HTTP, status != 0)) return;
  const methodLength = <u32>load<u8>(entry + E_METHOD_LENGTH);
  if (methodLength > 0) {
    fieldText(HttpField.METHOD, entry + E_METHOD, methodLength);
    fieldLiteral(HttpField.VERSION, load<u8>(entry + E_VERSION) == 0 ? "1.0" : "1.1");
  }
  writeText(HttpField.HOST, entry + E_HOST, <u32>load<u8>(entry + E_HOST_LENGTH));
  writeText(HttpField.URI, entry + E_URI, <u32>load<u16>(entry + E_URI_LENGTH));
  writeText(HttpField.USER_AGENT, entry + E_AGENT, <u32>load<u8>(entry + E_AGENT_LENGTH));
  const bodyLength = load<u64>(entry + E_CONTENT_LENGTH);
  if (bodyLength > 0) fieldU64(HttpField.REQUEST_BODY_LENGTH, bodyLength);
  writeText(HttpField.FILE_NAME, entry + E_FILE, <u32>load<u8>(entry + E_FILE_LENGTH));

  if (status != 0) {
    fieldU64(HttpField.STATUS_CODE, status);
    writeText(HttpField.SERVER, state + S_SERVER, <u32>load<u8>(state + S_SERVER_LENGTH));
    if (status >= 300 && status < 400) writeText(HttpField.LOCATION, state + S_LOCATION, <u32>load<u16>(state + S_LOCATION_LENGTH));
    const challenge = load<u8>(state + S_CHALLENGE);
    if (challenge != 0) fieldLiteral(HttpField.CHALLENGE, authSchemeName(challenge));
  }

  if (sentCredentials(entry)) {
    fieldLiteral(HttpField.AUTH_SCHEME, authSchemeName(load<u8>(entry + E_AUTH)));
    fieldLiteral(HttpField.LOGIN_RESULT, headerLoginResult(status));
  } else if (isFormLogin(entry)) {
    fieldLiteral(HttpField.AUTH_SCHEME, "form");
    writeFormGuess(state, status);
  } else if (load<u8>(entry + E_AUTH) != AuthScheme.NONE) {
    fieldLiteral(HttpField.AUTH_SCHEME, authSchemeName(load<u8>(entry + E_AUTH)));
  }
  writeUser(entry);
  endRecord();
}

function writeText(id: u16, ptr: usize, length: u32): void {
  if (length > 0) fieldText(id, ptr, length);
}

// RFC 9110 15.5.2 and 15.5.4: a 401 requests (other) credentials and a 403
// rejects the ones given, while 2xx and 3xx responses accept them.
function headerLoginResult(status: u16): string {
  if (status == 401 || status == 403) return "failure";
  if (status >= 200 && status < 400) return "success";
  return "unknown";
}

function writeFormGuess(state: usize, status: u16): void {
  let result = "unknown";
  let guess = "unknown: the login form was not answered";
  if (status >= 300 && status < 400) {
    const location = state + S_LOCATION;
    const locationLength = <u32>load<u16>(state + S_LOCATION_LENGTH);
    if (isLoginPath(location, locationLength)) {
      result = "failure";
      guess = "failure guessed: the login form was answered by a redirect back to a login page";
    } else {
      result = "success";
      guess = "success guessed: the login form was answered by a redirect away from the login pages";
    }
  } else if (status == 401 || status == 403) {
    result = "failure";
    guess = "failure guessed: the login form was answered with status 401 or 403";
  } else if (status == 200 && (load<u8>(state + S_RESPONSE_FLAGS) & R_PASSWORD_FIELD) != 0) {
    result = "failure";
    guess = "failure guessed: the answer to the login form shows a password field again";
  } else if (status != 0) {
    guess = "unknown: the answer to the login form shows no sign of the result";
  }
  fieldLiteral(HttpField.LOGIN_RESULT, result);
  fieldLiteral(HttpField.LOGIN_GUESS, guess);
}

function writeUser(entry: usize): void {
  const userLength = <u32>load<u8>(entry + E_USER_LENGTH);
  if (userLength == 0) return;
  const domainLength = <u32>load<u8>(entry + E_DOMAIN_LENGTH);
  fieldText(Field.USER, entry + E_USER, userLength);
  if (domainLength > 0) fieldText(Field.DOMAIN, entry + E_DOMAIN, domainLength);
  const accountLength = writeAccount(entry + E_USER, userLength, entry + E_DOMAIN, domainLength, accountScratch, 256);
  if (accountLength > 0) fieldText(Field.ACCOUNT, accountScratch, accountLength);
}
