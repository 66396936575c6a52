// Bindings of firmware profiles to devices, and the core table that carries
// the checks (wasm-core/assembly/scorer-profile.ts documents the layout). A
// profile applies to a configured address (every unit id, or the one given
// after "/"), or to the device and unit id whose reported identity matches
// it.
import { isIP } from "node:net";
import type { OtDevice, Identity } from "../inventory/ot-inventory.js";
import { tableHeaderErrors } from "../config/yaml-errors.js";
import { advisoriesFor, identityMatches, parseDeviceAddress, type AddressRange, type Profile, type Vulnerability } from "./profiles.js";

export interface Binding {
  profile: Profile;
  ip: string;
  // Absent: every unit id of the address.
  unitId?: number;
  reason: "address" | "identity";
  identity?: Identity;
  advisories: Vulnerability[];
}

export function bindProfiles(profiles: Profile[], devices: OtDevice[]): Binding[] {
  const bindings: Binding[] = [];
  for (const profile of profiles) {
    for (const text of profile.spec.match.addresses ?? []) {
      const { ip, unitId } = parseDeviceAddress(text);
      const device = devices.find((d) => d.ip === ip);
      const identity = device?.identities.find((i) => unitId === undefined || i.unit_id === unitId);
      bindings.push({ profile, ip, unitId, reason: "address", identity, advisories: identity ? advisoriesFor(profile.spec, identity) : [] });
    }
    for (const device of devices) {
      for (const identity of device.identities) {
        if (!identityMatches(profile.spec, identity)) continue;
        if (bindings.some((b) => b.profile === profile && b.ip === device.ip && (b.unitId === undefined || b.unitId === identity.unit_id))) continue;
        bindings.push({ profile, ip: device.ip, unitId: identity.unit_id, reason: "identity", identity, advisories: advisoriesFor(profile.spec, identity) });
      }
    }
  }
  return bindings;
}

// Layout constants shared with wasm-core/assembly/scorer-profile.ts.
const PROFILE_TABLE_MAGIC = 0x54505346;
const PROFILE_TABLE_VERSION = 1;
const HEADER_BYTES = 16;
const DEVICE_HEADER_BYTES = 60;
export const PROFILE_TABLE_MAX_BYTES = 65536;
export const MAX_PROFILE_DEVICES = 1024;
const MAX_MASTERS = 255;
const FLAG_ANY_UNIT = 1;
const FLAG_MASTERS = 2;
const FLAG_WRITABLE = 4;
const FLAG_FUNCTIONS = 8;
const SPACE_COILS = 1;
const SPACE_HOLDING_REGISTERS = 2;

export class ProfileTableError extends Error {
  readonly code = "profile.table_invalid";
}

function addressBytes(ip: string): { version: number; bytes: Uint8Array } {
  const bytes = new Uint8Array(16);
  const version = isIP(ip);
  if (version === 4) {
    ip.split(".").forEach((part, i) => { bytes[i] = Number(part); });
    return { version, bytes };
  }
  if (version !== 6) throw new ProfileTableError(`invalid address "${ip}" in a firmware profile binding`);
  const [head, tail] = ip.split("::");
  const groups = (text: string | undefined) => (text ? text.split(":").filter((g) => g !== "") : []);
  const left = groups(head);
  const right = tail !== undefined ? groups(tail) : [];
  const all = tail !== undefined ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  all.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return { version, bytes };
}

// Sorts and joins overlapping and adjacent ranges, as the core expects.
export function mergeRanges(ranges: AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const merged: AddressRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.first <= last.last + 1) last.last = Math.max(last.last, range.last);
    else merged.push({ first: range.first, last: range.last });
  }
  return merged;
}

// Compiles the bindings into the core's profile table.
export function compileProfileTable(bindings: Binding[]): Uint8Array {
  if (bindings.length > MAX_PROFILE_DEVICES) {
    throw new ProfileTableError(`${bindings.length} profile bindings exceed the core's ${MAX_PROFILE_DEVICES}; bind fewer devices or split the profiles`);
  }
  const parts: Uint8Array[] = [];
  for (const binding of bindings) {
    const spec = binding.profile.spec;
    const masters = spec.expected_masters ?? [];
    if (masters.length > MAX_MASTERS) throw new ProfileTableError(`${binding.profile.file}: ${masters.length} expected masters exceed ${MAX_MASTERS}`);
    const coils = spec.registers?.coils?.writable;
    const holding = spec.registers?.holding_registers?.writable;
    const ranges = [
      ...mergeRanges(coils ?? []).map((r) => [SPACE_COILS, r] as const),
      ...mergeRanges(holding ?? []).map((r) => [SPACE_HOLDING_REGISTERS, r] as const),
    ];

    const length = DEVICE_HEADER_BYTES + masters.length * 16 + ranges.length * 8;
    const entry = new Uint8Array(length);
    const view = new DataView(entry.buffer);
    const { version, bytes } = addressBytes(binding.ip);
    let flags = 0;
    if (binding.unitId === undefined) flags |= FLAG_ANY_UNIT;
    if (masters.length > 0) flags |= FLAG_MASTERS;
    if (coils !== undefined || holding !== undefined) flags |= FLAG_WRITABLE;
    if (spec.function_codes !== undefined) flags |= FLAG_FUNCTIONS;

    view.setUint32(0, length, true);
    entry[4] = version;
    entry[5] = binding.unitId ?? 0;
    entry[6] = flags;
    entry[7] = masters.length;
    view.setUint16(8, ranges.length, true);
    entry.set(bytes, 12);
    for (const code of spec.function_codes ?? []) entry[28 + (code >> 3)] |= 1 << (code & 7);

    masters.forEach((master, i) => {
      const address = addressBytes(master);
      entry.set(address.bytes, DEVICE_HEADER_BYTES + i * 16);
    });
    ranges.forEach(([space, range], i) => {
      const at = DEVICE_HEADER_BYTES + masters.length * 16 + i * 8;
      entry[at] = space;
      view.setUint16(at + 2, range.first, true);
      view.setUint16(at + 4, range.last, true);
    });
    parts.push(entry);
  }

  const total = HEADER_BYTES + parts.reduce((sum, p) => sum + p.length, 0);
  if (total > PROFILE_TABLE_MAX_BYTES) {
    throw new ProfileTableError(`the profile bindings compile to ${total} bytes, more than the core's ${PROFILE_TABLE_MAX_BYTES}; bind fewer devices or shorten the master and range lists`);
  }

  const table = new Uint8Array(total);
  const view = new DataView(table.buffer);
  view.setUint32(0, PROFILE_TABLE_MAGIC, true);
  view.setUint16(4, PROFILE_TABLE_VERSION, true);
  view.setUint16(6, bindings.length, true);
  view.setUint32(8, total, true);
  let at = HEADER_BYTES;
  for (const part of parts) {
    table.set(part, at);
    at += part.length;
  }
  return table;
}

// Core functions that installing the table needs (Core in core/core.ts).
export interface ProfileHost {
  callWithScratch(name: string, bytes: Uint8Array, options?: { replayOnRestart?: boolean }): number;
}

const LOAD_ERRORS: Record<number, string> = {
  ...tableHeaderErrors("profile", PROFILE_TABLE_MAX_BYTES, PROFILE_TABLE_VERSION),
  [-5]: `the table has more than ${MAX_PROFILE_DEVICES} devices`,
  [-6]: "a device entry is malformed",
};

export function installProfileTable(core: ProfileHost, bindings: Binding[]): void {
  const table = compileProfileTable(bindings);
  const result = core.callWithScratch("loadProfiles", table, { replayOnRestart: true });
  if (result < 0) {
    throw new ProfileTableError(`the core rejected the profile table (${table.length} bytes): ${LOAD_ERRORS[result] ?? `result ${result}`}; rebuild the core and the agent from the same version`);
  }
}
