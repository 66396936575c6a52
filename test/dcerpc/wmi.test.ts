// WMI over DCOM: IWbemLevel1Login and IWbemServices named, ExecMethod's
// object path and method read from a clear stub, and it-wmi-remote-exec.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type CoreRecord } from "../../agent/src/core/core.js";
import { framesFeed, runWithModels } from "../helpers/core-run.js";
import { bind, bindAck, le16, le32, request, response, utf16 } from "./build.js";
import { calls, rpcConversation, runFrames } from "./run.js";

const WBEM_SERVICES = "9556dc99-828c-11cf-a37e-00aa003240c7";
const WBEM_LEVEL1_LOGIN = "f309ad18-d86a-11d0-a075-00c04fb68820";

// A BSTR as a unique pointer to FLAGGED_WORD_BLOB ([MS-OAUT] 2.2.23.1),
// padded to 4 bytes.
function bstr(referent: number, text: string): number[] {
  const units = utf16(text);
  const out = [...le32(referent), ...le32(text.length), ...le32(units.length), ...le32(text.length), ...units];
  while (out.length % 4 !== 0) out.push(0);
  return out;
}

// ExecMethod [in] parameters after a 32-byte ORPCTHIS without extensions.
function execMethodStub(objectPath: string, method: string): number[] {
  const orpcThis = [...le16(5), ...le16(7), ...le32(0), ...le32(0), ...Array(16).fill(0x11), ...le32(0)];
  return [...orpcThis, ...bstr(0x20000, objectPath), ...bstr(0x20004, method), ...le32(0), ...le32(0), ...le32(0)];
}

function wmiCall(uuid: string, opnum: number, stub: number[]): Uint8Array[] {
  return rpcConversation(49690)
    .fromClient(bind(2, [{ contextId: 0, uuid, versionMajor: 0 }]))
    .fromServer(bindAck(2, "49690", 1))
    .fromClient(request({ callId: 3, contextId: 0, opnum, stub }))
    .fromServer(response(3, 0)).frames;
}

test("wbem exec method names class and method", async () => {
  const { records, anomalies } = await runFrames(wmiCall(WBEM_SERVICES, 24, execMethodStub("Win32_Process", "Create")));
  const [call] = calls(records);
  assert.is(call.fields.interface, "IWbemServices");
  assert.is(call.fields.operation, "ExecMethod");
  assert.is(call.fields.wmi_object_path, "Win32_Process");
  assert.is(call.fields.wmi_method, "Create");
  assert.is(anomalies["dcerpc.stub_malformed"], undefined);
});

test("wbem login named", async () => {
  const { records } = await runFrames(wmiCall(WBEM_LEVEL1_LOGIN, 6, Array(40).fill(0)));
  const [call] = calls(records);
  assert.is(call.fields.interface, "IWbemLevel1Login");
  assert.is(call.fields.operation, "NTLMLogin");
});

test("wbem exec method cut short", async () => {
  const stub = execMethodStub("Win32_Process", "Create").slice(0, 50);
  const { records, anomalies } = await runFrames(wmiCall(WBEM_SERVICES, 24, stub));
  assert.is(calls(records)[0].fields.wmi_object_path, undefined);
  assert.is(anomalies["dcerpc.stub_malformed"], 1);
});

async function wmiAlerts(frames: Uint8Array[]): Promise<CoreRecord[]> {
  const { alerts } = await runWithModels(["it-wmi-remote-exec.yaml"], framesFeed(frames));
  return alerts.map((a) => a.alert);
}

test("wmi exec method raises alert", async () => {
  const alerts = await wmiAlerts(wmiCall(WBEM_SERVICES, 24, execMethodStub("Win32_Process", "Create")));
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.wmi_method, "Create");
});

test("wmi query stays silent", async () => {
  const alerts = await wmiAlerts(wmiCall(WBEM_SERVICES, 20, Array(64).fill(0)));
  assert.is(alerts.length, 0);
});

test.run();
