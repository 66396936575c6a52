// `fieldsense extract CAPTURE... --out DIR`: writes the files that SMB
// traffic in the captures carried, as Wireshark's "Export Objects" does.
// The core hashes every file, and with file_data records turned on it also
// hands the bytes over. This module stores them, checks each file against
// the core's SHA-256 and writes an index. Files seen only in part (a hole,
// a read of some of the file) are listed in the index but not written.
import { createHash } from "node:crypto";
import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { readCapture } from "../capture/index.js";
import { createFolders, FolderError, OutputWriteError } from "../config/folders.js";
import { Core, type CoreRecord } from "../core/core.js";
import { positiveInteger, UsageError, type Output } from "./args.js";

export interface ExtractSettings {
  captures: string[];
  out: string;
  force: boolean;
  json: boolean;
  // Content bytes held on disk at once for files not yet closed.
  maxBytes: number;
}

export const DEFAULT_EXTRACT_MAX_BYTES = 1024 * 1024 * 1024;
// Event buffer for extraction: file_data records carry up to 1 KiB each, and
// one 64 KiB SMB2 WRITE makes 64 of them.
const EXTRACT_EVENT_BUFFER_BYTES = 16 * 1024 * 1024;
const INDEX_NAME = "index.json";
const MAX_NAME_LENGTH = 200;
const WRITE_FIX = "free space on that disk, or give --out a folder on another disk, and extract again";

export interface ExtractedFile {
  path: string;
  share?: string;
  // Output file name inside the folder; absent when the file was not written.
  file?: string;
  sha256?: string;
  size: number;
  bytes_missing: number;
  type?: string;
  direction: string;
  account?: string;
  ts: string;
  flow: { id: number; src: string; dst: string };
  // Why the file was not written: "incomplete", "over --max-bytes",
  // "content does not match the SHA-256", "unsafe name", "exists (use --force)".
  skipped?: string;
}

// Turns a path from the wire into one safe file name: the last path
// component, with every character outside [A-Za-z0-9._-] replaced and no
// leading dot, so that it can neither leave the folder nor hide.
export function sanitiseName(path: string): string {
  const last = path.split(/[\\/]/).filter((part) => part !== "").pop() ?? "";
  let name = last.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  if (name === "" || name === "." || name === "..") name = "file";
  return name.slice(0, MAX_NAME_LENGTH);
}

export function parseExtract(values: Record<string, unknown>, positionals: string[]): ExtractSettings {
  if (typeof values.out !== "string" || values.out === "") {
    throw new UsageError('missing --out DIR for "fieldsense extract CAPTURE..."; give the folder to write the files to');
  }
  return {
    captures: positionals,
    out: values.out,
    force: values.force === true,
    json: values.json === true,
    maxBytes: typeof values["max-bytes"] === "string" ? positiveInteger("--max-bytes", values["max-bytes"]) : DEFAULT_EXTRACT_MAX_BYTES,
  };
}

interface PartialFile {
  temporary: string;
  fd: number;
  bytes: number;
  overBound: boolean;
}

export async function extractFiles(settings: ExtractSettings, output: Output): Promise<number> {
  const out = resolve(settings.out);
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new UsageError(`invalid --out "${settings.out}": it is a file, not a folder; give a folder path`);
  }
  try {
    createFolders(out);
  } catch (error) {
    if (!(error instanceof FolderError)) throw error;
    throw new UsageError(`invalid --out "${settings.out}": ${error.reason}; give a folder path on a writable disk`);
  }
  const indexPath = join(out, INDEX_NAME);
  if (existsSync(indexPath) && !settings.force) {
    throw new Error(`${indexPath} already exists: give an empty folder to --out, or add --force to overwrite files of the same name`);
  }

  const core = await Core.load({ limits: { eventBufferBytes: EXTRACT_EVENT_BUFFER_BYTES } });
  core.setFileDataRecords(true);
  const partials = new Map<number, PartialFile>();
  const usedNames = new Set<string>([INDEX_NAME]);
  const index: ExtractedFile[] = [];
  let heldBytes = 0;

  const onData = (record: CoreRecord) => {
    const id = Number(record.fields.object_id);
    let partial = partials.get(id);
    const temporary = partial?.temporary ?? join(out, `.fieldsense-partial-${process.pid}-${id}`);
    try {
      if (!partial) {
        partial = { temporary, fd: openSync(temporary, "w", 0o600), bytes: 0, overBound: false };
        partials.set(id, partial);
      }
      const data = Buffer.from(String(record.fields.data), "hex");
      if (partial.overBound || heldBytes + data.length > settings.maxBytes) {
        partial.overBound = true;
        return;
      }
      writeSync(partial.fd, data, 0, data.length, Number(record.fields.offset));
      partial.bytes += data.length;
      heldBytes += data.length;
    } catch (error) {
      throw new OutputWriteError(temporary, error as Error, WRITE_FIX);
    }
  };


  const onFile = (record: CoreRecord) => {
    const f = record.fields;
    const id = Number(f.object_id);
    const entry: ExtractedFile = {
      path: String(f.path ?? f.name ?? ""),
      share: f.share !== undefined ? String(f.share) : undefined,
      sha256: f.sha256 !== undefined ? String(f.sha256) : undefined,
      size: Number(f.size ?? 0),
      bytes_missing: Number(f.bytes_missing ?? 0),
      type: f.file_type !== undefined ? String(f.file_type) : undefined,
      direction: String(f.direction),
      account: f.account !== undefined ? String(f.account) : undefined,
      ts: record.ts,
      flow: { id: record.flowId, src: `${record.src.ip}:${record.src.port}`, dst: `${record.dst.ip}:${record.dst.port}` },
    };
    const partial = partials.get(id);
    partials.delete(id);
    if (partial) {
      closeSync(partial.fd);
      heldBytes -= partial.bytes;
    }
    try {
      entry.skipped = storeFile(entry, partial, out, usedNames, settings.force);
    } finally {
      if (partial) rmSync(partial.temporary, { force: true });
    }
    index.push(entry);
  };

  const onRecord = (record: CoreRecord) => {
    if (record.type !== "file") return;
    if (record.fields.chunk === true) onData(record);
    else onFile(record);
  };

  // A file that cannot be written (a full disk) ends the extraction, and the
  // index still lists the files written before it.
  let failure: OutputWriteError | undefined;
  try {
    for (const path of settings.captures) {
      for await (const batch of readCapture(path)) core.process(batch, onRecord);
    }
    core.finish(onRecord);
  } catch (error) {
    if (!(error instanceof OutputWriteError)) throw error;
    failure = error;
  } finally {
    // Removed before the index is written, which may need their space.
    for (const partial of partials.values()) {
      closeSync(partial.fd);
      rmSync(partial.temporary, { force: true });
    }
  }

  try {
    writeIndex(indexPath, index);
  } catch (error) {
    throw new OutputWriteError(indexPath, error as Error, `${failure ? `${failure.message}; ` : ""}${WRITE_FIX}`);
  }
  if (settings.json) {
    output.stdout(JSON.stringify(index, null, 2) + "\n");
  } else {
    for (const entry of index) {
      output.stdout(`${entry.file ?? "-"}\t${entry.type ?? "-"}\t${entry.size}\t${entry.sha256 ?? "-"}\t${entry.path}${entry.skipped ? `\t(not written: ${entry.skipped})` : ""}\n`);
    }
  }
  const written = index.filter((entry) => entry.file !== undefined).length;
  output.stderr(`${written} of ${index.length} files written to ${out}; index in ${indexPath}\n`);
  if (failure) {
    output.stderr(`fieldsense: extraction stopped: ${failure.message}; ${INDEX_NAME} lists the ${written} files written before the failure\n`);
    return 1;
  }
  return index.some((entry) => entry.skipped?.startsWith("exists")) ? 1 : 0;
}

// Moves a complete file into place and returns why it was not, if it was not.
function storeFile(entry: ExtractedFile, partial: PartialFile | undefined, out: string, usedNames: Set<string>, force: boolean): string | undefined {
  if (entry.sha256 === undefined || entry.bytes_missing > 0) return "incomplete";
  if (partial?.overBound) return "over --max-bytes";
  const content = partial ? readFileSync(partial.temporary) : Buffer.alloc(0);
  if (content.length !== entry.size || createHash("sha256").update(content).digest("hex") !== entry.sha256) {
    return "content does not match the SHA-256";
  }
  const name = uniqueName(sanitiseName(entry.path), usedNames);
  const target = join(out, name);
  // The name has no separator, so the target stays inside the folder.
  if (dirname(target) !== out || basename(target) !== name) return "unsafe name";
  try {
    if (!partial) closeSync(openSync(target, force ? "w" : "wx", 0o644));
    else if (force) renameSync(partial.temporary, target);
    // A hard link fails with EEXIST instead of replacing a file.
    else linkSync(partial.temporary, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return "exists (use --force)";
    throw new OutputWriteError(target, error as Error, WRITE_FIX);
  }
  entry.file = name;
  return undefined;
}

// Adds -2, -3, ... before the extension when a name was already used in this run.
function uniqueName(name: string, usedNames: Set<string>): string {
  let candidate = name;
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const extension = dot > 0 ? name.slice(dot) : "";
  for (let n = 2; usedNames.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${extension}`;
  usedNames.add(candidate.toLowerCase());
  return candidate;
}

function writeIndex(path: string, index: ExtractedFile[]): void {
  const fd = openSync(path, "w", 0o644);
  try {
    writeSync(fd, JSON.stringify(index, null, 2) + "\n");
  } finally {
    closeSync(fd);
  }
}
