// The entity graph of incidents: which hosts, accounts, files and OT devices
// an alert or a record names, and the edges between them. Node ids are
// stable strings (host:IP, ot_device:IP, account:DOMAIN\user,
// file:sha256:HEX, file:path:\\HOST\SHARE\path), so the store can index them
// and the console can link them.
import type { Alert } from "../../agent/src/publish/alert.js";
import type { RecordJson } from "../../agent/src/publish/record.js";
import { OT_RECORD_TYPES } from "./attack.js";

export type EntityKind = "host" | "account" | "file" | "ot_device";

export type FactValue = string | number | boolean | string[];

export interface EntityNode {
  id: string;
  kind: EntityKind;
  label: string;
  facts: Record<string, FactValue>;
}

// Edge kinds: `alert` links a source host to the destination of an alert,
// and `logon` an account to the host it was used on. `file_write` links a
// host to a file it wrote, and `file_on` a file to the host that stores it.
// `ot_command` links a host to an OT device it sent a write or control
// request.
export type EdgeKind = "alert" | "logon" | "file_write" | "file_on" | "ot_command";

export interface EntityEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  // Alerts behind the edge; empty for an edge learned from records only.
  alertIds: string[];
}

export function hostId(ip: string): string {
  return `host:${ip}`;
}

export function deviceId(ip: string): string {
  return `ot_device:${ip}`;
}

// Accounts compare case-insensitively, as Windows domains and user names do.
export function accountId(account: string): string {
  return `account:${account.toLowerCase()}`;
}

export function kindOf(id: string): EntityKind {
  return id.slice(0, id.indexOf(":")) as EntityKind;
}

// The node id of an alert's destination: an OT device for OT protocols.
export function destinationId(alert: Pick<Alert, "record" | "dst">): string {
  return alert.record !== undefined && OT_RECORD_TYPES.has(alert.record) ? deviceId(alert.dst.ip) : hostId(alert.dst.ip);
}

const SHA256 = /^[0-9a-f]{64}$/i;

// A file node id from a hash, or from the share and path it was written to.
// A path without a share is placed on the destination host's IP.
export function fileId(facts: { sha256?: unknown; share?: unknown; path?: unknown; file?: unknown }, serverIp: string): string | undefined {
  if (typeof facts.sha256 === "string" && SHA256.test(facts.sha256)) return `file:sha256:${facts.sha256.toLowerCase()}`;
  let path: string | undefined;
  if (typeof facts.path === "string" && facts.path !== "") path = facts.path;
  else if (typeof facts.file === "string" && facts.file !== "") path = facts.file;
  if (path === undefined) return undefined;
  const share = typeof facts.share === "string" && facts.share.startsWith("\\\\") ? facts.share : `\\\\${serverIp}`;
  return `file:path:${share}\\${path.replace(/^\\+/, "")}`.toLowerCase();
}

export interface AlertGraph {
  // Node ids besides the two hosts, which join incidents: accounts and files.
  entities: string[];
  edges: EntityEdge[];
}

// Nodes and edges one alert adds to its incident.
export function alertGraph(alert: Alert): AlertGraph {
  const src = hostId(alert.src.ip);
  const dst = destinationId(alert);
  const entities: string[] = [];
  const edges: EntityEdge[] = [{ from: src, to: dst, kind: "alert", alertIds: [alert.id] }];
  if (alert.account) {
    const account = accountId(alert.account);
    entities.push(account);
    edges.push({ from: account, to: dst, kind: "logon", alertIds: [alert.id] });
  }
  const file = alert.evidence.named_pipe === undefined ? fileId(alert.evidence, alert.dst.ip) : undefined;
  if (file) {
    entities.push(file);
    edges.push({ from: src, to: file, kind: "file_write", alertIds: [alert.id] }, { from: file, to: dst, kind: "file_on", alertIds: [alert.id] });
  }
  return { entities, edges };
}

// Host names a record teaches, as [ip, name, source] triples: the NTLM
// workstation of the client, the server name of an SMB share path
// (\\HOST\SHARE), and DNS answers.
export function learnedNames(record: RecordJson): Array<[string, string, string]> {
  const names: Array<[string, string, string]> = [];
  if (record.type === "ntlm" && typeof record.workstation === "string" && record.workstation !== "") {
    names.push([record.src.ip, record.workstation, "ntlm"]);
  }
  if (record.type === "smb" && typeof record.share === "string") {
    const match = /^\\\\([^\\]+)\\/.exec(record.share);
    if (match && !/^[0-9.:]+$/.test(match[1])) names.push([record.dst.ip, match[1], "smb"]);
  }
  if (record.type === "dns" && typeof record.query === "string" && Array.isArray(record.answers)) {
    for (const answer of record.answers) {
      if (typeof answer === "string" && /^[0-9.]+$|:/.test(answer)) names.push([answer, record.query, "dns"]);
    }
  }
  return names;
}

// The account a record shows in use from its source host: the NTLM
// DOMAIN\user, or the Kerberos client as user@REALM.
export function recordAccount(record: RecordJson): string | undefined {
  if (record.type === "ntlm" && typeof record.user === "string" && record.user !== "") {
    return typeof record.domain === "string" && record.domain !== "" ? `${record.domain}\\${record.user}` : record.user;
  }
  if (record.type === "kerberos" && typeof record.client === "string" && record.client !== "") {
    let realm = "";
    if (typeof record.client_realm === "string") realm = record.client_realm;
    else if (typeof record.realm === "string") realm = record.realm;
    return realm ? `${record.client}@${realm}` : record.client;
  }
  return undefined;
}

// Identity facts that OT dissectors write with the same names in every
// protocol.
export const IDENTITY_FACTS = ["vendor_name", "vendor_id", "product_code", "product_name", "revision", "serial_number", "device_type", "device_name"];

// Identity facts of the server in an OT record.
export function deviceFacts(record: RecordJson): Array<[string, string]> {
  if (!OT_RECORD_TYPES.has(record.type)) return [];
  const facts: Array<[string, string]> = [];
  for (const name of IDENTITY_FACTS) {
    const value = record[name];
    if (typeof value === "string" || typeof value === "number") facts.push([name, String(value)]);
  }
  return facts;
}

// Adds `edge` to `edges`, uniting its alert ids with an edge of the same
// endpoints and kind.
export function addEdge(edges: Map<string, EntityEdge>, edge: EntityEdge): void {
  const key = `${edge.from}\u0000${edge.to}\u0000${edge.kind}`;
  const known = edges.get(key);
  if (!known) {
    edges.set(key, { ...edge, alertIds: [...edge.alertIds] });
    return;
  }
  for (const id of edge.alertIds) if (!known.alertIds.includes(id)) known.alertIds.push(id);
}
