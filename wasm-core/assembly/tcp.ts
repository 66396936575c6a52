// TCP (RFC 9293): segments to flows, the originator of each flow, and the
// flow's end (FIN, RST, eviction, idle timeout). The bytes themselves go to
// stream.ts for reassembly.

import { readU16be, readU32be, Protocol } from "../../protocols/api";
import { eventBufferFree, EVENT_RESERVE_BYTES } from "./events";
import { countAnomaly, CoreAnomaly } from "./counters";
import { count, countBy, CoreCounter } from "./stats";
import { packetIpVersion, packetSrc, packetDst, packetTsSec, packetTsNsec, packetTtl } from "./packet";
import {
  findFlow, foundToServer, createFlow, releaseFlow, touchFlow, flowTableFull, leastRecentlyUsedFlow,
  flowLastSec, flowProtocol, flowFlags, flowAppState, setFlowAppState,
  baseSeq, setBaseSeq, streamBuffer, finSeq, setFinSeq, directionFlags, setDirectionFlag,
  FLOW_UNDISSECTED, DIRECTION_SEQ_KNOWN, DIRECTION_FIN, DIRECTION_PAUSED, DIRECTION_TTL_KNOWN,
  directionFirstTtl, setDirectionFirstTtl,
} from "./flows";
import { isDispatchPort, callOnClose, releaseAppState } from "./dispatch";
import { contiguousBytes } from "./ranges";
import { writeConnectionStart } from "./conn";
import {
  acceptSegment, flushDirection, releaseBuffer, setContext, markUndissected,
  pausedFlowOrZero, resumeDirection, forgetPausedFlow, setClosing,
} from "./stream";

export { initStreams } from "./stream";

@inline const TCP_MIN_HEADER_BYTES: u32 = 20;
@inline const FLAG_FIN: u8 = 0x01;
@inline const FLAG_SYN: u8 = 0x02;
@inline const FLAG_RST: u8 = 0x04;
@inline const FLAG_ACK: u8 = 0x10;
// TTL difference from a direction's first segment above which a data segment
// counts `tcp.ttl_changed`. One sender's segments normally share one TTL. A
// decoy sized to expire between the monitor and the receiver has a lower
// one. The margin leaves room for a route change and is a choice, not a
// figure from a specification.
@inline const TTL_CHANGE_LIMIT: u32 = 5;

// Ends a flow: pending bytes, the dissector's onClose (once), then the entry
// goes back to the pool. `reason` is the CoreCounter to count.
export function closeFlow(flow: usize, reason: u16): void {
  if ((flowFlags(flow) & FLOW_UNDISSECTED) == 0) {
    setClosing(true);
    flushDirection(flow, 0);
    flushDirection(flow, 1);
    setClosing(false);
    // Still probing when it ends (no payload, or too few bytes to decide).
    if (flowProtocol(flow) == Protocol.NONE) markUndissected(flow);
  }
  forgetPausedFlow(flow);
  releaseBuffer(flow, 0);
  releaseBuffer(flow, 1);
  const state = flowAppState(flow);
  if (state != 0) {
    setContext(flow);
    callOnClose(flowProtocol(flow), state);
    releaseAppState(flowProtocol(flow), state);
    setFlowAppState(flow, 0);
  }
  count(reason);
  releaseFlow(flow);
}

// Picks the responder of a flow seen without its SYN: the side on a
// dispatched port, else the lower port.
function senderIsResponder(srcPort: u16, dstPort: u16): bool {
  const srcKnown = isDispatchPort(srcPort);
  if (srcKnown != isDispatchPort(dstPort)) return srcKnown;
  return srcPort < dstPort;
}

// A direction is finished once its FIN was seen and every byte before it
// arrived.
function directionFinished(flow: usize, d: u32): bool {
  if ((directionFlags(flow, d) & DIRECTION_FIN) == 0) return false;
  // Held bytes wait for a paused delivery: resumePaused closes the flow.
  if (directionFlags(flow, d) & DIRECTION_PAUSED) return false;
  if (flowFlags(flow) & FLOW_UNDISSECTED) return true;
  const buffer = streamBuffer(flow, d);
  const next = baseSeq(flow, d) + (buffer != 0 ? contiguousBytes(buffer) : 0);
  return <i32>(finSeq(flow, d) - next) <= 0;
}

//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------------------------------+-------------------------------+
//   |          Source Port          |       Destination Port        |
//   +-------------------------------+-------------------------------+
//   |                        Sequence Number                        |
//   +---------------------------------------------------------------+
//   |                    Acknowledgment Number                      |
//   +-------+-------+---------------+-------------------------------+
//   |  Data |       |C|E|U|A|P|R|S|F|                               |
//   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//   +-------+-------+---------------+-------------------------------+
//   |           Checksum            |         Urgent Pointer        |
//   +-------------------------------+-------------------------------+
export function handleTcp(ptr: usize, length: u32): void {
  count(CoreCounter.TCP_SEGMENTS);
  if (length < TCP_MIN_HEADER_BYTES) {
    countAnomaly(CoreAnomaly.TCP_TRUNCATED);
    return;
  }
  const headerLength = (<u32>(load<u8>(ptr, 12) >> 4)) << 2;
  if (headerLength < TCP_MIN_HEADER_BYTES || headerLength > length) {
    countAnomaly(CoreAnomaly.TCP_BAD_HEADER_LENGTH);
    return;
  }
  const srcPort = readU16be(ptr);
  const dstPort = readU16be(ptr + 2);
  const seq = readU32be(ptr + 4);
  const flags = load<u8>(ptr, 13);
  const payload = ptr + <usize>headerLength;
  const payloadLength = length - headerLength;
  countBy(CoreCounter.TCP_PAYLOAD_BYTES, <u64>payloadLength);
  const syn = (flags & FLAG_SYN) != 0;
  const ack = (flags & FLAG_ACK) != 0;

  let flow = findFlow(packetIpVersion, packetSrc(), srcPort, packetDst(), dstPort);
  let toServer = foundToServer;
  if (flow != 0 && syn && !ack && toServer &&
      (directionFlags(flow, 0) & DIRECTION_SEQ_KNOWN) != 0 && baseSeq(flow, 0) != seq + 1 &&
      directionFinished(flow, 0)) {
    // A new connection on the 5-tuple of a finished one (port reuse).
    closeFlow(flow, CoreCounter.FLOWS_CLOSED);
    flow = 0;
  }
  if (flow == 0) {
    // A bare ACK, FIN or RST of an unknown flow carries nothing to dissect.
    if ((flags & FLAG_RST) != 0 || (!syn && payloadLength == 0)) return;
    let senderIsOriginator: bool;
    if (syn) senderIsOriginator = !ack;
    else senderIsOriginator = !senderIsResponder(srcPort, dstPort);
    if (flowTableFull()) {
      countAnomaly(CoreAnomaly.FLOW_TABLE_FULL_EVICTION);
      closeFlow(leastRecentlyUsedFlow(), CoreCounter.FLOWS_EVICTED);
    }
    if (senderIsOriginator) flow = createFlow(packetIpVersion, packetSrc(), srcPort, packetDst(), dstPort);
    else flow = createFlow(packetIpVersion, packetDst(), dstPort, packetSrc(), srcPort);
    if (flow == 0) return;
    toServer = senderIsOriginator;
    touchFlow(flow, packetTsSec, packetTsNsec);
    writeConnectionStart(flow, syn);
  } else {
    touchFlow(flow, packetTsSec, packetTsNsec);
  }

  const d: u32 = toServer ? 0 : 1;
  checkTtl(flow, d, payloadLength);
  let payloadSeq = seq;
  if (syn) {
    // The SYN occupies one sequence number before the first data byte.
    payloadSeq = seq + 1;
    if ((directionFlags(flow, d) & DIRECTION_SEQ_KNOWN) == 0) {
      setBaseSeq(flow, d, payloadSeq);
      setDirectionFlag(flow, d, DIRECTION_SEQ_KNOWN);
    }
  }
  if (payloadLength > 0) {
    if ((directionFlags(flow, d) & DIRECTION_SEQ_KNOWN) == 0) {
      // Midstream pickup: the first data seen starts the stream.
      setBaseSeq(flow, d, payloadSeq);
      setDirectionFlag(flow, d, DIRECTION_SEQ_KNOWN);
    }
    acceptSegment(flow, d, payloadSeq, payload, payloadLength);
  }
  if ((flags & FLAG_FIN) != 0 && (directionFlags(flow, d) & DIRECTION_FIN) == 0) {
    setFinSeq(flow, d, payloadSeq + payloadLength);
    setDirectionFlag(flow, d, DIRECTION_FIN);
  }
  if ((flags & FLAG_RST) != 0 || (directionFinished(flow, 0) && directionFinished(flow, 1))) {
    closeFlow(flow, CoreCounter.FLOWS_CLOSED);
  }
}

// Stores the first TTL of direction `d`, then counts `tcp.ttl_changed` for
// a data segment whose TTL differs from it by more than TTL_CHANGE_LIMIT.
function checkTtl(flow: usize, d: u32, payloadLength: u32): void {
  if ((directionFlags(flow, d) & DIRECTION_TTL_KNOWN) == 0) {
    setDirectionFirstTtl(flow, d, packetTtl);
    setDirectionFlag(flow, d, DIRECTION_TTL_KNOWN);
    return;
  }
  if (payloadLength == 0) return;
  const first = <u32>directionFirstTtl(flow, d);
  const ttl = <u32>packetTtl;
  const difference = ttl > first ? ttl - first : first - ttl;
  if (difference > TTL_CHANGE_LIMIT) countAnomaly(CoreAnomaly.TCP_TTL_CHANGED);
}

// Closes flows idle for more than `timeoutSec` at packet time `nowSec`,
// oldest first. Returns false when it stopped early to leave room in the
// event buffer (call again after draining).
export function expireFlows(nowSec: u32, timeoutSec: u32): bool {
  let flow = leastRecentlyUsedFlow();
  while (flow != 0) {
    const last = flowLastSec(flow);
    if (nowSec <= last || nowSec - last <= timeoutSec) return true;
    if (eventBufferFree() < EVENT_RESERVE_BYTES) return false;
    closeFlow(flow, CoreCounter.FLOWS_EXPIRED);
    flow = leastRecentlyUsedFlow();
  }
  return true;
}

// Closes every flow (end of input). Returns false when it stopped early to
// leave room in the event buffer.
export function closeAllFlows(): bool {
  let flow = leastRecentlyUsedFlow();
  while (flow != 0) {
    if (eventBufferFree() < EVENT_RESERVE_BYTES) return false;
    closeFlow(flow, CoreCounter.FLOWS_CLOSED);
    flow = leastRecentlyUsedFlow();
  }
  return true;
}

// Resumes the delivery that paused for event room, then closes its flow if
// both directions finished meanwhile. Returns false when there is too little
// event room or the delivery paused again (drain, then call again).
export function resumePaused(): bool {
  const flow = pausedFlowOrZero();
  if (flow == 0) return true;
  if (eventBufferFree() < EVENT_RESERVE_BYTES) return false;
  if (!resumeDirection(flow, 0) || !resumeDirection(flow, 1)) return false;
  forgetPausedFlow(flow);
  if (directionFinished(flow, 0) && directionFinished(flow, 1)) closeFlow(flow, CoreCounter.FLOWS_CLOSED);
  return true;
}
