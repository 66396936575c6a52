// The bounded fuzz run of the test suite, the replay of saved hostile inputs,
// and checks that the harness's own checks can fail.
//
// FIELDSENSE_FUZZ_SEED picks the seed (default: from the clock, printed) and
// FIELDSENSE_FUZZ_SECONDS the run time (default 60). A failing input is saved
// under test/fixtures/fuzz/ and reproduces with the printed seed and index.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { tcpFrame } from "../helpers/frames.js";
import { buildInput, fuzzInWorker, FuzzTarget, loadSaved, saveRegression } from "./engine.js";

const REGRESSION_DIR = join(repoRoot, "test/fixtures/fuzz");

test("bounded fuzz run", async () => {
  const seed = Number(process.env.FIELDSENSE_FUZZ_SEED ?? (Date.now() % 0x100000000));
  const seconds = Number(process.env.FIELDSENSE_FUZZ_SECONDS ?? 60);
  console.log(`  fuzz seed ${seed}, ${seconds} s (rerun with FIELDSENSE_FUZZ_SEED=${seed})`);
  const report = await fuzzInWorker({ seed, seconds });
  console.log(`  fuzz: ${report.inputs} inputs, ${report.frames} frames, ${JSON.stringify(report.generators)}`);
  const saved: string[] = [];
  for (const failure of report.failures.slice(0, 5)) saved.push(await saveRegression(REGRESSION_DIR, failure));

  assert.ok(report.inputs > 0, "no input ran");
  assert.equal(report.failures.slice(0, 5).map((f) => `${f.kind} at seed ${f.seed} input ${f.index} (${f.generator}): ${f.message}`), [],
    `failing inputs saved as ${saved.join(", ")}`);
});

test("saved hostile inputs replay", async () => {
  // Failing inputs the harness saved, and a corpus of generated inputs (one
  // or more per generator, seeded from the project's fixtures only).
  const files = readdirSync(REGRESSION_DIR).filter((f) => f.endsWith(".pcap") || f.endsWith(".json")).sort();
  const target = await FuzzTarget.create();
  assert.ok(files.length > 0, `no saved input in ${REGRESSION_DIR}`);
  for (const file of files) {
    const input = await loadSaved(join(REGRESSION_DIR, file));
    if (!input) {
      console.log(`  skipped: ${file} is built from the public captures, which are absent`);
      continue;
    }
    const failure = target.check(input, 0, 0);
    assert.is(failure?.message, undefined, file);
  }
});

test("reference check catches a changed flow", async () => {
  // A conflicting copy of the reference flow's first request bytes, sent
  // ahead of the real segment, changes what the dissector sees.
  const target = await FuzzTarget.create();
  const input = buildInput(7, 0, []);
  const firstData = input.frames.findIndex((f) => f.bytes.length > 54 && f.bytes[26] === 192 && f.bytes[29] === 10);
  const original = input.frames[firstData];
  const seq = new DataView(original.bytes.buffer, original.bytes.byteOffset).getUint32(38);
  const forged = tcpFrame({ src: "192.0.2.10", dst: "192.0.2.20", srcPort: 40100, dstPort: 502, seq, payload: [0, 0, 0, 0, 0, 6, 1, 3, 0, 99, 0, 1] });
  input.frames.splice(firstData, 0, { ...original, bytes: forged });
  const failure = target.check(input, 7, 0);

  assert.is(failure?.kind, "reference");
});

test("trap check catches a forced trap", async () => {
  const target = await FuzzTarget.create();
  target.armTrap(5);
  const failure = target.check(buildInput(7, 1, []), 7, 1);

  assert.is(failure?.kind, "trap");
});

test.run();
