// DNP3 (IEEE 1815-2012) over TCP and UDP port 20000: data link framing with
// CRC checks, transport reassembly, then one record per application
// fragment (application.ts).
//
// Specification: IEEE Std 1815-2012, "IEEE Standard for Electric Power
// Systems Communications - Distributed Network Protocol (DNP3)": clause 9
// (data link layer), clause 8 (transport function), clause 4 (application
// layer), Annex A (object library).
//
// Link frame; multi-octet fields little-endian:
//
//   +------+------+--------+---------+-------------+-------------+-------+
//   | 0x05 | 0x64 | LENGTH | CONTROL | DESTINATION |   SOURCE    |  CRC  |
//   +------+------+--------+---------+-------------+-------------+-------+
//   then user data in blocks of 16 octets (the last may be shorter), each
//   followed by its own 2-octet CRC. LENGTH counts CONTROL, DESTINATION,
//   SOURCE and the user data, not the CRCs: 5 to 255.
//
// Link control:
//   +-----+-----+-----------+-----------+-------------------------+
//   | DIR | PRM | FCB       | FCV / DFC |   function code (4)     |
//   +-----+-----+-----------+-----------+-------------------------+
//
// Transport header, first octet of the user data:
//   +-----+-----+-----------------------------------+
//   | FIN | FIR |          SEQUENCE (6)             |
//   +-----+-----+-----------------------------------+

import { fits, PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, STREAM_NEED_MORE, STREAM_REJECT } from "../api";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { setRecordContext } from "../../wasm-core/assembly/events";
import { packetAddresses, packetIpVersion, packetTsNsec, packetTsSec } from "../../wasm-core/assembly/packet";
import { dissectFragment, LinkContext } from "./application";
import { Dnp3Anomaly } from "./fields";
import {
  addDroppedFrame, addResyncSkipped, appendToSlot, clearRejected, clearResyncSkipped, discardSlot, DNP3_STATE_BYTES, endResync, evicted, findSlot,
  isRejected, isResyncing, markRejected, openSlot, pendingCount, releaseSlot, releaseSlots, slotData, slotLength,
  slotDiscarding, slotOverflowed, slotSegments, slotLastSequence, startResync,
} from "./state";
import { dnpCrc } from "./tables";

// IANA-registered port of DNP3 over TCP and UDP.
@inline export const PORT_DNP3: u16 = 20000;

@inline const START_0: u8 = 0x05;
@inline const START_1: u8 = 0x64;
@inline const HEADER_BYTES: u32 = 10;
@inline const MIN_LENGTH: u32 = 5;
@inline const BLOCK_BYTES: u32 = 16;
@inline const CRC_BYTES: u32 = 2;
// 255 - 5 user data octets in 16 blocks: 10 + 250 + 16 * 2.
@inline const MAX_FRAME_BYTES: u32 = 292;
// Bytes a direction may skip looking for the next frame before the stream
// is taken to carry something else: eight maximum-size frames.
@inline const RESYNC_LIMIT_BYTES: u32 = 8 * MAX_FRAME_BYTES;

@inline const TRANSPORT_FIN: u8 = 0x80;
@inline const TRANSPORT_FIR: u8 = 0x40;

// The user data of one frame without its block CRCs: at most 250 octets.
const userData = memory.data(256);
const link = changetype<LinkContext>(memory.data(offsetof<LinkContext>()));

// Whole frame size for a LENGTH octet: header, user data and block CRCs.
@inline function frameBytes(lengthOctet: u32): u32 {
  const data = lengthOctet - MIN_LENGTH;
  return HEADER_BYTES + data + ((data + BLOCK_BYTES - 1) / BLOCK_BYTES) * CRC_BYTES;
}

@inline function headerCrcMatches(p: usize): bool {
  return dnpCrc(p, 8) == load<u16>(p, 8);
}

// On port 20000: the start octets and a valid LENGTH. A first frame with a
// bad header CRC is then still dissected, so that its CRC error is counted.
export function dnp3Probe(ptr: usize, length: u32, toServer: bool): i32 {
  if (length >= 1 && load<u8>(ptr) != START_0) return PROBE_NO_MATCH;
  if (length >= 2 && load<u8>(ptr, 1) != START_1) return PROBE_NO_MATCH;
  if (length < 3) return PROBE_NEED_MORE;
  return <u32>load<u8>(ptr, 2) < MIN_LENGTH ? PROBE_NO_MATCH : PROBE_MATCH;
}

// On any other port, by content: the whole header with a good CRC as well.
export function dnp3ProbeByContent(ptr: usize, length: u32, toServer: bool): i32 {
  const r = dnp3Probe(ptr, length, toServer);
  if (r != PROBE_MATCH) return r;
  if (length < HEADER_BYTES) return PROBE_NEED_MORE;
  return headerCrcMatches(ptr) ? PROBE_MATCH : PROBE_NO_MATCH;
}

export function dnp3OnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  if (isRejected(state)) return STREAM_REJECT;
  let consumed: u32 = 0;
  // Every pass consumes at least one byte or leaves the loop.
  while (consumed < length) {
    const p = ptr + <usize>consumed;
    const remaining = length - consumed;

    if (isResyncing(state, toServer)) {
      const skipped = resync(state, toServer, p, remaining);
      if (skipped < 0) return STREAM_REJECT;
      consumed += <u32>skipped;
      if (isResyncing(state, toServer)) break;
      continue;
    }

    if (remaining < HEADER_BYTES) {
      // A wrong start is known before the whole header is in.
      if (load<u8>(p) != START_0 || remaining >= 2 && load<u8>(p, 1) != START_1) { startResync(state, toServer); continue; }
      break;
    }
    if (load<u8>(p) != START_0 || load<u8>(p, 1) != START_1) { startResync(state, toServer); continue; }
    const lengthOctet = <u32>load<u8>(p, 2);
    if (lengthOctet < MIN_LENGTH || !headerCrcMatches(p)) {
      // Without a good header CRC the LENGTH cannot be trusted, so look for
      // the next start from the following byte on.
      if (lengthOctet < MIN_LENGTH) {
        countAnomaly(Dnp3Anomaly.LINK_LENGTH_INVALID);
      } else {
        countAnomaly(Dnp3Anomaly.LINK_HEADER_CRC_MISMATCH);
        addDroppedFrame(state, toServer);
      }
      startResync(state, toServer);
      if (addResyncSkipped(state, toServer, 1) > RESYNC_LIMIT_BYTES) return rejectStream(state);
      consumed += 1;
      continue;
    }
    clearResyncSkipped(state, toServer);
    const size = frameBytes(lengthOctet);
    if (!fits(remaining, 0, size)) break;
    if (extractUserData(p, lengthOctet - MIN_LENGTH)) {
      handleFrame(state, toServer, p, lengthOctet - MIN_LENGTH);
    } else {
      countAnomaly(Dnp3Anomaly.LINK_DATA_CRC_MISMATCH);
      addDroppedFrame(state, toServer);
    }
    consumed += size;
  }
  return consumed == 0 ? STREAM_NEED_MORE : <i32>consumed;
}

export function dnp3OnGap(state: usize, toServer: bool): void {
  // The bytes after the gap may start inside a frame, and the fragments under
  // way in this direction lost a segment.
  startResync(state, toServer);
  const abandoned = releaseSlots(state, toServer);
  for (let i: u32 = 0; i < abandoned; i++) countAnomaly(Dnp3Anomaly.TRANSPORT_FRAGMENT_ABANDONED);
}

export function dnp3OnClose(state: usize): void {
  const unanswered = pendingCount(state);
  for (let i: u32 = 0; i < unanswered; i++) countAnomaly(Dnp3Anomaly.UNANSWERED_REQUEST);
}

// Looks for the next 0x05 0x64. Returns the bytes skipped before it
// (resynchronisation then ends) or all bytes that cannot start a frame
// (keeping a trailing 0x05), or STREAM_REJECT past RESYNC_LIMIT_BYTES.
function resync(state: usize, toServer: bool, p: usize, length: u32): i32 {
  let offset: u32 = 0;
  let found = false;
  while (offset + 1 < length) {
    if (load<u8>(p + <usize>offset) == START_0 && load<u8>(p + <usize>offset, 1) == START_1) {
      found = true;
      break;
    }
    offset++;
  }
  if (!found && offset < length && load<u8>(p + <usize>offset) != START_0) offset++;
  if (found && offset > 0) countAnomaly(Dnp3Anomaly.RESYNC_BYTES_SKIPPED);
  if (addResyncSkipped(state, toServer, offset) > RESYNC_LIMIT_BYTES) return rejectStream(state);
  if (found) endResync(state, toServer);
  return <i32>offset;
}

function rejectStream(state: usize): i32 {
  countAnomaly(Dnp3Anomaly.RESYNC_LIMIT_REACHED);
  markRejected(state);
  return STREAM_REJECT;
}

// Copies the user data of the frame at `p` into `userData` without the block
// CRCs, checking each. The caller checked the whole frame is in.
function extractUserData(p: usize, dataBytes: u32): bool {
  let from = p + <usize>HEADER_BYTES;
  let copied: u32 = 0;
  while (copied < dataBytes) {
    const left = dataBytes - copied;
    const block = left < BLOCK_BYTES ? left : BLOCK_BYTES;
    if (dnpCrc(from, block) != load<u16>(from + <usize>block)) return false;
    memory.copy(userData + <usize>copied, from, <usize>block);
    copied += block;
    from += <usize>(block + CRC_BYTES);
  }
  return true;
}

// Transport reassembly of one frame's user data. Only primary
// user data frames (functions 3 and 4 with PRM set) carry
// transport segments; other link frames manage the link and end here.
function handleFrame(state: usize, toServer: bool, p: usize, dataBytes: u32): void {
  const control = load<u8>(p, 3);
  const fn = control & 0x0f;
  if ((control & 0x40) == 0 || (fn != 3 && fn != 4) || dataBytes == 0) return;
  const destination = load<u16>(p, 4);
  const source = load<u16>(p, 6);
  const transport = load<u8>(userData);
  const sequence = transport & 0x3f;
  const payload = userData + 1;
  const payloadBytes = dataBytes - 1;

  link.source = source;
  link.destination = destination;
  link.control = control;

  let slot = findSlot(state, toServer, source, destination);
  if ((transport & TRANSPORT_FIR) != 0) {
    if (slot != 0) {
      if (!slotDiscarding(slot)) countAnomaly(Dnp3Anomaly.TRANSPORT_FRAGMENT_ABANDONED);
      releaseSlot(slot);
    }
    if ((transport & TRANSPORT_FIN) != 0) {
      // The common case: the whole fragment in one segment, dissected in place.
      link.segments = 1;
      link.overflowed = false;
      dissectFragment(state, toServer, payload, payloadBytes, link);
      return;
    }
    slot = openSlot(state, toServer, source, destination, sequence);
    if (evicted) countAnomaly(Dnp3Anomaly.REASSEMBLY_SLOTS_FULL);
  } else {
    if (slot == 0) {
      // Counted once: the fragment's later segments are dropped quietly.
      countAnomaly(Dnp3Anomaly.TRANSPORT_NO_FIRST_SEGMENT);
      if ((transport & TRANSPORT_FIN) != 0) return;
      slot = openSlot(state, toServer, source, destination, sequence);
      if (evicted) countAnomaly(Dnp3Anomaly.REASSEMBLY_SLOTS_FULL);
      discardSlot(slot, sequence);
      return;
    }
    const last = slotLastSequence(slot);
    // A repeat of the previous segment is discarded.
    if (sequence == last) return;
    if (slotDiscarding(slot)) {
      discardSlot(slot, sequence);
      if ((transport & TRANSPORT_FIN) != 0) releaseSlot(slot);
      return;
    }
    if (sequence != ((last + 1) & 0x3f)) {
      // The fragment lost a segment: drop it, and its remaining segments quietly.
      countAnomaly(Dnp3Anomaly.TRANSPORT_SEQUENCE_ERROR);
      discardSlot(slot, sequence);
      if ((transport & TRANSPORT_FIN) != 0) releaseSlot(slot);
      return;
    }
  }
  appendToSlot(state, slot, sequence, payload, payloadBytes);
  if ((transport & TRANSPORT_FIN) == 0) return;
  link.segments = slotSegments(slot);
  link.overflowed = slotOverflowed(slot);
  dissectFragment(state, toServer, slotData(slot), slotLength(slot), link);
  releaseSlot(slot);
}

// ---------------------------------------------------------------------------
// UDP: each datagram carries whole link frames. The
// core keeps no flow for UDP, so a bounded table of conversations (client
// address and port, server address) contains the state areas.

// NOTE: 16 conversations is an estimate for a gateway with a few UDP masters.
// When the table is full, the least recently used conversation gives way.
@inline const UDP_CONVERSATIONS: u32 = 16;
// Key: client address (16) | server address (16) | client port u16 | used u8 |
// reserved u8 | age u32 | reserved (24), then the state area.
@inline const UDP_KEY_BYTES: u32 = 64;
@inline const UDP_ENTRY_BYTES: u32 = UDP_KEY_BYTES + DNP3_STATE_BYTES;
const udpTable = memory.data(<i32>(UDP_CONVERSATIONS * UDP_ENTRY_BYTES));
let udpClock: u32 = 0;
// Transport number of UDP in the record context (IANA protocol numbers).
@inline const IP_PROTOCOL_UDP: u8 = 17;

// Parses one datagram to or from port 20000 (dispatchUdp in
// wasm-core/assembly/udp.ts) with the packet context of packet.ts.
export function dnp3OnUdp(srcPort: u16, dstPort: u16, payload: usize, length: u32): void {
  // The server is the side on port 20000, or the lower address when both use it.
  let toServer = dstPort == PORT_DNP3;
  if (srcPort == PORT_DNP3 && dstPort == PORT_DNP3) toServer = memory.compare(packetAddresses, packetAddresses + 16, 16) < 0;
  const client = toServer ? packetAddresses : packetAddresses + 16;
  const server = toServer ? packetAddresses + 16 : packetAddresses;
  const clientPort = toServer ? srcPort : dstPort;
  const serverPort = toServer ? dstPort : srcPort;
  setRecordContext(packetTsSec, packetTsNsec, 0, packetIpVersion, IP_PROTOCOL_UDP, client, clientPort, server, serverPort);

  const state = udpConversation(client, server, clientPort);
  // Each datagram starts on a frame boundary.
  clearRejected(state);
  endResync(state, toServer);
  clearResyncSkipped(state, toServer);
  const result = dnp3OnData(state, toServer, payload, length);
  const consumed = result > 0 ? <u32>result : 0;
  if (consumed < length && !isResyncing(state, toServer)) countAnomaly(Dnp3Anomaly.UDP_FRAME_TRUNCATED);
}

function udpConversation(client: usize, server: usize, clientPort: u16): usize {
  udpClock++;
  let oldest: usize = 0;
  let free: usize = 0;
  for (let i: u32 = 0; i < UDP_CONVERSATIONS; i++) {
    const entry = udpTable + <usize>(i * UDP_ENTRY_BYTES);
    if (load<u8>(entry, 34) == 0) {
      if (free == 0) free = entry;
      continue;
    }
    if (load<u16>(entry, 32) == clientPort && memory.compare(entry, client, 16) == 0 && memory.compare(entry + 16, server, 16) == 0) {
      store<u32>(entry, udpClock, 36);
      return entry + UDP_KEY_BYTES;
    }
    if (oldest == 0 || load<u32>(entry, 36) < load<u32>(oldest, 36)) oldest = entry;
  }
  let entry = free;
  if (entry == 0) {
    entry = oldest;
    dnp3OnClose(entry + UDP_KEY_BYTES);
    countAnomaly(Dnp3Anomaly.UDP_CONVERSATION_EVICTED);
  }
  memory.fill(entry, 0, <usize>UDP_ENTRY_BYTES);
  memory.copy(entry, client, 16);
  memory.copy(entry + 16, server, 16);
  store<u16>(entry, clientPort, 32);
  store<u8>(entry, 1, 34);
  store<u32>(entry, udpClock, 36);
  return entry + UDP_KEY_BYTES;
}
