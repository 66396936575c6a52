// Sample core records, models and alerts for publish and correlator tests,
// shaped like the scene of test/fixtures/demo: an office host creating a
// service on an engineering workstation, then writing to a PLC.
import type { CoreRecord, FieldValue } from "../../agent/src/core/core.js";
import type { ModelInfo } from "../../agent/src/core/models.js";
import { AlertIdentity, buildAlert, type Alert } from "../../agent/src/publish/alert.js";
import type { RecordJson } from "../../agent/src/publish/record.js";

export const OFFICE = "10.10.0.55";
export const WORKSTATION = "10.10.1.20";
export const PLC = "10.10.2.10";

export const svcctlModel: ModelInfo = {
  index: 0, id: "remote-service-svcctl", name: "Remote service created over svcctl", record: "dcerpc",
  logic: "A host asked the Service Control Manager of another host to create or start a service.",
  score: 80, mitre: ["T1569.002", "T1543.003"], file: "models/remote-service-svcctl.yaml",
};

export const modbusModel: ModelInfo = {
  index: 1, id: "modbus-write-not-master", name: "Modbus write from a host that is not the master", record: "modbus",
  logic: "A host sent a Modbus write to a device whose established master is another host.",
  score: 70, mitre: ["T0855", "T0836"], file: "models/modbus-write-not-master.yaml",
};

// An alert record as the core writes it: verdict fields, then the evidence.
export function alertRecord(options: {
  tsSec?: number; tsNsec?: number; src?: string; dst?: string; dstPort?: number; fields?: Record<string, FieldValue>;
} = {}): CoreRecord {
  const tsSec = options.tsSec ?? 1_773_129_640;
  const tsNsec = options.tsNsec ?? 660_000_000;
  return {
    type: "alert",
    tsSec,
    tsNsec,
    ts: `${new Date(tsSec * 1000).toISOString().slice(0, 19)}.${String(Math.floor(tsNsec / 1000)).padStart(6, "0")}Z`,
    flowId: 7,
    transport: "tcp",
    serverToClient: false,
    truncated: false,
    src: { ip: options.src ?? OFFICE, port: 50112 },
    dst: { ip: options.dst ?? WORKSTATION, port: options.dstPort ?? 445 },
    fields: options.fields ?? {
      model_index: 0, score: 80, learning: false, seen_before: false, first_seen: 0,
      interface_uuid: "367abb81-9844-35f1-ad32-98f038001003", interface: "svcctl", opnum: 12,
      operation: "CreateServiceW", named_pipe: "svcctl", pdu_type: "request", call_id: 3,
      service_name: "UpdSvc4", binary_path: "%SystemRoot%\\upd4te.exe",
      user: "m.keller", domain: "PLANT", account: "PLANT\\m.keller",
    },
  };
}

export function modbusAlertRecord(tsSec = 1_773_129_670): CoreRecord {
  return alertRecord({
    tsSec, tsNsec: 6_000_000, dst: PLC, dstPort: 502,
    fields: {
      model_index: 1, score: 70, learning: false, seen_before: false,
      pdu_type: "request", transaction_id: 1, unit_id: 1, function_code: 16,
      function: "WRITE_MULTIPLE_REGISTERS", start_address: 40, quantity: 2,
    },
  });
}

export function sampleAlert(site = "plant-a", gateway = "gw-1", record = alertRecord(), identity = new AlertIdentity()): Alert {
  const model = record.fields.model_index === 1 ? modbusModel : svcctlModel;
  return buildAlert(record, model, { site, gateway }, identity);
}

// SMB records of the file copy to ADMIN$, as forwarded on the records topic.
export function smbCopyRecords(tsBase = "2026-03-10T08:00:40"): RecordJson[] {
  const base = {
    src: { ip: OFFICE, port: 50112 }, dst: { ip: WORKSTATION, port: 445 }, flow_id: 7,
    version: 2, session_id: 0x100000000031, tree_id: 1, share: "\\\\10.10.1.20\\ADMIN$", status: "STATUS_SUCCESS",
  };
  return [
    { ...base, type: "smb", ts: `${tsBase}.160000Z`, server_to_client: false, command: "TREE_CONNECT", message_id: 3 },
    { ...base, type: "smb", ts: `${tsBase}.210000Z`, server_to_client: false, command: "CREATE", message_id: 4, path: "upd4te.exe", create_disposition: "FILE_OVERWRITE_IF" },
    { ...base, type: "smb", ts: `${tsBase}.260000Z`, server_to_client: false, command: "WRITE", message_id: 5, path: "upd4te.exe", offset: 0, length: 6144 },
  ];
}
