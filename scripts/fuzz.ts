// Long fuzz run of the WebAssembly core: `npm run fuzz -- [--seconds N]
// [--seed N] [--first-index N] [--no-captures]`. Inputs, checks and the hang
// watchdog are in test/fuzz/engine.ts; the test suite runs the same harness
// for 60 s. Failing inputs are saved under test/fixtures/fuzz/, where the
// suite replays them; commit them with the fix.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../test/helpers/captures.js";
import { fuzzInWorker, saveRegression } from "../test/fuzz/engine.js";

const USAGE = "usage: npm run fuzz -- [--seconds N] [--seed N] [--first-index N] [--no-captures]";

function integer(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    console.error(`invalid --${name} ${text}: expected an integer from 0 to ${max}\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

const { values } = parseArgs({
  options: {
    seconds: { type: "string" },
    seed: { type: "string" },
    "first-index": { type: "string" },
    "no-captures": { type: "boolean" },
  },
});
const seconds = integer("seconds", values.seconds, 600, 7 * 24 * 3600);
const seed = integer("seed", values.seed, Date.now() % 0x100000000, 0xffffffff);
const firstIndex = integer("first-index", values["first-index"], 0, Number.MAX_SAFE_INTEGER);
const useCaptures = !values["no-captures"];

console.log(`fuzz seed ${seed}, first input ${firstIndex}, ${seconds} s, public captures ${useCaptures ? "used when present" : "not used"}`);
const report = await fuzzInWorker({ seed, seconds, firstIndex, useCaptures });
console.log(`${report.inputs} inputs, ${report.frames} frames: ${JSON.stringify(report.generators)}`);
console.log(`anomalies counted: ${JSON.stringify(report.anomalies)}`);
for (const failure of report.failures) {
  const path = await saveRegression(join(repoRoot, "test/fixtures/fuzz"), failure, useCaptures);
  console.log(`FAIL ${failure.kind} at seed ${failure.seed} input ${failure.index} (${failure.generator}): ${failure.message}; saved as ${path}`);
}
process.exit(report.failures.length === 0 ? 0 : 1);
