// The committed pcap fixture, read from disk like a replayed capture: the
// file must match its generator, and the core must decode all six PDUs.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FIXTURE_PATH, pipelinedWraparoundPcap } from "./fixture.js";
import { anomaliesOf, runCapture } from "./run.js";

test("modbus fixture matches its generator", () => {
  const committed = new Uint8Array(readFileSync(FIXTURE_PATH));
  assert.equal(committed, pipelinedWraparoundPcap(), "regenerate with: npx tsx test/modbus/fixture.ts");
});

test("modbus fixture pipelined and wrapped", async () => {
  // pipelined-wraparound.pcap: two pipelined requests in a segment that
  // crosses 2^32, a response in three segments, and an FC6 exception.
  const { modbus, anomalies } = await runCapture(FIXTURE_PATH);

  assert.equal(modbus.map((r) => `${r.fields.transaction_id} ${r.fields.pdu_type} ${r.fields.function}`), [
    "1 request READ_HOLDING_REGISTERS",
    "2 request READ_COILS",
    "1 response READ_HOLDING_REGISTERS",
    "2 response READ_COILS",
    "3 request WRITE_SINGLE_REGISTER",
    "3 response WRITE_SINGLE_REGISTER_EXCEPTION",
  ]);
  assert.equal(modbus.map((r) => r.fields.unit_id), [17, 17, 17, 17, 17, 17]);
  assert.is(modbus[2].fields.start_address, 100);
  assert.is(modbus[3].fields.quantity, 10);
  assert.is(modbus[5].fields.exception, "ILLEGAL_DATA_ADDRESS");
  assert.is(modbus[5].fields.start_address, 9999);
  assert.ok(modbus.every((r) => anomaliesOf(r).length === 0));
  assert.equal(Object.keys(anomalies).filter((name) => name.startsWith("modbus.")), []);
  // The fourth frame, after the handshake; frames are 1 ms apart.
  assert.is(modbus[0].ts, "2024-12-04T08:13:20.003000Z");
});

test.run();
