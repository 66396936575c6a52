// The correlator's configuration file: YAML with the same settings as the
// command-line options, which override it. deploy/correlator.example.yaml
// shows every key.
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";

export interface CorrelatorFileConfig {
  broker?: string;
  db?: string;
  reports?: string;
  window_minutes?: number;
  share_group?: string;
  client_id?: string;
  min_incident_score?: number;
  critical_hosts?: string[];
  retention?: { days?: number; max_mb?: number };
}

const CONFIG_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    broker: { type: "string", minLength: 1 },
    db: { type: "string", minLength: 1 },
    reports: { type: "string", minLength: 1 },
    window_minutes: { type: "integer", minimum: 1 },
    share_group: { type: "string", pattern: "^[^/+#$]+$" },
    client_id: { type: "string", minLength: 1, maxLength: 64 },
    min_incident_score: { type: "integer", minimum: 0, maximum: 100 },
    critical_hosts: { type: "array", items: { type: "string", minLength: 1 } },
    retention: {
      type: "object",
      additionalProperties: false,
      properties: {
        days: { type: "integer", minimum: 1 },
        max_mb: { type: "integer", minimum: 1 },
      },
    },
  },
} as const;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const validate = new Ajv2020({ allErrors: false }).compile(CONFIG_SCHEMA);

// Reads and checks a configuration file. Throws ConfigError naming the file,
// the key and the fix.
export function loadCorrelatorConfig(path: string): CorrelatorFileConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read correlator configuration ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; check the path given to --config`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new ConfigError(`correlator configuration ${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (!validate(value)) {
    const error = validate.errors![0];
    const key = error.instancePath === "" ? "the top level" : error.instancePath.slice(1).replace(/\//g, ".");
    const detail = error.keyword === "additionalProperties"
      ? `unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`
      : `${key} ${error.message ?? "is invalid"}`;
    throw new ConfigError(`invalid correlator configuration ${path}: ${detail}; see deploy/correlator.example.yaml for the keys and their types`);
  }
  return value as CorrelatorFileConfig;
}
