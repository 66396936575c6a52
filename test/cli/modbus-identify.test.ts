import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { main } from "../../agent/src/cli/main.js";
import { parseResponse } from "../../agent/src/cli/modbus-identify.js";
import { DEVICE_OBJECTS, startModbusServer } from "../agent/modbus-peers.js";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

const HOST = "127.0.0.1";

test("modbus identify regular objects", async () => {
  const server = await startModbusServer(HOST, 0, 3);
  try {
    const result = await run("modbus", "identify", `${HOST}:${server.port}`, "--json", "--interval-ms", "100");
    assert.is(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as { objects: Record<string, string>; requests: number; unit_id: number; conformity_level: number };
    assert.is(parsed.objects.vendor_name, DEVICE_OBJECTS[0]);
    assert.is(parsed.objects.product_code, DEVICE_OBJECTS[1]);
    assert.is(parsed.objects.revision, DEVICE_OBJECTS[2]);
    assert.is(parsed.objects.user_application_name, DEVICE_OBJECTS[6]);
    assert.is(parsed.objects.object_0x80, undefined);
    // Seven regular objects, three per response: three requests.
    assert.is(parsed.requests, 3);
    assert.is(server.requests, 3);
    assert.is(parsed.unit_id, 255);
    assert.is(parsed.conformity_level, 0x83);
  } finally {
    await server.close();
  }
});

test("modbus identify extended and basic", async () => {
  const server = await startModbusServer(HOST, 0, 20);
  try {
    const extended = await run("modbus", "identify", `${HOST}:${server.port}`, "--level", "extended", "--unit", "1");
    assert.is(extended.code, 0, extended.stderr);
    assert.match(extended.stdout, `unit 1`);
    assert.match(extended.stdout, "object_0x81");
    assert.match(extended.stdout, DEVICE_OBJECTS[0x81]);
    const basic = await run("modbus", "identify", `${HOST}:${server.port}`, "--level", "basic", "--json");
    const objects = (JSON.parse(basic.stdout) as { objects: Record<string, string> }).objects;
    assert.equal(Object.keys(objects), ["vendor_name", "product_code", "revision"]);
  } finally {
    await server.close();
  }
});

test("modbus identify errors", async () => {
  // A listener that accepts and never responds: the request times out.
  const accepted = new Set<Socket>();
  const silent = createServer((socket) => {
    accepted.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, HOST, () => resolve()));
  const silentPort = (silent.address() as AddressInfo).port;
  try {
    const timedOut = await run("modbus", "identify", `${HOST}:${silentPort}`, "--timeout-ms", "300");
    assert.is(timedOut.code, 1);
    assert.match(timedOut.stderr, "did not respond within 300 ms");
  } finally {
    for (const socket of accepted) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
  const refused = await run("modbus", "identify", `${HOST}:${silentPort}`, "--timeout-ms", "500");
  assert.is(refused.code, 1);
  assert.match(refused.stderr, `cannot connect to ${HOST}:${silentPort}`);

  const usage: [string[], string][] = [
    [["modbus"], 'missing action for "fieldsense modbus"'],
    [["modbus", "scan"], 'unknown action "scan"'],
    [["modbus", "identify"], "missing HOST"],
    [["modbus", "identify", "h:99999"], 'invalid port in "h:99999"'],
    [["modbus", "identify", "h", "--unit", "300"], 'invalid --unit "300"'],
    [["modbus", "identify", "h", "--level", "full"], 'invalid --level "full"'],
    [["modbus", "identify", "h", "--interval-ms", "10"], "at least 100 ms between requests"],
  ];
  for (const [argv, expected] of usage) {
    const result = await run(...argv);
    assert.is(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
    assert.ok(result.stderr.includes(expected), `${argv.join(" ")}: "${result.stderr.trim()}" lacks "${expected}"`);
  }
});

test("modbus identify response parsing", () => {
  const where = { host: "h", port: 502 };
  assert.throws(() => parseResponse(Buffer.from([0xab, 0x01]), where), /responded with exception 1: illegal function/);
  assert.throws(() => parseResponse(Buffer.from([0x2b, 0x0e, 1]), where), /expected FC 43 MEI 14 with at least 7 bytes, got 3 bytes/);
  // One object announced with 9 value bytes, but only 2 present.
  assert.throws(() => parseResponse(Buffer.from([0x2b, 0x0e, 1, 0x81, 0, 0, 1, 0, 9, 0x41, 0x42]), where), /object 1 of 1 runs past the end/);
  const page = parseResponse(Buffer.from([0x2b, 0x0e, 1, 0x81, 0xff, 2, 1, 0, 3, 0x41, 0x01, 0x43]), where);
  assert.is(page.moreFollows, true);
  assert.is(page.nextObjectId, 2);
  assert.equal(page.objects, [[0, "A\\x01C"]]);
});

test.run();
