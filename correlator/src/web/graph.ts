// The entity graph of an incident as inline SVG. The layout is a circle with
// the nodes sorted by kind and label, so the same incident always draws the
// same picture and every edge stays visible as a chord.
import type { EntityEdge, EntityKind, EntityNode } from "../graph.js";
import { escapeHtml } from "./markup.js";

const KIND_COLOURS: Record<EntityKind, string> = {
  host: "#2b6cb0", account: "#b7791f", file: "#6b46c1", ot_device: "#c53030",
};
const KIND_ORDER: EntityKind[] = ["account", "host", "ot_device", "file"];
// Colour of a node whose kind the console does not know.
const OTHER_COLOUR = "#718096";

// Nodes drawn; a larger graph draws its first ones and notes the rest below.
export const GRAPH_MAX_NODES = 60;
const NODE_RADIUS = 9;
const LABEL_CHARS = 28;

export function entityGraphSvg(entities: EntityNode[], edges: EntityEdge[]): string {
  if (entities.length === 0) return "<p>No entities in this incident.</p>";
  const sorted = [...entities].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || compareCodePoints(a.label, b.label) || compareCodePoints(a.id, b.id));
  const drawn = sorted.slice(0, GRAPH_MAX_NODES);
  const radius = Math.max(90, drawn.length * 14);
  const margin = 190;
  const size = 2 * (radius + margin);
  const centre = size / 2;
  const position = new Map<string, { x: number; y: number }>();
  drawn.forEach((node, i) => {
    // Start at the top and go clockwise; a single node sits at the centre.
    const angle = drawn.length === 1 ? 0 : -Math.PI / 2 + (2 * Math.PI * i) / drawn.length;
    const r = drawn.length === 1 ? 0 : radius;
    position.set(node.id, { x: round(centre + r * Math.cos(angle)), y: round(centre + r * Math.sin(angle)) });
  });

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" aria-label="Entity graph" viewBox="0 0 ${size} ${size}" width="${Math.min(size, 900)}">`);
  parts.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>');
  for (const edge of drawnEdges(edges)) {
    const from = position.get(edge.from);
    const to = position.get(edge.to);
    if (!from || !to || edge.from === edge.to) continue;
    // Ends pulled back to the node's rim so the arrowhead stays visible.
    const dx = to.x - from.x;
    const dy = to.y - from.y;
    const length = Math.hypot(dx, dy) || 1;
    const [x1, y1] = [from.x + (dx / length) * NODE_RADIUS, from.y + (dy / length) * NODE_RADIUS];
    const [x2, y2] = [to.x - (dx / length) * (NODE_RADIUS + 2), to.y - (dy / length) * (NODE_RADIUS + 2)];
    // An edge that the store learned from records alone has no alerts.
    const title = edge.kinds.map(([kind, alerts]) => (alerts > 0 ? `${kind}: ${alerts} alert(s)` : `${kind}: from records`)).join("\n");
    parts.push(`<line class="edge" x1="${round(x1)}" y1="${round(y1)}" x2="${round(x2)}" y2="${round(y2)}" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"><title>${escapeHtml(title)}</title></line>`);
  }
  for (const node of drawn) {
    const { x, y } = position.get(node.id)!;
    const right = x >= centre;
    const label = node.label.length > LABEL_CHARS ? `${node.label.slice(0, LABEL_CHARS - 1)}\u2026` : node.label;
    // Labels sit outside the circle: right of nodes on the right half, left
    // of the others, and under a lone node.
    let anchor = right ? "start" : "end";
    let labelX = right ? x + NODE_RADIUS + 4 : x - NODE_RADIUS - 4;
    let labelY = y + 4;
    if (drawn.length === 1) {
      anchor = "middle";
      labelX = x;
      labelY = y + NODE_RADIUS + 14;
    }
    parts.push(
      `<g class="node" data-kind="${escapeHtml(node.kind)}"><circle cx="${x}" cy="${y}" r="${NODE_RADIUS}" fill="${KIND_COLOURS[node.kind] ?? OTHER_COLOUR}"><title>${escapeHtml(`${node.kind}: ${node.label}`)}</title></circle>` +
      `<text x="${round(labelX)}" y="${round(labelY)}" text-anchor="${anchor}" font-size="12">${escapeHtml(label)}</text></g>`,
    );
  }
  parts.push("</svg>");
  const legend = KIND_ORDER.map((kind) => `<span class="legend"><span class="dot" style="background:${KIND_COLOURS[kind]}"></span>${kind.replace("_", " ")}</span>`).join(" ");
  const more = sorted.length > drawn.length ? `<p>The first ${drawn.length} of ${sorted.length} entities are drawn.</p>` : "";
  return `${parts.join("")}<p>${legend}</p>${more}`;
}

// One line per ordered pair of nodes, titled with each kind of link and its
// alert count, so that links of several models between two hosts do not
// hide one another. Sorted, so the drawing does not depend on input order.
function drawnEdges(edges: EntityEdge[]): Array<{ from: string; to: string; kinds: Array<[string, number]> }> {
  const pairs = new Map<string, { from: string; to: string; kinds: Array<[string, number]> }>();
  for (const edge of edges) {
    const key = `${edge.from}\n${edge.to}`;
    const pair = pairs.get(key) ?? { from: edge.from, to: edge.to, kinds: [] };
    pair.kinds.push([edge.kind, edge.alertIds.length]);
    pairs.set(key, pair);
  }
  const sorted = [...pairs.entries()].sort(([a], [b]) => compareCodePoints(a, b)).map(([, pair]) => pair);
  for (const pair of sorted) pair.kinds.sort(([a], [b]) => compareCodePoints(a, b));
  return sorted;
}

// Orders strings by code points, the same on every machine and locale.
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
