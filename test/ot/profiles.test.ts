// Firmware profiles: the shipped files, schema errors, matching and the core
// table they compile to.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Core } from "../../agent/src/core/core.js";
import { main } from "../../agent/src/cli/main.js";
import {
  compareRevisions, identityMatches, loadProfiles, packageProfilesDir, parseProfileFile, ProfileError, revisionInRange, advisoriesFor,
} from "../../agent/src/profiles/profiles.js";
import { bindProfiles, compileProfileTable, installProfileTable, mergeRanges } from "../../agent/src/profiles/bindings.js";
import type { OtDevice } from "../../agent/src/inventory/ot-inventory.js";
import { tempYaml } from "./run.js";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

function device(ip: string, identity: Partial<OtDevice["identities"][number]> = {}): OtDevice {
  return {
    ip, roles: ["server"], protocols: ["modbus"], first_seen: "", last_seen: "", unit_ids: [], function_codes: [], registers: [],
    masters: [], servers: [], exceptions: 0, identities: Object.keys(identity).length > 0 ? [{ source: "modbus", seen: "", ...identity }] : [],
  };
}

test("shipped profiles validate", () => {
  const files = readdirSync(packageProfilesDir).filter((f) => f.endsWith(".yaml"));
  assert.ok(files.length >= 6, `${files.length} profiles shipped`);
  for (const name of files) {
    const file = join(packageProfilesDir, name);
    const { spec } = parseProfileFile(file, readFileSync(file, "utf8"));
    assert.is(`${spec.id}.yaml`, name, "file name and id agree");
    assert.ok(spec.sources.length > 0 && spec.sources.every((s) => /^https?:\/\//.test(s.url)), `${name} cites its sources`);
    for (const v of spec.vulnerable_revisions ?? []) {
      assert.ok(spec.sources.some((s) => s.url === v.source), `${name}: the source of ${v.advisories.join(",")} is in sources`);
    }
  }
  assert.is(loadProfiles().length, files.length);
});

const VALID = `id: site-plc
name: Site PLC
protocol: modbus
match:
  addresses: ["10.0.0.5/3"]
registers:
  holding_registers:
    writable:
      - { first: 10, last: 20 }
sources:
  - { title: t, url: "https://example.invalid/t" }
`;

test("profile errors name file, line and key", () => {
  const cases: [string, string, string, number, string][] = [
    ["unknown key", VALID.replace("protocol: modbus", "protocol: modbus\nfirmware: 2"), "profile.unknown_key", 4, "firmware"],
    ["missing key", VALID.replace("name: Site PLC\n", ""), "profile.missing_key", 1, "name"],
    ["wrong value", VALID.replace("protocol: modbus", "protocol: bacnet"), "profile.value_invalid", 3, "protocol"],
    ["range order", VALID.replace("{ first: 10, last: 20 }", "{ first: 30, last: 20 }"), "profile.value_invalid", 9, "first"],
    ["address", VALID.replace("10.0.0.5/3", "10.0.0.500"), "profile.value_invalid", 5, "addresses"],
    ["unit id", VALID.replace("10.0.0.5/3", "10.0.0.5/300"), "profile.value_invalid", 5, "addresses"],
    ["yaml", VALID.replace("name: Site PLC", "name: [Site"), "profile.yaml_invalid", 3, ""],
  ];
  for (const [what, text, code, line, key] of cases) {
    const file = tempYaml("bad.yaml", text);
    try {
      parseProfileFile(file, text);
      assert.unreachable(`${what}: accepted`);
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      assert.is(error.code, code, `${what}: ${error.message}`);
      assert.is(error.line, line, `${what}: ${error.message}`);
      assert.ok(error.message.includes(`${file} line ${line}`), `${what}: ${error.message}`);
      if (key) assert.is(error.key, key, `${what}: ${error.message}`);
    }
  }
});

test("profiles validate command", async () => {
  const good = await run("profiles", "validate");
  assert.is(good.code, 0, good.stderr);
  assert.match(good.stdout, /firmware profiles valid: .*schneider-modicon-m221/);
  const bad = tempYaml("bad.yaml", VALID.replace("protocol: modbus", "protocol: modbus\nfirmware: 2"));
  const rejected = await run("profiles", "validate", bad);
  assert.is(rejected.code, 1);
  assert.ok(rejected.stderr.includes(`${bad} line 4: unknown key "firmware"`), rejected.stderr);
  const json = await run("profiles", "validate", bad, "--json");
  assert.equal(JSON.parse(json.stdout).error.key, "firmware");
  const listed = await run("profiles", "list", "--json");
  assert.is(listed.stdout.trim().split("\n").length, loadProfiles().length);
  const usage = await run("profiles", "compare");
  assert.is(usage.code, 2);
  assert.match(usage.stderr, 'unknown action "compare"');
});

test("revision comparison", () => {
  assert.ok(compareRevisions("2.10", "2.9") > 0);
  assert.is(compareRevisions("V2.7", "2.7.0"), 0);
  assert.ok(compareRevisions("03.01.07(13)", "03.10.08(22)") < 0);
  assert.ok(revisionInRange("1.5.1.0", { below: "1.6.2.0" }));
  assert.not.ok(revisionInRange("1.6.2.0", { below: "1.6.2.0" }));
  assert.ok(revisionInRange("03.10.08(22)", { min: "03.01.07(13)", max: "03.10.08(22)" }));
  assert.not.ok(revisionInRange(undefined, { below: "2" }));
  assert.not.ok(revisionInRange("unknown", { below: "2" }));
});

test("profile match by identity", () => {
  const profiles = loadProfiles();
  const m221 = profiles.find((p) => p.spec.id === "schneider-modicon-m221")!;
  assert.ok(identityMatches(m221.spec, { vendor_name: " schneider electric ", product_code: "TM221 CE16R", revision: "1.3" }));
  assert.not.ok(identityMatches(m221.spec, { vendor_name: "Schneider Electric", product_code: "BMXP342020" }));
  assert.not.ok(identityMatches(m221.spec, { vendor_name: "WAGO", product_code: "TM221CE16R" }));
  assert.equal(advisoriesFor(m221.spec, { revision: "1.5" }).flatMap((v) => v.advisories), ["ICSA-18-240-01", "ICSA-18-240-02"]);
  assert.equal(advisoriesFor(m221.spec, { revision: "1.6.2.0" }), []);

  const wago = profiles.find((p) => p.spec.id === "wago-750-ethernet-controller")!;
  assert.equal(advisoriesFor(wago.spec, { product_code: "750-881", revision: "FW13" }).flatMap((v) => v.advisories), ["AV19-083", "SA-SYS-2019-001"]);
  assert.equal(advisoriesFor(wago.spec, { product_code: "750-841", revision: "FW13" }), []);

  const bindings = bindProfiles(profiles, [
    device("10.0.0.7", { vendor_name: "Schneider Electric", product_code: "BMX P34 2020", revision: "2.90", unit_id: 255 }),
    device("10.0.0.8", { vendor_name: "Acme", product_code: "X1" }),
  ]);
  const bound = bindings.filter((b) => b.ip.startsWith("10.0.0."));
  assert.equal(bound.map((b) => [b.profile.spec.id, b.ip, b.unitId, b.reason, b.advisories.flatMap((v) => v.advisories)]), [
    ["schneider-modicon-m340", "10.0.0.7", 255, "identity", ["CVE-2019-6819"]],
  ]);
});

test("profile match by address", () => {
  const file = tempYaml("site.yaml", VALID);
  const profiles = loadProfiles([file]);
  const bindings = bindProfiles(profiles, [device("10.0.0.5", { vendor_name: "Acme", unit_id: 3 })]);
  assert.is(bindings.length, 1);
  assert.is(bindings[0].ip, "10.0.0.5");
  assert.is(bindings[0].unitId, 3);
  assert.is(bindings[0].reason, "address");
  assert.is(bindings[0].identity?.vendor_name, "Acme");
});

test("profile table layout and core install", async () => {
  assert.equal(mergeRanges([{ first: 20, last: 30 }, { first: 0, last: 9 }, { first: 10, last: 12 }, { first: 25, last: 40 }]), [{ first: 0, last: 12 }, { first: 20, last: 40 }]);
  const profiles = loadProfiles([tempYaml("site.yaml", VALID)]);
  const table = compileProfileTable(bindProfiles(profiles, []));
  const view = new DataView(table.buffer);
  assert.is(view.getUint32(0, true), 0x54505346);
  assert.is(view.getUint16(6, true), 1);
  assert.is(view.getUint32(8, true), table.length);
  assert.is(table[16 + 4], 4, "IPv4");
  assert.is(table[16 + 5], 3, "unit id");
  assert.is(table[16 + 6], 4, "writable ranges stated, one unit id, no masters or function codes");
  assert.equal([...table.subarray(16 + 12, 16 + 16)], [10, 0, 0, 5]);
  assert.is(view.getUint16(16 + 60 + 2, true), 10);
  assert.is(view.getUint16(16 + 60 + 4, true), 20);

  const core = await Core.load();
  installProfileTable(core, bindProfiles(profiles, []));
  assert.is(core.exportFunction("profileDeviceCount")(), 1);
  const corrupt = table.slice();
  corrupt[0] = 0;
  assert.is(core.callWithScratch("loadProfiles", corrupt), -2);
  const truncated = table.slice(0, table.length - 4);
  new DataView(truncated.buffer).setUint32(8, truncated.length, true);
  assert.is(core.callWithScratch("loadProfiles", truncated), -6);
  assert.is(core.exportFunction("profileDeviceCount")(), 1, "a rejected table leaves the installed one");
});

test.run();
