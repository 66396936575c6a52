// SMB1 transactions ([MS-CIFS] 2.2.4.33, 2.2.4.46, 2.2.4.62): subcommand
// names, the file names TRANSACTION2 and NT_TRANSACT carry in their
// parameters, and secondary requests joined to their transaction.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation } from "../helpers/frames.js";
import { bind, Uuid } from "../dcerpc/build.js";
import { le16, le32, nbss, smb1Block, smb1Header, smb1String, utf16 } from "./build.js";
import { capture } from "../helpers/captures.js";
import { byCommand, runCapture, runFrames } from "./run.js";

const TRANSACTION = 0x25;
const TRANSACTION_SECONDARY = 0x26;
const TRANSACTION2 = 0x32;
const NT_TRANSACT = 0xa0;
const ids = { uid: 0x800, tid: 0x801 };

function conversation(): TcpConversation {
  return new TcpConversation("10.0.0.1", 49400, "10.0.0.2", 445).handshake();
}

// TRANSACTION TransactNmPipe on FID 0x4001 with the first `data` bytes, of
// `total` announced. Words 2.2.4.33.1; the data starts at offset 84.
function pipeTransaction(mid: number, data: number[], total: number): number[] {
  const dataAt = 84;
  const name = smb1String("\\PIPE\\", 67);
  const words = [
    ...le16(0), ...le16(total), ...le16(0), ...le16(1024), 0, 0, ...le16(0), ...le32(0), ...le16(0),
    ...le16(0), ...le16(dataAt), ...le16(data.length), ...le16(dataAt), 2, 0, ...le16(0x26), ...le16(0x4001),
  ];
  const bytes = [...name, ...Array(dataAt - 67 - name.length).fill(0), ...data];
  return [...smb1Header({ command: TRANSACTION, mid, ...ids }), ...smb1Block(words, bytes)];
}

// TRANSACTION_SECONDARY (2.2.4.34.1) with data at offset 52.
function pipeSecondary(mid: number, data: number[], displacement: number, total: number): number[] {
  const words = [...le16(0), ...le16(total), ...le16(0), ...le16(0), ...le16(0), ...le16(data.length), ...le16(52), ...le16(displacement)];
  return [...smb1Header({ command: TRANSACTION_SECONDARY, mid, ...ids }), ...smb1Block(words, [0, ...data])];
}

// A transaction response (2.2.4.33.2, 2.2.4.46.2) without parameters or data.
function emptyResponse(command: number, mid: number): number[] {
  const words = command === NT_TRANSACT
    ? [0, 0, 0, ...Array(32).fill(0), 0, 0]
    : [...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le16(0), 0, 0];
  return [...smb1Header({ command, mid, response: true, ...ids }), ...smb1Block(words, [])];
}

test("smb1 transaction secondary joins pipe data", async () => {
  const pdu = bind(3, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }]);
  const c = conversation();
  c.fromClient(nbss(pipeTransaction(9, pdu.slice(0, 30), pdu.length)));
  c.fromClient(nbss(pipeSecondary(9, pdu.slice(30), 30, pdu.length)));
  c.fromServer(nbss(emptyResponse(TRANSACTION, 9)));
  const { records, smb, anomalies } = await runFrames(c.frames);

  const binds = records.filter((r) => r.type === "dcerpc" && r.fields.pdu_type === "bind");
  assert.is(binds.length, 1);
  assert.is(binds[0].fields.interface_uuid, Uuid.svcctl);
  const [transaction] = byCommand(smb, "SMB_COM_TRANSACTION");
  assert.is(transaction.fields.subcommand_name, "TRANS_TRANSACT_NMPIPE");
  assert.is(transaction.fields.secondary_requests, 1);
  assert.is(byCommand(smb, "SMB_COM_TRANSACTION_SECONDARY").length, 0);
  assert.is(anomalies["smb.transaction_secondary"], 1);
  assert.is(anomalies["smb.secondary_out_of_order"], undefined);
});

test("smb1 secondary out of order is counted", async () => {
  const pdu = bind(3, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }]);
  const c = conversation();
  c.fromClient(nbss(pipeTransaction(9, pdu.slice(0, 30), pdu.length)));
  c.fromClient(nbss(pipeSecondary(9, pdu.slice(40), 40, pdu.length)));
  c.fromClient(nbss(pipeSecondary(77, [1, 2, 3], 0, 3)));
  const { records, anomalies } = await runFrames(c.frames);
  assert.is(anomalies["smb.secondary_out_of_order"], 2);
  assert.is(records.filter((r) => r.type === "dcerpc" && r.fields.pdu_type === "bind").length, 0);
});

test("smb1 secondary requests are bounded", async () => {
  const c = conversation();
  c.fromClient(nbss(pipeTransaction(9, [5, 0, 11, 3], 4000)));
  for (let i = 0; i < 40; i++) c.fromClient(nbss(pipeSecondary(9, Array(8).fill(0), 4 + i * 8, 4000)));
  c.fromServer(nbss(emptyResponse(TRANSACTION, 9)));
  const { smb, anomalies } = await runFrames(c.frames);
  assert.is(anomalies["smb.secondary_limit"], 8);
  assert.is(byCommand(smb, "SMB_COM_TRANSACTION")[0].fields.secondary_requests, 32);
});

// TRANSACTION2 (2.2.4.46.1): 15 words, a null Name, parameters at 68.
function transaction2(mid: number, subcommand: number, parameters: number[]): number[] {
  const parametersAt = 68;
  const words = [
    ...le16(parameters.length), ...le16(0), ...le16(10), ...le16(4096), 0, 0, ...le16(0), ...le32(0), ...le16(0),
    ...le16(parameters.length), ...le16(parametersAt), ...le16(0), ...le16(0), 1, 0, ...le16(subcommand),
  ];
  return [...smb1Header({ command: TRANSACTION2, mid, ...ids }), ...smb1Block(words, [0, 0, 0, ...parameters])];
}

test("smb1 trans2 find first names the pattern", async () => {
  // FIND_FIRST2 parameters (2.2.6.2.1): attributes, count, flags, level, storage type, FileName.
  const parameters = [...le16(0x16), ...le16(512), ...le16(6), ...le16(0x104), ...le32(0), ...utf16("\\Windows\\Tasks\\*.job"), 0, 0];
  const c = conversation();
  c.fromClient(nbss(transaction2(21, 0x0001, parameters)));
  c.fromServer(nbss(emptyResponse(TRANSACTION2, 21)));
  const { smb } = await runFrames(c.frames);
  const [find] = byCommand(smb, "SMB_COM_TRANSACTION2");
  assert.is(find.fields.subcommand, 1);
  assert.is(find.fields.subcommand_name, "TRANS2_FIND_FIRST2");
  assert.is(find.fields.path, "\\Windows\\Tasks\\*.job");
});

test("smb1 trans2 query path info names the file", async () => {
  // QUERY_PATH_INFORMATION parameters (2.2.6.6.1): level, reserved, FileName.
  const parameters = [...le16(0x107), ...le32(0), ...utf16("\\PSEXESVC.exe"), 0, 0];
  const c = conversation();
  c.fromClient(nbss(transaction2(22, 0x0005, parameters)));
  c.fromServer(nbss(emptyResponse(TRANSACTION2, 22)));
  const { smb } = await runFrames(c.frames);
  const [query] = byCommand(smb, "SMB_COM_TRANSACTION2");
  assert.is(query.fields.subcommand_name, "TRANS2_QUERY_PATH_INFORMATION");
  assert.is(query.fields.path, "\\PSEXESVC.exe");
});

test("smb1 nt transact create names the file", async () => {
  const name = utf16("Windows\\Temp\\payload.dll");
  // NT_TRANSACT_CREATE parameters (2.2.7.1.1), 53 bytes before Name.
  const parameters = [
    ...le32(0), ...le32(0), ...le32(0x12019f), ...le32(0), ...le32(0), ...le32(0x80), ...le32(7), ...le32(5),
    ...le32(0x40), ...le32(0), ...le32(0), ...le32(name.length), ...le32(2), 3, 0, ...name,
  ];
  const parametersAt = 76;
  const words = [
    0, ...le16(0), ...le32(parameters.length), ...le32(0), ...le32(100), ...le32(0),
    ...le32(parameters.length), ...le32(parametersAt), ...le32(0), ...le32(0), 0, ...le16(1),
  ];
  const bytesAt = 32 + 1 + words.length + 2;
  const message = [...smb1Header({ command: NT_TRANSACT, mid: 23, ...ids }), ...smb1Block(words, [...Array(parametersAt - bytesAt).fill(0), ...parameters])];
  const c = conversation();
  c.fromClient(nbss(message));
  c.fromServer(nbss(emptyResponse(NT_TRANSACT, 23)));
  const { smb, anomalies } = await runFrames(c.frames);
  const [create] = byCommand(smb, "SMB_COM_NT_TRANSACT");
  assert.is(create.fields.subcommand_name, "NT_TRANSACT_CREATE");
  assert.is(create.fields.path, "Windows\\Temp\\payload.dll");
  assert.is(anomalies["smb.body_truncated"], undefined);
});

test("smb1 nt transact with garbage counts does not trap", async () => {
  const words = [0, ...le16(0), ...Array(32).fill(0xff), 0xff, ...le16(1)];
  const c = conversation();
  c.fromClient(nbss([...smb1Header({ command: NT_TRANSACT, mid: 24, ...ids }), ...smb1Block(words.slice(0, 38), [1, 2, 3])]));
  const { anomalies } = await runFrames(c.frames);
  assert.is(anomalies["smb.body_truncated"], 1);
});

test("smb1 trans2 with secondary", async () => {
  // FIND_FIRST2 whose parameters announce 200 bytes of data to follow in a
  // TRANSACTION2_SECONDARY (2.2.4.47.1: 9 words, FID last).
  const parameters = [...le16(0x16), ...le16(512), ...le16(6), ...le16(0x104), ...le32(0), ...utf16("\\*"), 0, 0];
  const primary = transaction2(31, 0x0001, parameters);
  const secondaryWords = [...le16(parameters.length), ...le16(200), ...le16(0), ...le16(0), ...le16(0), ...le16(200), ...le16(56), ...le16(0), ...le16(0xffff)];
  const secondary = [...smb1Header({ command: 0x33, mid: 31, ...ids }), ...smb1Block(secondaryWords, [0, 0, 0, ...Array(200).fill(0x20)])];
  const c = conversation();
  c.fromClient(nbss(primary));
  c.fromClient(nbss(secondary));
  c.fromServer(nbss(emptyResponse(TRANSACTION2, 31)));
  const { smb, anomalies } = await runFrames(c.frames);
  const [find] = byCommand(smb, "SMB_COM_TRANSACTION2");
  assert.is(find.fields.subcommand_name, "TRANS2_FIND_FIRST2");
  assert.is(find.fields.path, "\\*");
  assert.is(find.fields.secondary_requests, 1);
  assert.is(anomalies["smb.secondary_out_of_order"], undefined);
  assert.is(byCommand(smb, "SMB_COM_TRANSACTION2_SECONDARY").length, 0);
});

// zeek_smb1_trans_dssetup.cap: a client binds lsarpc over an SMB1
// TransactNmPipe transaction and calls DsRolerGetPrimaryDomainInformation.
test("smb1 transaction capture names subcommand", async () => {
  const path = capture("dcerpc/zeek_smb1_trans_dssetup.cap");
  if (!path) return;
  const { smb, records } = await runCapture(path);
  const transactions = byCommand(smb, "SMB_COM_TRANSACTION");
  assert.ok(transactions.length >= 2);
  for (const t of transactions) {
    assert.is(t.fields.subcommand_name, "TRANS_TRANSACT_NMPIPE");
    assert.is(t.fields.named_pipe, "\\lsarpc");
  }
  assert.ok(records.some((r) => r.type === "dcerpc" && r.fields.operation === "DsRolerGetPrimaryDomainInformation"));
});

test.run();
