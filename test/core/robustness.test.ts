// No input may trap the core: random bytes on every link type, and valid
// frames cut short or with random bytes changed. Each test seeds its own
// generator, so a failure reproduces on every run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation } from "../helpers/frames.js";
import { runTimed, readHoldingRequest, readHoldingResponse, seededRandom, ipv4Fragments } from "./run.js";

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];
const FRAMES_PER_RUN = 2000;

function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

test("random bytes on every link type", async () => {
  const random = seededRandom(0x5eed0001);
  for (const linkType of LINK_TYPES) {
    const frames = Array.from({ length: FRAMES_PER_RUN }, (_, i) => ({
      tsSec: 1000 + Math.floor(i / 100), tsFrac: 0, bytes: randomBytes(random, Math.floor(random() * 200)),
    }));
    const run = await runTimed(frames, { linkType, limits: { maxFlows: 64, appStateSlots: 16, streamBufferBytes: 16388, reassemblyBytesTotal: 65552 } });
    assert.is(run.counters["packets"], FRAMES_PER_RUN, `link type ${linkType}`);
  }
});

// A plausible stream to mutate: Modbus exchanges on a few flows, with
// fragments so the defragmenter is exercised too.
function seedFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let flow = 0; flow < 4; flow++) {
    const c = new TcpConversation(`10.20.0.${flow + 1}`, 46000 + flow, "10.20.0.100", flow === 3 ? 445 : 502).handshake();
    for (let i = 0; i < 5; i++) c.fromClient(readHoldingRequest(i, i, 2)).fromServer(readHoldingResponse(i, [1, 2]));
    frames.push(...c.frames);
    c.fromClient(Array.from({ length: 8 }, (_, i) => readHoldingRequest(50 + i, i, 1)).flat());
    frames.push(...ipv4Fragments(c.frames[c.frames.length - 1], 32));
  }
  return frames;
}

test("mutated and truncated frames", async () => {
  const random = seededRandom(0x5eed0002);
  const seeds = seedFrames();
  for (let round = 0; round < 10; round++) {
    const frames = Array.from({ length: FRAMES_PER_RUN }, (_, i) => {
      const source = seeds[Math.floor(random() * seeds.length)];
      let bytes = Uint8Array.from(source);
      const flips = Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      if (random() < 0.3) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      return { tsSec: 2000 + Math.floor(i / 50), tsFrac: 0, bytes, wireLength: source.length };
    });
    const run = await runTimed(frames, { limits: { maxFlows: 8, appStateSlots: 4, streamBufferBytes: 16388, reassemblyBytesTotal: 32776 } });
    assert.is(run.counters["packets"], FRAMES_PER_RUN, `round ${round}`);
  }
});

test("random sequence numbers on one flow", async () => {
  // Segments of one 5-tuple at random sequence numbers: holes, overlaps,
  // wraps and conflicts in every combination.
  const random = seededRandom(0x5eed0003);
  const base = new TcpConversation("10.21.0.1", 47000, "10.21.0.2", 502);
  const frames = [];
  for (let i = 0; i < FRAMES_PER_RUN; i++) {
    const seq = random() < 0.5 ? Math.floor(random() * 0x100000000) : 1000 + Math.floor(random() * 20000);
    const payload = Array.from(randomBytes(random, Math.floor(random() * 300)));
    const toServer = random() < 0.6;
    const flags = random() < 0.05 ? "S" : random() < 0.02 ? "FA" : "AP";
    base.clientSeq = seq;
    base.serverSeq = seq;
    const before = base.frames.length;
    if (toServer) base.fromClient(payload); else base.fromServer(payload);
    if (flags !== "AP") {
      const frame = base.frames[before];
      frame[14 + 20 + 13] = flags === "S" ? 0x02 : 0x11;
    }
    frames.push({ tsSec: 3000, tsFrac: i, bytes: base.frames[before] });
  }
  const run = await runTimed(frames, { limits: { maxFlows: 4, appStateSlots: 2, streamBufferBytes: 16388, reassemblyBytesTotal: 32776 } });
  assert.is(run.counters["packets"], FRAMES_PER_RUN);
  assert.ok((run.counters["tcp.segments"] ?? 0) > 0);
});

test.run();
