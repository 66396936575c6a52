// What the correlator does at start when its broker, store or reports folder
// is not usable: it fails with a message naming the thing and the fix.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { correlatorPaths } from "../../agent/src/cli/correlator.js";
import { ALERTS_FILTER, Correlator } from "../../correlator/src/service.js";
import { openStore } from "../../correlator/src/store.js";
import { sampleAlert } from "../publish/samples.js";

// Asserts that `work` rejects with an error that `check` matches.
async function rejects(work: () => Promise<unknown>, check: RegExp | ((error: Error) => boolean)): Promise<void> {
  try {
    await work();
  } catch (error) {
    const message = (error as Error).message;
    if (check instanceof RegExp) assert.match(message, check);
    else assert.ok(check(error as Error), message);
    return;
  }
  assert.unreachable("expected an error");
}

const OPEN_STORE = join(import.meta.dirname, "open-store.mts");
// An unprivileged user for the read-only cases: root may write any file.
const NOBODY = 65534;

// An MQTT broker that replies to CONNECT with a successful MQTT 5 CONNACK and
// then ignores everything, SUBSCRIBE included.
async function startSilentBroker(): Promise<{ url: string; subscribes: () => number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let subscribes = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let connected = false;
    socket.on("data", (data) => {
      if (!connected && data[0] >> 4 === 1) {
        connected = true;
        // CONNACK: type 2, remaining length 3, session present 0, reason 0, no properties.
        socket.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]));
      } else if (data[0] >> 4 === 8) {
        subscribes++;
      }
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    subscribes: () => subscribes,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Opens a store in a child process, as an unprivileged user when this test
// runs as root, and returns what it printed.
function openStoreAsUser(path: string): { status: number | null; output: string } {
  const asRoot = process.getuid?.() === 0;
  const result = spawnSync(process.execPath, ["--import", "tsx", OPEN_STORE, path], {
    encoding: "utf8",
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

test("correlator start fails without SUBACK", async () => {
  const broker = await startSilentBroker();
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    const start = Correlator.start({ url: broker.url, dbPath: join(dir, "c.db"), protocolVersion: 5, subscribeTimeoutMs: 300 });
    const error = await start.then(() => undefined, (reason: Error) => reason);
    assert.ok(error, "start() resolved although the broker never sent a SUBACK");
    assert.match(error!.message, broker.url);
    assert.match(error!.message, ALERTS_FILTER);
    assert.match(error!.message, "no SUBACK");
    assert.match(error!.message, "within 300 ms");
    assert.is(broker.subscribes(), 1);
    // The store was closed: a second store on the same file opens and writes.
    await (await openStore(join(dir, "c.db"))).close();
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store read-only file rejected at open", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    const path = join(dir, "c.db");
    await (await openStore(path)).close();
    chmodSync(path, 0o444);
    chmodSync(dir, 0o755);
    const { status, output } = openStoreAsUser(path);
    assert.is(status, 1, output);
    assert.match(output, `store ${path} cannot be written`);
    assert.match(output, "give --db another path");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store in read-only folder rejected at open", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    // The file is writable but its folder is not, so SQLite cannot create
    // the -wal file beside it.
    const path = join(dir, "c.db");
    const store = await openStore(path);
    store.db.pragma("journal_mode = DELETE");
    await store.close();
    chmodSync(path, 0o666);
    chmodSync(dir, 0o755);
    const { status, output } = openStoreAsUser(path);
    assert.is(status, 1, output);
    assert.match(output, path);
    assert.match(output, `its folder ${dir}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store writable file opens as another user", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    chmodSync(dir, 0o777);
    const { status, output } = openStoreAsUser(join(dir, "c.db"));
    assert.is(status, 0, output);
    assert.is(output, "opened");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store not a database names path and fix", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    const path = join(dir, "notes.txt");
    writeFileSync(path, "these are notes, not a SQLite database\n".repeat(200));
    await rejects(() => openStore(path), (error: Error) =>
      error.message.includes(`store ${path} is not a SQLite database`) &&
      error.message.includes("file is not a database") &&
      error.message.includes("move this file away"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store path that is a folder names path and fix", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    const path = join(dir, "c.db");
    mkdirSync(path);
    await rejects(() => openStore(path), (error: Error) =>
      error.message.includes(`cannot open store ${path}`) &&
      error.message.includes("unable to open database file") &&
      error.message.includes("give --db another path"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store url of another scheme rejected", async () => {
  const cwd = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  process.chdir(dir);
  try {
    for (const target of ["mysql://db/fieldsense", "postgres:/db", "sqlite:///tmp/x.db"]) {
      await rejects(() => openStore(target), (error: Error) =>
        error.message.includes(`invalid store "${target}"`) && error.message.includes("give a postgres:// or postgresql:// URL"));
    }
    // Nothing was created as a relative path named after the URL.
    assert.equal(readdirSync(dir), []);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store opened read-only for reports", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    const path = join(dir, "c.db");
    const writer = await openStore(path);
    await writer.insertAlert(sampleAlert());
    await writer.close();
    const reader = await openStore(path, { readOnly: true });
    assert.is((await reader.incidents()).length, 1);
    await rejects(() => reader.insertAlert(sampleAlert("plant-a", "gw-2")), /readonly/);
    await reader.close();
    await rejects(() => openStore(join(dir, "missing.db"), { readOnly: true }), /cannot open store .*missing\.db/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store creates missing folders", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    const store = await openStore(join(dir, "missing", "sub", "c.db"));
    assert.is(await store.countAlerts(), 0);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store folder that cannot be created", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    const file = join(dir, "plain-file");
    writeFileSync(file, "");
    const folder = join(file, "sub");
    await rejects(() => openStore(join(folder, "c.db")), (error: Error) =>
      error.message.includes(`cannot create the folder of store ${join(folder, "c.db")}, ${folder}: ${file} is a file, not a folder (ENOTDIR)`) &&
      error.message.includes("give --db a path"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("correlator reports default beside the store", async () => {
  assert.equal(correlatorPaths("/x/missing/sub/c.db", undefined), { dbPath: "/x/missing/sub/c.db", reportsDir: "/x/missing/sub/reports" });
  assert.equal(correlatorPaths("/x/c.db", "/y/reports"), { dbPath: "/x/c.db", reportsDir: "/y/reports" });
});

test("correlator reports folder that cannot be created", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-startup-"));
  try {
    const file = join(dir, "plain-file");
    writeFileSync(file, "");
    const reportsDir = join(file, "reports");
    // The folder is created before the broker is dialled, so port 1 is never reached.
    const start = Correlator.start({ url: "mqtt://127.0.0.1:1", dbPath: join(dir, "c.db"), reportsDir, connectTimeoutMs: 200 });
    const error = await start.then(() => undefined, (reason: Error) => reason);
    assert.ok(error);
    assert.match(error!.message, `cannot create the reports folder, ${reportsDir}: ${file} is a file, not a folder (ENOTDIR)`);
    assert.match(error!.message, "give --reports another folder");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
