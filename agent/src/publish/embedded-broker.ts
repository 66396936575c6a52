// The embedded MQTT broker of the demo and of tests: aedes (MQTT 3.1.1 only)
// on 127.0.0.1, on a port the system picks, never the well-known 1883.
import { createServer, type AddressInfo, type Server } from "node:net";
import { Aedes } from "aedes";

// The MQTT version clients of the embedded broker use. aedes rejects an MQTT 5
// CONNECT, so asking for 3.1.1 at once spares a rejected attempt and its log line.
export const EMBEDDED_BROKER_MQTT_VERSION = 4;

export interface EmbeddedBroker {
  port: number;
  close(): Promise<void>;
}

// Starts aedes on 127.0.0.1 on a port the system picks.
export async function startBroker(): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    // aedes closes its client connections first; the server's close callback
    // waits for every connection to end.
    close: () => new Promise<void>((resolve) => {
      aedes.close(() => server.close(() => resolve()));
    }),
  };
}
