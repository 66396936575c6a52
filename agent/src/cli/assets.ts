// `fieldsense assets --capture FILE`: the OT asset inventory of capture
// files, and the text form of an inventory for `fieldsense assets`.
import type { InventorySnapshot, OtDevice, RegisterRange } from "../inventory/ot-inventory.js";
import type { BindingSummary } from "../inventory/session.js";

type Snapshot = InventorySnapshot & { profiles?: BindingSummary[] };

function ranges(list: RegisterRange[], access: "read" | "write"): string {
  const short: Record<string, string> = { coils: "co", discrete_inputs: "di", input_registers: "ir", holding_registers: "hr" };
  const parts = list.filter((r) => r.access === access).map((r) => `${short[r.space]} ${r.first === r.last ? r.first : `${r.first}-${r.last}`}`);
  if (parts.length <= 4) return parts.join(", ") || "-";
  return `${parts.slice(0, 4).join(", ")} +${parts.length - 4}`;
}

// The FC 17 server id, stored as hex, as quoted text when every byte is
// printable ASCII (many devices send their name there), else as the hex.
export function serverIdText(hex: string | undefined): string {
  if (hex === undefined || hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(hex)) return hex ?? "";
  const bytes = Buffer.from(hex, "hex");
  if (!bytes.every((byte) => byte >= 0x20 && byte <= 0x7e)) return hex;
  return `"${bytes.toString("latin1")}"`;
}

function identityText(device: OtDevice): string {
  const identity = device.identities[0];
  if (!identity) return "-";
  const words = [identity.vendor_name, identity.product_code ?? identity.product_name, identity.revision].filter((w) => w !== undefined);
  if (words.length === 0 && identity.server_id !== undefined) words.push(`server id ${serverIdText(identity.server_id)}`);
  const more = device.identities.length > 1 ? ` (+${device.identities.length - 1})` : "";
  return `${words.join(" ")}${more}`;
}

// Formats the inventory as tables for people: devices, then the polling
// period of each master and server pair, then the profile bindings.
export function formatInventory(snapshot: Snapshot, table: (header: string[], rows: string[][]) => string): string {
  const devices = snapshot.devices.map((d) => [
    d.ip,
    d.mac ?? "-",
    d.roles.join("+") || "-",
    d.protocols.join(",") || "-",
    d.unit_ids.join(",") || "-",
    d.function_codes.join(",") || "-",
    ranges(d.registers, "read"),
    ranges(d.registers, "write"),
    identityText(d),
    (d.profiles ?? []).join(",") || "-",
    d.first_seen,
    d.last_seen,
  ]);
  let text = table(["device", "mac", "role", "protocols", "unit ids", "function codes", "read", "written", "identity", "profiles", "first seen", "last seen"], devices);
  if (snapshot.polling.length > 0) {
    const polling = snapshot.polling.map((p) => [
      p.master, p.server, p.unit_id !== undefined ? String(p.unit_id) : "-",
      p.period_s !== undefined ? p.period_s.toFixed(3) : "-", String(p.requests), String(p.request_kinds),
    ]);
    text += "\n" + table(["master", "server", "unit id", "period (s)", "requests", "request kinds"], polling);
  }
  const advised = (snapshot.profiles ?? []).filter((p) => p.advisories.length > 0);
  if (advised.length > 0) {
    text += "\n" + table(["device", "unit id", "profile", "advisories for the reported revision"], advised.map((p) => [
      p.ip, p.unit_id !== undefined ? String(p.unit_id) : "any", p.profile, p.advisories.join(", "),
    ]));
  }
  return text;
}

// One line on stderr per table that could not keep everything.
export function droppedText(snapshot: Snapshot): string {
  const parts = Object.entries(snapshot.dropped).filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what.replace("_", " ")}`);
  return parts.length > 0 ? `not kept because an inventory table was full: ${parts.join(", ")}\n` : "";
}
