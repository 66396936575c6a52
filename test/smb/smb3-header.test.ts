// SMB2/3 header fields that attribute large transfers and multichannel
// replays: CreditCharge, and ChannelSequence in a 3.x request's Status field.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation } from "../helpers/frames.js";
import { Command, le16, le32, nbss, readRequest, readResponse, smb2, fileId } from "./build.js";
import { byCommand, runFrames } from "./run.js";

// NEGOTIATE response (2.2.4) with DialectRevision at offset 4.
const negotiateResponse = (dialect: number) => [...le16(65), ...le16(1), ...le16(dialect), ...le16(0), ...Array(16).fill(0), ...le32(0)];

function negotiated(dialect: number): TcpConversation {
  const c = new TcpConversation("10.0.0.1", 49200, "10.0.0.2", 445).handshake();
  c.fromClient(nbss(smb2({ command: Command.NEGOTIATE, messageId: 0 }, [...le16(36), ...le16(1), ...Array(32).fill(0), ...le16(dialect)])));
  c.fromServer(nbss(smb2({ command: Command.NEGOTIATE, messageId: 0, response: true }, negotiateResponse(dialect))));
  return c;
}

test("smb3 read with channel sequence", async () => {
  const c = negotiated(0x0311);
  c.fromClient(nbss(smb2({ command: Command.READ, messageId: 5, status: 0x0007, creditCharge: 2 }, readRequest(fileId(1), 0, 100_000))));
  c.fromServer(nbss(smb2({ command: Command.READ, messageId: 5, response: true, creditCharge: 2 }, readResponse([1, 2, 3]))));
  const { smb } = await runFrames(c.frames);
  const [read] = byCommand(smb, "READ");
  assert.is(read.fields.version, 3);
  assert.is(read.fields.credit_charge, 2);
  assert.is(read.fields.channel_sequence, 7);
});

test("smb2 has no channel sequence", async () => {
  const c = negotiated(0x0210);
  c.fromClient(nbss(smb2({ command: Command.READ, messageId: 5, status: 0x0007 }, readRequest(fileId(1), 0, 10))));
  c.fromServer(nbss(smb2({ command: Command.READ, messageId: 5, response: true }, readResponse([1, 2, 3]))));
  const { smb } = await runFrames(c.frames);
  const [read] = byCommand(smb, "READ");
  assert.is(read.fields.version, 2);
  assert.is(read.fields.credit_charge, 1);
  assert.is(read.fields.channel_sequence, undefined);
});

test.run();
