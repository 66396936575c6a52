// Address order for the inventory's lists, without Intl: Intl.Collator
// loads about 2 MiB of ICU collation data into the agent's memory.

// Printable ASCII characters other than digits and letters, in the order of
// the CLDR root collation, which Intl.Collator("en") follows (checked with
// Node 20's ICU in test/inventory/address-order.test.ts).
const SYMBOL_ORDER = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
const SYMBOL_RANKS = new Map([...SYMBOL_ORDER].map((symbol, rank) => [symbol.charCodeAt(0), rank]));
const DIGIT_RANK = SYMBOL_ORDER.length;
const LETTER_RANK = DIGIT_RANK + 1;
const OTHER_RANK = LETTER_RANK + 26;

const ZERO = 0x30;
const NINE = 0x39;

function isDigit(code: number): boolean {
  return code >= ZERO && code <= NINE;
}

// Primary weight of one character that is not a digit: symbols, then
// letters without regard to case, then everything else by code unit.
function rankOf(code: number): number {
  const symbol = SYMBOL_RANKS.get(code);
  if (symbol !== undefined) return symbol;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x7a) return LETTER_RANK + lower - 0x61;
  return OTHER_RANK + code;
}

// End of the run of digits that starts at `start`.
function digitRunEnd(text: string, start: number): number {
  let end = start;
  while (end < text.length && isDigit(text.charCodeAt(end))) end++;
  return end;
}

// Compares two runs of digits by their value, leading zeros ignored.
function compareDigitRuns(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): number {
  while (aStart < aEnd - 1 && a.charCodeAt(aStart) === ZERO) aStart++;
  while (bStart < bEnd - 1 && b.charCodeAt(bStart) === ZERO) bStart++;
  const lengthDifference = (aEnd - aStart) - (bEnd - bStart);
  if (lengthDifference !== 0) return lengthDifference < 0 ? -1 : 1;
  for (; aStart < aEnd; aStart++, bStart++) {
    const difference = a.charCodeAt(aStart) - b.charCodeAt(bStart);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}

// Orders addresses as Intl.Collator("en", { numeric: true }) does: runs of
// digits compare by value, so 10.0.0.9 comes before 10.0.0.10, and IPv4
// text comes before IPv6 text that starts with a letter. When two texts
// differ only in case, the one with the first lowercase letter comes first.
// NOTE: characters outside printable ASCII compare by code unit, which is
// not the collation's order; addresses never contain them.
export function compareAddresses(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const codeA = a.charCodeAt(i);
    const codeB = b.charCodeAt(j);
    if (isDigit(codeA) && isDigit(codeB)) {
      const endA = digitRunEnd(a, i);
      const endB = digitRunEnd(b, j);
      const order = compareDigitRuns(a, i, endA, b, j, endB);
      if (order !== 0) return order;
      i = endA;
      j = endB;
      continue;
    }
    const rankA = isDigit(codeA) ? DIGIT_RANK : rankOf(codeA);
    const rankB = isDigit(codeB) ? DIGIT_RANK : rankOf(codeB);
    if (rankA !== rankB) return rankA < rankB ? -1 : 1;
    i++;
    j++;
  }
  if (i < a.length) return 1;
  if (j < b.length) return -1;
  // Equal but for case or leading zeros: the collation puts lowercase first
  // and treats texts that differ only in leading zeros as equal.
  if (a.length !== b.length) return 0;
  for (let k = 0; k < a.length; k++) {
    const codeA = a.charCodeAt(k);
    if (codeA !== b.charCodeAt(k)) return codeA > 0x60 ? -1 : 1;
  }
  return 0;
}
