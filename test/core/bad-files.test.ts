// Bad capture files, model files and core limits: each gets a clear error
// (or a counted anomaly, where the bytes are readable), and a core that is
// already decoding a flow goes on as if nothing happened.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { readCapture } from "../../agent/src/capture/read.js";
import { CoreConfigError, type CoreRecord, type Core } from "../../agent/src/core/core.js";
import { loadModelSet, parseModelFile } from "../../agent/src/core/models.js";
import { batchOf, pcapFile, TcpConversation, timed } from "../helpers/frames.js";
import { loadCore, readHoldingRequest, readHoldingResponse } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "fieldsense-bad-files-"));

function goodFrames(): Uint8Array[] {
  const c = new TcpConversation("10.70.0.1", 49000, "10.70.0.2", 502).handshake();
  for (let i = 0; i < 5; i++) c.fromClient(readHoldingRequest(i, i, 1));
  return c.frames;
}

// A classic pcap file of goodFrames() with `edit` applied to its bytes.
function pcapWith(edit: (bytes: Uint8Array, view: DataView) => Uint8Array | void, linkType = 1): Uint8Array {
  const bytes = pcapFile(timed(goodFrames()), { linkType });
  return edit(bytes, new DataView(bytes.buffer)) ?? bytes;
}

// Byte offset of record `index` in a pcap file made by pcapWith.
function recordOffset(bytes: Uint8Array, index: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  let at = 24;
  for (let i = 0; i < index; i++) at += 16 + view.getUint32(at + 8, true);
  return at;
}

interface CaptureCase {
  name: string;
  bytes: Uint8Array;
  // Expected error message (a substring), or undefined when the file reads.
  error?: string;
  records: number;           // pcap records read before the end or the error
  anomaly?: string;          // anomaly the core counts for the records read
}

const CAPTURE_CASES: CaptureCase[] = [
  {
    name: "caplen of 0xffffffff",
    bytes: pcapWith((b, v) => { v.setUint32(recordOffset(b, 3) + 8, 0xffffffff, true); }),
    error: "captured length 4294967295 exceeds the snap length 262144 and the 262144-byte limit",
    records: 3,
  },
  {
    name: "caplen above the snap length",
    bytes: pcapWith((b, v) => { v.setUint32(recordOffset(b, 0) + 8, 300000, true); }),
    error: "invalid pcap record at byte 24",
    records: 0,
  },
  {
    name: "garbage between two records",
    bytes: pcapWith((b) => {
      const at = recordOffset(b, 4);
      return Uint8Array.from([...b.subarray(0, at), ...Array(37).fill(0xab), ...b.subarray(at)]);
    }),
    error: `invalid pcap record at byte ${recordOffset(pcapFile(timed(goodFrames())), 4)}`,
    records: 4,
  },
  {
    name: "file cut inside its header",
    bytes: pcapWith((b) => b.slice(0, 10)),
    error: "the file has 10 bytes, fewer than the 24-byte file header",
    records: 0,
  },
  {
    name: "text file",
    bytes: new TextEncoder().encode("timestamp,src,dst\n"),
    error: "is a text file, not pcap or pcapng",
    records: 0,
  },
  {
    name: "empty file",
    bytes: new Uint8Array(0),
    error: "is a file of 0 bytes, shorter than any capture file header",
    records: 0,
  },
  {
    name: "unknown link type",
    bytes: pcapWith(() => undefined, 9999),
    records: 8,
    anomaly: "link.unsupported_type",
  },
  {
    name: "last record cut short",
    bytes: pcapWith((b) => b.slice(0, b.length - 5)),
    records: 7,
  },
];

// Feeds a capture file to `core`; returns the records read and the error.
async function feed(core: Core, path: string, onRecord: (r: CoreRecord) => void): Promise<{ records: number; error?: Error }> {
  let records = 0;
  try {
    for await (const batch of readCapture(path)) {
      records += batch.count;
      core.process(batch, onRecord);
    }
  } catch (error) {
    return { records, error: error as Error };
  }
  return { records };
}

test("hostile capture files", async () => {
  for (const c of CAPTURE_CASES) {
    const path = join(dir, `${c.name.replace(/\W+/g, "-")}.pcap`);
    writeFileSync(path, c.bytes);
    const core = await loadCore();
    const result = await feed(core, path, () => {});
    core.finish(() => {});

    if (c.error) {
      assert.ok(result.error, `${c.name}: no error`);
      assert.match(result.error!.message, c.error, c.name);
      assert.match(result.error!.message, path.split("/").pop()!, `${c.name}: the message names the file`);
    } else {
      assert.is(result.error, undefined, c.name);
    }
    assert.is(result.records, c.records, c.name);
    if (c.anomaly) assert.is(core.stats().anomalies[c.anomaly], c.records, c.name);
  }
});

test("bad files leave a running core undisturbed", async () => {
  // One core decodes a polling flow in two halves; between them it is
  // handed every bad capture file, and the models are reloaded from bad
  // files. The records equal those of a core that saw only the flow.
  const c = new TcpConversation("10.71.0.1", 49100, "10.71.0.2", 502).handshake();
  for (let i = 0; i < 20; i++) c.fromClient(readHoldingRequest(i, i, 1)).fromServer(readHoldingResponse(i, [i]));
  const frames = timed(c.frames);
  const half = Math.floor(frames.length / 2);

  const alone = await loadCore();
  const expected: CoreRecord[] = [];
  alone.process(batchOf(frames), (r) => expected.push(r));
  alone.finish((r) => expected.push(r));

  const core = await loadCore();
  const got: CoreRecord[] = [];
  core.process(batchOf(frames.slice(0, half)), (r) => got.push(r));
  for (const bad of CAPTURE_CASES.filter((x) => x.error)) {
    const path = join(dir, `running-${bad.name.replace(/\W+/g, "-")}.pcap`);
    writeFileSync(path, bad.bytes);
    // The bad file's own records belong to other flows; only its errors matter here.
    await feed(core, path, () => {});
  }
  const badModels = join(dir, "bad-models");
  writeFileSync(join(mkdirp(badModels), "broken.yaml"), "id: [unclosed\n");
  await loadModelSet(badModels).then(() => assert.unreachable("the broken model file was accepted"), () => {});
  core.process(batchOf(frames.slice(half)), (r) => got.push(r));
  core.finish((r) => got.push(r));

  const strip = (records: CoreRecord[]) => records.filter((r) => r.src.ip === "10.71.0.1").map((r) => JSON.stringify({ ...r, flowId: 0 }));
  assert.equal(strip(got), strip(expected));
});

function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

test("invalid model files", async () => {
  const cases: Array<[string, string, string]> = [
    ["unclosed flow sequence", "id: [unclosed\n", "invalid YAML in"],
    ["missing keys", "id: x\nname: y\n", "the model is missing the required key"],
  ];
  for (const [name, text, message] of cases) {
    const folder = mkdirp(join(dir, `models-${name.replace(/\W+/g, "-")}`));
    writeFileSync(join(folder, "model.yaml"), text);
    try {
      await loadModelSet(folder);
      assert.unreachable(`${name}: accepted`);
    } catch (error) {
      assert.match((error as Error).message, message, name);
      assert.match((error as Error).message, folder, `${name}: the message names the file`);
    }
  }
});

test("enormous model value list rejected", async () => {
  // A value list of 20,000 entries, far more than a model table can hold:
  // the schema rejects it before anything is compiled for the core.
  const values = Array.from({ length: 20000 }, (_, i) => i % 256).join(", ");
  const text = [
    "id: enormous", "name: Enormous value list", "record: modbus", "logic: >", "  Matches any of many unit ids.",
    "score: 10", "mitre: [T0855]", "conditions:", "  - field: unit_id", `    in: [${values}]`, "",
  ].join("\n");
  try {
    parseModelFile(join(dir, "enormous.yaml"), text);
    assert.unreachable("the enormous value list was accepted");
  } catch (error) {
    assert.match((error as Error).message, "enormous.yaml line 10: conditions[0].in");
    assert.match((error as Error).message, "must not have more than 255 items");
  }
});

test("oversized model file rejected unread", async () => {
  // 20 MB of YAML comments: valid YAML, but no model is that large, so the
  // loader rejects the file by its size before parsing it.
  const folder = join(dir, "oversized-models");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "big.yaml"), "# filler line of a file that is not a model\n".repeat(450_000));
  try {
    await loadModelSet(folder);
    assert.unreachable("the 20 MB model file was accepted");
  } catch (error) {
    assert.match((error as Error).message, join(folder, "big.yaml"));
    assert.match((error as Error).message, "above the 262144-byte limit");
  }
});

test("core limits out of range", async () => {
  const cases: Array<[Record<string, number>, string]> = [
    [{ streamBufferBytes: 16387 }, "invalid core limit streamBufferBytes: 16387; expected an integer from 16388"],
    [{ maxFlows: 0 }, "invalid core limit maxFlows: 0"],
    [{ eventBufferBytes: 1000 }, "invalid core limit eventBufferBytes: 1000"],
    [{ reassemblyBytesTotal: 1000 }, "invalid core limit reassemblyBytesTotal: 1000"],
    [{ maxFlows: 1 << 24, appStateSlots: 1 << 20 }, "above the core's 2048 MiB memory maximum"],
  ];
  for (const [limits, message] of cases) {
    try {
      await loadCore(limits);
      assert.unreachable(`${JSON.stringify(limits)} accepted`);
    } catch (error) {
      assert.instance(error, CoreConfigError);
      assert.match((error as Error).message, message);
    }
  }
});

test.run();
