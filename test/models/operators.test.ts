// The not_in and ends_with operators, and conditions on the record's src
// and dst addresses, evaluated by the core's model engine.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModelSet, ModelError, parseAddressPrefix } from "../../agent/src/core/models.js";
import { repoRoot } from "../helpers/captures.js";
import { Engine, modelFolder, modelYaml, type PacketContext, type Value } from "./engine.js";

const CTX: PacketContext = { tsSec: 1_700_000_000, flowId: 7, src: "10.1.1.5", srcPort: 49200, dst: "10.1.1.9", dstPort: 445 };

async function engineWith(conditions: string): Promise<Engine> {
  const engine = await Engine.create();
  const set = await loadModelSet(modelFolder({ "m.yaml": modelYaml("m", "dcerpc", conditions) }));
  set.install(engine, { learningSeconds: 0 });
  return engine;
}

function fires(engine: Engine, fields: [string, Value][], ctx: Partial<PacketContext> = {}): boolean {
  engine.record("dcerpc", { ...CTX, ...ctx }, fields);
  return engine.alerts().length > 0;
}

test("not_in on text", async () => {
  const engine = await engineWith("  - field: operation\n    not_in: [DRSBind, DRSUnbind]");
  assert.ok(fires(engine, [["operation", "DRSGetNCChanges"]]));
  assert.not.ok(fires(engine, [["operation", "DRSBind"]]));
  assert.not.ok(fires(engine, [["opnum", 3]]), "an absent field must not match");
});

test("not_in on numbers", async () => {
  const engine = await engineWith("  - field: opnum\n    not_in: [0, 1]");
  assert.ok(fires(engine, [["opnum", 3]]));
  assert.not.ok(fires(engine, [["opnum", 1]]));
});

test("not_in empty excludes nothing", async () => {
  const engine = await engineWith("  - field: opnum\n    not_in: []");
  assert.ok(fires(engine, [["opnum", 3]]));
});

test("ends_with ignores ASCII case", async () => {
  const engine = await engineWith("  - field: operation\n    ends_with: [.exe, .PS1]");
  assert.ok(fires(engine, [["operation", "PSEXESVC.EXE"]]));
  assert.ok(fires(engine, [["operation", "run.ps1"]]));
  assert.not.ok(fires(engine, [["operation", "setup.exe.config"]]));
  assert.not.ok(fires(engine, [["operation", "exe"]]));
});

test("ends_with on bytes compares hex", async () => {
  const engine = await engineWith("  - field: interface_uuid\n    ends_with: c2dcd2");
  assert.ok(fires(engine, [["interface_uuid", { bytes: [0x04, 0xc2, 0xdc, 0xd2] }]]));
  assert.not.ok(fires(engine, [["interface_uuid", { bytes: [0xc2, 0xdc, 0xd2, 0x04] }]]));
});

test("src equals an address", async () => {
  const engine = await engineWith("  - field: src\n    equals: 10.1.1.5");
  assert.ok(fires(engine, [["opnum", 3]]));
  assert.not.ok(fires(engine, [["opnum", 3]], { src: "10.1.1.6" }));
});

test("src not_in excludes domain controllers", async () => {
  const engine = await engineWith("  - field: src\n    not_in: [10.1.0.10, 10.1.0.11, 10.2.0.0/16]");
  assert.ok(fires(engine, [["opnum", 3]]));
  assert.not.ok(fires(engine, [["opnum", 3]], { src: "10.1.0.10" }));
  assert.not.ok(fires(engine, [["opnum", 3]], { src: "10.2.200.7" }));
  assert.ok(fires(engine, [["opnum", 3]], { src: "10.3.0.1" }));
});

test("dst in prefix with odd length", async () => {
  const engine = await engineWith("  - field: dst\n    in: [10.1.1.8/31]");
  assert.ok(fires(engine, [["opnum", 3]]));
  assert.ok(fires(engine, [["opnum", 3]], { dst: "10.1.1.8" }));
  assert.not.ok(fires(engine, [["opnum", 3]], { dst: "10.1.1.10" }));
});

test("src on ipv6 records", async () => {
  const engine = await engineWith("  - field: src\n    in: [\"fd00:1::/32\"]");
  assert.ok(fires(engine, [["opnum", 3]], { src: "fd00:1:2::5", dst: "fd00:1:2::9" }));
  assert.not.ok(fires(engine, [["opnum", 3]], { src: "fd00:2::5", dst: "fd00:1:2::9" }));
  assert.not.ok(fires(engine, [["opnum", 3]]), "an IPv4 record must not match an IPv6 prefix");
});

test("address parser", () => {
  assert.equal([...parseAddressPrefix("::ffff:10.0.0.1")!.bytes], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
  assert.equal([...parseAddressPrefix("fe80::1")!.bytes].slice(0, 2), [0xfe, 0x80]);
  assert.is(parseAddressPrefix("fe80::1")!.bytes[15], 1);
  assert.is(parseAddressPrefix("10.0.0.0/8")!.prefix, 8);
  assert.is(parseAddressPrefix("10.0.0.0/33"), undefined);
  assert.is(parseAddressPrefix("10.0.0/8"), undefined);
  assert.is(parseAddressPrefix("dc1.corp"), undefined);
});

const rejected: [string, string, RegExp][] = [
  ["range on an address", "  - field: src\n    range: {min: 1, max: 2}", /addresses take equals, in, not_in or exists/],
  ["host name as address", "  - field: dst\n    equals: dc1.corp", /not an IP address or prefix/],
  ["number as address", "  - field: src\n    in: [167837962]", /not an IP address or prefix/],
];

for (const [name, conditions, message] of rejected) {
  test(`model rejects ${name}`, async () => {
    try {
      const engine = await Engine.create();
      (await loadModelSet(modelFolder({ "m.yaml": modelYaml("m", "dcerpc", conditions) }))).install(engine, { learningSeconds: 0 });
      assert.unreachable("the model must be rejected");
    } catch (error) {
      assert.instance(error, ModelError);
      assert.match((error as Error).message, message);
      assert.match((error as Error).message, /line \d+/);
    }
  });
}

test("it-dcsync skips listed domain controllers", async () => {
  const shipped = readFileSync(`${repoRoot}/models/it-dcsync.yaml`, "utf8");
  assert.match(shipped, /not_in: \[\]/);
  const engine = await Engine.create();
  const set = await loadModelSet(modelFolder({ "it-dcsync.yaml": shipped.replace("not_in: []", "not_in: [10.1.0.10, 10.1.0.11]") }));
  set.install(engine, { learningSeconds: 0 });
  const call: [string, Value][] = [["interface_uuid", "e3514235-4b06-11d1-ab04-00c04fc2dcd2"], ["opnum", 3], ["pdu_type", "request"]];
  assert.not.ok(fires(engine, call, { src: "10.1.0.11" }), "a domain controller replicating must not fire");
  assert.ok(fires(engine, call, { src: "10.1.1.5" }), "a workstation calling DRSGetNCChanges must fire");
});

test.run();
