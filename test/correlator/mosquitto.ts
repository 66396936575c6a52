// Starts a real Mosquitto broker for a test, on a free port of 127.0.0.1 with
// a generated configuration, and stops it again.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MOSQUITTO = process.env.MOSQUITTO ?? "/usr/sbin/mosquitto";
const START_TIMEOUT_MS = 5000;

export interface RunningBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Returns the running broker, or undefined after printing why the calling
// test is skipped. `port` restarts a broker on the port of an earlier one.
export async function startMosquitto(port?: number): Promise<RunningBroker | undefined> {
  if (!existsSync(MOSQUITTO)) {
    console.log(`  skipped: mosquitto not found at ${MOSQUITTO} (install mosquitto or set MOSQUITTO to its path)`);
    return undefined;
  }
  port ??= await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-mosquitto-"));
  const config = join(dir, "mosquitto.conf");
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`);
  const child: ChildProcess = spawn(MOSQUITTO, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mosquitto did not start on 127.0.0.1:${port}: ${output.trim() || "no output"}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });
}
