import { test } from "uvu";
import * as assert from "uvu/assert";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { journalPath, Outbox, OutboxError } from "../../agent/src/publish/outbox.js";
import { withTmpfs } from "../helpers/tmpfs.js";

const TOPIC = "fieldsense/v1/plant-a/gw-1/alerts";

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-outbox-"));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function payload(index: number, size = 100): Buffer {
  return Buffer.from(`{"n":${index}}`.padEnd(size, " "));
}

test("outbox replays unacknowledged entries", () => withDir((dir) => {
  const first = new Outbox({ dir, fsync: "always" });
  const entries = [0, 1, 2, 3].map((i) => first.append(TOPIC, payload(i), 50)!);
  first.acknowledge(entries[1].sequence);
  first.close();

  const second = new Outbox({ dir });
  assert.is(second.stats.replayed, 3);
  assert.equal([...second.waiting()].map((entry) => entry.payload.toString().trim()), ['{"n":0}', '{"n":2}', '{"n":3}']);
  assert.equal([...second.waiting()].map((entry) => entry.topic), [TOPIC, TOPIC, TOPIC]);
  // Sequences continue after a restart, so an old acknowledgement never hits a new entry.
  const next = second.append(TOPIC, payload(4), 50)!;
  assert.ok(next.sequence > entries[3].sequence, `sequence ${next.sequence} reused`);
  second.close();
}));

test("outbox discards a torn tail", () => withDir((dir) => {
  const outbox = new Outbox({ dir, fsync: "never" });
  outbox.append(TOPIC, payload(0), 50);
  outbox.append(TOPIC, payload(1), 50);
  outbox.close();
  const path = journalPath(dir);
  const whole = statSync(path).size;
  // A crash in the middle of the second frame.
  truncateSync(path, whole - 20);
  const replayed = new Outbox({ dir });
  assert.is(replayed.depth, 1);
  assert.ok(replayed.stats.discardedBytes > 0, "torn bytes not counted");
  assert.is([...replayed.waiting()][0].payload.toString().trim(), '{"n":0}');
  replayed.close();
}));

test("outbox rejects a corrupt frame", () => withDir((dir) => {
  const outbox = new Outbox({ dir });
  outbox.append(TOPIC, payload(0), 50);
  outbox.append(TOPIC, payload(1), 50);
  outbox.close();
  const path = journalPath(dir);
  const bytes = readFileSync(path);
  // Flip one payload byte of the last frame: its CRC no longer matches.
  bytes[bytes.length - 5] ^= 0xff;
  writeFileSync(path, bytes);
  appendFileSync(path, Buffer.from("garbage after the damage"));
  const replayed = new Outbox({ dir });
  assert.is(replayed.depth, 1);
  assert.ok(replayed.stats.discardedBytes > 24, `discarded ${replayed.stats.discardedBytes}`);
  replayed.close();
}));

test("outbox full drops lowest score first", () => withDir((dir) => {
  // Each entry is topic + 100 payload bytes; room for exactly ten.
  const size = Buffer.byteLength(TOPIC) + 100;
  const outbox = new Outbox({ dir, maxBytes: size * 10 });
  const scores = [50, 20, 90, 20, 70, 60, 80, 30, 40, 95];
  const entries = scores.map((score, i) => outbox.append(TOPIC, payload(i), score)!);
  assert.is(outbox.depth, 10);

  // Two more at score 60: the two entries of score 20 go, the older first.
  assert.ok(outbox.append(TOPIC, payload(10), 60));
  assert.ok(outbox.append(TOPIC, payload(11), 60));
  assert.is(outbox.stats.droppedFull, 2);
  assert.not.ok(outbox.get(entries[1].sequence));
  assert.not.ok(outbox.get(entries[3].sequence));
  assert.ok(outbox.get(entries[7].sequence), "score 30 dropped before score 20");

  // A new entry scoring below everything waiting is itself dropped.
  assert.is(outbox.append(TOPIC, payload(12), 10), undefined);
  assert.is(outbox.stats.droppedFull, 3);
  assert.is(outbox.depth, 10);
  assert.ok(outbox.bytes <= outbox.maxBytes);
  outbox.close();

  // Drops are journaled: a restart does not bring them back.
  const replayed = new Outbox({ dir, maxBytes: size * 10 });
  assert.is(replayed.depth, 10);
  assert.equal([...replayed.waiting()].map((entry) => entry.score).sort((a, b) => a - b), [30, 40, 50, 60, 60, 60, 70, 80, 90, 95]);
  replayed.close();
}));

test("outbox compaction bounds the journal", () => withDir((dir) => {
  const outbox = new Outbox({ dir, fsync: "never" });
  // 20,000 entries of 1 KiB each, acknowledged as they go: 20 MiB written in total.
  for (let i = 0; i < 20_000; i++) {
    const entry = outbox.append(TOPIC, payload(i, 1024), 50)!;
    outbox.acknowledge(entry.sequence);
  }
  const last = outbox.append(TOPIC, payload(20_000, 1024), 50)!;
  assert.ok(outbox.stats.compactions >= 2, `compactions ${outbox.stats.compactions}`);
  assert.ok(outbox.journalBytes < 6 * 1024 * 1024, `journal ${outbox.journalBytes} bytes`);
  assert.is(statSync(journalPath(dir)).size, outbox.journalBytes);
  outbox.close();
  const replayed = new Outbox({ dir });
  assert.is(replayed.depth, 1);
  assert.is(replayed.get(last.sequence)?.payload.toString().trim(), '{"n":20000}');
  replayed.close();
}));

test("outbox rejected entries not replayed", () => withDir((dir) => {
  const outbox = new Outbox({ dir });
  const entry = outbox.append(TOPIC, payload(0), 50)!;
  outbox.reject(entry.sequence);
  assert.is(outbox.stats.droppedRejected, 1);
  outbox.close();
  const replayed = new Outbox({ dir });
  assert.is(replayed.depth, 0);
  replayed.close();
}));

test("outbox invalid settings rejected", () => withDir((dir) => {
  assert.throws(() => new Outbox({ dir, maxBytes: 10 }), /invalid outbox maxBytes 10/);
  assert.throws(() => new Outbox({ dir, fsync: "sometimes" as never }), /invalid outbox fsync policy "sometimes"/);
  assert.throws(() => new Outbox({ dir, fsyncIntervalMs: 0 }), /invalid outbox fsyncIntervalMs 0/);
  const outbox = new Outbox({ dir });
  outbox.close();
  assert.throws(() => outbox.append(TOPIC, payload(0), 50), (error: unknown) => error instanceof OutboxError && /is closed/.test((error as Error).message));
}));

// A full disk, on a 64 KiB tmpfs. Appends fail once it is full, and
// delivered marks that cannot be written neither throw nor lose entries.
// The entries appended after space came back survive a restart, because no
// torn frame is left in front of them.
test("outbox keeps working on a full disk", async () => {
  const ran = await withTmpfs("64k", async (mount) => {
    const dir = join(mount, "outbox");
    const outbox = new Outbox({ dir, fsync: "never" });
    try {
      await fillAndRecover(mount, dir, outbox);
    } finally {
      outbox.close();
    }
  });
  if (!ran) console.log("skipped: mounting a tmpfs needs root");
});

async function fillAndRecover(mount: string, dir: string, outbox: Outbox): Promise<void> {
    const filler = join(mount, "filler");
    writeFileSync(filler, Buffer.alloc(16 * 1024));
    const appended = [];
    let failure: unknown;
    for (let i = 0; i < 1000 && failure === undefined; i++) {
      try {
        appended.push(outbox.append(TOPIC, payload(i, 1000), 50)!);
      } catch (error) {
        failure = error;
      }
    }
    assert.instance(failure, OutboxError);
    assert.match((failure as Error).message, "check free space");
    const beforeFull = statSync(journalPath(dir)).size;
    assert.is(beforeFull, outbox.journalBytes, "the torn frame was cut off");

    outbox.acknowledge(appended[0].sequence);
    assert.is(outbox.stats.acknowledged, 1, "a mark that cannot be written still counts the delivery");
    assert.is(outbox.depth, appended.length - 1);

    rmSync(filler);
    // Delivering every waiting entry empties the journal in place, which needs no free space.
    const fullAgain = join(mount, "filler-2");
    writeFileSync(fullAgain, Buffer.alloc(16 * 1024));
    for (const entry of appended.slice(1)) outbox.acknowledge(entry.sequence);
    assert.is(outbox.depth, 0);
    assert.is(statSync(journalPath(dir)).size, 0, "an empty outbox leaves an empty journal");
    rmSync(fullAgain);
    for (const entry of appended) assert.ok(outbox.append(TOPIC, entry.payload, 50));
    appended.splice(0, appended.length, ...[...outbox.waiting()]);

    const later = outbox.append(TOPIC, payload(5000, 1000), 50)!;
    assert.ok(later.sequence > appended[appended.length - 1].sequence);
    outbox.close();
    const reopened = new Outbox({ dir });
    try {
      assert.is(reopened.stats.discardedBytes, 0);
      const waiting = [...reopened.waiting()].map((entry) => entry.payload.toString().trim());
      assert.ok(waiting.includes('{"n":5000}'), "the entry appended after space came back was lost");
      // Without its delivered mark the first entry is replayed once more.
      const expected = outbox.stats.writeFailures > 0 ? appended.length + 1 : appended.length;
      assert.is(waiting.length, expected, `${outbox.stats.writeFailures} write failures`);
    } finally {
      reopened.close();
    }
}

test.run();
