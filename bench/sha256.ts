// SHA-256 alone: protocols/file/sha256.ts compiled by itself with the
// release build's options (wasm-core/asconfig.json), then timed on one
// message fed in updates of a fixed size, as TCP segments feed a file
// transfer. Each digest is checked against node:crypto before any timing.
// With several --source files (another version of sha256.ts, for example
// from `git show main:protocols/file/sha256.ts`), the runs alternate between
// them, so that load from other programs falls on each alike.
// Prints one JSON object on stdout.
//
// Usage: tsx bench/sha256.ts [--source FILE]... [--mib N] [--update-bytes N] [--runs N]
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import asc from "assemblyscript/asc";

interface Sha256Exports {
  memory: WebAssembly.Memory;
  sha256Init(state: number): void;
  sha256Update(state: number, ptr: number, length: number): void;
  sha256Final(state: number, digest: number): void;
}

export interface Sha256Result {
  source: string;
  messageBytes: number;
  updateBytes: number;
  mibPerSecond: number[];
  medianMibPerSecond: number;
}

const repoRoot = resolve(fileURLToPath(import.meta.url), "../..");
const DEFAULT_SOURCE = resolve(repoRoot, "protocols/file/sha256.ts");
// Room for the state (112 bytes) and the digest, before the message.
const STATE_BYTES = 256;
const DIGEST_AT = 128;
const PAGE_BYTES = 65536;
// The entry file is served from memory: asc fails when the entry file
// itself exports the module's `usize` constants, so the entry re-exports
// only the functions.
const ENTRY = "bench-sha256-entry.ts";

async function compileSha256(source: string): Promise<Sha256Exports> {
  const release = JSON.parse(readFileSync(resolve(repoRoot, "wasm-core/asconfig.json"), "utf8")).targets.release;
  // Relative to the base directory "/", because asc reads an absolute import
  // path as a library path.
  const importPath = "." + resolve(source).replace(/\.ts$/, "");
  let binary: Uint8Array | undefined;
  const { error, stderr } = await asc.main([
    ENTRY,
    "--outFile", "sha256.wasm",
    "--optimizeLevel", String(release.optimizeLevel),
    "--shrinkLevel", String(release.shrinkLevel),
    "--runtime", "stub",
    "--baseDir", "/",
  ], {
    readFile(name, baseDir) {
      if (name === ENTRY) return `export { sha256Init, sha256Update, sha256Final } from "${importPath}";\n`;
      const path = resolve(baseDir, name);
      return existsSync(path) ? readFileSync(path, "utf8") : null;
    },
    writeFile(name, contents) {
      if (name.endsWith(".wasm") && contents instanceof Uint8Array) binary = contents;
    },
  });
  if (error || !binary) throw new Error(`compiling ${source} failed: ${error?.message ?? "no binary written"}\n${stderr.toString()}`);
  const module = await WebAssembly.compile(Uint8Array.from(binary));
  const instance = await WebAssembly.instantiate(module, { env: { abort: () => { throw new Error(`${source} aborted`); } } });
  return instance.exports as unknown as Sha256Exports;
}

class Hasher {
  private readonly base: number;

  constructor(readonly source: string, private readonly sha: Sha256Exports, message: Uint8Array) {
    this.base = sha.memory.buffer.byteLength;
    sha.memory.grow(Math.ceil((STATE_BYTES + message.length) / PAGE_BYTES));
    new Uint8Array(sha.memory.buffer, this.base + STATE_BYTES, message.length).set(message);
  }

  // Hashes the message in updates of `updateBytes` and returns the hex digest.
  hash(messageBytes: number, updateBytes: number): string {
    const { sha, base } = this;
    sha.sha256Init(base);
    for (let at = 0; at < messageBytes; at += updateBytes) {
      sha.sha256Update(base, base + STATE_BYTES + at, Math.min(updateBytes, messageBytes - at));
    }
    sha.sha256Final(base, base + DIGEST_AT);
    return Buffer.from(sha.memory.buffer, base + DIGEST_AT, 32).toString("hex");
  }
}

export async function measureSha256(sources: string[], messageBytes: number, updateBytes: number, runs: number): Promise<Sha256Result[]> {
  const message = randomBytes(messageBytes);
  const expected = createHash("sha256").update(message).digest("hex");
  const hashers: Hasher[] = [];
  for (const source of sources) {
    const hasher = new Hasher(source, await compileSha256(source), message);
    const got = hasher.hash(messageBytes, updateBytes);
    if (got !== expected) throw new Error(`${source}: digest ${got} differs from node:crypto's ${expected}`);
    hashers.push(hasher);
  }
  const rates = hashers.map((): number[] => []);
  for (let run = 0; run < runs; run++) {
    hashers.forEach((hasher, i) => {
      const started = performance.now();
      hasher.hash(messageBytes, updateBytes);
      const seconds = (performance.now() - started) / 1000;
      rates[i].push(messageBytes / (1 << 20) / seconds);
    });
  }
  return hashers.map((hasher, i) => {
    const sorted = [...rates[i]].sort((a, b) => a - b);
    return { source: hasher.source, messageBytes, updateBytes, mibPerSecond: rates[i], medianMibPerSecond: sorted[Math.floor(sorted.length / 2)] };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      source: { type: "string", multiple: true },
      mib: { type: "string", default: "64" },
      "update-bytes": { type: "string", default: "1460" },
      runs: { type: "string", default: "5" },
    },
  });
  const mib = Number(values.mib);
  const updateBytes = Number(values["update-bytes"]);
  const runs = Number(values.runs);
  if (![mib, updateBytes, runs].every((n) => Number.isInteger(n) && n >= 1)) {
    console.error("usage: tsx bench/sha256.ts [--source FILE]... [--mib N] [--update-bytes N] [--runs N]  (each N a whole number >= 1)");
    process.exit(2);
  }
  const results = await measureSha256(values.source ?? [DEFAULT_SOURCE], mib << 20, updateBytes, runs);
  process.stdout.write(JSON.stringify(results) + "\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: Error) => {
    console.error(`sha256: ${error.message}`);
    process.exit(1);
  });
}
