// S7comm on ISO-on-TCP: TPKT framing, COTP TPDUs and the S7comm or
// S7comm-plus PDU in the COTP data. One record per COTP connection TPDU (CR,
// CC, DR, DC, ER) and one per S7 PDU, with request/response matching by PDU
// reference.
//
// Specifications: RFC 1006 "ISO Transport Service on top of the TCP"
// (TPKT, section 6), ISO/IEC 8073 / RFC 905 "ISO Transport Protocol
// Specification" (COTP class 0 TPDUs, section 13). S7comm itself has no
// public specification (see tables.ts).
//
// TPKT (RFC 1006 section 6), then one or more COTP TPDUs:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------+---------------+-------------------------------+
//   |  version (3)  |  reserved (0) |  length (whole TPKT, >= 7)    |
//   +---------------+---------------+-------------------------------+
//   | LI (header    | TPDU code     | DT: EOT bit 0x80 | TPDU-NR    |
//   |  bytes - 1)   | (high nibble) | CR/CC: dst-ref, src-ref, ...  |
//   +---------------+---------------+-------------------------------+
//   | user data (DT only: the rest of the TPKT) ...
//
// RFC 905 section 6.4 lets several TPDUs share one TPKT (concatenation).
// Only the last may carry user data, because DT has no length of its own.

import {
  fits, readU16be, PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, STREAM_NEED_MORE, STREAM_REJECT,
} from "../api";
import { RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { beginRecord, endRecord, fieldLiteral, fieldU64 } from "../../wasm-core/assembly/events";
import { S7Anomaly, S7Field } from "./fields";
import { dissectS7Pdu, S7_PROTOCOL_ID, S7_PLUS_PROTOCOL_ID, plausibleS7Header } from "./pdu";

@inline export const PORT_S7COMM: u16 = 102;

@inline const TPKT_HEADER_BYTES: u32 = 4;
@inline const TPKT_VERSION: u8 = 3;
// TPKT header, COTP LI and TPDU code, and one byte of DT header.
@inline const MIN_TPKT_LENGTH: u32 = 7;
// A TPKT up to this size is parsed whole, and a longer one from its first
// bytes. 4096 bytes is the smallest stream buffer the core accepts, and an S7
// PDU is at most the PDU length negotiated in setup communication (240 and
// 480 bytes in the test captures).
@inline const TPKT_PARSE_MAX: u32 = 4096;

// COTP TPDU codes (RFC 905 section 13, high nibble of byte 1).
@inline const COTP_CR: u8 = 0xe0;
@inline const COTP_CC: u8 = 0xd0;
@inline const COTP_DR: u8 = 0x80;
@inline const COTP_DC: u8 = 0xc0;
@inline const COTP_DT: u8 = 0xf0;
@inline const COTP_ED: u8 = 0x10;
@inline const COTP_AK: u8 = 0x60;
@inline const COTP_EA: u8 = 0x20;
@inline const COTP_RJ: u8 = 0x50;
@inline const COTP_ER: u8 = 0x70;
@inline const DT_EOT: u8 = 0x80;
// CR/CC parameters (RFC 905 section 13): calling and called TSAP.
@inline const PARAM_CALLING_TSAP: u8 = 0xc1;
@inline const PARAM_CALLED_TSAP: u8 = 0xc2;
// CR/CC fixed part after LI and code: dst-ref 2, src-ref 2, class/option 1.
@inline const CR_FIXED_BYTES: u32 = 7;

// COTP data of one TSDU, gathered from DT TPDUs without EOT, per direction.
// NOTE: 8192 bytes is an estimate with room above the negotiated S7 PDU
// lengths for S7comm-plus objects. Longer TSDUs are dropped and counted as
// s7comm.cotp_reassembly_limit.
@inline const REASSEMBLY_MAX: u32 = 8192;

// Flow state in a zeroed area of the large class (APP_STATE_BYTES):
//   offset  size  field
//        0     1  flags (bit 0: stream rejected)
//        1     2  resynchronising, one byte per direction (0 to server, 1 to client)
//        4     4  reassembled bytes, u16 per direction
//        8     1  reassembly overflowed, one byte per direction (drop until EOT)
//       16   512  pending requests (pdu.ts)
//      528  8192  reassembly buffer, to server
//     8720  8192  reassembly buffer, to client
@inline const FLAGS: usize = 0;
@inline const RESYNCING: usize = 1;
@inline const REASSEMBLED: usize = 4;
@inline const OVERFLOWED: usize = 8;
@inline export const PENDING_AREA: usize = 16;
@inline const BUFFERS: usize = 528;
@inline export const S7_STATE_BYTES: u32 = <u32>BUFFERS + 2 * REASSEMBLY_MAX;

@inline function direction(toServer: bool): usize { return toServer ? 0 : 1; }

// Checks a TPKT header and the COTP TPDU code behind it (the caller checked 6 bytes).
function plausibleTpkt(p: usize): bool {
  if (load<u8>(p) != TPKT_VERSION || load<u8>(p, 1) != 0) return false;
  const length = <u32>readU16be(p + 2);
  if (length < MIN_TPKT_LENGTH) return false;
  const li = <u32>load<u8>(p, 4);
  if (li < 2 || li + 1 > length - TPKT_HEADER_BYTES) return false;
  return cotpName(load<u8>(p, 5) & 0xf0) != "";
}

// On port 102 any TPKT with a COTP TPDU matches. On other ports only a DT
// whose data starts an S7comm or S7comm-plus PDU does, because RDP and other
// ISO-on-TCP protocols share TPKT and COTP.
export function s7Probe(ptr: usize, length: u32, onS7Port: bool): i32 {
  if (length >= 1 && load<u8>(ptr) != TPKT_VERSION) return PROBE_NO_MATCH;
  if (length < 6) return PROBE_NEED_MORE;
  if (!plausibleTpkt(ptr)) return PROBE_NO_MATCH;
  if (onS7Port) return PROBE_MATCH;
  if ((load<u8>(ptr, 5) & 0xf0) != COTP_DT) return PROBE_NO_MATCH;
  const data = TPKT_HEADER_BYTES + 1 + <u32>load<u8>(ptr, 4);
  // A TPKT too short for an S7 header is not S7comm, however many bytes follow.
  if (<u32>readU16be(ptr + 2) < data + 10) return PROBE_NO_MATCH;
  if (length < data + 10) return PROBE_NEED_MORE;
  const id = load<u8>(ptr + <usize>data);
  if (id == S7_PLUS_PROTOCOL_ID) return PROBE_MATCH;
  return id == S7_PROTOCOL_ID && plausibleS7Header(ptr + <usize>data) ? PROBE_MATCH : PROBE_NO_MATCH;
}

export function s7OnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  if ((load<u8>(state + FLAGS) & 1) != 0) return STREAM_REJECT;
  let consumed: u32 = 0;
  // Every pass consumes at least one byte or leaves the loop.
  while (consumed < length) {
    const p = ptr + <usize>consumed;
    const remaining = length - consumed;
    if (!fits(remaining, 0, 6)) break;

    if (load<u8>(state + RESYNCING + direction(toServer)) != 0) {
      // After a gap, look for the next plausible TPKT header byte by byte.
      if (!plausibleTpkt(p)) {
        consumed++;
        continue;
      }
      store<u8>(state + RESYNCING + direction(toServer), 0);
    }

    if (!plausibleTpkt(p)) {
      countAnomaly(S7Anomaly.TPKT_INVALID);
      store<u8>(state + FLAGS, 1);
      return consumed > 0 ? <i32>consumed : STREAM_REJECT;
    }
    const tpktLength = <u32>readU16be(p + 2);
    if (fits(remaining, 0, tpktLength)) {
      dissectTpkt(state, toServer, p, tpktLength, false);
      consumed += tpktLength;
      continue;
    }
    if (tpktLength <= TPKT_PARSE_MAX || remaining < TPKT_PARSE_MAX) break;
    // Parse the first TPKT_PARSE_MAX bytes and let the core drop the rest.
    countAnomaly(S7Anomaly.TPKT_PREFIX_ONLY);
    dissectTpkt(state, toServer, p, TPKT_PARSE_MAX, true);
    return <i32>(consumed + tpktLength);
  }
  return consumed == 0 ? STREAM_NEED_MORE : <i32>consumed;
}

export function s7OnGap(state: usize, toServer: bool): void {
  store<u8>(state + RESYNCING + direction(toServer), 1);
  store<u16>(state + REASSEMBLED + (direction(toServer) << 1), 0);
  store<u8>(state + OVERFLOWED + direction(toServer), 0);
}

export function s7OnClose(state: usize): void {}

// Walks the TPDUs of one TPKT of `length` bytes at `p` (length checked >= 7).
// `prefixOnly` is set when `length` covers only the first bytes of the TPKT.
function dissectTpkt(state: usize, toServer: bool, p: usize, length: u32, prefixOnly: bool): void {
  let offset = TPKT_HEADER_BYTES;
  // Each TPDU consumes its LI + 1 bytes (at least 2), or the loop ends.
  while (fits(length, offset, 2)) {
    const li = <u32>load<u8>(p + <usize>offset);
    const code = load<u8>(p + <usize>offset, 1) & 0xf0;
    if (li < 1 || !fits(length, offset + 1, li)) {
      countAnomaly(S7Anomaly.COTP_LENGTH_INVALID);
      return;
    }
    const tpdu = p + <usize>offset;
    if (code == COTP_DT || code == COTP_ED) {
      // The data runs to the end of the TPKT.
      const dataOffset = offset + 1 + li;
      const eot = li >= 2 ? (load<u8>(tpdu, 2) & DT_EOT) != 0 : true;
      if (prefixOnly && !eot) {
        // Part of a segment would corrupt the TSDU being gathered, so drop it whole.
        countAnomaly(S7Anomaly.COTP_REASSEMBLY_LIMIT);
        store<u8>(state + OVERFLOWED + direction(toServer), 1);
        store<u16>(state + REASSEMBLED + (direction(toServer) << 1), 0);
        return;
      }
      handleData(state, toServer, p + <usize>dataOffset, length - dataOffset, eot);
      return;
    }
    connectionRecord(toServer, tpdu, li + 1, code);
    offset += li + 1;
  }
}

function cotpName(code: u8): string {
  switch (code) {
    case COTP_CR: return "CR";
    case COTP_CC: return "CC";
    case COTP_DR: return "DR";
    case COTP_DC: return "DC";
    case COTP_DT: return "DT";
    case COTP_ED: return "ED";
    case COTP_AK: return "AK";
    case COTP_EA: return "EA";
    case COTP_RJ: return "RJ";
    case COTP_ER: return "ER";
  }
  return "";
}

// Writes one record for a COTP TPDU other than DT/ED, with the TSAPs of a
// CR or CC. An S7 called TSAP is two bytes: connection type (1 PG, 2 OP,
// 3 S7 basic), then rack * 32 + slot.
function connectionRecord(toServer: bool, tpdu: usize, tpduBytes: u32, code: u8): void {
  beginRecord(RecordType.S7COMM, !toServer);
  fieldLiteral(S7Field.PROTOCOL_VARIANT, "cotp");
  fieldU64(S7Field.COTP_PDU_CODE, code);
  fieldLiteral(S7Field.COTP_PDU, cotpName(code));
  if ((code == COTP_CR || code == COTP_CC) && tpduBytes >= CR_FIXED_BYTES) {
    let offset = CR_FIXED_BYTES;
    // Each parameter consumes 2 + its length bytes.
    while (fits(tpduBytes, offset, 2)) {
      const parameter = load<u8>(tpdu + <usize>offset);
      const size = <u32>load<u8>(tpdu + <usize>offset, 1);
      const value = offset + 2;
      if (!fits(tpduBytes, value, size)) {
        countAnomaly(S7Anomaly.COTP_LENGTH_INVALID);
        break;
      }
      if ((parameter == PARAM_CALLING_TSAP || parameter == PARAM_CALLED_TSAP) && size >= 1 && size <= 8) {
        let tsap: u64 = 0;
        for (let i: u32 = 0; i < size; i++) tsap = (tsap << 8) | <u64>load<u8>(tpdu + <usize>(value + i));
        fieldU64(parameter == PARAM_CALLING_TSAP ? S7Field.SRC_TSAP : S7Field.DST_TSAP, tsap);
        if (parameter == PARAM_CALLED_TSAP && size == 2) {
          const rackSlot = load<u8>(tpdu + <usize>value, 1);
          fieldU64(S7Field.RACK, rackSlot >> 5);
          fieldU64(S7Field.SLOT, rackSlot & 0x1f);
        }
      }
      offset = value + size;
    }
  }
  endRecord();
}

// Hands COTP user data to the S7 decoder, gathering DT TPDUs without EOT
// in the direction's reassembly buffer until the one with EOT arrives.
function handleData(state: usize, toServer: bool, data: usize, length: u32, eot: bool): void {
  const d = direction(toServer);
  const lengthSlot = state + REASSEMBLED + (d << 1);
  const buffer = state + BUFFERS + d * <usize>REASSEMBLY_MAX;
  const bufferedBytes = <u32>load<u16>(lengthSlot);
  const overflowed = load<u8>(state + OVERFLOWED + d) != 0;

  if (bufferedBytes == 0 && !overflowed && eot) {
    if (length > 0) dissectS7Pdu(state + PENDING_AREA, toServer, data, length);
    return;
  }
  if (!overflowed) {
    if (bufferedBytes + length > REASSEMBLY_MAX) {
      countAnomaly(S7Anomaly.COTP_REASSEMBLY_LIMIT);
      store<u8>(state + OVERFLOWED + d, 1);
      store<u16>(lengthSlot, 0);
    } else {
      memory.copy(buffer + <usize>bufferedBytes, data, length);
      store<u16>(lengthSlot, <u16>(bufferedBytes + length));
    }
  }
  if (!eot) return;
  const total = <u32>load<u16>(lengthSlot);
  store<u16>(lengthSlot, 0);
  store<u8>(state + OVERFLOWED + d, 0);
  if (!overflowed && total > 0) dissectS7Pdu(state + PENDING_AREA, toServer, buffer, total);
}
