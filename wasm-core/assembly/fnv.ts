// FNV-1a hashes (Fowler-Noll-Vo, 32 and 64 bits) over bytes in memory, for
// the core's hash tables and keys. The word-at-a-time loops return the same
// values as hashing byte by byte, which snapshots of the tables rely on.

@inline export const FNV32_OFFSET: u32 = 0x811c9dc5;
@inline export const FNV32_PRIME: u32 = 0x01000193;

// FNV32_PRIME to the 4th and 8th power, modulo 2^32: zero bytes, whose xor
// changes nothing, multiply the hash by FNV32_PRIME each.
@inline const FNV32_PRIME_POW4: u32 = 0x502c3f11;
@inline const FNV32_PRIME_POW8: u32 = 0x5d615f21;

// FNV-1a over the 4 bytes of `word`, least significant first.
@inline export function fnv32Word(hash: u32, word: u32): u32 {
  if (word == 0) return hash * FNV32_PRIME_POW4;
  hash = (hash ^ (word & 0xff)) * FNV32_PRIME;
  hash = (hash ^ ((word >> 8) & 0xff)) * FNV32_PRIME;
  hash = (hash ^ ((word >> 16) & 0xff)) * FNV32_PRIME;
  return (hash ^ (word >> 24)) * FNV32_PRIME;
}

// FNV-1a over `length` bytes. An address of 16 bytes is mostly zero (IPv4
// fills its first 4 bytes, and the zero address none), so 4 or 8 zero bytes
// are hashed with one multiplication. The result is the same as byte by byte.
export function fnv32(hash: u32, ptr: usize, length: u32): u32 {
  let i: u32 = 0;
  while (length - i >= 8) {
    const word = load<u64>(ptr + <usize>i);
    if (word == 0) {
      hash *= FNV32_PRIME_POW8;
    } else {
      hash = fnv32Word(hash, <u32>word);
      hash = fnv32Word(hash, <u32>(word >> 32));
    }
    i += 8;
  }
  for (; i < length; i++) {
    hash = (hash ^ <u32>load<u8>(ptr + <usize>i)) * FNV32_PRIME;
  }
  return hash;
}

@inline export const FNV64_OFFSET: u64 = 0xcbf29ce484222325;
@inline export const FNV64_PRIME: u64 = 0x100000001b3;

// FNV64_PRIME to the 4th power, modulo 2^64: a zero byte, whose xor changes
// nothing, multiplies the hash by FNV64_PRIME.
@inline const FNV64_PRIME_POW4: u64 = 0x9ffaac085635bc91;

@inline export function fnv64Byte(hash: u64, b: u32): u64 {
  return (hash ^ <u64>(b & 0xff)) * FNV64_PRIME;
}

// FNV-1a over the 4 bytes of `word`, least significant first.
@inline export function fnv64Word(hash: u64, word: u32): u64 {
  if (word == 0) return hash * FNV64_PRIME_POW4;
  hash = fnv64Byte(hash, word);
  hash = fnv64Byte(hash, word >> 8);
  hash = fnv64Byte(hash, word >> 16);
  return fnv64Byte(hash, word >> 24);
}

// FNV-1a over `length` bytes. Addresses and integer values are mostly zero
// bytes (an IPv4 address fills 4 of its 16), so 4 zero bytes are hashed with
// one multiplication. The result is the same as byte by byte.
export function fnv64(hash: u64, ptr: usize, length: u32): u64 {
  let i: u32 = 0;
  while (length - i >= 4) {
    hash = fnv64Word(hash, load<u32>(ptr + <usize>i));
    i += 4;
  }
  for (; i < length; i++) hash = fnv64Byte(hash, <u32>load<u8>(ptr + <usize>i));
  return hash;
}
