// Content types from a file's first bytes (its "magic"), with the name's
// suffix deciding between text kinds that have no magic.

export namespace FileType {
  @inline export const UNKNOWN: u8 = 0;
  @inline export const PE: u8 = 1;       // "MZ": PE/COFF executable or DLL (Microsoft PE format, MS-DOS stub)
  @inline export const ELF: u8 = 2;      // 0x7F "ELF"
  @inline export const ZIP: u8 = 3;      // "PK" 03 04: ZIP, and so Office Open XML documents
  @inline export const PDF: u8 = 4;      // "%PDF-"
  @inline export const XML: u8 = 5;      // "<?xml" in UTF-8, or "<" after a UTF-16LE byte-order mark
  @inline export const JOB: u8 = 6;      // Task Scheduler 1.0 .JOB file (MS-TSCH 2.4)
  @inline export const SCRIPT: u8 = 7;   // "#!", or text named .bat .cmd .ps1 .vbs .js .hta
  @inline export const TEXT: u8 = 8;     // other printable text
  @inline export const DATA: u8 = 9;     // none of the above
}

export function fileTypeName(type: u8): string {
  switch (type) {
    case FileType.PE: return "pe";
    case FileType.ELF: return "elf";
    case FileType.ZIP: return "zip";
    case FileType.PDF: return "pdf";
    case FileType.XML: return "xml";
    case FileType.JOB: return "job";
    case FileType.SCRIPT: return "script";
    case FileType.TEXT: return "text";
    case FileType.DATA: return "data";
  }
  return "";
}

// Lower-cases an ASCII byte.
@inline function lower(b: u8): u8 { return b >= 0x41 && b <= 0x5a ? b | 0x20 : b; }

// True when the UTF-8 `name` ends with the ASCII `suffix`, compared without case.
export function nameEndsWith(name: usize, nameLength: u32, suffix: string): bool {
  const n = <u32>suffix.length;
  if (nameLength < n) return false;
  const start = name + <usize>(nameLength - n);
  for (let i: u32 = 0; i < n; i++) {
    if (lower(load<u8>(start + <usize>i)) != <u8>suffix.charCodeAt(i)) return false;
  }
  return true;
}

// True for the folder Task Scheduler keeps its files in: a name with a
// component "Tasks" followed by more (Windows\System32\Tasks\X on C$,
// System32\Tasks\X or Tasks\X.job on ADMIN$), or any name ending in .job.
export function isTaskPath(name: usize, nameLength: u32): bool {
  if (nameEndsWith(name, nameLength, ".job")) return true;
  for (let i: u32 = 0; i + 6 <= nameLength; i++) {
    if (i > 0 && load<u8>(name + <usize>(i - 1)) != 0x5c) continue;
    const p = name + <usize>i;
    if (lower(load<u8>(p)) == 0x74 && lower(load<u8>(p, 1)) == 0x61 && lower(load<u8>(p, 2)) == 0x73 &&
        lower(load<u8>(p, 3)) == 0x6b && lower(load<u8>(p, 4)) == 0x73 && load<u8>(p, 5) == 0x5c) return true;
  }
  return false;
}

function isScriptName(name: usize, nameLength: u32): bool {
  return nameEndsWith(name, nameLength, ".bat") || nameEndsWith(name, nameLength, ".cmd") ||
    nameEndsWith(name, nameLength, ".ps1") || nameEndsWith(name, nameLength, ".vbs") ||
    nameEndsWith(name, nameLength, ".js") || nameEndsWith(name, nameLength, ".hta") ||
    nameEndsWith(name, nameLength, ".psm1");
}

function isText(first: usize, count: u32): bool {
  for (let i: u32 = 0; i < count; i++) {
    const b = load<u8>(first + <usize>i);
    if (b < 0x20 && b != 0x09 && b != 0x0a && b != 0x0d) return false;
    if (b == 0x7f) return false;
  }
  return true;
}

// Returns the type of a file from up to 16 `first` bytes and its name.
export function fileTypeOf(first: usize, count: u32, name: usize, nameLength: u32): u8 {
  if (count >= 2 && load<u8>(first) == 0x4d && load<u8>(first, 1) == 0x5a) return FileType.PE;
  if (count >= 4 && load<u32>(first) == 0x464c457f) return FileType.ELF;
  if (count >= 4 && load<u32>(first) == 0x04034b50) return FileType.ZIP;
  if (count >= 5 && load<u32>(first) == 0x46445025 && load<u8>(first, 4) == 0x2d) return FileType.PDF;
  // "<?xml", optionally behind a UTF-8 byte-order mark; or 0xFF 0xFE '<' 0.
  if (count >= 5 && load<u32>(first) == 0x6d783f3c && load<u8>(first, 4) == 0x6c) return FileType.XML;
  if (count >= 8 && load<u8>(first) == 0xef && load<u8>(first, 1) == 0xbb && load<u8>(first, 2) == 0xbf &&
      load<u32>(first, 3) == 0x6d783f3c) return FileType.XML;
  if (count >= 4 && load<u16>(first) == 0xfeff && load<u16>(first, 2) == 0x003c) return FileType.XML;
  // MS-TSCH 2.4.1: Product Version, then File Version 0x0001.
  if (count >= 4 && nameEndsWith(name, nameLength, ".job") && load<u16>(first, 2) == 1) return FileType.JOB;
  if (count >= 2 && load<u8>(first) == 0x23 && load<u8>(first, 1) == 0x21) return FileType.SCRIPT;
  if (count == 0) return FileType.UNKNOWN;
  if (isText(first, count)) return isScriptName(name, nameLength) ? FileType.SCRIPT : FileType.TEXT;
  // PowerShell writes scripts in UTF-16LE behind a byte-order mark.
  if (count >= 2 && load<u16>(first) == 0xfeff && isScriptName(name, nameLength)) return FileType.SCRIPT;
  return FileType.DATA;
}
