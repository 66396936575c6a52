// Text helpers shared by the dissectors: bounded conversions of wire text into
// UTF-8 inside a caller-owned memory area. None of them allocates, and every
// output stops at the given capacity on a whole code point.

// Set by the last conversion when the output capacity cut the text.
let lastCut: bool = false;
export function textWasCut(): bool { return lastCut; }

// Converts `byteLength` bytes of UTF-16LE at `src` into UTF-8 at `dst`, writing
// at most `capacity` bytes. An odd trailing byte is ignored and an unpaired
// surrogate becomes U+FFFD. Returns the number of bytes written, and
// textWasCut() then returns true when the capacity cut the text.
export function utf16leToUtf8(src: usize, byteLength: u32, dst: usize, capacity: u32): u32 {
  const units = byteLength >> 1;
  let out: u32 = 0;
  let i: u32 = 0;
  lastCut = false;
  while (i < units) {
    let cp = <u32>load<u16>(src + (<usize>i << 1));
    i++;
    if (cp >= 0xd800 && cp < 0xdc00) {
      const high = cp;
      cp = 0xfffd;
      if (i < units) {
        const low = <u32>load<u16>(src + (<usize>i << 1));
        if (low >= 0xdc00 && low < 0xe000) {
          cp = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
          i++;
        }
      }
    } else if (cp >= 0xdc00 && cp < 0xe000) {
      cp = 0xfffd;
    }
    const size = utf8Size(cp);
    if (out + size > capacity) { lastCut = true; break; }
    writeUtf8(dst + <usize>out, cp, size);
    out += size;
  }
  return out;
}

// Converts single-byte text to UTF-8, reading bytes >= 0x80 as Latin-1.
// NOTE: NTLMSSP "OEM" text is in the client's OEM code page, which the wire
// does not name; Latin-1 is a guess that keeps ASCII names exact.
export function latin1ToUtf8(src: usize, length: u32, dst: usize, capacity: u32): u32 {
  let out: u32 = 0;
  let i: u32 = 0;
  lastCut = false;
  // Eight ASCII bytes at a time, which UTF-8 keeps as they are.
  while (length - i >= 8 && capacity - out >= 8) {
    const bytes = load<u64>(src + <usize>i);
    if ((bytes & 0x8080808080808080) != 0) break;
    store<u64>(dst + <usize>out, bytes);
    i += 8;
    out += 8;
  }
  for (; i < length; i++) {
    const cp = <u32>load<u8>(src + <usize>i);
    const size = utf8Size(cp);
    if (out + size > capacity) { lastCut = true; break; }
    writeUtf8(dst + <usize>out, cp, size);
    out += size;
  }
  return out;
}

// Writes `value` in decimal at `dst` (at most 10 bytes) and returns the length.
export function u32ToDecimal(value: u32, dst: usize): u32 {
  let digits: u32 = 1;
  let rest = value;
  while (rest >= 10) { rest /= 10; digits++; }
  rest = value;
  for (let i = digits; i > 0; i--) {
    store<u8>(dst + <usize>(i - 1), <u8>(0x30 + rest % 10));
    rest /= 10;
  }
  return digits;
}

// Writes `value` as `width` lowercase hex digits at `dst`.
export function writeHex(value: u32, width: u32, dst: usize): void {
  for (let i: u32 = 0; i < width; i++) {
    const nibble = (value >> ((width - 1 - i) << 2)) & 0xf;
    store<u8>(dst + <usize>i, <u8>(nibble < 10 ? 0x30 + nibble : 0x57 + nibble));
  }
}

@inline function utf8Size(cp: u32): u32 {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

function writeUtf8(q: usize, cp: u32, size: u32): void {
  if (size == 1) {
    store<u8>(q, <u8>cp);
  } else if (size == 2) {
    store<u8>(q, <u8>(0xc0 | (cp >> 6)));
    store<u8>(q, <u8>(0x80 | (cp & 0x3f)), 1);
  } else if (size == 3) {
    store<u8>(q, <u8>(0xe0 | (cp >> 12)));
    store<u8>(q, <u8>(0x80 | ((cp >> 6) & 0x3f)), 1);
    store<u8>(q, <u8>(0x80 | (cp & 0x3f)), 2);
  } else {
    store<u8>(q, <u8>(0xf0 | (cp >> 18)));
    store<u8>(q, <u8>(0x80 | ((cp >> 12) & 0x3f)), 1);
    store<u8>(q, <u8>(0x80 | ((cp >> 6) & 0x3f)), 2);
    store<u8>(q, <u8>(0x80 | (cp & 0x3f)), 3);
  }
}
