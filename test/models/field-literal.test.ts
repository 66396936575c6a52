// fieldLiteral (wasm-core/assembly/events.ts) writes the dissectors' static
// names, such as "request" and "READ_HOLDING_REGISTERS", into records as
// UTF-8. It copies four ASCII code units at a time, then one by one.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, type PacketContext } from "./engine.js";

const CTX: PacketContext = { tsSec: 1_700_000_000, flowId: 3, src: "10.3.0.1", srcPort: 40000, dst: "10.3.0.2", dstPort: 502 };

test("field literal writes names as UTF-8", async () => {
  const engine = await Engine.create();
  engine.record("modbus", CTX, [["unit_id", 1]], false, "function");
  const [record] = engine.drain();
  // Code units outside ASCII are written as "?".
  assert.equal(record.fields.function, ["", "a", "abc", "abcd", "request", "READ_HOLDING_REGISTERS", "caf? au lait", "?uro"]);
});

test.run();
