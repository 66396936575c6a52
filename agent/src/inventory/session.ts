// Ties the OT inventory to the firmware profiles and the core: records feed
// the inventory, and whenever the inventory changes the profile bindings
// are worked out again and, when they changed, the core's profile table is
// reinstalled. A device identified by FC 43/14 in the middle of a capture is
// judged against its profile from the next batch on.
import { readFileSync } from "node:fs";
import type { Core, CoreRecord } from "../core/core.js";
import type { Alert } from "../publish/alert.js";
import type { RecordJson } from "../publish/record.js";
import { replayFiles, type ReplayOptions, type ReplayResult } from "../pipeline.js";
import { bindProfiles, installProfileTable, type Binding } from "../profiles/bindings.js";
import type { Profile } from "../profiles/profiles.js";
import { readHostMacs } from "./host-macs.js";
import { INVENTORY_FIELDS, OtInventory, type InventorySnapshot, type OtInventoryLimits } from "./ot-inventory.js";
// Replays that feed only the inventory decode just these record fields.
export { INVENTORY_FIELDS };

// Minimum time between two retained inventory messages: a network that
// keeps changing (a scan) publishes at most this often.
export const INVENTORY_PUBLISH_INTERVAL_MS = 10_000;

// One entry of the file `fieldsense modbus identify --update-inventory` writes.
export interface ActiveIdentity {
  ip: string; unit_id: number; seen: string; method: string;
  vendor_name?: string; product_code?: string; revision?: string; product_name?: string; server_id?: string; run_indicator?: boolean;
}

// Reads an identity file; a missing or malformed one is an error that names it.
export function readActiveIdentities(file: string): ActiveIdentity[] {
  let document: { identities?: unknown };
  try {
    document = JSON.parse(readFileSync(file, "utf8")) as { identities?: unknown };
  } catch (error) {
    throw new Error(`cannot read identities file ${file}: ${(error as Error).message}; give a file written by "fieldsense modbus identify --update-inventory"`);
  }
  if (!Array.isArray(document.identities)) throw new Error(`identities file ${file} has no "identities" list; give a file written by "fieldsense modbus identify --update-inventory"`);
  return (document.identities as ActiveIdentity[]).filter((i) => typeof i?.ip === "string" && typeof i.seen === "string");
}

export interface BindingSummary {
  profile: string;
  ip: string;
  unit_id?: number;
  reason: "address" | "identity";
  advisories: string[];
}

export class InventorySession {
  readonly inventory: OtInventory;
  bindings: Binding[] = [];
  private core: Pick<Core, "callWithScratch" | "exportFunction" | "readMemory"> | undefined;
  private seenRevision = -1;
  private bindingKey = "";

  // `inventory`: an inventory to feed (the agent's), or the limits of a new one.
  constructor(readonly profiles: Profile[], inventory?: OtInventory | OtInventoryLimits) {
    this.inventory = inventory instanceof OtInventory ? inventory : new OtInventory(inventory);
  }

  // Installs the bindings known so far (configured addresses) into `core`.
  attach(core: Pick<Core, "callWithScratch" | "exportFunction" | "readMemory">): void {
    this.core = core;
    this.bindingKey = "";
    this.refresh(true);
  }

  // Adds identities learned actively (`fieldsense modbus identify
  // --update-inventory FILE`), so that their profiles bind before traffic.
  addActiveIdentities(entries: ActiveIdentity[]): void {
    for (const entry of entries) {
      const { ip, seen, method: _method, ...facts } = entry;
      this.inventory.addIdentity(ip, { ...facts, type: "active", ts: seen });
    }
  }

  addRecord(record: RecordJson): void {
    this.inventory.addRecord(record);
  }

  // The replay's path: the record as the core decoded it, with no JSON.
  addCoreRecord(record: CoreRecord): void {
    this.inventory.addCoreRecord(record);
  }

  // Works the bindings out again when the inventory changed, and reinstalls
  // the core table when they differ from the installed ones.
  refresh(force = false): void {
    if (!force && this.inventory.revision === this.seenRevision) return;
    this.seenRevision = this.inventory.revision;
    // A device without an identity binds only by a configured address, and
    // binding by address reads nothing but the device's identities, so the
    // identified devices give the same bindings as all of them. This runs
    // after every batch that changed the inventory, and skipping the others
    // saves building 10,000 device objects each time.
    const bindings = bindProfiles(this.profiles, this.inventory.listIdentifiedDevices());
    const key = bindings.map((b) => `${b.profile.spec.id}@${b.ip}/${b.unitId ?? "*"}`).join(",");
    this.bindings = bindings;
    const byDevice = new Map<string, string[]>();
    for (const b of bindings) byDevice.set(b.ip, [...(byDevice.get(b.ip) ?? []), b.profile.spec.id]);
    this.inventory.setListedProfiles(byDevice);
    if (key === this.bindingKey && !force) return;
    this.bindingKey = key;
    if (this.core) installProfileTable(this.core, bindings);
  }

  // Reads the Ethernet addresses from the core; call after the last batch
  // (a replay) or from time to time (the agent).
  finish(): void {
    if (this.core) this.inventory.setMacs(readHostMacs(this.core));
    this.refresh();
  }

  // For the agent, once a second: refreshes the bindings when the inventory
  // changed, and every `publishIntervalMs` hands a changed inventory to
  // `publish` (the retained MQTT message). Returns true when it published.
  tick(nowMs: number, publish: (snapshot: ReturnType<InventorySession["snapshot"]>) => void, publishIntervalMs = INVENTORY_PUBLISH_INTERVAL_MS): boolean {
    this.refresh();
    if (nowMs - this.publishedAtMs < publishIntervalMs) return false;
    this.finish();
    if (this.inventory.revision === this.publishedRevision) return false;
    this.publishedRevision = this.inventory.revision;
    this.publishedAtMs = nowMs;
    publish(this.snapshot());
    return true;
  }

  private publishedRevision = -1;
  private publishedAtMs = -Infinity;

  bindingSummaries(): BindingSummary[] {
    return this.bindings.map((b) => ({
      profile: b.profile.spec.id,
      ip: b.ip,
      ...(b.unitId !== undefined ? { unit_id: b.unitId } : {}),
      reason: b.reason,
      advisories: b.advisories.flatMap((v) => v.advisories),
    }));
  }

  snapshot(): InventorySnapshot & { profiles: BindingSummary[] } {
    return { ...this.inventory.snapshot(), profiles: this.bindingSummaries() };
  }
}

export interface InventoryReplay {
  session: InventorySession;
  result: ReplayResult;
  alerts: Alert[];
}

// Replays capture files with the inventory and the profile checks running,
// as the agent does live.
export async function replayWithInventory(
  files: string[], profiles: Profile[], options: Partial<ReplayOptions> & { identities?: ActiveIdentity[] } = {},
): Promise<InventoryReplay> {
  const session = new InventorySession(profiles);
  session.addActiveIdentities(options.identities ?? []);
  const alerts: Alert[] = [];
  const result = await replayFiles(files, {
    site: "replay", gateway: "replay", ...options,
    keepRecords: true,
    onCoreReady: (core) => { session.attach(core); options.onCoreReady?.(core); },
    observeRecord: (record) => { session.addCoreRecord(record); options.observeRecord?.(record); },
    // A caller's own observer may read any field.
    observedFields: options.observeRecord ? undefined : INVENTORY_FIELDS,
    reuseObservedRecords: options.observeRecord === undefined,
    onAlert: async (alert) => { alerts.push(alert); await options.onAlert?.(alert); },
    onProgress: (file, offset) => { session.refresh(); options.onProgress?.(file, offset); },
  });
  session.finish();
  return { session, result, alerts };
}
