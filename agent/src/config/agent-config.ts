// The agent's configuration: one YAML file validated against
// AGENT_CONFIG_SCHEMA, `${NAME}` references to environment variables for
// values that differ per gateway, and defaults for a gateway with 1 GB of memory.
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { isScalar, type Document, type LineCounter } from "yaml";
import { CoreConfigError, DEFAULT_LIMITS, resolveLimits, type CoreLimits } from "../core/core.js";
import { offsetScheduleOf, TimeZoneError } from "../core/timezone.js";
import { checkBrokerUrl, DEFAULT_AGENT_DATA_DIR, DEFAULT_CONTROL_SOCKET, DEFAULT_SITE, defaultGateway } from "./config.js";
import { AGENT_CONFIG_SCHEMA } from "./agent-schema.js";
import { lineOf, nodeAt, parseYaml, pathOf } from "./yaml-errors.js";
import { checkRingLimits, DEFAULT_RING_LIMITS, type RingLimits } from "../ring/ring.js";
import { compileTruncateRules } from "../ring/truncate.js";
import { DEFAULT_PCAP_RESPONSE_BYTES, DEFAULT_PCAP_CHUNK_BYTES } from "../ring/responder.js";

export interface CaptureConfig {
  interface?: string;
  // BPF expression (pcap-filter(7)); empty captures everything.
  filter: string;
  snapLength: number;
  promiscuous: boolean;
  // Kernel capture buffer in bytes.
  bufferBytes: number;
  // A batch goes to the core when it reaches batchBytes or is batchIntervalMs old.
  batchBytes: number;
  batchIntervalMs: number;
}

export interface AgentConfig {
  // The file the configuration came from, or undefined for defaults and flags.
  file?: string;
  site: string;
  gateway: string;
  capture: CaptureConfig;
  // Unprivileged user and group to switch to after the capture is open.
  user?: string;
  group?: string;
  dataDir: string;
  modelsDir?: string;
  // Firmware profile files and folders (default: the shipped profiles).
  profilePaths?: string[];
  // Opt-in active identification (FC 43/14, FC 17) of the named Modbus
  // devices only; absent means the agent never sends to a device.
  identify?: { hosts: { host: string; port: number; unitId: number }[]; intervalSec: number };
  logLevel: string;
  // undefined: an embedded MQTT broker (aedes) on 127.0.0.1, on a free port.
  brokerUrl?: string;
  // Credentials and TLS files, passed to the publisher's BrokerSettings. The
  // password itself never sits in the configuration: it comes from the
  // environment variable passwordEnv names, or the first line of passwordFile.
  broker: {
    username?: string;
    passwordEnv?: string;
    passwordFile?: string;
    caFile?: string;
    certFile?: string;
    keyFile?: string;
    allowPlaintextCredentials?: boolean;
    // Size cap of the durable alert outbox; undefined keeps the publisher's default.
    outboxMaxBytes?: number;
  };
  controlSocket: string;
  store: { alerts: number; assets: number; files: number };
  snapshotIntervalSec: number;
  // Time zone of the baselines' hour-of-day profile (BaselineOptions.timeZone).
  baselines: { timeZone: string };
  limits: Required<CoreLimits>;
  // The packet ring (agent/src/ring/): on by default, in DATA_DIR/ring unless dir is set.
  ring: { enabled: boolean; dir?: string; limits: RingLimits };
  // Who may ask this gateway for packets over MQTT (none by default), and the
  // size of one answer and of its chunks.
  pcapRequests: { requesters: string[]; maxBytes: number; chunkBytes: number };
}

export { DEFAULT_AGENT_DATA_DIR, DEFAULT_CONTROL_SOCKET };

// Defaults for a 1 GB gateway: the core's own limits (DEFAULT_LIMITS), a 16 MiB
// kernel buffer (resident from the start, as a 32 MiB ring that libpcap maps
// into the process), batches of up to 256 KiB or 200 ms, and bounded local
// stores of alerts, assets and files for the CLI.
// The configuration key of each core limit.
const CORE_LIMIT_KEYS: Record<keyof CoreLimits, string> = {
  maxFlows: "max_flows",
  appStateSlots: "app_state_slots",
  streamBufferBytes: "stream_buffer_bytes",
  reassemblyBytesTotal: "reassembly_bytes_total",
  eventBufferBytes: "event_buffer_bytes",
  flowIdleTimeoutSec: "flow_idle_timeout_s",
};

// Runs the core's own checks of its limits (ranges, and the memory they need
// together), so that a file this accepts is one the agent starts with. The
// error names the configuration keys, not the core's names for them.
function checkCoreLimits(limits: Required<CoreLimits>, file: string, document: Document, lines: LineCounter): void {
  try {
    resolveLimits(limits);
  } catch (error) {
    if (!(error instanceof CoreConfigError)) throw error;
    let message = error.message.replace(/ \(limits \{.*\}\)$/, "");
    for (const [name, key] of Object.entries(CORE_LIMIT_KEYS)) message = message.replaceAll(name, `core.${key}`);
    const key = error.limit !== undefined ? `core.${CORE_LIMIT_KEYS[error.limit]}` : "core";
    const line = lineOf(document, lines, key.split("."));
    throw new ConfigError(`${file} line ${line}: ${message}`, file, line, key);
  }
}

export function defaultAgentConfig(): AgentConfig {
  return {
    site: DEFAULT_SITE,
    gateway: defaultGateway(),
    capture: {
      filter: "",
      snapLength: 65535,
      promiscuous: true,
      bufferBytes: 16 * 1024 * 1024,
      batchBytes: 256 * 1024,
      batchIntervalMs: 200,
    },
    dataDir: DEFAULT_AGENT_DATA_DIR,
    logLevel: "info",
    broker: {},
    controlSocket: DEFAULT_CONTROL_SOCKET,
    store: { alerts: 10_000, assets: 10_000, files: 10_000 },
    snapshotIntervalSec: 300,
    baselines: { timeZone: "UTC" },
    limits: { ...DEFAULT_LIMITS },
    ring: { enabled: true, limits: { ...DEFAULT_RING_LIMITS } },
    pcapRequests: { requesters: [], maxBytes: DEFAULT_PCAP_RESPONSE_BYTES, chunkBytes: DEFAULT_PCAP_CHUNK_BYTES },
  };
}

export class ConfigError extends Error {
  readonly code = "FIELDSENSE_CONFIG_INVALID";
  constructor(message: string, readonly file?: string, readonly line?: number, readonly key?: string) {
    super(message);
    this.name = "ConfigError";
  }
}

// The YAML keys as written in the file (snake_case), after validation.
interface ConfigFile {
  site?: string;
  gateway?: string;
  capture?: {
    interface?: string; filter?: string; snap_length?: number; promiscuous?: boolean;
    buffer_bytes?: number; batch_bytes?: number; batch_interval_ms?: number;
  };
  user?: string;
  group?: string;
  data_dir?: string;
  models_dir?: string;
  profiles?: string[];
  identify?: { hosts: string[]; unit_id?: number; interval_h?: number };
  log_level?: string;
  broker?: {
    url?: string; username?: string; password_env?: string; password_file?: string; ca_file?: string;
    cert_file?: string; key_file?: string; allow_plaintext_credentials?: boolean; outbox_max_bytes?: number;
  };
  control?: { socket?: string };
  store?: { alerts?: number; assets?: number; files?: number };
  snapshot_interval_s?: number;
  baselines?: { timezone?: string };
  ring?: { enabled?: boolean; dir?: string; max_bytes?: number; max_age_s?: number; segment_bytes?: number; truncate?: { host?: string; port?: number }[] };
  pcap_requests?: { requesters?: string[]; max_bytes?: number; chunk_bytes?: number };
  core?: {
    max_flows?: number; app_state_slots?: number; stream_buffer_bytes?: number;
    reassembly_bytes_total?: number; event_buffer_bytes?: number; flow_idle_timeout_s?: number;
  };
}

let validator: ReturnType<Ajv2020["compile"]> | undefined;

function validateSchema(value: unknown): ErrorObject[] {
  validator ??= new Ajv2020({ allErrors: false, strict: true }).compile(AGENT_CONFIG_SCHEMA);
  return validator(value) ? [] : [...(validator.errors ?? [])];
}

// Reads, validates and resolves the configuration file at `path`. Relative
// paths inside the file are taken relative to the working directory.
export function loadAgentConfig(path: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${path}: ${readProblem(error)}`, path);
  }
  return parseAgentConfig(path, text, env);
}

// Plain words for the two ways the yaml package gives up on a hostile or
// broken document: aliases that expand past its alias count limit (a "billion
// laughs" file), and nesting deep enough to overflow the call stack.

// The reason a configuration file could not be read, and the fix. Both the
// agent (--config FILE) and "config check FILE" name the file, so the fix
// does not name an option.
function readProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT": return "not found (ENOENT); check the path";
    case "EISDIR": return "it is a folder, not a file (EISDIR); give the path of the YAML file, such as /etc/fieldsense/agent.yaml";
    case "EACCES": return "permission denied (EACCES); run as a user that may read it, or change its mode";
    default: return `${(error as Error).message}; check the path`;
  }
}

// Broker files that the agent opens when it connects. Their absence shows
// only then, so "config check" looks for them before the service starts.
const BROKER_FILE_KEYS = ["ca_file", "cert_file", "key_file", "password_file"] as const;

// Checks that each broker file named in the configuration at `path` exists
// and is a readable regular file, and returns an error naming the key and line
// for the first that is not. `config` is the result of loadAgentConfig(path).
export function checkBrokerFiles(path: string, config: AgentConfig): ConfigError | undefined {
  const resolved: Record<(typeof BROKER_FILE_KEYS)[number], string | undefined> = {
    ca_file: config.broker.caFile, cert_file: config.broker.certFile, key_file: config.broker.keyFile, password_file: config.broker.passwordFile,
  };
  let parsed: { document: Document; lines: LineCounter } | undefined;
  for (const key of BROKER_FILE_KEYS) {
    const file = resolved[key];
    if (file === undefined) continue;
    let problem: string | undefined;
    try {
      const stats = statSync(file);
      if (!stats.isFile()) problem = "is not a regular file";
      else accessSync(file, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problem = code === "ENOENT" || code === "ENOTDIR" ? "not found" : code === "EACCES" ? "cannot be read by this user (EACCES)" : `cannot be read (${code ?? (error as Error).message})`;
    }
    if (problem === undefined) continue;
    parsed ??= parseYaml(readFileSync(path, "utf8"));
    const line = lineOf(parsed.document, parsed.lines, ["broker", key]);
    return new ConfigError(`${path} line ${line}: broker.${key}: ${file} ${problem}; give the path of an existing file that the agent's user may read`, path, line, `broker.${key}`);
  }
  return undefined;
}

export function parseAgentConfig(file: string, text: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const { document, lines, syntaxError, value: parsedValue } = parseYaml(text);
  if (syntaxError) {
    throw new ConfigError(`${file} line ${syntaxError.line}: invalid YAML: ${syntaxError.message}`, file, syntaxError.line);
  }
  const value = parsedValue ?? {};
  for (const error of validateSchema(value)) {
    throw schemaError(file, document, lines, error);
  }
  const parsed = substituteEnvironment(file, document, lines, value, [], env) as ConfigFile;
  return resolveConfig(file, parsed, document, lines);
}

function resolveConfig(file: string, parsed: ConfigFile, document: Document, lines: LineCounter): AgentConfig {
  const config = defaultAgentConfig();
  config.file = file;
  if (parsed.site !== undefined) config.site = parsed.site;
  if (parsed.gateway !== undefined) config.gateway = parsed.gateway;
  const capture = parsed.capture ?? {};
  config.capture = {
    interface: capture.interface,
    filter: capture.filter ?? config.capture.filter,
    snapLength: capture.snap_length ?? config.capture.snapLength,
    promiscuous: capture.promiscuous ?? config.capture.promiscuous,
    bufferBytes: capture.buffer_bytes ?? config.capture.bufferBytes,
    batchBytes: capture.batch_bytes ?? config.capture.batchBytes,
    batchIntervalMs: capture.batch_interval_ms ?? config.capture.batchIntervalMs,
  };
  config.user = parsed.user;
  config.group = parsed.group;
  if (parsed.data_dir !== undefined) config.dataDir = resolve(parsed.data_dir);
  if (parsed.models_dir !== undefined) config.modelsDir = resolve(parsed.models_dir);
  if (parsed.profiles !== undefined) config.profilePaths = parsed.profiles.map((path) => resolve(path));
  if (parsed.identify !== undefined) {
    config.identify = {
      hosts: parsed.identify.hosts.map((text) => parseIdentifyHost(text, parsed.identify!.unit_id ?? DEFAULT_IDENTIFY_UNIT_ID)),
      intervalSec: (parsed.identify.interval_h ?? DEFAULT_IDENTIFY_INTERVAL_H) * 3600,
    };
  }
  if (parsed.log_level !== undefined) config.logLevel = parsed.log_level;
  if (parsed.broker?.url !== undefined) {
    const problem = checkBrokerUrl(parsed.broker.url);
    if (problem) {
      const line = lineOf(document, lines, ["broker", "url"]);
      throw new ConfigError(`${file} line ${line}: broker.url: ${problem}`, file, line, "broker.url");
    }
    config.brokerUrl = parsed.broker.url;
  }
  const broker = parsed.broker ?? {};
  if (broker.password_env !== undefined && broker.password_file !== undefined) {
    const line = lineOf(document, lines, ["broker", "password_file"]);
    throw new ConfigError(`${file} line ${line}: broker.password_file and broker.password_env are both set; keep one of them`, file, line, "broker.password_file");
  }
  config.broker = {
    username: broker.username,
    passwordEnv: broker.password_env,
    passwordFile: broker.password_file !== undefined ? resolve(broker.password_file) : undefined,
    caFile: broker.ca_file !== undefined ? resolve(broker.ca_file) : undefined,
    certFile: broker.cert_file !== undefined ? resolve(broker.cert_file) : undefined,
    keyFile: broker.key_file !== undefined ? resolve(broker.key_file) : undefined,
    allowPlaintextCredentials: broker.allow_plaintext_credentials,
    outboxMaxBytes: broker.outbox_max_bytes,
  };
  if (parsed.control?.socket !== undefined) config.controlSocket = resolve(parsed.control.socket);
  config.store = { ...config.store, ...parsed.store };
  if (parsed.snapshot_interval_s !== undefined) config.snapshotIntervalSec = parsed.snapshot_interval_s;
  if (parsed.baselines?.timezone !== undefined) {
    try {
      offsetScheduleOf(parsed.baselines.timezone);
    } catch (error) {
      if (!(error instanceof TimeZoneError)) throw error;
      const line = lineOf(document, lines, ["baselines", "timezone"]);
      throw new ConfigError(`${file} line ${line}: baselines.timezone: ${error.message}`, file, line, "baselines.timezone");
    }
    config.baselines = { timeZone: parsed.baselines.timezone };
  }

  const core = parsed.core ?? {};
  config.limits = {
    maxFlows: core.max_flows ?? config.limits.maxFlows,
    appStateSlots: core.app_state_slots ?? config.limits.appStateSlots,
    streamBufferBytes: core.stream_buffer_bytes ?? config.limits.streamBufferBytes,
    reassemblyBytesTotal: core.reassembly_bytes_total ?? config.limits.reassemblyBytesTotal,
    eventBufferBytes: core.event_buffer_bytes ?? config.limits.eventBufferBytes,
    flowIdleTimeoutSec: core.flow_idle_timeout_s ?? config.limits.flowIdleTimeoutSec,
  };
  // Relations between keys that the schema cannot express.
  if (config.limits.appStateSlots > config.limits.maxFlows) {
    const line = lineOf(document, lines, ["core", "app_state_slots"]);
    throw new ConfigError(`${file} line ${line}: core.app_state_slots ${config.limits.appStateSlots} is above core.max_flows ${config.limits.maxFlows}; use at most max_flows slots`, file, line, "core.app_state_slots");
  }
  if (config.limits.reassemblyBytesTotal < config.limits.streamBufferBytes) {
    const line = lineOf(document, lines, ["core", "reassembly_bytes_total"]);
    throw new ConfigError(`${file} line ${line}: core.reassembly_bytes_total ${config.limits.reassemblyBytesTotal} is below core.stream_buffer_bytes ${config.limits.streamBufferBytes}; give at least one stream buffer`, file, line, "core.reassembly_bytes_total");
  }
  checkCoreLimits(config.limits, file, document, lines);
  const ring = parsed.ring ?? {};
  config.ring = {
    enabled: ring.enabled ?? config.ring.enabled,
    dir: ring.dir !== undefined ? resolve(ring.dir) : undefined,
    limits: {
      maxBytes: ring.max_bytes ?? config.ring.limits.maxBytes,
      maxAgeSeconds: ring.max_age_s ?? config.ring.limits.maxAgeSeconds,
      segmentBytes: ring.segment_bytes ?? Math.min(config.ring.limits.segmentBytes, Math.floor((ring.max_bytes ?? Infinity) / 4)),
      truncate: ring.truncate,
    },
  };
  try {
    checkRingLimits(config.ring.limits, "ring");
    compileTruncateRules(config.ring.limits.truncate ?? [], "ring.truncate");
  } catch (error) {
    const key = /truncate/.test((error as Error).message) ? "truncate" : /segment_bytes/.test((error as Error).message) ? "segment_bytes" : /max_age_s/.test((error as Error).message) ? "max_age_s" : "max_bytes";
    const line = lineOf(document, lines, ["ring", key]);
    throw new ConfigError(`${file} line ${line}: ${(error as Error).message}`, file, line, `ring.${key}`);
  }
  const pcap = parsed.pcap_requests ?? {};
  config.pcapRequests = {
    requesters: pcap.requesters ?? [],
    maxBytes: pcap.max_bytes ?? config.pcapRequests.maxBytes,
    chunkBytes: pcap.chunk_bytes ?? config.pcapRequests.chunkBytes,
  };
  if (config.group !== undefined && config.user === undefined) {
    const line = lineOf(document, lines, ["group"]);
    throw new ConfigError(`${file} line ${line}: group "${config.group}" is set without user; set user too, because the agent drops both together`, file, line, "group");
  }
  return config;
}

// Replaces `${NAME}` in string values by the environment variable NAME, so
// that values that differ per gateway (a user name, a URL) can come from the
// environment. `$${` writes a
// literal `${`. A variable that is not set is an error naming the key.
function substituteEnvironment(file: string, document: Document, lines: LineCounter, value: unknown, path: (string | number)[], env: NodeJS.ProcessEnv): unknown {
  if (typeof value === "string") {
    return value.replace(/\$?\$\{([^}]*)\}/g, (match: string, name: string) => {
      if (match.startsWith("$$")) return match.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        const line = lineOf(document, lines, path);
        throw new ConfigError(`${file} line ${line}: ${dotted(path)}: invalid environment variable reference "${match}"; write \${NAME} with letters, digits and '_'`, file, line, dotted(path));
      }
      const found = env[name];
      if (found === undefined) {
        const line = lineOf(document, lines, path);
        throw new ConfigError(`${file} line ${line}: ${dotted(path)}: environment variable ${name} is not set; export it (for systemd: an Environment= or EnvironmentFile= line)`, file, line, dotted(path));
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnvironment(file, document, lines, item, [...path, i], env));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnvironment(file, document, lines, item, [...path, key], env);
    return out;
  }
  return value;
}

function schemaError(file: string, document: Document, lines: LineCounter, error: ErrorObject): ConfigError {
  const path = pathOf(error.instancePath);
  const params = error.params as Record<string, unknown>;
  let key = dotted(path);
  let line = lineOf(document, lines, path);
  let problem: string;
  switch (error.keyword) {
    case "additionalProperties": {
      const extra = String(params.additionalProperty);
      key = dotted([...path, extra]);
      line = lineOf(document, lines, path, extra);
      const allowed = Object.keys(schemaAt(path)?.properties ?? {}).join(", ");
      problem = `unknown key; allowed keys here are ${allowed}`;
      break;
    }
    case "type":
      problem = `expected ${params.type === "object" ? "a map of keys" : String(params.type)}, found ${describe(valueAt(document, path))}`;
      break;
    case "minimum":
    case "maximum": {
      const node = schemaAt(path);
      const value = String(valueAt(document, path));
      if (node?.minimum !== undefined && node?.maximum !== undefined) {
        problem = `${value} is out of range; allowed: ${node.minimum} to ${node.maximum}${unitOf(path)}`;
      } else {
        // schemaAt does not follow every schema (array items under a $ref or
        // oneOf), so the bound comes from the validator's own parameters.
        const bound = error.keyword === "maximum" ? "at most" : "at least";
        problem = `${value} is out of range; it must be ${bound} ${String(params.limit)}${unitOf(path)}`;
      }
      break;
    }
    case "enum":
      problem = `"${String(valueAt(document, path))}" is not allowed; use one of ${(params.allowedValues as unknown[]).join(", ")}`;
      break;
    case "pattern":
      problem = path[path.length - 1] === "password_env"
        ? `"${String(valueAt(document, path))}" is not an environment variable name; use letters, digits and '_', not starting with a digit`
        : `"${String(valueAt(document, path))}" is invalid; use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit (it becomes an MQTT topic level)`;
      break;
    case "minLength":
      problem = "must not be empty";
      break;
    case "maxLength":
      problem = `is longer than ${String(params.limit)} characters`;
      break;
    default:
      problem = error.message ?? error.keyword;
  }
  const where = key === "" ? "the top level" : key;
  return new ConfigError(`${file} line ${line}: ${where}: ${problem}`, file, line, key);
}

function unitOf(path: (string | number)[]): string {
  const last = String(path[path.length - 1] ?? "");
  if (last.endsWith("_bytes") || last === "snap_length") return " bytes";
  if (last.endsWith("_ms")) return " milliseconds";
  if (last.endsWith("_s")) return " seconds";
  return "";
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return `${typeof value} ${JSON.stringify(value)}`;
}

type SchemaNode = { properties?: Record<string, SchemaNode>; minimum?: number; maximum?: number };

function schemaAt(path: (string | number)[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = AGENT_CONFIG_SCHEMA as unknown as SchemaNode;
  for (const step of path) node = node?.properties?.[String(step)];
  return node;
}

function valueAt(document: Document, path: (string | number)[]): unknown {
  const node = nodeAt(document, path);
  return isScalar(node) ? node.value : (node as { toJSON?: () => unknown } | undefined)?.toJSON?.();
}

function dotted(path: (string | number)[]): string {
  return path.map((step) => (typeof step === "number" ? `[${step}]` : step)).join(".").replace(/\.\[/g, "[");
}

// Unit id 255 addresses the device at the IP address itself (Modbus/TCP
// implementation guide); a day between identifications of one device.
const DEFAULT_IDENTIFY_UNIT_ID = 255;
const DEFAULT_IDENTIFY_INTERVAL_H = 24;

// Parses "HOST", "HOST:PORT", "HOST/UNIT" or "HOST:PORT/UNIT" of identify.hosts
// (the schema has checked the form).
function parseIdentifyHost(text: string, unitId: number): { host: string; port: number; unitId: number } {
  const [address, unit] = text.split("/");
  const colon = address.lastIndexOf(":");
  const hasPort = colon > 0 && !address.includes("::") && address.indexOf(":") === colon;
  return {
    host: hasPort ? address.slice(0, colon) : address,
    port: hasPort ? Number(address.slice(colon + 1)) : 502,
    unitId: unit !== undefined ? Number(unit) : unitId,
  };
}
