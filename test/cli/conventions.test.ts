// The conventions of every command that "fieldsense --help" lists. Its help
// goes to stdout with exit code 0 and has an "Exit codes:" paragraph and a
// unit for every numeric option. It takes --json where the output is data.
// A usage error exits with 2 and names the option, the value and where to
// read more. Colour is checked at its source: only code that calls
// useColour() writes colour escapes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { main } from "../../agent/src/cli/main.js";
import { MAIN_HELP } from "../../agent/src/cli/help.js";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

// What each command prints on stdout: "data" for output that scripts read
// (it must take --json), "document" for text made for people or for other
// tools (reports, logs, help), "service" for long-running commands. A command
// that "fieldsense --help" lists and this table lacks fails the test, so a
// new command gets a decision here.
const OUTPUT_KIND: Record<string, "data" | "document" | "service"> = {
  agent: "service",
  status: "data",
  alerts: "data",
  assets: "data",
  extract: "data",
  pcap: "data",
  config: "data",
  modbus: "data",
  replay: "data",
  correlator: "service",
  // Markdown or HTML incident reports. The data is in the correlator's SQLite store.
  report: "document",
  // Runs the whole chain once and prints its alerts and reports for people.
  demo: "document",
  models: "data",
  profiles: "data",
  search: "data",
  help: "document",
};

// Commands below a listed command, named in that command's help.
const SUBCOMMANDS: string[][] = [["correlator", "pcap"]];

// Commands whose help has no "Exit codes:" paragraph yet (none today). The
// test checks that it is still missing, so that an entry is removed once the
// paragraph is added.
const EXIT_CODES_PENDING = new Set<string>();

// Arguments that get each command past its required arguments to the check
// of an option value. If that check were missing, they would point at
// nothing that exists: an interface, files and sockets that do not exist,
// and loopback port 1 where a host or broker is needed.
function baseArgs(command: string[], dir: string): string[] {
  switch (command.join(" ")) {
    case "agent": return ["--interface", "fs-none0", "--data-dir", join(dir, "data"), "--socket", join(dir, "agent.sock")];
    case "status": case "alerts": case "assets": return ["--socket", join(dir, "agent.sock")];
    case "extract": return [join(dir, "absent.pcap"), "--out", join(dir, "files")];
    case "search": return ["score>=70", "--db", join(dir, "correlator.db")];
    case "pcap": return ["--alert", "a1", "-o", join(dir, "out.pcapng"), "--ring", join(dir, "ring")];
    case "modbus": return ["identify", "127.0.0.1:1"];
    case "replay": return [join(dir, "absent.pcap")];
    case "correlator": return ["--broker", "mqtt://127.0.0.1:1", "--db", join(dir, "correlator.db")];
    case "correlator pcap": return ["a1", "--broker", "mqtt://127.0.0.1:1", "--db", join(dir, "correlator.db")];
    default: return [];
  }
}

// The commands of "fieldsense --help": each line of its Commands paragraph
// that starts with two spaces and a word.
function listedCommands(): string[] {
  const paragraph = MAIN_HELP.split("Commands:\n")[1].split("\n\n")[0];
  return paragraph.split("\n").map((line) => /^ {2}([a-z]+)\b/.exec(line)?.[1]).filter((name): name is string => name !== undefined);
}

interface HelpOption {
  name: string;
  metavar: string | undefined;
  description: string;
}

// Options of a help text: lines "  -x, --name METAVAR  description", with the
// description continued on lines indented further.
function optionsOf(help: string): HelpOption[] {
  const options: HelpOption[] = [];
  for (const line of help.split("\n")) {
    const option = /^ {2}(?:-\w, )?(--[a-z][\w-]*)(?: ([A-Z][A-Z_]*))?(?:, --[a-z][\w-]* [A-Z]+)?(?: +(.*))?$/.exec(line);
    if (option) {
      options.push({ name: option[1], metavar: option[2], description: option[3] ?? "" });
      continue;
    }
    const last = options[options.length - 1];
    if (last && /^ {4,}\S/.test(line)) last.description += ` ${line.trim()}`;
  }
  return options;
}

// The paragraph of a help text that starts with "Exit codes:", or undefined.
function exitCodesParagraph(help: string): string | undefined {
  const start = help.search(/^Exit codes: /m);
  if (start < 0) return undefined;
  return help.slice(start).split("\n\n")[0];
}

// Words that give a numeric option its unit, or state that the number is an id
// or a count of things.
const UNIT = /\b(bytes|milliseconds|seconds|minutes|hours|days|times|id|alerts|packets|requests|records|results|matches|hits|incidents|files|hosts|lines)\b/;

const commands = [...listedCommands().map((name) => [name]), ...SUBCOMMANDS];

test("main help lists the commands", () => {
  const names = listedCommands();
  assert.ok(names.length >= 10, names.join(" "));
  for (const name of names) assert.ok(OUTPUT_KIND[name], `"${name}" is listed in "fieldsense --help" but not in OUTPUT_KIND of this test`);
});

test("help exits 0 on stdout", async () => {
  for (const command of commands) {
    const result = await run(...command, "--help");
    const label = command.join(" ");
    assert.is(result.code, 0, `${label} --help exited ${result.code}: ${result.stderr}`);
    assert.is(result.stderr, "", `${label} --help wrote to stderr`);
    assert.ok(result.stdout.startsWith(`Usage: fieldsense ${label}`), `${label} --help starts with: ${result.stdout.split("\n")[0]}`);
    assert.match(result.stdout, /^ {2}-h, --help +show this help$/m, `${label} --help lacks the -h, --help line`);
    assert.not.match(result.stdout, "\x1b[", `${label} --help has escape codes`);
    if (command.length === 1) {
      const viaHelp = await run("help", command[0]);
      assert.is(viaHelp.stdout, result.stdout, `"fieldsense help ${label}" differs from "${label} --help"`);
    }
  }
});

test("help documents exit codes", async () => {
  for (const command of commands) {
    const label = command.join(" ");
    const help = (await run(...command, "--help")).stdout;
    const paragraph = exitCodesParagraph(help);
    if (EXIT_CODES_PENDING.has(label)) {
      assert.is(paragraph, undefined, `${label} --help now has an "Exit codes:" paragraph: remove "${label}" from EXIT_CODES_PENDING`);
      continue;
    }
    assert.ok(paragraph, `${label} --help has no "Exit codes:" paragraph`);
    assert.match(paragraph!, /\b0\s+\w/, `${label}: exit code 0 not described`);
    if (label !== "help") assert.match(paragraph!, /\b1\s+\w/, `${label}: exit code 1 not described`);
    assert.match(paragraph!, /\b2\s+usage\s+error/, `${label}: exit code 2 not described`);
  }
  const top = await run("--help");
  assert.match(top.stdout, "Exit codes: 0 success, 1 failure");
  assert.match(top.stdout, "2 usage error");
});

test("numeric options state units", async () => {
  let numeric = 0;
  for (const command of commands) {
    const label = command.join(" ");
    for (const option of optionsOf((await run(...command, "--help")).stdout)) {
      assert.ok(option.description.length > 0, `${label} ${option.name} has no description`);
      if (option.metavar !== "N" && option.metavar !== "X") continue;
      numeric++;
      assert.match(option.description, UNIT, `${label} ${option.name} ${option.metavar}: "${option.description}" names no unit`);
    }
  }
  // agent, alerts, pcap, modbus, replay, correlator and correlator pcap have some.
  assert.ok(numeric >= 10, `only ${numeric} numeric options found: is optionsOf still reading the help format?`);
});

test("data commands take json", async () => {
  for (const command of commands) {
    const label = command.join(" ");
    const kind = OUTPUT_KIND[command[0]];
    const names = optionsOf((await run(...command, "--help")).stdout).map((option) => option.name);
    if (kind === "data") assert.ok(names.includes("--json"), `${label} prints data but has no --json`);
  }
});

// A copy of the agent example whose CA file exists, because config check
// requires the broker files it names.
const exampleDir = mkdtempSync(join(tmpdir(), "fieldsense-conventions-example-"));
test.after(() => rmSync(exampleDir, { recursive: true, force: true }));

function exampleWithCaFile(): string {
  const caFile = join(exampleDir, "ca.pem");
  writeFileSync(caFile, "placeholder CA\n");
  const example = join(exampleDir, "agent.yaml");
  writeFileSync(example, readFileSync(join(repoRoot, "deploy", "agent.example.yaml"), "utf8").replace("/etc/fieldsense/ca.pem", caFile));
  return example;
}

test("json output parses offline", async () => {
  // The data commands that need neither a running agent nor a capture.
  const example = exampleWithCaFile();
  const cases: [argv: string[], lines: "one" | "each"][] = [
    [["models", "list", "--json"], "each"],
    [["models", "show", "modbus-write-not-master", "--json"], "one"],
    [["config", "check", example, "--json"], "one"],
  ];
  for (const [argv, lines] of cases) {
    const result = await run(...argv);
    const label = argv.join(" ");
    assert.is(result.code, 0, `${label}: ${result.stderr}`);
    assert.not.match(result.stdout, "\x1b[", `${label} has escape codes`);
    const texts = lines === "one" ? [result.stdout] : result.stdout.trim().split("\n");
    assert.ok(result.stdout.trim() !== "", `${label} printed nothing`);
    for (const text of texts) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        assert.unreachable(`${label} printed invalid JSON (${(error as Error).message}): ${text.slice(0, 200)}`);
      }
      assert.type(parsed, "object", label);
    }
  }
});

test("unknown option is a usage error", async () => {
  for (const command of commands) {
    const label = command.join(" ");
    const result = await run(...command, "--no-such-option");
    assert.is(result.code, 2, `${label} --no-such-option exited ${result.code}: ${result.stderr}`);
    assert.match(result.stderr, "--no-such-option", `${label}: the error does not name the option`);
    assert.match(result.stderr, `fieldsense ${command[0]}`, `${label}: the error does not say where to read more`);
    assert.is(result.stdout, "", `${label} wrote to stdout`);
  }
});

test("invalid numbers name option and value", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-conventions-"));
  try {
    let checked = 0;
    for (const command of commands) {
      const label = command.join(" ");
      for (const option of optionsOf((await run(...command, "--help")).stdout)) {
        if (option.metavar !== "N" && option.metavar !== "X") continue;
        const result = await run(...command, ...baseArgs(command, dir), option.name, "12abc");
        assert.is(result.code, 2, `${label} ${option.name} 12abc exited ${result.code}: ${result.stderr}`);
        assert.match(result.stderr, option.name, `${label}: "${result.stderr.trim()}" does not name ${option.name}`);
        assert.match(result.stderr, '"12abc"', `${label} ${option.name}: "${result.stderr.trim()}" does not name the value`);
        checked++;
      }
    }
    assert.ok(checked >= 10, `only ${checked} numeric options checked`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("help on help", async () => {
  for (const argv of [["help", "--help"], ["help", "-h"], ["help", "help"]]) {
    const result = await run(...argv);
    assert.is(result.code, 0, `${argv.join(" ")}: ${result.stderr}`);
    assert.ok(result.stdout.startsWith("Usage: fieldsense help"), argv.join(" "));
  }
});

test("colour only through useColour", () => {
  const folder = join(repoRoot, "agent", "src", "cli");
  // An SGR escape ("ESC [ ... m") written literally or built from a template.
  const colourEscape = /\\x1b\[(?:\$\{|[0-9;]*m)/;
  const painting = readdirSync(folder).filter((name) => name.endsWith(".ts") && colourEscape.test(readFileSync(join(folder, name), "utf8")));
  assert.ok(painting.length >= 1, "no file writes colour: is the pattern still right?");
  for (const name of painting) {
    assert.match(readFileSync(join(folder, name), "utf8"), "useColour(", `${name} writes colour escapes without asking useColour()`);
  }
});

test.run();
