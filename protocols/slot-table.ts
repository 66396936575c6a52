// Fixed-slot tables inside a flow's state area (or a static area): `count`
// entries of `entryBytes` each, every entry with a u32 stamp at `stampOffset`.
// A stamp of 0 marks a free entry. Any other stamp is the table clock's value
// when the entry was last written, so the lowest stamp is the oldest entry.
// Finding an entry by its key stays with each protocol, because the keys
// differ and the stub runtime has no closures to pass a comparison in.

// Set by freeOrOldest: true when no entry was free and the oldest one was
// returned, so its content is lost. The caller counts its own anomaly.
export let tableEvicted: bool = false;

// Returns the first free entry, or else the entry with the oldest stamp (and
// sets tableEvicted). Stamps compare modulo 2^32, so the order holds across a
// clock wrap while live stamps lie less than 2^31 ticks apart.
export function freeOrOldest(base: usize, count: u32, entryBytes: u32, stampOffset: usize): usize {
  tableEvicted = false;
  let oldest: usize = 0;
  let oldestStamp: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const entry = base + <usize>(i * entryBytes);
    const stamp = load<u32>(entry + stampOffset);
    if (stamp == 0) return entry;
    if (oldest == 0 || stamp - oldestStamp > 0x80000000) {
      oldest = entry;
      oldestStamp = stamp;
    }
  }
  tableEvicted = oldest != 0;
  return oldest;
}

// Advances the u32 table clock at `clockAt` and returns its new value, which
// is never 0 because 0 marks a free entry.
export function nextStamp(clockAt: usize): u32 {
  let next = load<u32>(clockAt) + 1;
  if (next == 0) next = 1;
  store<u32>(clockAt, next);
  return next;
}
