// Real Mosquitto brokers for transport tests: a free loopback port, a
// generated configuration (persistence, TLS, ACL as the test needs), stop
// and restart on the same port with the same persistence folder.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freeLoopbackPort } from "../correlator/mosquitto.js";

const MOSQUITTO = process.env.MOSQUITTO ?? "/usr/sbin/mosquitto";
const START_TIMEOUT_MS = 5000;

export interface BrokerConfig {
  port?: number;
  // Folder for the configuration and, with persistence, mosquitto.db; kept
  // across restarts. A temporary folder when absent.
  dir?: string;
  // Keep sessions and queued messages across a restart.
  persistence?: boolean;
  tls?: { caFile: string; certFile: string; keyFile: string; requireCertificate: boolean };
  // Mosquitto ACL file contents; with TLS, client certificates' CN is the user name.
  acl?: string;
}

export interface TransportBroker {
  url: string;
  port: number;
  dir: string;
  output(): string;
  stop(): Promise<void>;
  // Starts again on the same port with the same configuration.
  restart(): Promise<void>;
  // Removes the folder; call after the last stop.
  cleanUp(): void;
}

export function mosquittoAvailable(): boolean {
  if (existsSync(MOSQUITTO)) return true;
  console.log(`  skipped: mosquitto not found at ${MOSQUITTO} (install mosquitto or set MOSQUITTO to its path)`);
  return false;
}

export async function startTransportBroker(config: BrokerConfig = {}): Promise<TransportBroker> {
  const port = config.port ?? await freeLoopbackPort();
  const dir = config.dir ?? mkdtempSync(join(tmpdir(), "fieldsense-broker-"));
  // Mosquitto drops QoS 1 messages for a subscriber once 1000 wait in its
  // queue (the default max_queued_messages), so a correlator that stores
  // slower than gateways publish needs a deeper queue.
  // Started as root, Mosquitto switches to the user "mosquitto", which cannot
  // read the test's private temporary folder: stay the current user.
  const lines = [`user ${userInfo().username}`, "per_listener_settings true", "max_queued_messages 1000000", `listener ${port} 127.0.0.1`, "log_dest stderr", "log_type error", "log_type warning", "log_type notice"];
  if (config.tls) {
    lines.push(`cafile ${config.tls.caFile}`, `certfile ${config.tls.certFile}`, `keyfile ${config.tls.keyFile}`);
    if (config.tls.requireCertificate) lines.push("require_certificate true", "use_identity_as_username true");
  }
  if (config.acl !== undefined) {
    const aclFile = join(dir, "acl");
    writeFileSync(aclFile, config.acl);
    lines.push(`acl_file ${aclFile}`);
  }
  lines.push("allow_anonymous true");
  if (config.persistence) {
    // The global persistence settings come before any listener in Mosquitto 2.0.
    lines.unshift("persistence true", `persistence_location ${dir}/`, "autosave_interval 1");
  }
  const configFile = join(dir, "mosquitto.conf");
  writeFileSync(configFile, `${lines.join("\n")}\n`);

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = "";
  const launch = async () => {
    const started = spawn(MOSQUITTO, ["-c", configFile], { stdio: ["ignore", "ignore", "pipe"] });
    child = started;
    started.stderr?.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    exited = new Promise<void>((resolve) => started.once("exit", () => resolve()));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await canConnect(port))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill("SIGTERM");
        throw new Error(`mosquitto did not start on 127.0.0.1:${port}: ${output.trim() || "no output"}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    if (child && child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  await launch();
  return {
    url: `${config.tls ? "mqtts" : "mqtt"}://127.0.0.1:${port}`,
    port,
    dir,
    output: () => output,
    stop,
    restart: launch,
    cleanUp: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });
}
