// `fieldsense pcap`: writes packets from the packet ring to a pcapng file.
import { join, resolve } from "node:path";
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
  const written = await exportToFile(ring, request, path);
  if (values.json) output.stdout(JSON.stringify({ file: path, packets: written.packets, comment: written.comment }) + "\n");
  else output.stdout(`wrote ${written.packets} packets to ${path} (${written.comment})\n`);
  return 0;
}
