// DCE-RPC on hand-built conversations: binds, fragmented and big-endian
// requests, faults, evidence from request stubs, named pipes over SMB2, and
// truncated or garbage PDUs that must never trap the core.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation } from "../helpers/frames.js";
import {
  Command, closeRequest, closeResponse, createRequest, createResponse, fileId, nbss, readRequest, readResponse,
  smb2, treeConnectRequest, treeConnectResponse, writeRequest, writeResponse,
} from "../smb/build.js";
import {
  bind, bindAck, changeServiceConfigWStub, createServiceWStub, fault, saSetAccountInformationStub, schRpcRegisterTaskStub, fragmentedRequest, le32, netrJobAddStub, ntlmNegotiate, pdu, PduType, request,
  response, Uuid,
} from "./build.js";
import { calls, rpcConversation, runFrames } from "./run.js";

const NTLMSSP = 10;

test("dcerpc bind with two contexts and NTLMSSP auth", async () => {
  const conversation = rpcConversation()
    .fromClient(bind(2, [
      { contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 },
      { contextId: 1, uuid: Uuid.atsvc, versionMajor: 1 },
    ], { authType: NTLMSSP, value: ntlmNegotiate() }))
    .fromServer(bindAck(2, "135", 2));
  const result = await runFrames(conversation.frames);
  const [bindRecord] = result.dcerpc;
  assert.is(bindRecord.fields.pdu_type, "bind");
  assert.is(bindRecord.serverToClient, false);
  assert.equal(bindRecord.fields.context_id, [0, 1]);
  assert.equal(bindRecord.fields.interface_uuid, [Uuid.svcctl, Uuid.atsvc]);
  assert.equal(bindRecord.fields.interface, ["svcctl", "atsvc"]);
  assert.equal(bindRecord.fields.interface_version, [2, 1]);
  assert.equal(result.ntlm.map((r) => r.fields.message), ["NEGOTIATE"]);
});

test("dcerpc call record with rtt and named_pipe", async () => {
  const conversation = rpcConversation(49155)
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }]))
    .fromServer(bindAck(2, "49155", 1))
    .fromClient(request({ callId: 3, contextId: 0, opnum: 19, stub: new Array(28).fill(0) }))
    .fromServer(response(3, 0));
  const result = await runFrames(conversation.frames);
  const [call] = calls(result.records);
  assert.is(call.fields.interface, "svcctl");
  assert.is(call.fields.operation, "StartServiceW");
  assert.is(call.fields.opnum, 19);
  assert.is(call.fields.call_id, 3);
  assert.is(call.fields.named_pipe, "49155");
  assert.is(call.fields.rtt_us, 1000);
  assert.is(call.serverToClient, true);
});

test("dcerpc fragmented request keeps first opnum", async () => {
  const stub = netrJobAddStub("\\\\hist01", "cmd.exe /c net user backup P@ss /add");
  const fragments = fragmentedRequest({ callId: 5, contextId: 1, opnum: 0, stub }, 24);
  assert.ok(fragments.length >= 3, "at least three fragments");
  const conversation = rpcConversation()
    .fromClient(bind(4, [{ contextId: 1, uuid: Uuid.atsvc, versionMajor: 1 }]))
    .fromServer(bindAck(4, "\\PIPE\\atsvc", 1));
  // Later fragments carry opnum 0x7777; only the first fragment's opnum counts.
  fragments.forEach((f, i) => {
    if (i > 0) { f[22] = 0x77; f[23] = 0x77; }
    conversation.fromClient(f);
  });
  conversation.fromServer(response(5, 1));
  const result = await runFrames(conversation.frames);
  const [call] = calls(result.records);
  assert.is(call.fields.operation, "NetrJobAdd");
  assert.is(call.fields.opnum, 0);
  assert.is(call.fields.command, "cmd.exe /c net user backup P@ss /add");
  assert.is(call.fields.stub_truncated, undefined);
});

test("dcerpc big-endian bind and request", async () => {
  const conversation = rpcConversation()
    .fromClient(bind(7, [{ contextId: 3, uuid: Uuid.epmapper, versionMajor: 3 }], undefined, PduType.BIND, true))
    .fromClient(request({ callId: 8, contextId: 3, opnum: 3, stub: new Array(16).fill(0), bigEndian: true, objectUuid: Uuid.svcctl }))
    .fromServer(response(8, 3));
  const result = await runFrames(conversation.frames);
  const [bindRecord] = result.dcerpc;
  assert.is(bindRecord.fields.interface_uuid, Uuid.epmapper);
  assert.is(bindRecord.fields.call_id, 7);
  const [call] = calls(result.records);
  assert.is(call.fields.call_id, 8);
  assert.is(call.fields.context_id, 3);
  assert.is(call.fields.operation, "ept_map");
  assert.is(call.fields.big_endian, true);
});

test("dcerpc fault response status", async () => {
  const conversation = rpcConversation()
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }]))
    .fromClient(request({ callId: 9, contextId: 0, opnum: 99, stub: [] }))
    .fromServer(fault(9, 0, 0x1c010002));
  const result = await runFrames(conversation.frames);
  const [call] = calls(result.records);
  assert.is(call.fields.status, "0x1c010002");
  assert.is(call.fields.fault, "nca_s_op_rng_error");
  assert.is(call.fields.operation, undefined);
  assert.is(call.fields.opnum, 99);
  assert.ok(call.fields.rtt_us !== undefined, "fault answers the call");
});

test("dcerpc CreateServiceW evidence", async () => {
  const conversation = rpcConversation()
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }]))
    .fromClient(request({ callId: 3, contextId: 0, opnum: 12, stub: createServiceWStub("updsvc", "Update Service", "C:\\Windows\\Temp\\upd.exe -k", "LocalSystem") }))
    .fromServer(response(3, 0));
  const result = await runFrames(conversation.frames);
  const [call] = calls(result.records);
  assert.is(call.fields.operation, "CreateServiceW");
  assert.is(call.fields.service_name, "updsvc");
  assert.is(call.fields.display_name, "Update Service");
  assert.is(call.fields.binary_path, "C:\\Windows\\Temp\\upd.exe -k");
  assert.is(call.fields.service_start_name, "LocalSystem");
});

test("dcerpc task and service change evidence", async () => {
  const xml = '<?xml version="1.0"?><Task><Actions><Exec><Command>C:\\ProgramData\\s.exe</Command><Arguments>-q</Arguments></Exec></Actions></Task>';
  const conversation = rpcConversation()
    .fromClient(bind(2, [
      { contextId: 0, uuid: Uuid.taskScheduler, versionMajor: 1 },
      { contextId: 1, uuid: Uuid.sasec, versionMajor: 1 },
      { contextId: 2, uuid: Uuid.svcctl, versionMajor: 2 },
    ]))
    .fromClient(request({ callId: 3, contextId: 0, opnum: 1, stub: schRpcRegisterTaskStub("\\Updater", xml) }))
    .fromServer(response(3, 0))
    .fromClient(request({ callId: 4, contextId: 1, opnum: 0, stub: saSetAccountInformationStub("At1.job", "PLANT\\svc_task") }))
    .fromServer(response(4, 1))
    .fromClient(request({ callId: 5, contextId: 2, opnum: 11, stub: changeServiceConfigWStub("C:\\x.exe", "Print Helper") }))
    .fromServer(response(5, 2));
  const result = await runFrames(conversation.frames);
  const [task, job, change] = calls(result.records);
  assert.is(task.fields.operation, "SchRpcRegisterTask");
  assert.is(task.fields.task_name, "\\Updater");
  assert.is(task.fields.command, "C:\\ProgramData\\s.exe");
  assert.is(task.fields.command_arguments, "-q");
  assert.is(job.fields.interface, "sasec");
  assert.is(job.fields.task_name, "At1.job");
  assert.is(job.fields.task_account, "PLANT\\svc_task");
  assert.is(change.fields.operation, "ChangeServiceConfigW");
  assert.is(change.fields.binary_path, "C:\\x.exe");
  assert.is(change.fields.display_name, "Print Helper");
  assert.is(result.anomalies["dcerpc.stub_malformed"], undefined);
});

test("dcerpc unanswered calls reported at close", async () => {
  const conversation = rpcConversation()
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }]))
    .fromClient(request({ callId: 3, contextId: 0, opnum: 15, stub: [] }))
    .fromClient(request({ callId: 4, contextId: 0, opnum: 16, stub: [] }));
  const result = await runFrames(conversation.frames);
  const rows = calls(result.records);
  assert.equal(rows.map((r) => r.fields.operation), ["OpenSCManagerW", "OpenServiceW"]);
  for (const r of rows) assert.is(r.fields.rtt_us, undefined);
});

test("dcerpc pending table overflow reports oldest", async () => {
  const conversation = rpcConversation()
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }]));
  for (let callId = 10; callId < 19; callId++) conversation.fromClient(request({ callId, contextId: 0, opnum: 6, stub: [] }));
  conversation.fromServer(response(18, 0));
  const result = await runFrames(conversation.frames);
  assert.is(result.anomalies["dcerpc.pending_calls_full"], 1);
  const rows = calls(result.records);
  assert.is(rows.length, 9);
  assert.is(rows[0].fields.call_id, 10, "oldest call reported first");
  assert.is(rows[0].fields.rtt_us, undefined);
  assert.ok(rows.some((r) => r.fields.call_id === 18 && r.fields.rtt_us !== undefined), "call 18 answered");
});

test("dcerpc request longer than the prefix bound", async () => {
  // A 6000-byte request PDU sent in two segments: parsed from its first 4096
  // bytes when the first segment arrives, the rest skipped.
  const stub = [...netrJobAddStub("\\\\hist01", "backup.cmd"), ...new Array(6000).fill(0x41)];
  const long = request({ callId: 3, contextId: 0, opnum: 0, stub });
  const conversation = rpcConversation()
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }]))
    .fromClient(long.slice(0, 4500))
    .fromClient(long.slice(4500))
    .fromServer(response(3, 0))
    .fromClient(request({ callId: 4, contextId: 0, opnum: 1, stub: new Array(8).fill(0) }))
    .fromServer(response(4, 0));
  const result = await runFrames(conversation.frames);
  const rows = calls(result.records);
  assert.equal(rows.map((r) => r.fields.operation), ["NetrJobAdd", "NetrJobDel"]);
  assert.is(rows[0].fields.command, "backup.cmd");
  assert.is(rows[0].fields.stub_truncated, true);
  assert.is(result.anomalies["dcerpc.pdu_prefix_only"], 1);
});

test("dcerpc resynchronises after a gap", async () => {
  const lost = request({ callId: 4, contextId: 0, opnum: 16, stub: new Array(40).fill(0x5a) });
  const conversation = rpcConversation()
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }]))
    .fromClient(request({ callId: 3, contextId: 0, opnum: 15, stub: [] }))
    .fromServer(response(3, 0))
    .fromClient(lost.slice(0, 10));
  // The next 20 bytes of the request are never captured.
  conversation.clientSeq = (conversation.clientSeq + 20) >>> 0;
  conversation
    .fromClient([...lost.slice(30), ...request({ callId: 5, contextId: 0, opnum: 19, stub: [] })])
    .fromServer(response(5, 0));
  const result = await runFrames(conversation.frames);
  const rows = calls(result.records);
  // The core reports the gap once the missing bytes can no longer arrive, so
  // the request after it may be parsed after its response; only its presence
  // is checked here.
  assert.equal(rows.map((r) => r.fields.operation), ["OpenSCManagerW", "StartServiceW"]);
  assert.is(result.anomalies["dcerpc.header_invalid"], undefined, "resynchronised without rejecting the flow");
});

test("dcerpc truncated and garbage PDUs never trap", async () => {
  const valid = [
    bind(2, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }], { authType: NTLMSSP, value: ntlmNegotiate() }),
    bindAck(2, "\\PIPE\\atsvc", 1),
    request({ callId: 3, contextId: 0, opnum: 0, stub: netrJobAddStub("\\\\h", "x.exe") }),
    fault(3, 0, 5),
  ];
  const frames: Uint8Array[] = [];

  // Every PDU cut short, with frag_length still claiming the whole PDU, then the flow ends.
  for (const p of valid) {
    for (let cut = 16; cut < p.length; cut += 5) {
      frames.push(...rpcConversation().fromClient(bind(1, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }])).fromClient(p.slice(0, cut)).frames);
    }
  }

  // frag_length shorter than the PDU's fixed fields, auth_length beyond frag_length,
  // a context count far above the bytes present, and an NDR count far beyond the stub.
  const tiny = pdu({ ptype: PduType.REQUEST, callId: 1, body: [1, 2, 3, 4, 5, 6, 7, 8], fragLength: 18 });
  const badAuth = bind(2, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }]);
  badAuth[10] = 0xff; badAuth[11] = 0x7f;
  const manyContexts = bind(2, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }]);
  manyContexts[24] = 255;
  const hugeCount = netrJobAddStub("\\\\h", "x.exe");
  hugeCount.splice(4, 4, ...le32(0x7fffffff));
  hugeCount.splice(12, 4, ...le32(0x7fffffff));
  frames.push(...rpcConversation()
    .fromClient(bind(1, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }]))
    .fromClient(request({ callId: 3, contextId: 0, opnum: 0, stub: hugeCount }))
    .fromServer(response(3, 0))
    .frames);
  // The short frag_length of `tiny` leaves the stream out of step, so it goes last.
  frames.push(...rpcConversation().fromClient(manyContexts).fromClient(badAuth).fromClient(tiny).frames);

  // Garbage after a valid bind: the flow is rejected, not trapped.
  frames.push(...rpcConversation().fromClient(bind(1, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }])).fromClient([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]).frames);

  const result = await runFrames(frames);
  assert.ok(result.anomalies["dcerpc.length_mismatch"] > 0, "short PDUs counted");
  assert.ok(result.anomalies["dcerpc.header_invalid"] > 0, "garbage counted");
  assert.ok(result.anomalies["dcerpc.stub_malformed"] > 0, "bad NDR count counted");
  assert.ok(result.dcerpc.length > 0, "records still written");
});

// SMB2 session on IPC$ with the atsvc pipe open, to carry pipe data.
function pipeSession(): { conversation: TcpConversation; id: number[]; nextMessageId: () => number } {
  let messageId = 1;
  const next = () => messageId++;
  const id = fileId(7);
  const conversation = new TcpConversation("10.1.0.5", 49800, "10.1.0.9", 445).handshake();
  const tree = next();
  conversation
    .fromClient(nbss(smb2({ command: Command.TREE_CONNECT, messageId: tree, sessionId: 0x11 }, treeConnectRequest("\\\\hist01\\IPC$"))))
    .fromServer(nbss(smb2({ command: Command.TREE_CONNECT, messageId: tree, sessionId: 0x11, treeId: 1, response: true }, treeConnectResponse(2))));
  const create = next();
  conversation
    .fromClient(nbss(smb2({ command: Command.CREATE, messageId: create, sessionId: 0x11, treeId: 1 }, createRequest("atsvc"))))
    .fromServer(nbss(smb2({ command: Command.CREATE, messageId: create, sessionId: 0x11, treeId: 1, response: true }, createResponse(id, 0))));
  return { conversation, id, nextMessageId: next };
}

test("dcerpc over smb2 pipe with split writes", async () => {
  const { conversation, id, nextMessageId } = pipeSession();
  const write = (data: number[]) => {
    const m = nextMessageId();
    conversation
      .fromClient(nbss(smb2({ command: Command.WRITE, messageId: m, sessionId: 0x11, treeId: 1 }, writeRequest(id, 0, data))))
      .fromServer(nbss(smb2({ command: Command.WRITE, messageId: m, sessionId: 0x11, treeId: 1, response: true }, writeResponse(data.length))));
  };
  const read = (data: number[]) => {
    const m = nextMessageId();
    conversation
      .fromClient(nbss(smb2({ command: Command.READ, messageId: m, sessionId: 0x11, treeId: 1 }, readRequest(id, 0, 4280))))
      .fromServer(nbss(smb2({ command: Command.READ, messageId: m, sessionId: 0x11, treeId: 1, response: true }, readResponse(data))));
  };
  const bindPdu = bind(2, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }]);
  const job = request({ callId: 3, contextId: 0, opnum: 0, stub: netrJobAddStub("\\\\hist01", "c:\\tools\\scan.exe") });
  // The bind and the request each split over two writes; the second write also
  // starts the request. The first write keeps the 16-byte common header whole,
  // because the SMB dissector decides from it that the pipe carries DCE-RPC.
  write(bindPdu.slice(0, 20));
  write([...bindPdu.slice(20), ...job.slice(0, 30)]);
  read(bindAck(2, "\\PIPE\\atsvc", 1));
  write(job.slice(30));
  read(response(3, 0));
  const close = nextMessageId();
  conversation
    .fromClient(nbss(smb2({ command: Command.CLOSE, messageId: close, sessionId: 0x11, treeId: 1 }, closeRequest(id))))
    .fromServer(nbss(smb2({ command: Command.CLOSE, messageId: close, sessionId: 0x11, treeId: 1, response: true }, closeResponse(0))));
  const result = await runFrames(conversation.frames);
  const [bindRecord] = result.dcerpc;
  assert.is(bindRecord.fields.interface, "atsvc");
  assert.is(bindRecord.fields.named_pipe, "atsvc");
  const [call] = calls(result.records);
  assert.is(call.fields.operation, "NetrJobAdd");
  assert.is(call.fields.command, "c:\\tools\\scan.exe");
  assert.is(call.fields.named_pipe, "atsvc");
  assert.ok(call.fields.rtt_us !== undefined, "answered through READ");
});

test.run();
