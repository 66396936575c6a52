// DCE-RPC over TCP (ncacn_ip_tcp): the endpoint mapper on
// port 135 and the dynamic ports it hands out. The core's stream layer calls
// these entry points (see protocols/api.ts) with in-order bytes of one
// direction; PDU handling is shared with named pipes in connection.ts.
//
// Specification: DCE 1.1: Remote Procedure Call (The Open Group C706, 1997)
// chapter 12, with [MS-RPCE] Remote Procedure Call Protocol Extensions.

import { PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, STREAM_NEED_MORE, STREAM_REJECT } from "../api";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import {
  checkHeader, closeConnection, COMMON_HEADER_BYTES, gapConnection, handlePdu, initConnection, plausibleHeader, PduType,
  resyncPending, setResync,
} from "./connection";
import { DcerpcAnomaly } from "./fields";

// Request stub kept across fragments for evidence over TCP. The connection
// area is then 1696 + 8192 bytes, well inside APP_STATE_BYTES (32768).
@inline const TCP_STUB_BYTES: u32 = 8192;
// A PDU up to this size is parsed whole, so the stream layer buffers it. A
// longer one is parsed from its first TCP_PREFIX_BYTES and the rest is
// skipped. 4096 bytes is the smallest stream buffer the core accepts, so the
// prefix always fits. The prefix contains every header field and the start
// of the stub, where the evidence is. It loses the auth verifier of a long
// PDU and the tail of a long request fragment (counted as stub_truncated).
@inline const TCP_PREFIX_BYTES: u32 = 4096;

// Matches the first bytes of a direction: version 5.0 or 5.1, a valid data
// representation and a frag_length of at least 24 bytes. The PDU must open
// an association (C706 12.6.4): bind or alter_context from the client, or
// their acks or bind_nak from the server. A first request fragment from the
// client also matches when its header is exactly what Windows sends (version
// 5.0, little-endian ASCII IEEE drep): the flow then started before the
// capture, or its bind was lost, and the endpoint mapper's table may still
// name its interface.
export function dcerpcProbe(ptr: usize, length: u32, toServer: bool): i32 {
  if (length == 0) return PROBE_NEED_MORE;
  if (load<u8>(ptr) != 5) return PROBE_NO_MATCH;
  if (length < COMMON_HEADER_BYTES) return PROBE_NEED_MORE;
  const fragLength = checkHeader(ptr);
  if (fragLength < 24) return PROBE_NO_MATCH;
  const ptype = load<u8>(ptr, 2);
  const opensFromClient = ptype == PduType.BIND || ptype == PduType.ALTER_CONTEXT;
  if (toServer && ptype == PduType.REQUEST) return plainFirstRequest(ptr, fragLength) ? PROBE_MATCH : PROBE_NO_MATCH;
  if (toServer) return opensFromClient ? PROBE_MATCH : PROBE_NO_MATCH;
  // A bind seen in the responder's direction: on a flow picked up without its
  // handshake the core guesses the roles from the ports, and a DCOM callback
  // can run from a high port to a lower one.
  return opensFromClient || ptype == PduType.BIND_ACK || ptype == PduType.BIND_NAK || ptype == PduType.ALTER_CONTEXT_RESP
    ? PROBE_MATCH
    : PROBE_NO_MATCH;
}

// A request header as Windows writes it: minor version 0, first fragment,
// drep 10 00 00 00, and an auth_length that fits in the fragment.
function plainFirstRequest(ptr: usize, fragLength: u32): bool {
  if (load<u8>(ptr, 1) != 0 || (load<u8>(ptr, 3) & 0x01) == 0) return false;
  if (load<u32>(ptr, 4) != 0x00000010) return false;
  return <u32>load<u16>(ptr, 10) + 24 <= fragLength;
}

// Parses the PDUs at the start of `ptr`. Returns the bytes consumed (whole
// PDUs, or a PDU prefix plus the rest of that PDU to skip), STREAM_NEED_MORE,
// or STREAM_REJECT when the bytes are not DCE-RPC.
export function dcerpcOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  initConnection(state, TCP_STUB_BYTES);
  if (resyncPending(state, toServer)) return resynchronise(state, toServer, ptr, length);
  let consumed: u32 = 0;
  while (length - consumed >= COMMON_HEADER_BYTES) {
    const pdu = ptr + <usize>consumed;
    const available = length - consumed;
    const fragLength = checkHeader(pdu);
    if (fragLength == 0) {
      countAnomaly(DcerpcAnomaly.HEADER_INVALID);
      // Nothing marks the next PDU boundary in a TCP stream.
      return consumed > 0 ? <i32>consumed : STREAM_REJECT;
    }
    if (available >= fragLength) {
      handlePdu(state, false, pdu, fragLength);
      consumed += fragLength;
      continue;
    }
    if (fragLength <= TCP_PREFIX_BYTES || available < TCP_PREFIX_BYTES) break;
    // A PDU longer than the prefix: parse its beginning and let the core
    // drop the rest as it arrives.
    handlePdu(state, false, pdu, TCP_PREFIX_BYTES);
    return <i32>(consumed + fragLength);
  }
  return consumed > 0 ? <i32>consumed : STREAM_NEED_MORE;
}

// After a gap the next bytes may start inside a PDU, so the direction
// resynchronises on the next plausible header (see resynchronise).
export function dcerpcOnGap(state: usize, toServer: bool): void {
  initConnection(state, TCP_STUB_BYTES);
  gapConnection(state, false);
  setResync(state, toServer, true);
}

// Skips bytes up to the next offset where a plausible PDU header starts and
// returns the bytes skipped. Once the header at offset 0 is plausible, the
// direction is in step again and the result is that of parsing from there.
// NOTE: stub bytes can look like a header by chance; a wrong match is caught
// by the next header check, which then rejects the flow.
function resynchronise(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  if (length < COMMON_HEADER_BYTES) return STREAM_NEED_MORE;
  const last = length - COMMON_HEADER_BYTES;
  for (let at: u32 = 0; at <= last; at++) {
    if (!plausibleHeader(ptr + <usize>at)) continue;
    if (at == 0) {
      setResync(state, toServer, false);
      return dcerpcOnData(state, toServer, ptr, length);
    }
    return <i32>at;
  }
  // Keep the last 15 bytes: a header may start in them.
  return last > 0 ? <i32>(last + 1) : STREAM_NEED_MORE;
}

export function dcerpcOnClose(state: usize): void {
  closeConnection(state, false);
}
