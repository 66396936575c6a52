// Byte builders for file-transfer fixtures: whole SMB2 conversations that
// write or read one file, and Task Scheduler artefacts built from [MS-TSCH]
// (2.4 .JOB file format, 2.5 task XML). Integers are little-endian.
import { TcpConversation } from "../helpers/frames.js";
import {
  closeRequest, closeResponse, Command, createRequest, createResponse, fileId, le16, le32, nbss, readRequest,
  readResponse, smb2, treeConnectRequest, treeConnectResponse, utf16, writeRequest, writeResponse,
} from "../smb/build.js";

export const CLIENT = "10.0.0.1";
export const SERVER = "10.0.0.2";
const SESSION = 0x4000000001n;
const TREE = 5;
// Sends an SMB message, split into segments of `segmentBytes` when it is
// longer.
function send(c: TcpConversation, toServer: boolean, bytes: number[], segmentBytes = 1460): void {
  c.segmented(toServer, bytes, segmentBytes);
}

export interface Transfer {
  share: string;
  name: string;
  // File offset and bytes of each WRITE (or READ response).
  pieces: { offset: number; data: number[] }[];
  read?: boolean;
  // End of file in the CLOSE response; the sum of the pieces by default.
  closeSize?: number;
  // Client port, so that several transfers in one batch are separate flows.
  clientPort?: number;
  // TCP payload bytes per segment of each WRITE request or READ response
  // (1460 by default), so that tests can cut the file data anywhere.
  segmentBytes?: number;
}

// A conversation that connects `share`, opens `name`, writes (or reads) the
// pieces in the order given, one message each, and closes the file.
export function transferConversation(t: Transfer): TcpConversation {
  const c = new TcpConversation(CLIENT, t.clientPort ?? 49200, SERVER, 445).handshake();
  const ids = { sessionId: SESSION, treeId: TREE };
  send(c, true, nbss(smb2({ command: Command.TREE_CONNECT, messageId: 1, sessionId: SESSION }, treeConnectRequest(t.share))));
  send(c, false, nbss(smb2({ command: Command.TREE_CONNECT, messageId: 1, sessionId: SESSION, treeId: TREE, response: true }, treeConnectResponse(1))));
  const size = t.pieces.reduce((end, p) => Math.max(end, p.offset + p.data.length), 0);
  send(c, true, nbss(smb2({ command: Command.CREATE, messageId: 2, ...ids }, createRequest(t.name, t.read ? 1 : 5))));
  send(c, false, nbss(smb2({ command: Command.CREATE, messageId: 2, response: true, ...ids }, createResponse(fileId(7), t.read ? size : 0, t.read ? 1 : 2))));
  let messageId = 3;
  for (const piece of t.pieces) {
    if (t.read) {
      send(c, true, nbss(smb2({ command: Command.READ, messageId, ...ids }, readRequest(fileId(7), piece.offset, piece.data.length))));
      send(c, false, nbss(smb2({ command: Command.READ, messageId, response: true, ...ids }, readResponse(piece.data))), t.segmentBytes);
    } else {
      send(c, true, nbss(smb2({ command: Command.WRITE, messageId, ...ids }, writeRequest(fileId(7), piece.offset, piece.data))), t.segmentBytes);
      send(c, false, nbss(smb2({ command: Command.WRITE, messageId, response: true, ...ids }, writeResponse(piece.data.length))));
    }
    messageId++;
  }
  send(c, true, nbss(smb2({ command: Command.CLOSE, messageId, ...ids }, closeRequest(fileId(7)))));
  send(c, false, nbss(smb2({ command: Command.CLOSE, messageId, response: true, ...ids }, closeResponse(t.closeSize ?? size))));
  return c;
}

export const ascii = (text: string): number[] => Array.from(text, (ch) => ch.charCodeAt(0));

// A .JOB Unicode string (2.4.2): character count with the terminating null,
// then UTF-16LE characters and the null.
function jobString(text: string): number[] {
  return [...le16(text.length + 1), ...utf16(text), 0, 0];
}

export interface JobFile {
  application: string;
  parameters: string;
  workingDirectory: string;
  author: string;
  comment?: string;
  // Trigger Type (2.4.2.11.1), start date and time.
  trigger?: { type: number; year: number; month: number; day: number; hour: number; minute: number };
}

// A Task Scheduler 1.0 .JOB file: the 68-byte Fixed-Length Section (2.4.1)
// and the Variable-Length Section (2.4.2).
export function jobFile(job: JobFile): number[] {
  const variable = [
    ...le16(0),                                   // Running Instance Count
    ...jobString(job.application),                // Application Name
    ...jobString(job.parameters),                 // Parameters
    ...jobString(job.workingDirectory),           // Working Directory
    ...jobString(job.author),                     // Author
    ...jobString(job.comment ?? "Created by a test"), // Comment
    ...le16(0),                                   // User Data Size
    ...le16(8), ...Array(8).fill(0),              // Reserved Data Size, Reserved Data
  ];
  const triggerOffset = 68 + variable.length;
  const triggers = job.trigger ? [
    ...le16(1),                                   // Trigger Count
    ...le16(0x30), ...le16(0),                    // Trigger Size, Reserved1
    ...le16(job.trigger.year), ...le16(job.trigger.month), ...le16(job.trigger.day),
    ...le16(0), ...le16(0), ...le16(0),           // End Year, Month, Day
    ...le16(job.trigger.hour), ...le16(job.trigger.minute),
    ...le32(0), ...le32(0), ...le32(0),           // Minutes Duration, Minutes Interval, Flags
    ...le32(job.trigger.type),
    ...le16(1), ...le16(0), ...le16(0),           // Trigger-specific: every day
    ...le16(0), ...le16(0), ...le16(0),           // Padding, Reserved2, Reserved3
  ] : le16(0);
  const fixed = [
    ...le16(0x0600), ...le16(1),                  // Product Version (Windows Vista and later), File Version
    ...Array.from({ length: 16 }, (_, i) => 0x10 + i), // Job uuid
    ...le16(70),                                  // App Name Len Offset
    ...le16(triggerOffset),
    ...le16(0), ...le16(0),                       // Error Retry Count, Error Retry Interval
    ...le16(60), ...le16(10),                     // Idle Deadline, Idle Wait
    ...le32(0x100), ...le32(259200000),           // Priority (NORMAL), Maximum Run Time (ms)
    ...le32(0), ...le32(0x00041303), ...le32(0),  // Exit Code, Status (task has not run), Flags
    ...Array(16).fill(0),                         // Run Date
  ];
  return [...fixed, ...variable, ...triggers];
}

// Task XML as Task Scheduler stores it: UTF-16LE behind a byte-order mark.
export function taskXml(command: string, args: string, author: string, userId: string): number[] {
  const xml = `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Author>${author}</Author></RegistrationInfo>
  <Principals><Principal id="Author"><UserId>${userId}</UserId><RunLevel>HighestAvailable</RunLevel></Principal></Principals>
  <Actions Context="Author"><Exec><Command>${command}</Command><Arguments>${args}</Arguments></Exec></Actions>
</Task>
`;
  return [0xff, 0xfe, ...utf16(xml)];
}

