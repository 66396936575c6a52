// File objects over SMB1 ([MS-CIFS] 2.2.4.64 NT_CREATE_ANDX, 2.2.4.43
// WRITE_ANDX, 2.2.4.42 READ_ANDX, 2.2.4.5 CLOSE): a write larger than the
// parse window, hashed whole, and a read.
import { createHash } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runFramesThroughCore } from "../helpers/core-run.js";
import { TcpConversation } from "../helpers/frames.js";
import { andX, le16, le32, le64, nbss, smb1Block, smb1Header, smb1String } from "../smb/build.js";

const UID = 0x800;
const TID = 0x801;
const FID = 0x4007;
// Sends an SMB message, split into 1460-byte segments when it is longer.
function send(c: TcpConversation, toServer: boolean, bytes: number[]): void {
  c.segmented(toServer, bytes);
}

function connect(c: TcpConversation, share: string): void {
  const words = [...andX(), ...le16(0), ...le16(1)];
  const bytesAt = 32 + 1 + words.length + 2;
  const path = smb1String(share, bytesAt + 1);
  send(c, true, nbss([...smb1Header({ command: 0x75, mid: 1, uid: UID }), ...smb1Block(words, [0, ...path, ...Array.from("?????\0", (ch) => ch.charCodeAt(0))])]));
  send(c, false, nbss([...smb1Header({ command: 0x75, mid: 1, uid: UID, tid: TID, response: true }), ...smb1Block([...andX(), ...le16(1)], Array.from("A:\0", (ch) => ch.charCodeAt(0)))]));
}

function open(c: TcpConversation, name: string, endOfFile: number): void {
  const fileName = smb1String(name, 32 + 1 + 48 + 2);
  const words = [
    ...andX(), 0, ...le16(fileName.length), ...le32(0), ...le32(0), ...le32(0x12019f), ...le64(0), ...le32(0x80),
    ...le32(7), ...le32(5), ...le32(0x40), ...le32(2), 0,
  ];
  send(c, true, nbss([...smb1Header({ command: 0xa2, mid: 2, uid: UID, tid: TID }), ...smb1Block(words, fileName)]));
  const response = [
    ...andX(), 0, ...le16(FID), ...le32(2), ...Array(32).fill(0), ...le32(0x80), ...le64(0), ...le64(endOfFile),
    ...le16(0), ...le16(0), 0,
  ];
  send(c, false, nbss([...smb1Header({ command: 0xa2, mid: 2, uid: UID, tid: TID, response: true }), ...smb1Block(response, [])]));
}

function write(c: TcpConversation, mid: number, offset: number, data: number[]): void {
  const dataAt = 32 + 1 + 28 + 2 + 1;
  const words = [
    ...andX(), ...le16(FID), ...le32(offset), ...le32(0), ...le16(0), ...le16(0),
    ...le16(data.length >>> 16), ...le16(data.length & 0xffff), ...le16(dataAt), ...le32(0),
  ];
  const header = smb1Header({ command: 0x2f, mid, uid: UID, tid: TID });
  // ByteCount is 16 bits; with more data it is ignored by the receiver (2.2.4.43.1).
  send(c, true, nbss([...header, words.length / 2, ...words, ...le16(Math.min(0xffff, data.length + 1)), 0, ...data]));
  const response = [...andX(), ...le16(data.length & 0xffff), ...le16(0), ...le16(data.length >>> 16), ...le16(0)];
  send(c, false, nbss([...smb1Header({ command: 0x2f, mid, uid: UID, tid: TID, response: true }), ...smb1Block(response, [])]));
}

function read(c: TcpConversation, mid: number, offset: number, data: number[]): void {
  const words = [...andX(), ...le16(FID), ...le32(offset), ...le16(data.length & 0xffff), ...le16(0), ...le32(0), ...le16(0), ...le32(0)];
  send(c, true, nbss([...smb1Header({ command: 0x2e, mid, uid: UID, tid: TID }), ...smb1Block(words, [])]));
  const dataAt = 32 + 1 + 24 + 2 + 1;
  const response = [...andX(), ...le16(0), ...le16(0), ...le16(0), ...le16(data.length & 0xffff), ...le16(dataAt), ...le16(data.length >>> 16), ...Array(8).fill(0)];
  send(c, false, nbss([...smb1Header({ command: 0x2e, mid, uid: UID, tid: TID, response: true }), response.length / 2, ...response, ...le16(Math.min(0xffff, data.length + 1)), 0, ...data]));
}

function close(c: TcpConversation, mid: number): void {
  send(c, true, nbss([...smb1Header({ command: 0x04, mid, uid: UID, tid: TID }), ...smb1Block([...le16(FID), ...le32(0)], [])]));
  send(c, false, nbss([...smb1Header({ command: 0x04, mid, uid: UID, tid: TID, response: true }), ...smb1Block([], [])]));
}

test("smb1 write andx hashed past window", async () => {
  const data = Array.from({ length: 100_000 }, (_, i) => (i * 31 + 7) & 0xff);
  const c = new TcpConversation("10.0.0.1", 49500, "10.0.0.2", 445).handshake();
  connect(c, "\\\\FILES\\ADMIN$");
  open(c, "svc.exe", 0);
  write(c, 3, 0, data.slice(0, 60_000));
  write(c, 4, 60_000, data.slice(60_000));
  close(c, 5);
  const { records, anomalies } = await runFramesThroughCore(c.frames);
  const files = records.filter((r) => r.type === "file");
  assert.is(files.length, 1);
  const file = files[0].fields;
  assert.is(file.path, "\\\\FILES\\ADMIN$\\svc.exe");
  assert.is(file.direction, "to_server");
  assert.is(file.size, data.length);
  assert.is(file.bytes_missing, 0);
  assert.is(file.sha256, createHash("sha256").update(Uint8Array.from(data)).digest("hex"));
  assert.is(anomalies["file.data_gap"], undefined);
});

test("smb1 read andx hashed", async () => {
  const data = Array.from({ length: 3000 }, (_, i) => (i * 3) & 0xff);
  const c = new TcpConversation("10.0.0.1", 49501, "10.0.0.2", 445).handshake();
  connect(c, "\\\\FILES\\share");
  open(c, "config.bin", data.length);
  read(c, 3, 0, data);
  close(c, 4);
  const { records } = await runFramesThroughCore(c.frames);
  const [file] = records.filter((r) => r.type === "file");
  assert.ok(file);
  assert.is(file.fields.direction, "from_server");
  assert.is(file.fields.sha256, createHash("sha256").update(Uint8Array.from(data)).digest("hex"));
});

test.run();
