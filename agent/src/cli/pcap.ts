// `fieldsense pcap`: writes packets from the packet ring to a pcapng file.
import { statSync } from "node:fs";
import { isIP } from "node:net";
import { dirname, join, resolve } from "node:path";
import { loadAgentConfig } from "../config/agent-config.js";
import { DEFAULT_AGENT_DATA_DIR } from "../config/config.js";
import { parseCommand, UsageError, type Output } from "./args.js";
import { PCAP_HELP } from "./help.js";

const PCAP_OPTIONS = {
  alert: { type: "string" },
  flow: { type: "string" },
  host: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  before: { type: "string" },
  after: { type: "string" },
  output: { type: "string", short: "o" },
  ring: { type: "string" },
  config: { type: "string" },
  json: { type: "boolean" },
} as const;

// Seconds since 1970 from "1700000000", "1700000000.5" or ISO 8601 text.
export function parseTime(option: string, text: string): number {
  const seconds = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Date.parse(text) / 1000;
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new UsageError(`invalid ${option} "${text}": give an ISO 8601 time such as 2026-11-03T10:00:00Z, or seconds since 1970`);
  }
  return seconds;
}

function seconds(option: string, text: string): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`invalid ${option} "${text}": give whole seconds, 0 or more`);
  return value;
}

// Rejects an -o path that names a folder or lies in a folder that does not
// exist, before the ring is read.
function checkOutputPath(outputArgument: string, path: string): void {
  const target = statSync(path, { throwIfNoEntry: false });
  if (target?.isDirectory()) {
    throw new UsageError(`invalid -o ${outputArgument}: it is a folder; give a file path such as ${join(outputArgument, "slice.pcapng")}`);
  }
  const folder = dirname(path);
  let parent;
  try {
    parent = statSync(folder, { throwIfNoEntry: false });
  } catch (error) {
    parent = undefined;
    if ((error as NodeJS.ErrnoException).code !== "ENOTDIR") throw error;
  }
  if (parent === undefined) {
    throw new UsageError(`invalid -o ${outputArgument}: the folder ${folder} does not exist; create it first or write the file elsewhere`);
  }
  if (!parent.isDirectory()) {
    throw new UsageError(`invalid -o ${outputArgument}: ${folder} is a file, not a folder; give a path in an existing folder`);
  }
}

export async function pcapCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("pcap", argv, PCAP_OPTIONS);
  if (values.help) {
    output.stdout(PCAP_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" for "fieldsense pcap"; name the selection with --alert, --flow, --host or --from/--to`);
  if (values.output === undefined) throw new UsageError('missing -o FILE for "fieldsense pcap": name the pcapng file to write');
  const request = {
    alert: values.alert,
    flow: values.flow,
    host: values.host,
    from: values.from !== undefined ? parseTime("--from", values.from) : undefined,
    to: values.to !== undefined ? parseTime("--to", values.to) : undefined,
    before: values.before !== undefined ? seconds("--before", values.before) : undefined,
    after: values.after !== undefined ? seconds("--after", values.after) : undefined,
  };
  if (request.host !== undefined && isIP(request.host) === 0) {
    throw new UsageError(`invalid --host "${request.host}": expected an IPv4 or IPv6 address such as 192.168.10.10 or fd00::10`);
  }
  if (request.from !== undefined && request.to !== undefined && request.from > request.to) {
    throw new UsageError(`invalid time range: --from ${values.from} is after --to ${values.to}; swap them`);
  }
  if (request.alert === undefined && request.flow === undefined && request.host === undefined && request.from === undefined && request.to === undefined) {
    throw new UsageError('"fieldsense pcap" needs a selection: --alert ID, --flow FLOW, --host IP or --from/--to');
  }
  let dir = values.ring;
  if (dir === undefined) {
    const config = values.config !== undefined ? loadAgentConfig(values.config) : undefined;
    dir = config?.ring.dir ?? join(config?.dataDir ?? DEFAULT_AGENT_DATA_DIR, "ring");
  }
  const { PacketRing } = await import("../ring/ring.js");
  const { exportToFile } = await import("../ring/export.js");
  // Read-only: the agent may be writing the ring at the same time.
  const ring = PacketRing.open(resolve(dir), undefined, { readOnly: true });
  const path = resolve(values.output);
  const ringDir = resolve(dir);
  if (path === ringDir || path.startsWith(`${ringDir}/`)) {
    throw new UsageError(`invalid -o ${values.output}: it lies inside the packet ring ${ringDir}, and writing there would destroy ring data; write the pcapng somewhere else`);
  }
  checkOutputPath(values.output, path);
  let written: { packets: number; comment: string };
  try {
    written = await exportToFile(ring, request, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== "string" || !code.startsWith("E")) throw error;
    throw new Error(`cannot write -o ${values.output}: ${(error as Error).message}; check that the folder exists and this user may write to it`);
  }
  if (values.json) output.stdout(JSON.stringify({ file: path, packets: written.packets, comment: written.comment }) + "\n");
  else output.stdout(`wrote ${written.packets} packets to ${path} (${written.comment})\n`);
  return 0;
}
