// OT asset inventory: the devices seen in OT protocol records (Modbus, and
// S7comm, EtherNet/IP and DNP3 once their dissectors write records). Each
// device has its role, unit ids, function codes and the registers requests
// touched. The inventory also keeps the polling period of each master and
// server pair, and the identity the devices reported (Modbus FC 43/14 and
// FC 17, or the identity fields of any other protocol).
//
// The host keeps the inventory, not the core: every record already reaches
// the host, so the core would only duplicate the work, and the host can
// size the tables from configuration without recompiling the core. Every
// table is bounded and counts what it could not keep (`dropped`).
import type { CoreRecord, Endpoint } from "../core/core.js";
import { isoTimestamp } from "../core/records.js";
import type { RecordJson } from "../publish/record.js";
import { compareAddresses } from "./address-order.js";

export { compareAddresses };

export type AddressSpace = "coils" | "discrete_inputs" | "input_registers" | "holding_registers";

export interface RegisterRange {
  space: AddressSpace;
  access: "read" | "write";
  // Modbus PDU addresses (0-65535), not the 1-based reference numbers
  // (40001 and so on) that documentation often uses.
  first: number;
  last: number;
}

// Identity facts use the same JSON names in every protocol's records.
export const IDENTITY_FIELDS = [
  "vendor_name", "vendor_id", "product_code", "product_name", "revision", "serial_number", "device_type", "device_name",
  "server_id", "run_indicator",
] as const;

export interface Identity {
  vendor_name?: string;
  vendor_id?: number;
  product_code?: string;
  product_name?: string;
  revision?: string;
  serial_number?: string;
  device_type?: string | number;
  device_name?: string;
  // Modbus FC 17 (Report Server ID): the server id bytes as hex, and the run
  // indicator status.
  server_id?: string;
  run_indicator?: boolean;
  // Record type the facts came from ("modbus"), or "active" for the result
  // of `fieldsense modbus identify`.
  source: string;
  unit_id?: number;
  seen: string;
}

export interface PollingPeriod {
  master: string;
  server: string;
  unit_id?: number;
  // Requests from the master to the server, and the distinct requests
  // (function code, unit id, start address and quantity) among them.
  requests: number;
  request_kinds: number;
  // Median interval in seconds between repeats of the same request,
  // the median over the request kinds that repeated; absent until one did.
  period_s?: number;
}

export interface OtDevice {
  ip: string;
  mac?: string;
  // "master" sends requests (Modbus client), "server" responds to them
  // (Modbus server, also called slave or outstation).
  roles: ("master" | "server")[];
  protocols: string[];
  first_seen: string;
  last_seen: string;
  unit_ids: number[];
  // Function codes the device received as a server or sent as a master,
  // without the exception bit.
  function_codes: number[];
  registers: RegisterRange[];
  // Peers in the other role: the masters of a server, the servers of a master.
  masters: string[];
  servers: string[];
  exceptions: number;
  identities: Identity[];
  // Firmware profile ids matched by identity or address (see profiles/).
  profiles?: string[];
}

export interface OtInventoryLimits {
  devices: number;
  pollKeys: number;
  // Master and server pairs with polling statistics; pollKeys when not set,
  // since every pair normally has at least one request kind.
  pairs?: number;
}

// Per-device caps: a scanner that sweeps registers or talks to every host
// cannot grow one entry without bound.
const MAX_RANGES_PER_DEVICE = 128;
const MAX_PEERS_PER_DEVICE = 256;
const MAX_IDENTITIES_PER_DEVICE = 32;
// Intervals kept per request kind for the median.
const INTERVALS_KEPT = 32;
// A repeat further apart than this is a new polling session, not a period.
const MAX_PERIOD_S = 3600;

// Record types of OT protocols whose flow originator is the master (client)
// and responder the server.
export const OT_RECORD_TYPES = new Set(["modbus", "s7comm", "enip", "dnp3"]);

// Every record field the inventory reads: a replay that only feeds the
// inventory decodes these and skips the rest (ReplayOptions.observedFields).
// Keep it in step with add(), addModbus(), addRegisters() and observePoll().
export const INVENTORY_FIELDS: readonly string[] = [
  ...IDENTITY_FIELDS, "pdu_type", "unit_id", "function_code", "start_address", "quantity", "sub_function",
  "read_start_address", "read_quantity", "write_start_address", "write_quantity",
];

// Polling statistics of one request kind.
class PollTimes {
  // Intervals in seconds between repeats, the last INTERVALS_KEPT of them;
  // undefined until the kind repeats.
  intervals: number[] | undefined = undefined;

  constructor(public lastMs: number) {}
}

type PollKind = number | string;

class PairStats {
  // The unit id of the requests, while they all carried the same one;
  // null once two differed.
  unitId: number | undefined | null = undefined;
  requests = 0;
  // Request kinds (pollKindKey) of this pair, whose number is request_kinds:
  // none, the only one kept inline (`kind`, `polls`), or a map from two on.
  kind: PollKind | undefined = undefined;
  polls: PollTimes | Map<PollKind, PollTimes> | undefined = undefined;

  constructor(readonly master: string, readonly server: string) {}

  get kindCount(): number {
    if (this.polls === undefined) return 0;
    return this.polls instanceof Map ? this.polls.size : 1;
  }

  findPoll(kind: PollKind): PollTimes | undefined {
    if (this.polls instanceof Map) return this.polls.get(kind);
    return this.kind === kind ? this.polls : undefined;
  }

  addPoll(kind: PollKind, poll: PollTimes): void {
    if (this.polls === undefined) {
      this.kind = kind;
      this.polls = poll;
      return;
    }
    if (!(this.polls instanceof Map)) {
      this.polls = new Map([[this.kind!, this.polls]]);
      this.kind = undefined;
    }
    this.polls.set(kind, poll);
  }

  *allPolls(): Iterable<PollTimes> {
    if (this.polls instanceof Map) yield* this.polls.values();
    else if (this.polls !== undefined) yield this.polls;
  }
}

// Slots of OtInventory.repeats: a direct-mapped table by flow id and
// direction, so that its memory stays fixed however many flows there are.
const REPEAT_SLOTS = 1024;

function repeatSlot(flowId: number, serverToClient: boolean): number {
  return ((flowId << 1) | (serverToClient ? 1 : 0)) & (REPEAT_SLOTS - 1);
}

// The inputs of one record that add() took in full, for the next record
// of its flow and direction. A record whose inputs are the same finds every
// role, protocol, peer, unit id, function code and register range kept,
// because the inventory never removes any. Values are compared with ===, so
// a field that a record repeats (an array) never matches.
class RepeatedRecord {
  private type = "";
  private server: DeviceEntry | undefined = undefined;
  private master: DeviceEntry | undefined = undefined;
  private pduType: unknown = undefined;
  private unitId: unknown = undefined;
  private functionCode: unknown = undefined;
  private startAddress: unknown = undefined;
  private quantity: unknown = undefined;
  private readStartAddress: unknown = undefined;
  private readQuantity: unknown = undefined;
  private writeStartAddress: unknown = undefined;
  private writeQuantity: unknown = undefined;

  matches(type: string, server: DeviceEntry, master: DeviceEntry, fields: RecordFields): boolean {
    return this.server === server && this.master === master && this.type === type &&
      this.pduType === fields.pdu_type && this.unitId === fields.unit_id && this.functionCode === fields.function_code &&
      this.startAddress === fields.start_address && this.quantity === fields.quantity &&
      this.readStartAddress === fields.read_start_address && this.readQuantity === fields.read_quantity &&
      this.writeStartAddress === fields.write_start_address && this.writeQuantity === fields.write_quantity;
  }

  set(type: string, server: DeviceEntry, master: DeviceEntry, fields: RecordFields): void {
    this.type = type;
    this.server = server;
    this.master = master;
    this.pduType = fields.pdu_type;
    this.unitId = fields.unit_id;
    this.functionCode = fields.function_code;
    this.startAddress = fields.start_address;
    this.quantity = fields.quantity;
    this.readStartAddress = fields.read_start_address;
    this.readQuantity = fields.read_quantity;
    this.writeStartAddress = fields.write_start_address;
    this.writeQuantity = fields.write_quantity;
  }
}

const ROLE_MASTER = 1;
const ROLE_SERVER = 2;
// Bit i of DeviceEntry.protocols stands for PROTOCOL_ORDER[i], sorted as
// the protocols list of an OtDevice is.
const PROTOCOL_ORDER = [...OT_RECORD_TYPES].sort();

// When a device was seen: the `ts` text of a RecordJson, or the packet time
// of a core record in microseconds since the Unix epoch, which a double
// represents exactly until the year 2255. A number is formatted as `ts` only when the
// device is listed.
type SeenTime = string | number;

function seenText(time: SeenTime): string {
  if (typeof time === "string") return time;
  return isoTimestamp(Math.floor(time / 1_000_000), (time % 1_000_000) * 1000);
}

// A device as the inventory keeps it, compact because the default limit
// keeps 10,000 of them: roles and protocols are bits, a list with one value
// keeps the value itself, and an empty list is undefined. toOtDevice()
// builds the OtDevice form.
class DeviceEntry {
  mac: string | undefined = undefined;
  // True when `profiles` was set before `mac`, so that the OtDevice form
  // lists them in the order they were set.
  profilesBeforeMac = false;
  roles = 0;
  protocols = 0;
  lastSeen: SeenTime;
  // Sorted, without repeats.
  unitIds: number | number[] | undefined = undefined;
  functionCodes: number | number[] | undefined = undefined;
  // Sorted by space, access and first address.
  registers: RegisterRange[] | undefined = undefined;
  // Sorted by compareAddresses.
  masters: string | string[] | undefined = undefined;
  servers: string | string[] | undefined = undefined;
  exceptions = 0;
  identities: Identity[] | undefined = undefined;
  profiles: string[] | undefined = undefined;

  constructor(readonly ip: string, readonly firstSeen: SeenTime) {
    this.lastSeen = firstSeen;
  }
}

// The fields of a record that the inventory reads: a CoreRecord's `fields`,
// or a RecordJson itself, whose fields are members of the record.
type RecordFields = Readonly<Record<string, unknown>>;

const READ_SPACE: Record<number, AddressSpace> = { 1: "coils", 2: "discrete_inputs", 3: "holding_registers", 4: "input_registers" };
const WRITE_SPACE: Record<number, AddressSpace> = { 5: "coils", 15: "coils", 6: "holding_registers", 16: "holding_registers", 22: "holding_registers" };

export class OtInventory {
  private readonly devices = new Map<string, DeviceEntry>();
  // Polling statistics by master, then by server. A master with one server
  // keeps its pair without a map of servers.
  private readonly pairs = new Map<string, PairStats | Map<string, PairStats>>();
  private pairCount = 0;
  private readonly pairLimit: number;
  // Request kinds of all pairs, bounded by limits.pollKeys.
  private pollKeyCount = 0;
  // Counts of what a full table could not keep.
  readonly dropped = { devices: 0, poll_keys: 0, pairs: 0, registers: 0, peers: 0, identities: 0 };
  // Raised on every change a subscriber needs: a new device, role, unit id,
  // function code, peer, register range or identity. last_seen and counters
  // do not raise it, so the retained message goes out when the inventory
  // changes and not on every poll.
  revision = 0;

  constructor(private readonly limits: OtInventoryLimits = { devices: 10_000, pollKeys: 16_384 }) {
    this.pairLimit = limits.pairs ?? limits.pollKeys;
  }

  // The last record of each flow and direction that add() took in full
  // without a drop, by repeatSlot(). A record that repeats it skips the
  // steps that would find every value kept already.
  private readonly repeats: RepeatedRecord[] = Array.from({ length: REPEAT_SLOTS }, () => new RepeatedRecord());

  // Adds a protocol record in JSON form (the agent, tests).
  addRecord(record: RecordJson): void {
    this.add(record.type, record.ts, NaN, record.src, record.dst, record.server_to_client, record, record.flow_id);
  }

  // Adds a record as the core decoded it, without building its JSON form.
  // Replays take this path for every Modbus poll.
  addCoreRecord(record: CoreRecord): void {
    // A nanosecond part of 10^9 or more (a malformed capture) has no exact
    // microsecond form: such a record keeps its `ts` text.
    const seen = record.tsNsec < 1_000_000_000 ? record.tsSec * 1_000_000 + Math.floor(record.tsNsec / 1000) : record.ts;
    this.add(record.type, seen, packetTimeMs(record.tsSec, record.tsNsec), record.src, record.dst, record.serverToClient, record.fields, record.flowId);
  }

  // `timeMs` is the packet time in milliseconds, or NaN when only `ts` has it.
  private add(
    type: string, ts: SeenTime, timeMs: number, src: Endpoint, dst: Endpoint, serverToClient: boolean, fields: RecordFields, flowId: number,
  ): void {
    let hasIdentity = false;
    for (let i = 0; i < IDENTITY_FIELDS.length; i++) {
      if (fields[IDENTITY_FIELDS[i]] !== undefined) {
        hasIdentity = true;
        break;
      }
    }
    const isOt = OT_RECORD_TYPES.has(type);
    if (!isOt && !hasIdentity) return;
    // The roles as rolesOf() gives them, without an object per record.
    const sender = serverToClient ? dst.ip : src.ip;
    const receiver = serverToClient ? src.ip : dst.ip;
    let masterIp = src.ip;
    let serverIp = dst.ip;
    if (fields.pdu_type === "request") {
      masterIp = sender;
      serverIp = receiver;
    } else if (fields.pdu_type === "response") {
      masterIp = receiver;
      serverIp = sender;
    }
    const server = this.device(serverIp, ts);
    const master = this.device(masterIp, ts);
    if (hasIdentity && server) this.addIdentityFields(server, type, ts, fields);
    if (!isOt) return;

    // Identities are compared and counted, so only records without one may
    // repeat; the peers and ranges of both devices must have been kept.
    const repeat = !hasIdentity && server !== undefined && master !== undefined && Number.isInteger(flowId)
      ? this.repeats[repeatSlot(flowId, serverToClient)] : undefined;
    if (repeat !== undefined && repeat.matches(type, server!, master!, fields)) {
      if (type === "modbus") this.addModbus(fields, ts, timeMs, server, master, true);
      return;
    }
    const droppedBefore = this.dropped.peers + this.dropped.registers;

    const protocolBit = 1 << PROTOCOL_ORDER.indexOf(type);
    if (server) this.addProtocol(server, protocolBit);
    if (master) this.addProtocol(master, protocolBit);
    if (server) this.addRole(server, ROLE_SERVER);
    if (master) this.addRole(master, ROLE_MASTER);
    if (server && master) {
      server.masters = this.addPeer(server.masters, master.ip);
      master.servers = this.addPeer(master.servers, server.ip);
    }
    if (type === "modbus") this.addModbus(fields, ts, timeMs, server, master, false);
    if (repeat !== undefined && this.dropped.peers + this.dropped.registers === droppedBefore) repeat.set(type, server!, master!, fields);
  }

  // Applies the Ethernet addresses the core learned (ip -> MAC).
  setMacs(macs: Map<string, string>): void {
    for (const device of this.devices.values()) {
      const mac = macs.get(device.ip);
      if (mac && device.mac !== mac) {
        if (device.mac === undefined) device.profilesBeforeMac = device.profiles !== undefined;
        device.mac = mac;
        this.revision++;
      }
    }
  }

  // Adds an identity that did not come from a record: the result of an
  // active identification. A device object selects the inventory's device
  // with the same address.
  addIdentity(device: OtDevice | string, record: Partial<RecordJson> & { ts: string; type: string }): void {
    const target = typeof device === "string" ? this.device(device, record.ts) : this.devices.get(device.ip);
    if (!target) return;
    this.addIdentityFields(target, record.type, record.ts, record);
  }

  private addIdentityFields(target: DeviceEntry, type: string, ts: SeenTime, fields: RecordFields): void {
    const identity: Identity = { source: type, seen: seenText(ts) };
    if (typeof fields.unit_id === "number") identity.unit_id = fields.unit_id;
    for (const name of IDENTITY_FIELDS) {
      const value = fields[name];
      if (value === undefined || value === null) continue;
      if (name === "vendor_id" && typeof value === "number") identity.vendor_id = value;
      else if (name === "run_indicator" && typeof value === "boolean") identity.run_indicator = value;
      else if (name === "device_type" && (typeof value === "number" || typeof value === "string")) identity.device_type = value;
      else if (typeof value === "string" || typeof value === "number") (identity as unknown as Record<string, unknown>)[name] = String(value);
    }
    const identities = target.identities ?? [];
    const existing = identities.find((i) => i.unit_id === identity.unit_id && i.source === identity.source);
    if (existing) {
      const before = JSON.stringify({ ...existing, seen: "" });
      Object.assign(existing, identity);
      if (JSON.stringify({ ...existing, seen: "" }) !== before) this.revision++;
      return;
    }
    if (identities.length >= MAX_IDENTITIES_PER_DEVICE) {
      this.dropped.identities++;
      return;
    }
    identities.push(identity);
    target.identities = identities;
    this.revision++;
  }

  // With `repeated`, the record repeats one whose unit id, function code and
  // registers are kept already, so only the counters and the poll change.
  private addModbus(
    fields: RecordFields, ts: SeenTime, timeMs: number, server: DeviceEntry | undefined, master: DeviceEntry | undefined, repeated: boolean,
  ): void {
    const unitId = typeof fields.unit_id === "number" ? fields.unit_id : undefined;
    const rawCode = typeof fields.function_code === "number" ? fields.function_code : undefined;
    const functionCode = rawCode !== undefined ? rawCode & 0x7f : undefined;
    const isRequest = fields.pdu_type === "request";
    if (fields.pdu_type === "response" && rawCode !== undefined && rawCode >= 0x80 && server) server.exceptions++;

    if (server && !repeated) this.addUnitAndFunction(server, unitId, functionCode);
    if (master && !repeated) this.addUnitAndFunction(master, unitId, functionCode);
    if (!isRequest || functionCode === undefined) return;
    if (server && !repeated) this.addRegisters(server, fields, functionCode);
    if (server && master) this.observePoll(master.ip, server.ip, unitId, functionCode, fields, Number.isNaN(timeMs) ? Date.parse(seenText(ts)) : timeMs);
  }

  private addUnitAndFunction(device: DeviceEntry, unitId: number | undefined, functionCode: number | undefined): void {
    if (unitId !== undefined) device.unitIds = this.addNumber(device.unitIds, unitId);
    if (functionCode !== undefined) device.functionCodes = this.addNumber(device.functionCodes, functionCode);
  }

  private addRegisters(device: DeviceEntry, record: RecordFields, functionCode: number): void {
    const start = typeof record.start_address === "number" ? record.start_address : undefined;
    const quantity = typeof record.quantity === "number" ? record.quantity : 1;
    if (READ_SPACE[functionCode] && start !== undefined) this.addRange(device, READ_SPACE[functionCode], "read", start, quantity);
    if (WRITE_SPACE[functionCode] && start !== undefined) {
      const count = functionCode === 15 || functionCode === 16 ? quantity : 1;
      this.addRange(device, WRITE_SPACE[functionCode], "write", start, count);
    }
    if (functionCode === 23) {
      if (typeof record.read_start_address === "number") {
        this.addRange(device, "holding_registers", "read", record.read_start_address, typeof record.read_quantity === "number" ? record.read_quantity : 1);
      }
      if (typeof record.write_start_address === "number") {
        this.addRange(device, "holding_registers", "write", record.write_start_address, typeof record.write_quantity === "number" ? record.write_quantity : 1);
      }
    }
  }

  // Merges [start, start + quantity - 1] into the device's ranges of the
  // same space and access, joining overlapping and adjacent ranges.
  private addRange(device: DeviceEntry, space: AddressSpace, access: "read" | "write", start: number, quantity: number): void {
    const first = start;
    const last = Math.min(0xffff, start + Math.max(quantity, 1) - 1);
    const registers = device.registers ?? [];
    // Most requests repeat a range already kept: found without allocating.
    for (const r of registers) {
      if (r.space === space && r.access === access && r.first <= first && r.last >= last) return;
    }
    const same = registers.filter((r) => r.space === space && r.access === access);
    const touching = same.filter((r) => r.first <= last + 1 && r.last + 1 >= first);
    if (touching.length === 0 && registers.length >= MAX_RANGES_PER_DEVICE) {
      this.dropped.registers++;
      return;
    }
    const merged: RegisterRange = {
      space, access,
      first: Math.min(first, ...touching.map((r) => r.first)),
      last: Math.max(last, ...touching.map((r) => r.last)),
    };
    const next = registers.filter((r) => !touching.includes(r));
    next.push(merged);
    // Spaces and accesses are lowercase ASCII words, so comparing code units
    // gives the order localeCompare gave, without loading ICU's collator.
    next.sort((a, b) => compareText(a.space, b.space) || compareText(a.access, b.access) || a.first - b.first);
    device.registers = next;
    this.revision++;
  }

  // Records one request for the polling period: repeats of the same request
  // (function code, unit id, start address, quantity) from one master to one
  // server are a poll, and the median of their intervals is its period.
  private observePoll(master: string, server: string, unitId: number | undefined, functionCode: number, fields: RecordFields, nowMs: number): void {
    const pair = this.pairOf(master, server);
    if (!pair) return;
    pair.requests++;
    if (unitId !== undefined) {
      if (pair.unitId === undefined) pair.unitId = unitId;
      else if (pair.unitId !== unitId) pair.unitId = null;
    }

    const kind = pollKindKey(unitId, functionCode, fields.start_address, fields.quantity, fields.sub_function);
    const poll = pair.findPoll(kind);
    if (!poll) {
      if (this.pollKeyCount >= this.limits.pollKeys) {
        this.dropped.poll_keys++;
        return;
      }
      pair.addPoll(kind, new PollTimes(nowMs));
      this.pollKeyCount++;
      return;
    }
    const intervalS = (nowMs - poll.lastMs) / 1000;
    poll.lastMs = nowMs;
    if (intervalS <= 0 || intervalS > MAX_PERIOD_S) return;
    const intervals = poll.intervals ?? (poll.intervals = []);
    intervals.push(intervalS);
    if (intervals.length > INTERVALS_KEPT) intervals.shift();
  }

  // The pair of `master` and `server`, created when the pair limit allows.
  private pairOf(master: string, server: string): PairStats | undefined {
    const pairOrServers = this.pairs.get(master);
    if (pairOrServers instanceof Map) {
      const pair = pairOrServers.get(server);
      if (pair) return pair;
    } else if (pairOrServers !== undefined && pairOrServers.server === server) {
      return pairOrServers;
    }
    if (this.pairCount >= this.pairLimit) {
      this.dropped.pairs++;
      return undefined;
    }
    const pair = new PairStats(master, server);
    this.pairCount++;
    if (pairOrServers === undefined) this.pairs.set(master, pair);
    else if (pairOrServers instanceof Map) pairOrServers.set(server, pair);
    else this.pairs.set(master, new Map([[pairOrServers.server, pairOrServers], [server, pair]]));
    return pair;
  }

  private device(ip: string, ts: SeenTime): DeviceEntry | undefined {
    let device = this.devices.get(ip);
    if (device) {
      device.lastSeen = ts;
      return device;
    }
    if (this.devices.size >= this.limits.devices) {
      this.dropped.devices++;
      return undefined;
    }
    device = new DeviceEntry(ip, ts);
    this.devices.set(ip, device);
    this.revision++;
    return device;
  }

  private addRole(device: DeviceEntry, role: number): void {
    if ((device.roles & role) !== 0) return;
    device.roles |= role;
    this.revision++;
  }

  private addProtocol(device: DeviceEntry, protocolBit: number): void {
    if ((device.protocols & protocolBit) !== 0) return;
    device.protocols |= protocolBit;
    this.revision++;
  }

  private addPeer(peers: string | string[] | undefined, ip: string): string | string[] {
    return this.addSorted(peers, ip, compareAddresses, MAX_PEERS_PER_DEVICE, "peers");
  }

  private addNumber(values: number | number[] | undefined, value: number): number | number[] {
    return this.addSorted(values, value, (x, y) => x - y, Infinity, undefined);
  }

  // Returns `values` (undefined, one value or a sorted list) with `value`
  // inserted in order. A list of `max` values drops it and counts it in
  // dropped[droppedKey].
  private addSorted<T extends string | number>(
    values: T | T[] | undefined, value: T, compare: (x: T, y: T) => number, max: number, droppedKey: keyof OtInventory["dropped"] | undefined,
  ): T | T[] {
    if (values === undefined) {
      this.revision++;
      return value;
    }
    if (values === value) return values;
    const list = Array.isArray(values) ? values : [values];
    if (list.includes(value)) return list;
    if (list.length >= max) {
      if (droppedKey !== undefined) this.dropped[droppedKey]++;
      return list;
    }
    // Inserted in order: re-sorting the whole list on every new peer took
    // half the replay's CPU time on a capture of 100,000 flows.
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (compare(list[middle], value) < 0) low = middle + 1;
      else high = middle;
    }
    list.splice(low, 0, value);
    this.revision++;
    return list;
  }

  // Devices seen in OT records, or that reported an identity, by address.
  listDevices(): OtDevice[] {
    return this.listedEntries().map(toOtDevice);
  }

  // The listed devices that reported an identity, by address: the only
  // devices that a firmware profile can bind to by identity.
  listIdentifiedDevices(): OtDevice[] {
    return [...this.devices.values()]
      .filter((d) => d.identities !== undefined)
      .sort((a, b) => compareAddresses(a.ip, b.ip))
      .map(toOtDevice);
  }

  private listedEntries(): DeviceEntry[] {
    return [...this.devices.values()]
      .filter((d) => d.roles !== 0 || d.identities !== undefined)
      .sort((a, b) => compareAddresses(a.ip, b.ip));
  }

  find(ip: string): OtDevice | undefined {
    const device = this.devices.get(ip);
    return device ? toOtDevice(device) : undefined;
  }

  listPolling(): PollingPeriod[] {
    const periods: PollingPeriod[] = [];
    for (const pairOrServers of this.pairs.values()) {
      if (pairOrServers instanceof Map) {
        for (const pair of pairOrServers.values()) periods.push(pollingPeriod(pair));
      } else {
        periods.push(pollingPeriod(pairOrServers));
      }
    }
    return periods.sort((a, b) => compareAddresses(a.master, b.master) || compareAddresses(a.server, b.server));
  }

  setProfiles(ip: string, profiles: string[]): void {
    const device = this.devices.get(ip);
    if (!device) return;
    this.setDeviceProfiles(device, profiles);
  }

  // Sets the profiles of every listed device: those in `byDevice`, and none
  // for the others.
  setListedProfiles(byDevice: ReadonlyMap<string, string[]>): void {
    for (const device of this.devices.values()) {
      if (device.roles === 0 && device.identities === undefined) continue;
      this.setDeviceProfiles(device, byDevice.get(device.ip) ?? []);
    }
  }

  private setDeviceProfiles(device: DeviceEntry, profiles: string[]): void {
    if (profiles.length === 0 && device.profiles === undefined) return;
    const next = [...new Set(profiles)].sort();
    if (JSON.stringify(device.profiles ?? []) === JSON.stringify(next)) return;
    if (next.length === 0) {
      device.profiles = undefined;
    } else {
      if (device.profiles === undefined) device.profilesBeforeMac = false;
      device.profiles = next;
    }
    this.revision++;
  }

  // The inventory as one JSON document, for `fieldsense assets --json` and
  // the retained MQTT message.
  snapshot(): InventorySnapshot {
    return { devices: this.listDevices(), polling: this.listPolling(), dropped: { ...this.dropped }, revision: this.revision };
  }
}

function listOf<T>(values: T | T[] | undefined): T[] {
  if (values === undefined) return [];
  return Array.isArray(values) ? values.slice() : [values];
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

// Builds the OtDevice form of a device, with its members in the order the
// inventory has always written them: `mac` and `profiles` last, in the order
// they were set.
function toOtDevice(entry: DeviceEntry): OtDevice {
  const roles: OtDevice["roles"] = [];
  if ((entry.roles & ROLE_MASTER) !== 0) roles.push("master");
  if ((entry.roles & ROLE_SERVER) !== 0) roles.push("server");
  const device: OtDevice = {
    ip: entry.ip,
    roles,
    protocols: PROTOCOL_ORDER.filter((_, i) => (entry.protocols & (1 << i)) !== 0),
    first_seen: seenText(entry.firstSeen),
    last_seen: seenText(entry.lastSeen),
    unit_ids: listOf(entry.unitIds),
    function_codes: listOf(entry.functionCodes),
    registers: listOf(entry.registers),
    masters: listOf(entry.masters),
    servers: listOf(entry.servers),
    exceptions: entry.exceptions,
    identities: listOf(entry.identities),
  };
  if (entry.profilesBeforeMac && entry.profiles !== undefined) device.profiles = entry.profiles.slice();
  if (entry.mac !== undefined) device.mac = entry.mac;
  if (!entry.profilesBeforeMac && entry.profiles !== undefined) device.profiles = entry.profiles.slice();
  return device;
}

function pollingPeriod(pair: PairStats): PollingPeriod {
  const kindPeriods: number[] = [];
  for (const poll of pair.allPolls()) {
    if (poll.intervals !== undefined) kindPeriods.push(median(poll.intervals));
  }
  const entry: PollingPeriod = { master: pair.master, server: pair.server, requests: pair.requests, request_kinds: pair.kindCount };
  if (typeof pair.unitId === "number") entry.unit_id = pair.unitId;
  if (kindPeriods.length > 0) entry.period_s = Math.round(median(kindPeriods) * 1000) / 1000;
  return entry;
}

export interface InventorySnapshot {
  devices: OtDevice[];
  polling: PollingPeriod[];
  dropped: OtInventory["dropped"];
  revision: number;
}

// The server and the master of a record. A request travels from the master
// and a response from the server. `server_to_client` is true when the packet
// went from the flow's responder (dst) to its originator (src), so a capture
// that starts in the middle of a connection still gets the roles right.
// Records without a pdu_type take the flow's responder as the server.
export function rolesOf(record: RecordJson): { master: string; server: string } {
  const sender = record.server_to_client ? record.dst.ip : record.src.ip;
  const receiver = record.server_to_client ? record.src.ip : record.dst.ip;
  if (record.pdu_type === "request") return { master: sender, server: receiver };
  if (record.pdu_type === "response") return { master: receiver, server: sender };
  return { master: record.src.ip, server: record.dst.ip };
}

// Packet time in milliseconds, truncated as Date.parse truncates the
// microseconds of a record's `ts`, so that both paths give the same periods.
function packetTimeMs(tsSec: number, tsNsec: number): number {
  return tsSec * 1000 + Math.floor(tsNsec / 1_000_000);
}

// Returns the key of a request kind (unit id, function code, start address,
// quantity, sub-function). Values in their Modbus ranges give a number, so
// that a poll builds no key text; other values give text. The number for a
// sub-function is below 0 and the other number at least 0, so they never meet.
function pollKindKey(unitId: number | undefined, functionCode: number, start: unknown, quantity: unknown, subFunction: unknown): number | string {
  const unit = unitId === undefined ? 0 : isInRange(unitId, 0xff) ? unitId + 1 : -1;
  if (unit >= 0) {
    const head = functionCode * 257 + unit;
    if (subFunction === undefined && (start === undefined || isInRange(start, 0xffff)) && (quantity === undefined || isInRange(quantity, 0xffff))) {
      // Below 128 * 257 * 65537 * 65537, about 2^47: exact in a double.
      return (head * 65537 + (start === undefined ? 0 : start + 1)) * 65537 + (quantity === undefined ? 0 : quantity + 1);
    }
    if (start === undefined && quantity === undefined && isInRange(subFunction, 0xffff)) return -1 - (head * 65536 + subFunction);
  }
  return `${unitId ?? "-"}/${functionCode}/${start ?? "-"}/${quantity ?? "-"}/${subFunction ?? "-"}`;
}

function isInRange(value: unknown, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
