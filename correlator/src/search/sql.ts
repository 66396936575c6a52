// Compiles a parsed query into one parameterised SELECT over the alerts and
// records tables, for SQLite (better-sqlite3, JSON1 functions) or PostgreSQL
// (jsonb and SQL/JSON paths). Values from the query travel only as
// parameters. The SQL text contains column names, fixed fragments and JSON
// paths, whose segments resolveField limits to letters, digits and _.
import { sortTimeSql } from "../clock.js";
import type { Target } from "./fields.js";
import type { Node, Value } from "./syntax.js";

export type Dialect = "sqlite" | "postgres";

export type RowKind = "alert" | "record";

export interface CompiledQuery {
  sql: string;
  params: Array<string | number>;
}

// A predicate: SQL text, or a constant when the field does not exist for
// this kind of row (or is the row kind itself).
type Predicate = string | boolean;

// Default and maximum number of hits one search returns.
export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 10_000;

const TABLES: Record<RowKind, { table: string; ref: string; incident: string }> = {
  alert: { table: "alerts", ref: "id", incident: "incident_id" },
  record: { table: "records", ref: "key", incident: "NULL" },
};

// Builds the SELECT that returns the newest `limit` rows matching `tree`:
// kind, ref (alert id or record key), site, gateway, ts, ts_ms,
// incident_id (alerts only) and body (JSON text). Newest is by packet time,
// unless that is too far ahead of the receive time (see clock.ts).
export function compileSearch(tree: Node, dialect: Dialect, limit: number): CompiledQuery {
  // Placeholders are first written as markers that index `values`. A
  // predicate folded away by a constant drops its markers with it, so
  // numberPlaceholders keeps only the values of the markers that remain.
  const values: Array<string | number> = [];
  const placeholder = (value: string | number): string => {
    values.push(value);
    return `\u0000${values.length - 1}\u0000`;
  };
  const branches: string[] = [];
  for (const kind of ["alert", "record"] as RowKind[]) {
    const compiler = new PredicateCompiler(dialect, kind, placeholder);
    const predicate = compiler.compile(tree);
    if (predicate === false) continue;
    const { table, ref, incident } = TABLES[kind];
    const where = predicate === true ? "" : ` WHERE ${predicate}`;
    branches.push(
      `SELECT '${kind}' AS kind, ${table}.${ref} AS ref, ${table}.site AS site, ${table}.gateway AS gateway, ${table}.ts AS ts,` +
      ` ${table}.ts_ms AS ts_ms, ${sortTimeSql(table)} AS sort_ms,` +
      ` ${incident === "NULL" ? "NULL" : `${table}.${incident}`} AS incident_id, ${table}.body AS body` +
      ` FROM ${table}${where}`,
    );
  }
  if (branches.length === 0) {
    // No kind of row can match (kind:alert AND kind:record); the query still
    // returns the same columns so that callers need no special case.
    const empty = "SELECT 'alert' AS kind, '' AS ref, '' AS site, '' AS gateway, '' AS ts, 0 AS ts_ms, NULL AS incident_id, '' AS body";
    return { sql: `${empty} WHERE 1 = 0`, params: [] };
  }
  const sql = `SELECT kind, ref, site, gateway, ts, ts_ms, incident_id, body FROM (${branches.join(" UNION ALL ")}) AS hits` +
    ` ORDER BY sort_ms DESC, ts_ms DESC, ts DESC, kind, ref LIMIT ${placeholder(limit)}`;
  return numberPlaceholders(sql, values, dialect);
}

// Replaces the markers with ? (SQLite) or $1, $2, ... (PostgreSQL) in text
// order and lists their values in the same order.
function numberPlaceholders(marked: string, values: Array<string | number>, dialect: Dialect): CompiledQuery {
  const params: Array<string | number> = [];
  const sql = marked.replace(/\u0000(\d+)\u0000/g, (_, index: string) => {
    params.push(values[Number(index)]);
    return dialect === "sqlite" ? "?" : `$${params.length}`;
  });
  return { sql, params };
}

class PredicateCompiler {
  private readonly table: string;

  constructor(
    private readonly dialect: Dialect,
    private readonly kind: RowKind,
    private readonly param: (value: string | number) => string,
  ) {
    this.table = TABLES[kind].table;
  }

  compile(node: Node): Predicate {
    switch (node.kind) {
      case "and": return and(this.compile(node.left), this.compile(node.right));
      case "or": return or(this.compile(node.left), this.compile(node.right));
      case "not": return not(this.compile(node.operand));
      case "word": return this.word(node.text, node.quoted);
      case "range": return `(${this.table}.ts_ms >= ${this.param(node.fromMs)} AND ${this.table}.ts_ms < ${this.param(node.toMs)})`;
      case "compare": {
        const target = this.kind === "alert" ? node.field.alert : node.field.record;
        if (!target) return node.operator === "!=";
        const predicate = this.target(target, node.field.type, node.operator === "!=" ? ":" : node.operator, node.value);
        return node.operator === "!=" ? not(predicate) : predicate;
      }
    }
  }

  // A word or phrase matches when any text or number anywhere in the row's
  // JSON body contains it; a bare word with * or ? must match a whole value.
  private word(text: string, quoted: boolean): Predicate {
    const pattern = !quoted && hasWildcard(text) ? globToLike(text) : `%${escapeLike(text)}%`;
    if (this.dialect === "sqlite") {
      return `EXISTS (SELECT 1 FROM json_tree(${this.table}.body) AS t WHERE t.type NOT IN ('object', 'array')` +
        ` AND t.atom LIKE ${this.param(pattern)} ESCAPE '\\')`;
    }
    return `EXISTS (SELECT 1 FROM jsonb_path_query(${this.table}.body::jsonb, 'strict $.**') AS t(v)` +
      ` WHERE jsonb_typeof(t.v) NOT IN ('object', 'array') AND (t.v #>> '{}') ILIKE ${this.param(pattern)} ESCAPE '\\')`;
  }

  private target(target: Target, type: string, operator: string, value: Value): Predicate {
    switch (target.source) {
      case "constant": return this.constant(target.value, value);
      case "any": return target.targets.map((t) => this.target(t, type, operator, value)).reduce(or);
      case "column": {
        const column = `${this.table}.${target.column}`;
        if (type === "time") return this.timeSpan(column, operator, value);
        if (type === "number") return `(${column} IS NOT NULL AND ${column} ${sqlOperator(operator)} ${this.param(value.number!)})`;
        if (value.addressPatterns) return value.addressPatterns.map((pattern): Predicate => `${column} LIKE ${this.param(pattern)}`).reduce(or);
        return this.text(column, operator, value);
      }
      case "json": return this.json(target.path, type, operator, value);
    }
  }

  private constant(actual: string, value: Value): boolean {
    if (!value.quoted && hasWildcard(value.text)) return globToRegExp(value.text).test(actual);
    return actual.toLowerCase() === value.text.toLowerCase();
  }

  // A date or time stands for its whole span: time:2026-11-01 is that day,
  // time<2026-11-01 before it, time<=2026-11-01 up to its end.
  private timeSpan(column: string, operator: string, value: Value): string {
    const { startMs, endMs } = value.span!;
    switch (operator) {
      case "<": return `${column} < ${this.param(startMs)}`;
      case "<=": return `${column} < ${this.param(endMs)}`;
      case ">": return `${column} >= ${this.param(endMs)}`;
      case ">=": return `${column} >= ${this.param(startMs)}`;
      default: return `(${column} >= ${this.param(startMs)} AND ${column} < ${this.param(endMs)})`;
    }
  }

  // Text equality ignores case; a bare value with * or ? is a glob over the
  // whole text; < and > compare text in code point order.
  private text(expression: string, operator: string, value: Value): string {
    if (operator === ":" || operator === "=") {
      if (!value.quoted && hasWildcard(value.text)) {
        const like = this.dialect === "sqlite" ? "LIKE" : "ILIKE";
        return `${expression} ${like} ${this.param(globToLike(value.text))} ESCAPE '\\'`;
      }
      return `lower(${expression}) = lower(${this.param(value.text)})`;
    }
    return `${expression} ${sqlOperator(operator)} ${this.param(value.text)}`;
  }

  // A JSON path matches when its value, or any element of it when it is an
  // array, satisfies the comparison.
  private json(path: string[], type: string, operator: string, value: Value): string {
    const numeric = value.number !== undefined && (type === "number" || (operator !== ":" && operator !== "="));
    if (this.dialect === "sqlite") {
      const pathParameter = this.param(`$${path.map((segment) => `."${segment}"`).join("")}`);
      const condition = numeric
        ? `j.type IN ('integer', 'real') AND j.atom ${sqlOperator(operator)} ${this.param(value.number!)}`
        : `j.type NOT IN ('object', 'array') AND ${this.text("(CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.atom AS TEXT) END)", operator, value)}`;
      return `EXISTS (SELECT 1 FROM json_each(${this.table}.body, ${pathParameter}) AS j WHERE ${condition})`;
    }
    const pathParameter = this.param(`lax $${path.map((segment) => `."${segment}"`).join("")}[*]`);
    // CASE keeps the cast away from non-numbers: PostgreSQL does not promise
    // to evaluate the operands of AND from left to right.
    const condition = numeric
      ? `(CASE WHEN jsonb_typeof(j.v) = 'number' THEN (j.v #>> '{}')::numeric END) ${sqlOperator(operator)} ${this.param(value.number!)}`
      : `jsonb_typeof(j.v) NOT IN ('object', 'array') AND ${this.text("(j.v #>> '{}')", operator, value)}`;
    return `EXISTS (SELECT 1 FROM jsonb_path_query(${this.table}.body::jsonb, ${pathParameter}::jsonpath) AS j(v) WHERE ${condition})`;
  }
}

function and(left: Predicate, right: Predicate): Predicate {
  if (left === false || right === false) return false;
  if (left === true) return right;
  if (right === true) return left;
  return `(${left} AND ${right})`;
}

function or(left: Predicate, right: Predicate): Predicate {
  if (left === true || right === true) return true;
  if (left === false) return right;
  if (right === false) return left;
  return `(${left} OR ${right})`;
}

function not(operand: Predicate): Predicate {
  if (typeof operand === "boolean") return !operand;
  return `NOT (${operand})`;
}

function sqlOperator(operator: string): string {
  return operator === ":" ? "=" : operator;
}

function hasWildcard(text: string): boolean {
  return /[*?]/.test(text);
}

// Escapes LIKE's own wildcards (% and _) and the escape character.
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

// Turns a glob (* any run, ? one character) into a LIKE pattern.
export function globToLike(glob: string): string {
  return escapeLike(glob).replace(/\*/g, "%").replace(/\?/g, "_");
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}
