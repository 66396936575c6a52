// `fieldsense models list|show ID`: the detection models in words, for an
// analyst who should not need to open the YAML files.
import { loadModelSet, ModelError, DEFAULT_LEARNING_FACTOR, DEFAULT_ESTABLISHED_REQUESTS, DEFAULT_ESTABLISHED_SECONDS, DEFAULT_LEARNING_SECONDS, DEFAULT_NEWCOMER_SETTLE_SECONDS, type ModelInfo, type ModelSet } from "../core/models.js";
import { MODELS_HELP } from "./help.js";
import { folderOption, parseCommand, UsageError, type Output } from "./args.js";

export async function modelsCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("models", argv, { models: { type: "string" }, json: { type: "boolean" } });
  if (values.help) {
    output.stdout(MODELS_HELP);
    return 0;
  }
  const [action, id, ...extra] = positionals;
  if (action !== "list" && action !== "show") {
    throw new UsageError(action === undefined
      ? 'missing action for "fieldsense models"; use "models list" or "models show ID"'
      : `unknown action "${action}" for "fieldsense models"; use "models list" or "models show ID"`);
  }
  if (action === "list" && id !== undefined) throw new UsageError(`unexpected argument "${id}" for "fieldsense models list"`);
  if (action === "show" && id === undefined) throw new UsageError('missing model ID for "fieldsense models show"; "fieldsense models list" shows the ids');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" for "fieldsense models show"`);

  let set;
  try {
    set = await loadModelSet(values.models !== undefined ? folderOption("--models", values.models, "the model .yaml files") : undefined);
    await checkAgainstCore(set);
  } catch (error) {
    if (error instanceof ModelError) {
      output.stderr(`fieldsense: ${error.message}\n`);
      return 1;
    }
    throw error;
  }

  if (action === "list") {
    if (values.json) {
      for (const m of set.models) output.stdout(`${JSON.stringify({ id: m.id, name: m.name, record: m.record, score: m.score, mitre: m.mitre })}\n`);
      return 0;
    }
    output.stdout(formatModelList(set.models));
    return 0;
  }
  const model = set.models.find((m) => m.id === id);
  if (!model) {
    output.stderr(`fieldsense: model "${id}" not found in ${set.dir}; "fieldsense models list" shows the ids\n`);
    return 1;
  }
  output.stdout(values.json ? `${JSON.stringify(model)}\n` : formatModel(model));
  return 0;
}

// Core limits for checking models only: the model table does not depend on
// them, and small pools keep the command's memory low.
const CHECK_LIMITS = { maxFlows: 64, appStateSlots: 64, reassemblyBytesTotal: 65536, streamBufferBytes: 65536 };

// Installs the models into a core, as replay and the agent do. A model they
// would reject (a field the core does not report, a value of the wrong type)
// is then reported here too, with its file and line.
async function checkAgainstCore(set: ModelSet): Promise<void> {
  // Loaded here so that usage errors never need the WebAssembly core.
  const { Core } = await import("../core/core.js");
  const core = await Core.load({ limits: CHECK_LIMITS });
  set.install(core);
}

export function formatModelList(models: ModelInfo[]): string {
  const width = Math.max(2, ...models.map((m) => m.id.length));
  const lines = [`${"ID".padEnd(width)}  SCORE  RECORD  NAME`];
  for (const m of models) lines.push(`${m.id.padEnd(width)}  ${String(m.score).padStart(5)}  ${m.record.padEnd(6)}  ${m.name}`);
  return `${lines.join("\n")}\n`;
}

const OPERATOR_WORDS: Record<string, (v: unknown) => string> = {
  equals: (v) => `is ${JSON.stringify(v)}`,
  in: (v) => `is one of ${(v as unknown[]).map((x) => JSON.stringify(x)).join(", ")}`,
  range: (v) => `is from ${(v as { min: number }).min} to ${(v as { max: number }).max}`,
  contains: (v) => `contains ${(Array.isArray(v) ? v : [v]).map((x) => JSON.stringify(x)).join(" or ")} (ignoring case)`,
  bits_any: (v) => `has any bit of 0x${Number(v).toString(16)} set`,
  bits_all: (v) => `has every bit of 0x${Number(v).toString(16)} set`,
  exists: () => "is present",
};

function describeConditions(model: ModelInfo): string[] {
  return (model.conditions ?? []).map((c) => {
    const operator = Object.keys(OPERATOR_WORDS).find((k) => k in c) ?? "exists";
    return `  - ${c.field} ${OPERATOR_WORDS[operator]((c as unknown as Record<string, unknown>)[operator])}`;
  });
}

function describeFrequency(model: ModelInfo): string {
  const f = model.frequency;
  if (!f) return "every matching record";
  const by = f.by && f.by.length > 0 ? ` with the same ${f.by.join(", ")}` : "";
  return `more than ${f.count - 1} matching records within ${f.within} s${by} (fires on the ${f.count}th, then counts again)`;
}

function describeScorer(model: ModelInfo): string[] {
  const s = model.scorer;
  const learning = s?.learning_factor ?? DEFAULT_LEARNING_FACTOR;
  if (s?.name === "modbus_master") {
    return [
      `modbus_master: fires only when the client is not the device's established master (a client with`,
      `  ${s.established_requests ?? DEFAULT_ESTABLISHED_REQUESTS} requests over ${s.established_seconds ?? DEFAULT_ESTABLISHED_SECONDS} s); while the device has no master the score is x${learning}`,
    ];
  }
  if (s?.name === "beaconing") {
    return ["beaconing: fires once per pair and service when a device seen answering Modbus requests contacts an",
      "  external address or an IT host at least 8 times with a periodicity of 80 or more out of 100"];
  }
  if (s?.name === "profile_master") {
    return ["profile_master: fires when the firmware profile that covers the device lists expected masters",
      "  and the client is not one of them; silent for devices no profile covers"];
  }
  if (s?.name === "profile_write") {
    return ["profile_write: fires when a write touches an address outside the writable ranges that the",
      "  device's firmware profile states; silent for devices no profile covers"];
  }
  if (s?.name === "profile_function") {
    return ["profile_function: fires when the function code is not among those the device's firmware",
      "  profile lists; silent for devices no profile covers"];
  }
  if (s?.name === "new_master" || s?.name === "new_device") {
    const role = s.name === "new_master" ? "sending Modbus requests" : "responding to Modbus requests";
    return [`${s.name}: fires once for a host never seen ${role}, after the baselines have`,
      `  learned for ${s.established_seconds ?? DEFAULT_NEWCOMER_SETTLE_SECONDS} s`];
  }
  if (s?.name === "ot_outbound") {
    return ["ot_outbound: fires once per host pair when a device seen responding to Modbus requests opens a",
      "  connection to an external address or to a host never seen in a Modbus role"];
  }
  if (s?.name === "login_burst") {
    return ["login_burst: one alert per burst of failed logins for the frequency's `by` keys, written at a success",
      "  after at least `count` failures within `within` seconds, or when that window ends"];
  }
  if (s?.name === "remote_access_novelty") {
    return ["remote_access_novelty: fires only when the host pair never used this service before, or at an hour",
      "  the pair and service was never seen in on 7 or more days"];
  }
  return ["none"];
}

export function formatModel(model: ModelInfo): string {
  const learning = model.scorer?.learning_factor ?? DEFAULT_LEARNING_FACTOR;
  const lines = [
    `${model.name}`,
    `id ${model.id}, watches ${model.record} records, file ${model.file}`,
    "",
    "Logic:",
    ...wrap(model.logic, 76).map((l) => `  ${l}`),
    "",
    "Fires when every condition holds:",
    ...describeConditions(model),
    `Frequency: ${describeFrequency(model)}`,
    `Scorer: ${describeScorer(model).join("\n")}`,
    "",
    `Score: base ${model.score} of 100, then the baseline factors:`,
    `  during the learning period (on a gateway, ${DEFAULT_LEARNING_SECONDS / 86400} days of packet time unless configured): x${learning}, marked learning`,
    "  hosts never seen talking: +10; this service between them never seen: +15",
    "  seen on fewer than 3 days: +5 per missing day",
    "  a daily routine at its usual hour (7 days or more): -70 % of the base",
    "  an established activity at an hour it never ran: +10",
    "Baseline context in every alert: first and last seen, times seen, days seen, usual hour, interval.",
    `ATT&CK: ${model.mitre.join(", ")}`,
  ];
  return `${lines.join("\n")}\n`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== "" && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") out.push(line);
  return out;
}
