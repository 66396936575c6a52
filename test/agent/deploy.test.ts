// The deployment files, checked without systemd. The unit's ExecStart parses
// with the agent's own argument parser and configuration loader. The
// capabilities it keeps are the ones docs/deploy.md lists, and they are
// enough to start the agent twice. The README's deploy steps name files that
// exist.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { agentConfigFrom, parseAgentArgs } from "../../agent/src/cli/agent.js";
import { missingLivePrerequisite, nobodyUid, runCli, startAgent, uidOf, writeAgentConfig } from "./live-agent.js";

const UNIT_FILE = join(repoRoot, "deploy", "fieldsense-agent.service");
// Where the unit expects the package; its paths below this map to the checkout.
const INSTALL_DIR = "/opt/fieldsense";

type Unit = Map<string, Map<string, string[]>>;

// Reads a systemd unit file (systemd.syntax(7)): [Section] headers, Key=Value
// lines, "#" and ";" comments, and a trailing backslash continuing a line. A
// key may repeat, so each key has a list of values.
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1], section);
      continue;
    }
    const assignment = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!assignment || !section) throw new Error(`${UNIT_FILE} line ${index + 1}: not a [Section] or Key=Value line: ${line}`);
    section.set(assignment[1], [...(section.get(assignment[1]) ?? []), assignment[2]]);
  }
  return unit;
}

function unitValue(unit: Unit, section: string, key: string): string {
  const values = unit.get(section)?.get(key);
  if (!values || values.length !== 1) throw new Error(`${UNIT_FILE}: expected one ${key}= in [${section}], found ${values?.length ?? 0}`);
  return values[0];
}

// Splits a command line as systemd.service(5) does for ExecStart, for the
// words the unit uses: spaces separate, double or single quotes group.
function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(match[1] ?? match[2] ?? match[3]);
  return words;
}

// Capability numbers from linux/capability.h, for the names a unit may keep.
const CAPABILITY_NUMBERS: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5,
  CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19,
  CAP_SYS_ADMIN: 21, CAP_SYS_RESOURCE: 24,
};

function unitCapabilities(unit: Unit): string[] {
  return unitValue(unit, "Service", "CapabilityBoundingSet").split(/\s+/).sort();
}

// The CAP_ names in the first column of the capability table of docs/deploy.md.
function documentedCapabilities(): string[] {
  const doc = readFileSync(join(repoRoot, "docs", "deploy.md"), "utf8");
  return [...doc.matchAll(/^\| `(CAP_[A-Z_]+)` \|/gm)].map((match) => match[1]).sort();
}

// A field of /proc/PID/status, such as CapBnd or CapEff, as a bit mask.
function capabilityMask(pid: number, field: string): bigint {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return BigInt(`0x${line.split(/\s+/)[1]}`);
}

test("unit ExecStart parses as an agent command", async () => {
  const unit = parseUnit(readFileSync(UNIT_FILE, "utf8"));
  const argv = splitCommandLine(unitValue(unit, "Service", "ExecStart"));
  assert.is(argv[0], "/usr/bin/node", "systemd needs an absolute path to node");
  assert.ok(argv[1].startsWith(`${INSTALL_DIR}/`), `the unit runs ${argv[1]}, outside ${INSTALL_DIR}`);
  const entry = join(repoRoot, relative(INSTALL_DIR, argv[1]));
  assert.ok(existsSync(entry), `${argv[1]} maps to ${entry}, which does not exist`);
  assert.is(argv[2], "agent");

  const { values, positionals } = parseAgentArgs(argv.slice(3));
  assert.equal(positionals, []);
  assert.is(values.config, "/etc/fieldsense/agent.yaml");

  // The unit's comment names the example to copy to that path.
  const example = /example: (deploy\/[\w.-]+\.yaml)/.exec(readFileSync(UNIT_FILE, "utf8"))?.[1];
  assert.ok(example, "the unit's comment names no example configuration");
  const examplePath = join(repoRoot, example!);
  // The shipped example is valid as it stands; with its ca_file line turned
  // on, config check requires that file, and a copy naming an existing one
  // is valid again.
  const shipped = await runCli("config", "check", examplePath);
  assert.is(shipped.code, 0, shipped.stderr);
  const copyDir = mkdtempSync(join(tmpdir(), "fieldsense-example-"));
  try {
    const text = readFileSync(examplePath, "utf8");
    assert.match(text, "# ca_file: /etc/fieldsense/ca.pem");
    const withCa = text.replace("# ca_file: /etc/fieldsense/ca.pem", "ca_file: /etc/fieldsense/ca.pem");
    const missing = join(copyDir, "missing-ca.yaml");
    writeFileSync(missing, withCa);
    const missingCheck = await runCli("config", "check", missing);
    assert.is(missingCheck.code, 1, missingCheck.stderr);
    assert.match(missingCheck.stderr, "broker.ca_file: /etc/fieldsense/ca.pem not found");
    const caFile = join(copyDir, "ca.pem");
    writeFileSync(caFile, "placeholder CA\n");
    const copy = join(copyDir, "agent.yaml");
    writeFileSync(copy, withCa.replace("/etc/fieldsense/ca.pem", caFile));
    const check = await runCli("config", "check", copy);
    assert.is(check.code, 0, check.stderr);
    assert.match(check.stdout, "valid");
  } finally {
    rmSync(copyDir, { recursive: true, force: true });
  }

  // The example's folders are the ones the unit lets the agent write.
  const config = agentConfigFrom({ ...values, config: examplePath });
  const writable = unitValue(unit, "Service", "ReadWritePaths").split(/\s+/);
  assert.is(config.dataDir, `/var/lib/${unitValue(unit, "Service", "StateDirectory")}`);
  assert.is(dirname(config.controlSocket), `/run/${unitValue(unit, "Service", "RuntimeDirectory")}`);
  assert.ok(writable.includes(config.dataDir), `ReadWritePaths lacks ${config.dataDir}`);
  assert.ok(writable.includes(dirname(config.controlSocket)), `ReadWritePaths lacks ${dirname(config.controlSocket)}`);

  const documentation = unitValue(unit, "Unit", "Documentation");
  assert.ok(documentation.startsWith(`file://${INSTALL_DIR}/`), documentation);
  assert.ok(existsSync(join(repoRoot, relative(INSTALL_DIR, documentation.slice("file://".length)))), documentation);
});

test("unit capabilities match the docs", () => {
  const unit = parseUnit(readFileSync(UNIT_FILE, "utf8"));
  const boundingSet = unitCapabilities(unit);
  assert.ok(boundingSet.includes("CAP_NET_RAW"), "the capture needs CAP_NET_RAW");
  assert.equal(documentedCapabilities(), boundingSet, "the capability table of docs/deploy.md and CapabilityBoundingSet differ");
  for (const name of boundingSet) assert.ok(CAPABILITY_NUMBERS[name] !== undefined, `${name} is not a capability this test knows`);
  assert.is(unitValue(unit, "Service", "NoNewPrivileges"), "yes");
  const families = unitValue(unit, "Service", "RestrictAddressFamilies").split(/\s+/);
  for (const family of ["AF_PACKET", "AF_UNIX", "AF_INET"]) assert.ok(families.includes(family), `RestrictAddressFamilies lacks ${family}`);
  // Without User= systemd starts the agent as root, which it needs to open
  // the capture before it switches to the configured user.
  assert.is(unit.get("Service")?.get("User"), undefined);
});

test("unit capabilities start the agent", async () => {
  const missing = missingLivePrerequisite();
  if (missing) {
    console.log(`  skipped unit capabilities start the agent: ${missing}`);
    return;
  }
  const unit = parseUnit(readFileSync(UNIT_FILE, "utf8"));
  const boundingSet = unitCapabilities(unit);
  const suffix = randomBytes(3).toString("hex");
  const namespace = `fs-test-${suffix}`;
  try {
    execFileSync("ip", ["netns", "add", namespace], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    console.log(`  skipped unit capabilities start the agent: "ip netns add" is not permitted here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}); run the tests as root with CAP_SYS_ADMIN to include it`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-unit-"));
  const agents: ReturnType<typeof startAgent>[] = [];
  try {
    // A veth pair of the namespace's own gives an Ethernet interface that
    // nothing else uses; no address is needed, nothing is sent.
    execFileSync("ip", ["-n", namespace, "link", "add", "mirror0", "type", "veth", "peer", "name", "mirror1"]);
    execFileSync("ip", ["-n", namespace, "link", "set", "mirror0", "up"]);
    execFileSync("ip", ["-n", namespace, "link", "set", "mirror1", "up"]);
    const { config, socket } = writeAgentConfig(dir, [
      "capture:",
      "  interface: mirror0",
      "  promiscuous: true",
    ]);
    const bounding = boundingSet.map((name) => `+${name.slice("CAP_".length).toLowerCase()}`).join(",");
    const wrapper = ["ip", "netns", "exec", namespace, "setpriv", `--bounding-set=-all,${bounding}`, "--no-new-privs"];
    const expectedBounding = boundingSet.reduce((mask, name) => mask | (1n << BigInt(CAPABILITY_NUMBERS[name])), 0n);

    // The second start finds the data directory the first gave to nobody.
    for (const round of ["first start", "second start"]) {
      const started = startAgent(["--config", config], wrapper);
      agents.push(started);
      const agent = await started;
      assert.match(agent.stdout(), '"agent running"', `${round}: ${agent.stdout()}${agent.stderr()}`);
      const pid = agent.child.pid!;
      assert.is(uidOf(pid), nobodyUid()!, round);
      assert.is(capabilityMask(pid, "CapBnd"), expectedBounding, `${round}: bounding set`);
      assert.is(capabilityMask(pid, "CapEff"), 0n, `${round}: effective set after the switch`);
      const promiscuity = /promiscuity (\d+)/.exec(execFileSync("ip", ["-n", namespace, "-d", "link", "show", "mirror0"], { encoding: "utf8" }))?.[1];
      assert.is(promiscuity, "1", `${round}: promiscuous mode`);
      const status = await runCli("status", "--socket", socket, "--json");
      assert.is(status.code, 0, status.stderr);
      assert.is((JSON.parse(status.stdout) as { capture: { interface: string } }).capture.interface, "mirror0");
      agent.child.kill("SIGTERM");
      assert.is(await agent.exited, 0, `${round}: ${agent.stdout()}${agent.stderr()}`);
    }
    accessSync(join(dir, "data", "baselines.snapshot"), constants.F_OK);
  } finally {
    for (const started of agents) {
      const agent = await started.catch(() => undefined);
      if (agent && agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill("SIGKILL");
    }
    try { execFileSync("ip", ["netns", "delete", namespace]); } catch (error) { console.error(`cleanup: ip netns delete ${namespace} failed: ${(error as Error).message}`); }
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readme deploy steps name existing files", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = readme.split("\n## Deploy on a gateway\n")[1]?.split("\n## ")[0];
  assert.ok(section, 'README.md has no "## Deploy on a gateway" section');
  const steps = section!.split("\n").filter((line) => line.startsWith("    ")).map((line) => line.trim());
  assert.ok(steps.length >= 5, `only ${steps.length} steps`);

  // Every repository path the section names exists.
  const paths = [...section!.matchAll(/(?<![\w/])((?:deploy|docs|bin)\/[\w./-]*\w|[A-Z]+\.md)\b/g)].map((match) => match[1]);
  assert.ok(paths.length >= 5, paths.join(" "));
  for (const path of paths) assert.ok(existsSync(join(repoRoot, path)), `README names ${path}, which does not exist`);

  // The steps put the files where the unit looks for them.
  const unitText = readFileSync(UNIT_FILE, "utf8");
  const unit = parseUnit(unitText);
  const argv = splitCommandLine(unitValue(unit, "Service", "ExecStart"));
  const configPath = argv[argv.indexOf("--config") + 1];
  assert.ok(steps.some((step) => /\bcp deploy\/agent\.example\.yaml /.test(step) && step.includes(` ${configPath}`)), `no step copies the example to ${configPath}`);
  assert.ok(steps.some((step) => step.includes(`mkdir -p ${dirname(configPath)}`)), `no step creates ${dirname(configPath)}`);
  assert.ok(steps.some((step) => step.includes(`config check ${configPath}`)), `no step checks ${configPath}`);
  assert.ok(steps.some((step) => step.includes(`cp -r . ${INSTALL_DIR}`)), `no step installs to ${INSTALL_DIR}`);
  assert.ok(steps.some((step) => step.includes(`${argv[1]} /usr/local/bin/fieldsense`)), "no step puts fieldsense on the PATH");
  assert.ok(steps.some((step) => step.includes("cp deploy/fieldsense-agent.service /etc/systemd/system/")), "no step installs the unit");
  assert.ok(steps.some((step) => step.includes("enable --now fieldsense-agent")), "no step starts the unit");

  // The account the steps create is the one the example configuration names.
  const example = readFileSync(join(repoRoot, "deploy", "agent.example.yaml"), "utf8");
  const user = /^user: (\S+)/m.exec(example)?.[1];
  assert.ok(user, "the example configuration sets no user");
  assert.ok(steps.some((step) => new RegExp(`useradd .*\\b${user}$`).test(step)), `no step creates the user ${user}`);
  assert.ok(steps.some((step) => step.includes(`chgrp ${user} ${configPath}`)), `no step lets ${user} read ${configPath} for SIGHUP`);
});

test.run();
