// Dispatch of the remote-access dissectors (HTTP, FTP, Telnet, VNC, RDP,
// SSH): their ports, probes and entry points, called from dispatch.ts.

import { Protocol, PROBE_MATCH, PROBE_NEED_MORE, APP_STATE_BYTES, APP_STATE_SMALL_BYTES } from "../../protocols/api";
import { httpOnClose, httpOnData, httpOnGap, httpProbe, HTTP_STATE_BYTES, isHttpPort } from "../../protocols/http/http";
import { ftpOnClose, ftpOnData, ftpOnGap, ftpProbe, FTP_STATE_BYTES, PORT_FTP } from "../../protocols/ftp/ftp";
import { telnetOnClose, telnetOnData, telnetOnGap, telnetProbe, TELNET_STATE_BYTES, PORT_TELNET } from "../../protocols/telnet/telnet";
import { vncOnClose, vncOnData, vncOnGap, vncProbe, VNC_STATE_BYTES, PORT_VNC_FIRST, PORT_VNC_LAST } from "../../protocols/vnc/vnc";
import { rdpOnClose, rdpOnData, rdpOnGap, rdpProbe, RDP_STATE_BYTES, PORT_RDP } from "../../protocols/rdp/rdp";
import { sshOnClose, sshOnData, sshOnGap, sshProbe, SSH_STATE_BYTES, PORT_SSH } from "../../protocols/ssh/ssh";

if (TELNET_STATE_BYTES > APP_STATE_SMALL_BYTES) ERROR("protocols/telnet: TELNET_STATE_BYTES is above APP_STATE_SMALL_BYTES");
if (VNC_STATE_BYTES > APP_STATE_SMALL_BYTES) ERROR("protocols/vnc: VNC_STATE_BYTES is above APP_STATE_SMALL_BYTES");
if (RDP_STATE_BYTES > APP_STATE_SMALL_BYTES) ERROR("protocols/rdp: RDP_STATE_BYTES is above APP_STATE_SMALL_BYTES");
if (HTTP_STATE_BYTES > APP_STATE_BYTES) ERROR("protocols/http: HTTP_STATE_BYTES is above APP_STATE_BYTES");
if (FTP_STATE_BYTES > APP_STATE_BYTES) ERROR("protocols/ftp: FTP_STATE_BYTES is above APP_STATE_BYTES");
if (SSH_STATE_BYTES > APP_STATE_BYTES) ERROR("protocols/ssh: SSH_STATE_BYTES is above APP_STATE_BYTES");

@inline function isVncPort(port: u16): bool {
  return port >= PORT_VNC_FIRST && port <= PORT_VNC_LAST;
}

export function isAccessPort(port: u16): bool {
  return port == PORT_FTP || port == PORT_SSH || port == PORT_TELNET || port == PORT_RDP || isVncPort(port) || isHttpPort(port);
}

export function isAccessProtocol(protocol: u8): bool {
  return protocol >= Protocol.HTTP && protocol <= Protocol.SSH;
}

// Telnet, VNC and RDP keep their state in the small class.
export function usesSmallState(protocol: u8): bool {
  return protocol == Protocol.TELNET || protocol == Protocol.VNC || protocol == Protocol.RDP;
}

// Result of the last probeAccess call that matched nothing: true when a
// probe needs more bytes.
export let accessProbeNeedsMore: bool = false;

@inline function note(result: i32): void {
  if (result == PROBE_NEED_MORE) accessProbeNeedsMore = true;
}

// Probes by port first (FTP 21, SSH 22, Telnet 23, RDP 3389, VNC 5900-5910,
// HTTP 80, 8000, 8080, 8081), then by content on any port: an SSH version
// line, an RFB version, an HTTP request line.
export function probeAccess(responderPort: u16, toServer: bool, ptr: usize, length: u32): u8 {
  accessProbeNeedsMore = false;
  let r: i32 = 0;
  if (responderPort == PORT_FTP) {
    r = ftpProbe(ptr, length, toServer);
    if (r == PROBE_MATCH) return Protocol.FTP;
    note(r);
  } else if (responderPort == PORT_TELNET) {
    r = telnetProbe(ptr, length);
    if (r == PROBE_MATCH) return Protocol.TELNET;
    note(r);
  } else if (responderPort == PORT_RDP) {
    r = rdpProbe(ptr, length, toServer);
    if (r == PROBE_MATCH) return Protocol.RDP;
    note(r);
  }
  r = sshProbe(ptr, length, toServer, responderPort == PORT_SSH);
  if (r == PROBE_MATCH) return Protocol.SSH;
  note(r);
  r = vncProbe(ptr, length);
  if (r == PROBE_MATCH) return Protocol.VNC;
  note(r);
  r = httpProbe(ptr, length, toServer, isHttpPort(responderPort));
  if (r == PROBE_MATCH) return Protocol.HTTP;
  note(r);
  return Protocol.NONE;
}

export function accessOnData(protocol: u8, state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  switch (protocol) {
    case Protocol.HTTP: return httpOnData(state, toServer, ptr, length);
    case Protocol.FTP: return ftpOnData(state, toServer, ptr, length);
    case Protocol.TELNET: return telnetOnData(state, toServer, ptr, length);
    case Protocol.VNC: return vncOnData(state, toServer, ptr, length);
    case Protocol.RDP: return rdpOnData(state, toServer, ptr, length);
    case Protocol.SSH: return sshOnData(state, toServer, ptr, length);
  }
  return <i32>length;
}

export function accessOnGap(protocol: u8, state: usize, toServer: bool): void {
  switch (protocol) {
    case Protocol.HTTP: httpOnGap(state, toServer); break;
    case Protocol.FTP: ftpOnGap(state, toServer); break;
    case Protocol.TELNET: telnetOnGap(state, toServer); break;
    case Protocol.VNC: vncOnGap(state, toServer); break;
    case Protocol.RDP: rdpOnGap(state, toServer); break;
    case Protocol.SSH: sshOnGap(state, toServer); break;
  }
}

export function accessOnClose(protocol: u8, state: usize): void {
  switch (protocol) {
    case Protocol.HTTP: httpOnClose(state); break;
    case Protocol.FTP: ftpOnClose(state); break;
    case Protocol.TELNET: telnetOnClose(state); break;
    case Protocol.VNC: vncOnClose(state); break;
    case Protocol.RDP: rdpOnClose(state); break;
    case Protocol.SSH: sshOnClose(state); break;
  }
}
