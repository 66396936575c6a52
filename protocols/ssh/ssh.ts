// SSH sessions: the identification strings of both sides, the start of
// encryption and the end of the session. Everything after SSH_MSG_NEWKEYS is
// encrypted, so the dissector skips the rest of each direction from there.
//
// Specification: RFC 4253 "The Secure Shell (SSH) Transport Layer
// Protocol", section 4.2 (protocol version exchange) and section 6 (binary
// packet protocol):
//
//   version line:  "SSH-" protoversion "-" softwareversion [SP comments] CR LF
//                  (at most 255 bytes; a server may send other lines first)
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                   packet_length (big-endian)                  |
//   +---------------+---------------+-------------------------------+
//   | padding_length| message number|  payload ... padding ... MAC  |
//   +---------------+---------------+-------------------------------+

import { PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, readU32be, STREAM_NEED_MORE, STREAM_REJECT } from "../api";
import { RecordType } from "../fields";
import { endRecord, fieldBool, fieldLiteral, fieldText } from "../../wasm-core/assembly/events";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { copyPrintable, indexOfByte, LINE_TOO_LONG, lineLength, prefixMatches, startsWith, trimmedLength } from "../lines";
import { beginSessionRecord, endSessionRecord, markSessionStartOnce, setFlagBits, SKIP_REST } from "../session";
import { SshAnomaly, SshField } from "./fields";

@inline export const PORT_SSH: u16 = 22;
// RFC 4253 4.2: the version line, CR LF included, is at most 255 bytes.
@inline const MAX_BANNER_BYTES: u32 = 255;
// Lines a server may send before its version line that the dissector reads.
@inline const MAX_PRE_BANNER_LINES: u32 = 16;
// RFC 4253 6.1: implementations must handle packets of 35000 bytes.
@inline const MAX_PACKET_BYTES: u32 = 35000;
// RFC 4253 12: SSH_MSG_NEWKEYS; the sender encrypts everything after it.
@inline const MSG_NEWKEYS: u8 = 21;

// Flow state (large class): flags, session start time, both banners.
@inline const S_FLAGS: usize = 0;
@inline const S_START: usize = 4;  // SESSION_START_BYTES: start time (session.ts)
@inline const S_CLIENT_LENGTH: usize = 12;
@inline const S_SERVER_LENGTH: usize = 14;
@inline const S_CLIENT_LINES: usize = 16;
@inline const S_SERVER_LINES: usize = 17;
@inline const S_CLIENT_BANNER: usize = 32;
@inline const S_SERVER_BANNER: usize = 32 + 256;
@inline export const SSH_STATE_BYTES: u32 = 32 + 512;

@inline const F_TIME_SET: u8 = 1;
@inline const F_CLIENT_BANNER: u8 = 2;
@inline const F_SERVER_BANNER: u8 = 4;
@inline const F_STARTED: u8 = 8;
@inline const F_CLIENT_NEWKEYS: u8 = 16;
@inline const F_SERVER_NEWKEYS: u8 = 32;

// Matches a direction that starts with an SSH version line ("SSH-1." or
// "SSH-2."); on port 22 a server's pre-banner text line matches too.
// NOTE: a server's first segment of fewer than 6 bytes that does not start
// a version line is not matched, even on port 22.
export function sshProbe(ptr: usize, length: u32, toServer: bool, onPort: bool): i32 {
  if (length < 6) return prefixMatches(ptr, length, "SSH-2.") || prefixMatches(ptr, length, "SSH-1.") ? PROBE_NEED_MORE : PROBE_NO_MATCH;
  if (startsWith(ptr, length, "SSH-2.") || startsWith(ptr, length, "SSH-1.")) return PROBE_MATCH;
  if (onPort && !toServer) {
    const c = load<u8>(ptr);
    if (c >= 0x20 && c < 0x7f) return PROBE_MATCH;
  }
  return PROBE_NO_MATCH;
}

export function sshOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  markSessionStartOnce(state + S_FLAGS, F_TIME_SET, state + S_START);
  const flags = load<u8>(state + S_FLAGS);
  const bannerFlag = toServer ? F_CLIENT_BANNER : F_SERVER_BANNER;
  if ((flags & bannerFlag) == 0) return readVersionLine(state, toServer, ptr, length);
  const newkeysFlag = toServer ? F_CLIENT_NEWKEYS : F_SERVER_NEWKEYS;
  if ((flags & newkeysFlag) != 0) return <i32>(length + SKIP_REST);
  return readPackets(state, toServer, ptr, length);
}

export function sshOnGap(state: usize, toServer: bool): void {
  // A gap in the clear part loses the packet boundaries: treat the rest of
  // the direction as encrypted.
  const flags = load<u8>(state + S_FLAGS);
  store<u8>(state + S_FLAGS, flags | (toServer ? F_CLIENT_NEWKEYS : F_SERVER_NEWKEYS));
}

export function sshOnClose(state: usize): void {
  const flags = load<u8>(state + S_FLAGS);
  if ((flags & (F_CLIENT_BANNER | F_SERVER_BANNER)) == 0) return;
  if ((flags & F_STARTED) == 0) writeStart(state);
  if (!beginSessionRecord(RecordType.SSH, false, SshField.SESSION_EVENT, "end")) return;
  writeBanners(state);
  fieldBool(SshField.ENCRYPTED, (flags & (F_CLIENT_NEWKEYS | F_SERVER_NEWKEYS)) == (F_CLIENT_NEWKEYS | F_SERVER_NEWKEYS));
  endSessionRecord(SshField.DURATION_MS, state + S_START);
}

function readVersionLine(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  const line = lineLength(ptr, length, MAX_BANNER_BYTES);
  if (line == 0) return STREAM_NEED_MORE;
  if (line == LINE_TOO_LONG) {
    countAnomaly(SshAnomaly.BANNER_TOO_LONG);
    return STREAM_REJECT;
  }
  const lineBytes = <u32>line;
  if (!startsWith(ptr, lineBytes, "SSH-")) {
    const linesAt = state + (toServer ? S_CLIENT_LINES : S_SERVER_LINES);
    const lines = <u32>load<u8>(linesAt) + 1;
    if (toServer || lines > MAX_PRE_BANNER_LINES) {
      countAnomaly(SshAnomaly.BANNER_TOO_LONG);
      return STREAM_REJECT;
    }
    store<u8>(linesAt, <u8>lines);
    return <i32>lineBytes;
  }
  const text = trimmedLength(ptr, lineBytes);
  const slot = state + (toServer ? S_CLIENT_BANNER : S_SERVER_BANNER);
  const copied = copyPrintable(ptr, text, slot, 255);
  store<u16>(state + (toServer ? S_CLIENT_LENGTH : S_SERVER_LENGTH), <u16>copied);
  const flags = load<u8>(state + S_FLAGS) | (toServer ? F_CLIENT_BANNER : F_SERVER_BANNER);
  store<u8>(state + S_FLAGS, flags);
  if ((flags & (F_CLIENT_BANNER | F_SERVER_BANNER)) == (F_CLIENT_BANNER | F_SERVER_BANNER)) writeStart(state);
  return <i32>lineBytes;
}

// Walks the clear binary packets (KEXINIT and the key exchange) up to
// SSH_MSG_NEWKEYS, then skips the rest of the direction.
function readPackets(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  let consumed: u32 = 0;
  while (length - consumed >= 6) {
    const packetLength = readU32be(ptr + <usize>consumed);
    if (packetLength < 5 || packetLength > MAX_PACKET_BYTES) {
      countAnomaly(SshAnomaly.PACKET_LENGTH_INVALID);
      markEncrypted(state, toServer);
      return <i32>(length + SKIP_REST);
    }
    const message = load<u8>(ptr + <usize>consumed, 5);
    const total: u32 = 4 + packetLength;
    if (message == MSG_NEWKEYS) {
      markEncrypted(state, toServer);
      return <i32>(length + SKIP_REST);
    }
    if (total > length - consumed) return <i32>(consumed + total);
    consumed += total;
  }
  return consumed > 0 ? <i32>consumed : STREAM_NEED_MORE;
}

function markEncrypted(state: usize, toServer: bool): void {
  setFlagBits(state + S_FLAGS, toServer ? F_CLIENT_NEWKEYS : F_SERVER_NEWKEYS);
}

function writeStart(state: usize): void {
  setFlagBits(state + S_FLAGS, F_STARTED);
  if (!beginSessionRecord(RecordType.SSH, false, SshField.SESSION_EVENT, "start")) return;
  writeBanners(state);
  fieldLiteral(SshField.LOGIN_RESULT, "unknown");
  endRecord();
}

function writeBanners(state: usize): void {
  writeBanner(state + S_CLIENT_BANNER, <u32>load<u16>(state + S_CLIENT_LENGTH),
    SshField.CLIENT_BANNER, SshField.CLIENT_PROTOCOL_VERSION, SshField.CLIENT_SOFTWARE);
  writeBanner(state + S_SERVER_BANNER, <u32>load<u16>(state + S_SERVER_LENGTH),
    SshField.SERVER_BANNER, SshField.SERVER_PROTOCOL_VERSION, SshField.SERVER_SOFTWARE);
}

// Writes the banner and its parts: "SSH-2.0-OpenSSH_9.2p1 Debian-2" gives
// protocol version "2.0" and software "OpenSSH_9.2p1".
function writeBanner(banner: usize, length: u32, bannerId: u16, versionId: u16, softwareId: u16): void {
  if (length == 0) return;
  fieldText(bannerId, banner, length);
  if (length <= 4) return;
  const rest = banner + 4;
  const restLength = length - 4;
  const dash = indexOfByte(rest, restLength, 0x2d);
  if (dash < 0) return;
  fieldText(versionId, rest, <u32>dash);
  const software = rest + <usize>dash + 1;
  const softwareMax = restLength - <u32>dash - 1;
  const space = indexOfByte(software, softwareMax, 0x20);
  const softwareLength = space < 0 ? softwareMax : <u32>space;
  if (softwareLength > 0) fieldText(softwareId, software, softwareLength);
}

