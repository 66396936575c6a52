// NetBIOS session service framing, used by SMB on both TCP 139 and 445.
//
// Specification: RFC 1002 (NetBIOS on TCP/UDP, detailed specifications),
// section 4.3.1 for the session packet header. Port 445 ("direct TCP",
// [MS-SMB2] 2.1) keeps the 4-byte header of a SESSION MESSAGE but reads its
// zero type byte as the top of a 24-bit length.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------+---------------+-------------------------------+
//   |      TYPE     |     FLAGS     |            LENGTH             |
//   +---------------+-------------+-+-------------------------------+
//                                 E: length extension, bit 16 of LENGTH

@inline export const NBSS_HEADER_BYTES: u32 = 4;

// TYPE values (RFC 1002 4.3.1).
@inline export const NBSS_SESSION_MESSAGE: u8 = 0x00;
@inline export const NBSS_SESSION_REQUEST: u8 = 0x81;
@inline export const NBSS_POSITIVE_RESPONSE: u8 = 0x82;
@inline export const NBSS_NEGATIVE_RESPONSE: u8 = 0x83;
@inline export const NBSS_RETARGET_RESPONSE: u8 = 0x84;
@inline export const NBSS_KEEP_ALIVE: u8 = 0x85;

// Protocol ids of the messages an NBSS session message carries, read as a
// little-endian u32: 0xFF 'SMB' (SMB1), 0xFE 'SMB' (SMB2), 0xFD 'SMB' (SMB3
// transform header, [MS-SMB2] 2.2.41), 0xFC 'SMB' (compression transform
// header, 2.2.42).
@inline export const SMB1_PROTOCOL_ID: u32 = 0x424d53ff;
@inline export const SMB2_PROTOCOL_ID: u32 = 0x424d53fe;
@inline export const TRANSFORM_PROTOCOL_ID: u32 = 0x424d53fd;
@inline export const COMPRESSION_PROTOCOL_ID: u32 = 0x424d53fc;

// Session control packets (request, responses, keep-alive) are short; a
// larger length is not NBSS.
@inline export const NBSS_MAX_CONTROL_LENGTH: u32 = 1024;

export function isSmbProtocolId(id: u32): bool {
  return id == SMB1_PROTOCOL_ID || id == SMB2_PROTOCOL_ID || id == TRANSFORM_PROTOCOL_ID || id == COMPRESSION_PROTOCOL_ID;
}

// Length of a SESSION MESSAGE (24 bits, as on port 445).
@inline export function sessionMessageLength(p: usize): u32 {
  return (<u32>load<u8>(p, 1) << 16) | (<u32>load<u8>(p, 2) << 8) | <u32>load<u8>(p, 3);
}

// Length of a session control packet (17 bits: the E flag and LENGTH).
@inline export function controlPacketLength(p: usize): u32 {
  return ((<u32>load<u8>(p, 1) & 1) << 16) | (<u32>load<u8>(p, 2) << 8) | <u32>load<u8>(p, 3);
}

export function isControlType(type: u8): bool {
  return type >= NBSS_SESSION_REQUEST && type <= NBSS_KEEP_ALIVE;
}

// Returns the offset of the first place in [p, p + length) where a session
// message carrying an SMB header starts, or -1 when there is none. Used to
// resynchronise after lost bytes.
export function findMessageStart(p: usize, length: u32): i32 {
  if (length < 8) return -1;
  for (let i: u32 = 0; i + 8 <= length; i++) {
    const q = p + <usize>i;
    if (load<u8>(q) == NBSS_SESSION_MESSAGE && isSmbProtocolId(load<u32>(q, 4))) return <i32>i;
  }
  return -1;
}
