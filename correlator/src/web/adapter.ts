// The data the console reads from the store, behind one interface: the
// store's ranking, its entity graph and its ATT&CK timeline, with the caps
// that keep one page bounded.
import type { Alert } from "../../../agent/src/publish/alert.js";
import type { EntityEdge, EntityNode, Incident, RankedIncident, Store, TimelineEntry } from "../store.js";

// Timeline entries the incident page lists; the report covers every alert.
export const TIMELINE_MAX_ENTRIES = 2000;

export interface ConsoleData {
  // Incidents by criticality rank, highest first.
  rankedIncidents(): Promise<RankedIncident[]>;
  incident(id: number): Promise<Incident | undefined>;
  // The incident's first `limit` alerts in packet-time order.
  alerts(id: number, limit: number): Promise<Alert[]>;
  entities(id: number): Promise<EntityNode[]>;
  edges(id: number): Promise<EntityEdge[]>;
  // The first TIMELINE_MAX_ENTRIES alerts in packet-time order with their tactics.
  timeline(id: number): Promise<TimelineEntry[]>;
}

export function consoleData(store: Store): ConsoleData {
  return {
    rankedIncidents: () => store.rankedIncidents(),
    incident: (id) => store.incident(id),
    alerts: (id, limit) => store.alertsOfIncident(id, limit),
    entities: (id) => store.entities(id),
    edges: (id) => store.edges(id),
    timeline: (id) => store.timeline(id, TIMELINE_MAX_ENTRIES),
  };
}
