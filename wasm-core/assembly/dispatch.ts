// Protocol dispatch: which dissectors may claim a TCP flow, the content
// probes that confirm them, and the calls into the chosen dissector. This is
// the only file that names the dissectors' entry points.

import { Protocol, PROBE_MATCH, PROBE_NEED_MORE, APP_STATE_BYTES } from "../../protocols/api";
import { modbusProbe, modbusOnData, modbusOnGap, modbusOnClose } from "../../protocols/modbus/modbus";
import { smbProbe, smbOnData, smbOnGap, smbOnClose } from "../../protocols/smb/smb";
import { dcerpcProbe, dcerpcOnData, dcerpcOnGap, dcerpcOnClose } from "../../protocols/dcerpc/dcerpc";
import { count, CoreCounter } from "./stats";

@inline export const PORT_MODBUS: u16 = 502;      // Modbus/TCP implementation guide section 3.1.1
@inline export const PORT_SMB_DIRECT: u16 = 445;  // MS-SMB2 section 2.1: direct TCP transport
@inline export const PORT_NETBIOS_SESSION: u16 = 139;
@inline export const PORT_EPMAP: u16 = 135;       // DCE-RPC endpoint mapper

// True for a port that one of the dissectors is dispatched on; used to pick
// the responder of a flow picked up without its SYN.
export function isDispatchPort(port: u16): bool {
  return port == PORT_MODBUS || port == PORT_SMB_DIRECT || port == PORT_NETBIOS_SESSION || port == PORT_EPMAP;
}

// Result of the last `probeProtocols` call that matched nothing: true when
// some dissector needs more bytes before it can decide.
export let probeNeedsMore: bool = false;

// Runs the probes that apply to a flow whose responder listens on
// `responderPort`: the port's own protocol first (Modbus on 502, SMB on 445
// and 139), then by content on any port: DCE-RPC, then SMB. Returns the
// matching Protocol id, or Protocol.NONE.
export function probeProtocols(responderPort: u16, toServer: bool, ptr: usize, length: u32): u8 {
  probeNeedsMore = false;
  if (responderPort == PORT_MODBUS) {
    const r = modbusProbe(ptr, length, toServer);
    if (r == PROBE_MATCH) return Protocol.MODBUS;
    if (r == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  const smbPort = responderPort == PORT_SMB_DIRECT || responderPort == PORT_NETBIOS_SESSION;
  if (smbPort) {
    const r = smbProbe(ptr, length, toServer);
    if (r == PROBE_MATCH) return Protocol.SMB;
    if (r == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  let r = dcerpcProbe(ptr, length, toServer);
  if (r == PROBE_MATCH) return Protocol.DCERPC;
  if (r == PROBE_NEED_MORE) probeNeedsMore = true;
  if (!smbPort) {
    r = smbProbe(ptr, length, toServer);
    if (r == PROBE_MATCH) return Protocol.SMB;
    if (r == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  return Protocol.NONE;
}

export function countProtocolFlow(protocol: u8): void {
  if (protocol == Protocol.MODBUS) count(CoreCounter.FLOWS_MODBUS);
  else if (protocol == Protocol.SMB) count(CoreCounter.FLOWS_SMB);
  else if (protocol == Protocol.DCERPC) count(CoreCounter.FLOWS_DCERPC);
}

export function callOnData(protocol: u8, state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  switch (protocol) {
    case Protocol.MODBUS: return modbusOnData(state, toServer, ptr, length);
    case Protocol.SMB: return smbOnData(state, toServer, ptr, length);
    case Protocol.DCERPC: return dcerpcOnData(state, toServer, ptr, length);
  }
  return <i32>length;
}

export function callOnGap(protocol: u8, state: usize, toServer: bool): void {
  switch (protocol) {
    case Protocol.MODBUS: modbusOnGap(state, toServer); break;
    case Protocol.SMB: smbOnGap(state, toServer); break;
    case Protocol.DCERPC: dcerpcOnGap(state, toServer); break;
  }
}

export function callOnClose(protocol: u8, state: usize): void {
  switch (protocol) {
    case Protocol.MODBUS: modbusOnClose(state); break;
    case Protocol.SMB: smbOnClose(state); break;
    case Protocol.DCERPC: dcerpcOnClose(state); break;
  }
}

// Pool of per-flow dissector state areas (APP_STATE_BYTES each), allocated
// once by `initAppStates`; free areas form a stack.
let appStates: usize = 0;
let freeStack: usize = 0;
let freeCount: u32 = 0;

export function initAppStates(slots: u32): void {
  if (appStates != 0) return;
  appStates = heap.alloc(<usize>slots * <usize>APP_STATE_BYTES);
  freeStack = heap.alloc(<usize>slots * 4);
  for (let i: u32 = 0; i < slots; i++) {
    store<u32>(freeStack + (<usize>i << 2), <u32>(appStates + <usize>(slots - 1 - i) * <usize>APP_STATE_BYTES));
  }
  freeCount = slots;
}

// Returns a zeroed state area, or 0 when every area is in use.
export function acquireAppState(): usize {
  if (freeCount == 0) return 0;
  freeCount--;
  const state = <usize>load<u32>(freeStack + (<usize>freeCount << 2));
  memory.fill(state, 0, <usize>APP_STATE_BYTES);
  return state;
}

export function releaseAppState(state: usize): void {
  if (state == 0) return;
  store<u32>(freeStack + (<usize>freeCount << 2), <u32>state);
  freeCount++;
}
