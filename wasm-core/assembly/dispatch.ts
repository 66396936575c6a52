// Protocol dispatch: which dissectors may claim a TCP flow, the content
// probes that confirm them, and the calls into the chosen dissector. This is
// the only file that names the dissectors' entry points.

import { Protocol, PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, APP_STATE_BYTES, APP_STATE_SMALL_BYTES } from "../../protocols/api";
import { modbusProbe, modbusContentProbe, modbusOnData, modbusOnGap, modbusOnClose } from "../../protocols/modbus/modbus";
import { ModbusAnomaly } from "../../protocols/modbus/fields";
import { MODBUS_STATE_BYTES, modbusStatePool } from "../../protocols/modbus/state";
import { countAnomaly } from "./counters";
import { smbProbe, smbOnData, smbOnGap, smbOnClose } from "../../protocols/smb/smb";
import { dcerpcProbe, dcerpcOnData, dcerpcOnGap, dcerpcOnClose } from "../../protocols/dcerpc/dcerpc";
import {
  kerberosProbe, kerberosOnData, kerberosOnGap, kerberosOnClose, PORT_KERBEROS, PROTOCOL_KERBEROS,
} from "../../protocols/kerberos/kerberos";
import { s7Probe, s7OnData, s7OnGap, s7OnClose, PORT_S7COMM, S7_STATE_BYTES } from "../../protocols/s7comm/s7comm";
import { enipProbe, enipOnData, enipOnGap, enipOnClose, PORT_ENIP, ENIP_STATE_BYTES } from "../../protocols/enip/enip";
import { dnp3Probe, dnp3ProbeByContent, dnp3OnData, dnp3OnGap, dnp3OnClose, PORT_DNP3 } from "../../protocols/dnp3/dnp3";
import { DNP3_STATE_BYTES } from "../../protocols/dnp3/state";
import { count, CoreCounter } from "./stats";
import { AreaPool, acquireArea, initAreaPool, releaseArea } from "./area-pool";
import {
  accessOnClose, accessOnData, accessOnGap, accessProbeNeedsMore, isAccessPort, isAccessProtocol, probeAccess, usesSmallState,
} from "./dispatch-access";

@inline export const PORT_MODBUS: u16 = 502;      // Modbus/TCP implementation guide section 3.1.1
@inline export const PORT_SMB_DIRECT: u16 = 445;  // MS-SMB2 section 2.1: direct TCP transport
@inline export const PORT_NETBIOS_SESSION: u16 = 139;
@inline export const PORT_EPMAP: u16 = 135;       // DCE-RPC endpoint mapper

// True for a port that one of the dissectors is dispatched on; used to pick
// the responder of a flow picked up without its SYN.
export function isDispatchPort(port: u16): bool {
  return port == PORT_MODBUS || port == PORT_SMB_DIRECT || port == PORT_NETBIOS_SESSION || port == PORT_EPMAP ||
    port == PORT_KERBEROS || port == PORT_S7COMM || port == PORT_ENIP || port == PORT_DNP3 || isAccessPort(port);
}

// Result of the last `probeProtocols` call that matched nothing: true when
// some dissector needs more bytes before it can decide.
export let probeNeedsMore: bool = false;

// True when the last match was Modbus on a flow without port 502. Such a
// flow is counted in `flows.modbus` by the dissector once a response
// confirms it, not here.
let modbusByContent: bool = false;

// Runs the probes that apply to a flow between `originatorPort` and
// `responderPort`: the port's own protocol first (Modbus on 502, SMB on 445
// and 139), then by content on any port: DCE-RPC, then SMB. Modbus is also
// probed when only the originator's port is 502: a Modbus server that opened
// the connection (the Modbus dissector then swaps request and response
// itself). Modbus on other ports is probed last, by a strict content probe.
// `firstProbe` is true until a probe of the flow has failed, so that bytes
// on port 502 that are not Modbus count one anomaly per flow. Returns the
// matching Protocol id, or Protocol.NONE.
export function probeProtocols(
  originatorPort: u16, responderPort: u16, toServer: bool, ptr: usize, length: u32, firstProbe: bool,
): u8 {
  probeNeedsMore = false;
  modbusByContent = false;
  const modbusPort = responderPort == PORT_MODBUS || originatorPort == PORT_MODBUS;
  if (modbusPort) {
    const r = modbusProbe(ptr, length, responderPort == PORT_MODBUS ? toServer : !toServer);
    if (r == PROBE_MATCH) return Protocol.MODBUS;
    if (r == PROBE_NEED_MORE) probeNeedsMore = true;
    if (r == PROBE_NO_MATCH && firstProbe) countAnomaly(ModbusAnomaly.NON_MODBUS_ON_PORT_502);
  }
  const smbPort = responderPort == PORT_SMB_DIRECT || responderPort == PORT_NETBIOS_SESSION;
  if (smbPort) {
    const r = smbProbe(ptr, length, toServer);
    if (r == PROBE_MATCH) return Protocol.SMB;
    if (r == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  if (responderPort == PORT_KERBEROS) {
    // RFC 4120 7.2.2: Kerberos over TCP, each message behind a record marker.
    const k = kerberosProbe(ptr, length, toServer);
    if (k == PROBE_MATCH) return PROTOCOL_KERBEROS;
    if (k == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  // S7comm on ISO-on-TCP port 102 (RFC 1006); elsewhere only a COTP DT
  // carrying an S7comm or S7comm-plus PDU matches.
  const s7Port = responderPort == PORT_S7COMM || originatorPort == PORT_S7COMM;
  const s7 = s7Probe(ptr, length, s7Port);
  if (s7 == PROBE_MATCH) return Protocol.S7COMM;
  if (s7 == PROBE_NEED_MORE) probeNeedsMore = true;
  // EtherNet/IP encapsulation on its registered port 44818 only.
  if (responderPort == PORT_ENIP || originatorPort == PORT_ENIP) {
    const e = enipProbe(ptr, length, toServer);
    if (e == PROBE_MATCH) return Protocol.ENIP;
    if (e == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  if (responderPort == PORT_DNP3 || originatorPort == PORT_DNP3) {
    // DNP3 over TCP (IEEE 1815-2012), where either side may have connected.
    const d = dnp3Probe(ptr, length, toServer);
    if (d == PROBE_MATCH) return Protocol.DNP3;
    if (d == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  let r = dcerpcProbe(ptr, length, toServer);
  if (r == PROBE_MATCH) return Protocol.DCERPC;
  if (r == PROBE_NEED_MORE) probeNeedsMore = true;
  if (!smbPort) {
    r = smbProbe(ptr, length, toServer);
    if (r == PROBE_MATCH) return Protocol.SMB;
    if (r == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  if (responderPort != PORT_DNP3 && originatorPort != PORT_DNP3) {
    // DNP3 on another port, by content: 0x05 0x64 and a good header CRC.
    r = dnp3ProbeByContent(ptr, length, toServer);
    if (r == PROBE_MATCH) return Protocol.DNP3;
    if (r == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  // The remote-access content probes leave the ports of the other
  // dissectors alone: other bytes there stay undissected.
  if (!isDispatchPort(responderPort) || isAccessPort(responderPort)) {
    const access = probeAccess(responderPort, toServer, ptr, length);
    if (access != Protocol.NONE) return access;
    if (accessProbeNeedsMore) probeNeedsMore = true;
  }
  if (!modbusPort) {
    r = modbusContentProbe(ptr, length, toServer);
    if (r == PROBE_MATCH) {
      modbusByContent = true;
      return Protocol.MODBUS;
    }
    if (r == PROBE_NEED_MORE) probeNeedsMore = true;
  }
  return Protocol.NONE;
}

export function countProtocolFlow(protocol: u8): void {
  if (protocol == Protocol.MODBUS) {
    if (!modbusByContent) count(CoreCounter.FLOWS_MODBUS);
  }
  else if (protocol == Protocol.SMB) count(CoreCounter.FLOWS_SMB);
  else if (protocol == Protocol.DCERPC) count(CoreCounter.FLOWS_DCERPC);
  else if (protocol == Protocol.S7COMM) count(CoreCounter.FLOWS_S7COMM);
  else if (protocol == Protocol.ENIP) count(CoreCounter.FLOWS_ENIP);
  else if (protocol == Protocol.DNP3) count(CoreCounter.FLOWS_DNP3);
}

export function callOnData(protocol: u8, state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  if (isAccessProtocol(protocol)) return accessOnData(protocol, state, toServer, ptr, length);
  switch (protocol) {
    case Protocol.MODBUS: return modbusOnData(state, toServer, ptr, length);
    case Protocol.SMB: return smbOnData(state, toServer, ptr, length);
    case Protocol.DCERPC: return dcerpcOnData(state, toServer, ptr, length);
    case PROTOCOL_KERBEROS: return kerberosOnData(state, toServer, ptr, length);
    case Protocol.S7COMM: return s7OnData(state, toServer, ptr, length);
    case Protocol.ENIP: return enipOnData(state, toServer, ptr, length);
    case Protocol.DNP3: return dnp3OnData(state, toServer, ptr, length);
  }
  return <i32>length;
}

export function callOnGap(protocol: u8, state: usize, toServer: bool): void {
  if (isAccessProtocol(protocol)) accessOnGap(protocol, state, toServer);
  switch (protocol) {
    case Protocol.MODBUS: modbusOnGap(state, toServer); break;
    case Protocol.SMB: smbOnGap(state, toServer); break;
    case Protocol.DCERPC: dcerpcOnGap(state, toServer); break;
    case PROTOCOL_KERBEROS: kerberosOnGap(state, toServer); break;
    case Protocol.S7COMM: s7OnGap(state, toServer); break;
    case Protocol.ENIP: enipOnGap(state, toServer); break;
    case Protocol.DNP3: dnp3OnGap(state, toServer); break;
  }
}

export function callOnClose(protocol: u8, state: usize): void {
  if (isAccessProtocol(protocol)) accessOnClose(protocol, state);
  switch (protocol) {
    case Protocol.MODBUS: modbusOnClose(state); break;
    case Protocol.SMB: smbOnClose(state); break;
    case Protocol.DCERPC: dcerpcOnClose(state); break;
    case PROTOCOL_KERBEROS: kerberosOnClose(state); break;
    case Protocol.S7COMM: s7OnClose(state); break;
    case Protocol.ENIP: enipOnClose(state); break;
    case Protocol.DNP3: dnp3OnClose(state); break;
  }
}

// Per-flow dissector state areas in two pools, one per size class of
// protocols/api.ts, each allocated once by `initAppStates` (area-pool.ts:
// an area becomes resident when a flow first takes it). Modbus has a pool of
// its own (protocols/modbus/state.ts), EtherNet/IP takes the small class, and
// SMB, DCE-RPC, Kerberos, S7comm and DNP3 take the large one.
if (MODBUS_STATE_BYTES > APP_STATE_SMALL_BYTES) ERROR("protocols/modbus/state.ts: MODBUS_STATE_BYTES is above APP_STATE_SMALL_BYTES");
if (ENIP_STATE_BYTES > APP_STATE_SMALL_BYTES) ERROR("protocols/enip/enip.ts: ENIP_STATE_BYTES is above APP_STATE_SMALL_BYTES");
if (S7_STATE_BYTES > APP_STATE_BYTES) ERROR("protocols/s7comm/s7comm.ts: S7_STATE_BYTES is above APP_STATE_BYTES");
if (DNP3_STATE_BYTES > APP_STATE_BYTES) ERROR("protocols/dnp3/state.ts: DNP3_STATE_BYTES is above APP_STATE_BYTES");

// Both pools live in static memory: nothing is allocated per flow.
const smallPool = changetype<AreaPool>(memory.data(offsetof<AreaPool>()));
const largePool = changetype<AreaPool>(memory.data(offsetof<AreaPool>()));

// `smallSlots` areas of APP_STATE_SMALL_BYTES and `largeSlots` areas of
// APP_STATE_BYTES.
export function initAppStates(smallSlots: u32, largeSlots: u32): void {
  if (smallPool.areas != 0) return;
  initAreaPool(smallPool, smallSlots, <usize>APP_STATE_SMALL_BYTES);
  initAreaPool(largePool, largeSlots, <usize>APP_STATE_BYTES);
}

@inline function poolOf(protocol: u8): AreaPool {
  return protocol == Protocol.MODBUS ? modbusStatePool() : protocol == Protocol.ENIP || usesSmallState(protocol) ? smallPool : largePool;
}

// Returns a zeroed state area for `protocol`, or 0 when every area of its
// size class is in use.
export function acquireAppState(protocol: u8): usize {
  const pool = poolOf(protocol);
  const state = acquireArea(pool);
  if (state != 0) memory.fill(state, 0, pool.areaBytes);
  return state;
}

// Returns the state area of a flow dissected as `protocol` to its pool.
export function releaseAppState(protocol: u8, state: usize): void {
  if (state == 0) return;
  releaseArea(poolOf(protocol), state);
}
