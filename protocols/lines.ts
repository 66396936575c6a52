// Helpers for line-based text protocols (HTTP, FTP, Telnet, SSH banners):
// bounded searches and comparisons on wire bytes, decimal and base64
// decoding. Nothing here allocates; literals are static AssemblyScript
// strings of ASCII characters.

// Returns the index of the first `byte` in [ptr, ptr + length), or -1.
export function indexOfByte(ptr: usize, length: u32, byte: u8): i32 {
  for (let i: u32 = 0; i < length; i++) {
    if (load<u8>(ptr + <usize>i) == byte) return <i32>i;
  }
  return -1;
}

// Length of the line at `ptr` without its terminator (LF, CR LF) or
// trailing spaces and tabs.
export function trimmedLength(ptr: usize, length: u32): u32 {
  let n = length;
  while (n > 0) {
    const c = load<u8>(ptr + <usize>(n - 1));
    if (c != 0x0a && c != 0x0d && c != 0x20 && c != 0x09) break;
    n--;
  }
  return n;
}

// Index of the first byte at or after `at` that is not a space or tab.
export function skipSpaces(ptr: usize, length: u32, at: u32): u32 {
  while (at < length) {
    const c = load<u8>(ptr + <usize>at);
    if (c != 0x20 && c != 0x09) break;
    at++;
  }
  return at;
}

@inline function lowerAscii(c: u32): u32 {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

// True when the bytes at `ptr + at` start with `literal`, ignoring ASCII case.
export function matchesAt(ptr: usize, length: u32, at: u32, literal: string): bool {
  const n = <u32>literal.length;
  if (at > length || n > length - at) return false;
  const text = changetype<usize>(literal);
  for (let i: u32 = 0; i < n; i++) {
    const expected = lowerAscii(<u32>load<u16>(text + (<usize>i << 1)));
    if (lowerAscii(<u32>load<u8>(ptr + <usize>(at + i))) != expected) return false;
  }
  return true;
}

export function startsWith(ptr: usize, length: u32, literal: string): bool {
  return matchesAt(ptr, length, 0, literal);
}

// Index of the first occurrence of `literal` (ASCII case ignored), or -1.
export function indexOfText(ptr: usize, length: u32, literal: string): i32 {
  const n = <u32>literal.length;
  if (n > length) return -1;
  const last = length - n;
  for (let at: u32 = 0; at <= last; at++) {
    if (matchesAt(ptr, length, at, literal)) return <i32>at;
  }
  return -1;
}

// True when the text ends with `literal`, ignoring ASCII case.
export function endsWith(ptr: usize, length: u32, literal: string): bool {
  const n = <u32>literal.length;
  return n <= length && matchesAt(ptr, length, length - n, literal);
}

// Set by parseDecimal: whether digits were found, the value and the index
// after the last digit.
export let decimalOk: bool = false;
export let decimalValue: u64 = 0;
export let decimalEnd: u32 = 0;

// Reads up to `maxDigits` decimal digits at `ptr + at`.
export function parseDecimal(ptr: usize, length: u32, at: u32, maxDigits: u32): void {
  decimalOk = false;
  decimalValue = 0;
  let digits: u32 = 0;
  while (at < length && digits < maxDigits) {
    const c = <u32>load<u8>(ptr + <usize>at);
    if (c < 0x30 || c > 0x39) break;
    decimalValue = decimalValue * 10 + <u64>(c - 0x30);
    digits++;
    at++;
  }
  decimalEnd = at;
  decimalOk = digits > 0;
}

// Reads hexadecimal digits (an HTTP chunk size, RFC 9112 section 7.1) at
// `ptr + at`, at most 8 of them; sets decimalOk, decimalValue and decimalEnd.
export function parseHex(ptr: usize, length: u32, at: u32): void {
  decimalOk = false;
  decimalValue = 0;
  let digits: u32 = 0;
  while (at < length && digits < 8) {
    const c = lowerAscii(<u32>load<u8>(ptr + <usize>at));
    let v: u32 = 16;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
    if (v == 16) break;
    decimalValue = (decimalValue << 4) | <u64>v;
    digits++;
    at++;
  }
  decimalEnd = at;
  decimalOk = digits > 0;
}

// Set by splitHeaderField: the field name's length (the name starts at the
// line) and the field value with its leading spaces and tabs skipped.
export let fieldNameLength: u32 = 0;
export let fieldValue: usize = 0;
export let fieldValueLength: u32 = 0;

// Splits a header field line `name ":" OWS value` (RFC 9110 section 5.1)
// at its first colon. Returns false for a line with no colon or an empty
// name; the fields are then unchanged.
export function splitHeaderField(line: usize, length: u32): bool {
  const colon = indexOfByte(line, length, 0x3a);
  if (colon <= 0) return false;
  const valueStart = skipSpaces(line, length, <u32>colon + 1);
  fieldNameLength = <u32>colon;
  fieldValue = line + <usize>valueStart;
  fieldValueLength = length - valueStart;
  return true;
}

function base64Value(c: u32): i32 {
  if (c >= 0x41 && c <= 0x5a) return <i32>(c - 0x41);
  if (c >= 0x61 && c <= 0x7a) return <i32>(c - 0x61 + 26);
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30 + 52);
  if (c == 0x2b) return 62;
  if (c == 0x2f) return 63;
  return -1;
}

// Decodes base64 (RFC 4648 section 4; padding optional) into `dst`, writing at
// most `capacity` bytes. Returns the decoded length, or -1 for a character
// outside the alphabet or output that does not fit.
export function base64Decode(src: usize, length: u32, dst: usize, capacity: u32): i32 {
  let out: u32 = 0;
  let bits: u32 = 0;
  let bitCount: u32 = 0;
  for (let i: u32 = 0; i < length; i++) {
    const c = <u32>load<u8>(src + <usize>i);
    if (c == 0x3d) break;
    const v = base64Value(c);
    if (v < 0) return -1;
    bits = (bits << 6) | <u32>v;
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      if (out >= capacity) return -1;
      store<u8>(dst + <usize>out, <u8>(bits >> bitCount));
      out++;
    }
  }
  return <i32>out;
}

// Copies printable ASCII (0x21-0x7e) from `src` to `dst`, at most
// `capacity` bytes, replacing other bytes with '?'. Returns the length
// written. Used for names and banners taken from the wire.
export function copyPrintable(src: usize, length: u32, dst: usize, capacity: u32): u32 {
  const n = length < capacity ? length : capacity;
  for (let i: u32 = 0; i < n; i++) {
    const c = load<u8>(src + <usize>i);
    store<u8>(dst + <usize>i, c >= 0x20 && c < 0x7f ? c : 0x3f);
  }
  return n;
}

// True when the first min(length, literal length) bytes equal the start of
// `literal` (ASCII case ignored): a probe that has fewer bytes than the
// literal can still ask for more.
export function prefixMatches(ptr: usize, length: u32, literal: string): bool {
  const n = <u32>literal.length;
  const m = length < n ? length : n;
  const text = changetype<usize>(literal);
  for (let i: u32 = 0; i < m; i++) {
    if (lowerAscii(<u32>load<u8>(ptr + <usize>i)) != lowerAscii(<u32>load<u16>(text + (<usize>i << 1)))) return false;
  }
  return true;
}

@inline export const LINE_TOO_LONG: i32 = -1;

// Length of the line at `ptr`, its LF included; 0 when no LF arrived yet
// within `maxLine` bytes, LINE_TOO_LONG when `maxLine` bytes hold none.
export function lineLength(ptr: usize, length: u32, maxLine: u32): i32 {
  const window = length < maxLine ? length : maxLine;
  const newline = indexOfByte(ptr, window, 0x0a);
  if (newline >= 0) return newline + 1;
  return length >= maxLine ? LINE_TOO_LONG : 0;
}
