// A tiny Modbus/TCP server and client on node:net, for live-capture tests on
// the loopback interface. Built from Modbus Application Protocol V1.1b3 and
// the Modbus/TCP implementation guide: MBAP header (transaction id, protocol
// id 0, length, unit id), then the PDU.
//
//   0      2      4      6     7
//   +------+------+------+-----+----------------+
//   | tid  | pid  | len  | uid | function | data |
//   +------+------+------+-----+----------------+
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

export interface ModbusServer {
  host: string;
  port: number;
  requests: number;
  close(): Promise<void>;
}

// Identification objects of the test device (FC 43/14), by object id.
export const DEVICE_OBJECTS: Record<number, string> = {
  0: "Fieldsense Test", 1: "FS-PLC-1", 2: "V2.4", 3: "https://plc.example",
  4: "Test PLC", 5: "Model 1", 6: "loopback", 0x80: "extended-a", 0x81: "extended-b",
};

// Serves every unit id: FC 3 returns zeros, FC 6 echoes the request (the
// normal response in the specification), FC 43/14 returns DEVICE_OBJECTS
// with at most `objectsPerResponse` objects per response ("more follows"),
// other codes get exception 1 (illegal function). Port 0 picks a free port.
export async function startModbusServer(host: string, port = 502, objectsPerResponse = 3): Promise<ModbusServer> {
  const sockets = new Set<Socket>();
  const state = { requests: 0 };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 7) {
        const length = pending.readUInt16BE(4);
        if (pending.length < 6 + length) break;
        const adu = pending.subarray(0, 6 + length);
        pending = pending.subarray(6 + length);
        state.requests++;
        socket.write(respond(adu, objectsPerResponse));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    host,
    port: (server.address() as AddressInfo).port,
    get requests() { return state.requests; },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

function respond(request: Buffer, objectsPerResponse: number): Buffer {
  const functionCode = request[7];
  let pdu: Buffer;
  if (functionCode === 0x2b && request[8] === 0x0e) {
    pdu = identification(request[9], request[10], objectsPerResponse);
  } else if (functionCode === 3) {
    const quantity = Math.min(125, request.readUInt16BE(10));
    pdu = Buffer.alloc(2 + quantity * 2);
    pdu[0] = 3;
    pdu[1] = quantity * 2;
  } else if (functionCode === 6) {
    pdu = Buffer.from(request.subarray(7, 12));
  } else {
    pdu = Buffer.from([functionCode | 0x80, 1]);
  }
  const header = Buffer.alloc(7);
  header.writeUInt16BE(request.readUInt16BE(0), 0);
  header.writeUInt16BE(0, 2);
  header.writeUInt16BE(pdu.length + 1, 4);
  header[6] = request[6];
  return Buffer.concat([header, pdu]);
}

// Read Device Identification response (Modbus Application Protocol V1.1b3
// section 6.21): code 1 basic (objects 0-2), 2 regular (0-6), 3 extended (all).
function identification(code: number, firstObject: number, objectsPerResponse: number): Buffer {
  const lastObject: Record<number, number> = { 1: 2, 2: 6 };
  const last = lastObject[code] ?? 0xff;
  const ids = Object.keys(DEVICE_OBJECTS).map(Number).filter((id) => id >= firstObject && id <= last);
  const page = ids.slice(0, objectsPerResponse);
  const more = ids.length > page.length;
  const parts = [Buffer.from([0x2b, 0x0e, code, 0x83, more ? 0xff : 0, more ? ids[page.length] : 0, page.length])];
  for (const id of page) {
    const value = Buffer.from(DEVICE_OBJECTS[id], "ascii");
    parts.push(Buffer.from([id, value.length]), value);
  }
  return Buffer.concat(parts);
}

export class ModbusClient {
  private transactionId = 0;
  private pending = Buffer.alloc(0);
  private waiter: ((response: Buffer) => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      if (this.pending.length >= 6 && this.pending.length >= 6 + this.pending.readUInt16BE(4)) {
        const response = this.pending.subarray(0, 6 + this.pending.readUInt16BE(4));
        this.pending = this.pending.subarray(response.length);
        this.waiter?.(response);
      }
    });
  }

  // Connects from `localAddress` (another loopback address makes a second host).
  static connect(host: string, port: number, localAddress: string): Promise<ModbusClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, localAddress }, () => resolve(new ModbusClient(socket)));
      socket.once("error", reject);
    });
  }

  readHoldingRegisters(unitId: number, start: number, quantity: number): Promise<Buffer> {
    const pdu = Buffer.alloc(5);
    pdu[0] = 3;
    pdu.writeUInt16BE(start, 1);
    pdu.writeUInt16BE(quantity, 3);
    return this.request(unitId, pdu);
  }

  writeSingleRegister(unitId: number, address: number, value: number): Promise<Buffer> {
    const pdu = Buffer.alloc(5);
    pdu[0] = 6;
    pdu.writeUInt16BE(address, 1);
    pdu.writeUInt16BE(value, 3);
    return this.request(unitId, pdu);
  }

  private request(unitId: number, pdu: Buffer): Promise<Buffer> {
    this.transactionId = (this.transactionId + 1) & 0xffff;
    const header = Buffer.alloc(7);
    header.writeUInt16BE(this.transactionId, 0);
    header.writeUInt16BE(pdu.length + 1, 4);
    header[6] = unitId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Modbus request ${this.transactionId} timed out`)), 5000);
      this.waiter = (response) => {
        clearTimeout(timer);
        resolve(response);
      };
      this.socket.write(Buffer.concat([header, pdu]));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.end(() => resolve()));
  }
}
