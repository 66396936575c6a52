// A Mosquitto broker, a PostgreSQL server and a correlator process for the
// latency and ingest benchmarks. All listen on loopback only and are stopped
// by the caller.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
// with a fresh SQLite store in a temporary folder, or on the store `db` (a
// SQLite path or a PostgreSQL URL) when given.
export async function startCorrelator(repoRoot: string, brokerUrl: string, db?: string): Promise<CorrelatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-bench-correlator-"));
  const dbPath = db ?? join(dir, "correlator.db");
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

export interface PostgresServer {
  // URL of the server's postgres database, for CREATE and DROP DATABASE.
  adminUrl: string;
  // A description of the server for the report.
  description: string;
  stop(): Promise<void>;
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

const SHARED_POSTGRES_URL = `postgres://postgres@${LOOPBACK}:5432/postgres`;

async function acceptsConnections(url: string): Promise<boolean> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// The folder of initdb and pg_ctl: on PATH, or Debian's versioned folder.
function postgresBinDir(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir !== "" && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, "bin")).find((dir) => existsSync(join(dir, "initdb")));
}

// Uses the PostgreSQL server on 127.0.0.1:5432 (trust authentication for
// user postgres) when it accepts connections. Otherwise starts a private
// server with initdb and pg_ctl on a free loopback port, in a temporary
// folder removed at stop(). initdb refuses to run as root, so root runs
// both as the system user postgres. Throws an error with the reason when
// neither works.
export async function startPostgres(): Promise<PostgresServer> {
  if (await acceptsConnections(SHARED_POSTGRES_URL)) {
    return { adminUrl: SHARED_POSTGRES_URL, description: `PostgreSQL on ${LOOPBACK}:5432`, stop: async () => undefined };
  }
  const bin = postgresBinDir();
  if (!bin) throw new Error(`no PostgreSQL accepts connections on ${LOOPBACK}:5432 and initdb is not installed to start one; install Debian package postgresql`);
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? userIds("postgres") : undefined;
  if (asRoot && !owner) throw new Error(`no PostgreSQL accepts connections on ${LOOPBACK}:5432, and initdb refuses to run as root without a system user postgres to run it as`);
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, command), ...args]] : [join(bin, command), args];
    const result = spawnSync(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
    if (result.status !== 0) throw new Error(`${command} failed with code ${result.status}: ${result.stderr.toString().trim().split("\n").slice(-2).join(" ")}`);
  };
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-bench-postgres-"));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, "data");
  const port = await freeLoopbackPort();
  try {
    run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    run("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-w", "-o", `-c listen_addresses=${LOOPBACK} -p ${port} -k ${dir}`, "start"]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`no PostgreSQL accepts connections on ${LOOPBACK}:5432, and a private server could not start: ${(error as Error).message}`);
  }
  return {
    adminUrl: `postgres://postgres@${LOOPBACK}:${port}/postgres`,
    description: `a private PostgreSQL (initdb, pg_ctl) on ${LOOPBACK}:${port}`,
    stop: async () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((entry) => entry.startsWith(`${name}:`));
  if (!line) return undefined;
  const fields = line.split(":");
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

// Creates a database with a unique name on the server; drop() removes it
// and ends the connections still open to it.
export async function createBenchDatabase(server: PostgresServer, label: string): Promise<BenchDatabase> {
  const { default: pg } = await import("pg");
  const name = `fieldsense_bench_${label}_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server.adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
