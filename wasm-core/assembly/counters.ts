// Anomaly counters and their names.
//
// Anomalies are oddities that do not stop analysis (Zeek calls them weirds),
// named after what was observed: `tcp.seq_gap`, `modbus.length_mismatch`.
// Ids are grouped in the same ranges as field ids (protocols/fields.ts):
//   0-99 core (link, IP, TCP, UDP, flows, events), 100-199 Modbus,
//   200-299 SMB, 300-399 DCE-RPC, 400-449 NTLMSSP, 450-499 Kerberos,
//   500-599 models, 600-699 S7comm, 700-799 DNP3, 800-899 EtherNet/IP and CIP,
//   900-1039 HTTP, FTP, Telnet, VNC, RDP and SSH, 1100-1149 file objects.
// The host reads the names once through the `anomalyName` export.

import { modbusAnomalyName } from "../../protocols/modbus/fields";
import { smbAnomalyName } from "../../protocols/smb/fields";
import { dcerpcAnomalyName } from "../../protocols/dcerpc/fields";
import { ntlmAnomalyName } from "../../protocols/ntlm/fields";
import { kerberosAnomalyName } from "../../protocols/kerberos/fields";
import { s7AnomalyName } from "../../protocols/s7comm/fields";
import { enipAnomalyName } from "../../protocols/enip/fields";
import { fileAnomalyName } from "../../protocols/file/fields";
import { modelAnomalyName } from "./model-fields";
import { dnp3AnomalyName } from "../../protocols/dnp3/fields";
import { accessAnomalyName } from "../../protocols/access-fields";

// Covers the ranges assigned up to 1199.
@inline export const ANOMALY_ID_LIMIT: u32 = 1200;

// Core anomalies. The core's own layers add theirs here.
export namespace CoreAnomaly {
  @inline export const EVENT_BUFFER_FULL: u16 = 1;
  @inline export const EVENT_FIELD_TRUNCATED: u16 = 2;
  @inline export const PCAP_RECORD_LENGTH_INVALID: u16 = 3;
  @inline export const PCAP_TIMESTAMP_INVALID: u16 = 4;
  @inline export const LINK_UNSUPPORTED_TYPE: u16 = 5;
  @inline export const LINK_TRUNCATED: u16 = 6;
  @inline export const LINK_VLAN_TOO_DEEP: u16 = 7;
  @inline export const IPV4_BAD_VERSION: u16 = 8;
  @inline export const IPV4_BAD_HEADER_LENGTH: u16 = 9;
  @inline export const IPV4_BAD_TOTAL_LENGTH: u16 = 10;
  @inline export const IPV6_BAD_VERSION: u16 = 11;
  @inline export const IPV6_BAD_PAYLOAD_LENGTH: u16 = 12;
  @inline export const IPV6_EXTENSION_CHAIN_TOO_LONG: u16 = 13;
  @inline export const IPV6_EXTENSION_TRUNCATED: u16 = 14;
  @inline export const IP_FRAGMENT_OVERLAP: u16 = 15;
  @inline export const IP_FRAGMENT_LIMIT: u16 = 16;
  @inline export const IP_FRAGMENT_TOO_LARGE: u16 = 17;
  @inline export const IP_FRAGMENT_TIMEOUT: u16 = 18;
  @inline export const TCP_TRUNCATED: u16 = 19;
  @inline export const TCP_BAD_HEADER_LENGTH: u16 = 20;
  @inline export const TCP_SEQ_GAP: u16 = 21;
  @inline export const TCP_OVERLAP_CONFLICT: u16 = 22;
  @inline export const TCP_OUT_OF_ORDER_LIMIT: u16 = 23;
  @inline export const TCP_STREAM_BUFFER_FULL: u16 = 24;
  @inline export const TCP_SKIP_LIMIT: u16 = 25;
  @inline export const UDP_TRUNCATED: u16 = 26;
  @inline export const UDP_BAD_LENGTH: u16 = 27;
  @inline export const FLOW_TABLE_FULL_EVICTION: u16 = 28;
  @inline export const FLOW_APP_STATE_EXHAUSTED: u16 = 29;
  @inline export const DISPATCH_PROBE_LIMIT: u16 = 30;
  @inline export const IPV6_SECOND_FRAGMENT_HEADER: u16 = 31;
  @inline export const TCP_TTL_CHANGED: u16 = 32;
}

export function coreAnomalyName(id: u16): string {
  switch (id) {
    case CoreAnomaly.EVENT_BUFFER_FULL: return "event.buffer_full";
    case CoreAnomaly.EVENT_FIELD_TRUNCATED: return "event.field_truncated";
    case CoreAnomaly.PCAP_RECORD_LENGTH_INVALID: return "pcap.record_length_invalid";
    case CoreAnomaly.PCAP_TIMESTAMP_INVALID: return "pcap.timestamp_invalid";
    case CoreAnomaly.LINK_UNSUPPORTED_TYPE: return "link.unsupported_type";
    case CoreAnomaly.LINK_TRUNCATED: return "link.truncated";
    case CoreAnomaly.LINK_VLAN_TOO_DEEP: return "link.vlan_too_deep";
    case CoreAnomaly.IPV4_BAD_VERSION: return "ipv4.bad_version";
    case CoreAnomaly.IPV4_BAD_HEADER_LENGTH: return "ipv4.bad_header_length";
    case CoreAnomaly.IPV4_BAD_TOTAL_LENGTH: return "ipv4.bad_total_length";
    case CoreAnomaly.IPV6_BAD_VERSION: return "ipv6.bad_version";
    case CoreAnomaly.IPV6_BAD_PAYLOAD_LENGTH: return "ipv6.bad_payload_length";
    case CoreAnomaly.IPV6_EXTENSION_CHAIN_TOO_LONG: return "ipv6.extension_chain_too_long";
    case CoreAnomaly.IPV6_EXTENSION_TRUNCATED: return "ipv6.extension_truncated";
    case CoreAnomaly.IP_FRAGMENT_OVERLAP: return "ip.fragment_overlap";
    case CoreAnomaly.IP_FRAGMENT_LIMIT: return "ip.fragment_limit";
    case CoreAnomaly.IP_FRAGMENT_TOO_LARGE: return "ip.fragment_too_large";
    case CoreAnomaly.IP_FRAGMENT_TIMEOUT: return "ip.fragment_timeout";
    case CoreAnomaly.TCP_TRUNCATED: return "tcp.truncated";
    case CoreAnomaly.TCP_BAD_HEADER_LENGTH: return "tcp.bad_header_length";
    case CoreAnomaly.TCP_SEQ_GAP: return "tcp.seq_gap";
    case CoreAnomaly.TCP_OVERLAP_CONFLICT: return "tcp.overlap_conflict";
    case CoreAnomaly.TCP_OUT_OF_ORDER_LIMIT: return "tcp.out_of_order_limit";
    case CoreAnomaly.TCP_STREAM_BUFFER_FULL: return "tcp.stream_buffer_full";
    case CoreAnomaly.TCP_SKIP_LIMIT: return "tcp.skip_limit";
    case CoreAnomaly.UDP_TRUNCATED: return "udp.truncated";
    case CoreAnomaly.UDP_BAD_LENGTH: return "udp.bad_length";
    case CoreAnomaly.FLOW_TABLE_FULL_EVICTION: return "flow.table_full_eviction";
    case CoreAnomaly.FLOW_APP_STATE_EXHAUSTED: return "flow.app_state_exhausted";
    case CoreAnomaly.DISPATCH_PROBE_LIMIT: return "dispatch.probe_limit";
    case CoreAnomaly.IPV6_SECOND_FRAGMENT_HEADER: return "ipv6.second_fragment_header";
    case CoreAnomaly.TCP_TTL_CHANGED: return "tcp.ttl_changed";
  }
  return "";
}

// u64 counters indexed by anomaly id, in a static region so that counting
// works before `configure`.
const anomalyCounts = memory.data(<i32>(ANOMALY_ID_LIMIT * 8));

export function countAnomaly(id: u16): void {
  if (<u32>id >= ANOMALY_ID_LIMIT) return;
  const p = anomalyCounts + (<usize>id << 3);
  store<u64>(p, load<u64>(p) + 1);
}

export function anomalyCount(id: u16): u64 {
  if (<u32>id >= ANOMALY_ID_LIMIT) return 0;
  return load<u64>(anomalyCounts + (<usize>id << 3));
}

export function resetAnomalyCounts(): void {
  memory.fill(anomalyCounts, 0, <usize>ANOMALY_ID_LIMIT * 8);
}

// Returns the name of an anomaly id, or "" when the id is unassigned.
export function anomalyName(id: u16): string {
  if (id < 100) return coreAnomalyName(id);
  if (id < 200) return modbusAnomalyName(id);
  if (id < 300) return smbAnomalyName(id);
  if (id < 400) return dcerpcAnomalyName(id);
  if (id < 450) return ntlmAnomalyName(id);
  if (id < 500) return kerberosAnomalyName(id);
  if (id >= 500 && id < 600) return modelAnomalyName(id);
  if (id >= 600 && id < 700) return s7AnomalyName(id);
  if (id >= 700 && id < 800) return dnp3AnomalyName(id);
  if (id >= 800 && id < 900) return enipAnomalyName(id);
  if (id >= 900 && id < 1040) return accessAnomalyName(id);
  if (id >= 1100 && id < 1150) return fileAnomalyName(id);
  return "";
}
