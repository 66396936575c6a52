// Operation evidence from request stubs: the command of an AT job, the binary
// of a new service, the path of a scheduled task. Each parser reads the NDR
// transfer syntax (C706 chapter 14) of one operation's [in] parameters up to
// the fields it reports, through a bounded reader that never reads past the
// stub: a short or malformed stub ends the parse and counts
// `dcerpc.stub_malformed`.
//
// Specifications: [MS-TSCH] 3.2.5.2.1 NetrJobAdd with 2.3.4 AT_INFO, and
// SASetAccountInformation and SchRpcRegisterTask; [MS-SCMR] 3.1.4.23
// RCreateServiceA and the methods that share its parameter list
// (RCreateServiceW, RCreateServiceWOW64A/W), and RChangeServiceConfigW/A.
//
// Evidence is written as entries of u16 field id | u16 length | UTF-8 bytes
// into an area owned by the caller, replayed into the call's record later.

import { fits } from "../api";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { latin1ToUtf8, utf16leToUtf8 } from "../text";
import { DcerpcAnomaly, DcerpcField } from "./fields";
import { Interface } from "./interfaces";

// Maximum bytes of UTF-8 kept per evidence field.
@inline const EVIDENCE_VALUE_MAX: u32 = 480;
// Characters of task XML searched for <Command> and <Arguments>.
@inline const TASK_XML_SCAN_UNITS: u32 = 4096;
// SC_RPC_HANDLE, an RPC context handle: a u32 attributes word and a 16-byte UUID.
@inline const CONTEXT_HANDLE_BYTES: u32 = 20;

// Bounded NDR reader over one little-endian stub (module state: one stub is
// parsed at a time).
let stubBase: usize = 0;
let stubLength: u32 = 0;
let at: u32 = 0;
let failed: bool = false;
// NDR64 transfer syntax ([MS-RPCE]): pointers, DWORD_PTR and array counts
// take 8 bytes, aligned to 8.
let ndr64: bool = false;
// The last string read: where its characters are and how many bytes they take.
let textPtr: usize = 0;
let textBytes: u32 = 0;

// Evidence output area.
let outBase: usize = 0;
let outCapacity: u32 = 0;
let outUsed: u32 = 0;

// Parses the stub of a request to interface `index`, opnum `opnum`, and writes
// its evidence into `out`. Returns the bytes written (0: no evidence).
export function extractEvidence(index: i32, opnum: u32, stub: usize, length: u32, isBigEndian: bool, isNdr64: bool, out: usize, capacity: u32): u32 {
  ndr64 = isNdr64;
  stubBase = stub;
  stubLength = length;
  at = 0;
  failed = false;
  outBase = out;
  outCapacity = capacity;
  outUsed = 0;

  // NOTE: evidence is read from little-endian stubs only. Big-endian NDR
  // also turns wide characters around, and no Windows client sends it.
  if (isBigEndian) return 0;

  let parsed = true;
  if (index == Interface.ATSVC && opnum == 0) parsed = parseNetrJobAdd();
  else if (index == Interface.SVCCTL && opnum == 12) parsed = parseCreateService(true);
  else if (index == Interface.SVCCTL && opnum == 24) parsed = parseCreateService(false);
  else if (index == Interface.SVCCTL && opnum == 45) parsed = parseCreateService(true);
  else if (index == Interface.SVCCTL && opnum == 44) parsed = parseCreateService(false);
  else if (index == Interface.SVCCTL && opnum == 11) parsed = parseChangeServiceConfig(true);
  else if (index == Interface.SVCCTL && opnum == 23) parsed = parseChangeServiceConfig(false);
  else if (index == Interface.TASK_SCHEDULER && opnum == 1) parsed = parseSchRpcRegisterTask();
  else if (index == Interface.SASEC && opnum == 0) parsed = parseSASetAccountInformation();
  if (!parsed) countAnomaly(DcerpcAnomaly.STUB_MALFORMED);
  return outUsed;
}

// ---------------------------------------------------------------------------
// Operations

//  NetrJobAdd ([MS-TSCH] 3.2.5.2.1):
//    [in, string, unique] ATSVC_HANDLE ServerName
//    [in] LPAT_INFO pAtInfo     (top-level pointer: [ref], no referent id)
//  AT_INFO (2.3.4): DWORD_PTR JobTime (4 bytes in NDR, 8 in NDR64), DWORD DaysOfMonth,
//    UCHAR DaysOfWeek, UCHAR Flags, [string, unique] wchar_t* Command (deferred)
function parseNetrJobAdd(): bool {
  if (uniquePointer() && !wideString()) return false;
  readSize(); // JobTime (DWORD_PTR)
  readU32();  // DaysOfMonth
  skip(2);    // DaysOfWeek, Flags
  if (!uniquePointer()) return !failed;
  if (!wideString()) return false;
  appendWide(DcerpcField.COMMAND);
  return true;
}

//  RCreateServiceW / RCreateServiceA ([MS-SCMR] opnum 12 / 3.1.4.23 opnum 24), and
//  RCreateServiceWOW64W / RCreateServiceWOW64A (opnums 45 / 44, which PsExec
//  uses) with the same parameters:
//    SC_RPC_HANDLE hSCManager (20 bytes), [string] lpServiceName,
//    [string, unique] lpDisplayName, DWORD dwDesiredAccess, dwServiceType,
//    dwStartType, dwErrorControl, [string] lpBinaryPathName,
//    [string, unique] lpLoadOrderGroup, [unique] LPDWORD lpdwTagId,
//    [unique, size_is(dwDependSize)] LPBYTE lpDependencies, DWORD dwDependSize,
//    [string, unique] lpServiceStartName, ...
function parseCreateService(wide: bool): bool {
  skip(CONTEXT_HANDLE_BYTES);
  if (!anyString(wide)) return false;
  appendText(DcerpcField.SERVICE_NAME, wide);
  if (uniquePointer()) {
    if (!anyString(wide)) return false;
    appendText(DcerpcField.DISPLAY_NAME, wide);
  }
  skip(16);
  if (!anyString(wide)) return false;
  appendText(DcerpcField.BINARY_PATH, wide);
  return parseServiceStartName(wide);
}

//  RChangeServiceConfigW / RChangeServiceConfigA ([MS-SCMR], opnums 11 / 23):
//    SC_RPC_HANDLE hService (20 bytes), DWORD dwServiceType, dwStartType,
//    dwErrorControl, [string, unique] lpBinaryPathName, then as in
//    RCreateService from lpLoadOrderGroup to lpServiceStartName, then
//    [unique, size_is(dwPwSize)] lpPassword, DWORD dwPwSize,
//    [string, unique] lpDisplayName
function parseChangeServiceConfig(wide: bool): bool {
  skip(CONTEXT_HANDLE_BYTES);
  skip(12);
  if (uniquePointer()) {
    if (!anyString(wide)) return false;
    appendText(DcerpcField.BINARY_PATH, wide);
  }
  if (!parseServiceStartName(wide)) return false;
  if (uniquePointer()) skipByteArray(); // lpPassword (encrypted)
  readU32();                            // dwPwSize
  if (uniquePointer()) {
    if (!anyString(wide)) return false;
    appendText(DcerpcField.DISPLAY_NAME, wide);
  }
  return !failed;
}

// lpLoadOrderGroup .. lpServiceStartName, shared by create and change.
function parseServiceStartName(wide: bool): bool {
  if (uniquePointer() && !anyString(wide)) return false; // lpLoadOrderGroup
  if (uniquePointer()) readU32();                         // lpdwTagId
  if (uniquePointer()) skipByteArray();                   // lpDependencies
  readU32();                                              // dwDependSize
  if (uniquePointer()) {
    if (!anyString(wide)) return false;
    appendText(DcerpcField.SERVICE_START_NAME, wide);
  }
  return !failed;
}

//  SchRpcRegisterTask ([MS-TSCH], opnum 1):
//    [in, string, unique] const wchar_t* path, [in, string] const wchar_t* xml, ...
function parseSchRpcRegisterTask(): bool {
  if (uniquePointer()) {
    if (!wideString()) return false;
    appendWide(DcerpcField.TASK_NAME);
  }
  if (!wideString()) return false;
  const xml = textPtr;
  const xmlBytes = textBytes;
  appendXmlElement(xml, xmlBytes, "<Command>", DcerpcField.COMMAND);
  appendXmlElement(xml, xmlBytes, "<Arguments>", DcerpcField.COMMAND_ARGUMENTS);
  return true;
}

//  SASetAccountInformation ([MS-TSCH], opnum 0):
//    [in, string, unique] const wchar_t* Handle, [in, string] pwszJobName,
//    [in, string] pwszAccount, ...
function parseSASetAccountInformation(): bool {
  if (uniquePointer() && !wideString()) return false;
  if (!wideString()) return false;
  appendWide(DcerpcField.TASK_NAME);
  if (!wideString()) return false;
  appendWide(DcerpcField.TASK_ACCOUNT);
  return true;
}

// ---------------------------------------------------------------------------
// NDR primitives (C706 14.2, 14.3)

// Aligns to `n` (a power of two) from the start of the stub (14.2.2).
function align(n: u32): void {
  at = (at + n - 1) & ~(n - 1);
}

function skip(n: u32): void {
  if (!fits(stubLength, at, n)) {
    failed = true;
    at = stubLength;
    return;
  }
  at += n;
}

function readU32(): u32 {
  align(4);
  if (!fits(stubLength, at, 4)) {
    failed = true;
    at = stubLength;
    return 0;
  }
  const v = load<u32>(stubBase + <usize>at);
  at += 4;
  return v;
}

// A pointer-sized or count-sized integer: 4 bytes in NDR, 8 in NDR64. Only
// the low 32 bits are kept; a larger count fails the bounds checks anyway.
function readSize(): u32 {
  if (!ndr64) return readU32();
  align(8);
  if (!fits(stubLength, at, 8)) {
    failed = true;
    at = stubLength;
    return 0;
  }
  const p = stubBase + <usize>at;
  at += 8;
  return load<u32>(p, 4) != 0 ? 0xffffffff : load<u32>(p);
}

// A unique pointer's referent id (14.3.11.3): true when not null. Read false
// on failure so that callers stop.
function uniquePointer(): bool {
  const referent = readSize();
  return !failed && referent != 0;
}

// A conformant varying string (14.3.4.2): maximum_count, offset,
// actual_count, then actual_count characters of `unitBytes` each. Sets
// textPtr/textBytes without the terminating NUL.
function conformantVaryingString(unitBytes: u32): bool {
  readSize(); // maximum_count
  readSize(); // offset
  const count = readSize();
  if (failed) return false;
  // count * unitBytes cannot overflow: unitBytes <= 2 and fits() bounds count.
  if (count > stubLength || !fits(stubLength, at, count * unitBytes)) {
    failed = true;
    return false;
  }
  textPtr = stubBase + <usize>at;
  textBytes = count * unitBytes;
  at += textBytes;
  while (textBytes >= unitBytes && (unitBytes == 2 ? load<u16>(textPtr + <usize>(textBytes - 2)) == 0 : load<u8>(textPtr + <usize>(textBytes - 1)) == 0)) {
    textBytes -= unitBytes;
  }
  return true;
}

function wideString(): bool { return conformantVaryingString(2); }
function anyString(wide: bool): bool { return conformantVaryingString(wide ? 2 : 1); }

// A conformant byte array (14.3.3.2): maximum_count then the bytes.
function skipByteArray(): void {
  const count = readSize();
  if (!failed) skip(count);
}

// ---------------------------------------------------------------------------
// Evidence output

function appendWide(id: u16): void { appendText(id, true); }

// Appends the last string read as an evidence entry.
function appendText(id: u16, wide: bool): void {
  appendRange(id, textPtr, textBytes, wide);
}

function appendRange(id: u16, src: usize, bytes: u32, wide: bool): void {
  if (bytes == 0 || outUsed + 4 >= outCapacity) return;
  let room = outCapacity - outUsed - 4;
  if (room > EVIDENCE_VALUE_MAX) room = EVIDENCE_VALUE_MAX;
  const dst = outBase + <usize>(outUsed + 4);
  // NOTE: byte strings of the A variants are read as Latin-1; the client's
  // ANSI code page is not on the wire.
  const n = wide ? utf16leToUtf8(src, bytes, dst, room) : latin1ToUtf8(src, bytes, dst, room);
  store<u16>(outBase + <usize>outUsed, id);
  store<u16>(outBase + <usize>outUsed, <u16>n, 2);
  outUsed += 4 + n;
}

// Finds `tag` (ASCII, such as "<Command>") in UTF-16LE XML and appends the
// element text that follows it, up to the next '<'.
function appendXmlElement(xml: usize, bytes: u32, tag: string, id: u16): void {
  let units = bytes >> 1;
  if (units > TASK_XML_SCAN_UNITS) units = TASK_XML_SCAN_UNITS;
  const tagUnits = <u32>tag.length;
  const tagPtr = changetype<usize>(tag);
  if (units < tagUnits) return;
  for (let i: u32 = 0; i + tagUnits <= units; i++) {
    let matched = true;
    for (let j: u32 = 0; j < tagUnits; j++) {
      if (load<u16>(xml + (<usize>(i + j) << 1)) != load<u16>(tagPtr + (<usize>j << 1))) {
        matched = false;
        break;
      }
    }
    if (!matched) continue;
    const start = i + tagUnits;
    let end = start;
    while (end < units && load<u16>(xml + (<usize>end << 1)) != 0x3c) end++;
    appendRange(id, xml + (<usize>start << 1), (end - start) << 1, true);
    return;
  }
}
