// Firmware profiles: load the YAML files of a profiles folder, validate them
// against firmware-profiles/profile.schema.json (errors name the file, the
// line and the key, with the helpers of config/yaml-errors.ts), and decide which
// devices a profile applies to.
import { readFileSync, readdirSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { isIP } from "node:net";
import type { LineCounter, Document } from "yaml";
import { findPackageDir, lazySchemaValidator, lineOf, parseYaml, schemaError, YamlFileError } from "../config/yaml-errors.js";
import { readDataFiles, readParseCache, writeParseCache } from "../config/parse-cache.js";
import type { Identity } from "../inventory/ot-inventory.js";

export interface AddressRange { first: number; last: number; name?: string }
export interface RevisionRange { min?: string; max?: string; below?: string }
export interface IdentityMatch { vendor_name?: string; product_code?: string[]; revision?: RevisionRange }
export interface DangerousOperation {
  operation: string; function_code: number; sub_function?: number; umas_function?: number; register?: number; note?: string;
}
export interface Vulnerability { product_code?: string[]; revision: RevisionRange; advisories: string[]; source: string; summary?: string }

export interface ProfileSpec {
  id: string;
  name: string;
  protocol: "modbus";
  match: { identity?: IdentityMatch[]; addresses?: string[] };
  function_codes?: number[];
  registers?: {
    coils?: { readable?: AddressRange[]; writable?: AddressRange[] };
    discrete_inputs?: { readable?: AddressRange[] };
    input_registers?: { readable?: AddressRange[] };
    holding_registers?: { readable?: AddressRange[]; writable?: AddressRange[] };
  };
  expected_masters?: string[];
  dangerous_operations?: DangerousOperation[];
  vulnerable_revisions?: Vulnerability[];
  sources: { title: string; url: string; facts?: string }[];
  notes?: string;
}

export interface Profile { spec: ProfileSpec; file: string }

export class ProfileError extends YamlFileError {
  constructor(code: string, message: string, file: string, line?: number, key?: string) {
    super(code, message, file, line, key);
    this.name = "ProfileError";
  }
}

// A profile file is a page of facts; the cap keeps a stray large file from
// being parsed at all.
const MAX_PROFILE_FILE_BYTES = 256 * 1024;

export const packageProfilesDir = findPackageDir(import.meta.url, "firmware-profiles", "profile.schema.json");
const schemaPath = join(packageProfilesDir, "profile.schema.json");
const schemaValidator = lazySchemaValidator(schemaPath);

const PROFILE_SCHEMA_ERRORS = {
  create: (code: string, message: string, file: string, line?: number, key?: string) => new ProfileError(code, message, file, line, key),
  prefix: "profile",
  subject: "the profile",
};

// Profile files of `target`: a folder's *.yaml and *.yml files in name
// order, or the file itself.
export function profileFiles(target: string): string[] {
  if (!existsSync(target)) {
    throw new ProfileError("profile.not_found", `firmware profile path ${target} not found: pass a profile file or a folder of them`, target);
  }
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(target, f));
}

// Loads and validates the profiles of the given files and folders. The first
// invalid file stops loading with a ProfileError; two profiles with one id
// are an error too.
export function loadProfiles(targets: string[] = [packageProfilesDir]): Profile[] {
  const files = targets.flatMap(profileFiles);
  // A file above the size limit is not read; the loop below reports it
  // after the errors of the files before it.
  const { texts, key } = readDataFiles(files, MAX_PROFILE_FILE_BYTES, schemaPath, import.meta.url);
  const cacheName = targets.join("\0");
  const cached = key === undefined ? undefined : readParseCache<ProfileSpec[]>("profiles", cacheName, key);
  if (cached !== undefined && cached.length === files.length) return cached.map((spec, i) => ({ spec, file: files[i] }));

  const profiles: Profile[] = [];
  const seen = new Map<string, string>();
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    const text = texts[i];
    if (text === undefined) {
      const size = statSync(file).size;
      throw new ProfileError("profile.file_too_large", `firmware profile ${file} is ${size} bytes, above the ${MAX_PROFILE_FILE_BYTES}-byte limit; check that the right file is in the profiles folder`, file);
    }
    const profile = parseProfileFile(file, text);
    const earlier = seen.get(profile.spec.id);
    if (earlier !== undefined) {
      throw new ProfileError("profile.duplicate_id", `${file}: profile id "${profile.spec.id}" is already used by ${earlier}; give each profile its own id`, file, undefined, "id");
    }
    seen.set(profile.spec.id, file);
    profiles.push(profile);
  }
  if (key !== undefined) writeParseCache("profiles", cacheName, key, profiles.map((profile) => profile.spec));
  return profiles;
}

export function parseProfileFile(file: string, text: string): Profile {
  const { document, lines, syntaxError, value } = parseYaml(text);
  if (syntaxError) {
    throw new ProfileError("profile.yaml_invalid", `invalid YAML in ${file} line ${syntaxError.line}: ${syntaxError.message}`, file, syntaxError.line);
  }
  if (value === null || value === undefined) {
    throw new ProfileError("profile.file_empty", `firmware profile ${file} is empty: write a profile in it (see the files in firmware-profiles/) or remove it`, file);
  }
  const validate = schemaValidator();
  if (!validate(value)) throw schemaError(file, document, lines, (validate.errors ?? [])[0], PROFILE_SCHEMA_ERRORS);
  const spec = value as ProfileSpec;
  checkProfile(file, document, lines, spec);
  return { spec, file };
}

// Checks what the schema cannot: ordered ranges, valid addresses and unit
// ids, and revisions that contain numbers to compare.
function checkProfile(file: string, document: Document, lines: LineCounter, spec: ProfileSpec): void {
  const fail = (path: (string | number)[], key: string, message: string): never => {
    const line = lineOf(document, lines, path);
    throw new ProfileError("profile.value_invalid", `${file} line ${line}: ${message}`, file, line, key);
  };
  for (const [space, access] of Object.entries(spec.registers ?? {})) {
    for (const [kind, ranges] of Object.entries(access as Record<string, AddressRange[]>)) {
      ranges.forEach((range, i) => {
        if (range.first > range.last) fail(["registers", space, kind, i], "first", `registers.${space}.${kind}[${i}] has first ${range.first} above last ${range.last}; write the lower address first`);
      });
    }
  }
  (spec.match.addresses ?? []).forEach((text, i) => {
    const [ip, unit] = text.split("/");
    if (isIP(ip) === 0) fail(["match", "addresses", i], "addresses", `match.addresses[${i}] "${text}" is not an IPv4 or IPv6 address; write 10.10.2.10 or 10.10.2.10/3 (with a unit id)`);
    if (unit !== undefined && Number(unit) > 255) fail(["match", "addresses", i], "addresses", `match.addresses[${i}] "${text}" has unit id ${unit}; use 0 to 255`);
  });
  (spec.expected_masters ?? []).forEach((ip, i) => {
    if (isIP(ip) === 0) fail(["expected_masters", i], "expected_masters", `expected_masters[${i}] "${ip}" is not an IPv4 or IPv6 address`);
  });
}

// Splits a revision into its numbers: "V2.7" -> [2, 7], "03.01.07(13)" ->
// [3, 1, 7, 13].
export function revisionNumbers(revision: string): number[] {
  return (revision.match(/[0-9]+/g) ?? []).map(Number);
}

// Compares revisions number by number; a missing number counts as 0, so
// "2.7" equals "2.7.0".
export function compareRevisions(a: string, b: string): number {
  const x = revisionNumbers(a);
  const y = revisionNumbers(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function revisionInRange(revision: string | undefined, range: RevisionRange | undefined): boolean {
  if (!range) return true;
  if (revision === undefined || revisionNumbers(revision).length === 0) return false;
  if (range.min !== undefined && compareRevisions(revision, range.min) < 0) return false;
  if (range.max !== undefined && compareRevisions(revision, range.max) > 0) return false;
  if (range.below !== undefined && compareRevisions(revision, range.below) >= 0) return false;
  return true;
}

const squash = (text: string) => text.replace(/\s+/g, "").toLowerCase();

function productMatches(productCode: string | undefined, prefixes: string[] | undefined): boolean {
  if (!prefixes) return true;
  if (productCode === undefined) return false;
  return prefixes.some((prefix) => squash(productCode).startsWith(squash(prefix)));
}

// True when `identity` satisfies one identity entry of the profile.
export function identityMatches(profile: ProfileSpec, identity: Partial<Identity>): boolean {
  return (profile.match.identity ?? []).some((entry) => {
    if (entry.vendor_name !== undefined && (identity.vendor_name === undefined || entry.vendor_name.trim().toLowerCase() !== identity.vendor_name.trim().toLowerCase())) return false;
    if (!productMatches(identity.product_code, entry.product_code)) return false;
    return revisionInRange(identity.revision, entry.revision);
  });
}

// Returns the unit id of an address entry ("10.0.0.5/3" -> 3), or undefined
// for an entry that covers every unit id.
export function parseDeviceAddress(text: string): { ip: string; unitId?: number } {
  const [ip, unit] = text.split("/");
  return unit === undefined ? { ip } : { ip, unitId: Number(unit) };
}

// The advisories of the profile that name the identity's revision.
export function advisoriesFor(profile: ProfileSpec, identity: Partial<Identity>): Vulnerability[] {
  return (profile.vulnerable_revisions ?? []).filter((v) =>
    productMatches(identity.product_code, v.product_code) && revisionInRange(identity.revision, v.revision));
}
