// `fieldsense modbus identify HOST`: active, read-only identification of one
// Modbus/TCP device with Read Device Identification (function code 43, MEI
// type 14), from Modbus Application Protocol V1.1b3 section 6.21, and Report
// Server ID (function code 17, section 6.13) when the device responds to
// FC 43 with exception 1 (illegal function). It is the only command that sends to
// a plant device, so it runs only when asked, sends nothing but those two
// read requests, one at a time and at most one per --interval-ms, and stops
// after MAX_REQUESTS requests.
//
// It uses node:net, not modbus-serial (8.0.25): that client follows "more
// follows" on its own, with no pause between requests and no bound on their
// number, which a read-only tool aimed at plant devices cannot accept.
//
//   request PDU:  0x2B | 0x0E | read device id code | object id
//   response PDU: 0x2B | 0x0E | read device id code | conformity level |
//                 more follows | next object id | number of objects |
//                 { object id | object length | object value } ...
//   exception:    0xAB | exception code
//   FC 17:        request 0x11; response 0x11 | byte count | server id
//                 (device specific) | run indicator (0x00 off, 0xFF on) |
//                 additional data
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { identityOf } from "../inventory/active.js";
import type { ActiveIdentity } from "../inventory/session.js";
import { connect, isIP, type Socket } from "node:net";
import { parseCommand, positiveInteger, UsageError, type Output } from "./args.js";
import { serverIdText } from "./assets.js";
import { MODBUS_HELP } from "./help.js";

// HOST:PORT, with an IPv6 address in brackets ([::1]:502) as in URLs.
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

const CONNECT_ERROR_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
  EADDRNOTAVAIL: "address not available",
};

function requestCount(requests: number): string {
  return `${requests} ${requests === 1 ? "request" : "requests"}`;
}

const FUNCTION_CODE = 0x2b;
const REPORT_SERVER_ID = 0x11;
const ILLEGAL_FUNCTION = 1;
const MEI_READ_DEVICE_ID = 0x0e;
// Section 6.21: 1 basic, 2 regular, 3 extended (stream access).
const LEVELS: Record<string, number> = { basic: 1, regular: 2, extended: 3 };
// Section 6.21 object ids 0x00-0x06; 0x80-0xFF are vendor objects.
const OBJECT_NAMES: Record<number, string> = {
  0: "vendor_name", 1: "product_code", 2: "revision", 3: "vendor_url",
  4: "product_name", 5: "model_name", 6: "user_application_name",
};
// Exception codes of section 7.
const EXCEPTIONS: Record<number, string> = {
  1: "illegal function (the device does not support FC 43/14)",
  2: "illegal data address (object id unknown)",
  3: "illegal data value (read device id code not supported)",
  4: "server device failure",
  0x0b: "gateway target device failed to respond",
};
// Requests per identification: a device sets "more follows" while its
// objects do not fit one response, so this bounds a device that never stops.
const MAX_REQUESTS = 16;
const MBAP_BYTES = 7;
const MAX_ADU_BYTES = 260;
const DEFAULT_INTERVAL_MS = 500;
const MIN_INTERVAL_MS = 100;
const DEFAULT_TIMEOUT_MS = 3000;

export interface Identification {
  host: string;
  port: number;
  unit_id: number;
  // "fc43" (Read Device Identification) or "fc17" (Report Server ID, after
  // the device rejected FC 43 as an illegal function).
  method: "fc43" | "fc17";
  conformity_level: number;
  objects: Record<string, string>;
  // FC 17 only: the server id bytes as hex, and the run indicator.
  server_id?: string;
  run_indicator?: boolean;
  requests: number;
}

export class ModbusIdentifyError extends Error {
  readonly code = "FIELDSENSE_MODBUS_IDENTIFY";
}

export async function modbusCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("modbus", argv, {
    unit: { type: "string" },
    level: { type: "string" },
    "interval-ms": { type: "string" },
    "timeout-ms": { type: "string" },
    "update-inventory": { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) {
    output.stdout(MODBUS_HELP);
    return 0;
  }
  const [action, target, ...extra] = positionals;
  if (action !== "identify") {
    throw new UsageError(action === undefined
      ? 'missing action for "fieldsense modbus"; use "fieldsense modbus identify HOST[:PORT]"'
      : `unknown action "${action}" for "fieldsense modbus"; the only action is identify`);
  }
  if (target === undefined) throw new UsageError('missing HOST for "fieldsense modbus identify"; give the device address, e.g. 10.10.2.10 or 10.10.2.10:502');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" for "fieldsense modbus identify"`);
  const { host, port } = parseTarget(target);
  const unitId = values.unit !== undefined ? unitIdOption(values.unit as string) : 255;
  const levelName = (values.level as string | undefined) ?? "regular";
  const level = LEVELS[levelName];
  if (level === undefined) throw new UsageError(`invalid --level "${levelName}": use basic, regular or extended`);
  const intervalMs = values["interval-ms"] !== undefined ? positiveInteger("--interval-ms", values["interval-ms"] as string) : DEFAULT_INTERVAL_MS;
  if (intervalMs < MIN_INTERVAL_MS) throw new UsageError(`invalid --interval-ms ${intervalMs}: at least ${MIN_INTERVAL_MS} ms between requests, so that a plant device is never flooded`);
  const timeoutMs = values["timeout-ms"] !== undefined ? positiveInteger("--timeout-ms", values["timeout-ms"] as string) : DEFAULT_TIMEOUT_MS;

  const result = await identify({ host, port, unitId, level, intervalMs, timeoutMs });
  if (typeof values["update-inventory"] === "string") updateIdentityFile(values["update-inventory"], result);
  if (values.json) {
    output.stdout(JSON.stringify(result, null, 2) + "\n");
    return 0;
  }
  if (result.method === "fc17") {
    output.stdout(`${hostPort(host, port)} unit ${unitId} (Report Server ID after FC 43 was rejected, ${requestCount(result.requests)})\n`);
    output.stdout(`  ${"server_id".padEnd(22)} ${serverIdText(result.server_id)}\n  ${"run_indicator".padEnd(22)} ${result.run_indicator ? "on" : "off"}\n`);
  } else {
    output.stdout(`${hostPort(host, port)} unit ${unitId} (conformity level 0x${result.conformity_level.toString(16).padStart(2, "0")}, ${requestCount(result.requests)})\n`);
  }
  for (const [name, value] of Object.entries(result.objects)) output.stdout(`  ${name.padEnd(22)} ${value}\n`);
  return 0;
}

function parseTarget(target: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(target);
  const match = bracketed ?? (isIP(target) === 6 ? [target, target, undefined] : plain);
  if (!match) throw new UsageError(`invalid target "${target}": give HOST or HOST:PORT, with an IPv6 address in brackets ([fd00::5]:502)`);
  const port = match[2] !== undefined ? Number(match[2]) : 502;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`invalid port in "${target}": use 1 to 65535`);
  return { host: match[1]!, port };
}

function unitIdOption(value: string): number {
  const unit = Number(value);
  if (!/^[0-9]{1,3}$/.test(value) || unit > 255) throw new UsageError(`invalid --unit "${value}": use a unit id from 0 to 255`);
  return unit;
}

// Reads the device's identification objects, following "more follows" up to
// MAX_REQUESTS requests, spaced by `intervalMs`. A device that rejects FC 43
// as an illegal function is asked once with FC 17 instead.
export async function identify(options: { host: string; port: number; unitId: number; level: number; intervalMs: number; timeoutMs: number }): Promise<Identification> {
  const link = await ModbusLink.open(options.host, options.port, options.timeoutMs);
  try {
    const result: Identification = { host: options.host, port: options.port, unit_id: options.unitId, method: "fc43", conformity_level: 0, objects: {}, requests: 0 };
    let objectId = 0;
    for (;;) {
      if (result.requests > 0) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
      result.requests++;
      const pdu = await link.request(options.unitId, Buffer.from([FUNCTION_CODE, MEI_READ_DEVICE_ID, options.level, objectId]));
      if (result.requests === 1 && pdu[0] === (FUNCTION_CODE | 0x80) && pdu[1] === ILLEGAL_FUNCTION) {
        await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
        result.requests++;
        return { ...result, method: "fc17", ...parseServerId(await link.request(options.unitId, Buffer.from([REPORT_SERVER_ID])), options) };
      }
      const page = parseResponse(pdu, options);
      result.conformity_level = page.conformityLevel;
      for (const [id, value] of page.objects) result.objects[OBJECT_NAMES[id] ?? `object_0x${id.toString(16).padStart(2, "0")}`] = value;
      if (!page.moreFollows) return result;
      if (result.requests >= MAX_REQUESTS) {
        throw new ModbusIdentifyError(`device ${options.host}:${options.port} unit ${options.unitId} still reports more objects after ${MAX_REQUESTS} requests; stopped (objects so far: ${Object.keys(result.objects).join(", ")})`);
      }
      if (page.nextObjectId <= objectId) {
        throw new ModbusIdentifyError(`device ${options.host}:${options.port} responded with next object id ${page.nextObjectId} after object ${objectId}, which would repeat objects; stopped`);
      }
      objectId = page.nextObjectId;
    }
  } finally {
    link.close();
  }
}

// Parses a Report Server ID response (section 6.13). The server id is
// device specific in length, so the run indicator is taken from the byte
// after the first one, the layout most devices use, and every data byte is
// kept as hex.
export function parseServerId(pdu: Buffer, where: { host: string; port: number }): { server_id: string; run_indicator?: boolean; objects: Record<string, string> } {
  const device = `${where.host}:${where.port}`;
  if (pdu[0] === (REPORT_SERVER_ID | 0x80)) {
    throw new ModbusIdentifyError(`device ${device} rejected FC 43 and FC 17 (exception ${pdu[1]}: ${EXCEPTIONS[pdu[1]] ?? "unknown exception code"}); it offers no identification`);
  }
  if (pdu.length < 3 || pdu[0] !== REPORT_SERVER_ID || pdu[1] + 2 > pdu.length || pdu[1] < 1) {
    throw new ModbusIdentifyError(`invalid FC 17 response from ${device}: ${pdu.length} bytes starting ${pdu.subarray(0, 3).toString("hex")}`);
  }
  const data = pdu.subarray(2, 2 + pdu[1]);
  const result: { server_id: string; run_indicator?: boolean; objects: Record<string, string> } = { server_id: data.toString("hex"), objects: {} };
  if (data.length >= 2 && (data[1] === 0x00 || data[1] === 0xff)) result.run_indicator = data[1] === 0xff;
  const text = [...data.subarray(2)].filter((b) => b >= 0x20 && b < 0x7f).map((b) => String.fromCharCode(b)).join("");
  if (text.length >= 3) result.objects.additional_data = text;
  return result;
}

// Identities learned actively, as `fieldsense assets --identities FILE` and
// `fieldsense profiles match --identities FILE` read them.
export interface IdentityFile { identities: ActiveIdentity[] }

// Adds the identification to FILE (created when missing), replacing an
// earlier entry of the same address and unit id. Written to a temporary file
// and renamed, so a reader never sees half a file.
export function updateIdentityFile(file: string, result: Identification): void {
  const entry = identityOf(result);
  let document: IdentityFile = { identities: [] };
  if (existsSync(file)) {
    try {
      document = JSON.parse(readFileSync(file, "utf8")) as IdentityFile;
    } catch (error) {
      throw new ModbusIdentifyError(`cannot read --update-inventory file ${file}: ${(error as Error).message}; fix or remove it`);
    }
    if (!Array.isArray(document.identities)) throw new ModbusIdentifyError(`--update-inventory file ${file} has no "identities" list; give a file this command wrote, or a new path`);
  }
  document.identities = document.identities.filter((i) => !(i.ip === entry.ip && i.unit_id === entry.unit_id));
  document.identities.push(entry);
  writeFileSync(`${file}.tmp`, JSON.stringify(document, null, 2) + "\n");
  renameSync(`${file}.tmp`, file);
}

interface ResponsePage { conformityLevel: number; moreFollows: boolean; nextObjectId: number; objects: [number, string][] }

export function parseResponse(pdu: Buffer, where: { host: string; port: number }): ResponsePage {
  const device = `${where.host}:${where.port}`;
  if (pdu[0] === (FUNCTION_CODE | 0x80)) {
    const code = pdu[1];
    throw new ModbusIdentifyError(`device ${device} responded with exception ${code}: ${EXCEPTIONS[code] ?? "unknown exception code"}`);
  }
  if (pdu.length < 7 || pdu[0] !== FUNCTION_CODE || pdu[1] !== MEI_READ_DEVICE_ID) {
    throw new ModbusIdentifyError(`invalid response from ${device}: expected FC 43 MEI 14 with at least 7 bytes, got ${pdu.length} bytes starting ${pdu.subarray(0, 2).toString("hex")}`);
  }
  const page: ResponsePage = { conformityLevel: pdu[3], moreFollows: pdu[4] === 0xff, nextObjectId: pdu[5], objects: [] };
  const count = pdu[6];
  let at = 7;
  for (let i = 0; i < count; i++) {
    if (at + 2 > pdu.length || at + 2 + pdu[at + 1] > pdu.length) {
      throw new ModbusIdentifyError(`invalid response from ${device}: object ${i + 1} of ${count} runs past the end of the ${pdu.length}-byte PDU`);
    }
    const length = pdu[at + 1];
    // Object values are ASCII strings (section 6.21); other bytes are shown escaped.
    const value = [...pdu.subarray(at + 2, at + 2 + length)].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
    page.objects.push([pdu[at], value]);
    at += 2 + length;
  }
  return page;
}

// One Modbus/TCP connection with one outstanding request at a time.
class ModbusLink {
  private pending = Buffer.alloc(0);
  private transactionId = 0;
  private waiter: { resolve: (pdu: Buffer) => void; reject: (error: Error) => void } | undefined;

  private constructor(private readonly socket: Socket, private readonly where: string, private readonly timeoutMs: number) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.waiter?.reject(new ModbusIdentifyError(`connection to ${where} failed: ${error.message}`)));
    socket.on("close", () => this.waiter?.reject(new ModbusIdentifyError(`device ${where} closed the connection before answering`)));
  }

  static open(host: string, port: number, timeoutMs: number): Promise<ModbusLink> {
    const where = hostPort(host, port);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ModbusIdentifyError(`connecting to ${where} timed out after ${timeoutMs} ms; check the address and that the device listens on Modbus/TCP`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new ModbusLink(socket, where, timeoutMs));
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        // Node's message repeats the address without brackets ("connect ECONNREFUSED ::1:1").
        const code = (error as NodeJS.ErrnoException).code;
        const reason = code !== undefined ? `${CONNECT_ERROR_WORDS[code] ?? "connection failed"} (${code})` : error.message;
        reject(new ModbusIdentifyError(`cannot connect to ${where}: ${reason}; check the address and that the device listens on Modbus/TCP`));
      });
    });
  }

  request(unitId: number, pdu: Buffer): Promise<Buffer> {
    this.transactionId = (this.transactionId + 1) & 0xffff;
    const header = Buffer.alloc(MBAP_BYTES);
    header.writeUInt16BE(this.transactionId, 0);
    header.writeUInt16BE(0, 2);
    header.writeUInt16BE(pdu.length + 1, 4);
    header[6] = unitId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new ModbusIdentifyError(`device ${this.where} did not respond within ${this.timeoutMs} ms (transaction ${this.transactionId}); check the unit id or raise --timeout-ms`));
      }, this.timeoutMs);
      this.waiter = {
        resolve: (response) => { clearTimeout(timer); this.waiter = undefined; resolve(response); },
        reject: (error) => { clearTimeout(timer); this.waiter = undefined; reject(error); },
      };
      this.socket.write(Buffer.concat([header, pdu]));
    });
  }

  private onData(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= MBAP_BYTES) {
      const length = this.pending.readUInt16BE(4);
      if (length < 2 || 6 + length > MAX_ADU_BYTES) {
        this.waiter?.reject(new ModbusIdentifyError(`invalid MBAP length ${length} from ${this.where}: a Modbus/TCP ADU has 2 to 254 bytes after the length field`));
        this.socket.destroy();
        return;
      }
      if (this.pending.length < 6 + length) return;
      const adu = this.pending.subarray(0, 6 + length);
      this.pending = this.pending.subarray(6 + length);
      // Responses to an earlier, timed-out request carry another transaction id.
      if (adu.readUInt16BE(0) !== this.transactionId) continue;
      this.waiter?.resolve(Buffer.from(adu.subarray(MBAP_BYTES)));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
