// The inventory's address order, which must match the numeric collation of
// Intl.Collator("en", { numeric: true }) without loading ICU's data.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compareAddresses } from "../../agent/src/inventory/address-order.js";

const collator = new Intl.Collator("en", { numeric: true });

// A small linear congruential generator, so that a failure repeats.
function generator(seed: number): (limit: number) => number {
  let state = seed;
  return (limit) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % limit;
  };
}

function sampleAddresses(count: number): string[] {
  const next = generator(7);
  const hexDigits = "0123456789abcdefABCDEF";
  const group = () => Array.from({ length: 1 + next(4) }, () => hexDigits[next(hexDigits.length)]).join("");
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 6) {
      case 0: addresses.push([next(256), next(256), next(256), next(256)].join(".")); break;
      case 1: addresses.push(`10.${next(3)}.${next(12)}.${next(300)}`); break;
      case 2: addresses.push(Array.from({ length: 1 + next(8) }, group).join(":")); break;
      case 3: addresses.push(`${group()}:${group()}::${group()}`); break;
      case 4: addresses.push(`::ffff:${next(256)}.${next(4)}.${next(256)}.${next(256)}%eth${next(3)}`); break;
      default: addresses.push(Array.from({ length: 1 + next(6) }, () => String.fromCharCode(32 + next(95))).join(""));
    }
  }
  return addresses;
}

test("address order of fixed cases", () => {
  const cases: [string, string, number][] = [
    ["10.0.0.9", "10.0.0.10", -1],
    ["10.0.0.10", "10.0.0.9", 1],
    ["192.168.1.1", "192.168.1.1", 0],
    ["10.0.0.1", "fd00::1", -1],
    ["::1", "10.0.0.1", -1],
    ["fd00::a", "fd00::9", 1],
    ["fd00::1:2", "fd00::1.2", -1],
    ["fe80::1", "fe80::1%eth0", -1],
    ["fd00::ab", "fd00::aB", -1],
    ["01", "1", 0],
  ];
  for (const [a, b, expected] of cases) {
    assert.is(Math.sign(compareAddresses(a, b)), expected, `${a} against ${b}`);
    assert.is(Math.sign(collator.compare(a, b)), expected, `Intl.Collator: ${a} against ${b}`);
  }
});

test("address order matches numeric collation", () => {
  const addresses = sampleAddresses(1200);
  const next = generator(11);
  for (let i = 0; i < 50_000; i++) {
    const a = addresses[next(addresses.length)];
    const b = addresses[next(addresses.length)];
    const expected = Math.sign(collator.compare(a, b));
    if (Math.sign(compareAddresses(a, b)) !== expected) assert.unreachable(`${JSON.stringify(a)} against ${JSON.stringify(b)}: expected ${expected}`);
  }
});

test("address order sorts as collation", () => {
  const addresses = sampleAddresses(600);
  assert.equal([...addresses].sort(compareAddresses), [...addresses].sort(collator.compare));
});

test.run();
