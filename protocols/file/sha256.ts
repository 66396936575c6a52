// SHA-256 (FIPS 180-4, Secure Hash Standard, August 2015, sections 4.1.2,
// 4.2.2, 5.1.1, 5.3.3 and 6.2), streamed: a file's bytes are hashed as they
// cross the wire, so nothing but this state is kept per file.
//
// State layout (SHA256_STATE_BYTES, inside the caller's per-flow area):
//   0   u32[8] H0..H7, the intermediate hash value (native little-endian)
//   32  u64    message length so far, bytes
//   40  u32    bytes waiting in the block buffer (0..63)
//   44  u32    reserved
//   48  u8[64] block buffer

@inline export const SHA256_STATE_BYTES: usize = 112;
@inline export const SHA256_DIGEST_BYTES: u32 = 32;

@inline const BLOCK_BYTES: u32 = 64;
@inline const LENGTH_AT: usize = 32;
@inline const FILL_AT: usize = 40;
@inline const BLOCK_AT: usize = 48;

// 4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

// Message schedule W0..W63 (6.2.2 step 1), shared because hashing never
// nests.
const schedule = memory.data(64 * 4);

// 5.3.3: the initial hash value H(0).
export function sha256Init(state: usize): void {
  store<u32>(state, 0x6a09e667, 0);
  store<u32>(state, 0xbb67ae85, 4);
  store<u32>(state, 0x3c6ef372, 8);
  store<u32>(state, 0xa54ff53a, 12);
  store<u32>(state, 0x510e527f, 16);
  store<u32>(state, 0x9b05688c, 20);
  store<u32>(state, 0x1f83d9ab, 24);
  store<u32>(state, 0x5be0cd19, 28);
  store<u64>(state, 0, LENGTH_AT);
  store<u32>(state, 0, FILL_AT);
}

// Processes one 64-byte block at `block` (6.2.2).
function compress(state: usize, block: usize): void {
  for (let t: usize = 0; t < 16; t++) {
    store<u32>(schedule + (t << 2), bswap<u32>(load<u32>(block + (t << 2))));
  }
  for (let t: usize = 16; t < 64; t++) {
    const w2 = load<u32>(schedule + ((t - 2) << 2));
    const w15 = load<u32>(schedule + ((t - 15) << 2));
    const sigma1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    const sigma0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    store<u32>(schedule + (t << 2), sigma1 + load<u32>(schedule + ((t - 7) << 2)) + sigma0 + load<u32>(schedule + ((t - 16) << 2)));
  }

  // 6.2.2 steps 2 and 3: the working variables and the 64 rounds.
  let a = load<u32>(state, 0);
  let b = load<u32>(state, 4);
  let c = load<u32>(state, 8);
  let d = load<u32>(state, 12);
  let e = load<u32>(state, 16);
  let f = load<u32>(state, 20);
  let g = load<u32>(state, 24);
  let h = load<u32>(state, 28);
  for (let t: i32 = 0; t < 64; t++) {
    const bigSigma1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
    const choose = (e & f) ^ (~e & g);
    const t1 = h + bigSigma1 + choose + unchecked(K[t]) + load<u32>(schedule + (<usize>t << 2));
    const bigSigma0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
    const majority = (a & b) ^ (a & c) ^ (b & c);
    const t2 = bigSigma0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }

  // 6.2.2 step 4: the next intermediate hash value.
  store<u32>(state, load<u32>(state, 0) + a, 0);
  store<u32>(state, load<u32>(state, 4) + b, 4);
  store<u32>(state, load<u32>(state, 8) + c, 8);
  store<u32>(state, load<u32>(state, 12) + d, 12);
  store<u32>(state, load<u32>(state, 16) + e, 16);
  store<u32>(state, load<u32>(state, 20) + f, 20);
  store<u32>(state, load<u32>(state, 24) + g, 24);
  store<u32>(state, load<u32>(state, 28) + h, 28);
}

// Adds `length` bytes at `ptr` to the message.
export function sha256Update(state: usize, ptr: usize, length: u32): void {
  store<u64>(state, load<u64>(state, LENGTH_AT) + <u64>length, LENGTH_AT);
  let fill = load<u32>(state, FILL_AT);
  let at: u32 = 0;
  if (fill > 0) {
    const take = min<u32>(BLOCK_BYTES - fill, length);
    memory.copy(state + BLOCK_AT + <usize>fill, ptr, take);
    fill += take;
    at = take;
    if (fill < BLOCK_BYTES) {
      store<u32>(state, fill, FILL_AT);
      return;
    }
    compress(state, state + BLOCK_AT);
    fill = 0;
  }
  while (length - at >= BLOCK_BYTES) {
    compress(state, ptr + <usize>at);
    at += BLOCK_BYTES;
  }
  const rest = length - at;
  if (rest > 0) memory.copy(state + BLOCK_AT, ptr + <usize>at, rest);
  store<u32>(state, rest, FILL_AT);
}

// Pads the message (5.1.1) and writes the 32-byte digest, big-endian words
// H0..H7, to `digest`. The state is spent afterwards.
export function sha256Final(state: usize, digest: usize): void {
  const bitLength = load<u64>(state, LENGTH_AT) << 3;
  let fill = load<u32>(state, FILL_AT);
  store<u8>(state + BLOCK_AT + <usize>fill, 0x80);
  fill++;
  if (fill > BLOCK_BYTES - 8) {
    memory.fill(state + BLOCK_AT + <usize>fill, 0, BLOCK_BYTES - fill);
    compress(state, state + BLOCK_AT);
    fill = 0;
  }
  memory.fill(state + BLOCK_AT + <usize>fill, 0, BLOCK_BYTES - 8 - fill);
  store<u64>(state + BLOCK_AT, bswap<u64>(bitLength), BLOCK_BYTES - 8);
  compress(state, state + BLOCK_AT);
  for (let i: usize = 0; i < 8; i++) {
    store<u32>(digest + (i << 2), bswap<u32>(load<u32>(state + (i << 2))));
  }
}
