// Folder creation that fails fast with a message naming the folder that could
// not be made and why, shared by every option that names an output folder.
import { mkdirSync, statfsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

export class FolderError extends Error {
  // `reason` is the message without the "cannot create folder PATH: " start,
  // for callers that name the folder their own way.
  constructor(readonly requested: string, readonly reason: string, readonly path: string, readonly code: string) {
    super(`cannot create folder ${requested}: ${reason}`);
  }
}

// Creates `path` and its missing parents one level at a time, starting below
// the nearest parent that exists. Node 20's recursive mkdirSync loops without
// end when that parent is on a file system where mkdir fails with ENOENT,
// such as /proc or /sys, so this never calls it.
export function createFolders(path: string, mode?: number): void {
  const target = resolve(path);
  const missing: string[] = [];
  let current = target;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(current).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unknown";
      // ENOTDIR: a parent is a file, which the walk up finds and names.
      if (code !== "ENOENT" && code !== "ENOTDIR") throw folderError(path, current, code);
      missing.unshift(current);
      const parent = dirname(current);
      if (parent === current) throw folderError(path, current, code);
      current = parent;
      continue;
    }
    if (!isDirectory) throw folderError(path, current, "ENOTDIR");
    break;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder, { mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unknown";
      if (code === "EEXIST" && statSync(folder, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw folderError(path, folder, code);
    }
  }
}

function folderError(requested: string, at: string, code: string): FolderError {
  const parent = dirname(at);
  let reason: string;
  switch (code) {
    case "ENOTDIR":
      reason = `${at} is a file, not a folder (ENOTDIR)`;
      break;
    case "ENOENT":
      reason = `${parent} cannot contain new folders (mkdir ${at} failed with ENOENT, as it does under /proc and /sys)`;
      break;
    case "EACCES":
    case "EPERM":
      reason = `permission denied to create ${at} in ${parent} (${code})`;
      break;
    case "EROFS":
      reason = `${parent} is on a read-only file system (EROFS)`;
      break;
    case "ENOSPC":
      reason = `no space left on the device of ${parent} (ENOSPC)`;
      break;
    case "ENAMETOOLONG":
      reason = `the path is too long (ENAMETOOLONG)`;
      break;
    default:
      reason = `creating ${at} failed with ${code}`;
  }
  return new FolderError(requested, reason, at, code);
}

// An output file that could not be written, with the fix in the message:
// `writing PATH failed: ENOSPC: no space left on device, write; DIR has
// 0 bytes free; FIX`.
export class OutputWriteError extends Error {
  readonly code: string;
  constructor(readonly path: string, cause: Error, fix: string) {
    super(`writing ${path} failed: ${cause.message}${freeSpaceNote(dirname(path))}; ${fix}`);
    this.code = (cause as NodeJS.ErrnoException).code ?? "unknown";
  }
}

// "; DIR has N bytes free", or "" when the file system cannot tell.
export function freeSpaceNote(dir: string): string {
  try {
    const space = statfsSync(dir);
    return `; ${dir} has ${space.bavail * space.bsize} bytes free`;
  } catch {
    return "";
  }
}
