// The correlator's configuration file: YAML with the same settings as the
// command-line options, which override it. deploy/correlator.example.yaml
// shows every key.
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { lineOf, parseYaml, schemaError, type YamlPath } from "../../agent/src/config/yaml-errors.js";

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

// An error in the configuration file, with the file and, where known, the
// 1-based line and the dotted key (retention.days). The CLI prints it and
// exits 1, as it does for the agent's configuration errors.
export class ConfigError extends Error {
  readonly code: string;
  constructor(message: string, code: string, readonly file: string, readonly line?: number, readonly key?: string) {
    super(message);
    this.name = "ConfigError";
    this.code = code;
  }
}

// The fix that ends the message of every value the schema rejects.
const FIX = "see deploy/correlator.example.yaml for every key, its type and an example";

// verbose gives each error the value and the schema that rejected it.
const validate = new Ajv2020({ allErrors: false, verbose: true }).compile(CONFIG_SCHEMA);

// A loaded configuration file.
export interface CorrelatorConfigFile {
  path: string;
  values: CorrelatorFileConfig;
  // Builds the error for a value of `key` (dotted, such as retention.days)
  // that a later check rejects, on the line of that key. `problem` states
  // the value and the fix.
  invalid(key: string, problem: string): ConfigError;
}

// Reads and checks a configuration file. Throws ConfigError naming the file,
// the line, the key, the value found and the fix.
export function readCorrelatorConfig(path: string): CorrelatorConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`cannot read correlator configuration ${path}: ${reason}; check the path given to --config`, "config.unreadable", path);
  }
  const { document, lines, syntaxError, value } = parseYaml(text);
  if (syntaxError) {
    throw new ConfigError(`${path} line ${syntaxError.line}: invalid YAML: ${syntaxError.message}`, "config.invalid_yaml", path, syntaxError.line);
  }
  const invalid = (key: string, problem: string): ConfigError => {
    const line = lineOf(document, lines, key.split("."));
    return new ConfigError(`${path} line ${line}: ${key}: ${problem}`, "config.value_invalid", path, line, key);
  };
  if (value === null || value === undefined) return { path, values: {}, invalid };
  if (!validate(value)) {
    throw schemaError(path, document, lines, validate.errors?.[0], {
      prefix: "config", subject: "the configuration", expectation,
      create: (code, message, file, line, key) => new ConfigError(`${message}; ${FIX}`, code, file, line, key),
    });
  }
  return { path, values: value as CorrelatorFileConfig, invalid };
}

// Reads and checks a configuration file and returns its values.
export function loadCorrelatorConfig(path: string): CorrelatorFileConfig {
  return readCorrelatorConfig(path).values;
}

const TYPE_NAMES: Record<string, string> = { integer: "a whole number", string: "a string", array: "a list", object: "a map of keys" };

// Describes in words what a value of the key must be, in place of Ajv's message.
function expectation(error: ErrorObject, path: YamlPath): string | undefined {
  const schema = error.parentSchema as { minimum?: number; maximum?: number } | undefined;
  switch (error.keyword) {
    case "type": {
      const type = String((error.params as { type: string }).type);
      const example = exampleOf(path);
      return `must be ${TYPE_NAMES[type] ?? type}${example ? `, for example ${example}` : ""}`;
    }
    case "minimum":
    case "maximum":
      if (schema?.minimum !== undefined && schema.maximum !== undefined) return `must be from ${schema.minimum} to ${schema.maximum}`;
      return schema?.minimum !== undefined ? `must be at least ${schema.minimum}` : undefined;
    case "pattern":
      return "must not be empty or contain /, +, # or $ (it becomes an MQTT topic level)";
    case "minLength":
      return "must not be empty";
    default:
      return undefined;
  }
}

// The key with a value from deploy/correlator.example.yaml, for the keys
// whose values are numbers or lists.
function exampleOf(path: YamlPath): string | undefined {
  const examples: Record<string, string> = {
    window_minutes: "window_minutes: 240",
    min_incident_score: "min_incident_score: 40",
    "retention.days": "days: 180",
    "retention.max_mb": "max_mb: 4096",
    critical_hosts: "critical_hosts: [10.10.2.10, hmi01]",
  };
  return examples[path.join(".")];
}
