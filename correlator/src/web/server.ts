// The web console: a node:http server over the correlator's store. It binds
// to 127.0.0.1 by default and will not start on any other address unless a
// password hash is configured, because every page shows captured traffic.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../../agent/src/log.js";
import { silentLogger } from "../../../agent/src/log.js";
import { renderIncidentReport } from "../report.js";
import { search, searchDatabaseOf } from "../search/run.js";
import { SearchSyntaxError } from "../search/syntax.js";
import type { Store } from "../store.js";
import { consoleData, type ConsoleData } from "./adapter.js";
import {
  checkPasswordHash, clearedSessionCookie, cookieValue, isLoopbackHost, LoginThrottle, SESSION_COOKIE, sessionCookie, Sessions,
  verifyConsolePassword,
} from "./auth.js";
import { devicePage, EVIDENCE_MAX_ALERTS, incidentListPage, incidentPage, loginPage, messagePage, searchPage, type PageContext } from "./pages.js";

export const DEFAULT_CONSOLE_HOST = "127.0.0.1";
// Hits the search page shows, and alerts and records a device page reads.
const SEARCH_PAGE_LIMIT = 200;
const DEVICE_HIT_LIMIT = 2000;
// Largest request body accepted (the login form).
const MAX_BODY_BYTES = 4096;

export interface ConsoleOptions {
  port: number;
  host?: string;
  // scrypt hash from hashConsolePassword; required beyond loopback.
  passwordHash?: string;
  // Ask for the password on loopback too (needs passwordHash).
  requireLogin?: boolean;
  logger?: Logger;
}

export class ConsoleError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = "ConsoleError";
  }
}

// Checks options before anything starts; throws ConsoleError naming the fix.
export function checkConsoleOptions(options: ConsoleOptions): void {
  const host = options.host ?? DEFAULT_CONSOLE_HOST;
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new ConsoleError(`invalid console port ${options.port}: give a whole number from 0 to 65535 (0 picks a free port)`, "CONSOLE_PORT");
  }
  if (options.passwordHash !== undefined) {
    const problem = checkPasswordHash(options.passwordHash);
    if (problem) throw new ConsoleError(problem, "CONSOLE_PASSWORD_HASH");
  }
  if (!isLoopbackHost(host) && options.passwordHash === undefined) {
    throw new ConsoleError(
      `the console would listen on ${host}, beyond loopback, without a login; set FIELDSENSE_CONSOLE_PASSWORD_HASH (see "fieldsense correlator --help") or bind it to 127.0.0.1`,
      "CONSOLE_NO_LOGIN",
    );
  }
  if (options.requireLogin && options.passwordHash === undefined) {
    throw new ConsoleError("the console requires a login but no password hash is configured; set FIELDSENSE_CONSOLE_PASSWORD_HASH", "CONSOLE_NO_LOGIN");
  }
}

export class WebConsole {
  private readonly sessions = new Sessions();
  private readonly throttle = new LoginThrottle();
  private readonly data: ConsoleData;
  private readonly loginRequired: boolean;
  private readonly logger: Logger;

  private constructor(private readonly store: Store, private readonly server: Server, private readonly options: ConsoleOptions) {
    this.data = consoleData(store);
    const host = options.host ?? DEFAULT_CONSOLE_HOST;
    this.loginRequired = options.requireLogin === true || !isLoopbackHost(host);
    this.logger = options.logger ?? silentLogger;
  }

  static async start(store: Store, options: ConsoleOptions): Promise<WebConsole> {
    checkConsoleOptions(options);
    const host = options.host ?? DEFAULT_CONSOLE_HOST;
    const server = createServer();
    const webConsole = new WebConsole(store, server, options);
    server.on("request", (request, response) => {
      webConsole.handle(request, response).catch((error: Error) => webConsole.fail(response, request, error));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => {
        const reason = error.code === "EADDRINUSE" ? "EADDRINUSE, another program listens on that port" : error.code ?? error.message;
        reject(new ConsoleError(`the console cannot listen on ${host}:${options.port}: ${reason}; pick another --console port`, "CONSOLE_LISTEN"));
      });
      server.listen(options.port, host, () => resolve());
    });
    webConsole.logger.info({ host, port: webConsole.port, login: webConsole.loginRequired }, "console listening");
    return webConsole;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.options.host ?? DEFAULT_CONSOLE_HOST;
    return `http://${host.includes(":") ? `[${host}]` : host}:${this.port}`;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const port = this.port;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.logger.info({ port }, "console stopped");
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(request.url ?? "/", "http://console.invalid");
    } catch {
      // A target such as "//" is no path relative to the base.
      this.send(response, 400, messagePage("Bad request", `The address ${request.url ?? ""} is not a page of this console.`, { loggedIn: false }));
      return;
    }
    const path = url.pathname;
    // Without a login, a page from another site could reach the console
    // through DNS rebinding under its own name; only loopback names pass.
    if (!this.loginRequired && !isLoopbackHost(hostName(request.headers.host))) {
      this.send(response, 421, messagePage("Wrong host", "This console answers only under a loopback address such as 127.0.0.1.", { loggedIn: false }));
      return;
    }
    const session = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const loggedIn = this.sessions.valid(session);
    const context: PageContext = { loggedIn: this.loginRequired && loggedIn };

    if (path === "/login") return this.login(request, response, url);
    if (path === "/logout" && request.method === "POST") {
      this.sessions.end(session);
      this.redirect(response, "/login", clearedSessionCookie());
      return;
    }
    if (this.loginRequired && !loggedIn) {
      this.redirect(response, "/login");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      this.send(response, 405, messagePage("Method not allowed", `${request.method ?? ""} is not allowed on ${path}.`, context), { Allow: "GET, HEAD" });
      return;
    }
    if (path === "/") {
      this.send(response, 200, incidentListPage(await this.data.rankedIncidents(), context));
      return;
    }
    const incident = /^\/incidents\/([0-9]{1,15})$/.exec(path);
    if (incident) return this.incident(response, Number(incident[1]), context);
    const device = /^\/devices\/([^/]+)$/.exec(path);
    if (device) {
      let ip: string;
      try {
        ip = decodeURIComponent(device[1]);
      } catch {
        this.send(response, 400, messagePage("Invalid address", `The device address in ${path} is not valid percent-encoding.`, context));
        return;
      }
      return this.device(response, ip, context);
    }
    if (path === "/search") return this.search(response, url.searchParams.get("q") ?? "", context);
    this.send(response, 404, messagePage("Not found", `There is no page ${path}.`, context));
  }

  private async incident(response: ServerResponse, id: number, context: PageContext): Promise<void> {
    const incident = await this.data.incident(id);
    if (!incident) {
      this.send(response, 404, messagePage("Not found", `Incident ${id} is not in the store; it may have merged into another incident.`, context));
      return;
    }
    const [timeline, entities, edges, alerts] = await Promise.all([
      this.data.timeline(id), this.data.entities(id), this.data.edges(id), this.data.alerts(id, EVIDENCE_MAX_ALERTS),
    ]);
    const reportMarkdown = (await renderIncidentReport(this.store, id)) ?? "";
    this.send(response, 200, incidentPage({ incident, timeline, entities, edges, alerts, reportMarkdown }, context));
  }

  private async device(response: ServerResponse, ip: string, context: PageContext): Promise<void> {
    // The address travels as a quoted phrase, so any text is a valid query.
    const query = `ip:"${ip.replace(/["\\]/g, "\\$&")}"`;
    const { hits, more } = await search(searchDatabaseOf(this.store), query, { limit: DEVICE_HIT_LIMIT });
    const incidents = (await this.data.rankedIncidents()).filter((incident) => incident.hosts.includes(ip));
    // The store labels a node with its learned name when it has one, so the
    // node is found by its ip fact. A node whose only fact is its ip is no profile.
    let profile;
    for (const incident of incidents) {
      profile = (await this.data.entities(incident.id)).find((e) => e.kind === "ot_device" && e.facts.ip === ip && Object.keys(e.facts).length > 1);
      if (profile) break;
    }
    this.send(response, 200, devicePage({ ip, hits, capped: more, incidents, profile }, context));
  }

  private async search(response: ServerResponse, query: string, context: PageContext): Promise<void> {
    if (query.trim() === "") {
      this.send(response, 200, searchPage({ query, hits: [], more: false }, context));
      return;
    }
    try {
      // NOTE: on SQLite the search runs synchronously in the correlator's
      // process, so a slow query (words over a long history) delays alert
      // ingestion until it returns.
      const { hits, more } = await search(searchDatabaseOf(this.store), query, { limit: SEARCH_PAGE_LIMIT });
      this.send(response, 200, searchPage({ query, hits, more }, context));
    } catch (error) {
      if (!(error instanceof SearchSyntaxError)) throw error;
      this.send(response, 400, searchPage({ query, hits: [], more: false, error: error.format() }, context));
    }
  }

  private async login(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const context: PageContext = { loggedIn: false };
    if (!this.loginRequired) {
      this.redirect(response, "/");
      return;
    }
    if (request.method === "GET" || request.method === "HEAD") {
      this.send(response, 200, loginPage(context, url.searchParams.has("failed")));
      return;
    }
    if (request.method !== "POST") {
      this.send(response, 405, messagePage("Method not allowed", "Use GET or POST on /login.", context), { Allow: "GET, POST" });
      return;
    }
    if (this.throttle.blocked()) {
      this.logger.warn({ remote: request.socket.remoteAddress }, "console login rejected: too many failed logins in the last minute");
      this.send(response, 429, messagePage("Too many attempts", "Too many failed logins in the last minute; wait a minute and try again.", context), { "Retry-After": "60" });
      return;
    }
    const form = new URLSearchParams(await readBody(request));
    const password = form.get("password") ?? "";
    if (!verifyConsolePassword(password, this.options.passwordHash!)) {
      this.throttle.fail();
      this.logger.warn({ remote: request.socket.remoteAddress }, "console login failed");
      this.redirect(response, "/login?failed");
      return;
    }
    this.logger.info({ remote: request.socket.remoteAddress }, "console login");
    this.redirect(response, "/", sessionCookie(this.sessions.create()));
  }

  private send(response: ServerResponse, status: number, page: string, headers: Record<string, string> = {}): void {
    response.writeHead(status, {
      "Content-Type": "text/html; charset=utf-8",
      // No script runs on any page, and nothing loads from elsewhere.
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
      ...headers,
    });
    response.end(page);
  }

  private redirect(response: ServerResponse, location: string, cookie?: string): void {
    const headers: Record<string, string> = { Location: location, "Cache-Control": "no-store" };
    if (cookie) headers["Set-Cookie"] = cookie;
    response.writeHead(303, headers);
    response.end();
  }

  private fail(response: ServerResponse, request: IncomingMessage, error: Error): void {
    this.logger.error({ url: request.url, err: error.message }, "console page failed");
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const status = error instanceof BodyTooLarge ? 413 : 500;
    const message = status === 413 ? `The request body is larger than ${MAX_BODY_BYTES} bytes.` : "The page failed; the correlator's log has the error.";
    this.send(response, status, messagePage(status === 413 ? "Request too large" : "Error", message, { loggedIn: false }));
  }
}

class BodyTooLarge extends Error {}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

// The host name of a Host header, without the port.
function hostName(header: string | undefined): string {
  if (!header) return "";
  if (header.startsWith("[")) return header.slice(0, header.indexOf("]") + 1);
  return header.replace(/:\d+$/, "");
}
