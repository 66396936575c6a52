// The host loader: limits checked before the core is configured, and names
// read from the core's tables.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Core, CoreConfigError, CoreTrapError, DEFAULT_LIMITS } from "../../agent/src/core/core.js";
import { batchOf, timed, tcpFrame } from "../helpers/frames.js";
import { loadCore } from "./run.js";

test("default limits load", async () => {
  const core = await loadCore();
  assert.equal(core.limits, DEFAULT_LIMITS);
  assert.equal(core.stats(), { counters: {}, anomalies: {} });
});

test("invalid limit message", async () => {
  try {
    await loadCore({ streamBufferBytes: 100 });
    assert.unreachable("streamBufferBytes 100 was accepted");
  } catch (error) {
    assert.instance(error, CoreConfigError);
    assert.match((error as Error).message, "invalid core limit streamBufferBytes: 100; expected an integer from 16388");
  }
});

test("appStateSlots above maxFlows rejected", async () => {
  try {
    await loadCore({ maxFlows: 10, appStateSlots: 11 });
    assert.unreachable("appStateSlots 11 with maxFlows 10 was accepted");
  } catch (error) {
    assert.instance(error, CoreConfigError);
    assert.match((error as Error).message, "appStateSlots: 11");
  }
});

test("limits beyond core memory rejected", async () => {
  try {
    await loadCore({ maxFlows: 1 << 20, appStateSlots: 1 << 20 });
    assert.unreachable("32 GiB of dissector state was accepted");
  } catch (error) {
    assert.instance(error, CoreConfigError);
    assert.match((error as Error).message, "above the core's 2048 MiB memory maximum");
  }
});

test("unknown limit rejected", async () => {
  try {
    await loadCore({ maxFlow: 10 } as never);
    assert.unreachable("maxFlow was accepted");
  } catch (error) {
    assert.instance(error, CoreConfigError);
    assert.match((error as Error).message, "unknown core limit maxFlow");
  }
});

test("missing wasm file message", async () => {
  try {
    await Core.load({ wasmPath: "/nonexistent/core.wasm" });
    assert.unreachable("a missing module loaded");
  } catch (error) {
    assert.instance(error, CoreConfigError);
    assert.match((error as Error).message, "/nonexistent/core.wasm");
    assert.match((error as Error).message, "npm run build:core");
  }
});

test("field names read from the core", async () => {
  const core = await loadCore();
  assert.is(core.fieldName(1), "pdu_type");
  assert.is(core.fieldName(7), "account");
  assert.is(core.fieldName(99), undefined);
});

test("scratch call to missing export", async () => {
  const core = await loadCore();
  assert.throws(() => core.callWithScratch("noSuchExport", new Uint8Array(4)), /no export named noSuchExport/);
});

// A minimal module with the core's exports whose processBatch calls
// env.abort(0, 0, 7, 9), as an AssemblyScript abort would.
function abortingModule(): Uint8Array {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let byte = n & 0x7f;
      n >>>= 7;
      if (n !== 0) byte |= 0x80;
      out.push(byte);
    } while (n !== 0);
    return out;
  };
  const vector = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
  const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
  const name = (text: string): number[] => [...leb(text.length), ...Array.from(new TextEncoder().encode(text))];
  const I32 = 0x7f;
  const F64 = 0x7c;
  const types = [
    [0x60, 4, I32, I32, I32, I32, 0],            // 0: abort
    [0x60, 0, 1, I32],                           // 1: () -> i32
    [0x60, 1, I32, 1, I32],                      // 2: (i32) -> i32
    [0x60, 1, I32, 1, F64],                      // 3: (i32) -> f64
    [0x60, 4, I32, I32, I32, I32, 1, I32],       // 4: processBatch
    [0x60, 7, I32, I32, I32, I32, I32, I32, I32, 1, I32], // 5: configure
    [0x60, 0, 0],                                // 6: () -> ()
  ];
  const returnI32 = (value: number) => [0x41, ...leb(value), 0x0b];
  const functions: Array<[string, number, number[]]> = [
    ["configure", 5, returnI32(0)],
    ["scratchPtr", 1, returnI32(1024)],
    ["scratchCapacity", 1, [0x41, 0x80, 0x80, 0x80, 0x02, 0x0b]],   // 4 MiB
    ["processBatch", 4, [0x41, 0, 0x41, 0, 0x41, 7, 0x41, 9, 0x10, 0, 0x41, 0, 0x0b]],
    ["eventsPtr", 1, returnI32(0)],
    ["eventsLength", 1, returnI32(0)],
    ["eventsReset", 6, [0x0b]],
    ["finish", 1, returnI32(1)],
    ["tick", 2, returnI32(1)],
    ["fieldName", 2, returnI32(0)],
    ["recordTypeName", 2, returnI32(0)],
    ["anomalyName", 2, returnI32(0)],
    ["counterName", 2, returnI32(0)],
    ["counterValue", 3, [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b]],
    ["anomalyCount", 3, [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b]],
    ["fieldIdLimit", 1, returnI32(0)],
    ["recordTypeLimit", 1, returnI32(0)],
    ["anomalyIdLimit", 1, returnI32(0)],
    ["counterIdLimit", 1, returnI32(0)],
  ];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vector(types)),
    ...section(2, vector([[...name("env"), ...name("abort"), 0x00, 0]])),
    ...section(3, vector(functions.map(([, type]) => [type]))),
    ...section(5, vector([[0x00, ...leb(80)]])),
    ...section(7, vector([
      [...name("memory"), 0x02, 0],
      ...functions.map(([exportName], i) => [...name(exportName), 0x00, ...leb(i + 1)]),
    ])),
    ...section(10, vector(functions.map(([, , body]) => { const code = [0, ...body]; return [...leb(code.length), ...code]; }))),
  ];
  return Uint8Array.from(bytes);
}

test("core abort becomes CoreTrapError", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "fieldsense-core-")), "abort.wasm");
  writeFileSync(path, abortingModule());
  const core = await Core.load({ wasmPath: path });
  const frame = tcpFrame({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 40000, dstPort: 502, seq: 1, payload: [1] });
  try {
    core.process(batchOf(timed([frame])), () => {});
    assert.unreachable("the abort did not surface");
  } catch (error) {
    assert.instance(error, CoreTrapError);
    assert.is((error as CoreTrapError).line, 7);
    assert.is((error as CoreTrapError).column, 9);
    assert.match((error as Error).message, "core aborted: no message at unknown file:7:9");
  }
});

test.run();
