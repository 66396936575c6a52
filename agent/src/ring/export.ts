// Cuts slices out of the packet ring as pcapng: what `fieldsense pcap` writes
// to a file and what the gateway sends a correlator over MQTT.
//
// A request names an alert (its flow, from `before` seconds ahead of the
// alert to `after` seconds past it), a flow, a host, a time range, or several
// of these together. The pcapng has one interface block per link type in the
// slice, nanosecond timestamps, and a comment on the first packet that names
// what was asked for.
import { PcapngEncoder, PcapngFileWriter } from "../capture/pcapng-writer.js";
import { flowKey, parseFlow } from "./flow-key.js";
import type { PacketRing, SliceQuery, StoredPacket } from "./ring.js";

export interface PcapRequest {
  alert?: string;
  flow?: string;
  host?: string;
  // Seconds since the epoch (packet time), inclusive.
  from?: number;
  to?: number;
  // Around an alert: seconds before and after its time.
  before?: number;
  after?: number;
}

export const DEFAULT_BEFORE_SECONDS = 600;
export const DEFAULT_AFTER_SECONDS = 60;

export class PcapRequestError extends Error {
  constructor(message: string, readonly code: "pcap.unknown_alert" | "pcap.empty_request" | "pcap.bad_request" | "pcap.no_packets" | "pcap.too_large") {
    super(message);
    this.name = "PcapRequestError";
  }
}

// Turns a request into a ring query and the comment for the file.
export function resolveRequest(ring: PacketRing, request: PcapRequest): { query: SliceQuery; comment: string } {
  const query: SliceQuery = {};
  const parts: string[] = [];
  if (request.alert !== undefined) {
    const alert = ring.alert(request.alert);
    if (!alert) {
      throw new PcapRequestError(`alert ${request.alert} is not in the packet ring of ${ring.dir}: its packets are older than the ring keeps, or it was raised elsewhere; ask with --flow and --from/--to instead`, "pcap.unknown_alert");
    }
    query.flows = [flowKey(alert.transport, alert.src, alert.dst)];
    query.from = Math.floor(alert.ts - (request.before ?? DEFAULT_BEFORE_SECONDS));
    query.to = Math.ceil(alert.ts + (request.after ?? DEFAULT_AFTER_SECONDS));
    parts.push(`alert ${alert.id} (model ${alert.model}, ${query.flows[0]})`);
  }
  if (request.flow !== undefined) {
    let flow;
    try {
      flow = parseFlow(request.flow);
    } catch (error) {
      throw new PcapRequestError((error as Error).message, "pcap.bad_request");
    }
    const key = flowKey(flow.transport, flow.one, flow.two);
    query.flows = query.flows ? query.flows.filter((k) => k === key) : [key];
    parts.push(`flow ${key}`);
  }
  if (request.host !== undefined) {
    query.host = request.host;
    parts.push(`host ${request.host}`);
  }
  if (request.from !== undefined) query.from = Math.max(query.from ?? -Infinity, request.from);
  if (request.to !== undefined) query.to = Math.min(query.to ?? Infinity, request.to);
  if (request.from !== undefined || request.to !== undefined) {
    const text = (sec: number | undefined) => sec === undefined ? "..." : new Date(sec * 1000).toISOString();
    parts.push(`from ${text(request.from)} to ${text(request.to)}`);
  }
  if (parts.length === 0) {
    throw new PcapRequestError("the request names no alert, flow, host or time range; give at least one, or the whole ring would be sent", "pcap.empty_request");
  }
  return { query, comment: `Fieldsense packet ring: ${parts.join(", ")}` };
}

interface Sink { interface(linkType: number): Promise<number> | number; packet(packet: StoredPacket, interfaceId: number, comment?: string): Promise<void> | void }

async function writeSlice(ring: PacketRing, query: SliceQuery, comment: string, sink: Sink): Promise<number> {
  const interfaces = new Map<number, number>();
  let packets = 0;
  for (const packet of ring.slice(query)) {
    let id = interfaces.get(packet.linkType);
    if (id === undefined) {
      id = await sink.interface(packet.linkType);
      interfaces.set(packet.linkType, id);
    }
    await sink.packet(packet, id, packets === 0 ? comment : undefined);
    packets++;
  }
  return packets;
}

const NANOSECONDS = { base: 10 as const, exponent: 9 };

function toWrite(packet: StoredPacket, interfaceId: number, comment: string | undefined) {
  return { interfaceId, tsSec: packet.tsSec, tsNsec: packet.tsNsec, data: packet.data, wireLength: packet.wireLength, comment };
}

// Writes the slice to `path`. Returns the number of packets; a slice with no
// packets raises pcap.no_packets and leaves no file behind.
export async function exportToFile(ring: PacketRing, request: PcapRequest, path: string): Promise<{ packets: number; comment: string }> {
  const { query, comment } = resolveRequest(ring, request);
  if (!ring.slice(query).next().value) throw noPackets(ring);
  const writer = await PcapngFileWriter.create(path);
  try {
    const packets = await writeSlice(ring, query, comment, {
      interface: (linkType) => writer.addInterface({ linkType, tsresol: NANOSECONDS }),
      packet: (packet, id, note) => writer.writePacket(toWrite(packet, id, note)),
    });
    return { packets, comment };
  } finally {
    await writer.close();
  }
}

// Builds the slice in memory, rejecting it once it passes `maxBytes`.
export async function exportToBytes(ring: PacketRing, request: PcapRequest, maxBytes: number): Promise<{ bytes: Uint8Array; packets: number; comment: string }> {
  const { query, comment } = resolveRequest(ring, request);
  const encoder = new PcapngEncoder();
  const blocks: Uint8Array[] = [encoder.sectionHeader()];
  let size = blocks[0].length;
  const add = (block: Uint8Array) => {
    size += block.length;
    if (size > maxBytes) {
      throw new PcapRequestError(`the capture for ${comment.replace(/^Fieldsense packet ring: /, "")} is larger than the ${maxBytes}-byte limit of one response; narrow it with a flow or a shorter time range`, "pcap.too_large");
    }
    blocks.push(block);
  };
  const packets = await writeSlice(ring, query, comment, {
    interface: (linkType) => { add(encoder.interfaceDescription({ linkType, tsresol: NANOSECONDS })); return encoder.interfaceCount - 1; },
    packet: (packet, id, note) => add(encoder.enhancedPacket(toWrite(packet, id, note))),
  });
  if (packets === 0) throw noPackets(ring);
  return { bytes: Buffer.concat(blocks), packets, comment };
}

function noPackets(ring: PacketRing): PcapRequestError {
  const stats = ring.stats();
  const held = stats.oldestSec === undefined
    ? "the ring is empty"
    : `the ring holds ${new Date(stats.oldestSec * 1000).toISOString()} to ${new Date(stats.newestSec! * 1000).toISOString()}`;
  return new PcapRequestError(`no packets in the packet ring match the request (${held}); the packets may have aged out or the flow may not have crossed this gateway`, "pcap.no_packets");
}
