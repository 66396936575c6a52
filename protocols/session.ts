// Per-flow helpers shared by the session dissectors (FTP, Telnet, SSH, VNC,
// RDP): the session's start time and duration, the session records that
// carry them, and the skip that drops the rest of a stream.
import { beginRecord, contextTsNsec, contextTsSec, endRecord, fieldLiteral, fieldU64 } from "../wasm-core/assembly/events";

// Added to the bytes consumed to drop the rest of a stream that the
// dissector no longer reads (encrypted, or past the login). It stays below
// the core's skip cap of 2^30 bytes.
@inline export const SKIP_REST: u32 = 1 << 29;

// Bytes of a session start time in the flow state: u32 seconds, then u32
// nanoseconds, of the packet that started the session.
@inline export const SESSION_START_BYTES: usize = 8;

// Stores the current packet's time as the session start at `at`.
export function markSessionStart(at: usize): void {
  store<u32>(at, contextTsSec());
  store<u32>(at + 4, contextTsNsec());
}

// Stores the session start at `startAt` on the first call only. That call
// sets `timeSetFlag` in the flag byte at `flagsAt`, which later calls test.
export function markSessionStartOnce(flagsAt: usize, timeSetFlag: u8, startAt: usize): void {
  if ((load<u8>(flagsAt) & timeSetFlag) != 0) return;
  markSessionStart(startAt);
  setFlagBits(flagsAt, timeSetFlag);
}

// Milliseconds from the session start stored at `at` to the current packet,
// or 0 when the capture's clock went back.
export function sessionDurationMs(at: usize): u64 {
  const now = <i64>contextTsSec() * 1_000_000_000 + <i64>contextTsNsec();
  const then = <i64>load<u32>(at) * 1_000_000_000 + <i64>load<u32>(at + 4);
  return now > then ? <u64>((now - then) / 1_000_000) : 0;
}

// Sets the bits of `flag` in the flag byte at `at`.
@inline export function setFlagBits(at: usize, flag: u8): void {
  store<u8>(at, load<u8>(at) | flag);
}

// Opens a session record of `type` and writes its session event ("start",
// "login" or "end") as field `eventId`, the first field of every session
// record. Returns false when the event buffer is full, as beginRecord does.
export function beginSessionRecord(type: u16, serverToClient: bool, eventId: u16, event: string): bool {
  if (!beginRecord(type, serverToClient)) return false;
  fieldLiteral(eventId, event);
  return true;
}

// Writes the session's duration as field `durationId`, the last field of an
// "end" record, and closes the record.
export function endSessionRecord(durationId: u16, startAt: usize): void {
  fieldU64(durationId, sessionDurationMs(startAt));
  endRecord();
}
