// Per-direction resynchronisation state of framed TCP protocols (Modbus/TCP,
// DNP3): after a bad header a dissector skips bytes until a frame start
// checks out, and counts the bytes skipped to give up past a limit. The
// caller's state keeps one flag byte per direction at `flagsAt` and one u32
// count per direction at `skippedAt`, to server first.

@inline function direction(toServer: bool): usize { return toServer ? 0 : 1; }

export function resyncing(flagsAt: usize, toServer: bool): bool {
  return load<u8>(flagsAt + direction(toServer)) != 0;
}

export function setResyncing(flagsAt: usize, toServer: bool, on: bool): void {
  store<u8>(flagsAt + direction(toServer), on ? 1 : 0);
}

export function clearSkipped(skippedAt: usize, toServer: bool): void {
  store<u32>(skippedAt + (direction(toServer) << 2), 0);
}

// Adds `count` to the bytes skipped in this direction and returns the total.
export function addSkipped(skippedAt: usize, toServer: bool, count: u32): u32 {
  const p = skippedAt + (direction(toServer) << 2);
  const total = load<u32>(p) + count;
  store<u32>(p, total);
  return total;
}
