// Detection models: load the YAML files of a models folder, validate them
// against models/model.schema.json, compile them into the core's binary model
// table and install it.
//
// Model table (the core reads it in wasm-core/assembly/models.ts, which
// documents the same layout), little-endian, no padding:
//
//   header (16 bytes): u32 magic "FSMT" | u16 version 1 | u16 model count |
//     u32 table length | u16 field id of the Modbus unit id (0: unused) |
//     u16 reserved
//   model (40 bytes + conditions): u32 model length | u16 record type |
//     u8 score | u8 scorer | u8 learning factor (percent) | u8 condition count |
//     u8 `by` flags | u8 `by` field count | u32 frequency count |
//     u32 frequency window (s) | u32 master requests | u32 master seconds |
//     u16 x 4 `by` field ids | u16 `distinct` field id (0: none) | u16 reserved
//   condition (8 bytes + values): u16 field id | u8 operator | u8 value count |
//     u32 condition length
//   value: u8 kind (1 integer, 2 text, 3 bool) | u8 reserved | u16 length |
//     bytes (integer: i64; text: UTF-8; bool: 1 byte)

import { offsetScheduleOf, encodeOffsetSchedule, TimeZoneError } from "./timezone.js";
import { setAlertTimeZone } from "../publish/alert.js";
import { readFileSync, readdirSync, existsSync, statSync, watch, type FSWatcher } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { LineCounter, Document } from "yaml";
import type { ErrorObject } from "ajv/dist/2020.js";
import { findPackageDir, lazySchemaValidator, lineOf, parseYaml, schemaError, tableHeaderErrors, YamlFileError, type YamlPath } from "../config/yaml-errors.js";
import { readDataFiles, readParseCache, writeParseCache } from "../config/parse-cache.js";
import { operandTypeProblem, type FieldValueTypes } from "./field-types.js";

export interface ModelInfo {
  index: number; id: string; name: string; record: string; logic: string; score: number; mitre: string[]; file: string;
  conditions: ConditionSpec[];
  frequency?: FrequencySpec;
  scorer?: ScorerSpec;
}
export interface ModelSet {
  models: ModelInfo[];
  // Folder the models were loaded from.
  dir: string;
  byIndex(i: number): ModelInfo | undefined;
  // Sizes the baselines (first install only: later calls must pass the same
  // size) and installs the model table. Baselines learned so far are kept.
  install(core: ModelHost, options?: BaselineOptions): void;
}

// Core functions that install() uses (the Core class of ./core.ts provides them).
export interface ModelHost {
  // JSON name of a field id (protocols/fields.ts), or undefined/"" when unassigned.
  fieldName(id: number): string | undefined;
  // Value types the core writes for each field id (field-types.ts); without
  // them, condition values are not checked against their field.
  readonly fieldValueTypes?: FieldValueTypes;
  // With `replayOnRestart` the Core repeats the call after it replaced a
  // trapped instance. A Core without trap recovery ignores the option.
  callWithScratch(name: string, bytes: Uint8Array, options?: { replayOnRestart?: boolean }): number;
}

// Baseline settings the host passes to the core.
export interface BaselineOptions {
  // Entries of the traffic baseline table (devices, pairs and pairs plus
  // service together), a power of two from 64 to 2^20; 224 bytes each.
  historyEntries?: number;
  // Learning period in seconds of packet time from the first record: alerts
  // in it are marked `learning` and scored down. 0 (the default of install)
  // disables it, so a replayed capture is judged with what it contains.
  learningSeconds?: number;
  // IANA time zone of the plant (such as "Europe/Berlin"): the hour-of-day
  // profile, the days seen and the routine text follow its local time,
  // daylight saving time included. Default UTC.
  timeZone?: string;
}

// 32,768 entries take 7 MiB of core memory.
export const DEFAULT_HISTORY_ENTRIES = 32768;
// Learning period that a gateway watching live traffic should pass to
// install(); the agent configuration sets it.
export const DEFAULT_LEARNING_SECONDS = 3 * 86400;
const MIN_HISTORY_ENTRIES = 64;
const MAX_HISTORY_ENTRIES = 1 << 20;

const CONFIGURE_BASELINE_ERRORS: Record<number, string> = {
  [-1]: "historyEntries must be a power of two from 64 to 1048576",
  [-2]: "the baseline table was already sized differently in this core; restart the agent to change historyEntries",
};

// One past the highest field id (FIELD_ID_LIMIT in protocols/fields.ts).
const FIELD_ID_LIMIT = 1200;
// Field ids each record type owns besides the common ones (0-99).
const RECORD_FIELD_RANGES: Record<string, [number, number]> = {
  modbus: [100, 199], smb: [200, 299], dcerpc: [300, 399], ntlm: [400, 449], kerberos: [450, 499],
  s7comm: [600, 699], dnp3: [700, 799], enip: [800, 899],
  http: [900, 949], ftp: [950, 979], telnet: [980, 989], vnc: [990, 999], rdp: [1000, 1019], ssh: [1020, 1039],
  file: [1100, 1149], conn: [1150, 1199],
};

// Field name -> ids, as the core names them.
export type FieldIds = Map<string, number[]>;

export function fieldIdsOf(core: Pick<ModelHost, "fieldName">): FieldIds {
  const ids: FieldIds = new Map();
  for (let id = 1; id < FIELD_ID_LIMIT; id++) {
    const name = core.fieldName(id);
    if (!name) continue;
    const list = ids.get(name);
    if (list) list.push(id);
    else ids.set(name, [id]);
  }
  return ids;
}

// Picks the id of `name` for a record type: the record type's own range
// first, because several protocols use the same name (command, status,
// named_pipe), then the common range (0-99).
function idForRecord(ids: FieldIds, record: string, name: string): number | undefined {
  const candidates = ids.get(name);
  if (!candidates) return undefined;
  const [low, high] = RECORD_FIELD_RANGES[record] ?? [0, -1];
  return candidates.find((id) => id >= low && id <= high) ?? candidates.find((id) => id < 100);
}

// Record types whose own range contains a field named `name`.
function recordsWithField(ids: FieldIds, name: string): string[] {
  const candidates = ids.get(name) ?? [];
  return Object.entries(RECORD_FIELD_RANGES)
    .filter(([, [low, high]]) => candidates.some((id) => id >= low && id <= high))
    .map(([record]) => record);
}

export class ModelError extends YamlFileError {
  constructor(code: string, message: string, file: string, line?: number, key?: string) {
    super(code, message, file, line, key);
    this.name = "ModelError";
  }
}

// Layout constants shared with wasm-core/assembly/models.ts.
const TABLE_MAGIC = 0x544d5346;
const TABLE_VERSION = 2;
export const MODEL_TABLE_MAX_BYTES = 65536;
export const MAX_MODELS = 256;
const MAX_BY_FIELDS = 4;
// Maximum length of a text value in bytes: the core keeps at most this many bytes of a field value.
const MAX_TEXT_VALUE_BYTES = 1024;

const RECORD_TYPES: Record<string, number> = {
  modbus: 1, smb: 2, dcerpc: 3, ntlm: 4, kerberos: 5, s7comm: 6, dnp3: 7, enip: 8,
  http: 9, ftp: 10, telnet: 11, vnc: 12, rdp: 13, ssh: 14, file: 15, conn: 16,
};
const SCORERS: Record<string, number> = {
  modbus_master: 1, beaconing: 2, profile_master: 3, profile_write: 4, profile_function: 5, new_device: 6, new_master: 7, ot_outbound: 8,
  after_file_write: 9, login_burst: 10, remote_access_novelty: 11,
};
// Scorers that judge Modbus requests only, so their models must watch modbus records.
const MODBUS_SCORERS = new Set(["modbus_master", "profile_master", "profile_write", "profile_function", "new_device", "new_master"]);
// Seconds the baselines learn before new_device and new_master count a newcomer.
export const DEFAULT_NEWCOMER_SETTLE_SECONDS = 3600;
// Default window of the after_file_write scorer: the write may precede the
// execution by up to 10 minutes.
export const DEFAULT_WRITE_WINDOW_SECONDS = 600;
const OPERATORS: Record<string, number> = { equals: 1, in: 2, range: 3, contains: 4, bits_any: 5, bits_all: 6, exists: 7, not_in: 8, ends_with: 9 };
const VALUE_INTEGER = 1;
const VALUE_TEXT = 2;
const VALUE_BOOL = 3;
const VALUE_ADDRESS = 4;
// Condition fields that test the record's addresses (FIELD_ID_SRC and
// FIELD_ID_DST in wasm-core/assembly/models.ts), and their operators.
const ADDRESS_FIELDS: Record<string, number> = { src: 0xfff0, dst: 0xfff1 };
const ADDRESS_OPERATORS = new Set(["equals", "in", "not_in", "exists"]);
const BY_FLAGS: Record<string, number> = { src: 1, dst: 2, src_port: 4, dst_port: 8 };

// Defaults of the modbus_master scorer.
export const DEFAULT_ESTABLISHED_REQUESTS = 10;
export const DEFAULT_ESTABLISHED_SECONDS = 5;
export const DEFAULT_LEARNING_FACTOR = 0.4;
// Field the modbus_master scorer reads the unit id from.
const MODBUS_UNIT_FIELD = "unit_id";

// Messages for the core's negative results of loadModels.
const LOAD_ERRORS: Record<number, string> = {
  ...tableHeaderErrors("model", MODEL_TABLE_MAX_BYTES, TABLE_VERSION),
  [-5]: `the table has more than ${MAX_MODELS} models`,
  [-6]: "a model runs past the end of the table",
  [-7]: "a model header holds a value out of range",
  [-8]: "a condition runs past the end of its model",
  [-9]: "a condition has an unknown operator",
  [-10]: "a condition value has the wrong kind or count",
};

type Scalar = string | number | boolean;
export interface ConditionSpec {
  field: string;
  equals?: Scalar;
  in?: Scalar[];
  range?: { min: number; max: number };
  contains?: string | string[];
  bits_any?: number;
  bits_all?: number;
  exists?: true;
  not_in?: Scalar[];
  ends_with?: string | string[];
}
interface ModelSpec {
  id: string;
  name: string;
  record: string;
  logic: string;
  score: number;
  mitre: string[];
  conditions: ConditionSpec[];
  frequency?: FrequencySpec;
  scorer?: ScorerSpec;
}
export interface FrequencySpec { count: number; within: number; by?: string[]; rule?: string; distinct?: string }
export interface ScorerSpec { name: string; established_requests?: number; established_seconds?: number; learning_factor?: number; window_seconds?: number }

// A parsed model, with its file's text to point errors at their lines.
export interface LoadedModel {
  info: ModelInfo;
  spec: ModelSpec;
  text: string;
}

const packageModelsDir = findPackageDir(import.meta.url, "models", "model.schema.json");
const schemaPath = join(packageModelsDir, "model.schema.json");
const schemaValidator = lazySchemaValidator(schemaPath);

// Loads and validates every model file (*.yaml, *.yml) of `dir`, in file name
// order; a model's index is its position in that order. The first invalid
// file stops loading with a ModelError.
export async function loadModelSet(dir: string = packageModelsDir): Promise<ModelSet> {
  return loadModelSetSync(dir);
}

// A model file is a few dozen lines; the cap keeps a stray large file (a
// capture or a log saved with .yaml) from being parsed at all. The compiled
// table has its own, tighter bound in the core.
const MAX_MODEL_FILE_BYTES = 256 * 1024;

function loadModelSetSync(dir: string): ModelSet {
  if (!existsSync(dir)) {
    throw new ModelError("model.folder_missing", `models folder ${dir} not found: pass an existing folder of model files`, dir);
  }
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) {
    throw new ModelError("model.folder_empty", `models folder ${dir} contains no .yaml model file; add one or pass the folder that contains the models`, dir);
  }
  if (files.length > MAX_MODELS) {
    throw new ModelError("model.too_many", `models folder ${dir} contains ${files.length} model files, but the core accepts at most ${MAX_MODELS}; remove or merge models`, dir);
  }

  const paths = files.map((name) => join(dir, name));
  // A file above the size limit is not read; the loop below reports it
  // after the errors of the files before it.
  const { texts, key } = readDataFiles(paths, MAX_MODEL_FILE_BYTES, schemaPath, import.meta.url);
  const cached = key === undefined ? undefined : readParseCache<ModelSpec[]>("models", dir, key);
  if (cached !== undefined && cached.length === paths.length) {
    return new LoadedModelSet(cached.map((spec, i) => ({ info: modelInfo(spec, i, paths[i]), spec, text: texts[i]! })), dir);
  }

  const loaded: LoadedModel[] = [];
  const seen = new Map<string, string>();
  for (let i = 0; i < paths.length; i++) {
    const file = paths[i];
    const text = texts[i];
    if (text === undefined) {
      const size = statSync(file).size;
      throw new ModelError("model.file_too_large", `model file ${file} is ${size} bytes, above the ${MAX_MODEL_FILE_BYTES}-byte limit for one model; a model is a few conditions, so check that the right file is in the models folder`, file);
    }
    const model = parseModelFile(file, text, loaded.length);
    const earlier = seen.get(model.info.id);
    if (earlier !== undefined) {
      throw errorAt(model, ["id"], "model.duplicate_id", `model id "${model.info.id}" is already used by ${earlier}; give each model its own id`, "id");
    }
    seen.set(model.info.id, file);
    loaded.push(model);
  }
  if (key !== undefined) writeParseCache("models", dir, key, loaded.map((model) => model.spec));
  return new LoadedModelSet(loaded, dir);
}

// Parses and validates one model file's text. Exported for tests.
export function parseModelFile(file: string, text: string, index = 0): LoadedModel {
  const { document, lines, syntaxError, value } = parseYaml(text);
  if (syntaxError) {
    throw new ModelError("model.yaml_invalid", `invalid YAML in ${file} line ${syntaxError.line}: ${syntaxError.message}`, file, syntaxError.line);
  }
  if (value === null || value === undefined) throw new ModelError("model.file_empty", `model file ${file} is empty: write a model in it (see the files in models/) or remove it`, file);
  const validate = schemaValidator();
  if (!validate(value)) {
    const error = (validate.errors ?? [])[0];
    throw schemaError(file, document, lines, error, MODEL_SCHEMA_ERRORS);
  }
  const spec = value as ModelSpec;
  checkConditions(file, document, lines, spec);
  if (spec.frequency) spec.frequency = normalizeFrequency(file, document, lines, spec.frequency);
  return { info: modelInfo(spec, index, file), spec, text };
}

function modelInfo(spec: ModelSpec, index: number, file: string): ModelInfo {
  return {
    index, id: spec.id, name: spec.name, record: spec.record, logic: spec.logic.trim(),
    score: spec.score, mitre: [...spec.mitre], file,
    conditions: spec.conditions, frequency: spec.frequency, scorer: spec.scorer,
  };
}

// Checks what the schema does not: one operator per condition, integers that
// survive as JSON numbers (doubles, exact to 2^53) and ordered ranges.
function checkConditions(file: string, document: Document, lines: LineCounter, spec: ModelSpec): void {
  spec.conditions.forEach((c, i) => {
    const operators = Object.keys(OPERATORS).filter((k) => k in c);
    if (operators.length !== 1) {
      const line = lineOf(document, lines, ["conditions", i]);
      const found = operators.length === 0 ? "none" : operators.join(", ");
      throw new ModelError("model.condition_invalid", `${file} line ${line}: conditions[${i}] needs exactly one operator (${Object.keys(OPERATORS).join(", ")}); found ${found}`, file, line, operators[1] ?? "field");
    }
    const numbers: [string, unknown][] = [
      ["equals", c.equals], ["bits_any", c.bits_any], ["bits_all", c.bits_all],
      ["range", c.range?.min], ["range", c.range?.max], ...(c.in ?? []).map((v): [string, unknown] => ["in", v]),
      ...(c.not_in ?? []).map((v): [string, unknown] => ["not_in", v]),
    ];
    for (const [key, v] of numbers) {
      if (typeof v === "number" && !Number.isSafeInteger(v)) {
        const line = lineOf(document, lines, ["conditions", i, key]);
        throw new ModelError("model.value_invalid", `${file} line ${line}: conditions[${i}].${key} value ${v} is not an integer within ±2^53; write a smaller integer`, file, line, key);
      }
    }
    if (c.range && c.range.min > c.range.max) {
      const line = lineOf(document, lines, ["conditions", i, "range"]);
      throw new ModelError("model.value_invalid", `${file} line ${line}: conditions[${i}].range has min ${c.range.min} above max ${c.range.max}; swap them`, file, line, "range");
    }
  });
}

const RULE_UNIT_SECONDS: Record<string, number> = { s: 1, min: 60, h: 3600, d: 86400 };
const MAX_FREQUENCY_COUNT = 32;
const MAX_FREQUENCY_WITHIN = 31536000;

// Turns `rule: "> N in W unit"` into count N + 1 within W seconds, and checks
// that a frequency has either a rule or both count and within.
function normalizeFrequency(file: string, document: Document, lines: LineCounter, frequency: FrequencySpec): FrequencySpec {
  const raw = frequency as Partial<FrequencySpec>;
  const fail = (key: string, message: string): never => {
    const line = lineOf(document, lines, ["frequency", key]);
    throw new ModelError("model.value_invalid", `${file} line ${line}: frequency.${key} ${message}`, file, line, key);
  };
  if (raw.rule === undefined) {
    if (raw.count === undefined || raw.within === undefined) {
      fail(raw.count === undefined ? "count" : "within", 'is missing: give count and within, or a rule such as "> 0 in 60 min"');
    }
    return frequency;
  }
  if (raw.count !== undefined || raw.within !== undefined) fail("rule", "cannot be combined with count or within; keep one form");
  const match = /^>\s*([0-9]+)\s+in\s+([0-9]+)\s*(s|min|h|d)$/.exec(raw.rule)!;
  const count = Number(match[1]) + 1;
  const within = Number(match[2]) * RULE_UNIT_SECONDS[match[3]];
  if (count > MAX_FREQUENCY_COUNT) fail("rule", `"${raw.rule}" needs ${count} matches, but the core counts at most ${MAX_FREQUENCY_COUNT} ("> ${MAX_FREQUENCY_COUNT - 1} in ...")`);
  if (within < 1 || within > MAX_FREQUENCY_WITHIN) fail("rule", `"${raw.rule}" spans ${within} s; use 1 s to 365 d`);
  return { ...frequency, count, within };
}

// Schema error messages of model files, with clearer expectations for the
// text operators and the ATT&CK ids than Ajv's own messages.
const MODEL_SCHEMA_ERRORS = {
  create: (code: string, message: string, file: string, line?: number, key?: string) => new ModelError(code, message, file, line, key),
  prefix: "model",
  subject: "the model",
  expectation: (error: ErrorObject, path: YamlPath, lastKey: string | undefined): string | undefined => {
    if (error.keyword === "oneOf" && (lastKey === "contains" || lastKey === "ends_with")) return "must be a non-empty text or a list of non-empty texts";
    if (error.keyword === "pattern" && path[0] === "mitre") return "must be an ATT&CK technique id such as T1053.005 or T0855";
    return undefined;
  },
};

function errorAt(model: LoadedModel, path: (string | number)[], code: string, message: string, key?: string): ModelError {
  // The file parsed without errors before, so it parses again.
  const { document, lines } = parseYaml(model.text);
  const line = lineOf(document, lines, path);
  return new ModelError(code, `${model.info.file} line ${line}: ${message}`, model.info.file, line, key);
}

class LoadedModelSet implements ModelSet {
  readonly models: ModelInfo[];

  constructor(private readonly loaded: LoadedModel[], readonly dir: string) {
    this.models = loaded.map((m) => m.info);
  }

  byIndex(i: number): ModelInfo | undefined {
    return this.models[i];
  }

  install(core: ModelHost, options: BaselineOptions = {}): void {
    configureBaselines(core, options);
    const table = compileModelTable(this.loaded, fieldIdsOf(core), core.fieldValueTypes);
    const keys = compileWindowKeys(this.loaded);
    const bytes = new Uint8Array(table.length + keys.length);
    bytes.set(table);
    bytes.set(keys, table.length);
    const result = core.callWithScratch("loadModels", bytes, { replayOnRestart: true });
    if (result < 0) {
      const reason = LOAD_ERRORS[result] ?? `unknown result ${result}`;
      throw new ModelError("model.table_rejected", `the core rejected the model table (${table.length} bytes): ${reason}; rebuild the core and the agent from the same version`, this.loaded[0]?.info.file ?? "");
    }
    if (result !== this.loaded.length) {
      throw new ModelError("model.table_rejected", `the core installed ${result} models of ${this.loaded.length}; rebuild the core and the agent from the same version`, this.loaded[0]?.info.file ?? "");
    }
  }
}

function configureBaselines(core: ModelHost, options: BaselineOptions): void {
  const entries = options.historyEntries ?? DEFAULT_HISTORY_ENTRIES;
  const learning = options.learningSeconds ?? 0;
  if (!Number.isInteger(entries) || entries < MIN_HISTORY_ENTRIES || entries > MAX_HISTORY_ENTRIES || (entries & (entries - 1)) !== 0) {
    throw new ModelError("model.baseline_config_invalid", `invalid historyEntries ${entries}: ${CONFIGURE_BASELINE_ERRORS[-1]}`, "");
  }
  if (!Number.isInteger(learning) || learning < 0 || learning > 0xffffffff) {
    throw new ModelError("model.baseline_config_invalid", `invalid learningSeconds ${learning}: expected whole seconds from 0 (no learning period) to 4294967295`, "");
  }
  const settings = new Uint8Array(8);
  const view = new DataView(settings.buffer);
  view.setUint32(0, entries, true);
  view.setUint32(4, learning, true);
  const result = core.callWithScratch("configureBaselines", settings, { replayOnRestart: true });
  if (result !== 0) {
    throw new ModelError("model.baseline_config_invalid", `the core rejected historyEntries ${entries}: ${CONFIGURE_BASELINE_ERRORS[result] ?? `unknown result ${result}`}`, "");
  }
  configureTimeZone(core, options.timeZone ?? "UTC");
}

function configureTimeZone(core: ModelHost, zone: string): void {
  let schedule: Uint8Array;
  try {
    schedule = encodeOffsetSchedule(offsetScheduleOf(zone));
  } catch (error) {
    if (!(error instanceof TimeZoneError)) throw error;
    throw new ModelError("model.baseline_config_invalid", error.message, "");
  }
  const result = core.callWithScratch("configureTimeZone", schedule, { replayOnRestart: true });
  if (result !== 0) {
    throw new ModelError("model.baseline_config_invalid", `the core rejected the UTC offsets of time zone "${zone}" (result ${result}); rebuild the core and the agent from the same version`, "");
  }
  setAlertTimeZone(zone);
}

export interface ReloadResult {
  // The set now installed: the new one, or the running one when the new files
  // were rejected.
  set: ModelSet;
  error?: ModelError;
}

// Loads the models of `dir` again and installs them in place of `running`,
// keeping every learned baseline. Frequency windows move to the model with
// the same id and frequency settings (windowKeyOf) and are dropped for the
// others. When a
// file is invalid, the running set stays installed and the error, with its
// file, line and key, is returned for the caller to log.
export function reloadModels(core: ModelHost, running: ModelSet, dir: string = running.dir, options: BaselineOptions = {}): ReloadResult {
  let next: ModelSet;
  try {
    next = loadModelSetSync(dir);
    next.install(core, options);
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    return { set: running, error };
  }
  return { set: next };
}

// Watches the models folder and reloads (reloadModels) after a model file
// changes, once the folder has been quiet for `settleMs` (an editor writes a
// file in several steps). `onReload` receives every result, so the caller can
// log the new set or the rejected file. Returns the watcher; close() stops it.
export function watchModels(
  core: ModelHost, running: ModelSet, onReload: (result: ReloadResult) => void,
  options: BaselineOptions & { settleMs?: number } = {},
): FSWatcher {
  const { settleMs = 200, ...baselineOptions } = options;
  let current = running;
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(running.dir, (_event, name) => {
    if (name !== null && !/\.ya?ml$/.test(String(name))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      const result = reloadModels(core, current, current.dir, baselineOptions);
      current = result.set;
      onReload(result);
    }, settleMs);
  });
  watcher.on("close", () => { if (timer) clearTimeout(timer); });
  return watcher;
}

const WINDOW_KEYS_MAGIC = 0x4b575346; // bytes "FSWK"

// Returns the window key of a model: an FNV-1a hash of its id, record and
// frequency settings, or 0 for a model without frequency. The core moves a
// model's frequency windows across a reload or a snapshot restore only to a
// model with the same key, so that a window counted under other settings is
// never read under new ones.
export function windowKeyOf(spec: Pick<ModelSpec, "id" | "record" | "frequency">): number {
  const frequency = spec.frequency;
  if (!frequency) return 0;
  const text = [spec.id, spec.record, frequency.count, frequency.within, (frequency.by ?? []).join(","), frequency.distinct ?? ""].join("\n");
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash === 0 ? 1 : hash;
}

// Compiles the window key section that follows the model table in the
// loadModels call (documented at loadModels in model-exports.ts).
export function compileWindowKeys(models: LoadedModel[]): Uint8Array {
  const w = new TableWriter();
  w.u32(WINDOW_KEYS_MAGIC);
  w.u32(models.length);
  for (const model of models) w.u32(windowKeyOf(model.spec));
  return w.result();
}

// Growable little-endian byte writer for the table.
class TableWriter {
  private bytes = new Uint8Array(1024);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(n: number): number {
    while (this.length + n > this.bytes.length) {
      const bigger = new Uint8Array(this.bytes.length * 2);
      bigger.set(this.bytes);
      this.bytes = bigger;
      this.view = new DataView(bigger.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  // reserve() may replace the buffer, so it must run before the view or the
  // array is read: `this.view.setUint8(this.reserve(1), v)` would evaluate
  // the old view first and write past its end once the table outgrows it.
  u8(v: number): void { const at = this.reserve(1); this.view.setUint8(at, v); }
  u16(v: number): void { const at = this.reserve(2); this.view.setUint16(at, v, true); }
  u32(v: number): void { const at = this.reserve(4); this.view.setUint32(at, v >>> 0, true); }
  i64(v: number): void { const at = this.reserve(8); this.view.setBigInt64(at, BigInt(v), true); }
  raw(b: Uint8Array): void { const at = this.reserve(b.length); this.bytes.set(b, at); }
  patchU32(at: number, v: number): void { this.view.setUint32(at, v >>> 0, true); }
  patchU16(at: number, v: number): void { this.view.setUint16(at, v, true); }
  result(): Uint8Array { return this.bytes.slice(0, this.length); }
}

const utf8 = new TextEncoder();

// Compiles loaded models into the core's model table. Field names resolve
// through `ids` (see fieldIdsOf); unknown names are reported at their line.
// With `valueTypes`, a condition value that its field can never hold (text
// on a numeric field, `range` on text) is an error at its line.
export function compileModelTable(models: LoadedModel[], ids: FieldIds, valueTypes?: FieldValueTypes): Uint8Array {
  const w = new TableWriter();
  w.u32(TABLE_MAGIC);
  w.u16(TABLE_VERSION);
  w.u16(models.length);
  w.u32(0); // table length, patched below
  w.u16(0); // unit id field, patched below
  w.u16(0);

  let unitField = 0;
  for (const model of models) {
    const fieldId: FieldResolver = (name) => idForRecord(ids, model.spec.record, name);
    fieldId.elsewhere = (name) => recordsWithField(ids, name);
    fieldId.valueTypes = valueTypes;
    if (model.spec.scorer?.name === "modbus_master") unitField = scorerUnitField(model, fieldId, ids);
    else if (model.spec.scorer && MODBUS_SCORERS.has(model.spec.scorer.name) && model.spec.record !== "modbus") {
      throw errorAt(model, ["scorer", "name"], "model.scorer_invalid", `scorer ${model.spec.scorer.name} judges Modbus requests, but the model watches "${model.spec.record}" records; set record: modbus`, "name");
    }
    compileModel(w, model, fieldId);
  }
  if (w.length > MODEL_TABLE_MAX_BYTES) {
    throw new ModelError("model.table_too_large", `the ${models.length} models compile to ${w.length} bytes, more than the core's ${MODEL_TABLE_MAX_BYTES}: remove models or shorten their value lists`, models[models.length - 1]?.info.file ?? "");
  }
  w.patchU32(8, w.length);
  w.patchU16(12, unitField);
  return w.result();
}

function scorerUnitField(model: LoadedModel, fieldId: FieldResolver, ids: FieldIds): number {
  if (model.spec.record !== "modbus" && model.spec.record !== "dnp3" && model.spec.record !== "enip") {
    throw errorAt(model, ["scorer", "name"], "model.scorer_invalid", `scorer modbus_master judges Modbus, DNP3 and CIP requests, but the model watches "${model.spec.record}" records; set record: modbus, dnp3 or enip`, "name");
  }
  // The table header names the Modbus unit id field. For a DNP3 request the
  // core reads the destination address instead, and a CIP request has no
  // unit (wasm-core/assembly/models.ts).
  const id = model.spec.record === "modbus" ? fieldId(MODBUS_UNIT_FIELD) : idForRecord(ids, "modbus", MODBUS_UNIT_FIELD);
  if (id === undefined) {
    throw errorAt(model, ["scorer", "name"], "model.scorer_invalid", `scorer modbus_master needs the Modbus field "${MODBUS_UNIT_FIELD}", which this core does not report; rebuild the core with the Modbus dissector`, "name");
  }
  return id;
}

// Field name -> id for one model's record type; `elsewhere` lists the other
// record types that have the name, for the error message.
type FieldResolver = ((name: string) => number | undefined) & {
  elsewhere?: (name: string) => string[];
  valueTypes?: FieldValueTypes;
};

function resolveField(model: LoadedModel, path: (string | number)[], name: string, fieldId: FieldResolver): number {
  const id = fieldId(name);
  const others = fieldId.elsewhere?.(name) ?? [];
  if (id === undefined && others.length > 0) {
    throw errorAt(model, path, "model.unknown_field", `field "${name}" belongs to ${others.join(" and ")} records, but the model watches ${model.spec.record} records; change record or the field`, "field");
  }
  if (id === undefined || id <= 0) {
    throw errorAt(model, path, "model.unknown_field", `field "${name}" is not a record field of this core; use a name from the records (protocols/*/fields.ts), such as opnum or function_code`, "field");
  }
  return id;
}

function compileModel(w: TableWriter, model: LoadedModel, fieldId: FieldResolver): void {
  const { spec } = model;
  const start = w.length;
  const scorer = spec.scorer;
  const frequency = spec.frequency;

  let byFlags = 0;
  const byFields: number[] = [];
  (frequency?.by ?? []).forEach((name, i) => {
    if (BY_FLAGS[name] !== undefined) {
      byFlags |= BY_FLAGS[name];
      return;
    }
    byFields.push(resolveField(model, ["frequency", "by", i], name, fieldId));
  });
  if (byFields.length > MAX_BY_FIELDS) {
    throw errorAt(model, ["frequency", "by"], "model.value_invalid", `frequency.by names ${byFields.length} record fields; at most ${MAX_BY_FIELDS} are allowed besides src, dst, src_port and dst_port`, "by");
  }

  if (scorer?.name === "login_burst" && !frequency) {
    throw errorAt(model, ["scorer", "name"], "model.scorer_invalid", "scorer login_burst counts failed logins within a window; add frequency with count (failures) and within (seconds)", "name");
  }

  w.u32(0); // model length, patched below
  w.u16(RECORD_TYPES[spec.record]);
  w.u8(spec.score);
  w.u8(scorer ? SCORERS[scorer.name] : 0);
  w.u8(Math.round((scorer?.learning_factor ?? DEFAULT_LEARNING_FACTOR) * 100));
  w.u8(spec.conditions.length);
  w.u8(byFlags);
  w.u8(byFields.length);
  w.u32(frequency?.count ?? 0);
  w.u32(frequency?.within ?? 0);
  w.u32(scorer?.established_requests ?? DEFAULT_ESTABLISHED_REQUESTS);
  // The same header word contains the after_file_write window, and for
  // new_device and new_master the seconds the baselines learn first.
  const novelty = scorer?.name === "new_device" || scorer?.name === "new_master";
  w.u32(scorer?.name === "after_file_write"
    ? scorer.window_seconds ?? DEFAULT_WRITE_WINDOW_SECONDS
    : scorer?.established_seconds ?? (novelty ? DEFAULT_NEWCOMER_SETTLE_SECONDS : DEFAULT_ESTABLISHED_SECONDS));
  for (let i = 0; i < MAX_BY_FIELDS; i++) w.u16(byFields[i] ?? 0);
  w.u16(frequency?.distinct ? resolveField(model, ["frequency", "distinct"], frequency.distinct, fieldId) : 0);
  w.u16(0);

  spec.conditions.forEach((condition, i) => compileCondition(w, model, i, condition, fieldId));
  w.patchU32(start, w.length - start);
}

function compileCondition(w: TableWriter, model: LoadedModel, index: number, c: ConditionSpec, fieldId: FieldResolver): void {
  const operator = Object.keys(OPERATORS).find((k) => k in c) as string;
  if (ADDRESS_FIELDS[c.field] !== undefined) {
    compileAddressCondition(w, model, index, c, operator);
    return;
  }
  const id = resolveField(model, ["conditions", index, "field"], c.field, fieldId);
  let values: Scalar[] = [];
  if (c.equals !== undefined) values = [c.equals];
  else if (c.in !== undefined) values = c.in;
  else if (c.not_in !== undefined) values = c.not_in;
  else if (c.ends_with !== undefined) values = typeof c.ends_with === "string" ? [c.ends_with] : c.ends_with;
  else if (c.range !== undefined) values = [c.range.min, c.range.max];
  else if (c.contains !== undefined) values = typeof c.contains === "string" ? [c.contains] : c.contains;
  else if (c.bits_any !== undefined) values = [c.bits_any];
  else if (c.bits_all !== undefined) values = [c.bits_all];
  const types = fieldId.valueTypes?.get(id);
  const problem = types ? operandTypeProblem(operator, values, types) : undefined;
  if (problem) {
    throw errorAt(model, ["conditions", index, operator], "model.value_type", `conditions[${index}].${operator} on ${c.field} can never hold in ${model.spec.record} records: ${problem}`, operator);
  }

  const start = w.length;
  w.u16(id);
  w.u8(OPERATORS[operator]);
  w.u8(values.length);
  w.u32(0); // condition length, patched below
  for (const v of values) {
    if (typeof v === "number") {
      w.u8(VALUE_INTEGER); w.u8(0); w.u16(8); w.i64(v);
    } else if (typeof v === "boolean") {
      w.u8(VALUE_BOOL); w.u8(0); w.u16(1); w.u8(v ? 1 : 0);
    } else {
      const bytes = utf8.encode(v);
      if (bytes.length > MAX_TEXT_VALUE_BYTES) {
        throw errorAt(model, ["conditions", index, operator], "model.value_invalid", `a text value of conditions[${index}].${operator} is ${bytes.length} bytes long; the core keeps at most ${MAX_TEXT_VALUE_BYTES} bytes of a field, so it could never match`, operator);
      }
      w.u8(VALUE_TEXT); w.u8(0); w.u16(bytes.length); w.raw(bytes);
    }
  }
  w.patchU32(start + 4, w.length - start);
}

// Compiles a condition on `src` or `dst`: each value is an IPv4 or IPv6
// address, or a prefix in CIDR notation ("10.1.0.0/16", "fd00::/8").
function compileAddressCondition(w: TableWriter, model: LoadedModel, index: number, c: ConditionSpec, operator: string): void {
  if (!ADDRESS_OPERATORS.has(operator)) {
    throw errorAt(model, ["conditions", index, operator], "model.condition_invalid", `conditions[${index}] tests the ${c.field} address with ${operator}; addresses take equals, in, not_in or exists`, operator);
  }
  let values: Scalar[] = [];
  if (c.equals !== undefined) values = [c.equals];
  else if (c.in !== undefined) values = c.in;
  else if (c.not_in !== undefined) values = c.not_in;
  const start = w.length;
  w.u16(ADDRESS_FIELDS[c.field]);
  w.u8(OPERATORS[operator]);
  w.u8(values.length);
  w.u32(0); // condition length, patched below
  values.forEach((value) => {
    const parsed = typeof value === "string" ? parseAddressPrefix(value) : undefined;
    if (!parsed) {
      throw errorAt(model, ["conditions", index, operator], "model.value_invalid", `conditions[${index}].${operator} value ${JSON.stringify(value)} is not an IP address or prefix; write "192.0.2.10", "10.1.0.0/16" or "fd00::/8"`, operator);
    }
    w.u8(VALUE_ADDRESS); w.u8(0); w.u16(18);
    w.u8(parsed.version); w.u8(parsed.prefix); w.raw(parsed.bytes);
  });
  w.patchU32(start + 4, w.length - start);
}

// Parses "a.b.c.d", an IPv6 address, either with "/bits". Returns the
// version, the prefix length (the full width without "/") and 16 bytes with
// IPv4 in the first 4, as the core's records store addresses.
export function parseAddressPrefix(text: string): { version: 4 | 6; prefix: number; bytes: Uint8Array } | undefined {
  const [address, bits, ...rest] = text.trim().split("/");
  if (rest.length > 0) return undefined;
  const found = isIP(address);
  if (found === 0) return undefined;
  const version = found === 4 ? 4 : 6;
  const width = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? width : /^[0-9]{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= width)) return undefined;

  const bytes = new Uint8Array(16);
  if (version === 4) {
    address.split(".").forEach((part, i) => { bytes[i] = Number(part); });
    return { version, prefix, bytes };
  }

  // Expand "::" and a trailing dotted IPv4 part into eight 16-bit groups.
  let groups = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (dotted) {
    const v4 = dotted[1].split(".").map(Number);
    groups = groups.slice(0, -dotted[1].length) + `${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const [head, tail] = groups.split("::");
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === undefined || tail === "" ? [] : tail.split(":");
  const parts = tail === undefined ? headParts : [...headParts, ...Array(8 - headParts.length - tailParts.length).fill("0"), ...tailParts];
  parts.forEach((part, i) => {
    const value = parseInt(part, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return { version, prefix, bytes };
}
