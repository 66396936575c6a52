// Scheduled-task artefacts read from a file's head buffer: Task Scheduler
// 1.0 .JOB files and Task Scheduler 2.0 task XML.
//
// Specification: [MS-TSCH] Task Scheduler Service Remoting Protocol,
// Microsoft Open Specifications: 2.4 .JOB File Format and 2.5 Task XML
// Schema. Section numbers below refer to it.
//
// .JOB Fixed-Length Section (2.4.1), 68 bytes, little-endian:
//   0  Product Version         2  File Version (1)     4  Job uuid (16)
//   20 App Name Len Offset     22 Trigger Offset       24 Error Retry Count
//   26 Error Retry Interval    28 Idle Deadline        30 Idle Wait
//   32 Priority (4)            36 Maximum Run Time (4) 40 Exit Code (4)
//   44 Status (4)              48 Flags (4)            52 Run Date (SYSTEMTIME, 16)
// The Variable-Length Section (2.4.2) follows: Running Instance Count (2),
// then at App Name Len Offset the Unicode strings Application Name,
// Parameters, Working Directory, Author and Comment, each a character
// count (2, including the terminating null) and UTF-16LE characters; then
// User Data and Reserved Data (a byte count and bytes), and the Triggers
// (a count and 48-byte Trigger structures, 2.4.2.11).

import { countAnomaly } from "../../wasm-core/assembly/counters";
import { fieldText, fieldUtf16le } from "../../wasm-core/assembly/events";
import { utf16leToUtf8, u32ToDecimal } from "../text";
import { FileAnomaly, FileField } from "./fields";
import { FileType } from "./types";

// Head buffer of a scheduled-task file (.JOB file or task XML): enough for
// the .JOB files Task Scheduler 1.0 writes and for typical task XML.
// NOTE: task XML longer than FILE_HEAD_BYTES is parsed from its first
// FILE_HEAD_BYTES only, so a <Command> past that point is not reported.
@inline export const FILE_HEAD_BYTES: u32 = 4096;

@inline const JOB_FIXED_BYTES: u32 = 68;
@inline const JOB_TRIGGER_BYTES: u32 = 48;

// UTF-8 copy of a UTF-16LE task XML head: at most three bytes per code unit.
const xmlScratch = memory.data(<i32>(FILE_HEAD_BYTES / 2 * 3));
const triggerScratch = memory.data(64);

// Writes the task fields of a .JOB file or task XML held in `head`.
export function writeTaskFields(type: u8, head: usize, length: u32): void {
  if (type == FileType.JOB) writeJobFields(head, length);
  else if (type == FileType.XML) writeTaskXmlFields(head, length);
}

// ------------------------------------------------------------------- .JOB

function writeJobFields(job: usize, length: u32): void {
  if (length < JOB_FIXED_BYTES + 2) {
    countAnomaly(FileAnomaly.JOB_MALFORMED);
    return;
  }
  let at = <u32>load<u16>(job, 20);
  if (at < JOB_FIXED_BYTES + 2 || at >= length) {
    countAnomaly(FileAnomaly.JOB_MALFORMED);
    return;
  }
  const ids: StaticArray<u16> = [
    FileField.TASK_COMMAND, FileField.TASK_ARGUMENTS, FileField.TASK_WORKING_DIRECTORY, FileField.TASK_AUTHOR,
  ];
  // Application Name, Parameters, Working Directory, Author, Comment.
  for (let i: i32 = 0; i < 5; i++) {
    const next = jobString(job, length, at, i < 4 ? unchecked(ids[i]) : 0);
    if (next == 0) return;
    at = next;
  }
  // User Data, then Reserved Data: a byte count and the bytes.
  for (let i = 0; i < 2; i++) {
    if (at + 2 > length) { countAnomaly(FileAnomaly.JOB_MALFORMED); return; }
    at += 2 + <u32>load<u16>(job + <usize>at);
  }
  if (at + 2 > length) { countAnomaly(FileAnomaly.JOB_MALFORMED); return; }
  const triggerCount = <u32>load<u16>(job + <usize>at);
  at += 2;
  if (triggerCount > 0 && at + JOB_TRIGGER_BYTES <= length) writeJobTrigger(job + <usize>at);
}

// Reads the Unicode string whose character count is at `at`, writes it as
// field `id` (0: skip) and returns the offset after it, or 0 when it runs
// past the head.
function jobString(job: usize, length: u32, at: u32, id: u16): u32 {
  if (at + 2 > length) {
    countAnomaly(FileAnomaly.JOB_MALFORMED);
    return 0;
  }
  const characters = <u32>load<u16>(job + <usize>at);
  const bytes = characters << 1;
  if (bytes > length - at - 2) {
    countAnomaly(FileAnomaly.JOB_MALFORMED);
    return 0;
  }
  // The count includes the terminating null character.
  if (id != 0 && characters > 1) fieldUtf16le(id, job + <usize>at + 2, bytes - 2);
  return at + 2 + bytes;
}

// Writes the first trigger as "daily 2026-01-31 08:00". Trigger offsets
// (2.4.2.11): Begin Year 4, Begin Month 6, Begin Day 8, Start Hour 16,
// Start Minute 18, Trigger Type 32.
function writeJobTrigger(trigger: usize): void {
  const name = jobTriggerTypeName(load<u32>(trigger, 32));
  let n: u32 = 0;
  for (let i: i32 = 0; i < name.length; i++) {
    store<u8>(triggerScratch + <usize>n, <u8>name.charCodeAt(i));
    n++;
  }
  n = putByte(n, 0x20);
  n += padded(<u32>load<u16>(trigger, 4), 4, triggerScratch + <usize>n);
  n = putByte(n, 0x2d);
  n += padded(<u32>load<u16>(trigger, 6), 2, triggerScratch + <usize>n);
  n = putByte(n, 0x2d);
  n += padded(<u32>load<u16>(trigger, 8), 2, triggerScratch + <usize>n);
  n = putByte(n, 0x20);
  n += padded(<u32>load<u16>(trigger, 16), 2, triggerScratch + <usize>n);
  n = putByte(n, 0x3a);
  n += padded(<u32>load<u16>(trigger, 18), 2, triggerScratch + <usize>n);
  fieldText(FileField.TASK_TRIGGER, triggerScratch, n);
}

function putByte(at: u32, value: u8): u32 {
  store<u8>(triggerScratch + <usize>at, value);
  return at + 1;
}

// Writes `value` in decimal with leading zeros to at least `width` digits;
// values above 65535 do not occur (the fields are 16 bits).
function padded(value: u32, width: u32, dst: usize): u32 {
  let digits: u32 = 1;
  for (let v = value; v >= 10; v /= 10) digits++;
  let n: u32 = 0;
  while (digits + n < width) {
    store<u8>(dst + <usize>n, 0x30);
    n++;
  }
  return n + u32ToDecimal(value, dst + <usize>n);
}

// 2.4.2.11.1 Trigger Type values.
function jobTriggerTypeName(type: u32): string {
  switch (type) {
    case 0: return "once";
    case 1: return "daily";
    case 2: return "weekly";
    case 3: return "monthly_date";
    case 4: return "monthly_dow";
    case 5: return "on_idle";
    case 6: return "at_system_start";
    case 7: return "at_logon";
  }
  return "unknown";
}

// ---------------------------------------------------------------- task XML

// Writes <Command>, <Arguments>, <WorkingDirectory>, <Author> and <UserId>
// of task XML (2.5), which Task Scheduler stores in UTF-16LE behind a
// byte-order mark; UTF-8 is read as is. The first occurrence of each element
// is taken, so a task with several <Exec> actions reports the first.
// NOTE: character references (&amp;, &quot;) are written undecoded.
function writeTaskXmlFields(xml: usize, length: u32): void {
  let text = xml;
  let textLength = length;
  if (length >= 2 && load<u16>(xml) == 0xfeff) {
    textLength = utf16leToUtf8(xml + 2, length - 2, xmlScratch, FILE_HEAD_BYTES / 2 * 3);
    text = xmlScratch;
  }
  writeElement(text, textLength, "Command", FileField.TASK_COMMAND);
  writeElement(text, textLength, "Arguments", FileField.TASK_ARGUMENTS);
  writeElement(text, textLength, "WorkingDirectory", FileField.TASK_WORKING_DIRECTORY);
  writeElement(text, textLength, "Author", FileField.TASK_AUTHOR);
  writeElement(text, textLength, "UserId", FileField.TASK_RUN_AS);
}

// Finds "<name>" and the next "</" after it, and writes the text between.
function writeElement(text: usize, length: u32, name: string, id: u16): void {
  const open = findTag(text, length, 0, name);
  if (open < 0) return;
  const start = <u32>open + <u32>name.length + 2;
  for (let i = start; i + 1 < length; i++) {
    if (load<u8>(text + <usize>i) == 0x3c && load<u8>(text + <usize>i + 1) == 0x2f) {
      if (i > start) fieldText(id, text + <usize>start, i - start);
      return;
    }
  }
}

// Returns the offset of "<name>" at or after `from`, or -1.
function findTag(text: usize, length: u32, from: u32, name: string): i32 {
  const n = <u32>name.length;
  for (let i = from; i + n + 2 <= length; i++) {
    const p = text + <usize>i;
    if (load<u8>(p) != 0x3c || load<u8>(p + <usize>n + 1) != 0x3e) continue;
    let match = true;
    for (let j: u32 = 0; j < n; j++) {
      if (load<u8>(p + <usize>(1 + j)) != <u8>name.charCodeAt(j)) { match = false; break; }
    }
    if (match) return <i32>i;
  }
  return -1;
}
