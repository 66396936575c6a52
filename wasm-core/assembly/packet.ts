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

export function setPacketMacs(frame: usize): void {
  memory.copy(packetMacs, frame, 12);
  packetHasMacs = true;
}

export function setPacketAddresses(version: u8, src: usize, dst: usize, addressBytes: u32): void {
  packetIpVersion = version;
  memory.fill(packetAddresses, 0, 32);
  memory.copy(packetAddresses, src, addressBytes);
  memory.copy(packetAddresses + 16, dst, addressBytes);
}
