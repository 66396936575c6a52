// The fields a query can name, and where each one lives for alerts and for
// records: a column of the store's table, a path inside the stored JSON body,
// or a constant (the kind of row). A field that one kind lacks never matches
// rows of that kind.

// "address" is text that also takes IPv4 CIDR blocks (10.10.0.0/16).
export type FieldType = "text" | "number" | "time" | "address";

export type Target =
  | { source: "column"; column: string }
  | { source: "json"; path: string[] }
  | { source: "any"; targets: Target[] }
  | { source: "constant"; value: string };

export interface FieldRef {
  // The name as written in the query.
  name: string;
  type: FieldType;
  // True for paths inside the JSON body, whose values may be text or numbers.
  json: boolean;
  alert?: Target;
  record?: Target;
  example(operator: string): string;
}

interface FieldSpec {
  type: FieldType;
  alert?: Target;
  record?: Target;
  sample: string;
}

const column = (name: string): Target => ({ source: "column", column: name });
const json = (...path: string[]): Target => ({ source: "json", path });

const FIELDS: Record<string, FieldSpec> = {
  time: { type: "time", alert: column("ts_ms"), record: column("ts_ms"), sample: "2026-11-01" },
  score: { type: "number", alert: column("score"), sample: "70" },
  site: { type: "text", alert: column("site"), record: column("site"), sample: "plant-a" },
  gateway: { type: "text", alert: column("gateway"), record: column("gateway"), sample: "gw-1" },
  "src.ip": { type: "address", alert: column("src_ip"), record: column("src_ip"), sample: "10.10.0.55" },
  "dst.ip": { type: "address", alert: column("dst_ip"), record: column("dst_ip"), sample: "10.10.1.20" },
  ip: {
    type: "address",
    alert: { source: "any", targets: [column("src_ip"), column("dst_ip")] },
    record: { source: "any", targets: [column("src_ip"), column("dst_ip")] },
    sample: "10.10.1.20",
  },
  "src.port": { type: "number", alert: json("src", "port"), record: json("src", "port"), sample: "50112" },
  "dst.port": { type: "number", alert: json("dst", "port"), record: json("dst", "port"), sample: "445" },
  port: {
    type: "number",
    alert: { source: "any", targets: [json("src", "port"), json("dst", "port")] },
    record: { source: "any", targets: [json("src", "port"), json("dst", "port")] },
    sample: "502",
  },
  // An alert's type is the type of the record that fired it.
  type: { type: "text", alert: json("record"), record: column("type"), sample: "smb" },
  kind: { type: "text", alert: { source: "constant", value: "alert" }, record: { source: "constant", value: "record" }, sample: "alert" },
  id: { type: "text", alert: column("id"), record: column("key"), sample: "3f2a..." },
  model: { type: "text", alert: column("model"), sample: "remote-service-svcctl" },
  name: { type: "text", alert: json("name"), sample: '"Remote service created over svcctl"' },
  account: { type: "text", alert: json("account"), record: json("account"), sample: "PLANT\\m.keller" },
  mitre: { type: "text", alert: json("mitre"), sample: "T1569.002" },
  incident: { type: "number", alert: column("incident_id"), sample: "3" },
};

const ALIASES: Record<string, string> = {
  ts: "time", src: "src.ip", dst: "dst.ip", host: "ip", protocol: "type", technique: "mitre",
};

// Names accepted by resolveField, for messages and docs.
export const FIELD_NAMES = [...Object.keys(FIELDS), ...Object.keys(ALIASES)].sort();

// Prefixes of paths into the JSON body: record.PATH and alert.PATH read
// that kind's body, evidence.PATH an alert's evidence.
const PATH_PREFIXES = ["record", "alert", "evidence"];
const PATH_SEGMENT = /^[A-Za-z0-9_]+$/;

// Looks a field name up; `fail` builds the error for an unknown or invalid name.
export function resolveField(name: string, fail: (reason: string) => Error): FieldRef {
  const key = ALIASES[name.toLowerCase()] ?? name.toLowerCase();
  const spec = FIELDS[key];
  if (spec) {
    return { name, type: spec.type, json: false, alert: spec.alert, record: spec.record, example: (op) => `${name}${op}${spec.sample}` };
  }
  const [prefix, ...path] = name.split(".");
  if (PATH_PREFIXES.includes(prefix.toLowerCase())) {
    const bad = path.find((segment) => !PATH_SEGMENT.test(segment));
    if (path.length === 0 || bad !== undefined) {
      throw fail(`invalid field path "${name}": after "${prefix}." give the JSON field names separated by dots (letters, digits, _), such as ${prefix}.share`);
    }
    const ref: FieldRef = { name, type: "text", json: true, example: (op) => `${name}${op}value` };
    const lower = prefix.toLowerCase();
    if (lower === "record") ref.record = json(...path);
    else if (lower === "alert") ref.alert = json(...path);
    else ref.alert = json("evidence", ...path);
    return ref;
  }
  const suggestion = closestName(name.toLowerCase());
  const hint = suggestion ? `did you mean ${suggestion}? ` : "";
  throw fail(
    `unknown field "${name}"; ${hint}fields are ${FIELD_NAMES.join(", ")}, or record.PATH, alert.PATH and evidence.PATH for a field inside the JSON` +
    ` (quote the text, as in "${name}:", to search it as words)`,
  );
}

// The known name within an edit distance of 2, if any.
function closestName(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of FIELD_NAMES) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
