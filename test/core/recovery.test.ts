// Trap recovery: a trapped core instance is replaced, its configuration
// calls replayed and the last snapshot restored, and processing goes on with
// the record after the one that trapped. The trap is forced through the
// core's `__forceTrapAfterPackets` test hook.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation, batchOf, timed } from "../helpers/frames.js";
import { loadCore, memoryLogger, readHoldingRequest, readHoldingResponse } from "./run.js";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { loadModelSet } from "../../agent/src/core/models.js";

function pollingFrames(count: number): Uint8Array[] {
  const c = new TcpConversation("10.40.0.1", 42000, "10.40.0.2", 502).handshake();
  for (let i = 0; i < count; i++) c.fromClient(readHoldingRequest(i, i, 1)).fromServer(readHoldingResponse(i, [i]));
  return c.frames;
}

function requestIds(records: CoreRecord[]): number[] {
  return records.filter((r) => r.type === "modbus" && r.fields.pdu_type === "request").map((r) => r.fields.transaction_id as number);
}

test("forced trap restarts the core", async () => {
  const { logger, entries } = memoryLogger();
  const core = await loadCore(undefined, logger);
  const records: CoreRecord[] = [];
  // Frames: 3 of handshake, then request/response pairs. Packet 10 is the
  // request with transaction id 3.
  core.exportFunction("__forceTrapAfterPackets")(10);
  core.process(batchOf(timed(pollingFrames(8))), (r) => records.push(r));
  core.finish((r) => records.push(r));
  const stats = core.stats();

  assert.is(core.restarts, 1);
  assert.is(stats.counters["core.restarts"], 1);
  assert.equal(requestIds(records).slice(0, 3), [0, 1, 2]);
  assert.not.ok(requestIds(records).includes(3), "the record that trapped was processed");
  assert.ok(requestIds(records).includes(7), "processing stopped after the trap");
  assert.is(stats.counters["packets"], 3 + 16 - 1);
  const entry = entries.find((e) => e.restarts === 1);
  assert.ok(entry, "no log entry for the restart");
  assert.is(entry!.source, "test fixture");
  assert.is(typeof entry!.batchOffset, "number");
  assert.match(String(entry!.msg), "core trapped on the record at byte");
});

test("restart replays configuration calls", async () => {
  const core = await loadCore();
  // The project's models, installed the way the agent installs them but
  // marked for replay.
  const set = await loadModelSet();
  set.install({
    fieldName: (id) => core.fieldName(id),
    callWithScratch: (name, bytes) => core.callWithScratch(name, bytes, { replayOnRestart: true }),
  });
  const installed = core.exportFunction("modelCount")();
  const restored: number[] = [];
  core.setSnapshotProvider(() => Uint8Array.of(1, 2, 3));
  core.setSnapshotRestorer((bytes) => { restored.push(bytes.length); });
  core.exportFunction("__forceTrapAfterPackets")(1);
  core.process(batchOf(timed(pollingFrames(1))), () => {});

  assert.is(installed, set.models.length);
  assert.is(core.restarts, 1);
  assert.equal(restored, [3]);
  assert.is(core.exportFunction("modelCount")(), installed);
});

test("snapshot restore failure is logged", async () => {
  const { logger, entries } = memoryLogger();
  const core = await loadCore(undefined, logger);
  core.setSnapshotProvider(() => Uint8Array.of(9));
  core.setSnapshotRestorer(() => { throw new Error("snapshot version 9 is not supported"); });
  core.exportFunction("__forceTrapAfterPackets")(2);
  const records: CoreRecord[] = [];
  core.process(batchOf(timed(pollingFrames(4))), (r) => records.push(r));
  core.finish((r) => records.push(r));

  assert.is(core.restarts, 1);
  assert.ok(entries.some((e) => String(e.msg).includes("snapshot restore after a core restart failed")));
  assert.ok(requestIds(records).length >= 3);
});

test("memory does not grow after configure", async () => {
  const core = await loadCore({ maxFlows: 1024, appStateSlots: 64 });
  const before = core.memorySize();
  core.process(batchOf(timed(pollingFrames(200))), () => {});
  core.finish(() => {});

  assert.is(core.memorySize(), before);
});

test("readMemory copies and checks its range", async () => {
  const core = await loadCore();
  const size = core.memorySize();
  const copy = core.readMemory(0, 16);
  assert.is(copy.length, 16);
  assert.throws(() => core.readMemory(size - 4, 8), /invalid core memory range: 8 bytes at/);
});

test("exportFunction of a missing export", async () => {
  const core = await loadCore();
  assert.throws(() => core.exportFunction("noSuchExport"), /the core has no export named noSuchExport/);
});

test.run();
