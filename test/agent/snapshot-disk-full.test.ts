// Baseline snapshots on a full disk: the write fails with ENOSPC, the
// temporary file is removed, the last good snapshot stays, and the next
// write succeeds once there is space. /dev/full plays the full disk, because
// every write to it fails with ENOSPC (Linux).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { writeSnapshotFile } from "../../agent/src/core/snapshot.js";

const dirs: string[] = [];
test.after(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }); });

test("snapshot write on a full disk leaves no temporary file", () => {
  if (!existsSync("/dev/full")) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-snapshot-"));
  dirs.push(dir);
  const path = join(dir, "baselines.snapshot");
  const first = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);
  writeSnapshotFile(path, first);
  const good = readFileSync(path);

  // The temporary file the writer opens is the full disk.
  const temporary = `${path}.tmp-${process.pid}`;
  symlinkSync("/dev/full", temporary);
  assert.throws(() => writeSnapshotFile(path, new Uint8Array(8192).fill(7)), /ENOSPC/);
  assert.equal(readdirSync(dir), ["baselines.snapshot"], "the temporary file is removed");
  assert.equal(readFileSync(path), good, "the last snapshot is kept");

  // Space is back: the next write replaces the snapshot.
  const second = new Uint8Array(8192).fill(9);
  writeSnapshotFile(path, second);
  const written = readFileSync(path);
  assert.is(written.readUInt32LE(8), second.length, "the header gives the new snapshot's length");
  assert.equal(new Uint8Array(inflateRawSync(written.subarray(16))), second);
});

test.run();
