// Broker connection settings of the agent: URL, TLS files and credentials.
//
// Credentials come from a file or an environment variable, never from the URL
// or the command line (where `ps` shows them to every local user), and never
// go into a log line. A user name and password are sent over plain TCP only to
// a loopback broker unless allowPlaintextCredentials is set.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { IClientOptions } from "mqtt";
import { checkBrokerUrl } from "../config/config.js";

export interface BrokerSettings {
  url: string;
  // PEM files for mqtts:// (and wss://): the CA that signed the broker's
  // certificate, and this gateway's client certificate and key.
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  // The password is the first line of this file.
  passwordFile?: string;
  // Or the value of this environment variable.
  passwordEnv?: string;
  // Send a user name and password over mqtt:// or ws:// to a host that is not
  // loopback. Off by default, because anyone on the path can read them.
  allowPlaintextCredentials?: boolean;
}

export class BrokerSettingsError extends Error {
  readonly code = "FIELDSENSE_BROKER_SETTINGS";
}

const SECURE_SCHEMES = new Set(["mqtts:", "wss:"]);
const PLAIN_SCHEMES = new Set(["mqtt:", "ws:", "tcp:"]);

// Builds the mqtt.js options for the settings: TLS material read from its
// files, the password from its file or variable. Throws BrokerSettingsError
// naming the setting and the fix.
export function brokerClientOptions(settings: BrokerSettings, env: NodeJS.ProcessEnv = process.env): IClientOptions {
  let url: URL;
  try {
    url = new URL(settings.url);
  } catch {
    throw new BrokerSettingsError(`invalid broker URL "${settings.url}": use mqtt://host:port or mqtts://host:port`);
  }
  if (!SECURE_SCHEMES.has(url.protocol) && !PLAIN_SCHEMES.has(url.protocol)) {
    throw new BrokerSettingsError(`unsupported broker URL scheme "${url.protocol}" in ${redactedHost(url)}: use mqtt://, mqtts://, ws:// or wss://`);
  }
  // The rest of the URL check (a host is required) is the one the CLI and
  // the configuration file use.
  const problem = checkBrokerUrl(settings.url);
  if (problem) throw new BrokerSettingsError(problem);
  if (url.password) {
    throw new BrokerSettingsError(`broker URL ${redactedHost(url)} contains a password: remove it and set passwordFile or passwordEnv instead`);
  }
  const secure = SECURE_SCHEMES.has(url.protocol);
  const options: IClientOptions = {};

  if (settings.caFile || settings.certFile || settings.keyFile) {
    if (!secure) {
      throw new BrokerSettingsError(`caFile, certFile and keyFile need an mqtts:// or wss:// broker URL, not ${url.protocol}//: change the URL scheme`);
    }
    if (Boolean(settings.certFile) !== Boolean(settings.keyFile)) {
      throw new BrokerSettingsError("certFile and keyFile must be set together: a client certificate needs its private key");
    }
    if (settings.caFile) options.ca = readSetting("caFile", settings.caFile);
    if (settings.certFile) options.cert = readSetting("certFile", settings.certFile);
    if (settings.keyFile) options.key = readSetting("keyFile", settings.keyFile);
  }
  if (secure) options.rejectUnauthorized = true;

  const username = settings.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = readPassword(settings, env);
  if (password !== undefined && username === undefined) {
    throw new BrokerSettingsError("a password is set but no username: set username as well");
  }
  if (username !== undefined) {
    if (password !== undefined && !secure && !isLoopback(url.hostname) && !settings.allowPlaintextCredentials) {
      throw new BrokerSettingsError(
        `refusing to send a password in clear text to ${redactedHost(url)}: use mqtts:// or set allowPlaintextCredentials to accept the risk`,
      );
    }
    options.username = username;
    if (password !== undefined) options.password = password;
  }
  return options;
}

// True for 127.0.0.0/8, ::1 and "localhost".
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

function readPassword(settings: BrokerSettings, env: NodeJS.ProcessEnv): string | undefined {
  if (settings.passwordFile && settings.passwordEnv) {
    throw new BrokerSettingsError("passwordFile and passwordEnv are both set: keep one of them");
  }
  if (settings.passwordFile) {
    const line = readSetting("passwordFile", settings.passwordFile).toString("utf8").split(/\r?\n/)[0];
    if (line === "") throw new BrokerSettingsError(`password file ${settings.passwordFile} is empty: write the password on its first line`);
    return line;
  }
  if (settings.passwordEnv) {
    const value = env[settings.passwordEnv];
    if (value === undefined || value === "") {
      throw new BrokerSettingsError(`environment variable ${settings.passwordEnv} named by passwordEnv is not set or empty: export it before starting the agent`);
    }
    return value;
  }
  return undefined;
}

function readSetting(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new BrokerSettingsError(`cannot read ${name} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; check the path and its permissions`);
  }
}

function redactedHost(url: URL): string {
  return `${url.protocol}//${url.host}`;
}
