// Stores of a running agent for the CLI: the latest alerts, the assets seen
// in protocol records and the files seen in SMB records. Every store is
// bounded and counts what it drops: the alert and file stores drop their
// oldest entry, the asset store keeps the hosts it has and skips new ones.
import type { CoreRecord, Endpoint } from "../core/core.js";
import type { Alert } from "../publish/alert.js";
import type { RecordJson } from "../publish/record.js";
import { OtInventory } from "../inventory/ot-inventory.js";

export interface StoredAlert { seq: number; received: string; alert: Alert }

export interface Asset {
  ip: string;
  first_seen: string;
  last_seen: string;
  // Ports this host listened on (it was the responder of a flow), and the
  // protocols decoded on them.
  server_ports: number[];
  protocols: string[];
  // Hosts that talked to it, and hosts it talked to.
  peers: string[];
  records: number;
  modbus?: { unit_ids: number[]; function_codes: number[]; role: ("master" | "device")[] };
}

export interface SeenFile {
  share: string;
  path: string;
  client: string;
  server: string;
  first_seen: string;
  last_seen: string;
  // Largest file size a CREATE response reported, if any.
  file_size?: number;
  bytes_read: number;
  bytes_written: number;
  opens: number;
  // From the last `file` record of the file: SHA-256 when every byte was
  // seen, and the content type from its first bytes.
  sha256?: string;
  file_type?: string;
}

// A record's named values: RecordJson itself, or CoreRecord.fields. The
// members read here (command, path, unit_id and the like) have the same name
// in both, because only host member names (type, ts, src, ...) are renamed
// in the JSON.
type RecordFields = Readonly<Record<string, unknown>>;

// Peers kept per asset, so that a scanner cannot grow one entry without bound.
const MAX_PEERS_PER_ASSET = 256;

export class BoundedAlerts {
  private readonly items: StoredAlert[] = [];
  private nextSeq = 1;
  dropped = 0;
  private readonly listeners = new Set<(item: StoredAlert) => void>();

  constructor(private readonly capacity: number) {}

  add(alert: Alert): StoredAlert {
    const item = { seq: this.nextSeq++, received: new Date().toISOString(), alert };
    this.items.push(item);
    if (this.items.length > this.capacity) {
      this.items.shift();
      this.dropped++;
    }
    for (const listener of this.listeners) listener(item);
    return item;
  }

  // Alerts with seq above `afterSeq` whose packet time is at or after `since`.
  list(options: { afterSeq?: number; since?: Date; limit?: number } = {}): StoredAlert[] {
    let found = this.items.filter((item) => item.seq > (options.afterSeq ?? 0));
    if (options.since) {
      const since = options.since.getTime();
      found = found.filter((item) => Date.parse(item.alert.ts) >= since);
    }
    return options.limit !== undefined ? found.slice(-options.limit) : found;
  }

  get size(): number {
    return this.items.length;
  }

  get total(): number {
    return this.nextSeq - 1;
  }

  subscribe(listener: (item: StoredAlert) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export class Inventory {
  private readonly assets = new Map<string, Asset>();
  private readonly files = new Map<string, SeenFile>();
  // SMB file ids to the file they were opened on, per flow, so that READ and
  // WRITE records (which carry only the file id) count toward the file.
  private readonly openFiles = new Map<string, string>();
  assetsDropped = 0;
  filesDropped = 0;
  // The OT side: roles, registers, polling periods and identities
  // (`fieldsense assets`, the retained inventory message).
  readonly ot: OtInventory;

  constructor(private readonly maxAssets: number, private readonly maxFiles: number) {
    this.ot = new OtInventory({ devices: maxAssets, pollKeys: Math.max(1024, maxAssets * 4) });
  }

  // Adds a protocol record in JSON form (tests and tools that read JSON).
  addRecord(record: RecordJson): void {
    this.ot.addRecord(record);
    this.add(record.type, record.ts, record.src, record.dst, record.flow_id, record);
  }

  // Adds a record as the core decoded it, without building its JSON form:
  // the agent's path for every record.
  addCoreRecord(record: CoreRecord): void {
    this.ot.addCoreRecord(record);
    this.add(record.type, record.ts, record.src, record.dst, record.flowId, record.fields);
  }

  private add(type: string, ts: string, client: Endpoint, server: Endpoint, flowId: number, fields: RecordFields): void {
    // Records name the flow's endpoints in the flow's orientation, client
    // (src) to server (dst), whichever direction the packet went.
    const serverAsset = this.asset(server.ip, ts);
    const clientAsset = this.asset(client.ip, ts);
    if (serverAsset) {
      addSorted(serverAsset.server_ports, server.port);
      addSorted(serverAsset.protocols, type);
      if (serverAsset.peers.length < MAX_PEERS_PER_ASSET) addSorted(serverAsset.peers, client.ip);
    }
    if (clientAsset && clientAsset.peers.length < MAX_PEERS_PER_ASSET) addSorted(clientAsset.peers, server.ip);
    if (type === "modbus") this.addModbus(fields, serverAsset, clientAsset);
    if (type === "smb") this.addSmb(fields, ts, flowId, client.ip, server.ip);
    if (type === "file" && fields.chunk !== true) this.addFileObject(fields, server.ip);
  }

  // Adds the hash and type of a `file` record to the file its SMB records
  // listed (same server, share and name).
  private addFileObject(record: RecordFields, server: string): void {
    if (typeof record.name !== "string") return;
    const share = typeof record.share === "string" ? record.share : "";
    const file = this.files.get(`${server}|${share}|${record.name}`);
    if (!file) return;
    if (typeof record.sha256 === "string") file.sha256 = record.sha256;
    if (typeof record.file_type === "string") file.file_type = record.file_type;
  }

  private addModbus(record: RecordFields, device: Asset | undefined, master: Asset | undefined): void {
    const unitId = typeof record.unit_id === "number" ? record.unit_id : undefined;
    const functionCode = typeof record.function_code === "number" ? record.function_code & 0x7f : undefined;
    for (const [asset, role] of [[device, "device"], [master, "master"]] as const) {
      if (!asset) continue;
      asset.modbus ??= { unit_ids: [], function_codes: [], role: [] };
      addSorted(asset.modbus.role, role);
      if (unitId !== undefined) addSorted(asset.modbus.unit_ids, unitId);
      if (functionCode !== undefined) addSorted(asset.modbus.function_codes, functionCode);
    }
  }

  private addSmb(record: RecordFields, ts: string, flowId: number, client: string, server: string): void {
    if (record.named_pipe !== undefined) return;
    const command = typeof record.command === "string" ? record.command : "";
    const flowFile = typeof record.file_id === "string" || typeof record.file_id === "number" ? `${flowId}/${record.file_id}` : undefined;

    let key: string | undefined;
    if (typeof record.path === "string" && record.path !== "") {
      const share = typeof record.share === "string" ? record.share : "";
      key = `${server}|${share}|${record.path}`;
      let file = this.files.get(key);
      if (!file) {
        if (this.files.size >= this.maxFiles) {
          this.files.delete(this.files.keys().next().value as string);
          this.filesDropped++;
        }
        file = { share, path: record.path, client, server, first_seen: ts, last_seen: ts, bytes_read: 0, bytes_written: 0, opens: 0 };
        this.files.set(key, file);
      }
      if (command === "CREATE" || command === "SMB_COM_NT_CREATE_ANDX") file.opens++;
      if (typeof record.file_size === "number") file.file_size = Math.max(file.file_size ?? 0, record.file_size);
      file.last_seen = ts;
      if (flowFile) {
        this.openFiles.set(flowFile, key);
        if (this.openFiles.size > this.maxFiles) this.openFiles.delete(this.openFiles.keys().next().value as string);
      }
    } else if (flowFile) {
      key = this.openFiles.get(flowFile);
    }

    const file = key ? this.files.get(key) : undefined;
    // The SMB dissector writes one record per request and response pair, so
    // each READ or WRITE record counts once.
    if (!file || typeof record.length !== "number") return;
    if (command === "READ" || command === "SMB_COM_READ_ANDX") file.bytes_read += record.length;
    if (command === "WRITE" || command === "SMB_COM_WRITE_ANDX") file.bytes_written += record.length;
    file.last_seen = ts;
  }

  private asset(ip: string, ts: string): Asset | undefined {
    let asset = this.assets.get(ip);
    if (asset) {
      asset.last_seen = ts;
      asset.records++;
      return asset;
    }
    if (this.assets.size >= this.maxAssets) {
      this.assetsDropped++;
      return undefined;
    }
    asset = { ip, first_seen: ts, last_seen: ts, server_ports: [], protocols: [], peers: [], records: 1 };
    this.assets.set(ip, asset);
    return asset;
  }

  listAssets(): Asset[] {
    return [...this.assets.values()].sort((a, b) => a.ip.localeCompare(b.ip, "en", { numeric: true }));
  }

  listFiles(): SeenFile[] {
    return [...this.files.values()].sort((a, b) => a.first_seen.localeCompare(b.first_seen));
  }
}

function addSorted<T extends number | string>(list: T[], value: T): void {
  if (list.includes(value)) return;
  list.push(value);
  list.sort((a, b) => {
    if (a < b) return -1;
    return a > b ? 1 : 0;
  });
}
