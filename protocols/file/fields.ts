// File-transfer object field ids (1100-1149) and anomaly ids (1100-1149).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// A `file` record describes one file read or written over SMB, written when
// the file is closed, its entry is evicted, or the flow ends.

export namespace FileField {
  @inline export const PATH: u16 = 1100;              // share and name joined: \\server\share\dir\name
  @inline export const SHARE: u16 = 1101;             // \\server\share as connected
  @inline export const NAME: u16 = 1102;              // name relative to the share
  @inline export const DIRECTION: u16 = 1103;         // "to_server" (written) or "from_server" (read)
  @inline export const SIZE: u16 = 1104;              // end of file, bytes: the largest of CREATE, CLOSE and data seen
  @inline export const BYTES_SEEN: u16 = 1105;        // data bytes carried by the reads or writes seen
  @inline export const BYTES_MISSING: u16 = 1106;     // size minus the contiguous bytes seen from offset 0
  @inline export const SHA256: u16 = 1107;            // hex digest, only when every byte was seen in order
  @inline export const FILE_TYPE: u16 = 1108;         // from the first bytes: pe, elf, zip, pdf, xml, job, script, text or data
  @inline export const OBJECT_ID: u16 = 1109;         // number of the file object in this core, for file_data records
  @inline export const TASK_COMMAND: u16 = 1110;      // .JOB Application Name or task XML <Command>
  @inline export const TASK_ARGUMENTS: u16 = 1111;    // .JOB Parameters or task XML <Arguments>
  @inline export const TASK_WORKING_DIRECTORY: u16 = 1112; // .JOB Working Directory or task XML <WorkingDirectory>
  @inline export const TASK_AUTHOR: u16 = 1113;       // .JOB Author or task XML <Author>
  @inline export const TASK_RUN_AS: u16 = 1114;       // task XML <UserId>
  @inline export const OFFSET: u16 = 1115;            // file_data records: file offset of `data`
  @inline export const DATA: u16 = 1116;              // file_data records: up to 1024 content bytes
  @inline export const CHUNK: u16 = 1117;             // true on a file_data record, which carries content for extraction
  @inline export const SMB_SESSION_ID: u16 = 1118;    // SMB SessionId or UID the file was opened in
  @inline export const TASK_TRIGGER: u16 = 1119;      // first .JOB trigger: type and start, "daily 2026-01-31 08:00"
  // Alert fields of the after_file_write scorer (wasm-core/assembly/sequence.ts):
  // the file the same source wrote to an admin share of the same host before.
  @inline export const WRITTEN_FILE: u16 = 1120;      // its path, \\server\ADMIN$\name
  @inline export const WRITTEN_FILE_SHA256: u16 = 1121; // its SHA-256, when every byte was seen
}

export function fileFieldName(id: u16): string {
  switch (id) {
    case FileField.PATH: return "path";
    case FileField.SHARE: return "share";
    case FileField.NAME: return "name";
    case FileField.DIRECTION: return "direction";
    case FileField.SIZE: return "size";
    case FileField.BYTES_SEEN: return "bytes_seen";
    case FileField.BYTES_MISSING: return "bytes_missing";
    case FileField.SHA256: return "sha256";
    case FileField.FILE_TYPE: return "file_type";
    case FileField.OBJECT_ID: return "object_id";
    case FileField.TASK_COMMAND: return "task_command";
    case FileField.TASK_ARGUMENTS: return "task_arguments";
    case FileField.TASK_WORKING_DIRECTORY: return "task_working_directory";
    case FileField.TASK_AUTHOR: return "task_author";
    case FileField.TASK_RUN_AS: return "task_run_as";
    case FileField.OFFSET: return "offset";
    case FileField.DATA: return "data";
    case FileField.CHUNK: return "chunk";
    case FileField.SMB_SESSION_ID: return "session_id";
    case FileField.TASK_TRIGGER: return "task_trigger";
    case FileField.WRITTEN_FILE: return "written_file";
    case FileField.WRITTEN_FILE_SHA256: return "written_file_sha256";
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with "file.".
export namespace FileAnomaly {
  // Every file-object slot of the flow was taken when data for another file arrived.
  @inline export const OBJECT_TABLE_FULL: u16 = 1100;
  // Data arrived past the contiguous end, so the file has a hole and no hash.
  @inline export const DATA_GAP: u16 = 1101;
  // Data arrived before the contiguous end (a rewrite or an out-of-order read).
  @inline export const DATA_OVERLAP: u16 = 1102;
  // Data of the other direction arrived for a file object already reading or writing.
  @inline export const MIXED_DIRECTION: u16 = 1103;
  // Every head buffer for task files was taken, so a task file is not parsed.
  @inline export const HEAD_POOL_FULL: u16 = 1104;
  // A .JOB file whose fixed-length section or a variable-length field ends early.
  @inline export const JOB_MALFORMED: u16 = 1105;
  // Bytes of an SMB message carrying file data were lost in the capture.
  @inline export const DATA_CUT: u16 = 1106;
}

export function fileAnomalyName(id: u16): string {
  switch (id) {
    case FileAnomaly.OBJECT_TABLE_FULL: return "file.object_table_full";
    case FileAnomaly.DATA_GAP: return "file.data_gap";
    case FileAnomaly.DATA_OVERLAP: return "file.data_overlap";
    case FileAnomaly.MIXED_DIRECTION: return "file.mixed_direction";
    case FileAnomaly.HEAD_POOL_FULL: return "file.head_pool_full";
    case FileAnomaly.JOB_MALFORMED: return "file.job_malformed";
    case FileAnomaly.DATA_CUT: return "file.data_cut";
  }
  return "";
}
