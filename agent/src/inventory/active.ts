// Opt-in active identification by the agent: only the hosts that the
// configuration key `identify.hosts` names are asked, one device at a time,
// with the same bounded, read-only requests as `fieldsense modbus identify`
// (FC 43/14, falling back to FC 17). Results feed the inventory, and with it
// the firmware-profile bindings.
import { identify, type Identification } from "../cli/modbus-identify.js";
import type { Logger } from "../log.js";
import type { ActiveIdentity, InventorySession } from "./session.js";

export interface IdentifyTarget { host: string; port: number; unitId: number }

// Request spacing and timeout per device, as the CLI's defaults.
const REQUEST_INTERVAL_MS = 500;
const REQUEST_TIMEOUT_MS = 3000;
// Pause between two devices of one round.
const DEVICE_PAUSE_MS = 1000;
// Read device identification code 2: the regular objects.
const REGULAR_LEVEL = 2;

export function identityOf(result: Identification): ActiveIdentity {
  const entry: ActiveIdentity = { ip: result.host, unit_id: result.unit_id, seen: new Date().toISOString(), method: result.method };
  for (const name of ["vendor_name", "product_code", "revision", "product_name"] as const) {
    if (result.objects[name] !== undefined) entry[name] = result.objects[name];
  }
  if (result.server_id !== undefined) entry.server_id = result.server_id;
  if (result.run_indicator !== undefined) entry.run_indicator = result.run_indicator;
  return entry;
}

export class ActiveIdentifier {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private round: Promise<void> | undefined;

  constructor(
    private readonly targets: IdentifyTarget[],
    private readonly intervalSec: number,
    private readonly session: InventorySession,
    private readonly logger: Logger,
  ) {}

  // Runs a round now and then every intervalSec seconds, until stop().
  start(): void {
    this.round = this.runRound();
    this.timer = setInterval(() => {
      if (!this.round) this.round = this.runRound();
    }, this.intervalSec * 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.round;
  }

  // Asks each target once; a device that fails is logged and skipped.
  async runRound(): Promise<void> {
    try {
      for (const target of this.targets) {
        if (this.stopped) return;
        const where = { host: target.host, port: target.port, unitId: target.unitId };
        try {
          const result = await identify({ ...where, level: REGULAR_LEVEL, intervalMs: REQUEST_INTERVAL_MS, timeoutMs: REQUEST_TIMEOUT_MS });
          this.session.addActiveIdentities([identityOf(result)]);
          this.logger.info({ ...where, method: result.method, requests: result.requests }, "device identified");
        } catch (error) {
          this.logger.warn({ ...where, err: (error as Error).message }, "active identification failed; the next round tries again");
        }
        await new Promise((resolve) => setTimeout(resolve, DEVICE_PAUSE_MS));
      }
    } finally {
      this.round = undefined;
    }
  }
}
