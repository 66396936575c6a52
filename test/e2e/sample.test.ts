import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { demoCapturePath } from "../../agent/src/config/paths.js";
import { pcapFile } from "../helpers/frames.js";
import { buildScene } from "../fixtures/demo/make-sample.js";

test("sample capture matches its script", () => {
  const committed = new Uint8Array(readFileSync(demoCapturePath()));
  const rebuilt = pcapFile(buildScene());
  assert.is(committed.length, rebuilt.length, "plant-scene.pcap is stale: run npx tsx test/fixtures/demo/make-sample.ts");
  assert.ok(Buffer.from(committed).equals(Buffer.from(rebuilt)), "plant-scene.pcap is stale: run npx tsx test/fixtures/demo/make-sample.ts");
});

test("sample scene in time order", () => {
  const frames = buildScene();
  assert.is(frames.length, 125);
  for (let i = 1; i < frames.length; i++) {
    const before = frames[i - 1].tsSec * 1e6 + frames[i - 1].tsFrac;
    const after = frames[i].tsSec * 1e6 + frames[i].tsFrac;
    assert.ok(after >= before, `frame ${i + 1} is earlier than frame ${i}`);
  }
});

test.run();
