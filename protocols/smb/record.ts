// Field writers shared by the SMB1 and SMB2 record code: status and code
// names with a hex fallback, the session's account, the request-to-response
// time.

import { Field } from "../fields";
import { contextTsNsec, contextTsSec, fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { writeHex } from "../text";
import { writeAccount } from "../ntlm/ntlmssp";
import { ntStatusName } from "./tables";
import { SmbField } from "./fields";
import {
  sessionDomain, sessionDomainLength, sessionFind, sessionUser, sessionUserLength,
  pendingTsNsec, pendingTsSec, DOMAIN_BYTES, USER_BYTES,
} from "./state";

// "0x" and 8 hex digits, or DOMAIN\user.
const scratch = memory.data(<i32>(USER_BYTES + DOMAIN_BYTES + 2));

// Writes `name`, or the value as 0x%08x when the table has no name for it.
export function fieldNameOrHex(id: u16, name: string, value: u32): void {
  if (name.length > 0) {
    fieldLiteral(id, name);
    return;
  }
  store<u8>(scratch, 0x30);
  store<u8>(scratch, 0x78, 1);
  writeHex(value, 8, scratch + 2);
  fieldText(id, scratch, 10);
}

export function fieldStatus(status: u32): void {
  fieldNameOrHex(SmbField.STATUS, ntStatusName(status), status);
}

// Writes user, domain and account of the session when an authentication
// named them.
export function fieldAccount(sessionId: u64): void {
  const session = sessionFind(sessionId);
  if (session == 0) return;
  const userLength = sessionUserLength(session);
  if (userLength == 0) return;
  const domainLength = sessionDomainLength(session);
  fieldText(Field.USER, sessionUser(session), userLength);
  if (domainLength > 0) fieldText(Field.DOMAIN, sessionDomain(session), domainLength);
  const accountLength = writeAccount(sessionUser(session), userLength, sessionDomain(session), domainLength, scratch, USER_BYTES + DOMAIN_BYTES + 2);
  fieldText(Field.ACCOUNT, scratch, accountLength);
}

// Writes rtt_us from the request's packet time to the current packet time.
export function fieldRtt(pending: usize): void {
  const requestSec = pendingTsSec(pending);
  if (requestSec == 0) return;
  const requestNs = <u64>requestSec * 1_000_000_000 + <u64>pendingTsNsec(pending);
  const responseNs = <u64>contextTsSec() * 1_000_000_000 + <u64>contextTsNsec();
  if (responseNs < requestNs) return;
  fieldU64(Field.RTT_US, (responseNs - requestNs) / 1000);
}
