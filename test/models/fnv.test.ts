// The core's FNV-1a hashes skip runs of zero bytes a word at a time. History,
// frequency and Modbus master tables are placed by these hashes and saved in
// snapshots, so they must equal FNV-1a computed byte by byte.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "./engine.js";

function fnv32Reference(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const b of bytes) hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
  return hash;
}

function fnv64Reference(bytes: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const b of bytes) hash = BigInt.asUintN(64, (hash ^ BigInt(b)) * 0x100000001b3n);
  return hash;
}

// Inputs of every length up to 40 bytes, with the zero runs of addresses and
// small integers: an IPv4 address in 16 bytes, all zero, zero words between
// non-zero bytes, and no zero byte at all.
function inputs(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let length = 0; length <= 40; length++) {
    out.push(new Uint8Array(length));
    out.push(Uint8Array.from({ length }, (_, i) => (i * 37 + 11) % 255 + 1));
    out.push(Uint8Array.from({ length }, (_, i) => (i % 8 < 4 ? 0 : i + 1)));
    out.push(Uint8Array.from({ length }, (_, i) => (i % 5 === 2 ? 0xff : 0)));
  }
  out.push(Uint8Array.from([10, 1, 2, 3, ...new Array(12).fill(0)]));
  out.push(Uint8Array.from([0xfd, 0, ...new Array(13).fill(0), 1]));
  return out;
}

test("fnv hashes equal byte by byte", async () => {
  const engine = await Engine.create();
  for (const bytes of inputs()) {
    const { fnv32, fnv64 } = engine.fnv(bytes);
    const label = Buffer.from(bytes).toString("hex") || "(empty)";
    assert.is(fnv32, fnv32Reference(bytes), `fnv32 of ${label}`);
    assert.is(fnv64, fnv64Reference(bytes), `fnv64 of ${label}`);
  }
});

test.run();
