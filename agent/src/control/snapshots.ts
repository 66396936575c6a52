// Baseline snapshots for the agent: restore at start, write on a timer and at
// shutdown. The snapshot format and its version checks belong to
// agent/src/core/snapshot.ts (takeSnapshot, restoreSnapshot, writeSnapshotFile,
// readSnapshotFile); this file only schedules them.
import { statSync } from "node:fs";
import type { Core } from "../core/core.js";
import { readSnapshotFile, registerSnapshotRecovery, restoreSnapshot, takeSnapshot, writeSnapshotFile } from "../core/snapshot.js";
import type { Logger } from "../log.js";

export class SnapshotSupport {
  // Also hands the snapshots to the Core's trap recovery, so an instance that
  // traps is replaced by one that keeps what the gateway learned.
  constructor(private readonly core: Core, private readonly logger: Logger) {
    registerSnapshotRecovery(core);
  }

  // Restores `path` if it exists and returns the path when it did. A damaged
  // file or one of another version raises the snapshot module's error, whose
  // message asks to delete the file or use the agent version that wrote it.
  restore(path: string): string | undefined {
    const bytes = readSnapshotFile(path);
    if (bytes === undefined) return undefined;
    const { droppedEntries, droppedWindows } = restoreSnapshot(this.core, bytes);
    this.logger.info({ path, baselineBytes: bytes.length, fileBytes: statSync(path).size, droppedEntries, droppedWindows }, "baseline snapshot restored");
    return path;
  }

  // Writes the core's baselines to `path`; returns false when the core has
  // none yet (no models with baselines installed).
  save(path: string): boolean {
    const bytes = takeSnapshot(this.core);
    if (bytes.length === 0) return false;
    writeSnapshotFile(path, bytes);
    this.logger.info({ path, baselineBytes: bytes.length, fileBytes: statSync(path).size }, "baseline snapshot written");
    return true;
  }
}
