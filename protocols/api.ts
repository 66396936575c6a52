// The contract between the core's stream layer and the dissectors.
//
// For every TCP flow the core picks at most one protocol (by port, confirmed
// by a content probe, or by content alone), gives it a zeroed state area that
// lives as long as the flow, and then calls the protocol's `onData` with
// in-order stream bytes of one direction at a time. A dissector keeps all its
// per-flow memory inside that state area: the core runs with the stub
// runtime, so nothing allocated per flow or per packet is ever freed.
//
// State areas come in two size classes, each a pool of its own
// (wasm-core/assembly/dispatch.ts). The small class, APP_STATE_SMALL_BYTES,
// has one area per flow of the flow table (maxFlows), as has the Modbus pool
// (protocols/modbus/state.ts). The large class,
// APP_STATE_BYTES, has appStateSlots areas. A dissector exports the size of
// its state (for example ENIP_STATE_BYTES), and dispatch.ts puts it in the
// smallest class large enough for it, checked when the core is compiled.
//
// Each protocol module exports, with its own prefix (modbus, smb, dcerpc):
//
//   xProbe(ptr: usize, length: u32, toServer: bool): i32
//       PROBE_MATCH, PROBE_NO_MATCH or PROBE_NEED_MORE for the first bytes of
//       a direction.
//   xOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32
//       Returns bytes consumed (> 0), STREAM_NEED_MORE (0) or STREAM_REJECT.
//       A result larger than `length` tells the core to drop that many more
//       bytes of this direction as they arrive, without buffering them
//       (payload the dissector does not need, such as SMB2 READ data).
//   xOnGap(state: usize, toServer: bool): void
//       Bytes of this direction were lost (capture loss, buffer limit). The
//       dissector drops its partial PDU and resynchronises on the next bytes.
//   xOnClose(state: usize): void
//       The flow ended or was evicted; report what is still pending.
//
// Records are written with wasm-core/assembly/events.ts while the core has
// set the packet context (time, flow, addresses) of the bytes being parsed.

// Per-flow state areas given to a dissector; zeroed when the flow is
// assigned. The large class, for SMB and DCE-RPC with their tables:
@inline export const APP_STATE_BYTES: u32 = 32768;
// The small class, for a dissector that keeps little per flow (EtherNet/IP).
@inline export const APP_STATE_SMALL_BYTES: u32 = 128;

@inline export const PROBE_NO_MATCH: i32 = 0;
@inline export const PROBE_MATCH: i32 = 1;
@inline export const PROBE_NEED_MORE: i32 = 2;

@inline export const STREAM_NEED_MORE: i32 = 0;
// Stop dissecting this flow: the bytes are not this protocol, or the stream
// cannot be resynchronised. The dissector counts the anomaly itself.
@inline export const STREAM_REJECT: i32 = -1;

// Protocol ids chosen by dispatch; also reported in flow statistics.
export namespace Protocol {
  @inline export const NONE: u8 = 0;
  @inline export const MODBUS: u8 = 1;
  @inline export const SMB: u8 = 2;
  @inline export const DCERPC: u8 = 3;
  @inline export const S7COMM: u8 = 6;
  @inline export const DNP3: u8 = 7;
  @inline export const ENIP: u8 = 8;
  @inline export const HTTP: u8 = 9;
  @inline export const FTP: u8 = 10;
  @inline export const TELNET: u8 = 11;
  @inline export const VNC: u8 = 12;
  @inline export const RDP: u8 = 13;
  @inline export const SSH: u8 = 14;
}

// Bounds-checked readers for dissectors: check once that [offset, offset+n)
// lies inside the region, then read raw.
@inline export function fits(length: u32, offset: u32, size: u32): bool {
  return offset <= length && size <= length - offset;
}

@inline export function readU16be(p: usize): u16 { return bswap<u16>(load<u16>(p)); }
@inline export function readU32be(p: usize): u32 { return bswap<u32>(load<u32>(p)); }
