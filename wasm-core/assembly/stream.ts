// Per-direction TCP stream reassembly (RFC 9293) that hands in-order bytes
// to the flow's dissector, probing for one first.
//
// Each direction keeps `base seq`, the sequence number of its first byte not
// yet consumed by the dissector. In-order bytes go straight from the packet
// to the dissector. Only bytes the dissector did not consume yet, and
// segments that arrive ahead of a hole, are copied into a stream buffer of
// `streamBufferBytes`, which stores byte ranges at offsets from base seq. All
// sequence arithmetic is modulo 2^32 (RFC 9293 section 3.4), so a stream
// that crosses the wrap decodes like any other.

import { Protocol } from "../../protocols/api";
import { setRecordContext, eventBufferFree, EVENT_RESERVE_BYTES } from "./events";
import { countAnomaly, CoreAnomaly } from "./counters";
import { AreaPool, acquireArea, areasAvailable, initAreaPool, releaseArea } from "./area-pool";
import { count, countBy, CoreCounter } from "./stats";
import {
  flowId, flowLastSec, flowLastNsec, flowIpVersion, flowProtocol, setFlowProtocol, flowFlags, setFlowFlag,
  flowProbes, setFlowProbes, flowSrcPort, flowDstPort, flowAppState, setFlowAppState,
  baseSeq, setBaseSeq, streamBuffer, setStreamBuffer, F_SRC, F_DST, FLOW_UNDISSECTED,
  directionFlags, setDirectionFlag, clearDirectionFlag, DIRECTION_PAUSED,
} from "./flows";
import {
  probeProtocols, probeNeedsMore, countProtocolFlow,
  callOnData, callOnGap, callOnClose, acquireAppState, releaseAppState,
} from "./dispatch";
import {
  insertRange, shiftRanges, contiguousBytes, rangeCount, rangeStart, rangeListBytes, clearRanges, dropLastRange,
  RANGE_LIMIT, RANGE_CONFLICT,
} from "./ranges";

@inline const IP_PROTOCOL_TCP: u8 = 6;

// Disjoint byte ranges a stream buffer can store: the run at base seq plus
// segments beyond holes. One more range counts `tcp.out_of_order_limit` and
// gives up on the first hole (or, for a segment at base seq, drops the
// farthest range).
@inline export const MAX_STREAM_RANGES: u32 = 16;
// Bytes a probe may wait for before the flow is declared undissected.
@inline export const PROBE_MAX_BYTES: u32 = 4096;
// Probes that may fail before the flow is declared undissected. Midstream
// pickup can start inside a long PDU (an SMB READ), so several segments get
// their chance.
@inline export const MAX_PROBE_ATTEMPTS: u8 = 8;
// Largest skip a dissector may request; sequence comparisons are only
// meaningful within half the 2^32 space.
@inline export const MAX_SKIP_BYTES: u32 = 1 << 30;
// Bytes offered to a dissector per onData call. A dissector decodes every
// whole PDU it is given in one call, so the slice bounds the records one call
// can write: even 8-byte Modbus ADUs at about 200 bytes of record each stay
// far below EVENT_RESERVE_BYTES. A PDU longer than the slice gets a doubled
// slice until it fits.
@inline const DELIVERY_SLICE_BYTES: u32 = 1024;
// Defensive bound on the steps of `acceptSegment`: each step consumes bytes
// or drops a hole, so a segment needs at most about 2 * MAX_STREAM_RANGES.
@inline const MAX_ACCEPT_STEPS: u32 = 64;

// Stream buffers: | range list | data (bufferBytes) |, allocated once. A
// buffer becomes resident when a flow first keeps bytes in it.
const bufferPool = changetype<AreaPool>(memory.data(offsetof<AreaPool>()));
let bufferBytes: u32 = 0;
let dataOffset: usize = 0;

export function initStreams(streamBufferBytes: u32, bufferCount: u32): void {
  if (bufferPool.areas != 0) return;
  bufferBytes = streamBufferBytes;
  dataOffset = (<usize>rangeListBytes(MAX_STREAM_RANGES) + 7) & ~(<usize>7);
  initAreaPool(bufferPool, bufferCount, (dataOffset + <usize>streamBufferBytes + 7) & ~(<usize>7));
}

function acquireBuffer(): usize {
  const buffer = acquireArea(bufferPool);
  if (buffer != 0) clearRanges(buffer);
  return buffer;
}

export function releaseBuffer(flow: usize, d: u32): void {
  const buffer = streamBuffer(flow, d);
  if (buffer == 0) return;
  releaseArea(bufferPool, buffer);
  setStreamBuffer(flow, d, 0);
}

@inline function bufferData(buffer: usize): usize { return buffer + dataOffset; }

// Sets the event writer's context to this flow at its last packet time.
export function setContext(flow: usize): void {
  setRecordContext(flowLastSec(flow), flowLastNsec(flow), flowId(flow), flowIpVersion(flow), IP_PROTOCOL_TCP,
    flow + F_SRC, flowSrcPort(flow), flow + F_DST, flowDstPort(flow));
}

export function markUndissected(flow: usize): void {
  if (flowFlags(flow) & FLOW_UNDISSECTED) return;
  setFlowFlag(flow, FLOW_UNDISSECTED);
  count(CoreCounter.FLOWS_UNDISSECTED);
  releaseBuffer(flow, 0);
  releaseBuffer(flow, 1);
}

// The dissector returned STREAM_REJECT: let it report what it holds, then
// stop dissecting the flow.
function stopDissecting(flow: usize): void {
  const state = flowAppState(flow);
  if (state != 0) {
    callOnClose(flowProtocol(flow), state);
    releaseAppState(flowProtocol(flow), state);
    setFlowAppState(flow, 0);
  }
  markUndissected(flow);
}

// Probes the first bytes of a direction. Returns true when a dissector took
// the flow; false leaves `probeDiscard` saying whether to drop the bytes.
let probeDiscard: bool = false;

function probe(flow: usize, d: u32, ptr: usize, length: u32): bool {
  probeDiscard = false;
  const protocol = probeProtocols(flowSrcPort(flow), flowDstPort(flow), d == 0, ptr, length, flowProbes(flow) == 0);
  if (protocol == Protocol.NONE) {
    if (probeNeedsMore && length < PROBE_MAX_BYTES) return false;
    if (probeNeedsMore) countAnomaly(CoreAnomaly.DISPATCH_PROBE_LIMIT);
    probeDiscard = true;
    const probes = flowProbes(flow) + 1;
    setFlowProbes(flow, probes);
    if (probes >= MAX_PROBE_ATTEMPTS) markUndissected(flow);
    return false;
  }
  const state = acquireAppState(protocol);
  if (state == 0) {
    countAnomaly(CoreAnomaly.FLOW_APP_STATE_EXHAUSTED);
    markUndissected(flow);
    probeDiscard = true;
    return false;
  }
  setFlowProtocol(flow, protocol);
  setFlowAppState(flow, state);
  countProtocolFlow(protocol);
  return true;
}

// The flow whose delivery paused for event room, or 0. Only one flow can be
// paused: processBatch stops after the packet that paused it and resumes the
// flow before the next packet (resumePaused in tcp.ts).
let pausedFlow: usize = 0;
// Set while a flow is being closed: its last bytes are delivered whatever
// the event room, because the flow will not come back for them.
let closing: bool = false;

export function pausedFlowOrZero(): usize { return pausedFlow; }
export function setClosing(value: bool): void { closing = value; }

// Hands `length` in-order bytes of direction `d` to the dissector, probing
// first when the flow has none, one slice per onData call. Returns the bytes
// consumed; a result above `length` means the bytes after them are to be
// skipped as well. When `mayPause` is true (the caller can hold the rest)
// and the event buffer is down to EVENT_RESERVE_BYTES, it stops between two
// calls and marks the direction paused, so no record is lost to
// `event.buffer_full` while the host could drain.
function deliver(flow: usize, d: u32, ptr: usize, length: u32, mayPause: bool): u32 {
  if (flowFlags(flow) & FLOW_UNDISSECTED) return length;
  if (flowProtocol(flow) == Protocol.NONE) {
    if (!probe(flow, d, ptr, length)) return probeDiscard ? length : 0;
    // The other direction may have buffered bytes that waited for the probe.
    deliverHeld(flow, d ^ 1, true);
    // The dissector may have rejected those bytes, which released the
    // buffers and the state area: `ptr` may point into a released buffer.
    if (flowFlags(flow) & FLOW_UNDISSECTED) return length;
  }
  const protocol = flowProtocol(flow);
  const state = flowAppState(flow);
  const toServer = d == 0;
  setContext(flow);
  clearDirectionFlag(flow, d, DIRECTION_PAUSED);
  let consumed: u32 = 0;
  let slice = DELIVERY_SLICE_BYTES;
  while (consumed < length) {
    if (consumed > 0 && mayPause && !closing && eventBufferFree() < EVENT_RESERVE_BYTES) {
      setDirectionFlag(flow, d, DIRECTION_PAUSED);
      pausedFlow = flow;
      count(CoreCounter.DELIVERY_PAUSES);
      break;
    }
    const remaining = length - consumed;
    const offered = remaining < slice ? remaining : slice;
    count(CoreCounter.DISSECTOR_CALLS);
    const result = callOnData(protocol, state, toServer, ptr + <usize>consumed, offered);
    if (result == 0) {
      if (offered == remaining) break;
      // The PDU at the front is longer than the slice: offer more.
      slice = slice << 1;
      continue;
    }
    if (result < 0) {
      countBy(CoreCounter.BYTES_DELIVERED, <u64>consumed);
      stopDissecting(flow);
      return length;
    }
    if (<u32>result > remaining) {
      let skip = <u32>result - remaining;
      if (skip > MAX_SKIP_BYTES) {
        countAnomaly(CoreAnomaly.TCP_SKIP_LIMIT);
        skip = MAX_SKIP_BYTES;
      }
      countBy(CoreCounter.BYTES_DELIVERED, <u64>length);
      countBy(CoreCounter.BYTES_SKIPPED, <u64>skip);
      return length + skip;
    }
    // A skip that ends inside the bytes at hand is consumed like the rest.
    consumed += <u32>result;
  }
  if (pausedFlow == flow && (directionFlags(flow, d ^ 1) & DIRECTION_PAUSED) == 0 &&
      (directionFlags(flow, d) & DIRECTION_PAUSED) == 0) {
    pausedFlow = 0;
  }
  countBy(CoreCounter.BYTES_DELIVERED, <u64>consumed);
  return consumed;
}

// Moves base seq of direction `d` forward by `amount` bytes, dropping held
// bytes below it and releasing an emptied buffer.
function advance(flow: usize, d: u32, amount: u32): void {
  if (amount == 0) return;
  setBaseSeq(flow, d, baseSeq(flow, d) + amount);
  const buffer = streamBuffer(flow, d);
  if (buffer == 0) return;
  shiftRanges(buffer, bufferData(buffer), amount);
  if (rangeCount(buffer) == 0) releaseBuffer(flow, d);
}

// Delivers the held run at base seq, if any. Returns the bytes consumed.
function deliverHeld(flow: usize, d: u32, mayPause: bool): u32 {
  const buffer = streamBuffer(flow, d);
  if (buffer == 0) return 0;
  const run = contiguousBytes(buffer);
  if (run == 0) return 0;
  const consumed = deliver(flow, d, bufferData(buffer), run, mayPause);
  advance(flow, d, consumed);
  return consumed;
}

// Gives up on the hole at the front of direction `d`. The held run the
// dissector could not finish and the missing bytes are dropped, up to the
// first held range after the hole or up to `limit` (an offset from base seq)
// if that comes first. The dissector gets onGap, then the next held run.
function skipHole(flow: usize, d: u32, limit: u32): void {
  countAnomaly(CoreAnomaly.TCP_SEQ_GAP);
  let target = limit;
  const buffer = streamBuffer(flow, d);
  if (buffer != 0) {
    const n = rangeCount(buffer);
    for (let i: u32 = 0; i < n; i++) {
      const start = rangeStart(buffer, i);
      if (start > 0) {
        if (start < target) target = start;
        break;
      }
    }
  }
  if (target == 0xffffffff) target = buffer != 0 ? bufferBytes : 0;
  countBy(CoreCounter.BYTES_LOST, <u64>target);
  advance(flow, d, target);
  const state = flowAppState(flow);
  if (state != 0 && (flowFlags(flow) & FLOW_UNDISSECTED) == 0) {
    setContext(flow);
    callOnGap(flowProtocol(flow), state, d == 0);
  }
  deliverHeld(flow, d, true);
}

// Accepts `length` payload bytes at sequence number `seq` for direction `d`.
export function acceptSegment(flow: usize, d: u32, seq: u32, ptr: usize, length: u32): void {
  let counted = false;
  for (let step: u32 = 0; step < MAX_ACCEPT_STEPS; step++) {
    if (length == 0 || (flowFlags(flow) & FLOW_UNDISSECTED)) return;
    const base = baseSeq(flow, d);
    let offset = <i32>(seq - base);
    if (offset < 0) {
      // Retransmitted or already consumed (or skipped) bytes: the first copy
      // won, so only the new tail counts.
      const old = <u32>(-(<i64>offset));
      if (old >= length) return;
      ptr += <usize>old;
      length -= old;
      seq = base;
      offset = 0;
    }
    const at = <u32>offset;
    let buffer = streamBuffer(flow, d);

    if (buffer == 0 && at == 0) {
      // In order with nothing held: straight from the packet. The delivery
      // may pause only when a stream buffer can hold the rest.
      const consumed = deliver(flow, d, ptr, length, length <= bufferBytes && areasAvailable(bufferPool) > 0);
      advance(flow, d, consumed);
      if (consumed >= length) return;
      ptr += <usize>consumed;
      length -= consumed;
      seq += consumed;
      if (flowFlags(flow) & FLOW_UNDISSECTED) return;
      buffer = acquireBuffer();
      if (buffer == 0 || length > bufferBytes) {
        if (buffer != 0) releaseArea(bufferPool, buffer);
        countAnomaly(CoreAnomaly.TCP_STREAM_BUFFER_FULL);
        skipHole(flow, d, length);
        return;
      }
      setStreamBuffer(flow, d, buffer);
      insertRange(buffer, MAX_STREAM_RANGES, bufferData(buffer), 0, length, ptr);
      return;
    }

    if (at > 0 && !counted) {
      count(CoreCounter.TCP_OUT_OF_ORDER);
      counted = true;
    }
    if (buffer == 0) {
      buffer = acquireBuffer();
      if (buffer == 0) {
        countAnomaly(CoreAnomaly.TCP_OUT_OF_ORDER_LIMIT);
        skipHole(flow, d, at);
        continue;
      }
      setStreamBuffer(flow, d, buffer);
    }

    const run = contiguousBytes(buffer);
    if (<u64>at + <u64>length > <u64>bufferBytes) {
      if (at > run) {
        // Bytes arrive beyond the buffer while the hole before them is
        // still open: the hole will not fill within the bound.
        skipHole(flow, d, at);
        continue;
      }
      // The segment continues the held run: take what fits, let the
      // dissector consume, then come back for the rest.
      const fits = bufferBytes - at;
      if (fits > 0) insertRange(buffer, MAX_STREAM_RANGES, bufferData(buffer), at, bufferBytes, ptr);
      // No pause here: the rest of the segment is in no buffer.
      if (deliverHeld(flow, d, false) == 0) {
        countAnomaly(CoreAnomaly.TCP_STREAM_BUFFER_FULL);
        skipHole(flow, d, contiguousBytes(buffer));
      }
      continue;
    }

    const result = insertRange(buffer, MAX_STREAM_RANGES, bufferData(buffer), at, at + length, ptr);
    if (result & RANGE_LIMIT) {
      countAnomaly(CoreAnomaly.TCP_OUT_OF_ORDER_LIMIT);
      if (at > 0) {
        skipHole(flow, d, at);
      } else {
        // The segment starts at base seq, so the front hole is not lost:
        // drop the farthest range instead, which later becomes a gap.
        dropLastRange(buffer);
      }
      continue;
    }
    if (result & RANGE_CONFLICT) countAnomaly(CoreAnomaly.TCP_OVERLAP_CONFLICT);
    if (at <= run) deliverHeld(flow, d, true);
    return;
  }
}

// Delivers the bytes a direction still buffers at the end of the flow. Each
// hole becomes a gap, and a final run the dissector cannot finish is dropped
// (onClose reports the partial PDU).
export function flushDirection(flow: usize, d: u32): void {
  // Bytes held by a paused delivery were never offered: offer them first.
  if (directionFlags(flow, d) & DIRECTION_PAUSED) deliverHeld(flow, d, false);
  for (let i: u32 = 0; i <= MAX_STREAM_RANGES + 1; i++) {
    const buffer = streamBuffer(flow, d);
    if (buffer == 0) return;
    const run = contiguousBytes(buffer);
    if (run > 0) advance(flow, d, run);
    else skipHole(flow, d, 0xffffffff);
  }
  releaseBuffer(flow, d);
}

// Resumes a paused delivery of direction `d`. Returns false when it paused
// again (drain the event buffer, then call again).
export function resumeDirection(flow: usize, d: u32): bool {
  if ((directionFlags(flow, d) & DIRECTION_PAUSED) == 0) return true;
  if (flowFlags(flow) & FLOW_UNDISSECTED) {
    clearDirectionFlag(flow, d, DIRECTION_PAUSED);
    return true;
  }
  deliverHeld(flow, d, true);
  return (directionFlags(flow, d) & DIRECTION_PAUSED) == 0;
}

// Forgets the paused flow when it is closed or evicted.
export function forgetPausedFlow(flow: usize): void {
  if (pausedFlow == flow) pausedFlow = 0;
  clearDirectionFlag(flow, 0, DIRECTION_PAUSED);
  clearDirectionFlag(flow, 1, DIRECTION_PAUSED);
}
