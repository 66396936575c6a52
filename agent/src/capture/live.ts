// Live capture from a network interface with node-pcap (optional dependency
// `pcap` 3.1, which links libpcap). Packets are copied into the core's batch
// layout (./batch.ts) and a batch is handed on when it reaches `batchBytes`
// or when its first packet is `batchIntervalMs` old.
//
// node-pcap is loaded only when a live capture is opened, so that replays
// never load a native add-on.
import { createRequire } from "node:module";
import { RECORD_HEADER_BYTES, type PacketBatch } from "./batch.js";
import { describeLinkType, SUPPORTED_LINK_TYPES } from "./link-types.js";

// The link-type names node-pcap reports (pcap_session.cc), as LINKTYPE_*
// numbers. node-pcap names only these five and reports any other link type
// as "Unknown linktype N".
const LINKTYPE_VALUES: Record<string, number> = {
  LINKTYPE_NULL: 0,
  LINKTYPE_ETHERNET: 1,
  LINKTYPE_RAW: 101,
  LINKTYPE_LINUX_SLL: 113,
  LINKTYPE_IEEE802_11_RADIO: 127,
};

export interface LiveCaptureOptions {
  interface: string;
  filter: string;
  snapLength: number;
  promiscuous: boolean;
  bufferBytes: number;
  batchBytes: number;
  batchIntervalMs: number;
}

// libpcap statistics (pcap_stats(3PCAP)): packets received, dropped for lack
// of buffer room, and dropped by the interface or its driver.
export interface LiveCaptureStats {
  received: number;
  dropped: number;
  interfaceDropped: number;
  // Packets and batches handed to the agent.
  packets: number;
  batches: number;
}

export class LiveCaptureError extends Error {
  readonly code = "FIELDSENSE_LIVE_CAPTURE";
  constructor(message: string) {
    super(message);
    this.name = "LiveCaptureError";
  }
}

interface PcapSession {
  link_type: string;
  on(event: "packet", listener: (packet: { buf: Buffer; header: Buffer }) => void): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  close(): void;
}
interface PcapModule {
  createSession(device: string, options: {
    filter?: string; buffer_size?: number; snap_length?: number; promiscuous?: boolean; buffer_timeout?: number;
  }): PcapSession;
  findalldevs(): { name: string }[];
}

// Loads node-pcap, or raises an error with the steps to install it.
export function loadPcap(): PcapModule {
  const require = createRequire(import.meta.url);
  try {
    return require("pcap") as PcapModule;
  } catch (error) {
    throw new LiveCaptureError(`live capture needs the optional package pcap (node-pcap 3.1), which failed to load: ${(error as Error).message.split("\n")[0]}; install libpcap-dev (Debian: apt-get install libpcap-dev) and run "npm install pcap@3.1" in the package folder, or replay capture files instead`);
  }
}

// Number of capture sessions this process has opened. A closed session keeps
// the event loop alive until a matching packet arrives (see LiveCapture.close).
let sessionsOpened = 0;

export function liveSessionsOpened(): number {
  return sessionsOpened;
}

// An open capture. Call `batches()` once to iterate; `close()` ends the
// iteration after the pending batch is handed on.
export class LiveCapture {
  private readonly counts = { packets: 0, batches: 0 };
  private readonly linkType: number;
  private buffer: Uint8Array;
  private view: DataView;
  private used = 0;
  private count = 0;
  private firstPacketAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly ready: PacketBatch[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private lastStats = { received: 0, dropped: 0, interfaceDropped: 0 };

  private constructor(private readonly session: PcapSession, private readonly options: LiveCaptureOptions) {
    const linkType = LINKTYPE_VALUES[session.link_type];
    if (linkType === undefined || !SUPPORTED_LINK_TYPES.has(linkType)) {
      session.close();
      const name = linkType === undefined ? session.link_type : describeLinkType(linkType);
      throw new LiveCaptureError(`interface ${options.interface} has link type ${name}, which the core does not decode; capture on an Ethernet interface`);
    }
    this.linkType = linkType;
    this.buffer = new Uint8Array(options.batchBytes);
    this.view = new DataView(this.buffer.buffer);
    session.on("packet", (packet) => this.onPacket(packet.buf, packet.header));
  }

  // Opens `options.interface`. This is the step that needs root or
  // CAP_NET_RAW; everything after it can run unprivileged.
  static open(options: LiveCaptureOptions): LiveCapture {
    const pcap = loadPcap();
    const names = pcap.findalldevs().map((device) => device.name);
    if (!names.includes(options.interface)) {
      throw new LiveCaptureError(`capture interface "${options.interface}" not found; interfaces on this machine: ${names.join(", ")}`);
    }
    let session: PcapSession;
    try {
      session = pcap.createSession(options.interface, {
        filter: options.filter,
        buffer_size: options.bufferBytes,
        snap_length: options.snapLength,
        promiscuous: options.promiscuous,
        // Immediate mode: packets arrive as they come and the agent batches
        // them itself, by size and age.
        buffer_timeout: 0,
      });
      sessionsOpened++;
    } catch (error) {
      const message = (error as Error).message;
      const hint = /permission|not permitted/i.test(message)
        ? "run the agent as root or give node CAP_NET_RAW (setcap cap_net_raw+ep)"
        : "check the interface name and the filter (pcap-filter(7))";
      throw new LiveCaptureError(`cannot open live capture on ${options.interface} with filter "${options.filter}": ${message}; ${hint}`);
    }
    return new LiveCapture(session, options);
  }

  private onPacket(data: Buffer, header: Buffer): void {
    if (this.closed) return;
    // node-pcap fills `header` as ts_sec, ts_usec, caplen, len in host byte
    // order, which is the batch's little-endian record header on the
    // little-endian machines the agent runs on (x86-64, arm64).
    const captureLength = Math.min(header.readUInt32LE(8), data.length);
    const recordBytes = RECORD_HEADER_BYTES + captureLength;
    if (this.count > 0 && this.used + recordBytes > this.buffer.length) this.flush();
    if (recordBytes > this.buffer.length) {
      // Only when snap_length exceeds batch_bytes: the record gets a batch of its own size.
      this.buffer = new Uint8Array(recordBytes);
      this.view = new DataView(this.buffer.buffer);
    }
    if (this.count === 0) {
      this.firstPacketAt = Date.now();
      this.timer = setTimeout(() => this.flush(), this.options.batchIntervalMs);
    }
    const at = this.used;
    this.view.setUint32(at, header.readUInt32LE(0), true);
    this.view.setUint32(at + 4, header.readUInt32LE(4), true);
    this.view.setUint32(at + 8, captureLength, true);
    this.view.setUint32(at + 12, header.readUInt32LE(12), true);
    this.buffer.set(data.subarray(0, captureLength), at + RECORD_HEADER_BYTES);
    this.used += recordBytes;
    this.count++;
    this.counts.packets++;
    if (this.used >= this.options.batchBytes) this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    this.ready.push({
      linkType: this.linkType,
      fracPerSecond: 1_000_000,
      bytes: this.buffer,
      byteLength: this.used,
      count: this.count,
      source: `interface ${this.options.interface}`,
      firstRecordOffset: 0,
    });
    this.counts.batches++;
    // The batch keeps its buffer, because the consumer reads it later.
    this.buffer = new Uint8Array(this.options.batchBytes);
    this.view = new DataView(this.buffer.buffer);
    this.used = 0;
    this.count = 0;
    this.wake?.();
  }

  // Age in milliseconds of the oldest packet not yet handed on, 0 when none.
  get pendingAgeMs(): number {
    return this.count === 0 ? 0 : Date.now() - this.firstPacketAt;
  }

  // Batches as they fill, until close().
  async *batches(): AsyncGenerator<PacketBatch> {
    for (;;) {
      const batch = this.ready.shift();
      if (batch) {
        yield batch;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }

  stats(): LiveCaptureStats {
    if (!this.closed) {
      const raw = this.session.stats();
      this.lastStats = { received: raw.ps_recv, dropped: raw.ps_drop, interfaceDropped: raw.ps_ifdrop };
    }
    return { ...this.lastStats, ...this.counts };
  }

  // Stops capturing; the pending batch is still handed on.
  // NOTE: after close() the process cannot exit by itself until a packet
  // that passes the filter arrives. In node-pcap 3.1, close() only calls
  // pcap_breakloop(); the uv_poll_t on the capture socket stays started and
  // referenced, and the socket open, until the next dispatch finds the break
  // flag set and calls pcap_close(). That dispatch runs only when the socket becomes
  // readable. Calling dispatch() once more right after close() does not help:
  // in non-blocking mode libpcap 1.10.3 returns 0 on an empty ring without
  // looking at the break flag. The poll handle is native, so neither
  // process._getActiveHandles() nor process.getActiveResourcesInfo() lists it.
  // The agent therefore exits on a bounded timer (exitSoon in cli/agent.ts).
  close(): void {
    if (this.closed) return;
    this.stats();
    this.flush();
    this.closed = true;
    this.session.close();
    this.wake?.();
  }
}
