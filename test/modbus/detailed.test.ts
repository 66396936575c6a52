// Register addresses and values against ICSNPP's modbus_detailed,
// modbus_read_write_multiple_registers and modbus_mask_write_register logs
// for the same capture, and the per-rule alert counts suricata-verify
// expects for the diagnostics capture, computed from our requests.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { capture, expectedOutput } from "../helpers/captures.js";
import { readZeekLog, runCapture, valuesOf, zeekCounts } from "./run.js";

// Our request and response with a transaction id and unit id on a flow
// whose client port is `clientPort`.
function exchange(modbus: CoreRecord[], clientPort: number, tid: number, unit: number): { request?: CoreRecord; response?: CoreRecord } {
  const ours = modbus.filter((r) => (r.src.port === clientPort || r.dst.port === clientPort) && r.fields.transaction_id === tid && r.fields.unit_id === unit);
  return {
    request: ours.find((r) => r.fields.pdu_type === "request"),
    response: ours.find((r) => r.fields.pdu_type === "response"),
  };
}

// Turns ICSNPP's sub-function text ("Return Diagnostic Register") into our
// name's form.
const upperSnake = (text: string) => text.toUpperCase().replace(/ /g, "_");

test("modbus detailed log addresses and values", async () => {
  const pcap = capture("modbus/icsnpp_modbus_example_many_fc.pcap");
  const log = expectedOutput("modbus/icsnpp_modbus_example_many_fc.modbus_detailed.log");
  if (!pcap || !log) return;
  const { modbus } = await runCapture(pcap);
  const rows = readZeekLog(log);
  assert.is(rows.length, 26);

  for (const row of rows) {
    const tid = Number(row.tid);
    const where = `tid ${tid} ${row.func}`;
    const { request, response } = exchange(modbus, Number(row["id.orig_p"]), tid, Number(row.unit));
    assert.ok(request, `${where}: no request`);
    assert.ok(response, `${where}: no response`);
    assert.is(String(request!.fields.function), row.func, where);
    const func = Number(request!.fields.function_code);

    if (row.address !== "-" && func !== 20 && func !== 21) {
      assert.is(request!.fields.start_address, Number(row.address), `${where}: address`);
    }
    if (row.quantity !== "-" && [1, 2, 3, 4, 15, 16].includes(func)) {
      assert.is(request!.fields.quantity, Number(row.quantity), `${where}: quantity`);
      assert.is(response!.fields.quantity, Number(row.quantity), `${where}: response quantity`);
    }
    if (func === 5) {
      // ICSNPP logs the coil state (1); we keep the wire value, 0xFF00 for
      // ON (§6.5), in `value`, as Zeek's modbus_write_single_coil event does.
      assert.is(request!.fields.value, Number(row.request_values) === 1 ? 0xff00 : 0, `${where}: coil value`);
      assert.is(response!.fields.value, request!.fields.value, `${where}: echoed coil value`);
    } else if (func === 6) {
      assert.is(request!.fields.value, Number(row.request_values), `${where}: register value`);
      assert.is(response!.fields.value, Number(row.response_values), `${where}: echoed register value`);
    } else if (func !== 22 && func !== 23) {
      // ICSNPP moves FC22 and FC23 values to logs of their own (next test).
      assert.equal(valuesOf(request), zeekCounts(row.request_values), `${where}: request values`);
      if (row.exception_code === "-") assert.equal(valuesOf(response), zeekCounts(row.response_values), `${where}: response values`);
    }
    if (row.request_subfunction_code !== "-") {
      assert.is(request!.fields.sub_function_name, upperSnake(row.request_subfunction_code), `${where}: sub-function`);
      assert.is(response!.fields.sub_function_name, upperSnake(row.response_subfunction_code), `${where}: sub-function`);
    }
    if (row.exception_code !== "-") assert.is(response!.fields.exception, row.exception_code, `${where}: exception`);
    if (row.mei_type !== "-") assert.is(request!.fields.mei_name, upperSnake(row.mei_type), `${where}: MEI type`);
  }
});

test("modbus detailed FC23 and FC22 logs", async () => {
  const pcap = capture("modbus/icsnpp_modbus_example_many_fc.pcap");
  const readWrite = expectedOutput("modbus/icsnpp_modbus_example_many_fc.modbus_read_write_multiple_registers.log");
  const maskWrite = expectedOutput("modbus/icsnpp_modbus_example_many_fc.modbus_mask_write_register.log");
  if (!pcap || !readWrite || !maskWrite) return;
  const { modbus } = await runCapture(pcap);

  const readWriteRows = readZeekLog(readWrite);
  assert.is(readWriteRows.length, 4);
  for (const row of readWriteRows) {
    const { request, response } = exchange(modbus, Number(row["id.orig_p"]), Number(row.tid), Number(row.unit));
    if (row.request_response === "REQUEST") {
      assert.is(request!.fields.write_start_address, Number(row.write_start_address));
      assert.equal(valuesOf(request), zeekCounts(row.write_registers));
      assert.is(request!.fields.read_start_address, Number(row.read_start_address));
      assert.is(request!.fields.read_quantity, Number(row.read_quantity));
    } else {
      assert.equal(valuesOf(response), zeekCounts(row.read_registers));
    }
  }

  const maskRows = readZeekLog(maskWrite);
  assert.is(maskRows.length, 4);
  for (const row of maskRows) {
    const { request, response } = exchange(modbus, Number(row["id.orig_p"]), Number(row.tid), Number(row.unit));
    const record = row.request_response === "REQUEST" ? request : response;
    assert.equal([record!.fields.start_address, record!.fields.and_mask, record!.fields.or_mask], [Number(row.address), Number(row.and_mask), Number(row.or_mask)]);
  }
});

test("modbus suricata-verify rule counts", async () => {
  // suricata-verify tests/modbus counts alerts per rule, one per request
  // (transaction). Its rules match, in short: sid 1 function 1, sid 2 a
  // public function code, sid 3 read access, sid 4 unit 10, sid 5 unit above
  // 9 reading coils in the address range 0 to 2, sid 6 write access and
  // sid 7 function 8. Every request here is to unit 10.
  const pcap = capture("modbus/suricata_modbus_fc8_diag_fc43.pcap");
  if (!pcap) return;
  const { modbus, anomalies } = await runCapture(pcap);
  const requests = modbus.filter((r) => r.fields.pdu_type === "request");
  const fc = (r: CoreRecord) => Number(r.fields.function_code);
  const reads = requests.filter((r) => [1, 2, 3, 4].includes(fc(r)));
  const writes = requests.filter((r) => [5, 6, 15, 16].includes(fc(r)));

  assert.is(requests.filter((r) => fc(r) === 1).length, 2, "sid 1");
  assert.is(requests.filter((r) => r.fields.function !== "UNKNOWN" && r.fields.user_defined !== true).length, 18, "sid 2");
  assert.is(reads.length, 3, "sid 3");
  assert.is(requests.filter((r) => r.fields.unit_id === 10).length, 18, "sid 4");
  assert.is(requests.filter((r) => r.fields.unit_id === 10 && fc(r) === 43).length, 2, "sid 4 MEI");
  // Read coils whose whole range lies in 0..2: FC1 at 0 for 1 coil, not FC1
  // at 2 for 2 coils (2..3).
  const inRange = requests.filter((r) => Number(r.fields.unit_id) > 9 && fc(r) === 1 && Number(r.fields.start_address) + Number(r.fields.quantity) - 1 <= 2);
  assert.is(inRange.length, 1, "sid 5");
  assert.is(writes.length, 3, "sid 6");
  assert.is(requests.filter((r) => fc(r) === 8).length, 8, "sid 7");
  // 10.0.0.57:2585 to 10.0.0.8:502 sends 451 bytes of repeated
  // "00 01 00 00 88 04 ...": MBAP length 0x8804 is out of range, so the
  // flow is not Modbus, counted once.
  assert.is(anomalies["modbus.non_modbus_on_port_502"], 1);
});

test.run();
