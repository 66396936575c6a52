// The core's exports: the ABI between the WebAssembly module and the host
// (agent/src/core/core.ts). wasm-core/README.md documents the layouts.

import { initEvents, eventBufferBase, eventBufferUsed, eventBufferClosed, eventBufferFree, resetEvents, EVENT_RESERVE_BYTES } from "./events";
import { anomalyName as anomalyNameText, anomalyCount as anomalyCountValue, ANOMALY_ID_LIMIT, countAnomaly, CoreAnomaly } from "./counters";
import { fieldName as fieldNameText, recordTypeName as recordTypeNameText, FIELD_ID_LIMIT, RecordType } from "../../protocols/fields";
import { counterName as counterNameText, counterValue as counterValueU64, count, countBy, CoreCounter } from "./stats";
import { setPacketTime } from "./packet";
import { setCaptureTruncated } from "./ip";
import { handleFrame } from "./link";
import { initFragments, clearFragments } from "./fragments";
import { initFlows } from "./flows";
import { initStreams, expireFlows, closeAllFlows, resumePaused } from "./tcp";
import { initAppStates } from "./dispatch";
import { sweepModelBursts } from "./models";
import { PROBE_MAX_BYTES } from "./stream";
import { SMB_PARSE_WINDOW_BYTES } from "../../protocols/smb/smb";
import { initFileObjects, setFileDataRecords as setFileDataRecordsFlag } from "../../protocols/file/objects";

export * from "./model-exports";

// NOTE: asc 0.28.20 crashes (an internal error, no message) on
// `@inline export const` in the entry file, so the constants here stay
// private to it.

// Size of a pcap record header in a batch: ts_sec, ts_frac, caplen, wirelen.
@inline const RECORD_HEADER_BYTES: u32 = 16;
// Largest caplen accepted; larger values mean a corrupt record (libpcap's
// own limit for a snapshot length is 262144).
@inline const MAX_CAPLEN: u32 = 262144;

// configure() results.
@inline const CONFIGURE_OK: i32 = 0;
@inline const CONFIGURE_ALREADY_DONE: i32 = 1;
@inline const CONFIGURE_INVALID_MAX_FLOWS: i32 = 2;
@inline const CONFIGURE_INVALID_APP_STATE_SLOTS: i32 = 3;
@inline const CONFIGURE_INVALID_STREAM_BUFFER: i32 = 4;
@inline const CONFIGURE_INVALID_REASSEMBLY_TOTAL: i32 = 5;
@inline const CONFIGURE_INVALID_EVENT_BUFFER: i32 = 6;
@inline const CONFIGURE_INVALID_SCRATCH: i32 = 7;
@inline const CONFIGURE_INVALID_IDLE_TIMEOUT: i32 = 8;

// Bounds checked by configure (the host checks them first, with messages).
@inline const MAX_FLOWS_LIMIT: u32 = 1 << 24;
// A stream buffer must hold the bytes a probe may wait for, and the SMB
// dissector's parse window behind its 4-byte session header: a smaller buffer
// leaves a large SMB message waiting for bytes that never fit.
@inline const MIN_STREAM_BUFFER_BYTES: u32 = SMB_PARSE_WINDOW_BYTES + 4 > PROBE_MAX_BYTES ? SMB_PARSE_WINDOW_BYTES + 4 : PROBE_MAX_BYTES;
@inline const MAX_STREAM_BUFFER_BYTES: u32 = 64 << 20;
@inline const MIN_SCRATCH_BYTES: u32 = MAX_CAPLEN + RECORD_HEADER_BYTES;

let configured = false;
let scratch: usize = 0;
let scratchBytes: u32 = 0;
let idleTimeoutSec: u32 = 0;
// Packet second of the last idle sweep; sweeps run when packet time moves on.
let lastSweepSec: u32 = 0;

// Allocates every pool once. A second call returns CONFIGURE_ALREADY_DONE
// and changes nothing, because the stub runtime never frees memory.
export function configure(
  maxFlows: u32, appStateSlots: u32, streamBufferBytes: u32, reassemblyBytesTotal: u32,
  eventBufferBytes: u32, flowIdleTimeoutSec: u32, scratchCapacityBytes: u32,
): i32 {
  if (configured) return CONFIGURE_ALREADY_DONE;
  if (maxFlows == 0 || maxFlows > MAX_FLOWS_LIMIT) return CONFIGURE_INVALID_MAX_FLOWS;
  if (appStateSlots == 0 || appStateSlots > maxFlows) return CONFIGURE_INVALID_APP_STATE_SLOTS;
  if (streamBufferBytes < MIN_STREAM_BUFFER_BYTES || streamBufferBytes > MAX_STREAM_BUFFER_BYTES) {
    return CONFIGURE_INVALID_STREAM_BUFFER;
  }
  if (reassemblyBytesTotal < streamBufferBytes) return CONFIGURE_INVALID_REASSEMBLY_TOTAL;
  if (eventBufferBytes < 2 * EVENT_RESERVE_BYTES) return CONFIGURE_INVALID_EVENT_BUFFER;
  if (scratchCapacityBytes < MIN_SCRATCH_BYTES) return CONFIGURE_INVALID_SCRATCH;
  if (flowIdleTimeoutSec == 0) return CONFIGURE_INVALID_IDLE_TIMEOUT;
  configured = true;

  scratch = heap.alloc(<usize>scratchCapacityBytes);
  scratchBytes = scratchCapacityBytes;
  idleTimeoutSec = flowIdleTimeoutSec;
  initEvents(eventBufferBytes);
  initFlows(maxFlows);
  initAppStates(maxFlows, appStateSlots);
  initFileObjects();
  initStreams(streamBufferBytes, reassemblyBytesTotal / streamBufferBytes);
  initFragments();
  return CONFIGURE_OK;
}

export function scratchPtr(): usize { return scratch; }
export function scratchCapacity(): u32 { return scratchBytes; }

export function eventsPtr(): usize { return eventBufferBase(); }
export function eventsLength(): u32 { return eventBufferUsed(); }
export function eventsReset(): void { resetEvents(); }
// Bytes of closed records at the start of the event buffer: after a trap,
// the host drains these and drops a record left open by the trap.
export function eventsClosedLength(): u32 { return eventBufferClosed(); }

// Offset in scratch of the record being processed, or NO_RECORD while
// processBatch runs no record (resuming a paused delivery, expiring flows).
// After a trap the host reads it from the dead instance to skip that record.
@inline const NO_RECORD: u32 = 0xffffffff;
let recordInProgress: u32 = NO_RECORD;
export function currentRecordOffset(): u32 { return recordInProgress; }

// Test hook: makes the core trap (`unreachable`) when it starts the
// `packets`-th packet from now, so tests can drive the host's trap recovery.
// 0 disarms it. Nothing in the agent calls it.
let trapCountdown: u32 = 0;
export function __forceTrapAfterPackets(packets: u32): void { trapCountdown = packets; }

// Processes the batch of `length` bytes at the start of scratch, beginning
// with the record at `offset`. Returns the offset reached: `length`, or an
// earlier record boundary when the event buffer has less than
// EVENT_RESERVE_BYTES free, or when a delivery paused for event room has not
// finished (drain, reset, call again from there). A record whose header or
// caplen runs past `length` is counted as `pcap.record_length_invalid` and
// ends the batch.
export function processBatch(offset: u32, length: u32, linkType: u32, fracPerSecond: u32): u32 {
  if (!configured) return offset;
  const limit = length < scratchBytes ? length : scratchBytes;
  count(CoreCounter.BATCHES);
  let at = offset;
  recordInProgress = NO_RECORD;
  while (at < limit) {
    if (eventBufferFree() < EVENT_RESERVE_BYTES) return at;
    // A delivery that paused for event room in an earlier packet goes on
    // before any new packet, so each flow's records stay in order.
    if (!resumePaused()) return at;
    const record = scratch + <usize>at;
    if (limit - at < RECORD_HEADER_BYTES) {
      countAnomaly(CoreAnomaly.PCAP_RECORD_LENGTH_INVALID);
      return limit;
    }
    const caplen = load<u32>(record, 8);
    const wirelen = load<u32>(record, 12);
    if (caplen > MAX_CAPLEN || caplen > limit - at - RECORD_HEADER_BYTES) {
      countAnomaly(CoreAnomaly.PCAP_RECORD_LENGTH_INVALID);
      return limit;
    }
    const tsSec = load<u32>(record);
    const tsFrac = load<u32>(record, 4);
    let tsNsec: u32 = 0;
    if (fracPerSecond == 0 || tsFrac >= fracPerSecond) {
      countAnomaly(CoreAnomaly.PCAP_TIMESTAMP_INVALID);
    } else {
      tsNsec = <u32>(<u64>tsFrac * 1_000_000_000 / <u64>fracPerSecond);
    }
    if (tsSec > lastSweepSec) {
      if (!expireFlows(tsSec, idleTimeoutSec)) return at;
      // Bursts left for the next second when this one wrote its share.
      sweepModelBursts(tsSec, false);
      lastSweepSec = tsSec;
    }
    recordInProgress = at;
    if (trapCountdown != 0) {
      trapCountdown--;
      if (trapCountdown == 0) unreachable();
    }
    count(CoreCounter.PACKETS);
    countBy(CoreCounter.BYTES, <u64>caplen);
    setPacketTime(tsSec, tsNsec);
    setCaptureTruncated(caplen < wirelen);
    handleFrame(linkType, record + RECORD_HEADER_BYTES, caplen);
    recordInProgress = NO_RECORD;
    at += RECORD_HEADER_BYTES + caplen;
  }
  return at;
}

// Expires flows idle at host time `nowSec` (live capture with no packets).
// Returns 1 when done, 0 when it stopped to leave event space (drain, call
// again).
export function tick(nowSec: u32): i32 {
  if (!configured) return 1;
  if (!resumePaused()) return 0;
  if (!expireFlows(nowSec, idleTimeoutSec)) return 0;
  return sweepModelBursts(nowSec, false) ? 1 : 0;
}

// End of input: closes every flow (dissector onClose) and drops fragments.
// Returns 1 when done, 0 when it stopped to leave event space.
export function finish(): i32 {
  if (!configured) return 1;
  if (!resumePaused()) return 0;
  if (!closeAllFlows()) return 0;
  if (!sweepModelBursts(0, true)) return 0;
  clearFragments();
  return 1;
}

// Writes an ASCII name into scratch and returns its length.
function writeName(name: string): u32 {
  const n = <u32>name.length;
  if (scratch == 0 || n > scratchBytes) return 0;
  const src = changetype<usize>(name);
  for (let i: u32 = 0; i < n; i++) {
    const unit = load<u16>(src + (<usize>i << 1));
    store<u8>(scratch + <usize>i, unit < 0x80 ? <u8>unit : 0x3f);
  }
  return n;
}

export function fieldName(id: u32): u32 { return id < FIELD_ID_LIMIT ? writeName(fieldNameText(<u16>id)) : 0; }
export function recordTypeName(type: u32): u32 { return type <= RecordType.MAX ? writeName(recordTypeNameText(<u16>type)) : 0; }
export function anomalyName(id: u32): u32 { return id < ANOMALY_ID_LIMIT ? writeName(anomalyNameText(<u16>id)) : 0; }
export function counterName(id: u32): u32 { return id < CoreCounter.LIMIT ? writeName(counterNameText(<u16>id)) : 0; }
export function counterValue(id: u32): f64 { return id < CoreCounter.LIMIT ? <f64>counterValueU64(<u16>id) : 0; }
export function anomalyCount(id: u32): f64 { return id < ANOMALY_ID_LIMIT ? <f64>anomalyCountValue(<u16>id) : 0; }

// One past the highest id of each name table: the host reads names up to it.
export function fieldIdLimit(): u32 { return FIELD_ID_LIMIT; }
export function recordTypeLimit(): u32 { return <u32>RecordType.MAX + 1; }
export function anomalyIdLimit(): u32 { return ANOMALY_ID_LIMIT; }
export function counterIdLimit(): u32 { return CoreCounter.LIMIT; }

// Turns file_data records on or off: with them, the bytes of every SMB file
// object that is hashed also travel to the host, for `fieldsense extract`.
export function setFileDataRecords(enabled: u32): void { setFileDataRecordsFlag(enabled != 0); }
