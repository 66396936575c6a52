// The local control interface of a running agent: HTTP/1.1 on a Unix socket,
// so that only users with access to the socket file (root and the agent's
// group) can ask. Read-only: every route is a GET that returns JSON, except
// /v1/alerts?follow=1, which streams NDJSON until the client disconnects.
//
//   GET /v1/status                          capture, rates, drops, broker, learning
//   GET /v1/alerts?since=ISO&after=N&limit=N alerts kept by the agent, oldest first
//   GET /v1/alerts?follow=1&...             the same, then new alerts as they come
//   GET /v1/assets                          hosts, ports, protocols, Modbus unit ids
//   GET /v1/files                           files seen in SMB records
//   GET /v1/inventory                       OT devices, roles, polling periods, identities
import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { dirname } from "node:path";
import type { Logger } from "../log.js";
import type { BoundedAlerts, Inventory } from "./inventory.js";

export interface ControlSources {
  status: () => unknown;
  alerts: BoundedAlerts;
  inventory: Inventory;
  // The OT inventory with its profile bindings; without it the route
  // returns the inventory's own snapshot.
  otInventory?: () => unknown;
}

export class ControlServer {
  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
    // The socket's folder when this server created it; the agent hands it
    // to its unprivileged user so that the socket can be removed at shutdown.
    readonly createdFolder: string | undefined,
    private readonly logger: Logger,
  ) {}

  // Listens on `socketPath`. A stale socket file left by a crashed agent is
  // removed, but a socket where another agent still listens is an error.
  static async listen(socketPath: string, sources: ControlSources, logger: Logger): Promise<ControlServer> {
    const folder = dirname(socketPath);
    const createdFolder = existsSync(folder) ? undefined : folder;
    mkdirSync(folder, { recursive: true, mode: 0o750 });
    if (existsSync(socketPath)) {
      if (await answers(socketPath)) {
        throw new Error(`control socket ${socketPath} is in use by another running agent; stop it first or set control.socket to another path`);
      }
      unlinkSync(socketPath);
    }
    const server = createServer((request, response) => handle(request, response, sources, logger));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    chmodSync(socketPath, 0o660);
    logger.info({ socket: socketPath }, "control interface listening");
    return new ControlServer(server, socketPath, createdFolder, logger);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Node removes the socket file when the server closes; this covers the
    // case where it could not.
    if (!existsSync(this.socketPath)) return;
    try {
      unlinkSync(this.socketPath);
    } catch (error) {
      // After a privilege drop the socket's folder may no longer be writable.
      this.logger.warn({ socket: this.socketPath, err: (error as Error).message }, "control socket not removed");
    }
  }
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });
}

function handle(request: IncomingMessage, response: ServerResponse, sources: ControlSources, logger: Logger): void {
  // A target such as "//" is no path relative to the base: answer 400
  // instead of letting the URL parser's error end the agent.
  let url: URL;
  try {
    url = new URL(request.url ?? "/", "http://agent");
  } catch {
    logger.warn({ target: request.url }, "control request with an invalid target");
    sendJson(response, 400, { error: `invalid request target ${JSON.stringify(request.url)}; ask for a path such as /v1/status` });
    return;
  }
  if (request.method !== "GET") {
    sendJson(response, 405, { error: `method ${request.method} not allowed; the control interface is read-only (GET)` });
    return;
  }
  try {
    switch (url.pathname) {
      case "/v1/status":
        sendJson(response, 200, sources.status());
        return;
      case "/v1/assets":
        sendJson(response, 200, { assets: sources.inventory.listAssets(), dropped: sources.inventory.assetsDropped });
        return;
      case "/v1/files":
        sendJson(response, 200, { files: sources.inventory.listFiles(), dropped: sources.inventory.filesDropped });
        return;
      case "/v1/inventory":
        sendJson(response, 200, sources.otInventory ? sources.otInventory() : sources.inventory.ot.snapshot());
        return;
      case "/v1/alerts":
        serveAlerts(url, response, sources.alerts);
        return;
      default:
        sendJson(response, 404, { error: `no route ${url.pathname}; routes are /v1/status, /v1/alerts, /v1/assets, /v1/files, /v1/inventory` });
    }
  } catch (error) {
    if (error instanceof QueryError) {
      sendJson(response, 400, { error: error.message });
      return;
    }
    logger.error({ route: url.pathname, err: (error as Error).message }, "control request failed");
    sendJson(response, 500, { error: (error as Error).message });
  }
}

class QueryError extends Error {}

function serveAlerts(url: URL, response: ServerResponse, alerts: BoundedAlerts): void {
  const sinceText = url.searchParams.get("since");
  const since = sinceText !== null ? new Date(sinceText) : undefined;
  if (since && Number.isNaN(since.getTime())) throw new QueryError(`invalid since "${sinceText}": expected an ISO 8601 time such as 2026-01-31T08:00:00Z`);
  const afterSeq = integerParameter(url, "after");
  const limit = integerParameter(url, "limit");
  const existing = alerts.list({ afterSeq, since, limit });
  if (url.searchParams.get("follow") !== "1") {
    sendJson(response, 200, { alerts: existing, kept: alerts.size, total: alerts.total, dropped: alerts.dropped });
    return;
  }
  response.writeHead(200, { "content-type": "application/x-ndjson" });
  for (const item of existing) response.write(JSON.stringify(item) + "\n");
  const unsubscribe = alerts.subscribe((item) => {
    if (since && Date.parse(item.alert.ts) < since.getTime()) return;
    response.write(JSON.stringify(item) + "\n");
  });
  response.on("close", unsubscribe);
}

function integerParameter(url: URL, name: string): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null) return undefined;
  if (!/^[0-9]{1,15}$/.test(text)) throw new QueryError(`invalid ${name} "${text}": expected a whole number`);
  return Number(text);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
