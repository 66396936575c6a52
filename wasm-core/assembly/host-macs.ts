// Ethernet addresses of the hosts that records name, for the asset
// inventory. The core learns them when it scores a record (evaluateModels),
// from the frame that closed the record, so a host whose records travel
// through a router shows the router's address.
//
// The table is open-addressed by IP address, MAX_HOST_MACS slots of
// SLOT_BYTES bytes:
//   0 16 bytes IP address (IPv4 in the first 4 bytes, as in records)
//  16 6 bytes  Ethernet address
//  22 u8       IP version (0: free slot)
//  23 u8       reserved
//  24 u32      packet time the address was last seen (seconds)
//  28 u32      reserved
// A full probe window evicts its least recently seen slot and counts
// `model.host_mac_evicted`.

import { countAnomaly } from "./counters";
import { ModelAnomaly } from "./model-fields";
import { FNV32_OFFSET, fnv32 } from "./fnv";
import { packetMacs, packetHasMacs, packetSrc, packetDst, copyAddress } from "./packet";

@inline export const MAX_HOST_MACS: u32 = 4096;
@inline const SLOT_BYTES: u32 = 32;
@inline const PROBE_SLOTS: u32 = 8;
// Bytes hostMacRead writes to scratch: address, Ethernet address, IP version.
@inline export const HOST_MAC_EXPORT_BYTES: u32 = 23;

let table: usize = 0;

function ensureTable(): void {
  if (table != 0) return;
  table = heap.alloc(<usize>(MAX_HOST_MACS * SLOT_BYTES));
  memory.fill(table, 0, <usize>(MAX_HOST_MACS * SLOT_BYTES));
}

export function resetHostMacs(): void {
  if (table != 0) memory.fill(table, 0, <usize>(MAX_HOST_MACS * SLOT_BYTES));
}

@inline function sameAddress(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8);
}

// Individual (unicast) Ethernet addresses only: the group bit of a multicast
// or broadcast destination names no host.
@inline function isUnicast(mac: usize): bool {
  return (load<u8>(mac) & 1) == 0;
}

// The slots the last two addresses were stored in. A record's originator and
// responder repeat from record to record of a flow, so remember first checks
// these slots and hashes only a new address. Such a slot is the one the probe
// would find, because slots are never emptied one by one (only resetHostMacs
// empties them all). So no free slot precedes the address in its probe
// window, and an address is stored in one slot at most.
let recentSlot: usize = 0;
let olderSlot: usize = 0;

@inline function holds(slot: usize, address: usize, ipVersion: u8): bool {
  return slot != 0 && load<u8>(slot, 22) == ipVersion && sameAddress(slot, address);
}


// The slot of `address` in its probe window: its own, else the first free
// one, else the least recently seen one (counted as evicted).
function probeSlot(address: usize, ipVersion: u8): usize {
  ensureTable();
  const start = fnv32(FNV32_OFFSET, address, 16) & (MAX_HOST_MACS - 1);
  let oldest: usize = 0;
  for (let i: u32 = 0; i < PROBE_SLOTS; i++) {
    const slot = table + <usize>(((start + i) & (MAX_HOST_MACS - 1)) * SLOT_BYTES);
    const version = load<u8>(slot, 22);
    if (version == 0 || (version == ipVersion && sameAddress(slot, address))) return slot;
    if (oldest == 0 || load<u32>(slot, 24) < load<u32>(oldest, 24)) oldest = slot;
  }
  countAnomaly(ModelAnomaly.HOST_MAC_EVICTED);
  return oldest;
}

function remember(address: usize, ipVersion: u8, mac: usize, tsSec: u32): void {
  if (!isUnicast(mac)) return;
  let slot = recentSlot;
  if (!holds(slot, address, ipVersion)) {
    if (holds(olderSlot, address, ipVersion)) {
      slot = olderSlot;
    } else {
      // The slot may be free or evicted, so the address and IP version are
      // written too. The two recent slots already contain them.
      slot = probeSlot(address, ipVersion);
      copyAddress(slot, address);
      store<u8>(slot, ipVersion, 22);
    }
    olderSlot = recentSlot;
    recentSlot = slot;
  }
  store<u32>(slot, load<u32>(mac), 16);
  store<u16>(slot, load<u16>(mac, 4), 20);
  store<u32>(slot, tsSec, 24);
}

// Learns the Ethernet addresses of the record's originator and responder
// from the current frame, when its IP addresses are the record's.
export function observeHostMacs(record: usize): void {
  if (!packetHasMacs) return;
  const originator = record + 28;
  const responder = record + 44;
  const ipVersion = load<u8>(record, 20);
  const tsSec = load<u32>(record, 8);
  // packetMacs: destination (6 bytes), then source.
  if (sameAddress(packetSrc(), originator) && sameAddress(packetDst(), responder)) {
    remember(originator, ipVersion, packetMacs + 6, tsSec);
    remember(responder, ipVersion, packetMacs, tsSec);
  } else if (sameAddress(packetSrc(), responder) && sameAddress(packetDst(), originator)) {
    remember(responder, ipVersion, packetMacs + 6, tsSec);
    remember(originator, ipVersion, packetMacs, tsSec);
  }
}

// Copies slot `index` to `out` (HOST_MAC_EXPORT_BYTES bytes). Returns false
// for a free slot or an index past the table.
export function readHostMac(index: u32, out: usize): bool {
  if (table == 0 || index >= MAX_HOST_MACS) return false;
  const slot = table + <usize>(index * SLOT_BYTES);
  if (load<u8>(slot, 22) == 0) return false;
  memory.copy(out, slot, <usize>HOST_MAC_EXPORT_BYTES);
  return true;
}
