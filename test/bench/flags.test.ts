// The benchmark starts the CLI with the Node flags of its `#!` line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cliNodeFlags, comparisonCommands, FIELDSENSE_LABEL } from "../../bench/comparisons.js";
import { repoRoot } from "../helpers/captures.js";

test("cli flags come from shebang", () => {
  const flags = cliNodeFlags(repoRoot);
  assert.ok(flags.length > 0, "bin/fieldsense.js should name at least one Node flag after `node`");
  for (const flag of flags) assert.match(flag, /^--[a-z-]+(=\S+)?$/);
});

test("replay side runs with cli flags", () => {
  const time = { command: "/usr/bin/time", debianPackage: "time" };
  const [replay] = comparisonCommands("/tmp/x.pcap", { time, plainPipeline: false }, repoRoot);
  assert.is(replay.label, FIELDSENSE_LABEL);
  const script = replay.argv.indexOf("bin/fieldsense.js");
  assert.equal(replay.argv.slice(1, script), cliNodeFlags(repoRoot));
  assert.equal(replay.argv.slice(script + 1), ["replay", "/tmp/x.pcap", "--json"]);
});

test.run();
