// External programs the benchmark compares against or measures with, and the
// Debian packages that provide them. Missing ones are installed with apt-get
// when the benchmark runs as root, so a fresh machine reproduces the figures.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

export interface Tool {
  command: string;      // absolute path once found
  debianPackage: string;
}

const TOOLS: Record<string, { paths: string[]; debianPackage: string }> = {
  tshark: { paths: ["/usr/bin/tshark"], debianPackage: "tshark" },
  tcpdump: { paths: ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"], debianPackage: "tcpdump" },
  time: { paths: ["/usr/bin/time"], debianPackage: "time" },
  mosquitto: { paths: ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"], debianPackage: "mosquitto" },
};

let aptUpdated = false;

function locate(name: string): string | undefined {
  return TOOLS[name].paths.find((path) => existsSync(path));
}

function aptInstall(debianPackage: string): string | undefined {
  if (process.getuid?.() !== 0) return "not root, so apt-get cannot install it";
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", debianPackage], { env, stdio: ["ignore", "ignore", "pipe"] });
  let result = install();
  if (result.status !== 0 && !aptUpdated) {
    aptUpdated = true;
    spawnSync("apt-get", ["update", "-qq"], { env, stdio: "ignore" });
    result = install();
  }
  if (result.status !== 0) return `apt-get install ${debianPackage} failed: ${result.stderr.toString().trim().split("\n").pop()}`;
  return undefined;
}

// Finds a tool, installing its Debian package when missing. Returns the tool,
// or a reason why it is unavailable (which the report then prints).
export function requireTool(name: keyof typeof TOOLS, install = true): Tool | { missing: string } {
  const spec = TOOLS[name];
  let command = locate(name);
  if (!command && install) {
    console.error(`bench: ${name} not found, installing Debian package ${spec.debianPackage}`);
    const failure = aptInstall(spec.debianPackage);
    if (failure) return { missing: `${name} is not installed (${failure}); install Debian package ${spec.debianPackage}` };
    command = locate(name);
  }
  if (!command) return { missing: `${name} is not installed; install Debian package ${spec.debianPackage}` };
  return { command, debianPackage: spec.debianPackage };
}

export function isMissing(tool: Tool | { missing: string }): tool is { missing: string } {
  return "missing" in tool;
}

// Installs a Debian package that provides no command (libpcap-dev for the
// node-pcap build). Returns a failure reason or undefined.
export function requireDebianPackage(debianPackage: string): string | undefined {
  const query = spawnSync("dpkg-query", ["-W", "-f=${Status}", debianPackage], { stdio: ["ignore", "pipe", "ignore"] });
  if (query.stdout.toString().includes("install ok installed")) return undefined;
  console.error(`bench: installing Debian package ${debianPackage}`);
  return aptInstall(debianPackage);
}

function firstLine(command: string, args: string[]): string {
  try {
    const output = execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"] }).toString();
    return output.split("\n").find((line) => line.trim() !== "")?.trim() ?? "unknown";
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    return stderr.split("\n").find((line) => line.trim() !== "")?.trim() ?? "unknown";
  }
}

// Version text of a tool as the tool prints it.
export function toolVersion(name: string, command: string): string {
  if (name === "tcpdump") return firstLine(command, ["--version"]);
  if (name === "tshark") return firstLine(command, ["--version"]);
  if (name === "mosquitto") return firstLine("dpkg-query", ["-W", "-f=mosquitto ${Version}", "mosquitto"]);
  return firstLine(command, ["--version"]);
}

export interface MachineInfo {
  cpuModel: string;
  logicalCores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
}

export function describeMachine(): MachineInfo {
  let os = "unknown";
  if (existsSync("/etc/os-release")) {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (pretty) os = pretty[1];
  }
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    logicalCores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: firstLine("uname", ["-r"]),
    os,
    node: process.version,
  };
}
