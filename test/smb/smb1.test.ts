// SMB1 dissector through the whole core, on hand-built AndX chains: a
// non-extended SESSION_SETUP_ANDX with a chained TREE_CONNECT_ANDX, and
// chain offsets that do not move forward.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation } from "../helpers/frames.js";
import { andX, le16, le32, nbss, smb1Block, smb1Header, smb1String } from "./build.js";
import { byCommand, runFrames } from "./run.js";

const SESSION_SETUP_ANDX = 0x73;
const TREE_CONNECT_ANDX = 0x75;
const UID = 0x800;
const TID = 0x801;

// SESSION_SETUP_ANDX with WordCount 13 (NT LM 0.12, no extended security)
// for CONTOSO\alice, chained to TREE_CONNECT_ANDX \\FILES\IPC$. `andXOffset`
// replaces the chain offset when given.
function setupAndConnectRequest(andXOffset?: number): number[] {
  const header = smb1Header({ command: SESSION_SETUP_ANDX, mid: 7 });
  const setupWordsLength = 26;
  const bytesAt = header.length + 1 + setupWordsLength + 2;
  const account = smb1String("alice", bytesAt);
  const domain = smb1String("CONTOSO", bytesAt + account.length);
  const setupBytes = [...account, ...domain, 0, 0, 0, 0];
  const connectAt = bytesAt + setupBytes.length;
  const setupWords = [
    ...andX(TREE_CONNECT_ANDX, andXOffset ?? connectAt), ...le16(4356), ...le16(50), ...le16(0), ...le32(0),
    ...le16(0), ...le16(0), ...le32(0), ...le32(0xd4),
  ];
  const connectBytesAt = connectAt + 1 + 8 + 2;
  const path = smb1String("\\\\FILES\\IPC$", connectBytesAt + 1);
  const connect = smb1Block([...andX(), ...le16(0), ...le16(1)], [0, ...path, ...Array.from("?????\0", (c) => c.charCodeAt(0))]);
  return [...header, ...smb1Block(setupWords, setupBytes), ...connect];
}

function setupAndConnectResponse(): number[] {
  const header = smb1Header({ command: SESSION_SETUP_ANDX, mid: 7, uid: UID, tid: TID, response: true });
  const setup = smb1Block([...andX(TREE_CONNECT_ANDX, header.length + 9), ...le16(0)], []);
  const service = Array.from("IPC\0", (c) => c.charCodeAt(0));
  const connect = smb1Block([...andX(), ...le16(1)], service);
  return [...header, ...setup, ...connect];
}

test("smb1 session setup chained to tree connect", async () => {
  const c = new TcpConversation("10.0.0.1", 49300, "10.0.0.2", 445).handshake();
  c.fromClient(nbss(setupAndConnectRequest()));
  c.fromServer(nbss(setupAndConnectResponse()));
  const { smb, anomalies } = await runFrames(c.frames);

  assert.equal(smb.map((r) => r.fields.command), ["SMB_COM_SESSION_SETUP_ANDX", "SMB_COM_TREE_CONNECT_ANDX"]);
  const [setup, connect] = smb;
  assert.is(setup.fields.version, 1);
  assert.is(setup.fields.session_id, UID);
  assert.is(setup.fields.account, "CONTOSO\\alice");
  assert.is(connect.fields.share, "\\\\FILES\\IPC$");
  assert.is(connect.fields.share_type, "PIPE");
  assert.is(connect.fields.tree_id, TID);
  assert.is(connect.fields.user, "alice");
  assert.is(anomalies["smb.andx_offset_invalid"], undefined);
  assert.is(anomalies["smb.response_without_request"], undefined);
});

test("smb1 AndX offset pointing backwards", async () => {
  const c = new TcpConversation("10.0.0.1", 49300, "10.0.0.2", 445).handshake();
  // 32 is the first block itself: following it would loop.
  c.fromClient(nbss(setupAndConnectRequest(32)));
  const { smb, anomalies } = await runFrames(c.frames);

  assert.is(anomalies["smb.andx_offset_invalid"], 1);
  assert.equal(smb.map((r) => r.fields.command), ["SMB_COM_SESSION_SETUP_ANDX"]);
});

test("smb1 AndX offset past the message", async () => {
  const c = new TcpConversation("10.0.0.1", 49300, "10.0.0.2", 445).handshake();
  c.fromClient(nbss(setupAndConnectRequest(0x4000)));
  const { anomalies } = await runFrames(c.frames);

  assert.is(anomalies["smb.andx_offset_invalid"], 1);
});

test.run();
