// Internet checksum helpers (RFC 1071 one's-complement sums) for the corpus
// generators, which must keep IPv4, TCP and UDP checksums right.

// Updates a one's-complement checksum after the 16-bit word `before` became
// `after` (RFC 1624, section 3, equation 3: HC' = ~(~HC + ~m + m')). Callers
// apply it only to words that changed: for an unchanged word and a checksum of
// zero it would yield 0xffff (RFC 1624 erratum 4782).
export function adjustChecksum(checksum: number, before: number, after: number): number {
  let sum = (~checksum & 0xffff) + (~before & 0xffff) + after;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function onesComplementSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
