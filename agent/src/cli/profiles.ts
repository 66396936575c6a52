// `fieldsense profiles list|validate|match`: the firmware profiles, their
// validation, and which devices of a capture (or of the running agent's
// inventory) they apply to.
import { loadAgentConfig, DEFAULT_CONTROL_SOCKET } from "../config/agent-config.js";
import { getJson } from "../control/client.js";
import type { InventorySnapshot } from "../inventory/ot-inventory.js";
import { readActiveIdentities, type ActiveIdentity } from "../inventory/session.js";
import { bindProfiles } from "../profiles/bindings.js";
import { loadProfiles, packageProfilesDir, ProfileError, type Profile } from "../profiles/profiles.js";
import { captureFiles, paint, parseCommand, table, UsageError, useColour, type Output } from "./args.js";
import { PROFILES_HELP } from "./help.js";



export async function profilesCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("profiles", argv, {
    profiles: { type: "string", multiple: true },
    capture: { type: "string", multiple: true },
    identities: { type: "string" },
    socket: { type: "string" },
    config: { type: "string" },
    models: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) {
    output.stdout(PROFILES_HELP);
    return 0;
  }
  const [action, ...rest] = positionals;
  const targets = (values.profiles as string[] | undefined) ?? [packageProfilesDir];
  switch (action) {
    case "list": {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}" for "fieldsense profiles list"; give profile folders with --profiles`);
      return listProfiles(loadProfiles(targets), values.json === true, output);
    }
    case "validate":
      return validateProfiles(rest.length > 0 ? rest : targets, values.json === true, output);
    case "match": {
      const captures = captureFiles(values.capture, rest);
      if (captures === undefined && rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}" for "fieldsense profiles match"; give captures with --capture FILE`);
      const profiles = loadProfiles(targets);
      if (captures !== undefined) {
        const identities = typeof values.identities === "string" ? readActiveIdentities(values.identities) : [];
        return matchCapture(profiles, captures, values.models as string | undefined, identities, values.json === true, output);
      }
      const socket = typeof values.socket === "string" ? values.socket
        : process.env.FIELDSENSE_SOCKET ?? (typeof values.config === "string" ? loadAgentConfig(values.config).controlSocket : DEFAULT_CONTROL_SOCKET);
      const snapshot = await getJson<InventorySnapshot>(socket, "/v1/inventory");
      return printMatches(profiles, snapshot, values.json === true, output);
    }
    case undefined:
      throw new UsageError('missing action for "fieldsense profiles"; use list, validate [FILES] or match --capture FILE');
    default:
      throw new UsageError(`unknown action "${action}" for "fieldsense profiles"; actions are list, validate and match`);
  }
}

function listProfiles(profiles: Profile[], json: boolean, output: Output): number {
  if (json) {
    for (const p of profiles) output.stdout(JSON.stringify({ ...p.spec, file: p.file }) + "\n");
    return 0;
  }
  const rows = profiles.map(({ spec }) => {
    const identity = (spec.match.identity ?? []).map((i) => [i.vendor_name, (i.product_code ?? []).join("|")].filter(Boolean).join(" ")).join("; ");
    const writable = Object.values(spec.registers ?? {}).reduce((n, s) => n + ((s as { writable?: unknown[] }).writable?.length ?? 0), 0);
    const advisories = (spec.vulnerable_revisions ?? []).flatMap((v) => v.advisories);
    return [
      spec.id,
      identity || "-",
      (spec.match.addresses ?? []).join(",") || "-",
      spec.function_codes?.join(",") ?? "-",
      String(writable),
      String(spec.expected_masters?.length ?? 0),
      advisories.join(",") || "-",
    ];
  });
  output.stdout(table(["profile", "identity", "addresses", "function codes", "writable ranges", "masters", "advisories"], rows, useColour(output.stdoutIsTTY)));
  return 0;
}

function validateProfiles(targets: string[], json: boolean, output: Output): number {
  try {
    const profiles = loadProfiles(targets);
    if (json) output.stdout(JSON.stringify({ valid: true, profiles: profiles.map((p) => ({ id: p.spec.id, file: p.file })) }) + "\n");
    else output.stdout(`${profiles.length} firmware ${profiles.length === 1 ? "profile" : "profiles"} valid: ${profiles.map((p) => p.spec.id).join(", ")}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ProfileError)) throw error;
    if (json) output.stdout(JSON.stringify({ valid: false, error: { code: error.code, file: error.file, line: error.line, key: error.key, message: error.message } }) + "\n");
    else output.stderr(`fieldsense: ${error.message}\n`);
    return 1;
  }
}

async function matchCapture(
  profiles: Profile[], captures: string[], modelsDir: string | undefined, identities: ActiveIdentity[], json: boolean, output: Output,
): Promise<number> {
  const { replayWithInventory } = await import("../inventory/session.js");
  const { session, result } = await replayWithInventory(captures, profiles, { modelsDir, identities });
  for (const file of result.files) if (file.error) output.stderr(`${file.file}: ${file.error.message}\n`);
  printMatches(profiles, session.inventory.snapshot(), json, output);
  return result.files.some((f) => f.error !== undefined) ? 1 : 0;
}

function printMatches(profiles: Profile[], snapshot: InventorySnapshot, json: boolean, output: Output): number {
  const bindings = bindProfiles(profiles, snapshot.devices);
  const seen = new Set(snapshot.devices.map((d) => d.ip));
  const rows = bindings.map((b) => ({
    profile: b.profile.spec.id,
    ip: b.ip,
    unit_id: b.unitId,
    reason: b.reason,
    seen: seen.has(b.ip),
    identity: b.identity ? [b.identity.vendor_name, b.identity.product_code, b.identity.revision].filter(Boolean).join(" ") : undefined,
    advisories: b.advisories.flatMap((v) => v.advisories),
  }));
  if (json) {
    for (const row of rows) output.stdout(JSON.stringify(row) + "\n");
    return 0;
  }
  output.stdout(table(["profile", "device", "unit id", "matched by", "seen", "identity", "advisories"], rows.map((r) => [
    r.profile, r.ip, r.unit_id !== undefined ? String(r.unit_id) : "any", r.reason, r.seen ? "yes" : "no", r.identity ?? "-", r.advisories.join(", ") || "-",
  ]), useColour(output.stdoutIsTTY)));
  const unmatched = snapshot.devices.filter((d) => d.roles.includes("server") && !bindings.some((b) => b.ip === d.ip));
  if (unmatched.length > 0) output.stderr(`${unmatched.length} devices matched no profile: ${unmatched.map((d) => d.ip).join(", ")}\n`);
  return 0;
}
