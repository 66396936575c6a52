// Server-rendered pages of the console: incident list, incident, device,
// search and login. The pages need no script and load nothing from the
// network: the style sheet is inline and the graph is inline SVG.
import type { Alert } from "../../../agent/src/publish/alert.js";
import { reportToHtml } from "../html.js";
import { explainFactors } from "../rank.js";
import type { EntityEdge, EntityNode, Incident, RankedIncident, TimelineEntry } from "../store.js";
import { describeHit, type SearchHit } from "../search/run.js";
import { entityGraphSvg } from "./graph.js";
import { html, raw, type SafeHtml } from "./markup.js";

const STYLE = [
  "body{font-family:system-ui,sans-serif;margin:0;color:#1a202c;background:#f7fafc}",
  "header{background:#1a365d;color:#fff;padding:.6rem 1rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}",
  "header a{color:#fff;font-weight:600;text-decoration:none}",
  "header form{margin-left:auto;display:flex;gap:.4rem}",
  "main{max-width:80rem;margin:1rem auto;padding:0 1rem}",
  "table{border-collapse:collapse;background:#fff;width:100%}",
  "td,th{border:1px solid #cbd5e0;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}",
  "th{background:#edf2f7}",
  "code,pre{background:#edf2f7;padding:0 .2rem;overflow-wrap:anywhere}",
  "pre{padding:.5rem;white-space:pre-wrap}",
  ".score,.rank{font-weight:700}.pivot{color:#c53030;font-weight:700}",
  ".error{border-left:4px solid #c53030;background:#fff5f5;padding:.5rem}",
  ".report{background:#fff;padding:0 1rem;border:1px solid #cbd5e0}",
  ".graph{background:#fff;border:1px solid #cbd5e0}",
  ".legend{margin-right:1rem}.dot{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.3rem;vertical-align:middle}",
  "input[type=search]{width:24rem;max-width:60vw}",
].join("");

export interface PageContext {
  // Whether a logout button is shown (login is required and done).
  loggedIn: boolean;
  query?: string;
}

export function layout(title: string, body: SafeHtml, context: PageContext): string {
  const logout = context.loggedIn
    ? html`<form method="post" action="/logout"><button type="submit">Log out</button></form>`
    : "";
  return "<!DOCTYPE html>\n" + html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title} - Fieldsense</title><style>${raw(STYLE)}</style></head><body>
<header><a href="/">Fieldsense incidents</a>
<form method="get" action="/search" role="search"><input type="search" name="q" value="${context.query ?? ""}" placeholder="*.job AND smb" aria-label="Search query"><button type="submit">Search</button></form>
${logout}</header>
<main>${body}</main></body></html>
`.text;
}

function deviceLink(ip: string): SafeHtml {
  return html`<a href="/devices/${encodeURIComponent(ip)}">${ip}</a>`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function incidentListPage(incidents: RankedIncident[], context: PageContext): string {
  const rows = incidents.map((incident, i) => html`<tr>
<td><span class="rank">${incident.rank}</span><br><small class="why">${explainFactors(incident.why)}</small></td>
<td><a href="/incidents/${incident.id}">Incident ${incident.id}</a>${incident.pivot ? html` <span class="pivot">IT to OT</span>` : ""}</td>
<td class="score">${incident.score}</td><td>${incident.site}</td><td>${iso(incident.firstMs)}<br>${iso(incident.lastMs)}</td>
<td>${incident.hosts.map((host, j) => html`${j > 0 ? ", " : ""}${deviceLink(host)}`)}</td><td>${incident.alertCount}</td>
<td>${incident.models.join(", ")}</td><td>${incident.tactics.map((tactic) => tactic.name).join(", ")}</td><td>${incident.techniques.join(", ")}</td></tr>`);
  const body = incidents.length === 0
    ? html`<h1>Incidents</h1><p>No incidents in the store yet.</p>`
    : html`<h1>Incidents</h1><p>${incidents.length} incident(s), highest rank first.</p>
<table id="incidents"><thead><tr><th>Rank</th><th>Incident</th><th>Score</th><th>Site</th><th>Packet time (UTC)</th><th>Hosts</th><th>Alerts</th><th>Models</th><th>Tactics</th><th>ATT&amp;CK</th></tr></thead>
<tbody>${rows}</tbody></table>`;
  return layout("Incidents", body, context);
}

export interface IncidentView {
  incident: Incident;
  timeline: TimelineEntry[];
  entities: EntityNode[];
  edges: EntityEdge[];
  reportMarkdown: string;
  alerts: Alert[];
}

// Alerts whose evidence the incident page lists; the report covers all.
export const EVIDENCE_MAX_ALERTS = 200;

export function incidentPage(view: IncidentView, context: PageContext): string {
  const { incident } = view;
  const timeline = view.timeline.map(({ alert, tactics }) => html`<tr><td>${alert.ts}</td><td>${tactics.map((tactic) => `${tactic.name} (${tactic.id})`).join(", ")}</td><td>${alert.mitre.join(", ")}</td>
<td>${alert.name} (<code>${alert.model}</code>)</td><td class="score">${alert.score}</td><td>${deviceLink(alert.src.ip)} &rarr; ${deviceLink(alert.dst.ip)}</td>
<td><a href="#alert-${alert.id}">evidence</a></td></tr>`);
  const timelineMore = incident.alertCount > view.timeline.length ? html`<p>The first ${view.timeline.length} of ${incident.alertCount} alerts are listed.</p>` : "";
  const evidence = view.alerts.map((alert) => html`<details id="alert-${alert.id}"><summary>${alert.ts} ${alert.name} (${alert.src.ip} &rarr; ${alert.dst.ip}, score ${alert.score})</summary>
<table><tbody>${Object.entries(alert.evidence).map(([name, value]) => html`<tr><th>${name}</th><td>${Array.isArray(value) ? value.join(", ") : String(value)}</td></tr>`)}</tbody></table>
<pre>${JSON.stringify(alert, null, 2)}</pre></details>`);
  const more = incident.alertCount > view.alerts.length ? html`<p>The evidence of the first ${view.alerts.length} of ${incident.alertCount} alerts is listed.</p>` : "";
  const body = html`<h1>Incident ${incident.id}: score ${incident.score}</h1>
<p>Site ${incident.site}, packet time ${iso(incident.firstMs)} to ${iso(incident.lastMs)}, ${incident.alertCount} alert(s).</p>
<h2>Timeline</h2>
<table id="timeline"><thead><tr><th>Time (UTC)</th><th>Tactics</th><th>ATT&amp;CK</th><th>Model</th><th>Score</th><th>Hosts</th><th></th></tr></thead><tbody>${timeline}</tbody></table>
${timelineMore}
<h2>Entity graph</h2>
${raw(entityGraphSvg(view.entities, view.edges))}
<h2>Report</h2>
<div class="report">${raw(reportBody(view.reportMarkdown, incident.id))}</div>
<h2>Evidence</h2>
${more}${evidence}`;
  return layout(`Incident ${incident.id}`, body, context);
}

// The body of the report as reportToHtml renders it (and escapes it), without
// its document wrapper, so the console shows the HTML that the correlator
// writes to incident-<id>.html. The report's timeline is left out: the page's
// own timeline table above lists the same alerts, with links to evidence.
function reportBody(markdown: string, id: number): string {
  const document = reportToHtml(withoutSection(markdown, "## Timeline"), `Fieldsense incident ${id}`);
  const start = document.indexOf("<body>");
  const end = document.lastIndexOf("</body>");
  return start >= 0 && end > start ? document.slice(start + "<body>".length, end) : document;
}

// Removes the section that starts at the line `heading`, up to the next
// heading of the same level.
export function withoutSection(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) return markdown;
  const level = heading.slice(0, heading.indexOf(" ") + 1);
  let end = start + 1;
  while (end < lines.length && !lines[end].startsWith(level)) end++;
  return [...lines.slice(0, start), ...lines.slice(end)].join("\n");
}

export interface DeviceView {
  ip: string;
  hits: SearchHit[];
  // True when the facts below come from the newest hits only.
  capped: boolean;
  incidents: RankedIncident[];
  // The device's node in the entity graph of one of its incidents.
  profile?: EntityNode;
}

// Field names that identify a device, the same in every protocol's records.
const IDENTITY_FIELDS = ["vendor_name", "vendor_id", "product_code", "product_name", "revision", "serial_number", "device_type", "device_name"];

export function devicePage(view: DeviceView, context: PageContext): string {
  const facts = deviceFacts(view.ip, view.hits);
  const factRows = Object.entries(facts).map(([name, value]) => html`<tr><th>${name}</th><td>${value}</td></tr>`);
  const profile = view.profile
    ? html`<table><tbody>${Object.entries(view.profile.facts).map(([name, value]) => html`<tr><th>${name}</th><td>${Array.isArray(value) ? value.join(", ") : String(value)}</td></tr>`)}</tbody></table>`
    : html`<p>No device profile is stored for this device.</p>`;
  const incidents = view.incidents.length === 0
    ? html`<p>No incident involves this device.</p>`
    : html`<ul>${view.incidents.map((i) => html`<li><a href="/incidents/${i.id}">Incident ${i.id}</a>, score ${i.score}, ${iso(i.firstMs)}</li>`)}</ul>`;
  const body = html`<h1>Device ${view.ip}</h1>
<h2>Inventory</h2>
${view.hits.length === 0 ? html`<p>The store contains no alert or record with ${view.ip}.</p>` : html`<table id="inventory"><tbody>${factRows}</tbody></table>`}
${view.capped ? html`<p>These facts come from the newest ${view.hits.length} alerts and records.</p>` : ""}
<h2>Profile</h2>
${profile}
<h2>Incidents</h2>
${incidents}
<h2>Recent activity</h2>
${hitTable(view.hits.slice(0, 50))}`;
  return layout(`Device ${view.ip}`, body, context);
}

// Inventory facts from the alerts and records that name the address.
function deviceFacts(ip: string, hits: SearchHit[]): Record<string, string> {
  const facts: Record<string, string> = {};
  if (hits.length === 0) return facts;
  const served = new Set<number>();
  const protocols = new Set<string>();
  const peers = new Set<string>();
  const sites = new Set<string>();
  const identity = new Map<string, Set<string>>();
  let alerts = 0;

  for (const hit of hits) {
    const body = hit.body as { type?: string; record?: string; src?: { ip: string; port: number }; dst?: { ip: string; port: number }; evidence?: Record<string, unknown> };
    sites.add(`${hit.site}/${hit.gateway}`);
    if (hit.kind === "alert") alerts++;
    const type = hit.kind === "alert" ? body.record : body.type;
    if (type) protocols.add(type);
    if (body.dst?.ip === ip) served.add(body.dst.port);
    const peer = body.src?.ip === ip ? body.dst?.ip : body.src?.ip;
    if (peer) peers.add(peer);
    const values = hit.kind === "alert" ? body.evidence ?? {} : (body as Record<string, unknown>);
    for (const name of IDENTITY_FIELDS) {
      if (values[name] !== undefined) identity.set(name, (identity.get(name) ?? new Set()).add(String(values[name])));
    }
  }

  const times = hits.map((hit) => hit.ts).sort();
  facts["first seen"] = times[0];
  facts["last seen"] = times[times.length - 1];
  facts["site/gateway"] = [...sites].sort().join(", ");
  facts.protocols = [...protocols].sort().join(", ");
  facts["ports served"] = [...served].sort((a, b) => a - b).join(", ");
  facts.peers = [...peers].sort().join(", ");
  facts.alerts = String(alerts);
  facts.records = String(hits.length - alerts);
  for (const [name, set] of identity) facts[name] = [...set].join(", ");
  return facts;
}

export interface SearchView {
  query: string;
  hits: SearchHit[];
  more: boolean;
  // The formatted error of an invalid query: message, query and caret line.
  error?: string;
}

export function searchPage(view: SearchView, context: PageContext): string {
  let results: SafeHtml;
  if (view.query.trim() === "") results = html`<p>Type a query above, for example <code>*.job AND smb</code> or <code>score&gt;=70 last 60d</code>.</p>`;
  else if (view.error) results = html`<pre class="error" id="search-error">${view.error}</pre>`;
  else {
    const count = view.more ? `The newest ${view.hits.length} hits; more match, narrow the query.` : `${view.hits.length} hit(s).`;
    results = html`<p id="hit-count">${count}</p>${hitTable(view.hits)}`;
  }
  return layout("Search", html`<h1>Search</h1>${results}`, { ...context, query: view.query });
}

function hitTable(hits: SearchHit[]): SafeHtml {
  if (hits.length === 0) return html`<p>No alerts or records.</p>`;
  const rows = hits.map((hit) => {
    const { what, details } = describeHit(hit);
    const body = hit.body as { src?: { ip: string; port: number }; dst?: { ip: string; port: number } };
    const endpoint = (e?: { ip: string; port: number }) => (e ? html`${deviceLink(e.ip)}:${e.port}` : "");
    return html`<tr class="hit" data-kind="${hit.kind}"><td>${hit.ts}</td><td>${hit.site}/${hit.gateway}</td><td>${what}</td>
<td>${endpoint(body.src)} &rarr; ${endpoint(body.dst)}</td>
<td>${hit.incidentId !== undefined ? html`<a href="/incidents/${hit.incidentId}">${hit.incidentId}</a>` : ""}</td><td>${details}</td></tr>`;
  });
  return html`<table id="hits"><thead><tr><th>Time (UTC)</th><th>Site/gateway</th><th>What</th><th>From &rarr; to</th><th>Incident</th><th>Details</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function loginPage(context: PageContext, failed: boolean): string {
  const body = html`<h1>Log in</h1>
${failed ? html`<p class="error" id="login-error">Wrong password.</p>` : ""}
<form method="post" action="/login"><label>Password <input type="password" name="password" autocomplete="current-password" autofocus></label>
<button type="submit">Log in</button></form>`;
  return layout("Log in", body, context);
}

export function messagePage(title: string, message: string, context: PageContext): string {
  return layout(title, html`<h1>${title}</h1><p>${message}</p>`, context);
}
