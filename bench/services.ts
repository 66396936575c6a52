// A Mosquitto broker and a correlator process for the latency and ingest
// benchmarks. Both listen on loopback only and are stopped by the caller.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tool } from "./tools.js";

const LOOPBACK = "127.0.0.1";
const START_TIMEOUT_MS = 10_000;

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, serviceName: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${serviceName} exited with code ${child.exitCode} before listening on ${LOOPBACK}:${port}`);
    const open = await new Promise<boolean>((done) => {
      const socket = createConnection({ host: LOOPBACK, port }, () => {
        socket.destroy();
        done(true);
      });
      socket.once("error", () => done(false));
    });
    if (open) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`${serviceName} did not listen on ${LOOPBACK}:${port} within ${START_TIMEOUT_MS} ms`);
}

export interface Broker {
  url: string;
  stop(): Promise<void>;
}

// Starts Mosquitto on a free loopback port with an in-memory store.
export async function startMosquitto(mosquitto: Tool): Promise<Broker> {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-bench-mosquitto-"));
  const config = join(dir, "mosquitto.conf");
  writeFileSync(config, [`listener ${port} ${LOOPBACK}`, "allow_anonymous true", "persistence false", "max_inflight_messages 0", ""].join("\n"));
  const child = spawn(mosquitto.command, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  try {
    await waitForPort(port, child, "mosquitto");
  } catch (error) {
    child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}: ${stderr.trim()}`);
  }
  return {
    url: `mqtt://${LOOPBACK}:${port}`,
    stop: () => stopChild(child).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.kill("SIGTERM");
  });
}

export interface CorrelatorProcess {
  dbPath: string;
  command: string;
  stop(): Promise<void>;
}

// Starts `fieldsense correlator` as its own process, as it runs in production,
// with a fresh SQLite store in a temporary folder.
export async function startCorrelator(repoRoot: string, brokerUrl: string): Promise<CorrelatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-bench-correlator-"));
  const dbPath = join(dir, "correlator.db");
  const args = ["bin/fieldsense.js", "correlator", "--broker", brokerUrl, "--db", dbPath, "--reports", join(dir, "reports")];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, FIELDSENSE_LOG_LEVEL: "warn" } });
  let stderr = "";
  const started = new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`fieldsense correlator did not report running within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`)), START_TIMEOUT_MS);
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
      if (stderr.includes("correlator running")) {
        clearTimeout(timer);
        done();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`fieldsense correlator exited with code ${code}: ${stderr.trim()}`));
    });
  });
  try {
    await started;
  } catch (error) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dbPath,
    command: `node bin/fieldsense.js correlator --broker ${brokerUrl} --db DB --reports DIR`,
    stop: () => stopChild(child).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}
