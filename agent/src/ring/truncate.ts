// Truncate rules of the packet ring: flows whose payload the ring keeps only
// the headers of, such as a historian's bulk polling, so that the ring spends
// its bytes on traffic an analyst may need in full.
//
//   truncate:
//     - host: 10.20.0.5          # one address, either end of the flow
//     - host: 10.30.0.0/16       # a network (IPv4 or IPv6 prefix)
//       port: 502                # and this port at either end
import { isIP } from "node:net";
import type { Endpoint } from "./flow-key.js";

export interface TruncateRule {
  host?: string;
  port?: number;
}

interface Prefix { bytes: Uint8Array; bits: number }

function addressBytes(ip: string): Uint8Array | undefined {
  const version = isIP(ip);
  if (version === 4) return Uint8Array.from(ip.split(".").map(Number));
  if (version !== 6) return undefined;
  // Expand "::" and an embedded IPv4 tail into eight groups.
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split(".").map(Number);
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); bytes[2 * i] = v >> 8; bytes[2 * i + 1] = v & 0xff; });
  return bytes;
}

function parsePrefix(text: string, where: string): Prefix {
  const [address, length] = text.split("/");
  const bytes = addressBytes(address);
  if (!bytes) throw new RangeError(`invalid ${where}: host "${text}" is not an IP address or ADDRESS/PREFIX network; write 10.20.0.5 or 10.30.0.0/16`);
  const maxBits = bytes.length * 8;
  const bits = length === undefined ? maxBits : Number(length);
  if (!Number.isInteger(bits) || bits < 0 || bits > maxBits || (length !== undefined && !/^\d+$/.test(length))) {
    throw new RangeError(`invalid ${where}: prefix length "${length}" of "${text}" must be a whole number from 0 to ${maxBits}`);
  }
  return { bytes, bits };
}

function inPrefix(prefix: Prefix, ip: string): boolean {
  const bytes = addressBytes(ip);
  if (!bytes || bytes.length !== prefix.bytes.length) return false;
  let bits = prefix.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (prefix.bytes[i] & mask)) return false;
  }
  return true;
}

// Checks the rules and returns a test of whether a flow between two
// endpoints is truncated. Throws a RangeError naming the rule and the fix.
export function compileTruncateRules(rules: TruncateRule[], where: string): (a: Endpoint, b: Endpoint) => boolean {
  const compiled = rules.map((rule, i) => {
    const place = `${where}[${i}]`;
    if (rule.host === undefined && rule.port === undefined) throw new RangeError(`invalid ${place}: give a host, a port or both`);
    if (rule.port !== undefined && (!Number.isInteger(rule.port) || rule.port < 0 || rule.port > 65535)) {
      throw new RangeError(`invalid ${place}: port ${rule.port} must be a whole number from 0 to 65535`);
    }
    return { prefix: rule.host === undefined ? undefined : parsePrefix(rule.host, place), port: rule.port };
  });
  return (a, b) => compiled.some(({ prefix, port }) =>
    (prefix === undefined || inPrefix(prefix, a.ip) || inPrefix(prefix, b.ip)) &&
    (port === undefined || a.port === port || b.port === port));
}
