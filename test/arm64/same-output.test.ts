// The agent under arm64 emulation (qemu-aarch64-static -cpu cortex-a53, an
// arm64 Node of the host's version) must print exactly the alerts and records
// that it prints natively, from the same build/core.wasm. Each capture is
// replayed once natively and once emulated with
// `fieldsense replay FILE --json --records`, and the NDJSON streams are
// compared line by line with NaN values made equal (see compare.ts).
//
// Needs `npm run build` first (dist/ and build/core.wasm): the emulated Node
// cannot run TypeScript through tsx, whose esbuild is a native x86 binary.
// Skips with a printed reason when this machine cannot prepare the emulator.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { capture, repoRoot } from "../helpers/captures.js";
import { canonicalNdjsonLines, lineDiff } from "./compare.js";
import { describeExit, NATIVE_ADDON_GUARD, prepareEmulator, runNode, type Emulator, type NodeRun } from "./emulator.js";

const CORE_WASM = join(repoRoot, "build/core.wasm");
const PROBE = join(repoRoot, "test/arm64/probe.mjs");
const CLI = join(repoRoot, "bin/fieldsense.js");
// Labels of the two runs in diffs: the host's architecture, such as x64.
const NATIVE_LABEL = process.arch;
const EMULATED_LABEL = "arm64";

// Returns the emulator, or undefined after printing why the test is skipped.
function emulatorOrSkip(): Emulator | undefined {
  const preparation = prepareEmulator();
  if ("skipReason" in preparation) {
    console.log(`  skipped: ${preparation.skipReason}`);
    return undefined;
  }
  return preparation.emulator;
}

interface Probe {
  arch: string;
  node: string;
  coreSha256: string;
  coreImports: string[];
  coreExports: string[];
  nanBits: string;
}

function parseProbe(label: string, run: NodeRun): Probe {
  assert.is(run.exitCode, 0, describeExit(label, run));
  return JSON.parse(run.stdout) as Probe;
}

function isNanBits(hex: string): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return Number.isNaN(view.getFloat64(0));
}

test("arm64 node compiles the same core.wasm", async () => {
  const emulator = emulatorOrSkip();
  if (!emulator) return;
  const native = parseProbe("native", await runNode([PROBE, CORE_WASM]));
  const emulated = parseProbe("emulated", await runNode([PROBE, CORE_WASM], emulator));

  assert.is(emulated.arch, "arm64");
  assert.is(emulated.node, native.node, "the emulated Node must be the host's version");
  assert.is(emulated.coreSha256, native.coreSha256, "both runs must read the same build/core.wasm");
  assert.equal(emulated.coreImports, native.coreImports);
  assert.equal(emulated.coreExports, native.coreExports);
  // The bits may differ, because x86 sets the sign bit and arm64 does not,
  // but both must be a NaN.
  assert.ok(isNanBits(native.nanBits), `native 0/0 gave ${native.nanBits}, not a NaN`);
  assert.ok(isNanBits(emulated.nanBits), `emulated 0/0 gave ${emulated.nanBits}, not a NaN`);
});

interface ReplayCase {
  name: string;
  capture: string;
}

const REPLAY_CASES: ReplayCase[] = [
  // Nearly every public Modbus function code on 127.0.0.1, and one FC3
  // exception ILLEGAL_DATA_ADDRESS.
  { name: "modbus many function codes", capture: "modbus/icsnpp_modbus_example_many_fc.pcap" },
  // Lateral movement, captured mid-stream: SMB2 opens the atsvc named pipe,
  // binds ATSVC over DCE-RPC and calls NetrJobAdd for c:\mimikatz.exe.
  { name: "smb at job over atsvc", capture: "dcerpc/401trg_smb_at_schedule_atsvc.pcap" },
  // Malformed: an NTLMSSP AV_PAIR list that Zeek reports as an AV pair loop
  // underflow.
  { name: "ntlm unterminated av pairs", capture: "ntlm/zeek_ntlm-unterminated-av-sequence_malformed.pcap" },
];

// Arguments for one replay. The site and gateway are fixed because both
// appear in every alert.
function replayArgs(path: string): string[] {
  return ["--import", NATIVE_ADDON_GUARD, CLI, "replay", path, "--json", "--records", "--site", "arm64-check", "--gateway", "replay"];
}

// The summary `fieldsense replay` writes to stderr (packets, records per
// type, alerts, anomalies), without pino's JSON log lines.
function summaryLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line !== "" && !line.startsWith("{"));
}

// Fails with the line diff as the assertion's details, which uvu prints
// below the one-line message.
function assertSameLines(native: string[], emulated: string[], subject: string): void {
  const diff = lineDiff(native, emulated, NATIVE_LABEL, EMULATED_LABEL);
  if (diff === "") return;
  throw new assert.Assertion({
    message: `${subject} differ between ${NATIVE_LABEL} and ${EMULATED_LABEL} (emulated)`,
    details: diff,
    operator: "lineDiff",
    expects: native,
    actual: emulated,
  });
}

for (const replay of REPLAY_CASES) {
  test(`same output on arm64: ${replay.name}`, async () => {
    const path = capture(replay.capture);
    if (!path) return;
    const emulator = emulatorOrSkip();
    if (!emulator) return;

    const native = await runNode(replayArgs(path));
    assert.is(native.exitCode, 0, describeExit(`native ${NATIVE_LABEL}`, native));
    const emulated = await runNode(replayArgs(path), emulator);
    assert.is(emulated.exitCode, 0, describeExit("emulated arm64", emulated));

    const nativeLines = canonicalNdjsonLines(native.stdout);
    assert.ok(nativeLines.length > 0, `native replay of ${replay.capture} printed no records or alerts`);
    assertSameLines(nativeLines, canonicalNdjsonLines(emulated.stdout), `alerts and records of ${replay.capture}`);
    assertSameLines(summaryLines(native.stderr), summaryLines(emulated.stderr), `replay summary of ${replay.capture}`);
  });
}

test.run();
