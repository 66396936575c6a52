// The packet being processed: its capture time and IP addresses, set by the
// link and IP layers and read by TCP, UDP and the flow table.

export let packetTsSec: u32 = 0;
export let packetTsNsec: u32 = 0;
// 4 or 6 once the IP layer has parsed the header.
export let packetIpVersion: u8 = 0;

// 16-byte source address, then destination address. An IPv4 address fills
// the first 4 bytes and the other 12 stay zero, so keys compare as 16 bytes.
export const packetAddresses: usize = memory.data(32);

@inline export function packetSrc(): usize { return packetAddresses; }
@inline export function packetDst(): usize { return packetAddresses + 16; }

// IPv4 TTL or IPv6 hop limit of the packet (of the last fragment for a
// reassembled datagram).
export let packetTtl: u8 = 0;

export function setPacketTtl(ttl: u8): void {
  packetTtl = ttl;
}

export function setPacketTime(tsSec: u32, tsNsec: u32): void {
  packetTsSec = tsSec;
  packetTsNsec = tsNsec;
  packetHasMacs = false;
}

// Ethernet destination then source address of the packet, set by the link
// layer. packetHasMacs is false for link types without them: raw IP, Linux
// cooked capture and BSD loopback (DLT_NULL, DLT_LOOP).
export const packetMacs: usize = memory.data(12);
export let packetHasMacs: bool = false;

// Small fixed copies are written as loads and stores. V8 in Node 20 compiles
// `memory.copy` and `memory.fill` to a call into C, which costs more than
// the copy itself at these sizes (callgrind counts about 30 instructions in
// C per call, besides the call).
export function setPacketMacs(frame: usize): void {
  store<u64>(packetMacs, load<u64>(frame));
  store<u32>(packetMacs, load<u32>(frame, 8), 8);
  packetHasMacs = true;
}

// Copies a 16-byte address from `src` to `dst`, which must not overlap.
@inline export function copyAddress(dst: usize, src: usize): void {
  store<u64>(dst, load<u64>(src));
  store<u64>(dst, load<u64>(src, 8), 8);
}

// `addressBytes` is 4 (IPv4) or 16 (IPv6).
export function setPacketAddresses(version: u8, src: usize, dst: usize, addressBytes: u32): void {
  packetIpVersion = version;
  if (addressBytes == 16) {
    copyAddress(packetAddresses, src);
    copyAddress(packetAddresses + 16, dst);
    return;
  }
  store<u64>(packetAddresses, <u64>load<u32>(src));
  store<u64>(packetAddresses, 0, 8);
  store<u64>(packetAddresses, <u64>load<u32>(dst), 16);
  store<u64>(packetAddresses, 0, 24);
}
