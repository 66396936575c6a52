// The data the console reads from the store, behind one interface. The store
// is gaining an entity graph, an ATT&CK timeline and a ranking
// (rankedIncidents, entities, edges, timeline). Where the store has those
// methods the adapter calls them. Otherwise it derives simpler versions from
// the incidents and alerts that every store version keeps.
import type { Alert } from "../../../agent/src/publish/alert.js";
import type { Incident, Store } from "../store.js";

export type EntityKind = "host" | "account" | "file" | "ot_device";

export interface Entity {
  id: string;
  kind: EntityKind;
  label: string;
  facts: Record<string, unknown>;
}

export interface Edge {
  from: string;
  to: string;
  kind: string;
  alertIds: string[];
}

export interface TimelineEntry {
  ts: string;
  alertId: string;
  model: string;
  name: string;
  score: number;
  src: string;
  dst: string;
  techniques: string[];
  // The ATT&CK tactic, when the store maps techniques to tactics.
  tactic?: string;
}

export interface RankedIncident extends Incident {
  // The reason for the incident's rank, when the store gives one.
  rankReason?: string;
  // True when the store flags a pivot from IT into OT.
  pivot?: boolean;
}

export interface ConsoleData {
  rankedIncidents(): Promise<RankedIncident[]>;
  incident(id: number): Promise<Incident | undefined>;
  alerts(id: number, limit: number): Promise<Alert[]>;
  entities(id: number): Promise<Entity[]>;
  edges(id: number): Promise<Edge[]>;
  timeline(id: number): Promise<TimelineEntry[]>;
}

// An ATT&CK tactic as the reworked store names it.
interface StoreTactic {
  id: string;
  name: string;
}

// A timeline entry of the reworked store: the alert and its tactics.
interface StoreTimelineEntry {
  alert: Alert;
  tactics: StoreTactic[];
}

// A ranked incident of the reworked store: the rank and the points behind it.
type StoreRankedIncident = Incident & {
  rank?: number;
  pivot?: boolean;
  why?: Array<{ points: number; reason: string }>;
};

// The methods the reworked store offers; each is optional here.
interface GraphStore {
  rankedIncidents?: () => StoreRankedIncident[] | Promise<StoreRankedIncident[]>;
  entities?: (id: number) => Entity[] | Promise<Entity[]>;
  edges?: (id: number) => Edge[] | Promise<Edge[]>;
  timeline?: (id: number) => Array<StoreTimelineEntry | TimelineEntry> | Promise<Array<StoreTimelineEntry | TimelineEntry>>;
}

// Alerts the fallback graph and timeline read per incident.
const FALLBACK_ALERT_LIMIT = 2000;

export function consoleData(store: Store): ConsoleData {
  const graph = store as unknown as GraphStore;
  return {
    rankedIncidents: async () => (graph.rankedIncidents ? (await graph.rankedIncidents()).map(rankedFromStore) : await store.incidents()),
    incident: async (id) => await store.incident(id),
    alerts: async (id, limit) => await store.alertsOfIncident(id, limit),
    entities: async (id) => (graph.entities ? await graph.entities(id) : derivedGraph(await store.alertsOfIncident(id, FALLBACK_ALERT_LIMIT)).entities),
    edges: async (id) => (graph.edges ? await graph.edges(id) : derivedGraph(await store.alertsOfIncident(id, FALLBACK_ALERT_LIMIT)).edges),
    timeline: async (id) => (graph.timeline ? (await graph.timeline(id)).map(timelineFromStore) : derivedTimeline(await store.alertsOfIncident(id, FALLBACK_ALERT_LIMIT))),
  };
}

// Turns the store's rank and its reasons into the console's fields.
function rankedFromStore(incident: StoreRankedIncident): RankedIncident {
  const ranked: RankedIncident = { ...incident };
  if (incident.why && incident.why.length > 0) {
    const reasons = incident.why.map((factor) => `${factor.reason} (${factor.points >= 0 ? "+" : ""}${factor.points})`).join("; ");
    ranked.rankReason = incident.rank === undefined ? reasons : `rank ${incident.rank}: ${reasons}`;
  }
  return ranked;
}

function timelineFromStore(entry: StoreTimelineEntry | TimelineEntry): TimelineEntry {
  if (!("alert" in entry)) return entry;
  const [converted] = derivedTimeline([entry.alert]);
  if (entry.tactics.length > 0) converted.tactic = entry.tactics.map((tactic) => `${tactic.name} (${tactic.id})`).join(", ");
  return converted;
}

// Record types whose destination is an OT device.
const OT_RECORD_TYPES = new Set(["modbus", "dnp3", "s7comm", "enip"]);

// Builds a graph from alerts alone: hosts (OT devices when an OT alert
// targets them), accounts linked to the hosts they came from, files linked
// to the hosts that moved them, and one edge per host pair and model.
export function derivedGraph(alerts: Alert[]): { entities: Entity[]; edges: Edge[] } {
  const entities = new Map<string, Entity>();
  const edges = new Map<string, Edge>();
  const entity = (id: string, kind: EntityKind, label: string) => {
    const existing = entities.get(id);
    if (!existing) entities.set(id, { id, kind, label, facts: {} });
    else if (kind === "ot_device") existing.kind = kind;
    return id;
  };
  const edge = (from: string, to: string, kind: string, alertId: string) => {
    const key = `${from}\n${to}\n${kind}`;
    const existing = edges.get(key) ?? { from, to, kind, alertIds: [] };
    existing.alertIds.push(alertId);
    edges.set(key, existing);
  };
  for (const alert of alerts) {
    const src = entity(`host:${alert.src.ip}`, "host", alert.src.ip);
    const dst = entity(`host:${alert.dst.ip}`, OT_RECORD_TYPES.has(alert.record) ? "ot_device" : "host", alert.dst.ip);
    edge(src, dst, alert.model, alert.id);
    if (alert.account) edge(entity(`account:${alert.account}`, "account", alert.account), src, "logon", alert.id);
    const file = alert.evidence.file ?? alert.evidence.path;
    if (typeof file === "string" && file !== "" && alert.evidence.named_pipe === undefined) {
      edge(src, entity(`file:${alert.dst.ip}:${file}`, "file", file), "file", alert.id);
    }
  }
  return { entities: [...entities.values()], edges: [...edges.values()] };
}

export function derivedTimeline(alerts: Alert[]): TimelineEntry[] {
  return alerts.map((alert) => ({
    ts: alert.ts, alertId: alert.id, model: alert.model, name: alert.name, score: alert.score,
    src: alert.src.ip, dst: alert.dst.ip, techniques: alert.mitre,
  }));
}
