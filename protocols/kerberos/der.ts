// A bounded reader for the DER subset Kerberos uses (ITU-T X.690 section 8
// and 10): single-byte tags, definite lengths of at most 4 length octets.
// Every read is checked against the end of the enclosing element, so no
// input can make it read outside the message or loop without progress.
//
//   +-----------+--------------------------------+-----------------+
//   | tag (1)   | length: 0lllllll, or 1nnnnnnn  | contents        |
//   | class|P/C | followed by n big-endian bytes | (length bytes)  |
//   | |number   |                                |                 |
//   +-----------+--------------------------------+-----------------+

import { fits } from "../api";

@inline export const TAG_INTEGER: u8 = 0x02;
@inline export const TAG_OCTET_STRING: u8 = 0x04;
@inline export const TAG_GENERAL_STRING: u8 = 0x1b;
@inline export const TAG_SEQUENCE: u8 = 0x30;
// Context-specific constructed tag [n] (X.690 8.1.2): 0xa0 | n.
@inline export function contextTag(n: u8): u8 { return 0xa0 | n; }
// Application constructed tag [APPLICATION n] for n < 31: 0x60 | n.
@inline export function applicationTag(n: u8): u8 { return 0x60 | n; }

// The element read by the last successful readElement call. Offsets are
// from the message start. `contentEnd` is clamped to the available bytes
// when a constructed element was cut short (see `elementCut`).
export let elementTag: u8 = 0;
export let contentStart: u32 = 0;
export let contentEnd: u32 = 0;
// Offset of the next sibling. It may lie past the available bytes.
export let elementEnd: u32 = 0;
// True when the element's contents run past the available bytes.
export let elementCut: bool = false;

// Reads the element header at `at`, which must lie before `end` (the end of
// the enclosing element or of the bytes available). A constructed element
// may be cut short by `end` when `allowCut` is true, because a long message
// is parsed from a prefix; a primitive element must fit. Returns false on an
// invalid or truncated header.
export function readElement(base: usize, end: u32, at: u32, allowCut: bool): bool {
  if (!fits(end, at, 2)) return false;
  const tag = load<u8>(base + <usize>at);
  // High tag numbers (X.690 8.1.2.4) do not occur in Kerberos.
  if ((tag & 0x1f) == 0x1f) return false;
  const first = <u32>load<u8>(base + <usize>at, 1);
  let length: u32 = first;
  let header: u32 = 2;
  if (first >= 0x80) {
    const octets = first & 0x7f;
    // 0x80 is the indefinite form, which DER forbids (X.690 10.1).
    if (octets == 0 || octets > 4 || !fits(end, at + 2, octets)) return false;
    length = 0;
    for (let i: u32 = 0; i < octets; i++) length = (length << 8) | <u32>load<u8>(base + <usize>(at + 2 + i));
    header += octets;
  }
  const start = at + header;
  const constructed = (tag & 0x20) != 0;
  elementCut = false;
  if (length > end - start) {
    if (!constructed || !allowCut) return false;
    elementCut = true;
  }
  elementTag = tag;
  contentStart = start;
  contentEnd = elementCut ? end : start + length;
  // Saturate so that a cut element's end still compares as past `end`.
  elementEnd = length > 0xffffffff - start ? 0xffffffff : start + length;
  return true;
}

// Reads an INTEGER of at most 5 content bytes (Int32 and UInt32, RFC 4120
// 5.2.4) at [contentStart, contentEnd) as a signed value. `integerValid`
// is false when the element is not such an INTEGER.
export let integerValid: bool = false;

export function readInteger(base: usize): i64 {
  integerValid = false;
  const length = contentEnd - contentStart;
  if (elementTag != TAG_INTEGER || elementCut || length == 0 || length > 5) return 0;
  let value: i64 = <i64>load<i8>(base + <usize>contentStart);
  for (let i: u32 = 1; i < length; i++) value = (value << 8) | <i64>load<u8>(base + <usize>(contentStart + i));
  integerValid = true;
  return value;
}
