// Endpoints learnt from the endpoint mapper: an ept_map response on TCP 135
// names the dynamic TCP port where an interface listens. The table remembers
// (server address, port) -> interface so that a later connection to that port
// is recognised even when its bind was not captured.
//
// Specifications: C706 appendix L (ept_map, opnum 3, and the protocol tower
// twr_t) and [MS-RPCE] 2.2.1.2 (protocol identifiers of the tower floors).
//
// ept_map response stub (NDR, C706 14.3):
//
//   entry_handle     context handle, 20 bytes
//   num_towers       u32
//   ITowers          conformant varying array of twr_p_t: max_count u32,
//                    offset u32, actual_count u32, then actual_count
//                    referent ids u32; the twr_t referents follow in order
//   status           u32 (after the referents)
//
//   twr_t:  max_count u32 | tower_length u32 | tower_octet_string, aligned to 4
//
// Tower octet string (C706 appendix L, little-endian):
//
//   floor_count u16, then per floor:
//   +------------+------------------------+------------+-----------------+
//   | lhs length | lhs: protocol id, data | rhs length | rhs: address    |
//   |    u16     |      lhs length bytes  |    u16     | rhs length bytes|
//   +------------+------------------------+------------+-----------------+
//   floor 1 lhs: 0x0d, interface UUID (16), major version u16
//   TCP floor lhs 0x07, rhs: port u16 big-endian
//   IP floor  lhs 0x09, rhs: IPv4 address, 4 bytes

import { fits } from "../api";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { DcerpcAnomaly } from "./fields";

// Endpoints kept, for the whole core. A Windows server registers a few dozen
// dynamic endpoints; a site with many servers overwrites the oldest entries,
// counted as `dcerpc.endpoint_table_full`.
@inline export const ENDPOINT_TABLE_MAX: u32 = 256;
// Entry: address (16, as in the packet context) | port u16 | reserved u16 |
// UUID (16, little-endian fields) | sequence u32.
@inline const ENDPOINT_ENTRY_BYTES: u32 = 40;
// Towers read from one ept_map response; a client asks for at most a few.
@inline const TOWERS_MAX: u32 = 8;
// Floors read from one tower; TCP/IP towers have 5.
@inline const FLOORS_MAX: u32 = 8;

@inline const PROTOCOL_UUID: u8 = 0x0d;
@inline const PROTOCOL_TCP: u8 = 0x07;
@inline const PROTOCOL_IP: u8 = 0x09;

const table = memory.data(<i32>(ENDPOINT_TABLE_MAX * ENDPOINT_ENTRY_BYTES));
let entryCount: u32 = 0;
let sequence: u32 = 0;

// Returns the UUID (16 bytes, little-endian fields) registered for
// `address`:`port`, or 0 when the port was never seen in an ept_map response.
export function lookupEndpoint(address: usize, port: u16): usize {
  for (let i: u32 = 0; i < entryCount; i++) {
    const entry = table + <usize>(i * ENDPOINT_ENTRY_BYTES);
    if (load<u16>(entry, 16) == port && memory.compare(entry, address, 16) == 0) return entry + 20;
  }
  return 0;
}

// Stores an endpoint, replacing the entry of the same address and port, or
// the oldest entry once the table is full.
function rememberEndpoint(address: usize, port: u16, uuid: usize): void {
  let entry: usize = 0;
  let oldest: usize = 0;
  for (let i: u32 = 0; i < entryCount; i++) {
    const candidate = table + <usize>(i * ENDPOINT_ENTRY_BYTES);
    if (load<u16>(candidate, 16) == port && memory.compare(candidate, address, 16) == 0) {
      entry = candidate;
      break;
    }
    if (oldest == 0 || load<u32>(candidate, 36) - load<u32>(oldest, 36) > 0x80000000) oldest = candidate;
  }
  if (entry == 0) {
    if (entryCount < ENDPOINT_TABLE_MAX) {
      entry = table + <usize>(entryCount * ENDPOINT_ENTRY_BYTES);
      entryCount++;
    } else {
      countAnomaly(DcerpcAnomaly.ENDPOINT_TABLE_FULL);
      entry = oldest;
    }
  }
  memory.copy(entry, address, 16);
  store<u16>(entry, port, 16);
  store<u16>(entry, 0, 18);
  memory.copy(entry + 20, uuid, 16);
  store<u32>(entry, sequence, 36);
  sequence++;
}

// Scratch for the IPv4 address of a tower in the packet context's layout.
const towerAddress = memory.data(16);

// Reads the towers of an ept_map response stub (little-endian NDR) and
// remembers each TCP endpoint. `server` is the address of the endpoint
// mapper, used when a tower carries no IP floor or 0.0.0.0.
export function readEptMapResponse(stub: usize, length: u32, server: usize): void {
  // entry_handle (20) and num_towers (4), then the array header.
  if (!fits(length, 24, 12)) {
    countAnomaly(DcerpcAnomaly.TOWER_MALFORMED);
    return;
  }
  const actualCount = load<u32>(stub + 32);
  let at: u32 = 36;
  // Referent ids; null ones have no tower after them.
  let towers: u32 = 0;
  const count = actualCount < TOWERS_MAX ? actualCount : TOWERS_MAX;
  for (let i: u32 = 0; i < count; i++) {
    if (!fits(length, at + i * 4, 4)) {
      countAnomaly(DcerpcAnomaly.TOWER_MALFORMED);
      return;
    }
    if (load<u32>(stub + <usize>(at + i * 4)) != 0) towers++;
  }
  if (actualCount > TOWERS_MAX) return;
  at += actualCount * 4;
  for (let i: u32 = 0; i < towers; i++) {
    if (!fits(length, at, 8)) {
      countAnomaly(DcerpcAnomaly.TOWER_MALFORMED);
      return;
    }
    const towerLength = load<u32>(stub + <usize>(at + 4));
    at += 8;
    if (!fits(length, at, towerLength)) {
      countAnomaly(DcerpcAnomaly.TOWER_MALFORMED);
      return;
    }
    readTower(stub + <usize>at, towerLength, server);
    at = (at + towerLength + 3) & ~3;
  }
}

// Remembers the endpoint of one tower when it has a UUID floor and a TCP floor.
function readTower(tower: usize, length: u32, server: usize): void {
  if (length < 2) return;
  const floors = <u32>load<u16>(tower);
  let at: u32 = 2;
  let uuid: usize = 0;
  let port: u32 = 0;
  let hasPort = false;
  let hasAddress = false;
  for (let i: u32 = 0; i < floors && i < FLOORS_MAX; i++) {
    if (!fits(length, at, 2)) break;
    const lhsLength = <u32>load<u16>(tower + <usize>at);
    if (lhsLength == 0 || !fits(length, at + 2, lhsLength + 2)) break;
    const lhs = tower + <usize>(at + 2);
    const rhsLength = <u32>load<u16>(lhs + <usize>lhsLength);
    const rhs = lhs + <usize>lhsLength + 2;
    if (!fits(length, at + 4 + lhsLength, rhsLength)) break;
    const protocol = load<u8>(lhs);
    // Only the first floor names the interface; later UUID floors are transfer syntaxes.
    if (i == 0 && protocol == PROTOCOL_UUID && lhsLength >= 17) uuid = lhs + 1;
    if (protocol == PROTOCOL_TCP && rhsLength == 2) {
      port = (<u32>load<u8>(rhs) << 8) | <u32>load<u8>(rhs, 1);
      hasPort = true;
    }
    if (protocol == PROTOCOL_IP && rhsLength == 4 && load<u32>(rhs) != 0) {
      memory.fill(towerAddress, 0, 16);
      memory.copy(towerAddress, rhs, 4);
      hasAddress = true;
    }
    at += 4 + lhsLength + rhsLength;
  }
  if (uuid == 0 || !hasPort || port == 0) return;
  rememberEndpoint(hasAddress ? towerAddress : server, <u16>port, uuid);
}
