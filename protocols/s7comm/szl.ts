// Identity facts from read SZL responses, for the asset inventory.
//
// SZL response data: SZL id (2), index (2), record length (2), record count
// (2), then the records. Record layouts of SSL-ID W#16#xy11 and W#16#xy1C,
// as the ICSNPP Snap7 capture of an S7-315 shows them:
//   0x0011 module identification, 28-byte records: index (2), order number
//          (20 ASCII), module type (2), Ausbg (2), Ausbe (2). Index 1 is the
//          module, index 7 the firmware, whose version is 'V' major, minor, patch
//          in Ausbg and Ausbe.
//   0x001c component identification, 34-byte records: index (2), text (32,
//          NUL-padded). Index 2 module name, 4 copyright ("Original Siemens
//          Equipment"), 5 serial number, 7 module type name.

import { fits, readU16be } from "../api";
import { fieldLiteral, fieldText } from "../../wasm-core/assembly/events";
import { S7Field } from "./fields";

@inline const SZL_MODULE_IDENTIFICATION: u16 = 0x0011;
@inline const SZL_COMPONENT_IDENTIFICATION: u16 = 0x001c;
// Records read per response; a 0x0011 list has 4 and a 0x001c list 10 or 11.
@inline const MAX_RECORDS: u32 = 16;

// "255.255.255" at most.
const revisionText = memory.data(12);

// Writes the identity fields found in the SZL response body at `p`.
export function identityFromSzl(p: usize, length: u32): void {
  if (length < 8) return;
  // The low byte selects the list; the high byte the part of it (0x0111 is
  // one record of 0x0011).
  const szlId = readU16be(p) & 0x00ff;
  const recordLength = <u32>readU16be(p + 4);
  const count = <u32>readU16be(p + 6);
  if (recordLength < 2) return;
  let offset: u32 = 8;
  // Each record consumes recordLength bytes, and at most MAX_RECORDS are read.
  for (let i: u32 = 0; i < count && i < MAX_RECORDS && fits(length, offset, recordLength); i++) {
    const record = p + <usize>offset;
    const index = readU16be(record);
    if (szlId == SZL_MODULE_IDENTIFICATION && recordLength >= 28) moduleRecord(record, index);
    else if (szlId == SZL_COMPONENT_IDENTIFICATION && recordLength >= 34) componentRecord(record, index);
    offset += recordLength;
  }
}

function moduleRecord(record: usize, index: u16): void {
  if (index == 1) {
    text(S7Field.PRODUCT_CODE, record + 2, 20);
  } else if (index == 7 && load<u8>(record, 24) == 0x56) {
    writeRevision(load<u8>(record, 25), load<u8>(record, 26), load<u8>(record, 27));
  }
}

function componentRecord(record: usize, index: u16): void {
  switch (index) {
    case 2: text(S7Field.DEVICE_NAME, record + 2, 32); break;
    case 4:
      if (containsSiemens(record + 2, 32)) fieldLiteral(S7Field.VENDOR_NAME, "Siemens");
      break;
    case 5: text(S7Field.SERIAL_NUMBER, record + 2, 32); break;
    case 7: text(S7Field.PRODUCT_NAME, record + 2, 32); break;
  }
}

// Writes ASCII text up to its first NUL, without trailing spaces; nothing
// when that leaves it empty.
function text(id: u16, p: usize, length: u32): void {
  let end: u32 = 0;
  while (end < length && load<u8>(p + <usize>end) != 0) end++;
  while (end > 0 && load<u8>(p + <usize>end - 1) == 0x20) end--;
  if (end > 0) fieldText(id, p, end);
}

// True when the text contains "Siemens" (ASCII, case as Siemens writes it).
function containsSiemens(p: usize, length: u32): bool {
  const word = "Siemens";
  const n = <u32>word.length;
  for (let start: u32 = 0; start + n <= length; start++) {
    let match = true;
    for (let j: u32 = 0; j < n; j++) {
      if (<u16>load<u8>(p + <usize>(start + j)) != <u16>word.charCodeAt(j)) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

function writeRevision(major: u8, minor: u8, patch: u8): void {
  let n: u32 = 0;
  n = writeDecimal(revisionText, n, major);
  store<u8>(revisionText + <usize>n, 0x2e);
  n = writeDecimal(revisionText, n + 1, minor);
  store<u8>(revisionText + <usize>n, 0x2e);
  n = writeDecimal(revisionText, n + 1, patch);
  fieldText(S7Field.REVISION, revisionText, n);
}

// Writes `value` in decimal at `p + at`; returns the offset after it.
export function writeDecimal(p: usize, at: u32, value: u32): u32 {
  let digits: u32 = 1;
  for (let v = value; v >= 10; v /= 10) digits++;
  let v = value;
  for (let i: u32 = digits; i > 0; i--) {
    store<u8>(p + <usize>(at + i - 1), <u8>(0x30 + v % 10));
    v /= 10;
  }
  return at + digits;
}
