// A cache of validated data files (detection models, firmware profiles)
// between runs. Parsing and validating the YAML of the package's 77 models
// took about 0.15 s of CPU time at every start, measured with
// process.cpuUsage() around loadModelSet (Node 20, 2-core x64 machine).
// A hit took about 3 ms there.
//
// The cache stores the JSON form of what the parser returned, one file per
// kind and folder. Its key hashes every input: the text and path of each
// data file, the schema, the text of the modules that parse and check them
// and the parsers' versions. Any change to one of them misses the cache, so
// a hit returns what parsing would return now. Errors are never cached: an
// invalid file misses the cache at every run and is reported as before.
// Reading or writing the cache may fail (a read-only home folder); the data
// files are then parsed as without it.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { yamlErrorsModuleUrl } from "./yaml-errors.js";

// Version of the cache file layout, raised when the layout changes.
const CACHE_FORMAT = "1";

// The cache folder: FIELDSENSE_CACHE_DIR, else fieldsense/ in
// XDG_CACHE_HOME or ~/.cache. An empty FIELDSENSE_CACHE_DIR turns the cache off.
export function parseCacheDir(): string | undefined {
  const configured = process.env.FIELDSENSE_CACHE_DIR;
  if (configured !== undefined) return configured === "" ? undefined : configured;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "fieldsense");
}

// Hashes the inputs of a parse: `parts` in order, each with its length, so
// that no two lists of parts give the same text to hash.
export function parseCacheKey(parts: readonly string[]): string {
  const hash = createHash("sha256").update(CACHE_FORMAT);
  for (const part of parts) hash.update(`\n${part.length}\n`).update(part);
  return hash.digest("hex");
}

// The text of the modules at `moduleUrls`, for parseCacheKey: a build that
// changes how files are parsed or checked misses the cache.
function moduleTexts(moduleUrls: readonly string[]): string[] {
  return moduleUrls.map((url) => readFileSync(fileURLToPath(url), "utf8"));
}

function cacheFile(dir: string, kind: string, folder: string): string {
  const folderHash = createHash("sha256").update(folder).digest("hex").slice(0, 16);
  return join(dir, `${kind}-${folderHash}.json`);
}

// Returns the values stored for `kind` and `folder` under `key`, or
// undefined when there are none or they were stored under another key.
export function readParseCache<T>(kind: string, folder: string, key: string): T | undefined {
  const dir = parseCacheDir();
  if (dir === undefined) return undefined;
  try {
    const stored = JSON.parse(readFileSync(cacheFile(dir, kind, folder), "utf8")) as { key?: unknown; values?: unknown };
    return stored.key === key ? (stored.values as T) : undefined;
  } catch {
    return undefined;
  }
}

// Stores `values` for `kind` and `folder` under `key`. Values that JSON does
// not carry unchanged (Infinity, -0, undefined members) are not stored, so
// that a hit returns what the parse returned. The file is written under a
// temporary name and renamed, so a concurrent reader sees the old or the
// new file whole.
export function writeParseCache(kind: string, folder: string, key: string, values: unknown): void {
  const dir = parseCacheDir();
  if (dir === undefined) return;
  const text = JSON.stringify({ key, values });
  if (!isDeepStrictEqual((JSON.parse(text) as { values: unknown }).values, values)) return;
  const file = cacheFile(dir, kind, folder);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(temporary, text);
    renameSync(temporary, file);
    removeOldest(dir);
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // The folder cannot be written at all; nothing was left behind.
    }
  }
}

// Cache files kept at most: each folder of data files that was loaded has
// its own (the test suites load hundreds of temporary ones).
const MAX_CACHE_FILES = 32;

// Removes the least recently written cache files beyond MAX_CACHE_FILES.
function removeOldest(dir: string): void {
  const files = readdirSync(dir).filter((name) => name.endsWith(".json")).map((name) => join(dir, name));
  if (files.length <= MAX_CACHE_FILES) return;
  const byAge = files.map((file) => ({ file, written: statSync(file).mtimeMs })).sort((a, b) => a.written - b.written);
  for (const { file } of byAge.slice(0, files.length - MAX_CACHE_FILES)) rmSync(file, { force: true });
}

// The version of each npm package in `names`, as resolved from `moduleUrl`,
// for parseCacheKey: a new parser version misses the cache.
function packageVersions(moduleUrl: string, names: readonly string[]): string[] {
  const require = createRequire(moduleUrl);
  return names.map((name) => `${name}@${(JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")) as { version?: string }).version}`);
}

export interface DataFiles {
  // The text of each file, or undefined for a file above the size limit,
  // which is left unread.
  texts: (string | undefined)[];
  // The cache key over the files, the schema, the parsing modules and the
  // parser versions; undefined when a file was left unread.
  key: string | undefined;
}

// Reads the data files that the module at `moduleUrl` parses with the YAML
// helpers and checks against the schema at `schemaPath`.
export function readDataFiles(files: readonly string[], maxBytes: number, schemaPath: string, moduleUrl: string): DataFiles {
  const texts = files.map((file) => (statSync(file).size > maxBytes ? undefined : readFileSync(file, "utf8")));
  if (texts.includes(undefined)) return { texts, key: undefined };
  const key = parseCacheKey([
    ...moduleTexts([moduleUrl, yamlErrorsModuleUrl]), ...packageVersions(moduleUrl, ["yaml", "ajv"]),
    readFileSync(schemaPath, "utf8"), ...files.flatMap((file, i) => [file, texts[i]!]),
  ]);
  return { texts, key };
}
