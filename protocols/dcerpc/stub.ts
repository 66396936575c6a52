// Operation evidence from request stubs: the command of an AT job, the binary
// of a new service, the path of a scheduled task. Each parser reads the NDR
// transfer syntax (C706 chapter 14) of one operation's [in] parameters up to
// the fields it reports, through a bounded reader that never reads past the
// stub: a short or malformed stub ends the parse and counts
// `dcerpc.stub_malformed`.
//
// Specifications: [MS-TSCH] 3.2.5.2.1 NetrJobAdd with 2.3.4 AT_INFO, and
// SASetAccountInformation, SchRpcRegisterTask, SchRpcRun, SchRpcDelete and
// SchRpcEnableTask (3.2.5.4); [MS-SCMR] 3.1.4.23 RCreateServiceA and the
// methods that share its parameter list (RCreateServiceW,
// RCreateServiceWOW64A/W), and RChangeServiceConfigW/A; [MS-RRP] 3.1.5
// (BaseRegCreateKey, BaseRegOpenKey, BaseRegSetValue, BaseRegSaveKey,
// BaseRegDeleteKey, BaseRegDeleteValue, BaseInitiateSystemShutdown(Ex));
// [MS-RSP] 3.2.4 BaseInitiateShutdown(Ex); [MS-EVEN] 3.1.4 ElfrOpenELW/A and
// ElfrClearELFW/A; [MS-EVEN6] 3.1.4.16 EvtRpcClearLog; [MS-WMI] IWbemServices
// ExecMethod and ExecMethodAsync (3.1.4.3), after the DCOM ORPCTHIS
// ([MS-DCOM] 2.2.13.1).
//
// Evidence is written as entries of u16 field id | u16 length | value into
// an area owned by the caller, replayed into the call's record later. The
// value is UTF-8 text, or a u64 when the id has EVIDENCE_U64 set.

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
// Marks an evidence entry whose value is a u64 rather than text. Field ids stay below it.
@inline export const EVIDENCE_U64: u16 = 0x8000;
// Characters of a DSNAME StringName read for the naming context.
@inline const DSNAME_CHARS_MAX: u32 = 1024;
// SERVICE_NO_CHANGE ([MS-SCMR] 3.1.4.11): ChangeServiceConfig leaves the value alone.
@inline const SERVICE_NO_CHANGE: u32 = 0xffffffff;

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
  else if (index == Interface.TASK_SCHEDULER && (opnum == 12 || opnum == 13 || opnum == 19)) parsed = parseTaskPathCall(opnum);
  else if (index == Interface.WINREG) parsed = parseWinreg(opnum);
  else if (index == Interface.INIT_SHUTDOWN && (opnum == 0 || opnum == 2)) parsed = parseInitiateShutdown();
  else if (index == Interface.EVENTLOG) parsed = parseEventlog(opnum);
  else if (index == Interface.EVENT_SERVICE && opnum == 6) parsed = parseEvtRpcClearLog();
  else if (index == Interface.DRSUAPI && (opnum == 2 || opnum == 3)) findNamingContext();
  else if (index == Interface.WBEM_SERVICES && (opnum == 24 || opnum == 25)) parsed = parseWbemExecMethod();
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
  const jobTime = readSize(); // milliseconds after local midnight
  const daysOfMonth = readU32();
  const daysOfWeek = readU8();
  skip(1);                    // Flags
  if (failed) return false;
  appendJobTime(jobTime);
  appendU64(DcerpcField.DAYS_OF_MONTH, daysOfMonth);
  appendU64(DcerpcField.DAYS_OF_WEEK, daysOfWeek);
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
  readU32(); // dwDesiredAccess
  readU32(); // dwServiceType
  appendStartType(readU32());
  readU32(); // dwErrorControl
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
  readU32(); // dwServiceType
  appendStartType(readU32());
  readU32(); // dwErrorControl
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
  appendXmlElement(xml, xmlBytes, 0, "<Command>", DcerpcField.COMMAND);
  appendXmlElement(xml, xmlBytes, 0, "<Arguments>", DcerpcField.COMMAND_ARGUMENTS);
  // The run-as account is the <UserId> of the <Principal> element (2.5.5);
  // a <LogonTrigger> may carry a <UserId> of its own, so search after <Principal.
  const principal = findAscii(xml, xmlBytes, 0, "<Principal");
  if (principal >= 0) appendXmlElement(xml, xmlBytes, <u32>principal, "<UserId>", DcerpcField.RUN_AS_USER);
  return true;
}

//  SchRpcRun (opnum 12), SchRpcDelete (13), SchRpcEnableTask (19) ([MS-TSCH] 3.2.5.4):
//    [in, string] const wchar_t* path, then for SchRpcEnableTask [in] DWORD enabled
function parseTaskPathCall(opnum: u32): bool {
  if (!wideString()) return false;
  appendWide(DcerpcField.TASK_NAME);
  if (opnum == 19) {
    const enabled = readU32();
    if (failed) return false;
    appendU64(DcerpcField.TASK_ENABLED, enabled != 0 ? 1 : 0);
  }
  return true;
}

//  winreg ([MS-RRP] 3.1.5), each after the key's RPC_HKEY (20 bytes):
//    BaseRegCreateKey (6), BaseRegDeleteKey (7), BaseRegOpenKey (15):
//      RRP_UNICODE_STRING lpSubKey
//    BaseRegDeleteValue (8), BaseRegSetValue (22): RRP_UNICODE_STRING lpValueName
//    BaseRegSaveKey (20), BaseRegSaveKeyEx (31): PRRP_UNICODE_STRING lpFile
//  and the remote shutdowns BaseInitiateSystemShutdown (24) and
//  BaseInitiateSystemShutdownEx (30), which take no key handle.
//  The key path is relative to the handle, which was opened by an earlier call.
function parseWinreg(opnum: u32): bool {
  if (opnum == 24 || opnum == 30) return parseInitiateShutdown();
  let id: u16 = 0;
  if (opnum == 6 || opnum == 7 || opnum == 15) id = DcerpcField.KEY_PATH;
  else if (opnum == 8 || opnum == 22) id = DcerpcField.VALUE_NAME;
  else if (opnum == 20 || opnum == 31) id = DcerpcField.FILE_PATH;
  else return true;
  skip(CONTEXT_HANDLE_BYTES);
  if (!unicodeStringStruct(true)) return false;
  if (textBytes > 0) appendWide(id);
  return true;
}

//  BaseInitiateShutdown(Ex) ([MS-RSP] 3.2.4.1, 3.2.4.3) and winreg
//  BaseInitiateSystemShutdown(Ex) ([MS-RRP] 3.1.5.24, 3.1.5.30):
//    [in, unique] PREGISTRY_SERVER_NAME ServerName (one wchar_t),
//    [in, unique] PRRP_UNICODE_STRING lpMessage, [in] DWORD dwTimeout, ...
function parseInitiateShutdown(): bool {
  if (uniquePointer()) skip(2);
  if (uniquePointer()) {
    if (!unicodeStringStruct(true)) return false;
    if (textBytes > 0) appendWide(DcerpcField.SHUTDOWN_MESSAGE);
  }
  const timeout = readU32();
  if (failed) return false;
  appendU64(DcerpcField.SHUTDOWN_TIMEOUT, timeout);
  return true;
}

//  eventlog ([MS-EVEN] 3.1.4):
//    ElfrOpenELW (7) / ElfrOpenELA (14): [in, unique] EVENTLOG_HANDLE_W/A
//      UNCServerName (one character), [in] RPC_UNICODE_STRING / RPC_STRING ModuleName, ...
//    ElfrClearELFW (0) / ElfrClearELFA (12): [in] IELF_HANDLE LogHandle (20),
//      [in, unique] PRPC_UNICODE_STRING / PRPC_STRING BackupFileName
//  NOTE: a clear names its log only by the handle that ElfrOpenEL returned.
//  Handles are not tracked between calls, so the log name is on the record
//  of the open, not on the record of the clear.
function parseEventlog(opnum: u32): bool {
  if (opnum == 7 || opnum == 14) {
    const wide = opnum == 7;
    if (uniquePointer()) skip(wide ? 2 : 1);
    if (!unicodeStringStruct(wide)) return false;
    if (textBytes > 0) appendText(DcerpcField.LOG_NAME, wide);
    return true;
  }
  if (opnum == 0 || opnum == 12) {
    skip(CONTEXT_HANDLE_BYTES);
    if (!uniquePointer()) return !failed;
    if (!unicodeStringStruct(opnum == 0)) return false;
    if (textBytes > 0) appendText(DcerpcField.BACKUP_FILE, opnum == 0);
  }
  return true;
}

//  EvtRpcClearLog ([MS-EVEN6] 3.1.4.16): [in, context_handle] control (20),
//    [in, string] LPCWSTR channelPath, [in, unique, string] LPCWSTR backupPath, ...
function parseEvtRpcClearLog(): bool {
  skip(CONTEXT_HANDLE_BYTES);
  if (!wideString()) return false;
  appendWide(DcerpcField.LOG_NAME);
  if (uniquePointer()) {
    if (!wideString()) return false;
    appendWide(DcerpcField.BACKUP_FILE);
  }
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

//  IDL_DRSReplicaSync (opnum 2) and IDL_DRSGetNCChanges (opnum 3) ([MS-DRSR]
//  4.1.23, 4.1.10) name the naming context in a DSNAME (5.50) reached through
//  a version-dependent request union. The DSNAME is found by its shape rather
//  than by walking each version of the union:
//
//    max_count u32 (NameLen + 1) | structLen u32 | SidLen u32 (<= 28) |
//    Guid (16) | Sid (28) | NameLen u32 | StringName (NameLen + 1 wchar, NUL last)
//
//  NOTE: earlier bytes that happen to have this shape would be taken for the
//  DSNAME. The fields before it are GUIDs, counters and pointers, so this is
//  unlikely but not excluded.
function findNamingContext(): void {
  for (let offset: u32 = 0; fits(stubLength, offset, 62); offset += 4) {
    const p = stubBase + <usize>offset;
    const maxCount = load<u32>(p);
    const nameLength = load<u32>(p, 56);
    if (nameLength == 0 || maxCount != nameLength + 1 || nameLength > DSNAME_CHARS_MAX) continue;
    if (load<u32>(p, 8) > 28 || load<u32>(p, 4) < 56) continue;
    const bytes = nameLength << 1;
    if (!fits(stubLength, offset + 60, bytes + 2)) continue;
    if (load<u16>(p + 60 + <usize>bytes) != 0 || load<u16>(p, 60) == 0) continue;
    appendRange(DcerpcField.NAMING_CONTEXT, p + 60, bytes, true);
    return;
  }
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

function readU8(): u32 {
  if (!fits(stubLength, at, 1)) {
    failed = true;
    at = stubLength;
    return 0;
  }
  const v = <u32>load<u8>(stubBase + <usize>at);
  at += 1;
  return v;
}

function readU16(): u32 {
  align(2);
  if (!fits(stubLength, at, 2)) {
    failed = true;
    at = stubLength;
    return 0;
  }
  const v = <u32>load<u16>(stubBase + <usize>at);
  at += 2;
  return v;
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

// RPC_UNICODE_STRING / RRP_UNICODE_STRING ([MS-DTYP] 2.3.10, [MS-RRP] 2.2.4)
// and RPC_STRING ([MS-EVEN] 2.2.2): Length u16, MaximumLength u16, and a
// unique pointer to the characters, whose conformant varying array follows
// the structure. Sets textPtr/textBytes; a null Buffer gives an empty text.
function unicodeStringStruct(wide: bool): bool {
  readU16(); // Length
  readU16(); // MaximumLength
  if (!uniquePointer()) {
    textBytes = 0;
    return !failed;
  }
  return anyString(wide);
}

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

// Appends a u64 evidence entry.
function appendU64(id: u16, value: u64): void {
  if (outUsed + 12 > outCapacity) return;
  const entry = outBase + <usize>outUsed;
  store<u16>(entry, id | EVIDENCE_U64);
  store<u16>(entry, 8, 2);
  store<u64>(entry, value, 4);
  outUsed += 12;
}

// Appends AT_INFO.JobTime (milliseconds after midnight) as "HH:MM:SS".
function appendJobTime(milliseconds: u32): void {
  const seconds = milliseconds / 1000;
  const hours = seconds / 3600;
  // A JobTime past midnight is malformed; it is shown as sent rather than wrapped.
  if (hours > 99 || outUsed + 12 > outCapacity) return;
  const entry = outBase + <usize>outUsed;
  store<u16>(entry, DcerpcField.JOB_TIME);
  store<u16>(entry, 8, 2);
  writeTwoDigits(entry + 4, hours);
  store<u8>(entry, 0x3a, 6);
  writeTwoDigits(entry + 7, (seconds / 60) % 60);
  store<u8>(entry, 0x3a, 9);
  writeTwoDigits(entry + 10, seconds % 60);
  outUsed += 12;
}

function writeTwoDigits(dst: usize, value: u32): void {
  store<u8>(dst, <u8>(0x30 + value / 10));
  store<u8>(dst, <u8>(0x30 + value % 10), 1);
}

// Appends a service start type ([MS-SCMR] 2.2.15 dwStartType) by name;
// SERVICE_NO_CHANGE appends nothing, other values appear as decimal.
function appendStartType(startType: u32): void {
  if (failed || startType == SERVICE_NO_CHANGE) return;
  let name = "";
  switch (startType) {
    case 0: name = "SERVICE_BOOT_START"; break;
    case 1: name = "SERVICE_SYSTEM_START"; break;
    case 2: name = "SERVICE_AUTO_START"; break;
    case 3: name = "SERVICE_DEMAND_START"; break;
    case 4: name = "SERVICE_DISABLED"; break;
  }
  if (name.length == 0) {
    appendU64(DcerpcField.START_TYPE, startType);
    return;
  }
  appendRange(DcerpcField.START_TYPE, changetype<usize>(name), <u32>name.length << 1, true);
}

// Returns the UTF-16 unit index of `tag` (ASCII) in UTF-16LE XML at or after
// unit `from`, or -1. The search covers the first TASK_XML_SCAN_UNITS units.
function findAscii(xml: usize, bytes: u32, from: u32, tag: string): i32 {
  let units = bytes >> 1;
  if (units > TASK_XML_SCAN_UNITS) units = TASK_XML_SCAN_UNITS;
  const tagUnits = <u32>tag.length;
  const tagPtr = changetype<usize>(tag);
  if (units < tagUnits) return -1;
  for (let i: u32 = from; i + tagUnits <= units; i++) {
    let matched = true;
    for (let j: u32 = 0; j < tagUnits; j++) {
      if (load<u16>(xml + (<usize>(i + j) << 1)) != load<u16>(tagPtr + (<usize>j << 1))) {
        matched = false;
        break;
      }
    }
    if (matched) return <i32>i;
  }
  return -1;
}

// Finds `tag` (ASCII, such as "<Command>") in UTF-16LE XML at or after unit
// `from` and appends the element text that follows it, up to the next '<'.
function appendXmlElement(xml: usize, bytes: u32, from: u32, tag: string, id: u16): void {
  const found = findAscii(xml, bytes, from, tag);
  if (found < 0) return;
  let units = bytes >> 1;
  if (units > TASK_XML_SCAN_UNITS) units = TASK_XML_SCAN_UNITS;
  const start = <u32>found + <u32>tag.length;
  let end = start;
  while (end < units && load<u16>(xml + (<usize>end << 1)) != 0x3c) end++;
  appendRange(id, xml + (<usize>start << 1), (end - start) << 1, true);
}

//  IWbemServices::ExecMethod / ExecMethodAsync ([MS-WMI] 3.1.4.3.22, 3.1.4.3.23),
//  a DCOM call whose stub starts with ORPCTHIS ([MS-DCOM] 2.2.13.1):
//    COMVERSION version (2 x u16), u32 flags, u32 reserved1, CID cid (16 bytes),
//    [unique] ORPC_EXTENT_ARRAY* extensions
//  then [in] BSTR strObjectPath, [in] BSTR strMethodName, ... A BSTR
//  travels as a unique pointer to FLAGGED_WORD_BLOB ([MS-OAUT] 2.2.23.1):
//    conformance (u32), cBytes (u32), clSize (u32), clSize UTF-16 code units.
// NOTE: the in-parameters object (for Win32_Process.Create, the command
// line) is MS-WMIO encoded and is not read, so `command` stays absent.
function parseWbemExecMethod(): bool {
  skip(4 + 4 + 4 + 16);
  // ORPC extensions (rare) hold variable data before the parameters.
  if (uniquePointer()) return !failed;
  if (!bstr()) return false;
  appendWide(DcerpcField.WMI_OBJECT_PATH);
  if (!bstr()) return false;
  appendWide(DcerpcField.WMI_METHOD);
  return true;
}

// Reads a BSTR (above); a null one leaves textBytes 0. Returns false when
// the stub ends inside it.
function bstr(): bool {
  textBytes = 0;
  if (!uniquePointer()) return !failed;
  const conformance = readU32();
  readU32(); // cBytes
  const units = readU32();
  if (failed || units > conformance) return false;
  const bytes = units << 1;
  if (!fits(stubLength, at, bytes)) return false;
  textPtr = stubBase + <usize>at;
  textBytes = bytes;
  at += bytes;
  return true;
}
