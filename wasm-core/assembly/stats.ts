// Per-layer counters of the core pipeline (packets, bytes, flows). Anomalies
// live apart, in counters.ts. The host reads the names once through the
// `counterName` export and the values through `counterValue`.

export namespace CoreCounter {
  @inline export const PACKETS: u16 = 1;            // pcap records processed
  @inline export const BYTES: u16 = 2;              // captured bytes of those records
  @inline export const LINK_ETHERNET: u16 = 3;
  @inline export const LINK_SLL: u16 = 4;
  @inline export const LINK_SLL2: u16 = 5;
  @inline export const LINK_RAW: u16 = 6;
  @inline export const LINK_NULL: u16 = 7;          // BSD null and OpenBSD loop
  @inline export const LINK_UNSUPPORTED: u16 = 8;
  @inline export const VLAN_TAGGED: u16 = 9;        // frames with at least one 802.1Q/802.1ad tag
  @inline export const NOT_IP: u16 = 10;            // ARP, LLDP, ... (not decoded)
  @inline export const IPV4_PACKETS: u16 = 11;
  @inline export const IPV6_PACKETS: u16 = 12;
  @inline export const IP_FRAGMENTS: u16 = 13;
  @inline export const IP_REASSEMBLED: u16 = 14;    // datagrams rebuilt from fragments
  @inline export const IP_OTHER_PROTOCOL: u16 = 15; // ICMP, ESP, ... (not decoded)
  @inline export const TCP_SEGMENTS: u16 = 16;
  @inline export const TCP_PAYLOAD_BYTES: u16 = 17;
  @inline export const TCP_OUT_OF_ORDER: u16 = 18;  // segments held until a hole filled
  @inline export const UDP_DATAGRAMS: u16 = 19;
  @inline export const UDP_UNDISSECTED: u16 = 20;
  @inline export const FLOWS_CREATED: u16 = 21;
  @inline export const FLOWS_CLOSED: u16 = 22;      // by FIN or RST
  @inline export const FLOWS_EVICTED: u16 = 23;     // table full, least recently used went
  @inline export const FLOWS_EXPIRED: u16 = 24;     // idle timeout, by packet time
  @inline export const FLOWS_ACTIVE: u16 = 25;      // gauge
  @inline export const FLOWS_UNDISSECTED: u16 = 26;
  @inline export const FLOWS_MODBUS: u16 = 27;
  @inline export const FLOWS_SMB: u16 = 28;
  @inline export const FLOWS_DCERPC: u16 = 29;
  @inline export const BYTES_DELIVERED: u16 = 30;   // handed to dissectors
  @inline export const BYTES_SKIPPED: u16 = 31;     // dropped on a dissector's request
  @inline export const BYTES_LOST: u16 = 32;        // in holes, or discarded at a gap
  @inline export const BATCHES: u16 = 33;           // processBatch calls
  @inline export const DELIVERY_PAUSES: u16 = 34;   // deliveries paused to leave event room
  @inline export const DISSECTOR_CALLS: u16 = 35;   // onData calls: the step count of the dissectors
  @inline export const FLOWS_S7COMM: u16 = 36;
  @inline export const FLOWS_ENIP: u16 = 37;
  @inline export const FLOWS_DNP3: u16 = 38;
  @inline export const LIMIT: u16 = 39;             // one past the highest id
}

export function counterName(id: u16): string {
  switch (id) {
    case CoreCounter.PACKETS: return "packets";
    case CoreCounter.BYTES: return "bytes";
    case CoreCounter.LINK_ETHERNET: return "link.ethernet";
    case CoreCounter.LINK_SLL: return "link.sll";
    case CoreCounter.LINK_SLL2: return "link.sll2";
    case CoreCounter.LINK_RAW: return "link.raw";
    case CoreCounter.LINK_NULL: return "link.null";
    case CoreCounter.LINK_UNSUPPORTED: return "link.unsupported";
    case CoreCounter.VLAN_TAGGED: return "link.vlan_tagged";
    case CoreCounter.NOT_IP: return "link.not_ip";
    case CoreCounter.IPV4_PACKETS: return "ipv4.packets";
    case CoreCounter.IPV6_PACKETS: return "ipv6.packets";
    case CoreCounter.IP_FRAGMENTS: return "ip.fragments";
    case CoreCounter.IP_REASSEMBLED: return "ip.reassembled";
    case CoreCounter.IP_OTHER_PROTOCOL: return "ip.other_protocol";
    case CoreCounter.TCP_SEGMENTS: return "tcp.segments";
    case CoreCounter.TCP_PAYLOAD_BYTES: return "tcp.payload_bytes";
    case CoreCounter.TCP_OUT_OF_ORDER: return "tcp.out_of_order";
    case CoreCounter.UDP_DATAGRAMS: return "udp.datagrams";
    case CoreCounter.UDP_UNDISSECTED: return "udp.undissected";
    case CoreCounter.FLOWS_CREATED: return "flows.created";
    case CoreCounter.FLOWS_CLOSED: return "flows.closed";
    case CoreCounter.FLOWS_EVICTED: return "flows.evicted";
    case CoreCounter.FLOWS_EXPIRED: return "flows.expired";
    case CoreCounter.FLOWS_ACTIVE: return "flows.active";
    case CoreCounter.FLOWS_UNDISSECTED: return "flows.undissected";
    case CoreCounter.FLOWS_MODBUS: return "flows.modbus";
    case CoreCounter.FLOWS_SMB: return "flows.smb";
    case CoreCounter.FLOWS_DCERPC: return "flows.dcerpc";
    case CoreCounter.FLOWS_S7COMM: return "flows.s7comm";
    case CoreCounter.FLOWS_ENIP: return "flows.enip";
    case CoreCounter.BYTES_DELIVERED: return "stream.bytes_delivered";
    case CoreCounter.BYTES_SKIPPED: return "stream.bytes_skipped";
    case CoreCounter.BYTES_LOST: return "stream.bytes_lost";
    case CoreCounter.BATCHES: return "batches";
    case CoreCounter.DELIVERY_PAUSES: return "stream.delivery_pauses";
    case CoreCounter.DISSECTOR_CALLS: return "stream.dissector_calls";
    case CoreCounter.FLOWS_DNP3: return "flows.dnp3";
  }
  return "";
}

// u64 values indexed by counter id, static so counting works before configure.
const counterValues = memory.data(<i32>(<u32>CoreCounter.LIMIT * 8));

@inline export function count(id: u16): void {
  const p = counterValues + (<usize>id << 3);
  store<u64>(p, load<u64>(p) + 1);
}

@inline export function countBy(id: u16, amount: u64): void {
  const p = counterValues + (<usize>id << 3);
  store<u64>(p, load<u64>(p) + amount);
}

@inline export function uncount(id: u16): void {
  const p = counterValues + (<usize>id << 3);
  const v = load<u64>(p);
  if (v > 0) store<u64>(p, v - 1);
}

export function counterValue(id: u16): u64 {
  if (id >= CoreCounter.LIMIT) return 0;
  return load<u64>(counterValues + (<usize>id << 3));
}
