// DCE-RPC beyond the single bind: ports learnt from the endpoint mapper,
// rejected then accepted presentation contexts, sealed and signed stubs,
// fragments carried by SMB2 WRITE, IOCTL and READ, and the NDR evidence of
// the calls used for lateral movement (task scheduler, services, registry,
// event logs, remote shutdown).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation } from "../helpers/frames.js";
import {
  Command, closeRequest, closeResponse, createRequest, createResponse, fileId, ioctlRequest, ioctlResponse, nbss,
  readRequest, readResponse, smb2, treeConnectRequest, treeConnectResponse, writeRequest, writeResponse,
} from "../smb/build.js";
import {
  authenticatedRequest, bind, bindAck, bindAckWithResults, changeStartTypeStub, createServiceWStub, drsGetNcChangesStub, elfrClearElfwStub,
  elfrOpenElwStub, eptMapResponseStub, evtRpcClearLogStub, fragmentedRequest, netrJobAddAtStub, ntlmNegotiate, PduType,
  request, response, responseWithStub, Result, schRpcRegisterTaskStub, shutdownStub, taskPathStub, tcpTower, Uuid,
  winregStub,
} from "./build.js";
import { calls, rpcConversation, runFrames } from "./run.js";

const NTLMSSP = 10;
const FSCTL_PIPE_TRANSCEIVE = 0x0011c017;

const Interfaces = {
  winreg: "338cd001-2244-31f1-aaaa-900038001003",
  eventlog: "82273fdc-e32a-18c3-3f78-827929dc23ea",
  initShutdown: "894de0c0-0d55-11d3-a322-00c04fa321a1",
  eventService: "f6beaff7-1e19-4fbb-9f8f-b89e2018337c",
  drsuapi: "e3514235-4b06-11d1-ab04-00c04fc2dcd2",
} as const;

// Runs one request on a fresh TCP connection bound to `uuid` and returns its call record.
async function oneCall(uuid: string, versionMajor: number, opnum: number, stub: number[]) {
  const conversation = rpcConversation(49670)
    .fromClient(bind(2, [{ contextId: 0, uuid, versionMajor }]))
    .fromServer(bindAck(2, "49670", 1))
    .fromClient(request({ callId: 3, contextId: 0, opnum, stub }))
    .fromServer(response(3, 0));
  const result = await runFrames(conversation.frames);
  const [call] = calls(result.records);
  assert.ok(call, "call record written");
  return { call, anomalies: result.anomalies };
}

// ---------------------------------------------------------------------------
// Endpoint mapper

test("dcerpc ept_map port recognised without bind", async () => {
  const epm = rpcConversation(135)
    .fromClient(bind(1, [{ contextId: 0, uuid: Uuid.epmapper, versionMajor: 3 }]))
    .fromServer(bindAck(1, "135", 1))
    .fromClient(request({ callId: 2, contextId: 0, opnum: 3, stub: new Array(40).fill(0) }))
    .fromServer(responseWithStub(2, 0, eptMapResponseStub([tcpTower(Uuid.atsvc, 1, 49667, "10.1.0.9")])));
  // A connection to the mapped port whose bind happened before the capture.
  const dynamic = new TcpConversation("10.1.0.5", 50001, "10.1.0.9", 49667).handshake()
    .fromClient(request({ callId: 9, contextId: 0, opnum: 0, stub: netrJobAddAtStub("c:\\temp\\run.bat", 0, 0, 0) }))
    .fromServer(response(9, 0));
  const result = await runFrames([...epm.frames, ...dynamic.frames]);
  const [mapCall, jobCall] = calls(result.records);
  assert.is(mapCall.fields.operation, "ept_map");
  assert.is(jobCall.dst.port, 49667);
  assert.is(jobCall.fields.endpoint_mapped, true);
  assert.is(jobCall.fields.interface_uuid, Uuid.atsvc);
  assert.is(jobCall.fields.interface, "atsvc");
  assert.is(jobCall.fields.operation, "NetrJobAdd");
  assert.is(jobCall.fields.command, "c:\\temp\\run.bat");
});

test("dcerpc unmapped port without bind writes no call", async () => {
  const dynamic = new TcpConversation("10.1.0.5", 50002, "10.1.0.9", 49999).handshake()
    .fromClient(request({ callId: 9, contextId: 0, opnum: 0, stub: new Array(16).fill(0) }))
    .fromServer(response(9, 0));
  const result = await runFrames(dynamic.frames);
  assert.is(calls(result.records).length, 0);
  assert.is(result.anomalies["dcerpc.context_unknown"], 1);
});

test("dcerpc ept_map tower past the stub never traps", async () => {
  const tower = tcpTower(Uuid.atsvc, 1, 49668, "10.1.0.9");
  const stub = eptMapResponseStub([tower]);
  // Claim a tower longer than the stub.
  stub[36 + 4] = 0xff;
  stub[36 + 8] = 0xff;
  const epm = rpcConversation(135)
    .fromClient(bind(1, [{ contextId: 0, uuid: Uuid.epmapper, versionMajor: 3 }]))
    .fromServer(bindAck(1, "135", 1))
    .fromClient(request({ callId: 2, contextId: 0, opnum: 3, stub: new Array(40).fill(0) }))
    .fromServer(responseWithStub(2, 0, stub));
  const result = await runFrames(epm.frames);
  assert.is(result.anomalies["dcerpc.tower_malformed"], 1);
});

// ---------------------------------------------------------------------------
// Presentation contexts

test("dcerpc rejected context then accepted", async () => {
  const conversation = rpcConversation(49671)
    .fromClient(bind(2, [
      { contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 },
      { contextId: 1, uuid: Uuid.atsvc, versionMajor: 1 },
    ]))
    .fromServer(bindAckWithResults(2, "49671", [Result.PROVIDER_REJECTION, Result.ACCEPTANCE]))
    // A client that ignores the rejection.
    .fromClient(request({ callId: 3, contextId: 0, opnum: 19, stub: new Array(28).fill(0) }))
    .fromServer(response(3, 0))
    .fromClient(bind(4, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }], undefined, PduType.ALTER_CONTEXT))
    .fromServer(bindAckWithResults(4, "", [Result.ACCEPTANCE], PduType.ALTER_CONTEXT_RESP))
    .fromClient(request({ callId: 5, contextId: 0, opnum: 19, stub: new Array(28).fill(0) }))
    .fromServer(response(5, 0))
    .fromClient(request({ callId: 6, contextId: 1, opnum: 0, stub: netrJobAddAtStub("calc.exe", 0, 0, 0) }))
    .fromServer(response(6, 0));
  const result = await runFrames(conversation.frames);
  const [rejected, accepted, other] = calls(result.records);
  assert.is(rejected.fields.operation, "StartServiceW");
  assert.is(rejected.fields.context_rejected, true);
  assert.is(accepted.fields.operation, "StartServiceW");
  assert.is(accepted.fields.context_rejected, undefined);
  assert.is(other.fields.interface, "atsvc");
  assert.is(other.fields.context_rejected, undefined);
  assert.is(result.anomalies["dcerpc.context_rejected"], 1);
});

// ---------------------------------------------------------------------------
// Auth verifiers

test("dcerpc sealed stub keeps opnum, skips NDR", async () => {
  const stub = createServiceWStub("evil", "evil", "c:\\evil.exe");
  // Packet privacy: the stub on the wire is encrypted, so scramble it.
  const sealed = stub.map((b, i) => (b * 31 + i) & 0xff).slice(0, 61);
  const conversation = rpcConversation(49672)
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }], { authType: NTLMSSP, authLevel: 6, value: ntlmNegotiate() }))
    .fromServer(bindAck(2, "49672", 1))
    .fromClient(authenticatedRequest(3, 0, 12, sealed, 6))
    .fromServer(response(3, 0));
  const result = await runFrames(conversation.frames);
  const [call] = calls(result.records);
  assert.is(call.fields.interface, "svcctl");
  assert.is(call.fields.operation, "CreateServiceW");
  assert.is(call.fields.stub_sealed, true);
  assert.is(call.fields.service_name, undefined);
  assert.is(call.fields.binary_path, undefined);
  assert.is(result.anomalies["dcerpc.stub_sealed"], 1);
  assert.is(result.anomalies["dcerpc.stub_malformed"], undefined);
});

test("dcerpc signed stub with padding is decoded", async () => {
  // Packet integrity: clear stub, padded to 4 bytes before the sec_trailer.
  const stub = createServiceWStub("updater", "Updater", "c:\\windows\\temp\\u.exe");
  const conversation = rpcConversation(49673)
    .fromClient(bind(2, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }], { authType: NTLMSSP, authLevel: 5, value: ntlmNegotiate() }))
    .fromServer(bindAck(2, "49673", 1))
    .fromClient(authenticatedRequest(3, 0, 12, [...stub, 0x01], 5))
    .fromServer(response(3, 0));
  const result = await runFrames(conversation.frames);
  const [call] = calls(result.records);
  assert.is(call.fields.stub_sealed, undefined);
  assert.is(call.fields.service_name, "updater");
  assert.is(call.fields.binary_path, "c:\\windows\\temp\\u.exe");
  assert.is(call.fields.start_type, "SERVICE_DEMAND_START");
});

// ---------------------------------------------------------------------------
// Fragments over an SMB2 named pipe

test("dcerpc fragments across write, ioctl and read", async () => {
  let messageId = 1;
  const next = () => messageId++;
  const id = fileId(9);
  const conversation = new TcpConversation("10.1.0.5", 49810, "10.1.0.9", 445).handshake();
  const exchange = (command: number, requestBody: number[], responseBody: number[]) => {
    const m = next();
    conversation
      .fromClient(nbss(smb2({ command, messageId: m, sessionId: 0x21, treeId: 1 }, requestBody)))
      .fromServer(nbss(smb2({ command, messageId: m, sessionId: 0x21, treeId: 1, response: true }, responseBody)));
  };
  exchange(Command.TREE_CONNECT, treeConnectRequest("\\\\dc01\\IPC$"), treeConnectResponse(2));
  exchange(Command.CREATE, createRequest("svcctl"), createResponse(id, 0));
  exchange(Command.WRITE, writeRequest(id, 0, bind(2, [{ contextId: 0, uuid: Uuid.svcctl, versionMajor: 2 }])), writeResponse(72));
  exchange(Command.READ, readRequest(id, 0, 4280), readResponse(bindAck(2, "\\PIPE\\svcctl", 1)));
  const stub = createServiceWStub("PSEXESVC", "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe");
  const [first, ...rest] = fragmentedRequest({ callId: 3, contextId: 0, opnum: 12, stub }, 64);
  assert.ok(rest.length >= 2, "at least three fragments");
  const last = rest.pop()!;
  // First fragment by WRITE, middle ones by WRITE, the last by IOCTL
  // FSCTL_PIPE_TRANSCEIVE, whose output starts the response; READ returns the rest.
  exchange(Command.WRITE, writeRequest(id, 0, first), writeResponse(first.length));
  for (const middle of rest) exchange(Command.WRITE, writeRequest(id, 0, middle), writeResponse(middle.length));
  const answer = responseWithStub(3, 0, new Array(28).fill(0));
  exchange(Command.IOCTL, ioctlRequest(id, FSCTL_PIPE_TRANSCEIVE, last), ioctlResponse(id, FSCTL_PIPE_TRANSCEIVE, answer.slice(0, 20)));
  exchange(Command.READ, readRequest(id, 0, 4280), readResponse(answer.slice(20)));
  exchange(Command.CLOSE, closeRequest(id), closeResponse(0));
  const result = await runFrames(conversation.frames);
  const [call] = calls(result.records);
  assert.is(call.fields.operation, "CreateServiceW");
  assert.is(call.fields.named_pipe, "svcctl");
  assert.is(call.fields.service_name, "PSEXESVC");
  assert.is(call.fields.binary_path, "%SystemRoot%\\PSEXESVC.exe");
  assert.ok(call.fields.rtt_us !== undefined, "answered through IOCTL output and READ");
  assert.is(result.anomalies["dcerpc.fragment_unexpected"], undefined);
});

test("dcerpc alter_context over an smb2 pipe", async () => {
  let messageId = 1;
  const next = () => messageId++;
  const id = fileId(10);
  const conversation = new TcpConversation("10.1.0.5", 49811, "10.1.0.9", 445).handshake();
  const exchange = (command: number, requestBody: number[], responseBody: number[]) => {
    const m = next();
    conversation
      .fromClient(nbss(smb2({ command, messageId: m, sessionId: 0x22, treeId: 1 }, requestBody)))
      .fromServer(nbss(smb2({ command, messageId: m, sessionId: 0x22, treeId: 1, response: true }, responseBody)));
  };
  const transceive = (input: number[], output: number[]) =>
    exchange(Command.IOCTL, ioctlRequest(id, FSCTL_PIPE_TRANSCEIVE, input), ioctlResponse(id, FSCTL_PIPE_TRANSCEIVE, output));
  exchange(Command.TREE_CONNECT, treeConnectRequest("\\\\dc01\\IPC$"), treeConnectResponse(2));
  exchange(Command.CREATE, createRequest("atsvc"), createResponse(id, 0));
  // The bind offers atsvc with a transfer syntax the server rejects; the
  // client then offers the same context id again with alter_context.
  transceive(bind(2, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }]), bindAckWithResults(2, "\\PIPE\\atsvc", [Result.PROVIDER_REJECTION]));
  transceive(
    bind(3, [{ contextId: 0, uuid: Uuid.atsvc, versionMajor: 1 }], undefined, PduType.ALTER_CONTEXT),
    bindAckWithResults(3, "", [Result.ACCEPTANCE], PduType.ALTER_CONTEXT_RESP),
  );
  transceive(request({ callId: 4, contextId: 0, opnum: 0, stub: netrJobAddAtStub("c:\\mimikatz.exe", 0, 0, 0) }), response(4, 0));
  exchange(Command.CLOSE, closeRequest(id), closeResponse(0));
  const result = await runFrames(conversation.frames);
  assert.equal(result.dcerpc.filter((r) => r.fields.pdu_type !== "request").map((r) => r.fields.pdu_type), ["bind", "alter_context"]);
  const [call] = calls(result.records);
  assert.is(call.fields.named_pipe, "atsvc");
  assert.is(call.fields.operation, "NetrJobAdd");
  assert.is(call.fields.context_rejected, undefined);
  assert.is(call.fields.command, "c:\\mimikatz.exe");
  assert.is(result.anomalies["dcerpc.context_rejected"], undefined);
});

// ---------------------------------------------------------------------------
// NDR evidence

test("dcerpc task run, delete and enable paths", async () => {
  const run = await oneCall(Uuid.taskScheduler, 1, 12, taskPathStub(12, "\\Microsoft\\Updater"));
  assert.is(run.call.fields.operation, "SchRpcRun");
  assert.is(run.call.fields.task_name, "\\Microsoft\\Updater");
  const del = await oneCall(Uuid.taskScheduler, 1, 13, taskPathStub(13, "\\Updater"));
  assert.is(del.call.fields.operation, "SchRpcDelete");
  assert.is(del.call.fields.task_name, "\\Updater");
  const enable = await oneCall(Uuid.taskScheduler, 1, 19, taskPathStub(19, "\\Updater", 1));
  assert.is(enable.call.fields.operation, "SchRpcEnableTask");
  assert.is(enable.call.fields.task_name, "\\Updater");
  assert.is(enable.call.fields.task_enabled, 1);
});

test("dcerpc task XML run-as user from Principal", async () => {
  const xml = [
    "<?xml version=\"1.0\" encoding=\"UTF-16\"?><Task><Triggers><LogonTrigger><UserId>CORP\\someone</UserId>",
    "</LogonTrigger></Triggers><Principals><Principal id=\"LocalSystem\"><UserId>S-1-5-18</UserId>",
    "<RunLevel>HighestAvailable</RunLevel></Principal></Principals><Actions Context=\"LocalSystem\"><Exec>",
    "<Command>cmd.exe</Command><Arguments>/C whoami &gt; %windir%\\Temp\\x.tmp</Arguments></Exec></Actions></Task>",
  ].join("");
  const { call } = await oneCall(Uuid.taskScheduler, 1, 1, schRpcRegisterTaskStub("\\xblQzRlT", xml));
  assert.is(call.fields.task_name, "\\xblQzRlT");
  assert.is(call.fields.command, "cmd.exe");
  assert.is(call.fields.command_arguments, "/C whoami &gt; %windir%\\Temp\\x.tmp");
  assert.is(call.fields.run_as_user, "S-1-5-18");
});

test("dcerpc NetrJobAdd time and days", async () => {
  // 14:30:05, days 1 and 15 of the month, Monday and Friday.
  const ms = ((14 * 60 + 30) * 60 + 5) * 1000;
  const { call } = await oneCall(Uuid.atsvc, 1, 0, netrJobAddAtStub("c:\\mimikatz.exe", ms, (1 << 0) | (1 << 14), 0x01 | 0x10));
  assert.is(call.fields.command, "c:\\mimikatz.exe");
  assert.is(call.fields.job_time, "14:30:05");
  assert.is(call.fields.days_of_month, 0x4001);
  assert.is(call.fields.days_of_week, 0x11);
});

test("dcerpc ChangeServiceConfigW start type", async () => {
  const { call } = await oneCall(Uuid.svcctl, 2, 11, changeStartTypeStub(2));
  assert.is(call.fields.operation, "ChangeServiceConfigW");
  assert.is(call.fields.start_type, "SERVICE_AUTO_START");
  assert.is(call.fields.binary_path, undefined);
});

test("dcerpc service control operations named", async () => {
  const handle = new Array(20).fill(0x66);
  const control = await oneCall(Uuid.svcctl, 2, 1, [...handle, 1, 0, 0, 0]);
  assert.is(control.call.fields.operation, "ControlService");
  const remove = await oneCall(Uuid.svcctl, 2, 2, handle);
  assert.is(remove.call.fields.operation, "DeleteService");
});

test("dcerpc winreg key paths and value names", async () => {
  const cases: [number, string, string, string][] = [
    [15, "BaseRegOpenKey", "key_path", "SYSTEM\\CurrentControlSet\\Services"],
    [6, "BaseRegCreateKey", "key_path", "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"],
    [7, "BaseRegDeleteKey", "key_path", "SOFTWARE\\Evil"],
    [22, "BaseRegSetValue", "value_name", "Updater"],
    [8, "BaseRegDeleteValue", "value_name", "Updater"],
    [20, "BaseRegSaveKey", "file_path", "C:\\Windows\\Temp\\sam.save"],
  ];
  for (const [opnum, operation, field, text] of cases) {
    const { call, anomalies } = await oneCall(Interfaces.winreg, 1, opnum, winregStub(opnum, text));
    assert.is(call.fields.operation, operation);
    assert.is(call.fields[field], text, `${operation} ${field}`);
    assert.is(anomalies["dcerpc.stub_malformed"], undefined, `${operation} parsed`);
  }
});

test("dcerpc remote shutdown message and timeout", async () => {
  const viaWinreg = await oneCall(Interfaces.winreg, 1, 30, shutdownStub("Patching", 30));
  assert.is(viaWinreg.call.fields.operation, "BaseInitiateSystemShutdownEx");
  assert.is(viaWinreg.call.fields.shutdown_message, "Patching");
  assert.is(viaWinreg.call.fields.shutdown_timeout, 30);
  const viaInitShutdown = await oneCall(Interfaces.initShutdown, 1, 2, shutdownStub("bye", 0));
  assert.is(viaInitShutdown.call.fields.interface, "InitShutdown");
  assert.is(viaInitShutdown.call.fields.operation, "BaseInitiateShutdownEx");
  assert.is(viaInitShutdown.call.fields.shutdown_message, "bye");
  assert.is(viaInitShutdown.call.fields.shutdown_timeout, 0);
});

test("dcerpc event log open, clear and channel clear", async () => {
  const open = await oneCall(Interfaces.eventlog, 0, 7, elfrOpenElwStub("Security"));
  assert.is(open.call.fields.interface, "eventlog");
  assert.is(open.call.fields.operation, "ElfrOpenELW");
  assert.is(open.call.fields.log_name, "Security");
  const clear = await oneCall(Interfaces.eventlog, 0, 0, elfrClearElfwStub());
  assert.is(clear.call.fields.operation, "ElfrClearELFW");
  assert.is(clear.call.fields.backup_file, undefined);
  const backup = await oneCall(Interfaces.eventlog, 0, 0, elfrClearElfwStub("C:\\sec.evtx"));
  assert.is(backup.call.fields.backup_file, "C:\\sec.evtx");
  const channel = await oneCall(Interfaces.eventService, 1, 6, evtRpcClearLogStub("Microsoft-Windows-Sysmon/Operational"));
  assert.is(channel.call.fields.interface, "IEventService");
  assert.is(channel.call.fields.operation, "EvtRpcClearLog");
  assert.is(channel.call.fields.log_name, "Microsoft-Windows-Sysmon/Operational");
});

test("dcerpc drsuapi replication operations named", async () => {
  const changes = await oneCall(Interfaces.drsuapi, 4, 3, drsGetNcChangesStub("DC=corp,DC=local"));
  assert.is(changes.call.fields.operation, "DRSGetNCChanges");
  assert.is(changes.call.fields.naming_context, "DC=corp,DC=local");
  const unnamed = await oneCall(Interfaces.drsuapi, 4, 3, new Array(64).fill(0));
  assert.is(unnamed.call.fields.naming_context, undefined);
  const sync = await oneCall(Interfaces.drsuapi, 4, 2, new Array(64).fill(0));
  assert.is(sync.call.fields.operation, "DRSReplicaSync");
});

test("dcerpc truncated evidence stubs never trap", async () => {
  const stubs: [string, number, number[]][] = [
    [Interfaces.winreg, 22, winregStub(22, "Updater")],
    [Interfaces.winreg, 30, shutdownStub("Patching", 30)],
    [Interfaces.eventlog, 7, elfrOpenElwStub("Security")],
    [Interfaces.eventService, 6, evtRpcClearLogStub("Security")],
    [Uuid.taskScheduler, 19, taskPathStub(19, "\\Updater")],
    [Uuid.atsvc, 0, netrJobAddAtStub("c:\\x.exe", 1000, 1, 1)],
  ];
  for (const [uuid, opnum, stub] of stubs) {
    for (const cut of [0, 3, 21, 27, 33, stub.length - 1]) {
      if (cut >= stub.length) continue;
      const { call } = await oneCall(uuid, 1, opnum, stub.slice(0, cut));
      assert.is(call.fields.opnum, opnum);
    }
  }
});

test.run();
