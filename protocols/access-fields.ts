// Routes the field and anomaly ids of the remote-access dissectors (HTTP,
// FTP, Telnet, VNC, RDP, SSH: ids 900-1039) to each folder's fields.ts.

import { httpAnomalyName, httpFieldName } from "./http/fields";
import { ftpAnomalyName, ftpFieldName } from "./ftp/fields";
import { telnetAnomalyName, telnetFieldName } from "./telnet/fields";
import { vncAnomalyName, vncFieldName } from "./vnc/fields";
import { rdpAnomalyName, rdpFieldName } from "./rdp/fields";
import { sshAnomalyName, sshFieldName } from "./ssh/fields";

export function accessFieldName(id: u16): string {
  if (id < 950) return httpFieldName(id);
  if (id < 980) return ftpFieldName(id);
  if (id < 990) return telnetFieldName(id);
  if (id < 1000) return vncFieldName(id);
  if (id < 1020) return rdpFieldName(id);
  return sshFieldName(id);
}

export function accessAnomalyName(id: u16): string {
  if (id < 950) return httpAnomalyName(id);
  if (id < 980) return ftpAnomalyName(id);
  if (id < 990) return telnetAnomalyName(id);
  if (id < 1000) return vncAnomalyName(id);
  if (id < 1020) return rdpAnomalyName(id);
  return sshAnomalyName(id);
}
