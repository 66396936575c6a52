// UDP (RFC 768): counted, length-checked and handed to the datagram
// dissectors by port in `dispatchUdp` (Kerberos on port 88, EtherNet/IP on
// 44818 and 2222, DNP3 on 20000).

import { readU16be } from "../../protocols/api";
import { countAnomaly, CoreAnomaly } from "./counters";
import { count, CoreCounter } from "./stats";
import { kerberosOnUdp, PORT_KERBEROS } from "../../protocols/kerberos/kerberos";
import { enipOnUdp, PORT_ENIP, PORT_ENIP_IO } from "../../protocols/enip/enip";
import { dnp3OnUdp, PORT_DNP3 } from "../../protocols/dnp3/dnp3";

@inline const UDP_HEADER_BYTES: u32 = 8;

//   | source port (2) | destination port (2) | length (2) | checksum (2) |
export function handleUdp(ptr: usize, length: u32): void {
  count(CoreCounter.UDP_DATAGRAMS);
  if (length < UDP_HEADER_BYTES) {
    countAnomaly(CoreAnomaly.UDP_TRUNCATED);
    return;
  }
  const udpLength = <u32>readU16be(ptr + 4);
  let end = length;
  if (udpLength < UDP_HEADER_BYTES) {
    // Zero is legal only for IPv6 jumbograms (RFC 2675); anything else below
    // the header size is malformed.
    if (udpLength != 0) {
      countAnomaly(CoreAnomaly.UDP_BAD_LENGTH);
      return;
    }
  } else if (udpLength <= length) {
    end = udpLength;
  }
  dispatchUdp(readU16be(ptr), readU16be(ptr + 2), ptr + UDP_HEADER_BYTES, end - UDP_HEADER_BYTES);
}

function dispatchUdp(srcPort: u16, dstPort: u16, payload: usize, length: u32): void {
  if (srcPort == PORT_KERBEROS || dstPort == PORT_KERBEROS) {
    kerberosOnUdp(srcPort, dstPort, payload, length);
    return;
  }
  // EtherNet/IP: encapsulation on 44818 (ListIdentity discovery), class 0/1
  // I/O data on 2222.
  if (srcPort == PORT_ENIP || dstPort == PORT_ENIP || srcPort == PORT_ENIP_IO || dstPort == PORT_ENIP_IO) {
    enipOnUdp(srcPort, dstPort, payload, length);
    return;
  }
  if (srcPort == PORT_DNP3 || dstPort == PORT_DNP3) {
    // DNP3 over UDP (IEEE 1815-2012): whole link frames in each datagram.
    dnp3OnUdp(srcPort, dstPort, payload, length);
    return;
  }
  count(CoreCounter.UDP_UNDISSECTED);
}
