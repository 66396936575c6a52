// Sorted lists of byte ranges held in a buffer, shared by IP defragmentation
// and TCP reassembly. A list lives in memory as
//
//   | count (u32) | start 0 (u32) | end 0 (u32) | start 1 | end 1 | ...
//
// Ranges are half-open [start, end) offsets into a data area, sorted, and
// never overlap or touch (touching ranges are merged on insert).

@inline export const RANGE_INSERTED: i32 = 0;
// Some of the new bytes were already held; the held bytes were kept.
@inline export const RANGE_OVERLAP: i32 = 1;
// The overlapping bytes differed from the held ones.
@inline export const RANGE_CONFLICT: i32 = 2;
// The list is full and the new range touches none of its ranges; nothing
// was written.
@inline export const RANGE_LIMIT: i32 = 4;

@inline export function rangeListBytes(maxRanges: u32): u32 { return 4 + maxRanges * 8; }
@inline export function rangeCount(list: usize): u32 { return load<u32>(list); }
@inline export function rangeStart(list: usize, i: u32): u32 { return load<u32>(list + 4 + (<usize>i << 3)); }
@inline export function rangeEnd(list: usize, i: u32): u32 { return load<u32>(list + 8 + (<usize>i << 3)); }
@inline function setRange(list: usize, i: u32, start: u32, end: u32): void {
  store<u32>(list + 4 + (<usize>i << 3), start);
  store<u32>(list + 8 + (<usize>i << 3), end);
}

// Length of the range starting at offset 0, or 0 when offset 0 is a hole.
export function contiguousBytes(list: usize): u32 {
  if (rangeCount(list) == 0 || rangeStart(list, 0) != 0) return 0;
  return rangeEnd(list, 0);
}

// One past the highest held offset.
export function rangesEnd(list: usize): u32 {
  const n = rangeCount(list);
  return n == 0 ? 0 : rangeEnd(list, n - 1);
}

// Copies `src` into data[start, end), writing only bytes not held yet (the
// first copy wins), and records the range. Returns a mask of RANGE_* flags.
export function insertRange(list: usize, maxRanges: u32, data: usize, start: u32, end: u32, src: usize): i32 {
  if (end <= start) return RANGE_INSERTED;
  const n = rangeCount(list);

  // first: the first range that ends at or after `start` (touching counts);
  // last: the last range that starts at or before `end`.
  let first: u32 = 0;
  while (first < n && rangeEnd(list, first) < start) first++;
  let last: i32 = <i32>n - 1;
  while (last >= 0 && rangeStart(list, <u32>last) > end) last--;
  const merges = <i32>first <= last;
  if (!merges && n >= maxRanges) return RANGE_LIMIT;

  // Copy into the holes between held ranges and compare the overlaps.
  let result = RANGE_INSERTED;
  let cursor = start;
  for (let i = first; <i32>i <= last && cursor < end; i++) {
    const a = rangeStart(list, i);
    const b = rangeEnd(list, i);
    if (a > cursor) {
      const holeEnd = a < end ? a : end;
      memory.copy(data + <usize>cursor, src + <usize>(cursor - start), <usize>(holeEnd - cursor));
      cursor = holeEnd;
    }
    if (cursor < end && b > cursor) {
      const overlapEnd = b < end ? b : end;
      result |= RANGE_OVERLAP;
      if (memory.compare(data + <usize>cursor, src + <usize>(cursor - start), <usize>(overlapEnd - cursor)) != 0) {
        result |= RANGE_CONFLICT;
      }
      cursor = overlapEnd;
    }
  }
  if (cursor < end) {
    memory.copy(data + <usize>cursor, src + <usize>(cursor - start), <usize>(end - cursor));
  }

  if (!merges) {
    // Open a slot at `first` for the new range.
    for (let i = n; i > first; i--) setRange(list, i, rangeStart(list, i - 1), rangeEnd(list, i - 1));
    setRange(list, first, start, end);
    store<u32>(list, n + 1);
    return result;
  }
  const mergedStart = rangeStart(list, first) < start ? rangeStart(list, first) : start;
  const mergedEnd = rangeEnd(list, <u32>last) > end ? rangeEnd(list, <u32>last) : end;
  setRange(list, first, mergedStart, mergedEnd);
  const removed = <u32>last - first;
  if (removed > 0) {
    for (let i = <u32>last + 1; i < n; i++) setRange(list, i - removed, rangeStart(list, i), rangeEnd(list, i));
    store<u32>(list, n - removed);
  }
  return result;
}

// Drops the first `amount` offsets: data moves down by `amount` and ranges
// below it are removed or trimmed. Returns how many held bytes were dropped.
export function shiftRanges(list: usize, data: usize, amount: u32): u32 {
  if (amount == 0) return 0;
  const n = rangeCount(list);
  let dropped: u32 = 0;
  let kept: u32 = 0;
  const end = rangesEnd(list);
  for (let i: u32 = 0; i < n; i++) {
    const a = rangeStart(list, i);
    const b = rangeEnd(list, i);
    if (b <= amount) {
      dropped += b - a;
      continue;
    }
    const newStart = a > amount ? a - amount : 0;
    if (a < amount) dropped += amount - a;
    setRange(list, kept, newStart, b - amount);
    kept++;
  }
  store<u32>(list, kept);
  if (kept > 0) memory.copy(data, data + <usize>amount, <usize>(end - amount));
  return dropped;
}

// Forgets the highest range. Returns the number of bytes it covered.
export function dropLastRange(list: usize): u32 {
  const n = rangeCount(list);
  if (n == 0) return 0;
  store<u32>(list, n - 1);
  return rangeEnd(list, n - 1) - rangeStart(list, n - 1);
}

export function clearRanges(list: usize): void {
  store<u32>(list, 0);
}
