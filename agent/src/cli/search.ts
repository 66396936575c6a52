// `fieldsense search QUERY`: searches the correlator's alerts and records.
import { existsSync } from "node:fs";
import { describeHit, search, searchDatabaseOf, type SearchHit } from "../../../correlator/src/search/run.js";
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from "../../../correlator/src/search/sql.js";
import { SearchSyntaxError } from "../../../correlator/src/search/syntax.js";
import { openStore } from "../../../correlator/src/store.js";
import { defaultDbPath } from "../config/data-dir.js";
import { SEARCH_HELP } from "./help.js";
import { parseCommand, positiveInteger, printable, UsageError, type Output } from "./args.js";

export async function searchCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("search", argv, {
    db: { type: "string" },
    json: { type: "boolean" },
    limit: { type: "string" },
  });
  if (values.help) {
    output.stdout(SEARCH_HELP);
    return 0;
  }
  // The words of an unquoted query arrive as separate arguments.
  const query = positionals.join(" ");
  if (query.trim() === "") throw new UsageError('missing QUERY for "fieldsense search"; for example fieldsense search "*.job AND smb"');
  const limit = values.limit !== undefined ? positiveInteger("--limit", values.limit as string) : DEFAULT_SEARCH_LIMIT;
  if (limit > MAX_SEARCH_LIMIT) throw new UsageError(`invalid --limit "${limit}": the maximum is ${MAX_SEARCH_LIMIT}`);
  const dbPath = (values.db as string | undefined) ?? defaultDbPath();

  const postgres = /^postgres(ql)?:\/\//.test(dbPath);
  if (!postgres && !existsSync(dbPath)) {
    output.stderr(`fieldsense: store ${dbPath} not found: run "fieldsense correlator" or "fieldsense demo --data DIR" first, or give --db FILE\n`);
    return 1;
  }
  let hits: SearchHit[];
  let more: boolean;
  try {
    ({ hits, more } = await runOn(dbPath, query, limit));
  } catch (error) {
    if (error instanceof SearchSyntaxError) throw new UsageError(error.format());
    throw error;
  }
  for (const hit of hits) output.stdout(values.json ? `${JSON.stringify(hitJson(hit))}\n` : `${hitLine(hit)}\n`);
  const count = `${hits.length} hit${hits.length === 1 ? "" : "s"}`;
  output.stderr(more ? `${count} shown, the newest first; more match: raise --limit (now ${limit}) or narrow the query\n` : `${count}\n`);
  return 0;
}

async function runOn(dbPath: string, query: string, limit: number) {
  const store = await openStore(dbPath, { readOnly: true });
  try {
    return await search(searchDatabaseOf(store), query, { limit });
  } finally {
    await store.close();
  }
}

function hitJson(hit: SearchHit): Record<string, unknown> {
  const json: Record<string, unknown> = { kind: hit.kind, ref: hit.ref, site: hit.site, gateway: hit.gateway, ts: hit.ts };
  if (hit.incidentId !== undefined) json.incident_id = hit.incidentId;
  json.body = hit.body;
  return json;
}

// One line per hit: time, what, endpoints, incident and details. Control
// characters from the wire are shown escaped so that they cannot move the
// terminal's cursor.
function hitLine(hit: SearchHit): string {
  const { what, from, to, details } = describeHit(hit);
  const incident = hit.incidentId !== undefined ? `  incident ${hit.incidentId}` : "";
  return printable(`${hit.ts}  ${hit.site}/${hit.gateway}  ${what}  ${from} -> ${to}${incident}  ${details}`);
}

