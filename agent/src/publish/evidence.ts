// The one place that maps core record fields to alert members and evidence
// names. Alert records from the core carry the model's verdict fields first
// and then a copy of every field of the record that fired the model.
import type { FieldValue } from "../core/core.js";

// Fields of an alert record that the model engine writes (the verdict and
// the baseline context, wasm-core/assembly/model-fields.ts), not the facts of
// the record that fired: they never go into the evidence.
export const VERDICT_FIELDS = new Set([
  "model_index", "score", "learning", "seen_before", "first_seen", "times_seen", "base_score", "days_seen",
  "last_seen", "usual_hour", "routine", "median_interval", "periodicity", "pair_seen_before", "pair_first_seen",
  "factor", "factor_points", "occurrences", "usual_hour_occurrences",
]);

// Record field name -> evidence name, where they differ. SMB records call the
// opened file `path`. Alerts call it `file`, so that a reader sees at once
// that a file was touched (a named pipe keeps its own `named_pipe` member).
const EVIDENCE_NAMES: Record<string, string> = {
  path: "file",
};

// Fields that become top-level alert members instead of evidence.
const TOP_LEVEL_FIELDS = new Set(["account"]);

// Evidence members shown first in the human-readable alert block, in order.
export const KEY_EVIDENCE = [
  "share", "file", "named_pipe", "interface", "opnum", "operation", "service_name", "display_name",
  "binary_path", "command", "task_name", "function", "function_code", "unit_id", "start_address",
  "quantity", "sub_function_name", "status", "destination_address", "point_index", "operation_type",
  "analog_value", "login_failures", "login_accounts", "login_succeeded", "login_result", "file_name",
];

// Splits alert-record fields into the evidence object and the account.
export function evidenceFromFields(fields: Record<string, FieldValue>): { evidence: Record<string, FieldValue>; account?: string } {
  const evidence: Record<string, FieldValue> = {};
  let account: string | undefined;
  for (const [name, value] of Object.entries(fields)) {
    if (VERDICT_FIELDS.has(name)) continue;
    if (TOP_LEVEL_FIELDS.has(name)) {
      if (typeof value === "string" && value !== "") account = value;
      continue;
    }
    evidence[EVIDENCE_NAMES[name] ?? name] = value;
  }
  if (account === undefined) account = accountFromParts(fields.domain, fields.user);
  return account === undefined ? { evidence } : { evidence, account };
}

// Joins domain and user as DOMAIN\user; a user without a domain stays alone.
function accountFromParts(domain: FieldValue | undefined, user: FieldValue | undefined): string | undefined {
  if (typeof user !== "string" || user === "") return undefined;
  if (typeof domain !== "string" || domain === "") return user;
  return `${domain}\\${user}`;
}
