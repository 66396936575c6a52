import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { isForwardedCoreRecord, isForwardedRecord, recordToJson } from "../../agent/src/publish/record.js";
import { loadValidators } from "../../agent/src/publish/schemas.js";

const validators = loadValidators();

function coreRecord(type: string, fields: CoreRecord["fields"]): CoreRecord {
  return {
    type, tsSec: 1_773_129_640, tsNsec: 210_000_000, ts: "2026-03-10T08:00:40.210000Z", flowId: 7,
    transport: "tcp", serverToClient: false, truncated: false,
    src: { ip: "10.10.0.55", port: 50112 }, dst: { ip: "10.10.1.20", port: 445 }, fields,
  };
}

test("record json layout and schema", () => {
  const json = recordToJson(coreRecord("smb", { version: 2, command: "CREATE", path: "upd4te.exe", message_id: 4 }));
  assert.equal(Object.keys(json).slice(0, 4), ["type", "ts", "src", "dst"]);
  assert.is(json.path, "upd4te.exe");
  assert.is(json.server_to_client, false);
  assert.is(json.record_truncated, undefined);
  const check = validators.record(json);
  assert.ok(check.valid, check.firstError);
});

test("record field named like a host member", () => {
  const json = recordToJson(coreRecord("ntlm", { type: "odd", message_type: 3, transport: "smb" }));
  assert.is(json.type, "ntlm");
  assert.is(json.field_type, "odd");
  assert.is(json.transport, "smb");
  assert.ok(validators.record(json).valid);
});

test("record truncated flag kept", () => {
  const record = coreRecord("dcerpc", { opnum: 12 });
  record.truncated = true;
  assert.is(recordToJson(record).record_truncated, true);
});

test("record schema rejects bad records", () => {
  const good = recordToJson(coreRecord("modbus", { function_code: 16 }));
  assert.is(validators.record({ ...good, type: "gopher" }).valid, false);
  assert.is(validators.record({ ...good, ts: "yesterday" }).valid, false);
  assert.is(validators.record({ ...good, "Bad-Name": 1 }).valid, false);
  assert.is(validators.record({ ...good, nested: { a: 1 } }).valid, false);
  const { src: _src, ...withoutSrc } = good;
  assert.is(validators.record(withoutSrc).valid, false);
});

test("record forwarding selection", () => {
  const cases: [string, CoreRecord["fields"], boolean][] = [
    ["smb", { command: "TREE_CONNECT" }, true],
    ["smb", { command: "CREATE" }, true],
    ["smb", { command: "WRITE", path: "upd4te.exe" }, true],
    ["smb", { command: "READ", path: "svcctl", named_pipe: "svcctl" }, false],
    ["smb", { command: "SMB_COM_NT_CREATE_ANDX" }, true],
    ["smb", { command: "NEGOTIATE" }, false],
    ["smb", { command: "QUERY_INFO" }, false],
    ["dcerpc", { pdu_type: "request", opnum: 12 }, true],
    ["dcerpc", { pdu_type: "bind" }, false],
    ["ntlm", { message_type: 3 }, true],
    ["ntlm", { message: "AUTHENTICATE" }, true],
    ["ntlm", { message_type: 1 }, false],
    ["modbus", { pdu_type: "request", function_code: 16 }, true],
    ["modbus", { pdu_type: "request", function_code: 8 }, true],
    ["modbus", { pdu_type: "request", function_code: 3 }, false],
    ["modbus", { pdu_type: "response", function_code: 16 }, false],
    ["s7comm", { pdu_type: "request", rosctr: 1, function_code: 0x29 }, true],
    ["s7comm", { pdu_type: "request", rosctr: 1, function_code: 0x1a }, true],
    ["s7comm", { pdu_type: "request", rosctr: 1, function_code: 0x04 }, false],
    ["s7comm", { pdu_type: "request", rosctr: 7, function_group: 5 }, true],
    ["s7comm", { pdu_type: "request", rosctr: 7, function_group: 4, szl_id: 0x11 }, false],
    ["s7comm", { pdu_type: "response", rosctr: 7, product_code: "6ES7 315-2EH14-0AB0" }, true],
    ["s7comm", { pdu_type: "response", rosctr: 3, function_code: 0x29 }, false],
    ["enip", { pdu_type: "request", service_code: 0x10, class_id: 1 }, true],
    ["enip", { pdu_type: "request", service_code: 0x54, class_id: 6 }, true],
    ["enip", { pdu_type: "request", service_code: 0x0e, class_id: 1 }, false],
    ["enip", { pdu_type: "response", command: 0x63, vendor_id: 1, product_name: "1756-ENBT/A" }, true],
    ["enip", { pdu_type: "io", connection_id: 7 }, false],
    ["dnp3", { pdu_type: "request", function_code: 5 }, true],
    ["dnp3", { pdu_type: "request", function_code: 13 }, true],
    ["dnp3", { pdu_type: "request", function_code: 1 }, false],
    ["dnp3", { pdu_type: "request", function_code: 0 }, false],
    ["dnp3", { pdu_type: "response", function_code: 129 }, false],
  ];
  for (const [type, fields, expected] of cases) {
    assert.is(isForwardedRecord(recordToJson(coreRecord(type, fields))), expected, `${type} ${JSON.stringify(fields)}`);
    assert.is(isForwardedCoreRecord(coreRecord(type, fields)), expected, `core record ${type} ${JSON.stringify(fields)}`);
  }
});

test.run();
